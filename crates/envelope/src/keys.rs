//! An ombudsperson's keys: the identity file, the signing key derived from
//! it, and the public recipient card.
//!
//! One secret to back up: the identity file is a standard age identity file
//! (`AGE-SECRET-KEY-1…`, which `age -d -i`, `rage` and pyrage read), and the
//! Ed25519 seed is `HKDF-SHA256(ikm = X25519 secret, salt = "", info =
//! "sotto/v1/recipient/ed25519")`.
//!
//! The recipient card is one line anyone can publish:
//! `sotto-card-v1 age1… ed25519:<base64url> Display Name`.
//! Its fingerprint, `SHA-256("sotto/v1/recipient/fingerprint" ‖ X25519
//! public ‖ Ed25519 public)`, is shown as five groups of five digits that
//! people can compare by voice (83 bits); the same 25 digits without spaces
//! are the recipient's id in the API.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::KeyError;
use crate::labels::{FINGERPRINT, RECIPIENT_ED25519};
use crate::primitives::{hkdf_sha256, sha256};
use crate::sign::{SigningKey, VerifyingKey};
use crate::x25519::{Identity, Recipient};

const CARD_TAG: &str = "sotto-card-v1";
const ED25519_PREFIX: &str = "ed25519:";
const NAME_COMMENT: &str = "# sotto-name: ";
/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// A checked display name: 1 to 64 characters, no control characters, no
/// leading or trailing space.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DisplayName(String);

impl DisplayName {
    /// Checks a name.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let count = s.chars().count();
        if count == 0
            || count > MAX_NAME_CHARS
            || s.trim() != s
            || s.chars().any(|c| c.is_control())
        {
            return Err(KeyError::InvalidName);
        }
        Ok(Self(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// An ombudsperson's secret: an age identity and, derived from it, the
/// Ed25519 signing key.
#[derive(Clone)]
pub struct DeskIdentity {
    name: DisplayName,
    identity: Identity,
}

impl DeskIdentity {
    /// A fresh identity from the operating system's RNG.
    pub fn generate(name: DisplayName) -> Self {
        Self {
            name,
            identity: Identity::generate(),
        }
    }

    /// The age identity that opens envelopes.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The display name.
    pub fn name(&self) -> &DisplayName {
        &self.name
    }

    /// The Ed25519 key, derived from the age identity.
    pub fn signing_key(&self) -> SigningKey {
        let secret = self.identity.secret_bytes();
        let mut seed = Zeroizing::new([0u8; 32]);
        hkdf_sha256(secret.as_ref(), &[], RECIPIENT_ED25519, seed.as_mut());
        SigningKey::from_seed(seed)
    }

    /// The public card.
    pub fn card(&self) -> RecipientCard {
        RecipientCard {
            name: self.name.clone(),
            recipient: self.identity.recipient(),
            verifying_key: self.signing_key().verifying_key(),
        }
    }

    /// The identity file: comments (name, card) and one `AGE-SECRET-KEY-1…`
    /// line, the layout `age-keygen` writes, so age tools read it as is.
    pub fn to_file(&self) -> Zeroizing<String> {
        let card = self.card();
        let mut s = Zeroizing::new(String::new());
        s.push_str("# Sotto desk identity: keep this file secret and backed up.\n");
        s.push_str("# It opens every report addressed to this key; age -d -i reads it.\n");
        s.push_str(NAME_COMMENT);
        s.push_str(self.name.as_str());
        s.push('\n');
        s.push_str("# recipient card: ");
        s.push_str(&card.to_string());
        s.push('\n');
        s.push_str("# fingerprint: ");
        s.push_str(&card.fingerprint().to_string());
        s.push('\n');
        s.push_str(&self.identity.to_encoded());
        s.push('\n');
        s
    }

    /// Reads an identity file. The name comes from the `# sotto-name:` comment;
    /// a plain `age-keygen` file has none, so `fallback_name` is used.
    pub fn from_file(contents: &str, fallback_name: Option<&str>) -> Result<Self, KeyError> {
        let mut identity = None;
        let mut name = None;
        for line in contents.lines() {
            let line = line.trim_end_matches('\r');
            if let Some(n) = line.strip_prefix(NAME_COMMENT) {
                name = Some(DisplayName::parse(n.trim())?);
            } else if line.starts_with('#') || line.trim().is_empty() {
                continue;
            } else if identity.is_some() {
                return Err(KeyError::InvalidIdentityFile);
            } else {
                identity = Some(Identity::parse(line.trim())?);
            }
        }
        let identity = identity.ok_or(KeyError::InvalidIdentityFile)?;
        let name = match (name, fallback_name) {
            (Some(n), _) => n,
            (None, Some(f)) => DisplayName::parse(f)?,
            (None, None) => DisplayName::parse("unnamed")?,
        };
        Ok(Self { name, identity })
    }
}

impl fmt::Debug for DeskIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeskIdentity({:?}, [redacted])", self.name)
    }
}

/// A recipient's public card: name, age recipient, Ed25519 key.
#[derive(Clone, PartialEq, Eq)]
pub struct RecipientCard {
    /// Who this is, as they chose to be called.
    pub name: DisplayName,
    /// Where envelopes for them are encrypted to.
    pub recipient: Recipient,
    /// What their replies and requests are signed with.
    pub verifying_key: VerifyingKey,
}

impl RecipientCard {
    /// Parses one card line.
    pub fn parse(line: &str) -> Result<Self, KeyError> {
        let line = line.trim();
        let mut parts = line.splitn(4, ' ');
        let (Some(tag), Some(age), Some(ed), Some(name)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(KeyError::InvalidCard);
        };
        if tag != CARD_TAG {
            return Err(KeyError::InvalidCard);
        }
        let recipient = Recipient::parse(age)?;
        let verifying_key = VerifyingKey::parse(
            ed.strip_prefix(ED25519_PREFIX)
                .ok_or(KeyError::InvalidCard)?,
        )?;
        Ok(Self {
            name: DisplayName::parse(name)?,
            recipient,
            verifying_key,
        })
    }

