//! The ombudsperson's operations: inbox, read a case, reply, change state.

use sotto_envelope::keys::{DeskIdentity, RecipientCard};
use sotto_envelope::sign::{CaseId, Direction, VerifyingKey};
use sotto_envelope::{encrypt, Recipient};
use sotto_tlog::leaf::{self, Event, Leaf};
use sotto_tlog::merkle;
use sotto_wire::api::{DeskCase, Inbox, MessagePosted, PostMessage, SetState, StateChanged};
use sotto_wire::content::Attachment;
use sotto_wire::CaseState;

use super::log as tlog;
use super::sealed::{open_share, read_shared, sealed_report, shared_report, Sealed};
use super::thread::{self, ReadMessage, SharedReader};
use super::{padded_note, retry_on_stale_seq, Api, ClientError};

/// A case as the ombudsperson sees it.
#[derive(Debug)]
pub struct DeskView {
    /// The server's view.
    pub case: DeskCase,
    /// The thread, checked and decrypted.
    pub messages: Vec<ReadMessage>,
    /// Problems worth the reader's attention (e.g. recipients the reporter
    /// did not choose).
    pub warnings: Vec<String>,
    /// The recipients the reporter chose, from the sealed report (falling
    /// back to the server's list if the report cannot be read).
    pub recipients: Vec<RecipientCard>,
    /// Readers the case was shared with since, each share signed by the
    /// reporter or by a reader before them.
    pub shared: Vec<SharedReader>,
    /// The reporter's X25519 key as sealed in the report; None when the
    /// report cannot be verified, or the log does not confirm it, and then
    /// nobody can reply.
    pub reporter: Option<Recipient>,
    /// What the public log says of the case's opening.
    pub log: LogCheck,
}

/// The case's opening, as the server shows it, against the public log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogCheck {
    /// The published log holds exactly this opening: this report, these
    /// readers, these reporter keys.
    Verified {
        /// The case-opened entry.
        entry: u64,
        /// The published size it was checked against.
        size: u64,
    },
    /// The published log does not cover the case yet (checkpoints come in
    /// batches, and the server names the entry only once one covers it);
    /// replies are allowed, and the check runs again next time.
    NotYetPublished {
        /// The published size.
        published: u64,
    },
    /// The log does not confirm the opening, or could not be checked:
    /// replies are disabled (see the warnings).
    Failed,
    /// Nothing to check: the report cannot be read, or the case was erased.
    NotChecked,
}

/// Rebuilds the case-opened leaf from what the server shows and the report
/// sealed inside, and proves it is in the published log.
fn check_opening(
    api: &Api,
    dc: &DeskCase,
    id: &CaseId,
    sealed: &Sealed,
) -> Result<LogCheck, String> {
    let v = tlog::verifier(api, None).map_err(|e| e.to_string())?;
    let (_, now) = tlog::latest(api, &v).map_err(|e| e.to_string())?;
    let entry = match dc.opened_entry {
        Some(entry) if entry < now.size => entry,
        _ => {
            return Ok(LogCheck::NotYetPublished {
                published: now.size,
            })
        }
    };
    let report = dc.messages.first().ok_or("the case has no report")?;
    let readers: Vec<String> = sealed
        .recipients
        .iter()
        .map(|c| c.fingerprint().id())
        .collect();
    let expected = Leaf {
        day: dc.opened,
        event: Event::CaseOpened {
            desk: leaf::desk_commitment(&dc.desk),
            case: leaf::case_commitment(&id.0),
            report: leaf::message_commitment(
                &id.0,
                0,
                Direction::FromReporter,
                &sotto_envelope::sha256(&report.envelope),
            ),
            readers: leaf::readers_commitment(&readers),
            reporter: leaf::reporter_commitment(
                &sealed.recipient.to_string(),
                &sealed.signing_key.0,
            ),
        },
    };
    let proof = api
        .inclusion_proof(entry, now.size)
        .map_err(|e| e.to_string())?;
    merkle::verify_inclusion(
        entry,
        now.size,
        &merkle::leaf_hash(&expected.encode()),
        &proof.proof,
        &now.root,
    )
    .map_err(|_| {
        "the case as the server shows it is not the one the public log recorded when it opened \
         (its report, readers or reporter keys differ): the report may have been replaced"
            .to_owned()
    })?;
    Ok(LogCheck::Verified {
        entry,
        size: now.size,
    })
}

/// The inbox.
pub fn inbox(api: &Api, me: &DeskIdentity) -> Result<Inbox, ClientError> {
    api.inbox(me)
}

