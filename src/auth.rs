//! Who is asking.
//!
//! A reporter proves nothing but knowledge of their handle, sent in the
//! `sotto-handle` header (never in a URL, which proxies and browsers log).
//! The server hashes it with HMAC-SHA256 under the pepper and looks the hash
//! up; it never stores or logs the handle.
//!
//! An ombudsperson signs each request with the Ed25519 key of their card,
//! over method, path and query, a Unix timestamp, a random nonce and
//! SHA-256 of the body
//! (`sotto_envelope::sign`). The server accepts a timestamp within a short
//! window of its clock and remembers each signature it accepted until the
//! window has passed, so a captured request cannot be replayed: in the
//! database, so not after a restart either ([`ReplayGuard`]). No passwords,
//! no shared secrets, no sessions on the server.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::HttpRequest;
use ring::hmac;
use sotto_envelope::keys::RecipientCard;
use sotto_envelope::labels::{HANDLE_HASH, REPLAY_TAG};
use sotto_envelope::sign::Signature;
use sotto_envelope::token::Handle;
use sotto_store::{Generation, RecipientRow, Store, StoreError};
use sotto_wire::api::{
    HANDLE_HEADER, NONCE_HEADER, RECIPIENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};

use crate::error::ApiError;

/// Most signatures remembered at once; beyond it, requests are refused
/// until old entries expire (a flood cannot make the server forget).
const MAX_REMEMBERED: u64 = 100_000;

/// The keyed hash of a handle, as stored.
pub fn handle_hash(pepper: &hmac::Key, handle: &Handle) -> [u8; 32] {
    let mut ctx = hmac::Context::with_key(pepper);
    ctx.update(HANDLE_HASH);
    ctx.update(handle.as_bytes());
    let tag = ctx.sign();
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// The handle from the request's header.
pub fn handle_from(req: &HttpRequest) -> Result<Handle, ApiError> {
    let value = req.headers().get(HANDLE_HEADER).ok_or_else(|| {
        ApiError::unauthorized(
            "missing_handle",
            "send the case handle in the sotto-handle header",
        )
    })?;
    value.to_str().ok().and_then(Handle::parse).ok_or_else(|| {
        ApiError::unauthorized(
            "bad_handle",
            "the sotto-handle header is not a valid handle",
        )
    })
}

/// Unix seconds now.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Seconds until the next UTC day begins, when a day's quota renews.
pub fn seconds_to_next_day() -> u64 {
    86_400 - now_unix() % 86_400
}

/// Signatures already accepted, kept in the database (`seen_requests`) so
/// that a restart forgets none.
///
/// What is stored is a tag, HMAC-SHA256 of the signature under the pepper,
/// and one of two generations: no time, no signer, no path. Rows go into
/// the current generation. Once per period, longer than any request stays
/// fresh (two windows and a margin), the older generation is deleted and
/// becomes the current one. So every tag is kept at least one period, and
/// at most two. After a restart both generations are kept a full period
/// again: rows from before it are at least as old as they look.
///
/// The generations and their sizes are tracked here; this assumes one
/// server process per database, as the log's publisher does.
#[derive(Debug)]
pub struct ReplayGuard {
    key: hmac::Key,
    period: Duration,
    state: Mutex<Generations>,
}

#[derive(Debug)]
struct Generations {
    current: Generation,
    since: Instant,
    current_rows: u64,
    older_rows: u64,
}

impl ReplayGuard {
    /// The guard over the tags already in `store`, for requests accepted
    /// within `window` seconds of the clock, keyed with the pepper.
    pub fn load(store: &Store, window: u64, pepper: &hmac::Key) -> Result<Self, StoreError> {
        let current = Generation::Zero;
        Ok(Self {
            key: pepper.clone(),
            // A request is fresh from `timestamp - window` to `timestamp +
            // window`, whole seconds of the wall clock: under 2 × window + 1
            // seconds after it was first accepted.
            period: Duration::from_secs(window.saturating_mul(2).saturating_add(2)),
            state: Mutex::new(Generations {
                current,
                since: Instant::now(),
                current_rows: store.remembered_requests(current)?,
                older_rows: store.remembered_requests(current.other())?,
            }),
        })
    }

    /// The tag stored for a signature.
    fn tag(&self, sig: &Signature) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(REPLAY_TAG);
        ctx.update(&sig.0);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Generations>, ApiError> {
        self.state
            .lock()
            .map_err(|_| ApiError::internal(&"replay guard lock poisoned"))
    }

    /// Whether the older generation has outlived its period.
    pub fn due(&self) -> bool {
        self.lock()
            .map(|g| g.since.elapsed() >= self.period)
            .unwrap_or(false)
    }

    /// Deletes the older generation if it is due (see [`ReplayGuard`]).
    pub fn expire(&self, store: &Store) -> Result<(), ApiError> {
        let mut g = self.lock()?;
        self.expire_locked(&mut g, store)
    }

    fn expire_locked(&self, g: &mut Generations, store: &Store) -> Result<(), ApiError> {
        if g.since.elapsed() < self.period {
            return Ok(());
        }
        let older = g.current.other();
        store.forget_requests(older)?;
        *g = Generations {
            current: older,
            since: Instant::now(),
            current_rows: 0,
            older_rows: g.current_rows,
        };
        Ok(())
    }

    /// Records a signature; refused if it was seen before (a replay) or
    /// the guard is full. The lock is held across the write, so an expiry
    /// cannot run between choosing a generation and filling it.
    fn remember(&self, store: &Store, sig: &Signature) -> Result<(), ApiError> {
        let mut g = self.lock()?;
        self.expire_locked(&mut g, store)?;
        if g.current_rows + g.older_rows >= MAX_REMEMBERED {
            return Err(ApiError::new_busy());
        }
        if !store.remember_request(&self.tag(sig), g.current)? {
            return Err(ApiError::unauthorized(
                "replayed_request",
                "this signed request was already used; sign a new one",
            ));
        }
        g.current_rows += 1;
        Ok(())
    }
}

impl ApiError {
    fn new_busy() -> Self {
        ApiError::too_many(
            "busy",
            "too many signed requests at once; try again in a few minutes",
            300,
        )
    }
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Result<&'a str, ApiError> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::unauthorized(
                "missing_signature",
                "ombudsperson requests need the sotto-recipient, sotto-timestamp, sotto-nonce and sotto-signature headers",
            )
        })
}

