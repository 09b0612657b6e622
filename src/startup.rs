//! Builds the server: opens the data directory, binds its own listener
//! (port 0 picks a free one, which the tests use), and wires the routes.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, Service as _, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers};
use actix_web::{web, App, HttpResponse, HttpServer};
use ring::hmac;
use sotto_envelope::pow::ChallengeKey;

use crate::auth::ReplayGuard;
use crate::config::Settings;
use crate::datadir::DataDir;
use crate::error::{json_errors, ApiError};
use crate::gate::Gates;
use crate::routes;
use crate::state::{with_store, AppState, Db, CONNECTIONS};
use crate::tlog::Log;

/// The desk every deployment starts with.
pub const DEFAULT_DESK: &str = "default";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory.
    #[error(transparent)]
    DataDir(#[from] crate::datadir::DataDirError),
    /// The database.
    #[error("database: {0}")]
    Store(#[from] sotto_store::StoreError),
    /// The transparency log.
    #[error(transparent)]
    Log(#[from] crate::tlog::LogError),
    /// The listener.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// The error.
        source: std::io::Error,
    },
}

/// A built, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish()
    }
}

impl Application {
    /// Opens the data directory (creating it on first start), the database
    /// and the `default` desk, and binds the listener.
    pub fn build(settings: Settings) -> Result<Self, StartError> {
        let dir = DataDir::create(&settings.data_dir)?;
        let db = Db::open(dir.db_path())?;
        let server_key = dir.server_key()?;
        let log = Log::new(&server_key, &settings.log_origin)?;
        let pepper = hmac::Key::new(hmac::HMAC_SHA256, dir.pepper()?.as_ref());
        let (replay, known) = {
            let mut store = sotto_store::Store::open(&dir.db_path())?;
            log.check_identity(&store)?;
            let today = settings.today();
            store.ensure_desk(DEFAULT_DESK, "The community's reporting desk.", today)?;
            // Whatever happened since the last run is published now; from
            // here on, once per interval.
            log.publish(&mut store, today, true)?;
            let known = crate::known::KnownHandles::load(&store)?;
            (
                ReplayGuard::load(&store, settings.request_window_seconds, &pepper)?,
                known,
            )
        };
        let challenges = ChallengeKey::derive(&server_key);
        let listener =
            TcpListener::bind(&settings.listen).map_err(|source| StartError::Listen {
                addr: settings.listen.clone(),
                source,
            })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let base_url = loopback_url(&listener);
        let workers = settings.workers;
        let read_timeout = Duration::from_secs(settings.read_timeout_seconds);
        let threads = if workers > 0 {
            workers
        } else {
            std::thread::available_parallelism().map_or(1, usize::from)
        };
        // actix counts connections per worker.
        let per_worker = usize::try_from(settings.max_connections)
            .unwrap_or(usize::MAX)
            .div_ceil(threads)
            .max(1);
        let public = settings.public_url.clone().unwrap_or_else(|| {
            // A named log is a real deployment: its pages would point
            // reporters at this machine's loopback address.
            if settings.log_origin != crate::config::DEFAULT_LOG_ORIGIN {
                tracing::warn!(
                    "--public-url (SOTTO_PUBLIC_URL) is not set: the pages name this server's loopback address as its address"
                );
            }
            crate::config::PublicUrl::local(&base_url)
        });
        let state = web::Data::new(AppState {
            app: crate::state::AppBuilder(boxed_app),
            db,
            pepper,
            challenges,
            replay,
            effort: crate::effort::Effort::new(
                settings.pow_difficulty,
                settings.pow_max_difficulty,
                settings.pow_target_per_minute,
                Duration::from_secs(settings.pow_window_seconds),
            ),
            log,
            batch: crate::tlog::BatchClock::new(Duration::from_secs(
                settings.checkpoint_interval_seconds,
            )),
            figures: Default::default(),
            known,
            gates: Gates::new(&settings),
            nojs_log: Default::default(),
            settings,
            public,
        });
        spawn_upkeep(&state);
        let server = HttpServer::new(move || {
            // Runs on each worker's thread as it starts: its own connection
            // for the reads that stay on the worker (`state::on_worker`).
            if let Err(e) = state.db.open_for_worker() {
                tracing::error!(error = %e, "a worker could not open the database");
            }
            app(state.clone())
        })
        // A client that closes its side has gone: its request is
        // dropped with the work it waits for (see `crate::gate`),
        // instead of running on for nobody.
        .h1_allow_half_closed(false)
        .client_request_timeout(read_timeout)
        .max_connections(per_worker)
        // actix's default, 512 blocking threads over the workers, lets a
        // burst start a thread, a connection and a malloc arena per
        // request: memory the process keeps. As many as the pool keeps
        // connections is enough for SQLite (one writer at a time) and
        // for the gated checks; more wait for a thread.
        .worker_max_blocking_threads(CONNECTIONS.div_ceil(threads).max(2))
        .listen(listener)
        .map_err(|source| StartError::Listen {
            addr: "listener".into(),
            source,
        })?
        .workers(threads);
        Ok(Self {
            port,
            server: server.run(),
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// [`app`], boxed, as [`AppState::app`] hands it to the pages that call
/// it in process.
fn boxed_app(state: web::Data<AppState>) -> crate::state::BoxedApp {
    use actix_service::{IntoServiceFactory as _, ServiceFactoryExt as _};
    actix_service::boxed::factory(
        app(state)
            .into_factory()
            .map(ServiceResponse::map_into_boxed_body),
    )
}

/// The application: the routes of the API and of the pages, the state,
/// the payload limit (about 4/3 of `--max-envelope-bytes`, for base64),
/// the security headers and the JSON errors. The server runs one per
/// worker; the no-JavaScript pages build one more to call in process
/// (`web::nojs::inprocess`), so both see the same routes and checks.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let max_body = state.settings.max_envelope_bytes.saturating_mul(4) / 3 + 64 * 1024;
    let read_timeout = Duration::from_secs(state.settings.read_timeout_seconds);
    App::new()
        .app_data(state)
        .app_data(web::PayloadConfig::new(max_body))
        .wrap(ErrorHandlers::new().default_handler(json_errors))
        .wrap_fn(move |mut req, srv| {
            // HEAD is GET without the body: the routes answer it as GET,
            // and the connection's codec, which saw HEAD, sends the head
            // alone.
            if req.method() == Method::HEAD {
                req.head_mut().method = Method::GET;
            }
            let expired = crate::deadline::guard(&mut req, read_timeout);
            let res = srv.call(req);
            async move { Ok(crate::deadline::answer(res.await?, expired.get())) }
        })
        .wrap(
            DefaultHeaders::new()
                .add(("x-content-type-options", "nosniff"))
                .add(("referrer-policy", "no-referrer"))
                .add(("cache-control", "no-store"))
                .add(("content-security-policy", crate::web::CSP))
                .add(("cross-origin-opener-policy", "same-origin"))
                .add(("cross-origin-resource-policy", "same-origin"))
                .add(("x-frame-options", "DENY"))
                .add((
                    "permissions-policy",
                    "camera=(), microphone=(), geolocation=(), interest-cohort=()",
                )),
        )
        .configure(routes::configure)
        .configure(crate::web::configure)
        .default_service(web::to(not_found))
}

/// Runs `task` every `period` on the server's runtime, the first time
/// after `first`.
fn every<F, Fut>(first: Duration, period: Duration, mut task: F)
where
    F: FnMut() -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    actix_web::rt::spawn(async move {
        let start = actix_web::rt::time::Instant::now() + first;
        let mut tick = actix_web::rt::time::interval_at(start, period);
        loop {
            tick.tick().await;
            task().await;
        }
    });
}

/// The server's own work, on timers. Each failure is logged (without
/// request data) and retried at the next tick.
fn spawn_upkeep(state: &web::Data<AppState>) {
    let second = Duration::from_secs(1);

    // Every second, something to publish: operator events at once, case
    // events once per checkpoint interval (see [`crate::tlog`]).
    let st = state.clone();
    every(Duration::ZERO, second, move || {
        let state = st.clone();
        async move {
            let batch_due = state.batch.due();
            let published = with_store(&state, move |store, st| {
                if batch_due {
                    Log::apply_retention(store, st.today(), st.settings.retention_days)?;
                }
                Ok(st.log.publish(store, st.today(), batch_due)?)
            })
            .await;
            match published {
                Ok(_) if batch_due => state.batch.restart(),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "publishing a checkpoint failed"),
            }
        }
    });

    // Every second, the replay guard's older generation deleted when it is
    // due, so that tags do not outlive their period while no desk request
    // comes to do it.
    let st = state.clone();
    every(Duration::ZERO, second, move || {
        let state = st.clone();
        async move {
            if state.replay.due() {
                if let Err(e) = with_store(&state, |store, st| st.replay.expire(store)).await {
                    tracing::error!(error = %e, "expiring the replay guard failed");
                }
            }
        }
    });

    // Every second, a write by another process (`sotto admin`) noticed, so
    // that no answer kept in memory outlives it by more (`routes::fresh`).
    let st = state.clone();
    every(Duration::ZERO, second, move || {
        let changes = st.db.changes().clone();
        async move {
            let asked = web::block(move || changes.notice_outside().map_err(|e| e.to_string()));
            if let Err(e) = asked.await.map_err(|e| e.to_string()).and_then(|r| r) {
                tracing::error!(error = %e, "asking the database for writes by another process failed");
            }
        }
    });

    // Every ten seconds, the write-ahead log emptied
    // (`Store::checkpoint`), so that it stays small under steady load (it
    // once reached 704 MB).
    let st = state.clone();
    every(Duration::ZERO, 10 * second, move || {
        let state = st.clone();
        async move {
            match with_store(&state, |store, _| Ok(store.checkpoint()?)).await {
                Ok(false) => {}
                Ok(true) => tracing::debug!("the write-ahead log was busy; trying again later"),
                Err(e) => tracing::error!(error = %e, "checkpointing the write-ahead log failed"),
            }
        }
    });

    // Once an hour, how many requests the HTTP parser refused, if any: one
    // line an hour however many there were, where each once had its own.
    let hour = 3600 * second;
    every(hour, hour, || async {
        let refused = crate::telemetry::refused_by_parser();
        if refused > 0 {
            tracing::warn!(refused, "requests the HTTP parser refused in the last hour");
        }
    });
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(
        "not_found",
        "no such route; see docs/api.md",
    ))
}

/// The URL of this server's own listener on loopback: an unspecified
/// address (`0.0.0.0`, `::`) is reached at its family's loopback.
fn loopback_url(listener: &TcpListener) -> String {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let Ok(addr) = listener.local_addr() else {
        return "http://127.0.0.1:0".into();
    };
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", std::net::SocketAddr::new(ip, addr.port()))
}
