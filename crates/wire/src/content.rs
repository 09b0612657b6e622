//! What an envelope holds, once decrypted on a client. The server never
//! sees these values: it stores them only as age ciphertext.
//!
//! The plaintext of every envelope is this JSON, padded by
//! [`sotto_envelope::pad`]. Unknown fields are ignored on reading, so a
//! newer client's message still opens in an older one.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use sotto_envelope::pad::{pad, unpad};

/// Version of the content format.
pub const CONTENT_VERSION: u8 = 1;

/// The kinds of report a reporter can pick. Stored only inside the
/// envelope; handlers see it after decryption.
pub const CATEGORIES: [&str; 7] = [
    "harassment",
    "discrimination",
    "threats",
    "privacy",
    "staff-misconduct",
    "spam-or-fraud",
    "other",
];

/// Whether `tag` looks like a BCP 47 language tag (letters, digits and
/// dashes, starting with 2 or 3 letters).
pub fn is_language_tag(tag: &str) -> bool {
    let primary = tag.split('-').next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && tag.len() <= 35
        && tag
            .split('-')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// A decrypted envelope.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Content {
    /// The opening report (message 0), boxed: it is much larger than a note.
    Report(Box<Report>),
    /// A follow-up, reply or state-change note.
    Message(Note),
}

/// The opening report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Report {
    /// [`CONTENT_VERSION`].
    pub v: u8,
    /// The desk it was sent to.
    pub desk: String,
    /// What happened, in the reporter's words.
    pub text: String,
    /// The reporter marked it urgent (someone may be at risk).
    #[serde(default)]
    pub urgent: bool,
    /// For the record only; no action asked for.
    #[serde(default)]
    pub record_only: bool,
    /// When it happened, in the reporter's words (optional).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub when: String,
    /// Who was involved, in the reporter's words (optional).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub involved: String,
    /// What kind of report, one of [`CATEGORIES`] (optional).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub category: String,
    /// The language the reporter wrote in, a BCP 47 tag such as `es`
    /// (optional): handlers answer in it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub lang: String,
    /// Links to evidence.
    #[serde(default)]
    pub links: Vec<String>,
    /// Files attached as evidence.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// The recipient cards the reporter encrypted to. Sealed inside the
    /// report, so the reporter's client can later check every reply against
    /// the people it chose, whatever the server says.
    pub recipients: Vec<String>,
    /// The reporter's X25519 recipient (`age1…`). Sealed here so handlers
    /// encrypt replies to the key the reporter holds, not to whatever key
    /// the server's database says.
    pub reporter_x25519: String,
    /// The reporter's Ed25519 key (base64url), sealed for the same reason:
    /// handlers check the reporter's signatures against it.
    pub reporter_ed25519: String,
}

/// A message in the thread after the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Note {
    /// [`CONTENT_VERSION`].
    pub v: u8,
    /// The text.
    pub text: String,
    /// Files attached.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// What a share's envelope holds: the thread so far, as the sharer read
/// it, for a reader the case was not first sealed to. Padded like
/// [`Content`], with `"kind": "shared-thread"`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename = "shared-thread")]
pub struct SharedThread {
    /// [`CONTENT_VERSION`].
    pub v: u8,
    /// The sharer's word to the new reader: why (optional).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Messages `0..upto`, in order.
    pub messages: Vec<SharedMessage>,
}

/// One message of a [`SharedThread`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SharedMessage {
    /// Position in the thread.
    pub seq: u64,
    /// `reporter` or `desk`.
    pub direction: String,
    /// For desk messages, the author's recipient id.
    #[serde(default)]
    pub author: Option<String>,
    /// SHA-256 (hex) of the message's own envelope: the new reader checks it
    /// against the thread the server holds, and the author's signature
    /// against it.
    pub envelope_sha256: String,
    /// The author's signature over that envelope (base64url).
    pub signature: String,
    /// What it said, as the sharer decrypted it. The sharer vouches for
    /// this text; the author's signature covers the envelope, which the
    /// new reader cannot open.
    pub content: Content,
}

impl SharedThread {
    /// The padded plaintext to seal, in a buffer wiped on drop.
    pub fn to_padded(&self) -> Result<Zeroizing<Vec<u8>>, ContentError> {
        let json = Zeroizing::new(
            serde_json::to_vec(self).map_err(|_| ContentError("content does not serialize"))?,
        );
        pad(&json).map_err(|_| ContentError("the shared thread is too large"))
    }