/// The parts of a signed ombudsperson request, read from its headers.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    recipient_id: String,
    timestamp: u64,
    nonce: [u8; 16],
    signature: Signature,
    method: String,
    path: String,
}

impl SignedRequest {
    /// Reads the signature headers and checks the timestamp window.
    pub fn from_request(req: &HttpRequest, window: u64) -> Result<Self, ApiError> {
        let recipient_id = header(req, RECIPIENT_HEADER)?.to_owned();
        let timestamp: u64 = header(req, TIMESTAMP_HEADER)?.parse().map_err(|_| {
            ApiError::unauthorized("bad_timestamp", "sotto-timestamp must be Unix seconds")
        })?;
        let nonce = {
            use base64::engine::general_purpose::URL_SAFE_NO_PAD;
            use base64::Engine;
            let raw = URL_SAFE_NO_PAD
                .decode(header(req, NONCE_HEADER)?)
                .map_err(|_| {
                    ApiError::unauthorized("bad_nonce", "sotto-nonce must be 16 bytes of base64url")
                })?;
            <[u8; 16]>::try_from(raw.as_slice()).map_err(|_| {
                ApiError::unauthorized("bad_nonce", "sotto-nonce must be 16 bytes of base64url")
            })?
        };
        let signature = Signature::parse(header(req, SIGNATURE_HEADER)?).ok_or_else(|| {
            ApiError::unauthorized("bad_signature", "sotto-signature is not a signature")
        })?;
        if timestamp.abs_diff(now_unix()) > window {
            return Err(ApiError::unauthorized(
                "stale_request",
                "the request's timestamp is too far from the server's clock; check your clock",
            ));
        }
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .to_owned();
        Ok(Self {
            recipient_id,
            timestamp,
            nonce,
            signature,
            method: req.method().as_str().to_owned(),
            path,
        })
    }

