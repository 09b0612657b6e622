//! The report a desk reader opens: from message 0 sealed to them, or from
//! the copy in a share sealed to them (a reader the case was shared with
//! cannot open the report's own envelope). Either way it is checked under
//! the reporter key it names itself, so the server cannot forge it.

use sotto_envelope::keys::{DeskIdentity, RecipientCard};
use sotto_envelope::sign::{CaseId, Direction, VerifyingKey};
use sotto_envelope::Recipient;
use sotto_wire::api::DeskCase;
use sotto_wire::content::Content;

use super::thread::{self, ReadMessage};

/// Opens the share sealed to this reader: its envelope must be the one
/// whose hash the share's signature covers.
pub(super) fn open_share(
    me: &DeskIdentity,
    s: &sotto_wire::api::Share,
) -> Option<sotto_wire::content::SharedThread> {
    let envelope = s.envelope.as_deref()?;
    if thread::share_digest(s) != Some(sotto_envelope::sha256(envelope)) {
        return None;
    }
    let padded = zeroize::Zeroizing::new(
        sotto_envelope::decrypt(std::slice::from_ref(me.identity()), envelope).ok()?,
    );
    sotto_wire::content::SharedThread::from_padded(&padded).ok()
}

/// The report as a share carries it, checked as far as a reader who cannot
/// open the report's own envelope can: it must name the envelope the
/// server holds as message 0, and the reporter key it names must have
/// signed that envelope. (Its text is the sharer's word; the log check
/// then binds its readers and keys.)
pub(super) fn shared_report(
    id: &CaseId,
    dc: &DeskCase,
    thread: &sotto_wire::content::SharedThread,
) -> Option<Sealed> {
    let first = thread.messages.first()?;
    let m = dc.messages.first()?;
    let Content::Report(r) = &first.content else {
        return None;
    };
    let digest = sotto_envelope::sha256(&m.envelope);
    if first.seq != 0
        || first.envelope_sha256 != thread::hex(&digest)
        || first.signature != m.signature
    {
        return None;
    }
    Sealed::check((**r).clone(), id, m, &digest)
}

/// Fills the messages sealed before this reader's share from the share's
/// copy: each must name the envelope the server holds at its place, and its
/// author's signature must verify over that envelope.
pub(super) fn read_shared(
    id: &CaseId,
    dc: &DeskCase,
    thread: &sotto_wire::content::SharedThread,
    reporter_key: &VerifyingKey,
    readers: &[RecipientCard],
    by: &str,
    messages: &mut [ReadMessage],
) {
    for (i, out) in messages.iter_mut().enumerate() {
        let Some(copy) = thread.messages.get(i) else {
            break;
        };
        let m = &dc.messages[i];
        let digest = sotto_envelope::sha256(&m.envelope);
        out.vouched_by = Some(by.to_owned());
        out.content = (|| {
            if copy.seq != m.seq || copy.direction != m.direction || copy.author != m.author {
                return Err("refused: the shared copy is of another message".to_owned());
            }
            if copy.envelope_sha256 != thread::hex(&digest) || copy.signature != m.signature {
                return Err(
                    "refused: the shared copy names another envelope than the server holds"
                        .to_owned(),
                );
            }
            thread::check_author(id, m, &digest, reporter_key, readers, &mut out.author)?;
            Ok(copy.content.clone())
        })();
    }
}

/// What the reporter sealed inside their report.
pub(super) struct Sealed {
    pub(super) report: sotto_wire::content::Report,
    pub(super) recipients: Vec<RecipientCard>,
    pub(super) signing_key: VerifyingKey,
    pub(super) recipient: Recipient,
}

/// Opens message 0 and checks it under the reporter key it names itself.
/// The server cannot forge this: only the reporter could encrypt a report to
/// these recipients and sign it with the key inside it.
pub(super) fn sealed_report(
    me: &DeskIdentity,
    case: &CaseId,
    m: &sotto_wire::api::Message,
) -> Option<Sealed> {
    let padded = zeroize::Zeroizing::new(
        sotto_envelope::decrypt(std::slice::from_ref(me.identity()), &m.envelope).ok()?,
    );
    let Content::Report(r) = Content::from_padded(&padded).ok()? else {
        return None;
    };
    Sealed::check(*r, case, m, &sotto_envelope::sha256(&m.envelope))
}

impl Sealed {
    /// The report of message `m` (whose envelope hashes to `digest`), if
    /// `m` is the reporter's message 0 and the reporter key the report
    /// names signed it.
    fn check(
        report: sotto_wire::content::Report,
        case: &CaseId,
        m: &sotto_wire::api::Message,
        digest: &[u8; 32],
    ) -> Option<Self> {
        let signing_key = VerifyingKey::parse(&report.reporter_ed25519).ok()?;
        let recipient = Recipient::parse(&report.reporter_x25519).ok()?;
        let sig = sotto_envelope::sign::Signature::parse(&m.signature)?;
        if m.seq != 0 || m.direction != Direction::FromReporter.as_str() {
            return None;
        }
        signing_key
            .verify_envelope_digest(case, 0, Direction::FromReporter, digest, &sig)
            .ok()?;
        Some(Self {
            recipients: report
                .recipients
                .iter()
                .filter_map(|c| RecipientCard::parse(c).ok())
                .collect(),
            report,
            signing_key,
            recipient,
        })
    }
}
