//! Who is asking, as the handlers receive it: extractors that read and
//! check the credentials before a handler runs, so no handler reads an
//! authentication header itself (see [`crate::auth`] for the scheme).
//!
//! - [`Reporter`]: the keyed hash of the handle in `sotto-handle`.
//! - [`Signed`] and [`SignedCase`]: a desk request's signature headers,
//!   read with the timestamp inside the window, its body, and for the
//!   `/v1/cases/{case}…` routes the case id.
//!
//! Each runs the handler's work in one hop to the store (`on_case`,
//! `on_signer`), after what needs the database: the reporter's case, or
//! the signature verified against the active recipients and the case's
//! addressing. The check and the write share one connection. Work that
//! checks a signature first waits its turn at the `signed` gate
//! ([`crate::gate`]): a full queue is `503 busy` before any of it runs.

use std::future::{ready, Future, Ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};
use sotto_envelope::sign::CaseId;
use sotto_store::{CaseRow, RecipientRow, Store, StoreError};

use super::checks::case_id;
use crate::auth::{handle_from, handle_hash, SignedRequest};
use crate::error::{parse_json, ApiError};
use crate::state::{on_worker, with_store, AppState};

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(&"the application state is missing"))
}

fn unknown_handle() -> ApiError {
    ApiError::not_found("unknown_case", "no case has this handle; check the token")
}

/// A reporter, known by the keyed hash of their handle. The handle itself
/// is dropped as soon as it is hashed.
#[derive(Debug)]
pub struct Reporter {
    hash: [u8; 32],
    /// Whether a case may have this handle ([`crate::known`]), asked once
    /// as the request is read. Cases are never deleted, so the answer
    /// holds for the rest of the request.
    may_be_known: bool,
    state: web::Data<AppState>,
}

impl Reporter {
    /// The keyed hash of the handle, as stored.
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }

    /// This worker's memory of the tags it made, as of now: take it before
    /// reading the case (see [`super::fresh::Recall`]).
    pub fn recall(&self) -> super::fresh::Recall {
        super::fresh::Recall::now(self.state.db.changes())
    }

    /// `404` at once for a handle no case has, without a read.
    pub fn known(&self) -> Result<(), ApiError> {
        if self.may_be_known {
            Ok(())
        } else {
            Err(unknown_handle())
        }
    }

    /// Runs `f` on the reporter's case (one indexed lookup of the hash), in
    /// one hop to the store. For work that checks a signature, see
    /// [`Reporter::on_case_checking`].
    pub async fn on_case<T, F>(self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store, &AppState, CaseRow) -> Result<T, ApiError> + Send + 'static,
    {
        self.known()?;
        let hash = self.hash;
        with_store(&self.state, move |store, st| {
            let row = store.case_by_handle(&hash).map_err(|e| match e {
                StoreError::NotFound => unknown_handle(),
                other => other.into(),
            })?;
            f(store, st, row)
        })
        .await
    }

    /// Runs `f` on the reporter's case, read on this worker without a hop
    /// to the blocking pool ([`crate::state::on_worker`]): three indexed
    /// lookups (the case, its desk, its status). Only for reads that stay
    /// short: a poll, an unknown handle, a small page.
    pub fn on_row<T>(
        &self,
        f: impl FnOnce(&Store, &AppState, CaseRow) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.known()?;
        on_worker(&self.state, |store, st| {
            let row = store.case_by_handle(&self.hash).map_err(|e| match e {
                StoreError::NotFound => unknown_handle(),
                other => other.into(),
            })?;
            f(store, st, row)
        })
    }

    /// [`Reporter::on_case`] for work that checks the reporter's
    /// signatures (a follow-up, an escalation): behind the `signed` gate.
    pub async fn on_case_checking<T, F>(self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store, &AppState, CaseRow) -> Result<T, ApiError> + Send + 'static,
    {
        // An unknown handle does not wait in the gate's queue.
        self.known()?;
        let state = self.state.clone();
        let _pass = state.gates.signed.enter().await?;
        self.on_case(f).await
    }
}

impl FromRequest for Reporter {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(app_state(req).and_then(|state| {
            let hash = handle_hash(&state.pepper, &handle_from(req)?);
            Ok(Self {
                hash,
                may_be_known: state.known.may_know(&hash),
                state,
            })
        }))
    }
}

