//! Adding to a case's thread, for either of its authors: a message, and a
//! share that hands the thread on to one more reader. One implementation
//! each, whether the reporter or a reader writes; the authors differ only
//! in the key their signatures verify with.

use sotto_envelope::sha256;
use sotto_envelope::sign::{CaseId, Direction, Signature, VerifyingKey};
use sotto_store::{CaseRow, NewMessage, NewShare, RecipientRow, Store};
use sotto_wire::api::{MessagePosted, PostMessage, ShareCase};
use sotto_wire::MAX_READERS;

use super::checks::{
    check_envelope, desk_by_name, not_erased, share_error, signature_field, stale_seq, stored_card,
};
use crate::error::ApiError;
use crate::state::AppState;

/// Who writes to a case's thread.
#[derive(Debug, Clone, Copy)]
pub enum Author<'a> {
    /// The reporter, signing with the key registered when the case was
    /// opened.
    Reporter,
    /// A reader of the case, signing with their card's key.
    Desk(&'a RecipientRow),
}

impl<'a> Author<'a> {
    fn key(self, row: &CaseRow) -> Result<VerifyingKey, ApiError> {
        match self {
            Self::Reporter => VerifyingKey::from_slice(&row.reporter_ed25519)
                .map_err(|_| ApiError::internal(&"stored reporter key does not parse")),
            Self::Desk(who) => Ok(stored_card(who)?.verifying_key),
        }
    }

    fn direction(self) -> Direction {
        match self {
            Self::Reporter => Direction::FromReporter,
            Self::Desk(_) => Direction::FromDesk,
        }
    }

    /// The recipient id a desk author is recorded under.
    fn id(self) -> Option<&'a str> {
        match self {
            Self::Reporter => None,
            Self::Desk(who) => Some(&who.id),
        }
    }

    fn bad_signature(self, reporter: &'static str, desk: &'static str) -> ApiError {
        let message = match self {
            Self::Reporter => reporter,
            Self::Desk(_) => desk,
        };
        ApiError::bad_request("bad_signature", message)
    }
}

/// Checks a message: signed by `author` as message `seq` of the thread,
/// sealed to the reporter and every reader of the case.
pub fn check_message(
    store: &Store,
    st: &AppState,
    row: &CaseRow,
    author: Author<'_>,
    msg: &PostMessage,
    signature: &Signature,
) -> Result<(), ApiError> {
    author
        .key(row)?
        .verify_envelope(
            &CaseId(row.id),
            msg.seq,
            author.direction(),
            &msg.envelope,
            signature,
        )
        .map_err(|_| {
            author.bad_signature(
                "the message's signature does not verify",
                "the message's signature does not verify with your card's key",
            )
        })?;
    let readers = store.case_readers(&row.id)?.len();
    check_envelope(&msg.envelope, readers + 1, st.settings.max_envelope_bytes)
}

/// A checked message as the store takes it.
pub fn new_message<'a>(
    author: Author<'a>,
    msg: &'a PostMessage,
    signature: &'a Signature,
) -> NewMessage<'a> {
    NewMessage {
        seq: msg.seq,
        direction: author.direction(),
        author: author.id(),
        envelope: &msg.envelope,
        envelope_hash: sha256(&msg.envelope),
        signature: &signature.0,
    }
}

/// Checks and stores a message; a stale `seq` is a 409 the client can
/// retry.
pub fn post_message(
    store: &mut Store,
    st: &AppState,
    row: &CaseRow,
    author: Author<'_>,
    msg: &PostMessage,
    signature: &Signature,
) -> Result<MessagePosted, ApiError> {
    if let Author::Reporter = author {
        within_quota(store, st, row, msg.envelope.len())?;
    }
    check_message(store, st, row, author, msg, signature)?;
    store
        .insert_message(&row.id, &new_message(author, msg, signature), st.today())
        .map_err(stale_seq)?;
    Ok(MessagePosted {
        case: CaseId(row.id).to_string(),
        seq: msg.seq,
    })
}

