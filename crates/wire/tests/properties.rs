//! Property tests of the JSON bodies: what the server parses from any
//! client (`serde_json::from_slice`, as its `parse_json` does), what the
//! clients parse from any server, and what a decrypted envelope holds.
//!
//! What they protect: a request body is the first thing an attacker
//! controls, so no bytes and no JSON value may make a body type panic (a
//! 500 instead of a 400), and a parsed value must serialize and parse back
//! to itself, so what the server stores or forwards means what it read.
//!
//! Each property runs the number of cases given to [`config`];
//! `PROPTEST_CASES=100000 cargo test -p sotto-wire --test properties` runs
//! that many instead.

#![allow(clippy::unwrap_used)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use proptest::prelude::*;
use proptest::sample::Index;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

use sotto_envelope::pad::pad;
use sotto_wire::api::*;
use sotto_wire::content::{Content, SharedThread};
use sotto_wire::resources::Directory;
use sotto_wire::CaseState;

/// `cases` cases, unless `PROPTEST_CASES` asks for another number.
fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config
}

/// Parses `bytes` as a `T` the way the server does; if that works, the
/// value serializes, and its JSON parses back to a value with the same
/// JSON. Returns whether `bytes` parsed.
fn round_trips<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<T>(bytes) else {
        return false;
    };
    let json = serde_json::to_vec(&value).expect("a parsed value serializes");
    let again: T = serde_json::from_slice(&json).expect("its JSON parses back");
    assert_eq!(
        serde_json::to_vec(&again).expect("and serializes again"),
        json,
        "{} does not round-trip",
        std::any::type_name::<T>()
    );
    true
}

/// [`round_trips`], and the value read back is equal to the first.
fn round_trips_eq<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    bytes: &[u8],
) -> bool {
    let Ok(value) = serde_json::from_slice::<T>(bytes) else {
        return false;
    };
    let json = serde_json::to_vec(&value).expect("a parsed value serializes");
    assert_eq!(serde_json::from_slice::<T>(&json).ok(), Some(value));
    round_trips::<T>(bytes)
}

/// Feeds `bytes` to every body type; returns how many parsed it.
fn every_type(bytes: &[u8]) -> usize {
    [
        // Requests: what the server reads from anyone.
        round_trips::<OpenCase>(bytes),
        round_trips::<PostMessage>(bytes),
        round_trips::<SetState>(bytes),
        round_trips::<ShareCase>(bytes),
        round_trips::<Escalate>(bytes),
        // Responses: what a client reads from a server.
        round_trips_eq::<ErrorBody>(bytes),
        round_trips::<DeskList>(bytes),
        round_trips::<DeskInfo>(bytes),
        round_trips::<ChallengeResponse>(bytes),
        round_trips::<CaseOpened>(bytes),
        round_trips_eq::<Receipt>(bytes),
        round_trips::<LogInfo>(bytes),
        round_trips::<InclusionProof>(bytes),
        round_trips::<ConsistencyProof>(bytes),
        round_trips::<LogFrontier>(bytes),
        round_trips_eq::<Share>(bytes),
        round_trips::<Escalated>(bytes),
        round_trips::<CaseShared>(bytes),
        round_trips::<ReporterStatus>(bytes),
        round_trips::<MessagePosted>(bytes),
        round_trips::<StateChanged>(bytes),
        round_trips::<Inbox>(bytes),
        round_trips::<DeskCase>(bytes),
        round_trips::<Health>(bytes),
        round_trips_eq::<Transparency>(bytes),
        // Inside envelopes and the referral directory.
        round_trips_eq::<Content>(bytes),
        round_trips_eq::<SharedThread>(bytes),
        round_trips_eq::<Directory>(bytes),
    ]
    .into_iter()
    .filter(|&parsed| parsed)
    .count()
}

// ---------------------------------------------------------------------------
// JSON values

