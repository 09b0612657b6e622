//! Sotto's log leaves: one per case event, holding only hashes, the event
//! kind and a UTC day.
//!
//! ```text
//! leaf = "sotto/v1/log/leaf" ‖ 0x00 ‖ kind (1 byte) ‖ day ("YYYY-MM-DD", 10 bytes) ‖ fields
//! ```
//!
//! | kind | byte | fields (32 bytes each unless noted) |
//! |---|---|---|
//! | desk-created | 0x01 | desk |
//! | recipient-added | 0x02 | desk, recipient |
//! | recipient-removed | 0x03 | desk, recipient |
//! | case-opened | 0x04 | desk, case, report, readers, reporter |
//! | message-posted | 0x05 | case, message |
//! | state-changed | 0x06 | case, state (1 byte) |
//! | case-shared | 0x07 | case, recipient |
//! | case-erased | 0x08 | case |
//!
//! Each field is a labelled SHA-256 commitment (see the functions below), so
//! the public log shows which events belong to one case and when, but no
//! case id, no name, no key and no ciphertext. docs/transparency.md has the
//! same table.

use sotto_envelope::labels::{
    LOG_CASE, LOG_DESK, LOG_LEAF, LOG_MESSAGE, LOG_READERS, LOG_RECIPIENT, LOG_REPORTER,
};
use sotto_envelope::sign::Direction;
use sotto_wire::{CaseState, Day};

use crate::merkle::Hash;

fn commit(label: &[u8], parts: &[&[u8]]) -> Hash {
    let mut data =
        Vec::with_capacity(label.len() + 1 + parts.iter().map(|p| p.len()).sum::<usize>());
    data.extend_from_slice(label);
    data.push(0);
    for p in parts {
        data.extend_from_slice(p);
    }
    sotto_envelope::sha256(&data)
}

/// `SHA-256("sotto/v1/log/desk" ‖ 0x00 ‖ name)`.
pub fn desk_commitment(name: &str) -> Hash {
    commit(LOG_DESK, &[name.as_bytes()])
}

/// `SHA-256("sotto/v1/log/recipient" ‖ 0x00 ‖ recipient id)`: the id is the
/// 25 fingerprint digits, a hash of the card's two public keys.
pub fn recipient_commitment(recipient_id: &str) -> Hash {
    commit(LOG_RECIPIENT, &[recipient_id.as_bytes()])
}

/// `SHA-256("sotto/v1/log/case" ‖ 0x00 ‖ case id)`.
pub fn case_commitment(case: &[u8; 16]) -> Hash {
    commit(LOG_CASE, &[case])
}

/// `SHA-256("sotto/v1/log/message" ‖ 0x00 ‖ case id ‖ seq (u64 BE) ‖
/// direction (0x01 reporter, 0x02 desk) ‖ SHA-256(envelope))`: the same
/// facts an envelope signature covers.
pub fn message_commitment(
    case: &[u8; 16],
    seq: u64,
    direction: Direction,
    envelope_hash: &[u8; 32],
) -> Hash {
    let dir = [match direction {
        Direction::FromReporter => 1u8,
        Direction::FromDesk => 2u8,
    }];
    commit(
        LOG_MESSAGE,
        &[case, &seq.to_be_bytes(), &dir, envelope_hash],
    )
}