/// A signed desk request: its signature headers, read with the timestamp
/// inside the window, and its body (empty for a `GET`, as the protocol
/// signs it). Verified in the handler's hop: see [`Signed::on_signer`].
#[derive(Debug)]
pub struct Signed {
    headers: SignedRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
}

impl Signed {
    /// The signer: the active recipient whose card's key made the
    /// signature. The signature is then remembered, so it works once.
    fn signer(&self, store: &Store, st: &AppState) -> Result<RecipientRow, ApiError> {
        let active: Vec<RecipientRow> = store
            .recipients()?
            .into_iter()
            .filter(|r| r.removed_on.is_none())
            .collect();
        self.headers.verify(&self.body, &active, &st.replay, store)
    }

    /// Runs `f` for the signer, in one hop to the store, behind the
    /// `signed` gate (the signature is checked against every active
    /// recipient's key).
    pub async fn on_signer<T, F>(self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store, &AppState, RecipientRow) -> Result<T, ApiError> + Send + 'static,
    {
        let state = self.state.clone();
        let _pass = state.gates.signed.enter().await?;
        with_store(&state, move |store, st| {
            let who = self.signer(store, st)?;
            f(store, st, who)
        })
        .await
    }
}

type Extracting<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;

impl FromRequest for Signed {
    type Error = actix_web::Error;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // The body comes first, as it did when handlers took it: a body
        // over the limit is a 413 whatever the headers say.
        let body = (req.method() != Method::GET).then(|| web::Bytes::from_request(req, payload));
        let req = req.clone();
        Box::pin(async move {
            let body = match body {
                Some(body) => body.await?,
                None => web::Bytes::new(),
            };
            let state = app_state(&req)?;
            let window = state.settings.request_window_seconds;
            let headers = SignedRequest::from_request(&req, window)?;
            Ok(Self {
                headers,
                body,
                state,
            })
        })
    }
}

/// A signed desk request about one case, `/v1/cases/{case}…`: the case id
/// is read after the headers and before the signature is verified.
#[derive(Debug)]
pub struct SignedCase {
    signed: Signed,
    case: CaseId,
}

/// A signed request on a case, once its signer and the case addressed to
/// them are known.
#[derive(Debug)]
pub struct OnCase {
    /// The signer.
    pub who: RecipientRow,
    /// The case.
    pub row: CaseRow,
    body: web::Bytes,
}

impl OnCase {
    /// The body as JSON of type `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        parse_json(&self.body)
    }
}

impl SignedCase {
    /// Runs `f` on the case, in one hop to the store, if it is addressed
    /// to the signer: encrypted to them while they are still active on its
    /// desk, or shared with them while they are still active on the desk
    /// it was shared to. To anyone else, a recipient the reporter left out
    /// too, the case does not exist (404).
    pub async fn on_case<T, F>(self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store, &AppState, OnCase) -> Result<T, ApiError> + Send + 'static,
    {
        let Self { signed, case } = self;
        let state = signed.state.clone();
        let _pass = state.gates.signed.enter().await?;
        with_store(&state, move |store, st| {
            let who = signed.signer(store, st)?;
            let row = addressed(store, &who, &case)?;
            let body = signed.body;
            f(store, st, OnCase { who, row, body })
        })
        .await
    }
}

/// The case, if it is addressed to `who` (see [`SignedCase::on_case`]).
fn addressed(store: &Store, who: &RecipientRow, case: &CaseId) -> Result<CaseRow, ApiError> {
    let unknown_case =
        || ApiError::not_found("unknown_case", "no case with that id is addressed to you");
    let row = store.case_by_id(&case.0).map_err(|e| match e {
        StoreError::NotFound => unknown_case(),
        other => other.into(),
    })?;
    let addressed = store.case_recipients(&row.id)?.contains(&who.id)
        && store
            .active_recipients(row.desk_id)?
            .iter()
            .any(|r| r.id == who.id);
    let shared = || -> Result<bool, ApiError> {
        Ok(store
            .case_shares(&row.id, None)?
            .iter()
            .any(|s| s.reader.id == who.id && s.reader.removed_on.is_none()))
    };
    if !addressed && !shared()? {
        return Err(unknown_case());
    }
    Ok(row)
}

impl FromRequest for SignedCase {
    type Error = actix_web::Error;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let signed = Signed::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let signed = signed.await?;
            let path = web::Path::<String>::extract(&req).await?;
            let case = case_id(&path)?;
            Ok(Self { signed, case })
        })
    }
}
