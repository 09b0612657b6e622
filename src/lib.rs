//! The `sotto` binary's library: the server, the clients and the CLI.
//!
//! - [`config`]: server settings, with defaults that need no configuration.
//! - [`datadir`]: the data directory: database, pepper and server key files.
//! - [`backup`]: sealed backups of the data directory, and their restore.
//! - [`startup`]: builds the actix-web application on its own listener.
//! - [`state`]: what every handler can reach, and the database pool.
//! - [`deadline`]: request bodies that stop arriving end in a `408`.
//! - [`effort`]: proof-of-work difficulty that follows the rate of new cases.
//! - [`gate`]: bounded queues in front of expensive work, 503 when full.
//! - [`routes`]: one module per resource of the `/v1` API.
//! - [`bundle`]: the reporter's script bundle and its pinned hash.
//! - [`auth`]: reporter handles and signed ombudsperson requests.
//! - [`known`]: the handles the server knows, in memory: an unknown one is
//!   turned away without a read.
//! - [`error`]: the API's JSON errors.
//! - [`html`]: the one HTML escaper of every rendered page.
//! - [`telemetry`]: diagnostics that never record who or when.
//! - [`tlog`]: the transparency log's key, batched checkpoints and receipts.
//! - [`client`]: the HTTP client and the reporter's and desk's operations.
//! - [`web`]: the reporter's web pages, with and without JavaScript, and
//!   the page of the public figures.
//! - [`cli`]: the command line, one subcommand per role; its output ends
//!   quietly on a closed pipe, and its errors are JSON with `--json`.

#![forbid(unsafe_code)]

pub mod auth;
pub mod backup;
pub mod bundle;
pub mod cli;
pub mod client;
pub mod config;
pub mod datadir;
pub mod deadline;
pub mod effort;
pub mod error;
pub mod gate;
pub mod html;
pub mod known;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tlog;
pub mod web;
