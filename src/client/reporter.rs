//! The reporter's operations: submit a report, read the thread, reply.
//!
//! Everything is derived from the token on this machine; the server gets
//! the handle, public keys, envelopes and signatures.

use std::path::PathBuf;

use sotto_envelope::keys::RecipientCard;
use sotto_envelope::pow;
use sotto_envelope::sign::{CaseId, Direction};
use sotto_envelope::token::{Handle, Token};
use sotto_envelope::{encrypt, sha256, Recipient};
use sotto_wire::api::{
    CaseOpened, CaseReceipt, MessagePosted, OpenCase, PostMessage, RecipientInfo, ReporterStatus,
};
use sotto_wire::content::{Attachment, Content, Report, CONTENT_VERSION};

use super::log::ReceiptFile;
use super::readers::{self, ReaderCheck};
use super::receipt::{check_own_receipt, receipt_file};
use super::receipt_file::published_size;
use super::thread::{self, ReadMessage};
use super::{padded_note, paged, retry_on_stale_seq, Api, ClientError};

// The receipt operations live in their own module; these paths stay for
// the callers that name them here (the no-JS pages, the tests).
pub use super::receipt::{
    check_receipt, fetch_receipt, fetch_receipt_for, FetchedReceipt, ReceiptReport,
};

/// What to report.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// The desk (default: `default`).
    pub desk: String,
    /// What happened.
    pub text: String,
    /// Names or fingerprints of recipients who must not read it.
    pub exclude: Vec<String>,
    /// The readers chosen, by id, when the reporter picked them from a
    /// list shown earlier (the no-JavaScript form): every other reader is
    /// excluded, and a chosen reader the desk no longer offers is
    /// [`READERS_CHANGED`], not a silent change of who reads it. With it,
    /// `exclude` is not used.
    pub only: Option<Vec<String>>,
    /// When it happened (optional, free text).
    pub when: String,
    /// The kind of report, one of `CATEGORIES` (optional).
    pub category: String,
    /// The language the report is written in (optional).
    pub lang: String,
    /// Who was involved (optional, free text).
    pub involved: String,
    /// Links to evidence.
    pub links: Vec<String>,
    /// Files as evidence.
    pub attachments: Vec<Attachment>,
    /// Someone may be at risk.
    pub urgent: bool,
    /// For the record only.
    pub record_only: bool,
    /// Where this device remembers the log and each desk's readers; `None`
    /// checks the readers against the whole log and remembers nothing.
    pub known: Option<PathBuf>,
    /// Without `known`: the log position shared by the clients of this
    /// process (the server's no-JavaScript pages), followed from there.
    pub shared_log: Option<readers::SharedLog>,
}

/// A submitted report.
#[derive(Debug)]
pub struct Submitted {
    /// The token: the only way back to the case. Shown once.
    pub token: Token,
    /// The server's acknowledgement.
    pub opened: CaseOpened,
    /// Who can read it.
    pub recipients: Vec<RecipientInfo>,
    /// Who was excluded.
    pub excluded: Vec<RecipientInfo>,
    /// What the log said about the readers.
    pub check: ReaderCheck,
    /// The receipt file to keep beside the token: the log's promise, which
    /// `sotto report status --receipt` completes once the batch is
    /// published.
    pub receipt: ReceiptFile,
    /// Problems found after the report was sent: a receipt that does not
    /// check out, or a memory file that could not be written.
    pub warnings: Vec<String>,
}

/// Whether `info` is what `wanted` names: its exact name (ignoring case), its
/// fingerprint (ignoring spaces) or its id.
fn names(info: &RecipientInfo, card: &RecipientCard, wanted: &str) -> bool {
    let wanted = wanted.trim();
    info.name.to_lowercase() == wanted.to_lowercase() || card.fingerprint().matches(wanted)
}

/// The recipients a report goes to, with their checked cards, and those excluded.
pub type Chosen = (Vec<(RecipientInfo, RecipientCard)>, Vec<RecipientInfo>);

