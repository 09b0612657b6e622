//! The HTTP client, and the reporter's and ombudsperson's operations on top
//! of it. The CLI is a thin layer over these; the tests drive the server
//! through them too.
//!
//! All cryptography happens here, on the user's machine: the server
//! receives only envelopes, signatures, public keys and the handle.
//!
//! - [`exchange`]: one request and its answer, whatever carries them.
//! - [`transport`]: HTTPS, a named SOCKS5 proxy, or plain HTTP on this machine.
//! - [`reporter`]: submit a report, read the thread, reply, escalate.
//! - [`receipt`]: the reporter's promise and receipt, fetched and checked.
//! - [`receipt_file`]: the receipt file kept beside the token, and its proofs.
//! - [`readers`]: who will read a report, checked against the log first.
//! - [`desk`]: the ombudsperson's inbox, cases, replies, states and shares.
//! - [`sealed`]: the report a desk reader opens, directly or from a share.
//! - [`thread`]: each message's place and signature checked, then decrypted.
//! - [`log`]: the transparency log followed from a verified position.
//! - [`paged`]: a case's thread read page by page.
//! - [`files`]: saving attachments whose names come from someone else.
//! - [`templates`], [`similar`], [`stats`]: response templates, near-duplicate
//!   reports and de-identified statistics, all on the handler's machine.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sotto_envelope::keys::DeskIdentity;
use sotto_envelope::token::Handle;
use sotto_wire::api::{
    CaseOpened, ChallengeResponse, ConsistencyProof, DeskCase, DeskInfo, DeskList, ErrorBody,
    Health, Inbox, InclusionProof, LogInfo, MessagePosted, OpenCase, PostMessage, ReporterStatus,
    SetState, StateChanged, Transparency, HANDLE_HEADER, NONCE_HEADER, RECIPIENT_HEADER,
    SIGNATURE_HEADER, TIMESTAMP_HEADER,
};

pub mod desk;
pub mod exchange;
pub mod files;
pub mod log;
pub mod paged;
pub mod readers;
pub mod receipt;
pub mod receipt_file;
pub mod reporter;
pub mod sealed;
pub mod similar;
pub mod stats;
pub mod templates;
pub mod thread;
pub mod transport;

pub use exchange::Exchange;
use exchange::{Method, Request, Response};
pub use transport::Transport;

/// Largest response body read (a case with big attachments).
const MAX_RESPONSE: u64 = 512 * 1024 * 1024;

/// What went wrong on the client side.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error.
    #[error("the server refused: {message} ({code}, HTTP {status})")]
    Server {
        /// HTTP status.
        status: u16,
        /// The API's error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The server could not be reached.
    #[error("cannot reach the server: {0}")]
    Network(String),
    /// The server's answer did not make sense.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    /// The user asked for something impossible (e.g. excluded everyone).
    #[error("{0}")]
    Usage(String),
    /// A cryptographic check failed.
    #[error("{0}")]
    Crypto(String),
}

impl ClientError {
    /// The API error code, for server errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Server { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A follow-up, reply or note, padded and ready to seal.
pub(crate) fn padded_note(
    text: &str,
    attachments: Vec<sotto_wire::content::Attachment>,
) -> Result<zeroize::Zeroizing<Vec<u8>>, ClientError> {
    use sotto_wire::content::{Content, Note, CONTENT_VERSION};
    let mut content = Content::Message(Note {
        v: CONTENT_VERSION,
        text: text.to_owned(),
        attachments,
    });
    let padded = content
        .to_padded()
        .map_err(|e| ClientError::Usage(e.to_string()));
    content.wipe();
    padded
}

/// Runs `attempt` again (three tries in all) while the server answers
/// `stale_seq`: another message landed between reading the thread and
/// posting, so the message must be sealed and signed again for its new place.
pub(crate) fn retry_on_stale_seq<T>(
    mut attempt: impl FnMut() -> Result<T, ClientError>,
) -> Result<T, ClientError> {
    let mut last = attempt();
    for _ in 1..3 {
        match &last {
            Err(e) if e.code() == Some("stale_seq") => last = attempt(),
            _ => break,
        }
    }
    last
}

/// A connection to one Sotto server.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    exchange: Arc<dyn Exchange>,
    log_key: Option<sotto_tlog::NoteVerifier>,
}

