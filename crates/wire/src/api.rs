//! The JSON bodies of the `/v1` API (docs/api.md describes each route).
//!
//! Requests refuse unknown fields, so a typo is an error and not a silently
//! ignored option. Bytes are standard base64; keys and signatures are in
//! their usual text forms (`age1…`, base64url).

use serde::{Deserialize, Serialize};

use crate::{CaseState, Day};

mod log;
pub use log::{
    CaseReceipt, ConsistencyProof, InclusionProof, LogFrontier, LogInfo, LogPromise, LogRosterDesk,
    LogRosterReader, LogRosters, Receipt,
};

/// Header carrying the reporter's handle (base64url). Never in a URL.
pub const HANDLE_HEADER: &str = "sotto-handle";
/// Header naming the ombudsperson (recipient id) who signed a request.
pub const RECIPIENT_HEADER: &str = "sotto-recipient";
/// Header with the Unix time the request was signed at.
pub const TIMESTAMP_HEADER: &str = "sotto-timestamp";
/// Header with the request's random 16-byte nonce (base64url).
pub const NONCE_HEADER: &str = "sotto-nonce";
/// Header with the request signature (base64url).
pub const SIGNATURE_HEADER: &str = "sotto-signature";

/// Every 4xx and 5xx body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// A stable machine-readable code, e.g. `bad_signature`.
    pub error: String,
    /// One sentence saying what to fix.
    pub message: String,
}

/// `GET /v1/desks`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskList {
    /// Every desk.
    pub desks: Vec<DeskSummary>,
}

/// One desk in the list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskSummary {
    /// Its name, used in URLs.
    pub name: String,
    /// One sentence for reporters choosing a desk.
    pub description: String,
    /// How many people read reports sent to it.
    pub recipients: usize,
}

/// A recipient as shown to reporters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RecipientInfo {
    /// The id (fingerprint digits) used in requests.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Fingerprint, five groups of five digits, to compare by voice.
    pub fingerprint: String,
    /// The whole card line.
    pub card: String,
}

/// `GET /v1/desks/{desk}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskInfo {
    /// The desk's name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Who reads reports sent here, with fingerprints.
    pub recipients: Vec<RecipientInfo>,
    /// Size limits.
    pub limits: Limits,
    /// What a submission must prove.
    pub proof_of_work: PowParams,
    /// How fast the handlers promise to answer.
    pub deadlines: Deadlines,
    /// SHA-256 (hex) of the reporter page's script as this server serves
    /// it, to compare with the one the community builds from the sources.
    pub web_bundle_sha256: String,
}

/// Size limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest envelope (age file) accepted, in bytes.
    pub max_envelope_bytes: usize,
}

/// Proof-of-work parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowParams {
    /// Leading zero bits a solution needs now (it rises under a flood of
    /// new cases).
    pub difficulty: u8,
    /// What it is when the server is not flooded; absent from servers that
    /// do not adapt it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usual_difficulty: Option<u8>,
    /// How long a challenge stays valid.
    pub challenge_ttl_seconds: u64,
}

/// Deadlines the handlers work to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadlines {
    /// Days to acknowledge a new report.
    pub acknowledge_days: i64,
    /// Days between updates to the reporter while a case is open.
    pub update_days: i64,
    /// Months from the acknowledgement (or its deadline, if missed) by which
    /// the reporter is told what was done: the case is closed, or the
    /// reporter is owed an explanation.
    pub feedback_months: i64,
}

/// `POST /v1/desks/{desk}/challenge`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeResponse {
    /// Opaque, server-authenticated challenge.
    pub challenge: String,
    /// The case id the submission must sign for.
    pub case: String,
    /// Leading zero bits required.
    pub difficulty: u8,
    /// Seconds until it expires.
    pub expires_in_seconds: u64,
}

/// `POST /v1/cases`: open a case. The handle goes in the `sotto-handle` header.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenCase {
    /// The desk.
    pub desk: String,
    /// The challenge from `POST /v1/desks/{desk}/challenge`.
    pub challenge: String,
    /// The proof-of-work solution.
    pub pow_nonce: u64,
    /// The reporter's X25519 recipient (`age1…`), derived from the token.
    pub reporter_x25519: String,
    /// The reporter's Ed25519 public key (base64url), derived from the token.
    pub reporter_ed25519: String,
    /// Recipient ids the report is encrypted to (the desk's, minus any
    /// excluded): at most [`MAX_READERS`](crate::MAX_READERS).
    #[serde(deserialize_with = "crate::bounded::readers")]
    pub recipients: Vec<String>,
    /// The report: an age file to those recipients and the reporter's own key.
    #[serde(with = "crate::b64")]
    pub envelope: Vec<u8>,
    /// Reporter's signature over the envelope as message 0.
    pub signature: String,
    /// "For the record only, no action needed."
    #[serde(default)]
    pub record_only: bool,
}

