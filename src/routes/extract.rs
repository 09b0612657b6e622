//! Who is asking, as the handlers receive it: extractors that read and
//! check the credentials before a handler runs, so no handler reads an
//! authentication header itself (see [`crate::auth`] for the scheme).
//!
//! - [`Reporter`]: the keyed hash of the handle in `sotto-handle`.
//! - [`Signed`] and [`SignedCase`]: a desk request's signature headers,
//!   read with the timestamp inside the window, its body, and for the
//!   `/v1/cases/{case}…` routes the case id. The signature itself is
//!   verified against the store by [`Signed::signer`] or
//!   [`SignedCase::authorize`] inside the handler's one `with_store` hop,
//!   so the check and the write share one connection.

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
use crate::state::AppState;

fn app_state(req: &HttpRequest) -> Result<&web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(&"the application state is missing"))
}

/// A reporter, known by the keyed hash of their handle. The handle itself
/// is dropped as soon as it is hashed.
#[derive(Debug, Clone, Copy)]
pub struct Reporter {
    hash: [u8; 32],
}

impl Reporter {
    /// The keyed hash of the handle, as stored.
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }

    /// The reporter's case: one indexed lookup of the hash.
    pub fn case(&self, store: &Store) -> Result<CaseRow, ApiError> {
        store.case_by_handle(&self.hash).map_err(|e| match e {
            StoreError::NotFound => {
                ApiError::not_found("unknown_case", "no case has this handle; check the token")
            }
            other => other.into(),
        })
    }
}

impl FromRequest for Reporter {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(app_state(req).and_then(|state| {
            Ok(Self {
                hash: handle_hash(&state.pepper, &handle_from(req)?),
            })
        }))
    }
}

/// A signed desk request: its signature headers, read with the timestamp
/// inside the window, and its body (empty for a `GET`, as the protocol
/// signs it). Not yet verified: see [`Signed::signer`].
#[derive(Debug)]
pub struct Signed {
    headers: SignedRequest,
    body: web::Bytes,
}

impl Signed {
    /// The signer: the active recipient whose card's key made the
    /// signature. The signature is then remembered, so it works once.
    pub fn signer(&self, store: &Store, st: &AppState) -> Result<RecipientRow, ApiError> {
        let active: Vec<RecipientRow> = store
            .recipients()?
            .into_iter()
            .filter(|r| r.removed_on.is_none())
            .collect();
        self.headers.verify(
            &self.body,
            &active,
            st.settings.request_window_seconds,
            &st.replay,
        )
    }

    /// The body as JSON of type `T`; read it after [`Signed::signer`].
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        parse_json(&self.body)
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
            let window = app_state(&req)?.settings.request_window_seconds;
            let headers = SignedRequest::from_request(&req, window)?;
            Ok(Self { headers, body })
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

impl SignedCase {
    /// The case id from the path.
    pub fn case(&self) -> CaseId {
        self.case
    }

    /// The signer and the case, if it is addressed to them: encrypted to
    /// them while they are still active on its desk, or shared with them
    /// while they are still active on the desk it was shared to. To anyone
    /// else, a recipient the reporter left out too, the case does not
    /// exist (404).
    pub fn authorize(
        &self,
        store: &Store,
        st: &AppState,
    ) -> Result<(RecipientRow, CaseRow), ApiError> {
        let who = self.signed.signer(store, st)?;
        let unknown_case =
            || ApiError::not_found("unknown_case", "no case with that id is addressed to you");
        let row = store.case_by_id(&self.case.0).map_err(|e| match e {
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
                .case_shares(&row.id)?
                .iter()
                .any(|s| s.reader.id == who.id && s.reader.removed_on.is_none()))
        };
        if !addressed && !shared()? {
            return Err(unknown_case());
        }
        Ok((who, row))
    }

    /// The body as JSON of type `T`; read it after [`SignedCase::authorize`].
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        self.signed.json()
    }
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