/// `SHA-256("sotto/v1/log/readers" ‖ 0x00 ‖ count (u32 BE) ‖ ids)`, the
/// recipient ids sorted and each 25 ASCII digits: who a case was encrypted
/// to (besides the reporter).
pub fn readers_commitment(recipient_ids: &[String]) -> Hash {
    let mut ids: Vec<&str> = recipient_ids.iter().map(String::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    let count = u32::try_from(ids.len()).unwrap_or(u32::MAX).to_be_bytes();
    let mut parts: Vec<&[u8]> = vec![&count];
    parts.extend(ids.iter().map(|s| s.as_bytes()));
    commit(LOG_READERS, &parts)
}

/// `SHA-256("sotto/v1/log/reporter" ‖ 0x00 ‖ age1… recipient (ASCII) ‖
/// Ed25519 public key (32))`: the reporter's keys of one case.
pub fn reporter_commitment(x25519: &str, ed25519: &[u8; 32]) -> Hash {
    commit(LOG_REPORTER, &[x25519.as_bytes(), ed25519])
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A desk was created.
    DeskCreated {
        /// [`desk_commitment`].
        desk: Hash,
    },
    /// A recipient was registered on a desk.
    RecipientAdded {
        /// [`desk_commitment`].
        desk: Hash,
        /// [`recipient_commitment`].
        recipient: Hash,
    },
    /// A recipient was taken off a desk.
    RecipientRemoved {
        /// [`desk_commitment`].
        desk: Hash,
        /// [`recipient_commitment`].
        recipient: Hash,
    },
    /// A case was opened.
    CaseOpened {
        /// [`desk_commitment`].
        desk: Hash,
        /// [`case_commitment`].
        case: Hash,
        /// [`message_commitment`] of the report (message 0).
        report: Hash,
        /// [`readers_commitment`].
        readers: Hash,
        /// [`reporter_commitment`].
        reporter: Hash,
    },
    /// A message was posted to a case.
    MessagePosted {
        /// [`case_commitment`].
        case: Hash,
        /// [`message_commitment`].
        message: Hash,
    },
    /// A case entered a state.
    StateChanged {
        /// [`case_commitment`].
        case: Hash,
        /// The new state.
        state: CaseState,
    },
    /// A case was re-encrypted to one more recipient (an escalation).
    CaseShared {
        /// [`case_commitment`].
        case: Hash,
        /// [`recipient_commitment`].
        recipient: Hash,
    },
    /// A case's envelopes were erased under the retention policy.
    CaseErased {
        /// [`case_commitment`].
        case: Hash,
    },
}

/// The kinds of event, with their names in the database and the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `desk-created`.
    DeskCreated,
    /// `recipient-added`.
    RecipientAdded,
    /// `recipient-removed`.
    RecipientRemoved,
    /// `case-opened`.
    CaseOpened,
    /// `message-posted`.
    MessagePosted,
    /// `state-changed`.
    StateChanged,
    /// `case-shared`.
    CaseShared,
    /// `case-erased`.
    CaseErased,
}

impl Kind {
    /// Every kind, in byte order.
    pub const ALL: [Kind; 8] = [
        Kind::DeskCreated,
        Kind::RecipientAdded,
        Kind::RecipientRemoved,
        Kind::CaseOpened,
        Kind::MessagePosted,
        Kind::StateChanged,
        Kind::CaseShared,
        Kind::CaseErased,
    ];

    /// The name used in the database and the docs.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DeskCreated => "desk-created",
            Kind::RecipientAdded => "recipient-added",
            Kind::RecipientRemoved => "recipient-removed",
            Kind::CaseOpened => "case-opened",
            Kind::MessagePosted => "message-posted",
            Kind::StateChanged => "state-changed",
            Kind::CaseShared => "case-shared",
            Kind::CaseErased => "case-erased",
        }
    }

    /// Parses [`Kind::as_str`]'s output.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn byte(self) -> u8 {
        match self {
            Kind::DeskCreated => 0x01,
            Kind::RecipientAdded => 0x02,
            Kind::RecipientRemoved => 0x03,
            Kind::CaseOpened => 0x04,
            Kind::MessagePosted => 0x05,
            Kind::StateChanged => 0x06,
            Kind::CaseShared => 0x07,
            Kind::CaseErased => 0x08,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.byte() == b)
    }
}