/// Checks the desk's recipients (each card must hash to its id) and splits
/// them into chosen and excluded.
pub fn choose_recipients(
    desk: &[RecipientInfo],
    exclude: &[String],
) -> Result<Chosen, ClientError> {
    let mut all = Vec::new();
    for info in desk {
        let card = RecipientCard::parse(&info.card).map_err(|_| {
            ClientError::Protocol(format!("the server sent an invalid card for {}", info.name))
        })?;
        if card.fingerprint().id() != info.id || card.fingerprint().to_string() != info.fingerprint
        {
            return Err(ClientError::Crypto(format!(
                "the server's fingerprint for {} does not match the card: refusing to encrypt",
                info.name
            )));
        }
        all.push((info.clone(), card));
    }
    for wanted in exclude {
        if !all.iter().any(|(i, c)| names(i, c, wanted)) {
            return Err(ClientError::Usage(format!(
                "no recipient of this desk is named or fingerprinted {wanted:?}"
            )));
        }
    }
    let (excluded, chosen): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|(i, c)| exclude.iter().any(|w| names(i, c, w)));
    if chosen.is_empty() {
        return Err(ClientError::Usage(
            "nobody would receive this report: this desk has no recipients left after exclusions"
                .into(),
        ));
    }
    Ok((chosen, excluded.into_iter().map(|(i, _)| i).collect()))
}

/// [`Submission::only`] named a reader the desk no longer offers.
pub const READERS_CHANGED: &str = "the list of readers changed since this page was loaded";

/// Submits a report, accepting whatever readers the log check finds (for
/// scripts and tests; a person should see the check: [`submit_with`]).
pub fn submit(api: &Api, s: &Submission) -> Result<Submitted, ClientError> {
    submit_with(api, s, &mut |_| true)
}

