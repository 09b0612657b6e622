//! The reporter's signed receipt: fetched and checked at submission (or
//! later, for reporters who kept none), and a kept receipt checked against
//! today's log and the case the server shows (deleted, rewritten, erased).
//!
//! The receipt file itself and the log proofs are in [`super::log`]; this
//! module binds them to the token's case and keys.

use sotto_envelope::sha256;
use sotto_envelope::sign::{CaseId, Direction};
use sotto_envelope::token::Token;
use sotto_tlog::leaf::{self, Event};
use sotto_wire::api::ReporterStatus;

use super::log::{self as tlog, Opening, ReceiptFile, ReceiptStanding};
use super::{Api, ClientError};

/// Asks the server for a fresh receipt of the token's case and checks it
/// like a receipt kept from the submission (for reporters who kept none).
pub fn fetch_receipt(api: &Api, token: &Token) -> Result<ReceiptFile, ClientError> {
    let status = api.reporter_status(&token.handle())?;
    fetch_receipt_for(api, token, &status)
}

/// [`fetch_receipt`] for a case whose status was just read.
pub fn fetch_receipt_for(
    api: &Api,
    token: &Token,
    status: &ReporterStatus,
) -> Result<ReceiptFile, ClientError> {
    let receipt = api.reporter_receipt(&token.handle())?;
    let v = tlog::verifier(api, None)?;
    let file = ReceiptFile {
        version: 1,
        server: api.base().to_owned(),
        case: status.case.clone(),
        desk: status.desk.clone(),
        opened: status.opened,
        log_key: v.to_string(),
        receipt,
    };
    let case = CaseId::parse(&status.case)
        .ok_or_else(|| ClientError::Protocol("malformed case id".into()))?;
    let checked = tlog::verify_receipt(
        &file,
        &Opening {
            case: &case.0,
            desk: &file.desk,
        },
    )
    .map_err(|why| {
        ClientError::Crypto(format!("the server's receipt does not check out: {why}"))
    })?;
    match checked.leaf.event {
        Event::CaseOpened { reporter, .. } if reporter == own_keys(token) => Ok(file),
        _ => Err(ClientError::Crypto(
            "the server's receipt is for another reporter's keys than this token's".into(),
        )),
    }
}

/// Checks a fresh receipt against what was sent: the case and desk, the
/// report's envelope, its readers and the reporter's keys.
pub(crate) fn check_own_receipt(
    file: &ReceiptFile,
    case: &CaseId,
    envelope_hash: &[u8; 32],
    readers: &[String],
    token: &Token,
) -> Result<(), String> {
    let v = tlog::verify_receipt(
        file,
        &Opening {
            case: &case.0,
            desk: &file.desk,
        },
    )?;
    let Event::CaseOpened {
        report,
        readers: logged_readers,
        reporter,
        ..
    } = v.leaf.event
    else {
        return Err("the leaf is not a case opening".into());
    };
    if report != leaf::message_commitment(&case.0, 0, Direction::FromReporter, envelope_hash) {
        return Err("the log records another report than the one sent".into());
    }
    if logged_readers != leaf::readers_commitment(readers) {
        return Err("the log records other readers than those chosen".into());
    }
    if reporter != own_keys(token) {
        return Err("the log records other reporter keys than this token's".into());
    }
    if v.leaf.day != file.opened {
        return Err("the log dates the opening differently from the server's answer".into());
    }
    Ok(())
}

fn own_keys(token: &Token) -> sotto_tlog::Hash {
    leaf::reporter_commitment(
        &token.identity().recipient().to_string(),
        &token.signing_key().verifying_key().0,
    )
}

/// What the log says about a reporter's case, from their receipt.
#[derive(Debug, Clone)]
pub struct ReceiptReport {
    /// Where the receipt stands against today's log.
    pub standing: ReceiptStanding,
    /// Problems to show as warnings: the case deleted or rewritten.
    pub warnings: Vec<String>,
}

/// Checks a kept receipt: it must be this token's, the log must still hold
/// the case's opening and extend the receipt's tree, and the report the
/// server shows now (`status`, `None` when the server no longer knows the
/// case) must be the one in the log.
pub fn check_receipt(
    api: &Api,
    token: &Token,
    file: &ReceiptFile,
    status: Option<&ReporterStatus>,
) -> Result<ReceiptReport, ClientError> {
    let case = CaseId::parse(&file.case)
        .ok_or_else(|| ClientError::Usage("the receipt's case id is malformed".into()))?;
    if let Some(pinned) = api.log_key() {
        if pinned.to_string() != file.log_key {
            return Err(ClientError::Crypto(format!(
                "your receipt was signed by the log key {}, not by the one you gave ({pinned}): \
                 the server showed you a log of its own",
                file.log_key
            )));
        }
    }
    let v = tlog::verify_receipt(
        file,
        &Opening {
            case: &case.0,
            desk: &file.desk,
        },
    )
    .map_err(|why| ClientError::Crypto(format!("your receipt does not check out: {why}")))?;
    let Event::CaseOpened {
        report, reporter, ..
    } = &v.leaf.event
    else {
        return Err(ClientError::Crypto(
            "the receipt is not a case opening".into(),
        ));
    };
    if *reporter != own_keys(token) {
        return Err(ClientError::Usage(
            "this receipt belongs to another case than this token".into(),
        ));
    }
    let standing = tlog::standing(api, &v, file.receipt.leaf_index)?;
    let mut warnings = Vec::new();
    match status {
        None => warnings.push(format!(
            "the server no longer knows your case, but the log shows it was opened on {} (entry {}): it was deleted behind your back",
            v.leaf.day, file.receipt.leaf_index
        )),
        Some(status) if status.erased.is_some() => {
            if let Some(e) = status.erased {
                warnings.extend(check_erasure(api, &v, &case, e)?);
            }
        }
        Some(status) => {
            if status.case != file.case {
                warnings.push("the server shows a different case than your receipt's".into());
            }
            let served = status
                .messages
                .first()
                .map(|m| leaf::message_commitment(&case.0, 0, Direction::FromReporter, &sha256(&m.envelope)));
            if served.as_ref() != Some(report) {
                warnings.push(
                    "your report as the server shows it now is not the one the log recorded when your case opened: it was replaced"
                        .into(),
                );
            }
        }
    }
    Ok(ReceiptReport { standing, warnings })
}

/// Checks that an erasure the server reports is in the published log: the
/// reporter's client rebuilds the case-erased leaf from the case id and the
/// day, and asks for its inclusion proof.
fn check_erasure(
    api: &Api,
    receipt: &tlog::VerifiedReceipt,
    case: &CaseId,
    e: sotto_wire::api::Erasure,
) -> Result<Vec<String>, ClientError> {
    let leaf = sotto_tlog::Leaf {
        day: e.on,
        event: Event::CaseErased {
            case: leaf::case_commitment(&case.0),
        },
    };
    let hash = sotto_tlog::merkle::leaf_hash(&leaf.encode());
    let (_, now) = tlog::latest(api, &receipt.verifier)?;
    if e.entry >= now.size {
        return Ok(vec![format!(
            "the server says your case was erased on {}, but the public log does not show it yet (entry {})",
            e.on, e.entry
        )]);
    }
    let p = api.inclusion_proof(e.entry, now.size)?;
    if sotto_tlog::merkle::verify_inclusion(e.entry, now.size, &hash, &p.proof, &now.root).is_err()
    {
        return Ok(vec![format!(
            "the server says your case was erased on {}, but the log does not record that erasure: it was deleted, not erased",
            e.on
        )]);
    }
    Ok(Vec::new())
}