/// Every field name the body types use, and a few they do not.
const FIELDS: &[&str] = &[
    "acknowledge_days",
    "acknowledged_in_time",
    "acknowledged_late",
    "attachments",
    "author",
    "bad_faith",
    "card",
    "case",
    "cases",
    "category",
    "challenge",
    "challenge_ttl_seconds",
    "checkpoint",
    "checkpoint_interval_seconds",
    "contact",
    "content",
    "data",
    "deadlines",
    "description",
    "desk",
    "desk_acknowledge_days",
    "desks",
    "difficulty",
    "direction",
    "entries",
    "entry",
    "envelope",
    "envelope_sha256",
    "erased",
    "error",
    "expires_in_seconds",
    "feedback_due",
    "feedback_months",
    "fingerprint",
    "from",
    "hashes",
    "id",
    "inclusion_proof",
    "index",
    "involved",
    "key",
    "lang",
    "languages",
    "leaf",
    "leaf_index",
    "limits",
    "links",
    "max_envelope_bytes",
    "message",
    "messages",
    "month",
    "months",
    "name",
    "next_update_due",
    "note",
    "on",
    "opened",
    "opened_entry",
    "origin",
    "pow_nonce",
    "prefix",
    "proof",
    "proof_of_work",
    "reader",
    "receipt",
    "received",
    "recipients",
    "record_only",
    "regions",
    "reporter_ed25519",
    "reporter_x25519",
    "resolved",
    "seq",
    "shared_by",
    "shares",
    "signature",
    "size",
    "state",
    "status",
    "text",
    "timeline",
    "to",
    "topics",
    "update_days",
    "updated",
    "upto",
    "urgent",
    "url",
    "v",
    "version",
    "web_bundle_sha256",
    "when",
    "kind",
    "unknown",
    "",
    "\u{0}",
];

/// Strings a field may hold or nearly hold: states, days, base64 (of 32
/// bytes too), content kinds, and anything.
fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(CaseState::ALL.map(CaseState::as_str).to_vec())
            .prop_map(str::to_owned),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        Just("2026-02-29".to_owned()),
        Just("2024-02-29".to_owned()),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| STANDARD.encode(b)),
        any::<[u8; 32]>().prop_map(|b| STANDARD.encode(b)),
        "[A-Za-z0-9+/=_-]{0,50}",
        proptest::sample::select(vec![
            "report",
            "message",
            "shared-thread",
            "reporter",
            "desk"
        ])
        .prop_map(str::to_owned),
        any::<String>(),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u64..300).prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
    ]
}

/// Any JSON value, its objects keyed mostly by the body types' own field
/// names so that parsing gets past the first field.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        string().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 96, 10, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        9 => proptest::sample::select(FIELDS).prop_map(str::to_owned),
                        1 => any::<String>(),
                    ],
                    inner,
                ),
                0..12,
            )
            .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

// ---------------------------------------------------------------------------
// Near-valid requests: each field usually of the right type, sometimes
// anything, sometimes missing, sometimes joined by an unknown one.

fn base64_value() -> impl Strategy<Value = Value> {
    prop::collection::vec(any::<u8>(), 0..200).prop_map(|b| Value::String(STANDARD.encode(b)))
}

/// `good` 19 times in 20, any JSON value otherwise.
fn mostly(good: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Value> {
    prop_oneof![19 => good, 1 => json_value()].boxed()
}

/// An object of `fields`, each possibly dropped, with possibly one extra.
fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    let (names, values): (Vec<&str>, Vec<BoxedStrategy<Value>>) = fields.into_iter().unzip();
    (
        values,
        prop::collection::vec(prop::bool::weighted(0.05), names.len()),
        proptest::option::weighted(0.1, (string(), json_value())),
    )
        .prop_map(move |(values, drops, extra)| {
            let mut map = Map::new();
            for ((name, value), drop) in names.iter().zip(values).zip(drops) {
                if !drop {
                    map.insert((*name).to_owned(), value);
                }
            }
            if let Some((k, v)) = extra {
                map.insert(k, v);
            }
            Value::Object(map)
        })
        .boxed()
}

fn text() -> BoxedStrategy<Value> {
    mostly(string().prop_map(Value::String))
}

fn unsigned() -> BoxedStrategy<Value> {
    mostly(prop_oneof![
        (0u64..100).prop_map(Value::from),
        any::<u64>().prop_map(Value::from)
    ])
}

fn post_message() -> BoxedStrategy<Value> {
    object(vec![
        ("seq", unsigned()),
        ("envelope", mostly(base64_value())),
        ("signature", text()),
    ])
}

fn share_case() -> BoxedStrategy<Value> {
    object(vec![
        ("reader", text()),
        ("desk", text()),
        ("upto", unsigned()),
        ("envelope", mostly(base64_value())),
        ("signature", text()),
    ])
}

fn request() -> impl Strategy<Value = Value> {
    prop_oneof![
        object(vec![
            ("desk", text()),
            ("challenge", text()),
            ("pow_nonce", unsigned()),
            ("reporter_x25519", text()),
            ("reporter_ed25519", text()),
            (
                "recipients",
                mostly(
                    prop::collection::vec(string().prop_map(Value::String), 0..4)
                        .prop_map(Value::Array)
                )
            ),
            ("envelope", mostly(base64_value())),
            ("signature", text()),
            ("record_only", mostly(any::<bool>().prop_map(Value::Bool))),
        ]),
        post_message(),
        object(vec![
            ("state", text()),
            (
                "note",
                mostly(prop_oneof![Just(Value::Null), post_message()])
            ),
        ]),
        share_case(),
        object(vec![
            ("desk", text()),
            (
                "shares",
                mostly(prop::collection::vec(share_case(), 0..3).prop_map(Value::Array))
            ),
        ]),
    ]
}