/// Submits a report: the readers checked against the transparency log (and
/// `confirm` asked when that check names someone), a new token, encryption
/// to the chosen recipients and the reporter's own key, signature, proof of
/// work, the upload, and the receipt checked.
pub fn submit_with(
    api: &Api,
    s: &Submission,
    confirm: &mut dyn FnMut(&ReaderCheck) -> bool,
) -> Result<Submitted, ClientError> {
    let desk_name = if s.desk.is_empty() {
        "default"
    } else {
        &s.desk
    };
    if !s.category.is_empty() && !sotto_wire::content::CATEGORIES.contains(&s.category.as_str()) {
        return Err(ClientError::Usage(format!(
            "not a category: {}; use one of {}",
            s.category,
            sotto_wire::content::CATEGORIES.join(", ")
        )));
    }
    if !s.lang.is_empty() && !sotto_wire::content::is_language_tag(&s.lang) {
        return Err(ClientError::Usage(format!(
            "not a language tag: {}",
            s.lang
        )));
    }
    let desk = api.desk(desk_name)?;
    let exclude = match &s.only {
        None => s.exclude.clone(),
        Some(only) => {
            let offered = |id: &String| desk.recipients.iter().any(|r| &r.id == id);
            if !only.iter().all(offered) {
                return Err(ClientError::Usage(READERS_CHANGED.into()));
            }
            desk.recipients
                .iter()
                .filter(|r| !only.contains(&r.id))
                .map(|r| r.id.clone())
                .collect()
        }
    };
    let (chosen, excluded) = choose_recipients(&desk.recipients, &exclude)?;
    let readers: Vec<RecipientInfo> = chosen.iter().map(|(i, _)| i.clone()).collect();
    let checked = readers::check(
        api,
        &desk,
        &readers,
        &excluded,
        s.known.as_deref(),
        s.shared_log.as_ref(),
    )?;
    if checked.check.needs_confirmation() && !confirm(&checked.check) {
        return Err(ClientError::Usage(
            "not sent: you did not accept the readers; leave someone out with --exclude".into(),
        ));
    }

    let token = Token::generate();
    let identity = token.identity();
    let signing = token.signing_key();

    let mut content = Content::Report(Box::new(Report {
        v: CONTENT_VERSION,
        desk: desk.name.clone(),
        text: s.text.clone(),
        urgent: s.urgent,
        record_only: s.record_only,
        when: s.when.clone(),
        category: s.category.clone(),
        lang: s.lang.clone(),
        involved: s.involved.clone(),
        links: s.links.clone(),
        attachments: s.attachments.clone(),
        recipients: chosen.iter().map(|(i, _)| i.card.clone()).collect(),
        reporter_x25519: identity.recipient().to_string(),
        reporter_ed25519: signing.verifying_key().to_string(),
    }));
    let padded = content
        .to_padded()
        .map_err(|e| ClientError::Usage(e.to_string()));
    content.wipe();
    let padded = padded?;
    let mut recipients: Vec<Recipient> = chosen.iter().map(|(_, c)| c.recipient).collect();
    recipients.push(identity.recipient());
    let envelope = encrypt(&recipients, &padded).map_err(|e| ClientError::Crypto(e.to_string()))?;
    if envelope.len() > desk.limits.max_envelope_bytes {
        return Err(ClientError::Usage(format!(
            "the report with its attachments is {} bytes once encrypted; this desk accepts at most {}",
            envelope.len(),
            desk.limits.max_envelope_bytes
        )));
    }

    let challenge = api.challenge(&desk.name)?;
    let case = CaseId::parse(&challenge.case)
        .ok_or_else(|| ClientError::Protocol("the challenge's case id is malformed".into()))?;
    let signature = signing.sign_envelope(&case, 0, Direction::FromReporter, &envelope);
    let envelope_hash = sha256(&envelope);
    let nonce = pow::solve(&challenge.challenge, &envelope_hash, challenge.difficulty).ok_or_else(
        || ClientError::Protocol("the server asks for an impossible proof of work".into()),
    )?;
    let upload = api.open_case(
        &token.handle(),
        &OpenCase {
            desk: desk.name.clone(),
            challenge: challenge.challenge,
            pow_nonce: nonce,
            reporter_x25519: identity.recipient().to_string(),
            reporter_ed25519: signing.verifying_key().to_string(),
            recipients: chosen.iter().map(|(i, _)| i.id.clone()).collect(),
            envelope,
            signature: signature.to_string(),
            record_only: s.record_only,
        },
    );
    let opened = match upload {
        Ok(o) => o,
        // The upload may have landed although its answer was lost: ask
        // with the handle before giving up, so no token of a stored case
        // is ever thrown away.
        Err(e) if may_have_landed(&e) => recover(api, &token, &challenge.case).map_err(|_| e)?,
        Err(e) => return Err(e),
    };
    if opened.case != challenge.case {
        return Err(ClientError::Protocol(
            "the server opened a different case than it issued".into(),
        ));
    }
    let mut warnings = Vec::new();
    // The case is open: from here on nothing may fail, or the token is lost.
    let verifier = checked.verifier();
    // Read after the promise: every checkpoint published later holds it.
    let published = match published_size(api, &verifier) {
        Ok(size) => Some(size),
        Err(e) => {
            warnings.push(format!(
                "could not read the public log after sending ({e}): your receipt cannot tell \
                 later whether the log kept its promise"
            ));
            None
        }
    };
    let receipt = receipt_file(
        api,
        &verifier,
        (&opened.case, &desk.name, opened.opened),
        CaseReceipt {
            promise: opened.promise.clone(),
            receipt: None,
            receipt_after_seconds: Some(opened.receipt_after_seconds),
        },
        published,
    )
    .file;
    let ids: Vec<String> = readers.iter().map(|r| r.id.clone()).collect();
    if let Err(why) = check_own_receipt(&receipt, &case, &envelope_hash, &ids, &token) {
        warnings.push(format!("the server's receipt does not check out: {why}"));
    }
    let check = checked.check.clone();
    if let Err(e) = checked.remember() {
        warnings.push(format!("could not remember this desk's readers: {e}"));
    }
    Ok(Submitted {
        token,
        opened,
        recipients: readers,
        excluded,
        check,
        receipt,
        warnings,
    })
}

/// Whether a failed upload may still have opened the case: the connection
/// broke, or the server failed after storing.
fn may_have_landed(e: &ClientError) -> bool {
    match e {
        ClientError::Network(_) | ClientError::Protocol(_) => true,
        ClientError::Server { status, .. } => *status >= 500,
        _ => false,
    }
}

/// The answer to an upload whose answer was lost, rebuilt from the case's
/// status and the log's promise for it.
fn recover(api: &Api, token: &Token, case: &str) -> Result<CaseOpened, ClientError> {
    let handle = token.handle();
    let s = api.reporter_status(&handle)?;
    if s.case != case {
        return Err(ClientError::Protocol(
            "the server holds another case for this token".into(),
        ));
    }
    let answer = api.reporter_receipt(&handle)?;
    Ok(CaseOpened {
        case: s.case,
        state: s.state,
        opened: s.opened,
        next_update_due: s.next_update_due,
        promise: answer.promise,
        receipt_after_seconds: answer.receipt_after_seconds.unwrap_or(0),
    })
}

