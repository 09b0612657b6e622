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
use sotto_tlog::NoteVerifier;
use sotto_wire::api::{CaseReceipt, ReporterStatus};

use super::log::{self as tlog, Opening, ReceiptFile, ReceiptStanding, RECEIPT_FILE_VERSION};
use super::receipt_file::published_size;
use super::{Api, ClientError};

/// A receipt file as the server's answer left it: the promise, completed
/// by the receipt if the batch was published.
#[derive(Debug, Clone)]
pub struct FetchedReceipt {
    /// The file to keep.
    pub file: ReceiptFile,
    /// While the receipt is missing: seconds until the next batch is due.
    pub receipt_after_seconds: Option<u64>,
}

/// A version 2 receipt file for a case, from the server's answer.
/// `published` must be the published size read *after* the promise was
/// given: every checkpoint published later must hold the promised leaf.
pub(crate) fn receipt_file(
    api: &Api,
    v: &NoteVerifier,
    (case, desk, opened): (&str, &str, sotto_wire::Day),
    answer: CaseReceipt,
    published: Option<u64>,
) -> FetchedReceipt {
    FetchedReceipt {
        file: ReceiptFile {
            version: RECEIPT_FILE_VERSION,
            server: api.base().to_owned(),
            case: case.to_owned(),
            desk: desk.to_owned(),
            opened,
            log_key: v.to_string(),
            promise: Some(answer.promise),
            published_at_promise: published,
            receipt: answer.receipt,
        },
        receipt_after_seconds: answer.receipt_after_seconds,
    }
}

/// Asks the server for the promise of the token's case, and its receipt if
/// the batch was published, and checks them like a kept receipt (for
/// reporters who kept none).
pub fn fetch_receipt(api: &Api, token: &Token) -> Result<FetchedReceipt, ClientError> {
    let status = api.reporter_status(&token.handle())?;
    fetch_receipt_for(api, token, &status)
}

/// [`fetch_receipt`] for a case whose status was just read.
pub fn fetch_receipt_for(
    api: &Api,
    token: &Token,
    status: &ReporterStatus,
) -> Result<FetchedReceipt, ClientError> {
    let answer = api.reporter_receipt(&token.handle())?;
    let v = tlog::verifier(api, None)?;
    let published = published_size(api, &v)?;
    let fetched = receipt_file(
        api,
        &v,
        (&status.case, &status.desk, status.opened),
        answer,
        Some(published),
    );
    let case = CaseId::parse(&status.case)
        .ok_or_else(|| ClientError::Protocol("malformed case id".into()))?;
    let checked = tlog::verify_receipt(
        &fetched.file,
        &Opening {
            case: &case.0,
            desk: &fetched.file.desk,
        },
    )
    .map_err(|why| {
        ClientError::Crypto(format!("the server's receipt does not check out: {why}"))
    })?;
    match checked.leaf.event {
        Event::CaseOpened { reporter, .. } if reporter == own_keys(token) => Ok(fetched),
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
    /// Problems to show as warnings: the case deleted or rewritten, a
    /// promise the log did not keep.
    pub warnings: Vec<String>,
    /// The file completed with its receipt, when it held only the promise
    /// and the batch has been published since: to keep instead.
    pub upgraded: Option<ReceiptFile>,
}

/// Checks a kept receipt: it must be this token's, the log must still hold
/// the case's opening and extend the receipt's tree, and the report the
/// server shows now (`status`, `None` when the server no longer knows the
/// case) must be the one in the log. A file that holds only the promise is
/// completed with the receipt once the batch is published; a promise the
/// published log has passed without keeping it is a warning.
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
    let opening = Opening {
        case: &case.0,
        desk: &file.desk,
    };
    let mut v = tlog::verify_receipt(file, &opening)
        .map_err(|why| ClientError::Crypto(format!("your receipt does not check out: {why}")))?;
    let Event::CaseOpened {
        report, reporter, ..
    } = v.leaf.event
    else {
        return Err(ClientError::Crypto(
            "the receipt is not a case opening".into(),
        ));
    };
    if reporter != own_keys(token) {
        return Err(ClientError::Usage(
            "this receipt belongs to another case than this token".into(),
        ));
    }
    let mut warnings = Vec::new();
    let mut upgraded = None;
    let standing = if v.included.is_some() {
        tlog::standing(api, &v)?
    } else {
        match follow_promise(api, token, file, &opening, &v, status.is_some())? {
            Promised::Completed(full, checked) => {
                v = *checked;
                upgraded = Some(full);
                tlog::standing(api, &v)?
            }
            Promised::Pending { published, seconds } => ReceiptStanding::NotYetPublished {
                entry: None,
                published,
                receipt_after_seconds: seconds,
            },
            Promised::Broken { published, answer } => {
                let mut why = broken_promise(&v, published);
                if let Some(e) = answer {
                    why.push_str(&format!(" (the server answered: {e})"));
                }
                if status.is_none() {
                    warnings.push(deleted_promised(&v));
                }
                warnings.push(why);
                return Ok(ReceiptReport {
                    standing: ReceiptStanding::PromiseBroken { published },
                    warnings,
                    upgraded: None,
                });
            }
        }
    };
    match status {
        None => warnings.push(format!(
            "the server no longer knows your case, but the log shows it was opened on {} (entry {}): it was deleted behind your back",
            v.leaf.day,
            v.included.as_ref().map_or(0, |i| i.entry)
        )),
        Some(status) => {
            if let Some(e) = status.erased {
                warnings.extend(check_erasure(api, &v, &case, e)?);
            } else {
                if status.case != file.case {
                    warnings.push("the server shows a different case than your receipt's".into());
                }
                let served = status.messages.first().map(|m| {
                    leaf::message_commitment(&case.0, 0, Direction::FromReporter, &sha256(&m.envelope))
                });
                if served.as_ref() != Some(&report) {
                    warnings.push(
                        "your report as the server shows it now is not the one the log recorded when your case opened: it was replaced"
                            .into(),
                    );
                }
            }
        }
    }
    Ok(ReceiptReport {
        standing,
        warnings,
        upgraded,
    })
}

