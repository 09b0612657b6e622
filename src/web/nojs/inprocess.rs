//! The reporter's client run by the server for a no-JavaScript form, with
//! its requests carried to the server's own routes in process.
//!
//! The client code ([`crate::client::reporter`]) is synchronous: it seals,
//! solves the proof of work and checks the log between requests. So it runs
//! on a thread of its own ([`run`]), admitted by the `nojs` gate, whose
//! pass the thread holds until it ends: however many requests arrive, at
//! most `--nojs-concurrency` such threads exist. It is not a thread of
//! actix's blocking pool: the routes it calls use that pool for the
//! database, and a pool thread waiting on the same pool is how 1,100 posts
//! once stopped every route for minutes.
//!
//! Each request of the client ([`InProcess`]) goes over a channel back to
//! the page's own request, on its actix worker, which hands it to that
//! worker's instance of the whole application ([`crate::startup::app`],
//! handed down as [`AppState::app`], built on the worker's first form):
//! the same routes, extractors, checks, gates and rows as over HTTP,
//! without a socket, and no thread waits for a thread of the pool it holds.
//!
//! When the page's client goes away, actix drops the page's request, and
//! with it the channel: the client's next request fails, so the thread
//! stops before its next step (a report is not sealed, or not sent, for
//! nobody).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use actix_service::boxed::BoxService;
use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{AppConfig, Service, ServiceFactory, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method as HttpMethod, Uri, Version};
use actix_web::web::{self, Bytes};
use tokio::sync::{mpsc, oneshot};

use crate::client::exchange::{Exchange, Method, Request, Response};
use crate::client::{Api, ClientError};
use crate::gate::Pass;
use crate::state::AppState;

/// One request of the client, with where its answer goes.
struct Call {
    request: Request,
    answer: oneshot::Sender<Result<Response, ClientError>>,
}

/// The [`Exchange`] of the client thread: each request to the page's
/// request that serves it, and the answer back.
#[derive(Debug)]
struct InProcess {
    calls: mpsc::Sender<Call>,
}

/// The page's request has ended: its client went away.
fn gone() -> ClientError {
    ClientError::Network("the page's request ended; nothing more is sent".into())
}

impl Exchange for InProcess {
    fn exchange(&self, request: Request) -> Result<Response, ClientError> {
        let (answer, answered) = oneshot::channel();
        self.calls
            .blocking_send(Call { request, answer })
            .map_err(|_| gone())?;
        answered.blocking_recv().map_err(|_| gone())?
    }
}

/// Why [`run`] gave no result.
#[derive(Debug)]
pub enum Failed {
    /// The client code's own error.
    Client(ClientError),
    /// No thread could be started: as busy as a full queue.
    Busy,
}

/// The application as an in-process service.
type App = BoxService<actix_http::Request, ServiceResponse<BoxBody>, actix_web::Error>;

thread_local! {
    /// This worker's instance of the application, with the state it was
    /// built for: one per worker, as actix keeps one per worker for its
    /// connections, shared by the forms this worker serves at once.
    static APP: RefCell<Option<(web::Data<AppState>, Rc<App>)>> = const { RefCell::new(None) };
}

/// This worker's instance of the application for `state`, built on the
/// first form it serves. Built per form, it took about 0.2 ms of the 4 ms
/// a form holds its pass (docs/benchmarks.md). The state it was built for
/// is held with it, so an instance never serves another server's state.
async fn instance(state: &web::Data<AppState>) -> Result<Rc<App>, Failed> {
    let same = |(built_for, app): &(web::Data<AppState>, Rc<App>)| {
        std::ptr::eq(built_for.get_ref(), state.get_ref()).then(|| Rc::clone(app))
    };
    if let Some(app) = APP.with_borrow(|held| held.as_ref().and_then(same)) {
        return Ok(app);
    }
    let app = Rc::new(
        (state.app.0)(state.clone())
            .new_service(AppConfig::default())
            .await
            .map_err(|()| Failed::Client(ClientError::Protocol("the app did not start".into())))?,
    );
    APP.set(Some((state.clone(), Rc::clone(&app))));
    Ok(app)
}

/// Runs `f`, the reporter's client, on a thread of its own that holds
/// `pass`, and serves its requests in process until it is done.
pub async fn run<T: Send + 'static>(
    state: &web::Data<AppState>,
    pass: Pass,
    f: impl FnOnce(&Api) -> Result<T, ClientError> + Send + 'static,
) -> Result<T, Failed> {
    let app = instance(state).await?;
    let (calls, mut incoming) = mpsc::channel(1);
    // The server's own address for reporters, and its own log key: the
    // receipt names where the reporter comes back, and the key needs no
    // asking.
    let api = Api::with_exchange(&state.public.base(), Arc::new(InProcess { calls }))
        .with_log_key(state.log.verifier().clone());
    let (result, done) = oneshot::channel();
    std::thread::Builder::new()
        .name("sotto-nojs".into())
        .spawn(move || {
            let _pass = pass;
            let out = f(&api);
            // Closes the channel, which ends the loop below.
            drop(api);
            let _ = result.send(out);
        })
        .map_err(|_| Failed::Busy)?;
    while let Some(call) = incoming.recv().await {
        let answer = dispatch(&*app, call.request).await;
        let _ = call.answer.send(answer);
    }
    match done.await {
        Ok(out) => out.map_err(Failed::Client),
        Err(_) => Err(Failed::Client(ClientError::Protocol(
            "the server's client stopped".into(),
        ))),
    }
}

/// Hands one request to the application and reads its answer.
async fn dispatch<S, B>(app: &S, request: Request) -> Result<Response, ClientError>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let uri: Uri = request
        .path
        .parse()
        .map_err(|_| ClientError::Usage(format!("not a path: {}", request.path)))?;
    let length = request.body.len();
    let mut req = actix_http::Request::with_payload(Bytes::from(request.body).into());
    let head = req.head_mut();
    head.method = match request.method {
        Method::Get => HttpMethod::GET,
        Method::Post => HttpMethod::POST,
    };
    head.uri = uri;
    head.version = Version::HTTP_11;
    if request.method == Method::Post {
        head.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        head.headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    for (name, value) in request.headers {
        let name = HeaderName::try_from(name)
            .map_err(|_| ClientError::Usage(format!("not a header name: {name}")))?;
        let value = HeaderValue::try_from(value)
            .map_err(|_| ClientError::Usage("a header value that HTTP cannot carry".into()))?;
        head.headers.insert(name, value);
    }
    let res = match app.call(req).await {
        Ok(res) => res.into_parts().1.map_into_boxed_body(),
        Err(e) => e.error_response(),
    };
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let etag = res
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
    let body = match body::to_bytes_limited(res.into_body(), limit).await {
        Ok(Ok(bytes)) => bytes.to_vec(),
        Ok(Err(_)) => return Err(ClientError::Protocol("the answer broke off".into())),
        Err(_) => {
            return Err(ClientError::Network(format!(
                "the answer is larger than the {limit} bytes allowed"
            )))
        }
    };
    Ok(Response {
        status,
        location,
        etag,
        body,
    })
}