/// One change to JSON text: a byte flipped, inserted or deleted, or the
/// text cut short.
#[derive(Debug, Clone)]
enum Edit {
    Set(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Truncate(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop_oneof![
        3 => proptest::sample::select(b"{}[]\",:\\ 0-1eE.nulltruefalse\x00\xff".to_vec()),
        1 => any::<u8>(),
    ];
    prop_oneof![
        (any::<Index>(), byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<Index>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<Index>().prop_map(Edit::Delete),
        any::<Index>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut text: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        if text.is_empty() {
            break;
        }
        match e {
            Edit::Set(i, b) => {
                let at = i.index(text.len());
                text[at] = *b;
            }
            Edit::Insert(i, b) => text.insert(i.index(text.len() + 1), *b),
            Edit::Delete(i) => {
                text.remove(i.index(text.len()));
            }
            Edit::Truncate(i) => text.truncate(i.index(text.len())),
        }
    }
    text
}

proptest! {
    #![proptest_config(config(10_000))]

    /// Arbitrary bytes never make any body type panic, and whatever parses
    /// round-trips.
    #[test]
    fn arbitrary_bytes_parse_or_are_refused_cleanly(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            // Deep nesting: serde_json's recursion limit, not the stack.
            (1usize..5_000, proptest::sample::select(b"[{".to_vec()))
                .prop_map(|(n, b)| vec![b; n]),
        ],
    ) {
        every_type(&bytes);
        prop_assert!(Content::from_padded(&bytes).is_err() || bytes.len() >= 1024);
        let _ = SharedThread::from_padded(&bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Directory::parse(s);
        }
    }

    /// Arbitrary JSON values, keyed by the types' own field names, never
    /// make any body type panic, and whatever parses round-trips.
    #[test]
    fn arbitrary_json_values_parse_or_are_refused_cleanly(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        every_type(&bytes);
        // Padded, as inside an envelope: the same verdict.
        let padded = pad(&bytes).unwrap();
        prop_assert_eq!(
            Content::from_padded(&padded).ok(),
            serde_json::from_slice::<Content>(&bytes).ok()
        );
        prop_assert_eq!(
            SharedThread::from_padded(&padded).ok(),
            serde_json::from_slice::<SharedThread>(&bytes).ok()
        );
        let _ = Directory::parse(&value.to_string());
    }

    /// Requests that are nearly right (a field missing, of the wrong type,
    /// or unknown) and their JSON text with bytes changed never make any
    /// body type panic, and whatever parses round-trips.
    #[test]
    fn near_valid_requests_parse_or_are_refused_cleanly(
        value in request(),
        edits in prop::collection::vec(edit(), 0..3),
    ) {
        let text = serde_json::to_vec(&value).unwrap();
        every_type(&apply(text, &edits));
    }
}

proptest! {
    #![proptest_config(config(3_000))]

    /// Well-formed requests parse as the type they are for: the near-valid
    /// generator does reach the round trip, not only the refusals.
    #[test]
    fn well_formed_requests_parse(
        seq in any::<u64>(),
        envelope in prop::collection::vec(any::<u8>(), 0..300),
        signature in any::<String>(),
        state in proptest::sample::select(CaseState::ALL.to_vec()),
        record_only in proptest::option::of(any::<bool>()),
    ) {
        let post = json!({
            "seq": seq,
            "envelope": STANDARD.encode(&envelope),
            "signature": signature,
        });
        prop_assert!(round_trips::<PostMessage>(post.to_string().as_bytes()));
        let parsed: PostMessage = serde_json::from_value(post.clone()).unwrap();
        prop_assert_eq!((parsed.seq, &parsed.envelope, &parsed.signature), (seq, &envelope, &signature));

        let set = json!({ "state": state, "note": post });
        prop_assert!(round_trips::<SetState>(set.to_string().as_bytes()));

        let mut open = json!({
            "desk": "default",
            "challenge": "c",
            "pow_nonce": seq,
            "reporter_x25519": "age1x",
            "reporter_ed25519": "k",
            "recipients": ["1", "2"],
            "envelope": STANDARD.encode(&envelope),
            "signature": signature,
        });
        if let Some(r) = record_only {
            open["record_only"] = json!(r);
        }
        prop_assert!(round_trips::<OpenCase>(open.to_string().as_bytes()));
        let opened: OpenCase = serde_json::from_value(open).unwrap();
        prop_assert_eq!(opened.record_only, record_only.unwrap_or(false));
    }
}