/// The answer to opening a case.
///
/// It names no log index and no tree size: the opening is a leaf at once,
/// but published only with the next batch, and anything beyond the
/// published checkpoint would date other reporters' cases (docs/api.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseOpened {
    /// The case id.
    pub case: String,
    /// `received` (or `record-only`).
    pub state: CaseState,
    /// Day opened.
    pub opened: Day,
    /// When the handlers owe the reporter news, if they do.
    pub next_update_due: Option<Day>,
    /// The log's signed promise to publish the opening in its next batch.
    pub promise: LogPromise,
    /// Seconds, at most the checkpoint interval, until the next batch is
    /// due: from then on `GET /v1/reporter/case/receipt` gives the full
    /// receipt.
    pub receipt_after_seconds: u64,
}

/// One state in a timeline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StateEntry {
    /// The state.
    pub state: CaseState,
    /// The day it was entered.
    pub on: Day,
}

/// One message in a thread.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// Position in the thread, from 0.
    pub seq: u64,
    /// `reporter` or `desk`.
    pub direction: String,
    /// For desk messages, the author's recipient id.
    pub author: Option<String>,
    /// Day posted.
    pub on: Day,
    /// The age file.
    #[serde(with = "crate::b64")]
    pub envelope: Vec<u8>,
    /// The author's signature (base64url).
    pub signature: String,
}

/// A reader a case was shared with after it opened: `shares` in
/// [`ReporterStatus`] and [`DeskCase`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Share {
    /// The new reader.
    pub reader: RecipientInfo,
    /// The desk they read for.
    pub desk: String,
    /// Who shared: a reader's recipient id, or null for the reporter.
    pub shared_by: Option<String>,
    /// How many messages the share holds (seq 0 to upto-1).
    pub upto: u64,
    /// Day shared.
    pub on: Day,
    /// The SHA-256 of the share's envelope (base64url), which its signature
    /// covers: enough for anyone to check who shared.
    pub envelope_sha256: String,
    /// The thread so far, sealed to the new reader and the reporter: sent
    /// only to that reader, in their view of the case, since nobody else
    /// can open it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::b64::optional"
    )]
    pub envelope: Option<Vec<u8>>,
    /// The sharer's share signature (base64url).
    pub signature: String,
}

/// `POST /v1/cases/{case}/shares`: share a case's thread with one more
/// reader.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareCase {
    /// The new reader's recipient id (fingerprint digits).
    pub reader: String,
    /// The desk they read for.
    pub desk: String,
    /// The thread's length now: the share holds messages 0 to upto-1.
    pub upto: u64,
    /// The [`crate::content::SharedThread`], sealed to the new reader and
    /// the reporter.
    #[serde(with = "crate::b64")]
    pub envelope: Vec<u8>,
    /// The sharer's share signature (base64url).
    pub signature: String,
}

/// `POST /v1/reporter/case/escalate`: the reporter hands their case on to
/// readers of another desk, once the acknowledgement is late.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalate {
    /// The other desk.
    pub desk: String,
    /// One share per reader of that desk the reporter chose, each signed
    /// with the reporter's key (its `desk` must be this desk): at most
    /// [`MAX_READERS`](crate::MAX_READERS).
    #[serde(deserialize_with = "crate::bounded::readers")]
    pub shares: Vec<ShareCase>,
}

/// The answer to an escalation. It names no log entry: the `case-shared`
/// leaves are published with the next batch.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalated {
    /// The case.
    pub case: String,
    /// The desk it was escalated to.
    pub desk: String,
}

/// The answer to a share. It names no log entry: the `case-shared` leaf is
/// published with the next batch.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseShared {
    /// The case.
    pub case: String,
    /// The new reader.
    pub reader: String,
}

/// A case's erasure under the retention policy.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Erasure {
    /// The day the envelopes were erased.
    pub on: Day,
    /// The case-erased entry of the log, once a published checkpoint
    /// covers it; null before.
    pub entry: Option<u64>,
}

/// `GET /v1/reporter/case`: what the reporter sees.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReporterStatus {
    /// The case id.
    pub case: String,
    /// The desk.
    pub desk: String,
    /// Current state.
    pub state: CaseState,
    /// Day opened.
    pub opened: Day,
    /// Day of the latest event.
    pub updated: Day,
    /// When the handlers owe news, if they do.
    pub next_update_due: Option<Day>,
    /// The day the reporter must be told what was done, while the case is
    /// open.
    #[serde(default)]
    pub feedback_due: Option<Day>,
    /// Every state the case went through.
    pub timeline: Vec<StateEntry>,
    /// Readers the case was shared with after it opened, oldest first.
    #[serde(default)]
    pub shares: Vec<Share>,
    /// How many messages the thread has in all (0 once erased).
    pub message_count: u64,
    /// One page of the thread, in order: the messages after `after` (from
    /// the report, without it), as many as fit in a page. When the last
    /// one's `seq` + 1 is below `message_count`, ask for the next page.
    pub messages: Vec<Message>,
    /// Set once the case's envelopes were erased.
    pub erased: Option<Erasure>,
}

