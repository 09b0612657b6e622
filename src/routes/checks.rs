//! Checks the handlers share, and the store's refusals as the API words
//! them. Each says briefly what to fix; none writes anything.

use sotto_envelope::keys::RecipientCard;
use sotto_envelope::sign::{CaseId, Signature};
use sotto_envelope::DecryptError;
use sotto_store::{CaseRow, Desk, RecipientRow, Store, StoreError};

use crate::error::ApiError;

/// Checks that `envelope` is an age v1 file for exactly `recipients`
/// X25519 recipients and within the size limit.
pub fn check_envelope(envelope: &[u8], recipients: usize, max: usize) -> Result<(), ApiError> {
    if envelope.len() > max {
        return Err(ApiError::too_large(format!(
            "an envelope may be at most {max} bytes"
        )));
    }
    let wrong_count = || {
        ApiError::bad_request(
            "bad_envelope",
            format!("the envelope must be encrypted to exactly {recipients} X25519 recipients"),
        )
    };
    // Reading stops at the first stanza past the readers named: a header of
    // millions of stanzas costs no more to refuse than a short one.
    let header = sotto_envelope::inspect(envelope, recipients).map_err(|e| match e {
        DecryptError::TooManyStanzas => wrong_count(),
        _ => ApiError::bad_request(
            "bad_envelope",
            "the envelope is not a well-formed, complete age v1 file",
        ),
    })?;
    if header.x25519_stanzas != recipients || header.other_stanzas != 0 {
        return Err(wrong_count());
    }
    Ok(())
}

/// Parses a signature field.
pub fn signature_field(s: &str) -> Result<Signature, ApiError> {
    Signature::parse(s).ok_or_else(|| {
        ApiError::bad_request(
            "bad_signature",
            "the signature is not 64 bytes of base64url",
        )
    })
}

/// Parses a case id from a path.
pub fn case_id(s: &str) -> Result<CaseId, ApiError> {
    CaseId::parse(s)
        .ok_or_else(|| ApiError::bad_request("bad_case_id", "a case id is 32 lowercase hex digits"))
}

/// Refuses to add to a case erased under the retention policy.
pub fn not_erased(row: &CaseRow) -> Result<(), ApiError> {
    match row.erased {
        Some(_) => Err(StoreError::Erased.into()),
        None => Ok(()),
    }
}

/// A stored recipient's card; the store only holds cards that parsed.
pub fn stored_card(row: &RecipientRow) -> Result<RecipientCard, ApiError> {
    RecipientCard::parse(&row.card).map_err(|_| ApiError::internal(&"stored card does not parse"))
}

/// Loads a desk by name, mapping a missing one to `unknown_desk`.
pub fn desk_by_name(store: &Store, name: &str) -> Result<Desk, ApiError> {
    store.desk_by_name(name).map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found(
            "unknown_desk",
            "there is no desk by that name; GET /v1/desks lists them",
        ),
        other => other.into(),
    })
}

/// A store conflict on a new case: its challenge or handle was used.
pub fn already_used(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::conflict(
            "already_used",
            "this challenge or token was already used for a case; start again with a new one",
        ),
        other => other.into(),
    }
}

/// A store conflict on a message: its `seq` is stale, a 409 the client can
/// retry.
pub fn stale_seq(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::conflict(
            "stale_seq",
            "seq is not the next message of this thread; fetch the thread, then sign again",
        ),
        other => other.into(),
    }
}

/// A store refusal of a share, for the client.
pub fn share_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::conflict(
            "stale_seq",
            "upto is not the thread's length: fetch the thread, then share again",
        ),
        StoreError::Invalid(_) => ApiError::forbidden(
            "excluded_by_reporter",
            "the reporter left this recipient out of the case",
        ),
        other => other.into(),
    }
}