    /// The fingerprint people compare.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut data = Vec::with_capacity(FINGERPRINT.len() + 64);
        data.extend_from_slice(FINGERPRINT);
        data.extend_from_slice(&self.recipient.to_bytes());
        data.extend_from_slice(&self.verifying_key.0);
        Fingerprint(sha256(&data))
    }
}

impl fmt::Display for RecipientCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{CARD_TAG} {} {ED25519_PREFIX}{} {}",
            self.recipient, self.verifying_key, self.name
        )
    }
}

impl fmt::Debug for RecipientCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecipientCard({self})")
    }
}

/// A card's fingerprint.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    fn groups(&self) -> [u64; 5] {
        let mut out = [0u64; 5];
        for (i, chunk) in self.0.chunks_exact(5).take(5).enumerate() {
            let v = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            out[i] = v % 100_000;
        }
        out
    }

    /// The 25 digits without spaces: the recipient id in the API.
    pub fn id(&self) -> String {
        self.groups().iter().map(|g| format!("{g:05}")).collect()
    }

    /// Whether `typed` names this fingerprint, ignoring spaces and dashes.
    pub fn matches(&self, typed: &str) -> bool {
        let compact: String = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        compact == self.id()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = self.groups();
        write!(
            f,
            "{:05} {:05} {:05} {:05} {:05}",
            g[0], g[1], g[2], g[3], g[4]
        )
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> DeskIdentity {
        DeskIdentity::generate(DisplayName::parse("Alice Ombud").unwrap())
    }

    #[test]
    fn a_card_round_trips_through_its_line() {
        let card = alice().card();
        let line = card.to_string();
        assert!(line.starts_with("sotto-card-v1 age1"));
        assert!(line.ends_with(" Alice Ombud"));
        assert!(!line.contains('\n'));
        assert_eq!(RecipientCard::parse(&line).unwrap(), card);
    }

    #[test]
    fn the_identity_file_reads_back_with_its_name_and_keys() {
        let id = alice();
        let file = id.to_file();
        let back = DeskIdentity::from_file(&file, None).unwrap();
        assert_eq!(back.card(), id.card());
        assert_eq!(back.name().as_str(), "Alice Ombud");
    }

    #[test]
    fn a_plain_age_keygen_file_works_with_a_name_given() {
        let id = alice();
        let plain = format!(
            "# created: 2026-01-01T00:00:00Z\n# public key: {}\n{}\n",
            id.identity().recipient(),
            id.identity().to_encoded().as_str()
        );
        let back = DeskIdentity::from_file(&plain, Some("Bob")).unwrap();
        assert_eq!(back.identity().recipient(), id.identity().recipient());
        assert_eq!(back.name().as_str(), "Bob");
    }

    #[test]
    fn an_identity_file_with_two_keys_or_none_is_refused() {
        let a = alice().identity().to_encoded();
        let b = alice().identity().to_encoded();
        let two = format!("{}\n{}\n", a.as_str(), b.as_str());
        assert_eq!(
            DeskIdentity::from_file(&two, None).unwrap_err(),
            KeyError::InvalidIdentityFile
        );
        assert_eq!(
            DeskIdentity::from_file("# nothing\n", None).unwrap_err(),
            KeyError::InvalidIdentityFile
        );
    }

    #[test]
    fn the_signing_key_is_bound_to_the_age_identity() {
        let a = alice();
        let again = DeskIdentity::from_file(&a.to_file(), None).unwrap();
        assert_eq!(
            a.signing_key().verifying_key(),
            again.signing_key().verifying_key()
        );
        assert_ne!(
            a.signing_key().verifying_key(),
            alice().signing_key().verifying_key()
        );
    }

    #[test]
    fn fingerprints_are_five_groups_of_five_digits_and_match_loosely() {
        let card = alice().card();
        let fp = card.fingerprint();
        let shown = fp.to_string();
        assert_eq!(shown.len(), 29);
        assert!(shown
            .split(' ')
            .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit())));
        assert!(fp.matches(&shown));
        assert!(fp.matches(&shown.replace(' ', "-")));
        assert!(fp.matches(&fp.id()));
        assert!(!fp.matches(&alice().card().fingerprint().id()));
    }

    #[test]
    fn malformed_cards_are_refused() {
        let line = alice().card().to_string();
        let bad = [
            String::new(),
            line.replacen("sotto-card-v1", "sotto-card-v2", 1),
            line.replacen("ed25519:", "ed448:", 1),
            line.replacen(" Alice Ombud", "", 1),
            line.replacen("Alice Ombud", "Alice\u{7}", 1),
            format!("{line}{}", "x".repeat(MAX_NAME_CHARS)),
            line.replacen("age1", "age2", 1),
        ];
        for b in bad {
            assert!(RecipientCard::parse(&b).is_err(), "accepted {b:?}");
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(DisplayName::parse("Independent Ombudsperson").is_ok());
        assert!(DisplayName::parse("Zoë – équipe").is_ok());
        for bad in ["", " lead", "trail ", "new\nline", &"x".repeat(65)] {
            assert!(DisplayName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
