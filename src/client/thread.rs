//! Reading a thread: check each message's place and signature, then
//! decrypt it. A message that fails a check is shown as refused with the
//! reason, never silently dropped and never shown as if it were fine.

use sotto_envelope::keys::RecipientCard;
use sotto_envelope::sign::{CaseId, Direction, Signature, VerifyingKey};
use sotto_envelope::Identity;
use sotto_wire::api::Message;
use sotto_wire::content::Content;
use sotto_wire::Day;

/// One message, checked and (if the checks passed) decrypted.
#[derive(Debug, Clone)]
pub struct ReadMessage {
    /// Position in the thread.
    pub seq: u64,
    /// Who wrote it.
    pub direction: Direction,
    /// For desk messages: the author's name from the card that verified it.
    pub author: Option<String>,
    /// Day posted.
    pub on: Day,
    /// The content, or why it is refused.
    pub content: Result<Content, String>,
    /// For a message sealed before the case was shared with this reader:
    /// the name of the reader who shared it, who vouches for its text.
    pub vouched_by: Option<String>,
}

/// Checks and decrypts every message of a run that starts at message
/// `from`. `desk_cards` are the only keys accepted on desk messages.
pub fn read(
    case: &CaseId,
    from: u64,
    messages: &[Message],
    identity: &Identity,
    reporter_key: &VerifyingKey,
    desk_cards: &[RecipientCard],
) -> Vec<ReadMessage> {
    messages
        .iter()
        .zip(from..)
        .map(|(m, seq)| read_one(case, seq, m, identity, reporter_key, desk_cards))
        .collect()
}

/// Checks a message's signature, given its envelope's SHA-256: the
/// reporter's key for the reporter's messages, and for desk messages the key
/// of its author's card, which must be among `desk_cards` (its name goes in
/// `author` once found, even if the signature then fails).
pub fn check_author(
    case: &CaseId,
    m: &Message,
    envelope_sha256: &[u8; 32],
    reporter_key: &VerifyingKey,
    desk_cards: &[RecipientCard],
    author: &mut Option<String>,
) -> Result<(), String> {
    let direction = Direction::parse(&m.direction).ok_or("refused: unknown direction")?;
    let sig = Signature::parse(&m.signature).ok_or("refused: malformed signature")?;
    let key = match direction {
        Direction::FromReporter => *reporter_key,
        Direction::FromDesk => {
            let id = m.author.as_deref().unwrap_or("");
            let card = desk_cards
                .iter()
                .find(|c| c.fingerprint().id() == id)
                .ok_or("refused: signed by a key that is not one of this case's recipients")?;
            *author = Some(card.name.to_string());
            card.verifying_key
        }
    };
    key.verify_envelope_digest(case, m.seq, direction, envelope_sha256, &sig)
        .map_err(|_| "refused: the signature does not verify (altered or forged)".to_owned())
}

fn read_one(
    case: &CaseId,
    expected_seq: u64,
    m: &Message,
    identity: &Identity,
    reporter_key: &VerifyingKey,
    desk_cards: &[RecipientCard],
) -> ReadMessage {
    let direction = Direction::parse(&m.direction).unwrap_or(Direction::FromDesk);
    let mut out = ReadMessage {
        seq: m.seq,
        direction,
        author: None,
        on: m.on,
        content: Err(String::new()),
        vouched_by: None,
    };
    out.content = (|| {
        if Direction::parse(&m.direction).is_none() {
            return Err("refused: unknown direction".to_owned());
        }
        if m.seq != expected_seq {
            return Err(format!(
                "refused: the server gave this message as number {} where number {expected_seq} belongs (missing, replayed or reordered)",
                m.seq
            ));
        }
        check_author(
            case,
            m,
            &sotto_envelope::sha256(&m.envelope),
            reporter_key,
            desk_cards,
            &mut out.author,
        )?;
        let padded = zeroize::Zeroizing::new(
            sotto_envelope::decrypt(std::slice::from_ref(identity), &m.envelope)
                .map_err(|e| format!("cannot decrypt: {e}"))?,
        );
        Content::from_padded(&padded).map_err(|e| format!("cannot read: {e}"))
    })();
    out
}

/// A reader a case was shared with, whose share checks out.
#[derive(Debug, Clone)]
pub struct SharedReader {
    /// Their card.
    pub card: RecipientCard,
    /// The desk they read for.
    pub desk: String,
    /// Who shared: a reader's name, or `None` for the reporter.
    pub by: Option<String>,
    /// Day shared.
    pub on: sotto_wire::Day,
}

