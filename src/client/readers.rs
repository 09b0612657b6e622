//! Who will read a report, checked against the transparency log before
//! anything is encrypted.
//!
//! The server says who reads for a desk; the log says who was added to and
//! removed from it, publicly and for everyone alike. The reporter's client
//! follows the log (from where this device last checked, or, the first
//! time, from the log's signed rosters at its latest checkpoint: see
//! [`log::first_contact`]) and compares: a reader the server offers but the
//! log does not show, or a reader added since this device last reported to
//! the desk, is named, and the report waits for the reporter to accept
//! them.
//!
//! What this device remembers, in the file given by `--known` (by default
//! under `$XDG_STATE_HOME/sotto/`): per server, the log's key, the last
//! checkpoint verified with its frontier and the desks' rosters there, and
//! the readers seen per desk. It grows with the desks and their readers,
//! never with the cases. It holds no token, case id or text; it does show
//! that this device used that server.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sotto_tlog::leaf;
use sotto_wire::api::{DeskInfo, RecipientInfo};
use sotto_wire::Day;

use super::log::{self, LogState};
use super::{Api, ClientError};

/// What this device remembers of the servers it reported to.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Known {
    /// Format version, 1.
    pub version: u32,
    /// Per server URL.
    pub servers: BTreeMap<String, KnownServer>,
}

/// One server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownServer {
    /// The log as last verified.
    pub log: LogState,
    /// Per desk, the recipient ids that read it when this device last
    /// reported there.
    pub desks: BTreeMap<String, BTreeSet<String>>,
}

impl Known {
    /// Reads the file; a missing file is an empty memory. A file saved
    /// before replays kept only the rosters keeps only them from now on,
    /// and shrinks when it is saved again.
    pub fn load(path: &Path) -> Result<Self, ClientError> {
        match fs::read(path) {
            Ok(bytes) => {
                let mut known: Self = serde_json::from_slice(&bytes).map_err(|e| {
                    ClientError::Usage(format!(
                        "{}: not a Sotto known-servers file ({e}); move it away to start over",
                        path.display()
                    ))
                })?;
                for server in known.servers.values_mut() {
                    server.log.replay.keep_rosters_only();
                }
                Ok(known)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                version: 1,
                servers: BTreeMap::new(),
            }),
            Err(e) => Err(ClientError::Usage(format!("{}: {e}", path.display()))),
        }
    }

    /// Writes the file (mode 0600, in a 0700 folder), replacing it whole.
    pub fn save(&self, path: &Path) -> Result<(), ClientError> {
        let io = |e: std::io::Error| ClientError::Usage(format!("{}: {e}", path.display()));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                fs::create_dir_all(dir).map_err(io)?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
                }
            }
        }
        let json =
            serde_json::to_vec_pretty(self).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let tmp = path.with_extension("tmp");
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(io)?;
        f.write_all(&json).map_err(io)?;
        f.sync_all().map_err(io)?;
        fs::rename(&tmp, path).map_err(io)
    }
}

/// The default place of the known-servers file:
/// `$XDG_STATE_HOME/sotto/known-servers.json`, else
/// `~/.local/state/sotto/known-servers.json`.
pub fn default_known_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local").join("state"))
        })?;
    Some(base.join("sotto").join("known-servers.json"))
}

/// A desk's readers as a server lists them, against the log's roster of
/// that desk. The reporter's client and `sotto audit log` both judge a
/// server's list by it.
#[derive(Debug, Clone)]
pub struct Roster {
    logged: std::collections::BTreeMap<sotto_tlog::Hash, Day>,
    /// How many readers the log shows that the list leaves out.
    pub not_listed: usize,
}

impl Roster {
    /// Compares `listed`, the desk's readers as the server lists them, with
    /// what `replay` says of the desk.
    pub fn compare(replay: &sotto_tlog::Replay, desk: &str, listed: &[RecipientInfo]) -> Self {
        let logged = replay.roster(&leaf::desk_commitment(desk));
        let listed: BTreeSet<_> = listed
            .iter()
            .map(|r| leaf::recipient_commitment(&r.id))
            .collect();
        let not_listed = logged.keys().filter(|k| !listed.contains(*k)).count();
        Self { logged, not_listed }
    }

    /// The day the log added `r` to the desk; `None` if the log does not
    /// show them on it.
    pub fn added_on(&self, r: &RecipientInfo) -> Option<Day> {
        self.logged.get(&leaf::recipient_commitment(&r.id)).copied()
    }
}

/// What the log says about the readers a report is about to go to.
#[derive(Debug, Clone)]
pub struct ReaderCheck {
    /// The desk.
    pub desk: String,
    /// Who will read it.
    pub readers: Vec<RecipientInfo>,
    /// Who was excluded.
    pub excluded: Vec<RecipientInfo>,
    /// Readers the server offers whom the public log does not show on this
    /// desk (added since the last checkpoint, or never logged).
    pub unlogged: Vec<RecipientInfo>,
    /// Readers added since this device last reported to this desk, with the
    /// day the log gives.
    pub added: Vec<(RecipientInfo, Option<Day>)>,
    /// How many readers the log shows on this desk that the server did not
    /// offer (removed since the last checkpoint, or withheld).
    pub not_offered: usize,
    /// Whether this device had reported to this desk before.
    pub remembered: bool,
    /// Entries of the log that should not be there.
    pub log_problems: Vec<String>,
    /// The log's size at the checkpoint checked.
    pub log_size: u64,
}

