//! Builds the server: opens the data directory, binds its own listener
//! (port 0 picks a free one, which the tests use), and wires the routes.

use std::net::TcpListener;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
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
use crate::state::{with_store, AppState, Db};
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
        {
            let mut store = sotto_store::Store::open(&dir.db_path())?;
            log.check_identity(&store)?;
            let today = settings.today();
            store.ensure_desk(DEFAULT_DESK, "The community's reporting desk.", today)?;
            // Whatever happened since the last run is published now; from
            // here on, once per interval.
            log.publish(&mut store, today, true)?;
        }
        let pepper = hmac::Key::new(hmac::HMAC_SHA256, dir.pepper()?.as_ref());
        let challenges = ChallengeKey::derive(&server_key);
        let listener =
            TcpListener::bind(&settings.listen).map_err(|source| StartError::Listen {
                addr: settings.listen.clone(),
                source,
            })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let base_url = loopback_url(&listener);
        let workers = settings.workers;
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
            db,
            pepper,
            challenges,
            replay: ReplayGuard::default(),
            log,
            figures: Default::default(),
            gates: Gates::new(&settings),
            nojs_log: Default::default(),
            settings,
            public,
        });
        spawn_publisher(state.clone());
        let mut server = HttpServer::new(move || app(state.clone()))
            // A client that closes its side has gone: its request is
            // dropped with the work it waits for (see `crate::gate`),
            // instead of running on for nobody.
            .h1_allow_half_closed(false)
            .listen(listener)
            .map_err(|source| StartError::Listen {
                addr: "listener".into(),
                source,
            })?;
        if workers > 0 {
            server = server.workers(workers);
        }
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
    App::new()
        .app_data(state)
        .app_data(web::PayloadConfig::new(max_body))
        .wrap(ErrorHandlers::new().default_handler(json_errors))
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

/// Looks every second for something to publish: operator events at once,
/// case events once per checkpoint interval (see [`crate::tlog`]). A
/// failure is logged (without request data) and retried.
fn spawn_publisher(state: web::Data<AppState>) {
    use std::time::{Duration, Instant};
    let interval = Duration::from_secs(state.settings.checkpoint_interval_seconds);
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(Duration::from_secs(1));
        let mut batch_started = Instant::now();
        loop {
            tick.tick().await;
            let batch_due = batch_started.elapsed() >= interval;
            let published = with_store(&state, move |store, st| {
                if batch_due {
                    Log::apply_retention(store, st.today(), st.settings.retention_days)?;
                }
                Ok(st.log.publish(store, st.today(), batch_due)?)
            })
            .await;
            match published {
                Ok(_) if batch_due => batch_started = Instant::now(),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "publishing a checkpoint failed"),
            }
        }
    });
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError {
        status: StatusCode::NOT_FOUND,
        code: "not_found",
        message: "no such route; see docs/api.md".into(),
    })
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
