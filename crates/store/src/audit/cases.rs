//! The cases check: every case has its opening event and every opening
//! its case; every reader is a recipient of the case's desk; every message
//! is the envelope the log recorded, sealed to the case's readers and
//! signed by its author; every share is the one the log recorded, signed by
//! its sharer, and never to a recipient the reporter left out; nothing the
//! log recorded is gone unless its case was erased; and each case's
//! `case_status` row is what its events and messages add up to.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::Connection;
use sotto_envelope::keys::RecipientCard;
use sotto_envelope::sign::{CaseId, Direction, Signature, VerifyingKey};

use super::{hex, Audit, WHY_READERS};
use crate::cases::DERIVED_STATUS;
use crate::StoreError;

const WHY_CASE: &str = "a case whose row or events went missing was deleted or hidden; reporters and auditors can prove it from the log";
const WHY_STATUS: &str = "a case's status is what its events add up to; a status that says otherwise shows reporters and readers a state, a deadline or a message count the log does not hold";
const WHY_MESSAGE: &str = "a message must be exactly the envelope its author signed and the log recorded; anything else was altered, added or removed behind their back";

pub(super) fn check_cases_and_messages(conn: &Connection, a: &mut Audit) -> Result<(), StoreError> {
    // Opening events and case rows, both ways.
    let opened: BTreeSet<Vec<u8>> = conn
        .prepare("SELECT case_id FROM events WHERE kind = 'case-opened' AND case_id IS NOT NULL")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let cases: BTreeMap<Vec<u8>, (Vec<u8>, i64)> = conn
        .prepare("SELECT id, reporter_ed25519, desk_id FROM cases")?
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
        .collect::<rusqlite::Result<_>>()?;
    for id in &opened {
        if !cases.contains_key(id) {
            a.add(
                "cases",
                format!("case {}", hex(id)),
                "the log shows it opened, but its row is gone: the case was deleted",
                WHY_CASE,
            );
        }
    }
    for id in cases.keys() {
        if !opened.contains(id) {
            a.add(
                "cases",
                format!("case {}", hex(id)),
                "a case row with no opening in the log: added behind the log's back",
                WHY_CASE,
            );
        }
    }
    let erased: BTreeSet<Vec<u8>> = conn
        .prepare("SELECT case_id FROM events WHERE kind = 'case-erased'")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    // Message events by (case, seq): the envelope's hash.
    let mut logged: BTreeMap<(Vec<u8>, i64), Vec<u8>> = conn
        .prepare(
            "SELECT case_id, message_seq, envelope_hash FROM events WHERE kind = 'message-posted'",
        )?
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?
        .filter_map(|r| r.ok())
        .collect();
    let cards: HashMap<(i64, String), String> = conn
        .prepare("SELECT desk_id, id, card FROM recipients")?
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let readers: HashMap<Vec<u8>, usize> = conn
        .prepare("SELECT case_id, count(*) FROM case_recipients GROUP BY case_id")?
        .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)))?
        .collect::<rusqlite::Result<_>>()?;
    let shares: Shares = conn
        .prepare(
            "SELECT case_id, recipient_id, desk_id, shared_by, upto, envelope, signature
             FROM case_shares",
        )?
        .query_map([], |r| {
            Ok((
                (r.get(0)?, r.get(1)?),
                (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?),
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    // The card of a reader of a case: on its desk, or on the desk it was
    // shared to them through.
    let card_of = |case: &Vec<u8>, desk_id: i64, id: &String| -> Option<RecipientCard> {
        cards
            .get(&(desk_id, id.clone()))
            .or_else(|| {
                shares
                    .get(&(case.clone(), id.clone()))
                    .and_then(|s| cards.get(&(s.0, id.clone())))
            })
            .and_then(|c| RecipientCard::parse(c).ok())
    };
    check_shares(conn, a, &shares, &cases, &erased, &card_of)?;
    let mut stmt = conn.prepare(
        "SELECT case_id, seq, direction, author, envelope, signature FROM messages ORDER BY case_id, seq",
    )?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let case: Vec<u8> = r.get(0)?;
        let seq: i64 = r.get(1)?;
        let direction: String = r.get(2)?;
        let author: Option<String> = r.get(3)?;
        let envelope: Vec<u8> = r.get(4)?;
        let signature: Vec<u8> = r.get(5)?;
        let place = format!("messages, case {} seq {seq}", hex(&case));
        let hash = sotto_envelope::sha256(&envelope);
        match logged.remove(&(case.clone(), seq)) {
            None => a.add(
                "messages",
                &place,
                "a message the log never recorded: added behind the log's back",
                WHY_MESSAGE,
            ),
            Some(h) if h != hash => a.add(
                "messages",
                &place,
                "the envelope is not the one the log recorded: it was altered",
                WHY_MESSAGE,
            ),
            Some(_) => {}
        }
        if let Ok(h) = sotto_envelope::inspect(&envelope, sotto_envelope::MAX_STANZAS) {
            if let Some(n) = readers.get(&case) {
                // Those it was sealed to, and those it was shared with before.
                let n = n + shares
                    .iter()
                    .filter(|((c, _), s)| *c == case && s.2 <= seq)
                    .count();
                if h.x25519_stanzas != n + 1 {
                    a.add(
                        "messages",
                        &place,
                        format!(
                            "encrypted to {} keys, but the case has {n} readers and the reporter",
                            h.x25519_stanzas
                        ),
                        WHY_MESSAGE,
                    );
                }
            }
        }
        // The signature, with the reporter's or the author's key.
        let Some((reporter_key, desk_id)) = cases.get(&case) else {
            continue;
        };
        let key = match (Direction::parse(&direction), &author) {
            (Some(Direction::FromReporter), _) => VerifyingKey::from_slice(reporter_key).ok(),
            (Some(Direction::FromDesk), Some(id)) => {
                card_of(&case, *desk_id, id).map(|c| c.verifying_key)
            }
            _ => None,
        };
        let verified = match (
            key,
            Direction::parse(&direction),
            <[u8; 16]>::try_from(case.as_slice()),
            u64::try_from(seq),
        ) {
            (Some(k), Some(d), Ok(c), Ok(s)) => Signature::from_slice(&signature)
                .is_some_and(|sig| k.verify_envelope(&CaseId(c), s, d, &envelope, &sig).is_ok()),
            _ => false,
        };
        if !verified {
            a.add(
                "messages",
                &place,
                "the signature does not verify with its author's key",
                WHY_MESSAGE,
            );
        }
    }
    for ((case, seq), _) in logged {
        if !erased.contains(&case) {
            a.add(
                "messages",
                format!("case {} seq {seq}", hex(&case)),
                "the log recorded this message, but it is gone and the case was not erased",
                WHY_MESSAGE,
            );
        }
    }
    // Reader ids must be recipients of the case's desk.
    let mut stmt = conn.prepare(
        "SELECT cr.case_id, cr.recipient_id FROM case_recipients cr
         LEFT JOIN cases c ON c.id = cr.case_id
         LEFT JOIN recipients r ON r.desk_id = c.desk_id AND r.id = cr.recipient_id
         WHERE r.id IS NULL",
    )?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let (case, id): (Vec<u8>, String) = (r.get(0)?, r.get(1)?);
        a.add(
            "cases",
            format!("case_recipients, case {} id {id}", hex(&case)),
            "a reader who is no recipient of the case's desk",
            WHY_READERS,
        );
    }
    Ok(())
}
/// Shares: (case, reader) → (desk, sharer, upto, envelope, signature).
type Shares = BTreeMap<(Vec<u8>, String), (i64, Option<String>, i64, Vec<u8>, Vec<u8>)>;
/// The card of a case's reader: (case, case's desk, recipient id).
type CardOf<'a> = dyn Fn(&Vec<u8>, i64, &String) -> Option<RecipientCard> + 'a;

/// Each share must be the one the log recorded (reader, length and the
/// envelope's hash), signed by the reporter or a reader of the case, and
/// never to a recipient the reporter left out; each logged share must still
/// be there unless its case was erased.
fn check_shares(
    conn: &Connection,
    a: &mut Audit,
    shares: &Shares,
    cases: &BTreeMap<Vec<u8>, (Vec<u8>, i64)>,
    erased: &BTreeSet<Vec<u8>>,
    card_of: &CardOf<'_>,
) -> Result<(), StoreError> {
    type Logged = BTreeMap<(Vec<u8>, String), (Option<i64>, Option<Vec<u8>>)>;
    let mut logged: Logged = conn
        .prepare(
            "SELECT case_id, recipient_id, message_seq, envelope_hash FROM events
             WHERE kind = 'case-shared'",
        )?
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?))))?
        .filter_map(|r| r.ok())
        .collect();
    let excluded: BTreeSet<(Vec<u8>, String)> = conn
        .prepare("SELECT case_id, recipient_id FROM case_excluded")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    const WHY_SHARE: &str = "a case is read only by those the reporter chose and those a reader handed it on to, openly; a share the log did not record, or one to a recipient the reporter left out, gives the case to someone behind their back";
    for ((case, reader), (_, by, upto, envelope, signature)) in shares {
        let place = format!("case_shares, case {} reader {reader}", hex(case));
        let hash = sotto_envelope::sha256(envelope);
        match logged.remove(&(case.clone(), reader.clone())) {
            Some((Some(n), Some(h))) if n == *upto && h == hash => {}
            Some(_) => a.add(
                "cases",
                &place,
                "the share is not the one the log recorded",
                WHY_SHARE,
            ),
            None => a.add("cases", &place, "a share the log never recorded", WHY_SHARE),
        }
        if excluded.contains(&(case.clone(), reader.clone())) {
            a.add(
                "cases",
                &place,
                "shared with a recipient the reporter left out",
                WHY_SHARE,
            );
        }
        let Some((reporter_key, desk_id)) = cases.get(case) else {
            continue;
        };
        let key = match by {
            None => VerifyingKey::from_slice(reporter_key).ok(),
            Some(id) => card_of(case, *desk_id, id).map(|c| c.verifying_key),
        };
        let verified = match (
            key,
            <[u8; 16]>::try_from(case.as_slice()),
            u64::try_from(*upto),
        ) {
            (Some(k), Ok(c), Ok(n)) => Signature::from_slice(signature).is_some_and(|sig| {
                k.verify_share(&CaseId(c), reader, n, envelope, &sig)
                    .is_ok()
            }),
            _ => false,
        };
        if !verified {
            a.add(
                "cases",
                &place,
                "the share's signature does not verify with its sharer's key",
                WHY_SHARE,
            );
        }
    }
    for ((case, reader), _) in logged {
        if !erased.contains(&case) {
            a.add(
                "cases",
                format!("case {} reader {reader}", hex(&case)),
                "the log recorded this share, but it is gone and the case was not erased",
                WHY_SHARE,
            );
        }
    }
    Ok(())
}

/// Every `case_status` row against the one its case's events and messages
/// give, both ways: a row that differs, is missing, or has no case.
pub(super) fn check_statuses(conn: &Connection, a: &mut Audit) -> Result<(), StoreError> {
    const STORED: &str = "SELECT case_id, state, updated_on, desk_updated_on, desk_first_on,
                                 message_count, erased_on, erased_entry, version
                          FROM case_status";
    let ids = |sql: &str| -> rusqlite::Result<BTreeSet<Vec<u8>>> {
        conn.prepare(sql)?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()
    };
    let derived_not_stored = ids(&format!("{DERIVED_STATUS} EXCEPT {STORED}"))?;
    let stored_not_derived = ids(&format!("{STORED} EXCEPT {DERIVED_STATUS}"))?;
    for id in derived_not_stored.union(&stored_not_derived) {
        let finding = if !stored_not_derived.contains(id) {
            "its events and messages give a status, but it has none stored"
        } else if !derived_not_stored.contains(id) {
            "a stored status for a case with no events, or none at all"
        } else {
            "its stored status differs from what its events and messages give"
        };
        a.add("cases", format!("case {}", hex(id)), finding, WHY_STATUS);
    }
    Ok(())
}