/// What became of a promise-only file's promise.
enum Promised {
    /// The server gave the receipt, and it keeps the promise: the file
    /// completed, and its check.
    Completed(ReceiptFile, Box<tlog::VerifiedReceipt>),
    /// The batch is not published yet.
    Pending {
        published: u64,
        seconds: Option<u64>,
    },
    /// The published log has passed the promise's batch and the server
    /// gives no receipt (`answer`: its error, if it refused).
    Broken {
        published: u64,
        answer: Option<ClientError>,
    },
}

/// Asks for the receipt of a file that holds only the promise, and judges
/// the answer against the published log.
fn follow_promise(
    api: &Api,
    token: &Token,
    file: &ReceiptFile,
    opening: &Opening<'_>,
    v: &tlog::VerifiedReceipt,
    case_known: bool,
) -> Result<Promised, ClientError> {
    // The published size is read before the server is asked: a checkpoint
    // it shows has been published by then. Any checkpoint larger than the
    // one seen just after the promise was published later, and must hold
    // the promised leaf.
    let published = published_size(api, &v.verifier)?;
    let passed = file.published_at_promise.is_some_and(|p| published > p);
    if !case_known {
        if passed {
            return Ok(Promised::Broken {
                published,
                answer: None,
            });
        }
        return Err(ClientError::Crypto(format!(
            "{}. (Your receipt holds the promise only, so the entry cannot be looked up; \
             `sotto audit log` finds it if it is there.)",
            deleted_promised(v)
        )));
    }
    let answer = match api.reporter_receipt(&token.handle()) {
        Ok(answer) => answer,
        // Whatever its excuse, a receipt not given for a published batch
        // is a promise not kept.
        Err(e @ ClientError::Server { .. }) if passed => {
            return Ok(Promised::Broken {
                published,
                answer: Some(e),
            })
        }
        Err(e) => return Err(e),
    };
    match answer.receipt {
        Some(receipt) => {
            let full = ReceiptFile {
                receipt: Some(receipt),
                ..file.clone()
            };
            let checked = tlog::verify_receipt(&full, opening).map_err(|why| {
                ClientError::Crypto(format!(
                    "the server's receipt does not keep its log's promise: {why}"
                ))
            })?;
            Ok(Promised::Completed(full, Box::new(checked)))
        }
        None if passed => Ok(Promised::Broken {
            published,
            answer: None,
        }),
        None => Ok(Promised::Pending {
            published,
            seconds: answer.receipt_after_seconds,
        }),
    }
}

/// The warning for a case the server no longer knows, from its promise.
fn deleted_promised(v: &tlog::VerifiedReceipt) -> String {
    format!(
        "the server no longer knows your case, which its log promised on {} to publish: \
         it was deleted behind your back",
        v.leaf.day
    )
}

/// The warning for a promise the published log passed without keeping.
fn broken_promise(v: &tlog::VerifiedReceipt, published: u64) -> String {
    format!(
        "the server's log promised on {} that your report would be in its next published \
         checkpoint; it has published one of {published} entries since, and the server does not \
         show your report in it: the log dropped your report, or the server withholds its proof. \
         Keep your receipt file: the promise, signed by the log's key, is evidence \
         (`sotto audit log` can look for your entry in the whole log)",
        v.leaf.day
    )
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
    let entry = match e.entry {
        Some(entry) if entry < now.size => entry,
        _ => {
            return Ok(vec![format!(
            "the server says your case was erased on {}, but the public log does not show it yet",
            e.on
        )])
        }
    };
    let p = api.inclusion_proof(entry, now.size)?;
    if sotto_tlog::merkle::verify_inclusion(entry, now.size, &hash, &p.proof, &now.root).is_err() {
        return Ok(vec![format!(
            "the server says your case was erased on {}, but the log does not record that erasure: it was deleted, not erased",
            e.on
        )]);
    }
    Ok(Vec::new())
}