/// What the reporter sees.
#[derive(Debug)]
pub struct ReporterView {
    /// The server's view of the case.
    pub status: ReporterStatus,
    /// The thread, checked and decrypted.
    pub messages: Vec<ReadMessage>,
    /// The cards the reporter chose, from their own sealed report.
    pub recipients: Vec<RecipientCard>,
    /// Readers the case was shared with since, each share signed by the
    /// reporter or by a reader before them.
    pub shared: Vec<thread::SharedReader>,
    /// Shares the server lists that no reader signed (ignored).
    pub warnings: Vec<String>,
}

impl ReporterView {
    /// Messages that failed a check.
    pub fn refused(&self) -> impl Iterator<Item = &ReadMessage> {
        self.messages.iter().filter(|m| m.content.is_err())
    }
}

/// Fetches and reads the thread. Desk messages are checked against the
/// recipients sealed in the reporter's own report, not against anything
/// the server says now.
pub fn status(api: &Api, token: &Token) -> Result<ReporterView, ClientError> {
    read_status(token, api.reporter_status(&token.handle())?)
}

/// Checks and decrypts a status the server sent, with its whole thread.
pub fn read_status(token: &Token, status: ReporterStatus) -> Result<ReporterView, ClientError> {
    read_page(token, status, None, 0)
}

/// One page of the thread, from message `from` on: for a reader who holds
/// only part of a long thread (the no-JavaScript page). Desk messages are
/// checked against the recipients sealed in the report, message 0, which
/// is fetched alone (`limit=1`) when the page does not start with it.
pub fn status_page(
    api: &Api,
    token: &Token,
    after: Option<u64>,
) -> Result<ReporterView, ClientError> {
    let handle = token.handle();
    let Some(after) = after else {
        return read_page(token, api.reporter_page(&handle, None)?, None, 0);
    };
    let report = api.reporter_report(&handle)?.messages.into_iter().next();
    let page = api.reporter_page(&handle, Some(after))?;
    read_page(token, page, report.as_ref(), after.saturating_add(1))
}

/// The case with its report alone, checked and decrypted: the readers the
/// reporter chose, those it was shared with, and the case's figures
/// (`message_count`), without downloading the thread.
pub fn report_only(api: &Api, token: &Token) -> Result<ReporterView, ClientError> {
    read_page(token, api.reporter_report(&token.handle())?, None, 0)
}

/// Checks and decrypts a status whose messages run from `from` on.
pub fn read_page(
    token: &Token,
    status: ReporterStatus,
    report: Option<&sotto_wire::api::Message>,
    from: u64,
) -> Result<ReporterView, ClientError> {
    let case = CaseId::parse(&status.case)
        .ok_or_else(|| ClientError::Protocol("malformed case id".into()))?;
    let identity = token.identity();
    let own_key = token.signing_key().verifying_key();
    if status.erased.is_some() && status.message_count == 0 {
        // Erased under the retention policy: nothing left to read.
        return Ok(ReporterView {
            status,
            messages: Vec::new(),
            recipients: Vec::new(),
            shared: Vec::new(),
            warnings: Vec::new(),
        });
    }
    // First the report alone: it names the recipients the reporter chose.
    let report = match (report, from) {
        (Some(m), _) => Some(m),
        (None, 0) => status.messages.first(),
        (None, _) => None,
    };
    let report = report.map(std::slice::from_ref).unwrap_or(&[]);
    let first = thread::read(&case, 0, report, &identity, &own_key, &[]);
    let recipients: Vec<RecipientCard> = match first.first().map(|m| &m.content) {
        Some(Ok(Content::Report(r))) => r
            .recipients
            .iter()
            .filter_map(|c| RecipientCard::parse(c).ok())
            .collect(),
        Some(Err(why)) => {
            return Err(ClientError::Crypto(format!(
                "your own report does not check out ({why}): the server may have altered this case"
            )))
        }
        _ => return Err(ClientError::Protocol("the case has no report".into())),
    };
    let mut warnings = Vec::new();
    let shared =
        thread::trusted_shares(&case, &status.shares, &recipients, &own_key, &mut warnings);
    let mut readers = recipients.clone();
    readers.extend(shared.iter().map(|s| s.card.clone()));
    let messages = thread::read(&case, from, &status.messages, &identity, &own_key, &readers);
    Ok(ReporterView {
        status,
        messages,
        recipients,
        shared,
        warnings,
    })
}

