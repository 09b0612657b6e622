//! One request and its answer, whatever carries them.
//!
//! [`Api`](super::Api) builds every request of the protocol (paths, the
//! handle header, desk signatures, JSON bodies) and reads every answer
//! (redirects refused, the API's errors, size limits); an [`Exchange`]
//! only carries them. Two carry them:
//!
//! - [`super::transport::Network`]: HTTPS, a named SOCKS5 proxy, or plain
//!   HTTP on this machine, with the refusals of [`super::transport`]. Every
//!   client on a user's machine uses it.
//! - The server's own no-JavaScript pages use one that hands each request
//!   to the server's routes in the same process (`web::nojs::inprocess`),
//!   so that the code that seals and opens a report is the reporter's
//!   client code, without a loopback connection.

use super::ClientError;

/// The two methods the protocol uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A read.
    Get,
    /// A write, with a JSON body (possibly empty).
    Post,
}

impl Method {
    /// As HTTP spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// A request, relative to the server's base address.
#[derive(Debug)]
pub struct Request {
    /// GET or POST.
    pub method: Method,
    /// The path and query, from the API's root (e.g. `/v1/inbox`).
    pub path: String,
    /// Extra headers: the handle, or a desk request's signature.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body of a POST (empty for a GET).
    pub body: Vec<u8>,
    /// Longest answer body accepted, in bytes.
    pub limit: u64,
}

/// An answer, before [`Api`](super::Api) judges it.
#[derive(Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// The `Location` header of a redirect, which is never followed.
    pub location: Option<String>,
    /// The `ETag` header, for a conditional read ([`super::Api::reporter_page_if`]).
    pub etag: Option<String>,
    /// The body (empty for a redirect), at most the request's limit.
    pub body: Vec<u8>,
}

/// Carries a request to the server and brings its answer back.
///
/// An error here means no answer came: the network failed, the answer was
/// too large, or (in process) the page's own request ended.
pub trait Exchange: Send + Sync + std::fmt::Debug {
    /// Sends `request` and waits for the answer.
    fn exchange(&self, request: Request) -> Result<Response, ClientError>;
}
