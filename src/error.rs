//! The API's errors: every one a JSON body `{"error": code, "message": text}`.
//!
//! A 4xx says briefly what to fix. A 500 says nothing about why; the reason
//! goes to the log, which never holds request data.

use std::borrow::Cow;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use sotto_wire::api::ErrorBody;

/// Seconds a refused client is told to wait (`Retry-After`).
pub const RETRY_AFTER_SECONDS: u32 = 10;

/// An API error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// What to fix.
    pub message: Cow<'static, str>,
    /// Seconds after which the same request may succeed (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400.
    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401.
    pub fn unauthorized(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403.
    pub fn forbidden(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 404.
    pub fn not_found(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 409.
    pub fn conflict(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 413.
    pub fn too_large(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }

    /// 429: a quota is spent; it is renewed in `retry_after` seconds.
    pub fn too_many(
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
        retry_after: u64,
    ) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, message)
        }
    }

    /// 503: a bounded queue is full ([`crate::gate`]); the answer carries
    /// `Retry-After`.
    pub fn busy() -> Self {
        Self {
            retry_after: Some(u64::from(RETRY_AFTER_SECONDS)),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the server is busy; nothing was stored, try again after the seconds Retry-After gives",
            )
        }
    }

    /// 500, logged with a reason that carries no request data.
    pub fn internal(reason: &dyn std::fmt::Display) -> Self {
        tracing::error!(%reason, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed; nothing was stored, try again later",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let mut res = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, seconds));
        }
        // The same fields as `ErrorBody`, borrowed: an error (a flood of
        // unknown handles) costs no copies of its text.
        #[derive(serde::Serialize)]
        struct Body<'a> {
            error: &'a str,
            message: &'a str,
        }
        let body = Body {
            error: self.code,
            message: &self.message,
        };
        let mut json = Vec::with_capacity(32 + self.code.len() + self.message.len());
        match serde_json::to_writer(&mut json, &body) {
            Ok(()) => res.content_type("application/json").body(json),
            Err(_) => res.finish(),
        }
    }
}

impl From<sotto_store::StoreError> for ApiError {
    fn from(e: sotto_store::StoreError) -> Self {
        match e {
            sotto_store::StoreError::NotFound => Self::not_found("not_found", "no such thing here"),
            sotto_store::StoreError::Conflict(why) => Self::conflict("conflict", why),
            sotto_store::StoreError::Erased => Self::new(
                StatusCode::GONE,
                "case_erased",
                "this case was erased under the retention policy; nothing can be added to it",
            ),
            other => Self::internal(&other),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::internal(&e)
    }
}

/// What a status means, for errors actix itself produces (unknown route,
/// wrong method, body too large, a request it could not read).
fn generic(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route; see docs/api.md"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "this route does not take that method")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "wrong content type: the API takes application/json, the pages' forms their form encodings",
        ),
        s if s.is_client_error() => ("bad_request", "the request could not be read"),
        _ => (
            "internal",
            "the server failed; nothing was stored, try again later",
        ),
    }
}

/// Middleware hook: turns any error response that is not already JSON into
/// the API's JSON error shape, so no client ever sees a text/plain error.
pub fn json_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // JSON errors of the API and the reporter's pages' own HTML errors
    // (already in the reader's language) pass as they are.
    let is_ours = res
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
        });
    if is_ours {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (code, message) = generic(status);
    let body = serde_json::to_string(&ErrorBody {
        error: code.to_owned(),
        message: message.to_owned(),
    })
    .unwrap_or_default();
    let (req, res) = res.into_parts();
    let mut res = res.set_body(body);
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let res = ServiceResponse::new(req, res)
        .map_into_boxed_body()
        .map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

/// Parses a JSON body, with errors that say what is wrong without echoing it.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        use serde_json::error::Category;
        let what = match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                "the body is not valid JSON".to_owned()
            }
            // serde's message names the field and the expected type. It may
            // quote the sender's own value back to them; it is never logged.
            Category::Data => format!("the JSON does not fit this route: {}", strip_position(&e)),
        };
        ApiError::bad_request("bad_json", what)
    })
}

fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.find(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn a_busy_answer_is_a_503_that_says_when_to_come_back() {
        let res = ApiError::busy().error_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let retry = res.headers().get(header::RETRY_AFTER).expect("Retry-After");
        assert_eq!(
            retry.to_str().ok(),
            Some(RETRY_AFTER_SECONDS.to_string().as_str())
        );
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE),
            Some(&HeaderValue::from_static("application/json"))
        );
        let body = actix_web::body::to_bytes(res.into_body())
            .await
            .expect("body");
        let body: ErrorBody = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(body.error, "busy");
        assert_eq!(body.message, ApiError::busy().message);
    }

    #[test]
    fn other_errors_carry_no_retry_after() {
        let res = ApiError::bad_request("bad_json", "no").error_response();
        assert!(res.headers().get(header::RETRY_AFTER).is_none());
    }
}
