//! Black-box tests: the real `sotto` binary, started on port 0 with a fresh
//! data directory, driven by the real client code and the real CLI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod attacks;
mod backup;
mod bad_input;
mod canary;
mod cli;
mod crash;
mod desk_work;
mod field;
mod file_modes;
mod flow;
mod helpers;
mod hostile_operator;
mod openapi;
mod pages;
mod pyrage_db;
mod soak;
mod transparency;
mod transparency_page;
mod web_pages;
mod web_vectors;