impl Event {
    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Event::DeskCreated { .. } => Kind::DeskCreated,
            Event::RecipientAdded { .. } => Kind::RecipientAdded,
            Event::RecipientRemoved { .. } => Kind::RecipientRemoved,
            Event::CaseOpened { .. } => Kind::CaseOpened,
            Event::MessagePosted { .. } => Kind::MessagePosted,
            Event::StateChanged { .. } => Kind::StateChanged,
            Event::CaseShared { .. } => Kind::CaseShared,
            Event::CaseErased { .. } => Kind::CaseErased,
        }
    }

    /// The case it concerns, if any.
    pub fn case(&self) -> Option<&Hash> {
        match self {
            Event::CaseOpened { case, .. }
            | Event::MessagePosted { case, .. }
            | Event::StateChanged { case, .. }
            | Event::CaseShared { case, .. }
            | Event::CaseErased { case } => Some(case),
            _ => None,
        }
    }
}

fn state_byte(s: CaseState) -> u8 {
    match s {
        CaseState::Received => 1,
        CaseState::Acknowledged => 2,
        CaseState::InReview => 3,
        CaseState::NeedsInfo => 4,
        CaseState::Resolved => 5,
        CaseState::Closed => 6,
        CaseState::RecordOnly => 7,
        CaseState::BadFaith => 8,
    }
}

fn state_from_byte(b: u8) -> Option<CaseState> {
    CaseState::ALL.into_iter().find(|s| state_byte(*s) == b)
}

/// One leaf: an event on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// The UTC day it happened.
    pub day: Day,
    /// What happened.
    pub event: Event,
}

/// Length of the fixed prefix: label, 0x00, kind, day.
const HEAD: usize = 17 + 1 + 1 + 10;