    /// Checks the signature against the active recipients, then records it
    /// in `store` so it cannot be used twice. Returns the signer's row.
    pub fn verify(
        &self,
        body: &[u8],
        active: &[RecipientRow],
        replay: &ReplayGuard,
        store: &Store,
    ) -> Result<RecipientRow, ApiError> {
        let row = active
            .iter()
            .find(|r| r.id == self.recipient_id)
            .ok_or_else(|| {
                ApiError::unauthorized("unknown_recipient", "no active recipient has that id")
            })?;
        let card = RecipientCard::parse(&row.card)
            .map_err(|_| ApiError::internal(&"stored card does not parse"))?;
        card.verifying_key
            .verify_request(
                &self.method,
                &self.path,
                self.timestamp,
                &self.nonce,
                body,
                &self.signature,
            )
            .map_err(|_| {
                ApiError::unauthorized("bad_signature", "the request signature does not verify")
            })?;
        replay.remember(store, &self.signature)?;
        Ok(row.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pepper() -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, &[5; 32])
    }

    fn code(r: Result<(), ApiError>) -> &'static str {
        r.err().map_or("ok", |e| e.code)
    }

    #[test]
    fn a_signature_is_refused_the_second_time_even_by_a_guard_loaded_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sotto.db");
        let store = Store::open(&path).unwrap();
        let guard = ReplayGuard::load(&store, 120, &pepper()).unwrap();
        assert_eq!(code(guard.remember(&store, &Signature([1; 64]))), "ok");
        assert_eq!(
            code(guard.remember(&store, &Signature([1; 64]))),
            "replayed_request"
        );
        drop((guard, store));
        let store = Store::open(&path).unwrap();
        let restarted = ReplayGuard::load(&store, 120, &pepper()).unwrap();
        assert_eq!(
            code(restarted.remember(&store, &Signature([1; 64]))),
            "replayed_request"
        );
        assert_eq!(code(restarted.remember(&store, &Signature([2; 64]))), "ok");
    }

    #[test]
    fn a_tag_outlives_one_expiry_and_is_gone_after_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sotto.db")).unwrap();
        let mut guard = ReplayGuard::load(&store, 120, &pepper()).unwrap();
        guard.period = Duration::from_millis(20);
        let stored = || {
            store.remembered_requests(Generation::Zero).unwrap()
                + store.remembered_requests(Generation::One).unwrap()
        };
        assert_eq!(code(guard.remember(&store, &Signature([1; 64]))), "ok");
        // Not due yet: nothing is forgotten.
        guard.expire(&store).unwrap();
        assert_eq!(stored(), 1);
        std::thread::sleep(Duration::from_millis(30));
        assert!(guard.due());
        guard.expire(&store).unwrap();
        assert_eq!(stored(), 1, "kept for a whole period after its own");
        assert_eq!(
            code(guard.remember(&store, &Signature([1; 64]))),
            "replayed_request"
        );
        std::thread::sleep(Duration::from_millis(30));
        guard.expire(&store).unwrap();
        assert_eq!(stored(), 0, "gone once its request is stale");
    }

    #[test]
    fn the_stored_tag_is_keyed_and_is_not_the_signature() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sotto.db")).unwrap();
        let guard = ReplayGuard::load(&store, 120, &pepper()).unwrap();
        let other =
            ReplayGuard::load(&store, 120, &hmac::Key::new(hmac::HMAC_SHA256, &[6; 32])).unwrap();
        let sig = Signature([1; 64]);
        assert_ne!(guard.tag(&sig), other.tag(&sig));
        assert_ne!(guard.tag(&sig)[..], sig.0[..32]);
        assert_ne!(guard.tag(&sig), sotto_envelope::sha256(&sig.0));
    }
}