/// The query of `GET /v1/reporter/case` and `GET /v1/cases/{case}`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ThreadQuery {
    /// Only messages whose `seq` is above this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
}

/// A message to post: `POST /v1/reporter/case/messages` or
/// `POST /v1/cases/{case}/messages`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    /// The next position in the thread.
    pub seq: u64,
    /// The age file.
    #[serde(with = "crate::b64")]
    pub envelope: Vec<u8>,
    /// The author's signature over it (base64url).
    pub signature: String,
}

/// The answer to posting a message.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagePosted {
    /// The case id.
    pub case: String,
    /// The message's position.
    pub seq: u64,
}

/// `POST /v1/cases/{case}/state`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetState {
    /// The new state.
    pub state: CaseState,
    /// An optional encrypted note to the reporter and the other handlers.
    #[serde(default)]
    pub note: Option<PostMessage>,
}

/// The answer to a state change.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateChanged {
    /// The case id.
    pub case: String,
    /// The new state.
    pub state: CaseState,
    /// When the handlers next owe news, if they do.
    pub next_update_due: Option<Day>,
}

/// One case in an ombudsperson's inbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxEntry {
    /// The case id.
    pub case: String,
    /// The desk.
    pub desk: String,
    /// Current state.
    pub state: CaseState,
    /// Day opened.
    pub opened: Day,
    /// Day of the latest event.
    pub updated: Day,
    /// When the handlers owe news, if they do.
    pub next_update_due: Option<Day>,
    /// The day the reporter must be told what was done, while the case is
    /// open.
    #[serde(default)]
    pub feedback_due: Option<Day>,
    /// Messages in the thread.
    pub messages: u64,
    /// Set once the case's envelopes were erased.
    pub erased: Option<Erasure>,
}

impl InboxEntry {
    /// The earliest of what the handlers owe: the next update or the
    /// feedback.
    pub fn next_deadline(&self) -> Option<Day> {
        match (self.next_update_due, self.feedback_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// `GET /v1/inbox`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inbox {
    /// Cases addressed to the signing recipient, newest first: one page.
    pub cases: Vec<InboxEntry>,
    /// Where the next page starts (`?after=` it), or null after the last.
    #[serde(default)]
    pub next: Option<String>,
}

/// `GET /v1/cases/{case}`: what an ombudsperson sees.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskCase {
    /// The case id.
    pub case: String,
    /// The desk.
    pub desk: String,
    /// Current state.
    pub state: CaseState,
    /// Day opened.
    pub opened: Day,
    /// Day of the latest event.
    pub updated: Day,
    /// When the handlers owe news, if they do.
    pub next_update_due: Option<Day>,
    /// The day the reporter must be told what was done, while the case is
    /// open.
    #[serde(default)]
    pub feedback_due: Option<Day>,
    /// The reporter's X25519 recipient (`age1…`): replies are encrypted to it.
    pub reporter_x25519: String,
    /// The reporter's Ed25519 key (base64url): their messages are signed by it.
    pub reporter_ed25519: String,
    /// The case-opened entry of the transparency log, once a published
    /// checkpoint covers it; null before.
    pub opened_entry: Option<u64>,
    /// Who the case was addressed to.
    pub recipients: Vec<RecipientInfo>,
    /// Every state the case went through.
    pub timeline: Vec<StateEntry>,
    /// Readers the case was shared with after it opened, oldest first.
    #[serde(default)]
    pub shares: Vec<Share>,
    /// How many messages the thread has in all (0 once erased).
    pub message_count: u64,
    /// One page of the thread, as in [`ReporterStatus`].
    pub messages: Vec<Message>,
    /// Set once the case's envelopes were erased.
    pub erased: Option<Erasure>,
}

/// `GET /v1/health`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
    /// The server's version.
    pub version: String,
}

/// `GET /v1/transparency`: public figures, derived from the published log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Transparency {
    /// The log's origin.
    pub origin: String,
    /// Leaves of the published checkpoint the figures are derived from.
    pub size: u64,
    /// The acknowledgement deadline the figures use, in days, for desks
    /// without one of their own.
    pub acknowledge_days: i64,
    /// Desks with an acknowledgement deadline of their own: name → days.
    #[serde(default)]
    pub desk_acknowledge_days: std::collections::BTreeMap<String, i64>,
    /// One row per month with activity, oldest first.
    pub months: Vec<MonthFigures>,
}

/// One month of [`Transparency`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MonthFigures {
    /// `YYYY-MM`.
    pub month: String,
    /// Reports received.
    pub received: u64,
    /// Of those, acknowledged within the deadline.
    pub acknowledged_in_time: u64,
    /// Of those, acknowledged after it.
    pub acknowledged_late: u64,
    /// Cases resolved.
    pub resolved: u64,
    /// Cases kept for the record only.
    pub record_only: u64,
    /// Cases judged made in bad faith.
    pub bad_faith: u64,
}