fn case_id(case: &str) -> Result<CaseId, ClientError> {
    CaseId::parse(case)
        .ok_or_else(|| ClientError::Usage(format!("not a case id (32 hex digits): {case}")))
}

/// How urgently a case needs the handlers, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    /// Open, and the reporter marked it urgent.
    Urgent,
    /// Not acknowledged, and the acknowledgement is due or late.
    Unacknowledged,
    /// Open, and the reporter is owed an update (due or late).
    UpdateOwed,
    /// Everything else.
    Rest,
}

/// A case of the inbox, with what its report says once decrypted here.
#[derive(Debug, Clone)]
pub struct Triaged {
    /// The server's entry.
    pub entry: sotto_wire::api::InboxEntry,
    /// The report, opened and its signature checked; `None` when it cannot
    /// be (erased, or not verifiable).
    pub report: Option<sotto_wire::content::Report>,
    /// Where it sorts.
    pub priority: Priority,
    /// The case's states and their days, as the server reports them.
    pub timeline: Vec<sotto_wire::api::StateEntry>,
}

impl Triaged {
    /// The first non-empty line of the report, at most `max` characters.
    pub fn first_line(&self, max: usize) -> String {
        let line = self
            .report
            .as_ref()
            .and_then(|r| r.text.lines().map(str::trim).find(|l| !l.is_empty()))
            .unwrap_or("");
        if line.chars().count() > max {
            let cut: String = line.chars().take(max.saturating_sub(1)).collect();
            format!("{cut}…")
        } else {
            line.to_owned()
        }
    }
}

/// The inbox, each report decrypted on this machine, sorted by what needs
/// action: urgent first, then unacknowledged cases past their deadline,
/// then cases whose reporter is owed an update, then the rest; within each,
/// the earliest deadline first, then the oldest case.
pub fn triage(
    api: &Api,
    me: &DeskIdentity,
    today: sotto_wire::Day,
) -> Result<Vec<Triaged>, ClientError> {
    let mut out = Vec::new();
    for entry in api.inbox(me)?.cases {
        let (dc, report) = opened_report(api, me, &entry.case)?;
        let open = entry.state.is_open();
        let due = entry.next_deadline().is_some_and(|d| d <= today);
        let priority = if open && report.as_ref().is_some_and(|r| r.urgent) {
            Priority::Urgent
        } else if open && due && entry.state == CaseState::Received {
            Priority::Unacknowledged
        } else if open && due {
            Priority::UpdateOwed
        } else {
            Priority::Rest
        };
        out.push(Triaged {
            entry,
            report,
            priority,
            timeline: dc.timeline,
        });
    }
    out.sort_by(|a, b| {
        let due = |t: &Triaged| {
            t.entry
                .next_deadline()
                .map_or((1, String::new()), |d| (0, d.to_string()))
        };
        (a.priority, due(a), a.entry.opened.to_string()).cmp(&(
            b.priority,
            due(b),
            b.entry.opened.to_string(),
        ))
    });
    Ok(out)
}

/// A case as the server gives it, with its report opened and its
/// signature checked under the key sealed inside it (`None` when it cannot
/// be: erased, or not verifiable). Lighter than [`show`]: no log check, and
/// no other message is downloaded (`limit=1`), so it suits sorting and
/// filling templates, not answering.
pub fn opened_report(
    api: &Api,
    me: &DeskIdentity,
    case: &str,
) -> Result<(DeskCase, Option<sotto_wire::content::Report>), ClientError> {
    let id = case_id(case)?;
    let dc = api.desk_case_report(me, case)?;
    let my_id = me.card().fingerprint().id();
    let report = match dc.shares.iter().find(|s| s.reader.id == my_id) {
        // Shared with this reader: the report is in the share's copy.
        Some(s) => open_share(me, s).and_then(|t| shared_report(&id, &dc, &t)),
        None => dc.messages.first().and_then(|m| sealed_report(me, &id, m)),
    }
    .map(|s| s.report);
    Ok((dc, report))
}

/// Fetches, checks and decrypts a case.
pub fn show(api: &Api, me: &DeskIdentity, case: &str) -> Result<DeskView, ClientError> {
    checked(api, me, case, api.desk_case(me, case)?)
}

/// What answering a case needs, checked as [`show`] checks it: the report
/// (the readers it names, the reporter's keys, proven against the log) and
/// the shares, without downloading the thread (`limit=1`). Its `messages`
/// hold the report alone; the thread's length is `case.message_count`.
fn for_answer(api: &Api, me: &DeskIdentity, case: &str) -> Result<DeskView, ClientError> {
    checked(api, me, case, api.desk_case_report(me, case)?)
}