impl ReaderCheck {
    /// Whether the reporter must accept the readers before sending.
    pub fn needs_confirmation(&self) -> bool {
        !self.unlogged.is_empty() || !self.added.is_empty()
    }
}

/// The log followed for one server, ready to be remembered once the report
/// is sent.
#[derive(Debug)]
pub struct Checked {
    /// The check to show.
    pub check: ReaderCheck,
    server: String,
    state: LogState,
    verifier: sotto_tlog::NoteVerifier,
    known: Option<(PathBuf, Known)>,
}

/// What the clients of one process remember of the log between reports:
/// those the server runs for its no-JavaScript pages, which check the
/// readers of every report sent through them. Each check follows the log
/// from where the one before verified it, as a device with a memory file
/// does, instead of reading it all again. Only the log is shared, never the
/// readers a desk had: "added since your last report" is a reporter's own
/// memory, and these reporters have none. The state held is the frontier
/// and the rosters, so a check costs the entries new since the last one,
/// whatever the size of the log.
#[derive(Debug, Clone, Default)]
pub struct SharedLog(Arc<Mutex<Option<LogState>>>);

/// Follows the log and compares the desk's readers with it: from the
/// position in `known_path`, else from the one `shared` holds (and leaves
/// there the new one), else from the log's signed rosters.
pub fn check(
    api: &Api,
    info: &DeskInfo,
    readers: &[RecipientInfo],
    excluded: &[RecipientInfo],
    known_path: Option<&Path>,
    shared: Option<&SharedLog>,
) -> Result<Checked, ClientError> {
    let (server, desk, offered) = (api.base(), info.name.as_str(), &info.recipients);
    let known = known_path.map(Known::load).transpose()?;
    let remembered_server = known.as_ref().and_then(|k| k.servers.get(server));
    let from = remembered_server.map(|s| &s.log);
    let v = log::verifier(api, from)?;
    // A device that never followed this log starts from the log's signed
    // rosters at its latest checkpoint, not from its first entry.
    let begin = || log::first_contact(api, &v);
    let fresh = sotto_tlog::Replay::rosters();
    let followed = match shared.filter(|_| known_path.is_none()) {
        Some(shared) => {
            // One check at a time: each reads only what the last one did
            // not. A check that failed left the position as it was, so a
            // poisoned lock holds a verified position still.
            let mut held = shared.0.lock().unwrap_or_else(|e| e.into_inner());
            if held.is_none() {
                *held = begin()?;
            }
            let followed = log::follow(api, &v, held.as_ref(), fresh)?;
            *held = Some(followed.state.clone());
            followed
        }
        None => match from {
            Some(from) => log::follow(api, &v, Some(from), fresh)?,
            None => log::follow(api, &v, begin()?.as_ref(), fresh)?,
        },
    };
    let roster = Roster::compare(&followed.state.replay, desk, offered);
    let unlogged: Vec<RecipientInfo> = readers
        .iter()
        .filter(|r| roster.added_on(r).is_none())
        .cloned()
        .collect();
    let seen = remembered_server.and_then(|s| s.desks.get(desk));
    let added = match seen {
        Some(ids) => readers
            .iter()
            .filter(|r| !ids.contains(&r.id))
            .map(|r| (r.clone(), roster.added_on(r)))
            .collect(),
        None => Vec::new(),
    };
    Ok(Checked {
        check: ReaderCheck {
            desk: desk.to_owned(),
            readers: readers.to_vec(),
            excluded: excluded.to_vec(),
            unlogged,
            added,
            not_offered: roster.not_listed,
            remembered: seen.is_some(),
            log_problems: followed.problems,
            log_size: followed.checkpoint.size,
        },
        server: server.to_owned(),
        state: followed.state,
        verifier: v,
        known: known_path.map(Path::to_owned).zip(known),
    })
}

impl Checked {
    /// The log key the check verified with.
    pub fn state_key(&self) -> &str {
        &self.state.key
    }

    /// The log key the check verified with, parsed.
    pub fn verifier(&self) -> sotto_tlog::NoteVerifier {
        self.verifier.clone()
    }

    /// Remembers the log position and this desk's readers (after sending).
    pub fn remember(self) -> Result<(), ClientError> {
        let Some((path, mut known)) = self.known else {
            return Ok(());
        };
        let entry = known
            .servers
            .entry(self.server)
            .or_insert_with(|| KnownServer {
                log: self.state.clone(),
                desks: BTreeMap::new(),
            });
        entry.log = self.state;
        // Excluded readers count as seen: excluding someone is no reason to
        // be warned about them next time. Someone removed and added again
        // later is warned about again.
        let seen: BTreeSet<String> = self
            .check
            .readers
            .iter()
            .chain(&self.check.excluded)
            .map(|r| r.id.clone())
            .collect();
        entry.desks.insert(self.check.desk, seen);
        known.version = 1;
        known.save(&path)
    }
}