impl Leaf {
    /// The leaf's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEAD + 5 * 32);
        out.extend_from_slice(LOG_LEAF);
        out.push(0);
        out.push(self.event.kind().byte());
        out.extend_from_slice(self.day.to_string().as_bytes());
        let mut put = |h: &Hash| out.extend_from_slice(h);
        match &self.event {
            Event::DeskCreated { desk } => put(desk),
            Event::RecipientAdded { desk, recipient }
            | Event::RecipientRemoved { desk, recipient } => {
                put(desk);
                put(recipient);
            }
            Event::CaseOpened {
                desk,
                case,
                report,
                readers,
                reporter,
            } => {
                for h in [desk, case, report, readers, reporter] {
                    put(h);
                }
            }
            Event::MessagePosted { case, message } => {
                put(case);
                put(message);
            }
            Event::StateChanged { case, state } => {
                put(case);
                out.push(state_byte(*state));
            }
            Event::CaseShared { case, recipient } => {
                put(case);
                put(recipient);
            }
            Event::CaseErased { case } => put(case),
        }
        out
    }

    /// Parses a leaf strictly: the label, a known kind, a real day, and
    /// exactly the fields of that kind.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let rest = bytes.strip_prefix(LOG_LEAF)?.strip_prefix(&[0])?;
        let (&kind, rest) = rest.split_first()?;
        let kind = Kind::from_byte(kind)?;
        let (day, mut rest) = rest.split_at_checked(10)?;
        let day = Day::parse(std::str::from_utf8(day).ok()?)?;
        let mut hash = || -> Option<Hash> {
            let (h, r) = rest.split_first_chunk::<32>()?;
            rest = r;
            Some(*h)
        };
        let event = match kind {
            Kind::DeskCreated => Event::DeskCreated { desk: hash()? },
            Kind::RecipientAdded => Event::RecipientAdded {
                desk: hash()?,
                recipient: hash()?,
            },
            Kind::RecipientRemoved => Event::RecipientRemoved {
                desk: hash()?,
                recipient: hash()?,
            },
            Kind::CaseOpened => Event::CaseOpened {
                desk: hash()?,
                case: hash()?,
                report: hash()?,
                readers: hash()?,
                reporter: hash()?,
            },
            Kind::MessagePosted => Event::MessagePosted {
                case: hash()?,
                message: hash()?,
            },
            Kind::StateChanged => {
                let case = hash()?;
                let (&s, r) = rest.split_first()?;
                rest = r;
                Event::StateChanged {
                    case,
                    state: state_from_byte(s)?,
                }
            }
            Kind::CaseShared => Event::CaseShared {
                case: hash()?,
                recipient: hash()?,
            },
            Kind::CaseErased => Event::CaseErased { case: hash()? },
        };
        rest.is_empty().then_some(Self { day, event })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> Day {
        Day::parse("2026-11-22").unwrap()
    }

    fn every_kind() -> Vec<Event> {
        let h = |b: u8| [b; 32];
        vec![
            Event::DeskCreated { desk: h(1) },
            Event::RecipientAdded {
                desk: h(1),
                recipient: h(2),
            },
            Event::RecipientRemoved {
                desk: h(1),
                recipient: h(2),
            },
            Event::CaseOpened {
                desk: h(1),
                case: h(3),
                report: h(4),
                readers: h(5),
                reporter: h(6),
            },
            Event::MessagePosted {
                case: h(3),
                message: h(7),
            },
            Event::StateChanged {
                case: h(3),
                state: CaseState::BadFaith,
            },
            Event::CaseShared {
                case: h(3),
                recipient: h(2),
            },
            Event::CaseErased { case: h(3) },
        ]
    }

    #[test]
    fn every_kind_round_trips_and_starts_with_the_label() {
        for event in every_kind() {
            let leaf = Leaf { day: day(), event };
            let bytes = leaf.encode();
            assert!(bytes.starts_with(b"sotto/v1/log/leaf\0"));
            assert_eq!(&bytes[19..29], b"2026-11-22");
            assert_eq!(Leaf::decode(&bytes), Some(leaf));
        }
    }

    #[test]
    fn every_state_has_its_own_byte() {
        let mut seen = std::collections::HashSet::new();
        for s in CaseState::ALL {
            assert!(seen.insert(state_byte(s)));
            assert_eq!(state_from_byte(state_byte(s)), Some(s));
        }
    }

    #[test]
    fn a_truncated_padded_or_unknown_leaf_is_refused() {
        for event in every_kind() {
            let bytes = Leaf { day: day(), event }.encode();
            for cut in 0..bytes.len() {
                assert_eq!(Leaf::decode(&bytes[..cut]), None, "cut at {cut}");
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert_eq!(Leaf::decode(&longer), None);
        }
        let mut bad_kind = Leaf {
            day: day(),
            event: Event::CaseErased { case: [0; 32] },
        }
        .encode();
        bad_kind[18] = 0x09;
        assert_eq!(Leaf::decode(&bad_kind), None);
        let mut bad_day = Leaf {
            day: day(),
            event: Event::CaseErased { case: [0; 32] },
        }
        .encode();
        bad_day[19..29].copy_from_slice(b"2026-02-30");
        assert_eq!(Leaf::decode(&bad_day), None);
        let mut bad_state = Leaf {
            day: day(),
            event: Event::StateChanged {
                case: [0; 32],
                state: CaseState::Received,
            },
        }
        .encode();
        let last = bad_state.len() - 1;
        bad_state[last] = 0;
        assert_eq!(Leaf::decode(&bad_state), None);
    }

    #[test]
    fn commitments_are_separated_by_label_and_order_free_for_readers() {
        assert_ne!(desk_commitment("a"), recipient_commitment("a"));
        let a = readers_commitment(&["2".into(), "1".into()]);
        let b = readers_commitment(&["1".into(), "2".into()]);
        assert_eq!(a, b);
        assert_ne!(a, readers_commitment(&["1".into()]));
        let m = message_commitment(&[1; 16], 0, Direction::FromReporter, &[2; 32]);
        assert_ne!(
            m,
            message_commitment(&[1; 16], 0, Direction::FromDesk, &[2; 32])
        );
        assert_ne!(
            m,
            message_commitment(&[1; 16], 1, Direction::FromReporter, &[2; 32])
        );
    }
}