impl Api {
    /// A client for the server at `base` (e.g. `https://example.org/report`
    /// or `http://127.0.0.1:8080`), reached directly.
    pub fn new(base: &str) -> Result<Self, ClientError> {
        Self::with_transport(base, &Transport::default())
    }

    /// A client for the server at `base`, reached as `transport` says. A
    /// server the rules of [`transport`] refuse is refused here, before
    /// anything is sent.
    pub fn with_transport(base: &str, transport: &Transport) -> Result<Self, ClientError> {
        let base = base.trim_end_matches('/').to_owned();
        let uri: ureq::http::Uri = base
            .parse()
            .map_err(|_| ClientError::Usage(format!("not a server URL: {base}")))?;
        if uri.scheme_str().is_none() || uri.host().is_none() || uri.query().is_some() {
            return Err(ClientError::Usage(format!(
                "not a server URL (expected e.g. https://reports.example.org): {base}"
            )));
        }
        transport.check(&uri)?;
        let network = transport.network(&base, uri.scheme_str().unwrap_or(""))?;
        Ok(Self::with_exchange(&base, Arc::new(network)))
    }

    /// A client whose requests `exchange` carries; `base` is the address
    /// it names the server by (in receipts, and in what it remembers).
    /// The server's no-JavaScript pages use one that stays in process.
    pub fn with_exchange(base: &str, exchange: Arc<dyn Exchange>) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            exchange,
            log_key: None,
        }
    }

    /// Pins the transparency log's key (as the community published it):
    /// checkpoints signed by any other key are refused, instead of trusting
    /// the key the server announces.
    pub fn with_log_key(mut self, key: sotto_tlog::NoteVerifier) -> Self {
        self.log_key = Some(key);
        self
    }

    /// The pinned log key, if any.
    pub fn log_key(&self) -> Option<&sotto_tlog::NoteVerifier> {
        self.log_key.as_ref()
    }

    /// The server's base URL, as given.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends a request and reads the answer: the body of a 2xx, or the
    /// API's error.
    fn call(
        &self,
        method: Method,
        path: &str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
        limit: u64,
    ) -> Result<Vec<u8>, ClientError> {
        Ok(self.answer(method, path, headers, body, limit)?.body)
    }

    /// [`Api::call`], with the whole answer: a `304 Not Modified` comes
    /// back as it is, for the caller that asked with `If-None-Match`.
    fn answer(
        &self,
        method: Method,
        path: &str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
        limit: u64,
    ) -> Result<Response, ClientError> {
        let conditional = headers.iter().any(|(k, _)| *k == "if-none-match");
        let res = self.exchange.exchange(Request {
            method,
            path: path.to_owned(),
            headers,
            body,
            limit,
        })?;
        let status = res.status;
        if status == 304 && conditional {
            return Ok(res);
        }
        if (300..400).contains(&status) {
            // Never followed: it would carry the handle wherever it points.
            let to = res.location.as_deref().unwrap_or("elsewhere");
            return Err(ClientError::Server {
                status,
                code: "redirect".into(),
                message: format!(
                    "the server redirects to {}; if that is the Sotto server, give its address as --server",
                    to.chars().filter(char::is_ascii_graphic).take(200).collect::<String>()
                ),
            });
        }
        if !(200..300).contains(&status) {
            return Err(match serde_json::from_slice::<ErrorBody>(&res.body) {
                Ok(e) => ClientError::Server {
                    status,
                    code: e.error,
                    message: e.message,
                },
                Err(_) => ClientError::Server {
                    status,
                    code: "http".into(),
                    message: "the server answered with an error that is not Sotto's".into(),
                },
            });
        }
        Ok(res)
    }

    fn finish<T: DeserializeOwned>(body: &[u8]) -> Result<T, ClientError> {
        serde_json::from_slice(body).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        headers: Vec<(&'static str, String)>,
    ) -> Result<T, ClientError> {
        Self::finish(&self.call(Method::Get, path, headers, Vec::new(), MAX_RESPONSE)?)
    }

    fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Vec<u8>,
        headers: Vec<(&'static str, String)>,
    ) -> Result<T, ClientError> {
        Self::finish(&self.call(Method::Post, path, headers, body, MAX_RESPONSE)?)
    }

    fn json<B: Serialize>(body: &B) -> Result<Vec<u8>, ClientError> {
        serde_json::to_vec(body).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    fn handle_header(handle: &Handle) -> (&'static str, String) {
        (HANDLE_HEADER, handle.encode().to_string())
    }

    /// The headers that sign one desk request (`path` relative to the
    /// API's root, with its query): what every signed route checks.
    pub fn signed_headers(
        &self,
        signer: &DeskIdentity,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Vec<(&'static str, String)> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        // The path relative to the API's root: a server published under
        // a prefix (https://example.org/report/) sees the request without
        // it, behind the proxy that strips it.
        let mut nonce = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
        let sig = signer
            .signing_key()
            .sign_request(method, path, now, &nonce, body);
        use base64::Engine;
        vec![
            (RECIPIENT_HEADER, signer.card().fingerprint().id()),
            (TIMESTAMP_HEADER, now.to_string()),
            (
                NONCE_HEADER,
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(nonce),
            ),
            (SIGNATURE_HEADER, sig.to_string()),
        ]
    }

    /// `GET /v1/health`.
    pub fn health(&self) -> Result<Health, ClientError> {
        self.get("/v1/health", Vec::new())
    }

    /// `GET /v1/log`.
    pub fn log_info(&self) -> Result<LogInfo, ClientError> {
        self.get("/v1/log", Vec::new())
    }

    /// `GET /log/checkpoint`: the latest published checkpoint, as text.
    pub fn checkpoint(&self) -> Result<String, ClientError> {
        let body = self.call(
            Method::Get,
            "/log/checkpoint",
            Vec::new(),
            Vec::new(),
            64 * 1024,
        )?;
        String::from_utf8(body)
            .map_err(|_| ClientError::Protocol("the checkpoint is not UTF-8 text".into()))
    }

    /// `GET /log/tile/…`: a hash tile or an entry bundle.
    pub fn tile(&self, path: &sotto_tlog::tile::TilePath) -> Result<Vec<u8>, ClientError> {
        // 256 entries of at most 2 + 65535 bytes; ours are far smaller.
        let limit = 256 * (2 + 65_535);
        self.call(
            Method::Get,
            &format!("/log/{path}"),
            Vec::new(),
            Vec::new(),
            limit,
        )
    }

    /// `GET /v1/log/rosters`: the desks' rosters at the latest checkpoint,
    /// signed (checked by [`log::first_contact`]).
    pub fn log_rosters(&self) -> Result<sotto_wire::api::LogRosters, ClientError> {
        self.get("/v1/log/rosters", Vec::new())
    }

    /// `GET /v1/log/inclusion`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, ClientError> {
        self.get(
            &format!("/v1/log/inclusion?index={index}&size={size}"),
            Vec::new(),
        )
    }

    /// `GET /v1/log/consistency`.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<ConsistencyProof, ClientError> {
        self.get(
            &format!("/v1/log/consistency?from={from}&to={to}"),
            Vec::new(),
        )
    }

    /// `GET /v1/transparency`.
    pub fn transparency(&self) -> Result<Transparency, ClientError> {
        self.get("/v1/transparency", Vec::new())
    }

    /// `GET /v1/desks`.
    pub fn desks(&self) -> Result<DeskList, ClientError> {
        self.get("/v1/desks", Vec::new())
    }

    /// `GET /v1/desks/{desk}/resources`: the whole referral directory.
    pub fn resources(&self, desk: &str) -> Result<sotto_wire::resources::Directory, ClientError> {
        self.get(
            &format!("/v1/desks/{}/resources", path_segment(desk)),
            Vec::new(),
        )
    }

    /// `GET /v1/desks/{desk}`.
    pub fn desk(&self, name: &str) -> Result<DeskInfo, ClientError> {
        self.get(&format!("/v1/desks/{}", path_segment(name)), Vec::new())
    }

    /// `POST /v1/desks/{desk}/challenge`.
    pub fn challenge(&self, desk: &str) -> Result<ChallengeResponse, ClientError> {
        self.post(
            &format!("/v1/desks/{}/challenge", path_segment(desk)),
            Vec::new(),
            Vec::new(),
        )
    }

    /// `POST /v1/cases`.
    pub fn open_case(&self, handle: &Handle, open: &OpenCase) -> Result<CaseOpened, ClientError> {
        self.post(
            "/v1/cases",
            Self::json(open)?,
            vec![Self::handle_header(handle)],
        )
    }

    /// `GET /v1/reporter/case`, every page of the thread.
    pub fn reporter_status(&self, handle: &Handle) -> Result<ReporterStatus, ClientError> {
        paged::whole(|after| self.reporter_page(handle, after))
    }

    /// `GET /v1/reporter/case[?after=SEQ]`: one page of the thread.
    pub fn reporter_page(
        &self,
        handle: &Handle,
        after: Option<u64>,
    ) -> Result<ReporterStatus, ClientError> {
        let path = paged_path("/v1/reporter/case", after);
        self.get(&path, vec![Self::handle_header(handle)])
    }

    /// `GET /v1/reporter/case?limit=1`: the case with its report alone,
    /// for a client that needs the readers the report names and the
    /// case's figures, not the thread (a follow-up, a later page).
    pub fn reporter_report(&self, handle: &Handle) -> Result<ReporterStatus, ClientError> {
        self.get(
            "/v1/reporter/case?limit=1",
            vec![Self::handle_header(handle)],
        )
    }

    /// [`Api::reporter_page`], unless the case is still as the entity tag
    /// `known` saw it: then `None` (a `304`, no body). Otherwise the page
    /// and the case's new tag.
    pub fn reporter_page_if(
        &self,
        handle: &Handle,
        after: Option<u64>,
        known: Option<&str>,
    ) -> Result<Option<(ReporterStatus, Option<String>)>, ClientError> {
        let mut headers = vec![Self::handle_header(handle)];
        if let Some(tag) = known {
            headers.push(("if-none-match", tag.to_owned()));
        }
        let path = paged_path("/v1/reporter/case", after);
        let res = self.answer(Method::Get, &path, headers, Vec::new(), MAX_RESPONSE)?;
        if res.status == 304 {
            return Ok(None);
        }
        Ok(Some((Self::finish(&res.body)?, res.etag)))
    }

    /// `GET /v1/reporter/case/receipt`: the promise, and the receipt once
    /// published.
    pub fn reporter_receipt(
        &self,
        handle: &Handle,
    ) -> Result<sotto_wire::api::CaseReceipt, ClientError> {
        self.get(
            "/v1/reporter/case/receipt",
            vec![Self::handle_header(handle)],
        )
    }

    /// `POST /v1/reporter/case/escalate`.
    pub fn escalate(
        &self,
        handle: &Handle,
        e: &sotto_wire::api::Escalate,
    ) -> Result<sotto_wire::api::Escalated, ClientError> {
        self.post(
            "/v1/reporter/case/escalate",
            Self::json(e)?,
            vec![Self::handle_header(handle)],
        )
    }

    /// `POST /v1/reporter/case/messages`.
    pub fn reporter_post(
        &self,
        handle: &Handle,
        msg: &PostMessage,
    ) -> Result<MessagePosted, ClientError> {
        self.post(
            "/v1/reporter/case/messages",
            Self::json(msg)?,
            vec![Self::handle_header(handle)],
        )
    }

    /// `GET /v1/inbox`, signed, every page.
    pub fn inbox(&self, signer: &DeskIdentity) -> Result<Inbox, ClientError> {
        let mut inbox = self.inbox_page(signer, None)?;
        let mut seen = 0;
        while let Some(after) = inbox.next.take() {
            let mut page = self.inbox_page(signer, Some(&after))?;
            seen += 1;
            if seen > 100_000 || page.next.as_deref() == Some(after.as_str()) {
                return Err(ClientError::Protocol(
                    "the server's inbox pages do not end".into(),
                ));
            }
            inbox.cases.append(&mut page.cases);
            inbox.next = page.next;
        }
        Ok(inbox)
    }

    /// `GET /v1/inbox[?after=CURSOR]`, signed: one page.
    pub fn inbox_page(
        &self,
        signer: &DeskIdentity,
        after: Option<&str>,
    ) -> Result<Inbox, ClientError> {
        let path = match after {
            Some(cursor) => format!("/v1/inbox?after={}", path_segment(cursor)),
            None => "/v1/inbox".to_owned(),
        };
        self.get(&path, self.signed_headers(signer, "GET", &path, b""))
    }

    /// `GET /v1/cases/{case}`, signed, every page of the thread.
    pub fn desk_case(&self, signer: &DeskIdentity, case: &str) -> Result<DeskCase, ClientError> {
        paged::whole(|after| self.desk_case_page(signer, case, after))
    }

    /// `GET /v1/cases/{case}[?after=SEQ]`, signed: one page of the thread.
    pub fn desk_case_page(
        &self,
        signer: &DeskIdentity,
        case: &str,
        after: Option<u64>,
    ) -> Result<DeskCase, ClientError> {
        let path = paged_path(&format!("/v1/cases/{}", path_segment(case)), after);
        self.get(&path, self.signed_headers(signer, "GET", &path, b""))
    }

    /// `GET /v1/cases/{case}?limit=1`, signed: the case with its report
    /// alone, for a client that needs the report, not the thread.
    pub fn desk_case_report(
        &self,
        signer: &DeskIdentity,
        case: &str,
    ) -> Result<DeskCase, ClientError> {
        let path = format!("/v1/cases/{}?limit=1", path_segment(case));
        self.get(&path, self.signed_headers(signer, "GET", &path, b""))
    }

    /// `POST /v1/cases/{case}/shares`, signed.
    pub fn share(
        &self,
        signer: &DeskIdentity,
        case: &str,
        share: &sotto_wire::api::ShareCase,
    ) -> Result<sotto_wire::api::CaseShared, ClientError> {
        let path = format!("/v1/cases/{}/shares", path_segment(case));
        let body = Self::json(share)?;
        let headers = self.signed_headers(signer, "POST", &path, &body);
        self.post(&path, body, headers)
    }

    /// `POST /v1/cases/{case}/messages`, signed.
    pub fn desk_post(
        &self,
        signer: &DeskIdentity,
        case: &str,
        msg: &PostMessage,
    ) -> Result<MessagePosted, ClientError> {
        let path = format!("/v1/cases/{}/messages", path_segment(case));
        let body = Self::json(msg)?;
        let headers = self.signed_headers(signer, "POST", &path, &body);
        self.post(&path, body, headers)
    }

    /// `POST /v1/cases/{case}/state`, signed.
    pub fn set_state(
        &self,
        signer: &DeskIdentity,
        case: &str,
        change: &SetState,
    ) -> Result<StateChanged, ClientError> {
        let path = format!("/v1/cases/{}/state", path_segment(case));
        let body = Self::json(change)?;
        let headers = self.signed_headers(signer, "POST", &path, &body);
        self.post(&path, body, headers)
    }
}

/// Percent-encodes a path segment (desk names may hold spaces).
fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A case's path, for the page after `after`.
fn paged_path(path: &str, after: Option<u64>) -> String {
    match after {
        Some(seq) => format!("{path}?after={seq}"),
        None => path.to_owned(),
    }
}