/// A reporter's case followed over time, fetching only what is new (`sotto
/// report status --watch`). What was read stays in this process's memory,
/// never on disk: the report (to check the readers' messages against) and
/// the case's entity tag. Each look after the first asks for the messages
/// after the last one read, with `If-None-Match`: a case that did not
/// change costs a `304` and no envelope is downloaded twice.
#[derive(Debug, Default)]
pub struct Watch {
    /// Message 0, once read.
    report: Option<sotto_wire::api::Message>,
    /// The case's entity tag at the last look.
    tag: Option<String>,
    /// The seq of the next message to read.
    next: u64,
}

/// What one look at a watched case brought: the case as it is now, with
/// the messages from seq `from` on.
#[derive(Debug)]
pub struct Looked {
    /// The case, with the new messages only.
    pub status: ReporterStatus,
    /// The seq of the first of them.
    pub from: u64,
}

impl Watch {
    /// Fetches what changed since the last look: `None` if nothing did.
    /// The first look fetches the whole case.
    pub fn look(&mut self, api: &Api, handle: &Handle) -> Result<Option<Looked>, ClientError> {
        let from = self.next;
        let Some((page, tag)) =
            api.reporter_page_if(handle, from.checked_sub(1), self.tag.as_deref())?
        else {
            return Ok(None);
        };
        let mut first = Some(page);
        let status = paged::whole_from(from, |after| match first.take() {
            Some(page) => Ok(page),
            None => api.reporter_page(handle, after),
        })?;
        if from == 0 {
            self.report = status.messages.first().cloned();
        }
        self.next = from.saturating_add(status.messages.len() as u64);
        self.tag = tag;
        Ok(Some(Looked { status, from }))
    }

    /// Checks and decrypts what a look brought, against the report read
    /// at the first look.
    pub fn read(&self, token: &Token, looked: Looked) -> Result<ReporterView, ClientError> {
        read_page(token, looked.status, self.report.as_ref(), looked.from)
    }
}

/// Sends a follow-up, encrypted to the recipients the reporter chose, the
/// readers the case was shared with by them, and the reporter's own key. Seals again if a reply arrived meanwhile.
pub fn reply(
    api: &Api,
    token: &Token,
    text: &str,
    attachments: Vec<Attachment>,
) -> Result<MessagePosted, ClientError> {
    let padded = padded_note(text, attachments)?;
    retry_on_stale_seq(|| {
        // The report names the readers; the rest of the thread is not
        // needed to add to it.
        let view = report_only(api, token)?;
        if let Some(e) = view.status.erased {
            return Err(ClientError::Usage(format!(
                "this case was erased on {} under the server's retention policy; nothing can be added to it",
                e.on
            )));
        }
        let case = CaseId::parse(&view.status.case)
            .ok_or_else(|| ClientError::Protocol("malformed case id".into()))?;
        let mut recipients: Vec<Recipient> = view
            .recipients
            .iter()
            .chain(view.shared.iter().map(|s| &s.card))
            .map(|c| c.recipient)
            .collect();
        recipients.push(token.identity().recipient());
        let envelope =
            encrypt(&recipients, &padded).map_err(|e| ClientError::Crypto(e.to_string()))?;
        let seq = view.status.message_count;
        let signature =
            token
                .signing_key()
                .sign_envelope(&case, seq, Direction::FromReporter, &envelope);
        api.reporter_post(
            &token.handle(),
            &PostMessage {
                seq,
                envelope,
                signature: signature.to_string(),
            },
        )
    })
}

/// Where to escalate a case.
#[derive(Debug, Clone, Default)]
pub struct Escalation {
    /// The other desk.
    pub desk: String,
    /// Names or fingerprints of that desk's recipients who must not read it.
    pub exclude: Vec<String>,
    /// Leave the files out of the copy (their names stay).
    pub without_attachments: bool,
    /// As for [`Submission::known`].
    pub known: Option<PathBuf>,
}