/// Checks and decrypts `dc`, the case `case` as the server sent it.
fn checked(
    api: &Api,
    me: &DeskIdentity,
    case: &str,
    dc: DeskCase,
) -> Result<DeskView, ClientError> {
    let id = case_id(case)?;
    if dc.case != case {
        return Err(ClientError::Protocol(
            "the server returned another case".into(),
        ));
    }
    let server_cards: Vec<RecipientCard> = dc
        .recipients
        .iter()
        .filter_map(|r| RecipientCard::parse(&r.card).ok())
        .collect();
    let mut warnings = Vec::new();
    let mut log = LogCheck::NotChecked;
    let my_id = me.card().fingerprint().id();
    // A reader the case was shared with cannot open the report's own
    // envelope: they read it from the share sealed to them.
    let my_share = dc
        .shares
        .iter()
        .find(|s| s.reader.id == my_id)
        .and_then(|s| open_share(me, s));
    let sealed = match &my_share {
        Some(thread) => shared_report(&id, &dc, thread),
        None => dc.messages.first().and_then(|m| sealed_report(me, &id, m)),
    };
    let (recipients, reporter_key, reporter) = match sealed {
        Some(sealed) => {
            for c in &server_cards {
                if !sealed.recipients.contains(c) {
                    warnings.push(format!(
                        "the server lists {} ({}) as a recipient, but the reporter did not choose them",
                        c.name,
                        c.fingerprint()
                    ));
                }
            }
            if dc.reporter_ed25519 != sealed.signing_key.to_string()
                || dc.reporter_x25519 != sealed.recipient.to_string()
            {
                warnings.push(
                    "the server's copy of the reporter's keys differs from the keys sealed in the report; \
                     the sealed keys are used"
                        .into(),
                );
            }
            let reporter = match check_opening(api, &dc, &id, &sealed) {
                Ok(c) => {
                    log = c;
                    Some(sealed.recipient)
                }
                Err(why) => {
                    warnings.push(format!("{why}; replies to this case are disabled"));
                    log = LogCheck::Failed;
                    None
                }
            };
            (sealed.recipients, sealed.signing_key, reporter)
        }
        None => {
            // An erased case has no report left to read; anything else
            // without a verifiable report is suspect.
            if dc.erased.is_none() || !dc.messages.is_empty() {
                warnings.push(
                    "the report itself could not be read or verified: replies to this case are disabled".into(),
                );
            }
            let key = VerifyingKey::parse(&dc.reporter_ed25519)
                .map_err(|_| ClientError::Protocol("malformed reporter key".into()))?;
            (server_cards, key, None)
        }
    };
    let shared = thread::trusted_shares(&id, &dc.shares, &recipients, &reporter_key, &mut warnings);
    let mut readers = recipients.clone();
    readers.extend(shared.iter().map(|s| s.card.clone()));
    let mut messages = thread::read(&id, 0, &dc.messages, me.identity(), &reporter_key, &readers);
    if let Some(thread) = my_share {
        let mine = shared.iter().find(|s| s.card.fingerprint().id() == my_id);
        match mine {
            Some(s) => {
                let by = s.by.clone().unwrap_or_else(|| "the reporter".into());
                read_shared(&id, &dc, &thread, &reporter_key, &readers, &by, &mut messages);
            }
            None => warnings.push(
                "the share that gave you this case is not signed by the reporter or one of its readers: \
                 its copy of the thread is not shown"
                    .into(),
            ),
        }
    }
    Ok(DeskView {
        case: dc,
        messages,
        warnings,
        recipients,
        shared,
        reporter,
        log,
    })
}

/// Seals a note to the reporter and the recipients the reporter chose, as
/// the next message of the thread.
fn seal(
    view: &DeskView,
    me: &DeskIdentity,
    text: &str,
    attachments: Vec<Attachment>,
) -> Result<PostMessage, ClientError> {
    let id = case_id(&view.case.case)?;
    let padded = padded_note(text, attachments)?;
    let mut recipients: Vec<Recipient> = view
        .recipients
        .iter()
        .chain(view.shared.iter().map(|s| &s.card))
        .map(|c| c.recipient)
        .collect();
    if let Some(e) = view.case.erased {
        return Err(ClientError::Usage(format!(
            "cannot reply: this case was erased on {} under the retention policy",
            e.on
        )));
    }
    recipients.push(view.reporter.ok_or_else(|| {
        ClientError::Crypto(
            "cannot reply: the report could not be verified, against itself or the public log, \
             so the reporter's key is not known to be theirs"
                .into(),
        )
    })?);
    let envelope = encrypt(&recipients, &padded).map_err(|e| ClientError::Crypto(e.to_string()))?;
    let seq = view.case.message_count;
    let signature = me
        .signing_key()
        .sign_envelope(&id, seq, Direction::FromDesk, &envelope);
    Ok(PostMessage {
        seq,
        envelope,
        signature: signature.to_string(),
    })
}

