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
}

/// Checks and decrypts every message. `desk_cards` are the only keys
/// accepted on desk messages.
pub fn read(
    case: &CaseId,
    messages: &[Message],
    identity: &Identity,
    reporter_key: &VerifyingKey,
    desk_cards: &[RecipientCard],
) -> Vec<ReadMessage> {
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| read_one(case, i as u64, m, identity, reporter_key, desk_cards))
        .collect()
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
        let sig = Signature::parse(&m.signature).ok_or("refused: malformed signature")?;
        let key = match direction {
            Direction::FromReporter => *reporter_key,
            Direction::FromDesk => {
                let author = m.author.as_deref().unwrap_or("");
                let card = desk_cards
                    .iter()
                    .find(|c| c.fingerprint().id() == author)
                    .ok_or("refused: signed by a key that is not one of this case's recipients")?;
                out.author = Some(card.name.to_string());
                card.verifying_key
            }
        };
        key.verify_envelope(case, m.seq, direction, &m.envelope, &sig)
            .map_err(|_| "refused: the signature does not verify (altered or forged)".to_owned())?;
        let padded = zeroize::Zeroizing::new(
            sotto_envelope::decrypt(std::slice::from_ref(identity), &m.envelope)
                .map_err(|e| format!("cannot decrypt: {e}"))?,
        );
        Content::from_padded(&padded).map_err(|e| format!("cannot read: {e}"))
    })();
    out
}