    /// Reads a padded plaintext.
    pub fn from_padded(padded: &[u8]) -> Result<Self, ContentError> {
        let json = unpad(padded).map_err(|_| ContentError("the share is not correctly padded"))?;
        serde_json::from_slice(json)
            .map_err(|_| ContentError("the share is not a valid Sotto shared thread"))
    }

    /// Overwrites every text and attachment held here.
    pub fn wipe(&mut self) {
        use zeroize::Zeroize;
        self.note.zeroize();
        for m in &mut self.messages {
            m.content.wipe();
        }
    }
}

/// A file carried inside an envelope.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Attachment {
    /// The name the sender gave it. Untrusted: never use it as a path as is.
    pub name: String,
    /// The bytes.
    #[serde(with = "crate::b64")]
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Attachment({:?}, {} bytes)", self.name, self.data.len())
    }
}

/// A decrypted envelope that is not valid content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentError(&'static str);

impl std::error::Error for ContentError {}

impl std::fmt::Display for ContentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl Content {
    /// The padded plaintext to seal, in a buffer wiped on drop.
    pub fn to_padded(&self) -> Result<Zeroizing<Vec<u8>>, ContentError> {
        let json = Zeroizing::new(
            serde_json::to_vec(self).map_err(|_| ContentError("content does not serialize"))?,
        );
        pad(&json).map_err(|_| ContentError("content is too large"))
    }

    /// Overwrites the texts and attachments held here. For a client that
    /// has sealed the content and no longer needs its plaintext (Rust
    /// gives no guarantee for copies made before).
    pub fn wipe(&mut self) {
        use zeroize::Zeroize;
        let (text, attachments) = match self {
            Content::Report(r) => {
                r.when.zeroize();
                r.involved.zeroize();
                r.links.iter_mut().for_each(Zeroize::zeroize);
                (&mut r.text, &mut r.attachments)
            }
            Content::Message(n) => (&mut n.text, &mut n.attachments),
        };
        text.zeroize();
        for a in attachments {
            a.name.zeroize();
            a.data.zeroize();
        }
    }

    /// Reads a padded plaintext.
    pub fn from_padded(padded: &[u8]) -> Result<Self, ContentError> {
        let json =
            unpad(padded).map_err(|_| ContentError("the message is not correctly padded"))?;
        serde_json::from_slice(json)
            .map_err(|_| ContentError("the message is not valid Sotto content"))
    }

    /// The text, whichever kind.
    pub fn text(&self) -> &str {
        match self {
            Content::Report(r) => &r.text,
            Content::Message(n) => &n.text,
        }
    }

    /// The attachments, whichever kind.
    pub fn attachments(&self) -> &[Attachment] {
        match self {
            Content::Report(r) => &r.attachments,
            Content::Message(n) => &n.attachments,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipe_clears_every_text_and_attachment() {
        let mut c = Content::Message(Note {
            v: CONTENT_VERSION,
            text: "secret".into(),
            attachments: vec![Attachment {
                name: "a.png".into(),
                data: vec![1, 2, 3],
            }],
        });
        c.wipe();
        assert_eq!(c.text(), "");
        assert!(c
            .attachments()
            .iter()
            .all(|a| a.name.is_empty() && a.data.is_empty()));
    }

    #[test]
    fn a_report_round_trips_through_padding() {
        let c = Content::Report(Box::new(Report {
            v: CONTENT_VERSION,
            desk: "default".into(),
            text: "what happened".into(),
            urgent: true,
            record_only: false,
            when: String::new(),
            involved: String::new(),
            category: String::new(),
            lang: String::new(),
            links: vec!["https://example.org/post/1".into()],
            attachments: vec![Attachment {
                name: "a.png".into(),
                data: vec![0, 1, 2],
            }],
            recipients: vec!["sotto-card-v1 …".into()],
            reporter_x25519: "age1…".into(),
            reporter_ed25519: "key".into(),
        }));
        let padded = c.to_padded().unwrap();
        assert_eq!(padded.len() % 2, 0);
        assert_eq!(Content::from_padded(&padded).unwrap(), c);
    }

    #[test]
    fn unknown_fields_from_newer_clients_are_ignored() {
        let json = br#"{"kind":"message","v":1,"text":"hi","mood":"calm"}"#;
        let padded = pad(json).unwrap();
        assert_eq!(Content::from_padded(&padded).unwrap().text(), "hi");
    }

    #[test]
    fn garbage_inside_a_valid_envelope_is_a_clean_error() {
        assert!(Content::from_padded(&pad(b"not json").unwrap()).is_err());
        assert!(Content::from_padded(&pad(br#"{"kind":"other"}"#).unwrap()).is_err());
        assert!(Content::from_padded(b"no padding").is_err());
    }
}