/// An escalation done.
#[derive(Debug)]
pub struct Escalated {
    /// The server's answer.
    pub done: sotto_wire::api::Escalated,
    /// Who can now read the case at the other desk.
    pub readers: Vec<RecipientInfo>,
    /// Who was left out there.
    pub excluded: Vec<RecipientInfo>,
    /// Problems after it was done (the desk's readers not remembered).
    pub warnings: Vec<String>,
}

/// The reporter hands their case to another desk, once the desk it went
/// to let the acknowledgement deadline pass with nobody acting on it
/// (`today` is this machine's day; the server checks by its own). The
/// thread is decrypted here and sealed, one share per chosen reader of the
/// other desk, each signed with the token's key. The readers are checked
/// against the log first, as for a report.
pub fn escalate_with(
    api: &Api,
    token: &Token,
    e: &Escalation,
    today: sotto_wire::Day,
    confirm: &mut dyn FnMut(&ReaderCheck) -> bool,
) -> Result<Escalated, ClientError> {
    retry_on_stale_seq(|| {
        let view = status(api, token)?;
        let s = &view.status;
        if let Some(er) = s.erased {
            return Err(ClientError::Usage(format!(
                "this case was erased on {}; nothing can be done with it",
                er.on
            )));
        }
        if s.desk == e.desk {
            return Err(ClientError::Usage(format!(
                "your case is already at desk {}: name another desk",
                e.desk
            )));
        }
        if s.state != sotto_wire::CaseState::Received {
            return Err(ClientError::Usage(format!(
                "escalation is for a report nobody has acknowledged; yours is {}",
                s.state
            )));
        }
        if let Some(due) = s.next_update_due.filter(|d| today <= *d) {
            return Err(ClientError::Usage(format!(
                "the desk has until {due} to acknowledge your report; you can escalate from {}",
                due.plus(1)
            )));
        }
        let case = CaseId::parse(&s.case)
            .ok_or_else(|| ClientError::Protocol("malformed case id".into()))?;
        let desk = api.desk(&e.desk)?;
        let (chosen, excluded) = choose_recipients(&desk.recipients, &e.exclude)?;
        let readers: Vec<RecipientInfo> = chosen.iter().map(|(i, _)| i.clone()).collect();
        let checked = readers::check(api, &desk, &readers, &excluded, e.known.as_deref(), None)?;
        if checked.check.needs_confirmation() && !confirm(&checked.check) {
            return Err(ClientError::Usage(
                "not escalated: you did not accept the readers; leave someone out with --exclude"
                    .into(),
            ));
        }
        let (padded, upto) =
            thread::shared_thread(&s.messages, &view.messages, "", !e.without_attachments)?;
        let own = token.identity().recipient();
        let mut shares = Vec::new();
        let mut total = 0;
        for (info, card) in &chosen {
            let envelope = encrypt(&[card.recipient, own], &padded)
                .map_err(|e| ClientError::Crypto(e.to_string()))?;
            total += envelope.len();
            let signature = token
                .signing_key()
                .sign_share(&case, &info.id, upto, &envelope);
            shares.push(sotto_wire::api::ShareCase {
                reader: info.id.clone(),
                desk: desk.name.clone(),
                upto,
                envelope,
                signature: signature.to_string(),
            });
        }
        // One request carries a copy per reader: together they must fit
        // the server's limit for one envelope.
        if total > desk.limits.max_envelope_bytes {
            return Err(ClientError::Usage(format!(
                "your thread sealed for {} readers is {total} bytes, more than this server accepts at once ({}): escalate with --without-attachments",
                chosen.len(),
                desk.limits.max_envelope_bytes
            )));
        }
        let done = api.escalate(
            &token.handle(),
            &sotto_wire::api::Escalate {
                desk: desk.name.clone(),
                shares,
            },
        )?;
        let mut warnings = Vec::new();
        if let Err(why) = checked.remember() {
            warnings.push(format!("could not remember this desk's readers: {why}"));
        }
        Ok(Escalated {
            done,
            readers: readers.clone(),
            excluded: excluded.clone(),
            warnings,
        })
    })
}