/// Replies on a case. Retries if another message landed meanwhile.
pub fn reply(
    api: &Api,
    me: &DeskIdentity,
    case: &str,
    text: &str,
    attachments: Vec<Attachment>,
) -> Result<MessagePosted, ClientError> {
    retry_on_stale_seq(|| {
        let view = for_answer(api, me, case)?;
        let msg = seal(&view, me, text, attachments.clone())?;
        api.desk_post(me, case, &msg)
    })
}

/// Changes a case's state, with an optional note to the reporter.
pub fn set_state(
    api: &Api,
    me: &DeskIdentity,
    case: &str,
    state: CaseState,
    note: Option<&str>,
) -> Result<StateChanged, ClientError> {
    retry_on_stale_seq(|| {
        let note = match note {
            Some(text) => {
                let view = for_answer(api, me, case)?;
                Some(seal(&view, me, text, Vec::new())?)
            }
            None => {
                case_id(case)?;
                None
            }
        };
        api.set_state(me, case, &SetState { state, note })
    })
}

/// Shares a case's thread with one more recipient of this server (an
/// escalation): every message is decrypted here, and the thread so far is
/// sealed to that recipient and the reporter, and signed. The server
/// refuses a recipient the reporter left out. `desk` names the desk the
/// recipient reads for when they are on several. Retries if another
/// message landed meanwhile.
pub fn share(
    api: &Api,
    me: &DeskIdentity,
    case: &str,
    card: &RecipientCard,
    desk: Option<&str>,
    note: &str,
    with_attachments: bool,
) -> Result<sotto_wire::api::CaseShared, ClientError> {
    let reader = card.fingerprint().id();
    let desk = match desk {
        Some(d) => d.to_owned(),
        None => {
            let mut on = Vec::new();
            for d in api.desks()?.desks {
                if api.desk(&d.name)?.recipients.iter().any(|r| r.id == reader) {
                    on.push(d.name);
                }
            }
            match on.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(ClientError::Usage(format!(
                        "{} ({}) is not an active recipient of any desk of this server: the operator adds them first",
                        card.name,
                        card.fingerprint()
                    )))
                }
                _ => {
                    return Err(ClientError::Usage(format!(
                        "{} reads for several desks ({}): say which with --desk",
                        card.name,
                        on.join(", ")
                    )))
                }
            }
        }
    };
    let limit = api.desk(&desk)?.limits.max_envelope_bytes;
    retry_on_stale_seq(|| {
        let view = show(api, me, case)?;
        let id = case_id(&view.case.case)?;
        if let Some(e) = view.case.erased {
            return Err(ClientError::Usage(format!(
                "cannot share: this case was erased on {}",
                e.on
            )));
        }
        let reporter = view.reporter.ok_or_else(|| {
            ClientError::Crypto(
                "cannot share: the report could not be verified, against itself or the public log"
                    .into(),
            )
        })?;
        if view
            .recipients
            .iter()
            .chain(view.shared.iter().map(|s| &s.card))
            .any(|c| c.fingerprint().id() == reader)
        {
            return Err(ClientError::Usage(format!(
                "{} already reads this case",
                card.name
            )));
        }
        let (padded, upto) =
            thread::shared_thread(&view.case.messages, &view.messages, note, with_attachments)?;
        let envelope = encrypt(&[card.recipient, reporter], &padded)
            .map_err(|e| ClientError::Crypto(e.to_string()))?;
        if envelope.len() > limit {
            return Err(ClientError::Usage(format!(
                "the thread is {} bytes sealed, more than this server's limit of {limit}: share it with --without-attachments and send the files another way",
                envelope.len()
            )));
        }
        let signature = me.signing_key().sign_share(&id, &reader, upto, &envelope);
        api.share(
            me,
            case,
            &sotto_wire::api::ShareCase {
                reader: reader.clone(),
                desk: desk.clone(),
                upto,
                envelope,
                signature: signature.to_string(),
            },
        )
    })
}
