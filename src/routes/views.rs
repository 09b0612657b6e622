//! Stored rows as clients see them: every row-to-wire conversion of the
//! API, in one place. The store hands out days, states and directions
//! already parsed (a bad stored value is a store error, a 500), so these
//! only choose and rename fields.

use super::checks::stored_card;
use super::fresh::{Asker, Page};
use crate::error::ApiError;
use crate::state::{AppState, Due};
use crate::tlog::Log;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sotto_envelope::sign::CaseId;
use sotto_store::{CaseRow, MessageRow, RecipientRow, Store};
use sotto_wire::api::{
    CaseReceipt, DeskCase, Erasure, InboxEntry, Message, RecipientInfo, ReporterStatus, Share,
    StateEntry,
};

/// What the handlers owe on a stored case, by its desk's deadlines (read
/// with the row).
pub fn due(st: &AppState, row: &CaseRow) -> Due {
    Due::of(
        &st.deadlines_or_default(row.desk_deadlines),
        row.state,
        row.opened_on,
        row.desk_first_on,
        row.desk_updated_on,
    )
}

/// A case's erasure as sent to clients: its log entry only once a
/// published checkpoint covers it.
pub fn erasure(store: &Store, row: &CaseRow) -> Result<Option<Erasure>, ApiError> {
    row.erased
        .as_ref()
        .map(|e| {
            Ok(Erasure {
                on: e.on_day,
                entry: Log::published_index(store, e.entry)?,
            })
        })
        .transpose()
}

/// A stored recipient as shown to clients.
pub fn recipient_info(row: &RecipientRow) -> Result<RecipientInfo, ApiError> {
    let card = stored_card(row)?;
    Ok(RecipientInfo {
        id: row.id.clone(),
        name: card.name.to_string(),
        fingerprint: card.fingerprint().to_string(),
        card: row.card.clone(),
    })
}

/// A stored message as sent to clients.
pub fn message_json(m: MessageRow) -> Message {
    Message {
        seq: m.seq,
        direction: m.direction.as_str().to_owned(),
        author: m.author,
        on: m.posted_on,
        signature: URL_SAFE_NO_PAD.encode(&m.signature),
        envelope: m.envelope,
    }
}

/// One page of a case's thread as sent to clients: the messages after
/// `page.after`, at most `page.limit` of them and at most `--page-bytes`
/// of envelopes (or one envelope). `None` if the page holds more than
/// `most` bytes of envelopes (see [`Store::messages_page_within`]).
pub fn thread_page(
    store: &Store,
    st: &AppState,
    id: &[u8; 16],
    page: Page,
    most: usize,
) -> Result<Option<Vec<Message>>, ApiError> {
    let budget = usize::try_from(st.settings.page_bytes).unwrap_or(usize::MAX);
    let limit = page
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    Ok(store
        .messages_page_within(id, page.after, budget, most, limit)?
        .map(|page| page.into_iter().map(message_json).collect()))
}

/// The readers a case was shared with, as sent to `asker`: with the
/// envelope only of the share sealed to them.
pub fn shares(store: &Store, id: &[u8; 16], asker: Asker<'_>) -> Result<Vec<Share>, ApiError> {
    let open_for = match asker {
        Asker::Reporter => None,
        Asker::Reader(who) => Some(who),
    };
    store
        .case_shares(id, open_for)?
        .into_iter()
        .map(|s| {
            Ok(Share {
                reader: recipient_info(&s.reader)?,
                desk: s.reader.desk.clone(),
                shared_by: s.shared_by,
                upto: s.upto,
                on: s.shared_on,
                envelope_sha256: URL_SAFE_NO_PAD.encode(s.envelope_sha256),
                envelope: s.envelope,
                signature: URL_SAFE_NO_PAD.encode(&s.signature),
            })
        })
        .collect()
}

/// The state timeline of a case.
pub fn timeline(store: &Store, id: &[u8; 16]) -> Result<Vec<StateEntry>, ApiError> {
    Ok(store
        .timeline(id)?
        .into_iter()
        .map(|s| StateEntry {
            state: s.state,
            on: s.on_day,
        })
        .collect())
}

/// The log entry that recorded the case's opening, published or not: for
/// the server's own use, never to be sent as it is.
fn opened_entry(store: &Store, row: &CaseRow) -> Result<u64, ApiError> {
    store
        .case_leaf_indexes(&row.id)?
        .first()
        .copied()
        .ok_or_else(|| ApiError::internal(&"a case without log entries"))
}

/// The promise for a case's opening, and its receipt once published.
pub fn case_receipt(store: &Store, st: &AppState, row: &CaseRow) -> Result<CaseReceipt, ApiError> {
    let index = opened_entry(store, row)?;
    let receipt = Log::receipt(store, index)?;
    Ok(CaseReceipt {
        promise: st.log.promise(store, index)?,
        receipt_after_seconds: receipt.is_none().then(|| st.batch.seconds_left()),
        receipt,
    })
}

/// A case as `asker` sees it, with one page of its thread; `None` if that
/// page holds more than `most` bytes of envelopes.
pub fn reporter_status(
    store: &Store,
    st: &AppState,
    row: &CaseRow,
    asker: Asker<'_>,
    page: Page,
    most: usize,
) -> Result<Option<ReporterStatus>, ApiError> {
    let Some(messages) = thread_page(store, st, &row.id, page, most)? else {
        return Ok(None);
    };
    let e = inbox_entry(store, st, row)?;
    Ok(Some(ReporterStatus {
        case: e.case,
        desk: e.desk,
        state: e.state,
        opened: e.opened,
        updated: e.updated,
        next_update_due: e.next_update_due,
        feedback_due: e.feedback_due,
        timeline: timeline(store, &row.id)?,
        shares: shares(store, &row.id, asker)?,
        message_count: row.message_count,
        messages,
        erased: e.erased,
    }))
}

/// A case as a line of a desk's inbox.
pub fn inbox_entry(store: &Store, st: &AppState, row: &CaseRow) -> Result<InboxEntry, ApiError> {
    let due = due(st, row);
    Ok(InboxEntry {
        case: CaseId(row.id).to_string(),
        desk: row.desk.clone(),
        state: row.state,
        opened: row.opened_on,
        updated: row.updated_on,
        next_update_due: due.next_update,
        feedback_due: due.feedback,
        messages: row.message_count,
        erased: erasure(store, row)?,
    })
}

/// A case as its reader `who` sees it: the reporter's status, with the
/// keys to answer and to check the thread, and who reads it; one page of
/// the thread.
pub fn desk_case(
    store: &Store,
    st: &AppState,
    row: &CaseRow,
    who: &str,
    page: Page,
) -> Result<DeskCase, ApiError> {
    let status = reporter_status(store, st, row, Asker::Reader(who), page, usize::MAX)?
        .ok_or_else(|| ApiError::internal(&"a page without a bound was refused as too large"))?;
    Ok(DeskCase {
        case: status.case,
        desk: status.desk,
        state: status.state,
        opened: status.opened,
        updated: status.updated,
        next_update_due: status.next_update_due,
        feedback_due: status.feedback_due,
        reporter_x25519: row.reporter_x25519.clone(),
        reporter_ed25519: URL_SAFE_NO_PAD.encode(&row.reporter_ed25519),
        opened_entry: Log::published_index(store, opened_entry(store, row)?)?,
        recipients: store
            .case_recipient_rows(&row.id)?
            .iter()
            .map(recipient_info)
            .collect::<Result<_, _>>()?,
        timeline: status.timeline,
        shares: status.shares,
        message_count: status.message_count,
        messages: status.messages,
        erased: status.erased,
    })
}
