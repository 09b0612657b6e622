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
//! window of its clock and remembers, in memory only, each signature it
//! accepted until the window has passed, so a captured request cannot be
//! replayed. No passwords, no shared secrets, no sessions on the server.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::HttpRequest;
use ring::hmac;
use sotto_envelope::keys::RecipientCard;
use sotto_envelope::labels::HANDLE_HASH;
use sotto_envelope::sign::Signature;
use sotto_envelope::token::Handle;
use sotto_store::RecipientRow;
use sotto_wire::api::{
    HANDLE_HEADER, NONCE_HEADER, RECIPIENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};

use crate::error::ApiError;

/// Most signatures remembered at once; beyond it, requests are refused
/// until old entries expire (a flood cannot make the server forget).
const MAX_REMEMBERED: usize = 100_000;

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

/// Signatures already accepted, with when they stop mattering.
#[derive(Debug, Default)]
pub struct ReplayGuard {
    seen: Mutex<HashMap<[u8; 64], u64>>,
}

impl ReplayGuard {
    /// Records a signature; false if it was seen before (a replay) or the
    /// guard is full.
    fn remember(&self, sig: &Signature, forget_after: u64, now: u64) -> Result<(), ApiError> {
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| ApiError::internal(&"replay guard lock poisoned"))?;
        if seen.len() >= MAX_REMEMBERED / 2 {
            seen.retain(|_, &mut until| until >= now);
        }
        if seen.len() >= MAX_REMEMBERED {
            return Err(ApiError::new_busy());
        }
        if seen.insert(sig.0, forget_after).is_some() {
            return Err(ApiError::unauthorized(
                "replayed_request",
                "this signed request was already used; sign a new one",
            ));
        }
        Ok(())
    }
}

impl ApiError {
    fn new_busy() -> Self {
        ApiError::too_many(
            "busy",
            "too many signed requests at once; try again in a minute",
            60,
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
    /// so it cannot be used twice. Returns the signer's row.
    pub fn verify(
        &self,
        body: &[u8],
        active: &[RecipientRow],
        window: u64,
        replay: &ReplayGuard,
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
        replay.remember(
            &self.signature,
            self.timestamp.saturating_add(window),
            now_unix(),
        )?;
        Ok(row.clone())
    }
}
