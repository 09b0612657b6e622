//! The log check: the events are numbered without a gap, each leaf is
//! what the other rows say it must be, the stored tree is the tree of the
//! leaves, every checkpoint is a signed root of them, the leaves replay
//! without contradiction, and each desk's active recipients are the
//! roster the log added and did not remove.

use std::collections::{BTreeSet, HashMap};

use rusqlite::Connection;
use sotto_tlog::leaf::{self, Kind, Leaf};
use sotto_tlog::merkle::{self, Frontier, Hash};
use sotto_tlog::{Checkpoint, NoteVerifier, Replay};

use super::{Audit, WHY_READERS};
use crate::StoreError;

const WHY_LOG: &str = "the log is what reporters and auditors were promised: a leaf that differs from the database, or a tree that differs from the leaves, means history was changed after it was signed";

/// Returns the log size and the latest checkpoint's size.
pub(super) fn check_log(
    conn: &Connection,
    key: Option<&NoteVerifier>,
    a: &mut Audit,
) -> Result<(u64, Option<u64>), StoreError> {
    let events = crate::log::event_rows(conn)?;
    let mut frontier = Frontier::new();
    let mut roots: Vec<Hash> = vec![merkle::EMPTY_ROOT];
    let mut computed: HashMap<(u32, u64), Hash> = HashMap::new();
    let mut replay = Replay::new(0);
    let mut next_seq = 1i64;
    for (i, e) in events.iter().enumerate() {
        let place = format!("events, seq {}", e.seq);
        if e.seq != next_seq {
            let gap = if e.seq == next_seq + 1 {
                format!("event {next_seq} is missing: removed from the log")
            } else {
                format!(
                    "events {next_seq} to {} are missing: removed from the log",
                    e.seq - 1
                )
            };
            a.add("log", "events", gap, WHY_LOG);
        }
        next_seq = e.seq + 1;
        let index = i as u64;
        let leaf = Leaf::decode(&e.leaf);
        match (&leaf, Kind::parse(&e.kind)) {
            (Some(l), Some(kind)) if l.event.kind() == kind => {
                let expected = crate::log::expected_leaf(conn, e);
                match expected {
                    Ok(x) if x == *l => {}
                    Ok(_) => a.add("log", &place, format!(
                        "the leaf does not match the database: the {} rows it commits to were changed after it was logged",
                        e.kind
                    ), WHY_LOG),
                    Err(err) => a.add("log", &place, format!("the leaf cannot be checked: {err}"), WHY_LOG),
                }
                for p in replay.apply(l) {
                    a.add("log", &place, p, WHY_LOG);
                }
            }
            _ => {
                replay.size += 1;
                a.add(
                    "log",
                    &place,
                    "the leaf is malformed or of another kind than the event",
                    WHY_LOG,
                );
            }
        }
        let h = merkle::leaf_hash(&e.leaf);
        let nodes = merkle::appended(index, h, &mut |l, n| {
            computed.get(&(l, n)).copied().ok_or(())
        });
        if let Ok(nodes) = nodes {
            for (l, n, h) in nodes {
                computed.insert((l, n), h);
            }
        }
        frontier.push(h);
        roots.push(frontier.root());
    }
    let size = events.len() as u64;
    // The stored tree must be the tree of the stored leaves.
    let mut stored = 0u64;
    let mut stmt = conn.prepare("SELECT level, idx, hash FROM log_nodes")?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        stored += 1;
        let (level, idx, hash): (i64, i64, Vec<u8>) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let want = u32::try_from(level)
            .ok()
            .zip(u64::try_from(idx).ok())
            .and_then(|k| computed.get(&k));
        if want.map(|w| &w[..]) != Some(&hash[..]) {
            a.add(
                "log",
                format!("log_nodes, level {level} idx {idx}"),
                "a tree hash that is not the hash of the stored leaves",
                WHY_LOG,
            );
        }
    }
    if stored != computed.len() as u64 {
        a.add(
            "log",
            "log_nodes",
            format!(
                "{stored} tree hashes stored, {} expected for {size} leaves",
                computed.len()
            ),
            WHY_LOG,
        );
    }
    // Every checkpoint must be a root of these leaves, signed by the log.
    let mut latest = None;
    let mut stmt = conn.prepare("SELECT size, note FROM checkpoints ORDER BY size")?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let (csize, note): (i64, String) = (r.get(0)?, r.get(1)?);
        let place = format!("checkpoints, size {csize}");
        latest = u64::try_from(csize).ok();
        let body = match key {
            Some(k) => match Checkpoint::open(&note, k) {
                Ok(c) => Some(c),
                Err(e) => {
                    a.add(
                        "log",
                        &place,
                        format!("the signature does not verify with the log's key ({e}): forged"),
                        WHY_LOG,
                    );
                    None
                }
            },
            None => note
                .rsplit_once("\n\n")
                .and_then(|(b, _)| Checkpoint::parse_text(&format!("{b}\n")).ok()),
        };
        let Some(c) = body else { continue };
        if i64::try_from(c.size).ok() != Some(csize) {
            a.add(
                "log",
                &place,
                "the note names another size than its row",
                WHY_LOG,
            );
        }
        match roots.get(c.size as usize) {
            Some(root) if *root == c.root => {}
            Some(_) => a.add("log", &place, "the signed root is not the root of the stored leaves: leaves were changed, removed or inserted after it was signed", WHY_LOG),
            None => a.add("log", &place, format!("signed for {} leaves, but only {size} are stored: leaves were removed", c.size), WHY_LOG),
        }
    }
    if latest.is_none() {
        a.add(
            "log",
            "checkpoints",
            "no checkpoint was ever published",
            WHY_LOG,
        );
    }
    // Each desk's active recipients are the log's roster.
    let desks: Vec<(i64, String)> = conn
        .prepare("SELECT id, name FROM desks")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, name) in desks {
        let roster = replay.roster(&leaf::desk_commitment(&name));
        let active: Vec<String> = conn
            .prepare("SELECT id FROM recipients WHERE desk_id = ?1 AND removed_on IS NULL")?
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let active_set: BTreeSet<Hash> = active
            .iter()
            .map(|r| leaf::recipient_commitment(r))
            .collect();
        for r in &active {
            if !roster.contains_key(&leaf::recipient_commitment(r)) {
                a.add(
                    "recipients",
                    format!("recipients, desk {name}, id {r}"),
                    "active on the desk, but the log never added them (or logged their removal)",
                    WHY_READERS,
                );
            }
        }
        for k in roster.keys() {
            if !active_set.contains(k) {
                a.add("recipients", format!("desk {name}"), "the log shows a recipient on this desk whom the database does not list as active", WHY_READERS);
            }
        }
    }
    Ok((size, latest))
}