/// The shares whose signature verifies under the reporter's key or a
/// reader trusted before them (those the reporter chose, then earlier
/// shares), in order. Any other is named in a warning and ignored.
pub fn trusted_shares(
    id: &CaseId,
    shares: &[sotto_wire::api::Share],
    chosen: &[RecipientCard],
    reporter_key: &VerifyingKey,
    warnings: &mut Vec<String>,
) -> Vec<SharedReader> {
    let mut trusted: Vec<RecipientCard> = chosen.to_vec();
    let mut out = Vec::new();
    for s in shares {
        let card = match RecipientCard::parse(&s.reader.card) {
            Ok(c) if c.fingerprint().id() == s.reader.id => c,
            _ => {
                warnings.push(format!("a share names a malformed card ({})", s.reader.id));
                continue;
            }
        };
        let sig = sotto_envelope::sign::Signature::parse(&s.signature);
        let by = match (&s.shared_by, sig, share_digest(s)) {
            (None, Some(sig), Some(digest)) => reporter_key
                .verify_share_digest(id, &s.reader.id, s.upto, &digest, &sig)
                .ok()
                .map(|()| None),
            (Some(by), Some(sig), Some(digest)) => trusted
                .iter()
                .find(|c| c.fingerprint().id() == *by)
                .filter(|c| {
                    c.verifying_key
                        .verify_share_digest(id, &s.reader.id, s.upto, &digest, &sig)
                        .is_ok()
                })
                .map(|c| Some(c.name.to_string())),
            _ => None,
        };
        match by {
            Some(by) => {
                trusted.push(card.clone());
                out.push(SharedReader {
                    card,
                    desk: s.desk.clone(),
                    by,
                    on: s.on,
                });
            }
            None => warnings.push(format!(
                "the server says the case was shared with {} ({}), but no reader of the case signed that share: ignored",
                card.name,
                card.fingerprint()
            )),
        }
    }
    out
}

/// The envelope hash a share names (`None` if malformed).
pub fn share_digest(s: &sotto_wire::api::Share) -> Option<[u8; 32]> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&s.envelope_sha256)
        .ok()?
        .try_into()
        .ok()
}

/// Lowercase hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The thread so far as a share carries it, padded and ready to seal, with
/// how many messages it holds: each message as `read` here, with its own
/// envelope's hash and its author's signature. Every message must have been
/// read; without `with_attachments` the files are left out (their names
/// stay, marked). The plaintext copies are wiped once padded.
pub fn shared_thread(
    messages: &[Message],
    read: &[ReadMessage],
    note: &str,
    with_attachments: bool,
) -> Result<(zeroize::Zeroizing<Vec<u8>>, u64), crate::client::ClientError> {
    let mut out = Vec::new();
    for (m, r) in messages.iter().zip(read) {
        let mut content = r.content.clone().map_err(|why| {
            crate::client::ClientError::Crypto(format!(
                "cannot share: message {} of the thread cannot be read here ({why}), so the copy would be incomplete",
                m.seq
            ))
        })?;
        if !with_attachments {
            strip_attachments(&mut content);
        }
        out.push(sotto_wire::content::SharedMessage {
            seq: m.seq,
            direction: m.direction.clone(),
            author: m.author.clone(),
            envelope_sha256: hex(&sotto_envelope::sha256(&m.envelope)),
            signature: m.signature.clone(),
            content,
        });
    }
    let upto = out.len() as u64;
    let mut thread = sotto_wire::content::SharedThread {
        v: sotto_wire::content::CONTENT_VERSION,
        note: note.to_owned(),
        messages: out,
    };
    let padded = thread.to_padded();
    thread.wipe();
    let padded = padded.map_err(|e| crate::client::ClientError::Usage(e.to_string()))?;
    Ok((padded, upto))
}

/// Keeps each attachment's name, and says the file was left out.
fn strip_attachments(content: &mut Content) {
    let list = match content {
        Content::Report(r) => &mut r.attachments,
        Content::Message(n) => &mut n.attachments,
    };
    for a in list.iter_mut() {
        use zeroize::Zeroize;
        a.data.zeroize();
        a.data = Vec::new();
        a.name = format!("{} (left out of the share)", a.name);
    }
}