/// Follow-ups are not free: a reporter may post so many messages and so
/// many bytes to a case in a day (`--follow-ups-per-day`,
/// `--follow-up-bytes-per-day`), counted before the signature is checked.
/// Per case, never per address: the server knows no address.
fn within_quota(store: &Store, st: &AppState, row: &CaseRow, bytes: usize) -> Result<(), ApiError> {
    let today = st.today();
    let (count, posted) = store.posted_on(&row.id, today, Direction::FromReporter)?;
    let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
    let settings = &st.settings;
    if count >= settings.follow_ups_per_day
        || posted.saturating_add(bytes) > settings.follow_up_bytes_per_day
    {
        return Err(ApiError::too_many(
            "too_many_follow_ups",
            format!(
                "this case has had all the follow-ups it may have today ({} messages, {} bytes); \
                 send this one tomorrow (server time, UTC)",
                settings.follow_ups_per_day, settings.follow_up_bytes_per_day
            ),
            crate::auth::seconds_to_next_day(),
        ));
    }
    Ok(())
}

/// A case has at most [`MAX_READERS`] readers, those it opened with and
/// those it was shared with: every message is sealed to all of them, and
/// what any one answer about the case carries stays bounded.
pub fn within_readers(readers: usize) -> Result<(), ApiError> {
    if readers > MAX_READERS {
        return Err(ApiError::conflict(
            "too_many_readers",
            format!("a case has at most {MAX_READERS} readers, and this one has them all"),
        ));
    }
    Ok(())
}

/// A share that passed [`check_share`], ready to store.
#[derive(Debug)]
pub struct CheckedShare<'a> {
    share: &'a ShareCase,
    desk_id: i64,
    shared_by: Option<&'a str>,
    signature: Signature,
}

impl CheckedShare<'_> {
    /// The share as the store takes it.
    pub fn stored(&self) -> NewShare<'_> {
        NewShare {
            reader: &self.share.reader,
            desk_id: self.desk_id,
            shared_by: self.shared_by,
            upto: self.share.upto,
            envelope: &self.share.envelope,
            signature: &self.signature.0,
        }
    }
}

/// Checks a share before it is stored: signed by `author`, the case not
/// erased, the reader active on the named desk, not left out by the
/// reporter, not already a reader, and the envelope sealed to exactly the
/// reader and the reporter.
pub fn check_share<'a>(
    store: &Store,
    st: &AppState,
    row: &CaseRow,
    author: Author<'a>,
    s: &'a ShareCase,
) -> Result<CheckedShare<'a>, ApiError> {
    let signature = signature_field(&s.signature)?;
    author
        .key(row)?
        .verify_share(&CaseId(row.id), &s.reader, s.upto, &s.envelope, &signature)
        .map_err(|_| {
            author.bad_signature(
                "a share's signature does not verify with your case's key",
                "the share's signature does not verify with your card's key",
            )
        })?;
    not_erased(row)?;
    let desk = desk_by_name(store, &s.desk)?;
    if store.case_excluded(&row.id)?.contains(&s.reader) {
        return Err(ApiError::forbidden(
            "excluded_by_reporter",
            "the reporter left this recipient out of the case: it is never shared with them, whoever asks",
        ));
    }
    if !store
        .active_recipients(desk.id)?
        .iter()
        .any(|r| r.id == s.reader)
    {
        return Err(ApiError::not_found(
            "unknown_recipient",
            "no active recipient of that desk has that id",
        ));
    }
    let readers = store.case_readers(&row.id)?;
    if readers.contains(&s.reader) {
        return Err(ApiError::conflict(
            "already_reader",
            "that recipient already reads this case",
        ));
    }
    within_readers(readers.len() + 1)?;
    check_envelope(&s.envelope, 2, st.settings.max_envelope_bytes)?;
    Ok(CheckedShare {
        share: s,
        desk_id: desk.id,
        shared_by: author.id(),
        signature,
    })
}

/// Checks and stores one share. Its log entry is not named: it is
/// published with the next batch.
pub fn record_share(
    store: &mut Store,
    st: &AppState,
    row: &CaseRow,
    author: Author<'_>,
    s: &ShareCase,
) -> Result<(), ApiError> {
    let checked = check_share(store, st, row, author, s)?;
    store
        .insert_share(&row.id, &checked.stored(), st.today())
        .map(drop)
        .map_err(share_error)
}

/// Stores a reporter's escalation: every share at once, and the readers of
/// the desk that the reporter left out, so none can be added later.
pub fn record_escalation(
    store: &mut Store,
    st: &AppState,
    row: &CaseRow,
    shares: &[CheckedShare<'_>],
    left_out: &[String],
) -> Result<(), ApiError> {
    let shares: Vec<NewShare<'_>> = shares.iter().map(CheckedShare::stored).collect();
    store
        .escalate(&row.id, &shares, left_out, st.today())
        .map(drop)
        .map_err(share_error)
}
