//! What every handler can reach: the settings, the keys, the replay guard,
//! the log, and the SQLite connections: the pool behind [`with_store`],
//! the way a request reaches the database, and each worker's own
//! connection behind [`on_worker`].
//!
//! SQLite work runs on actix's blocking pool (`web::block`) so the async
//! workers never wait on the disk; WAL lets reads proceed beside a write.
//! The one exception is [`on_worker`]: a few indexed reads of
//! microseconds, for which the hop to the pool would cost more than the
//! read.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex};

use actix_web::web;
use ring::hmac;
use sotto_envelope::pow::ChallengeKey;
use sotto_store::{DeskDeadlines, Store};
use sotto_tlog::Replay;
use sotto_wire::api::Deadlines;
use sotto_wire::{CaseState, Day};

use crate::auth::ReplayGuard;
use crate::config::Settings;
use crate::error::ApiError;

/// The whole application, boxed: what the no-JavaScript pages call in
/// process ([`crate::web::nojs`]).
pub type BoxedApp = actix_service::boxed::BoxServiceFactory<
    actix_web::dev::AppConfig,
    actix_http::Request,
    actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
    actix_web::Error,
    (),
>;

/// What every handler can reach.
#[derive(Debug)]
pub struct AppState {
    /// Builds the application these routes belong to (set by
    /// [`crate::startup`]), for the pages that call it in process: handed
    /// down, so that no page module needs to name the module that builds
    /// the pages.
    pub app: AppBuilder,
    /// Connections to the database.
    pub db: Db,
    /// Keys the handle hashes.
    pub pepper: hmac::Key,
    /// Authenticates proof-of-work challenges.
    pub challenges: ChallengeKey,
    /// Signed requests already seen.
    pub replay: ReplayGuard,
    /// The proof-of-work difficulty, following the rate of new cases.
    pub effort: crate::effort::Effort,
    /// The transparency log's key and identity.
    pub log: crate::tlog::Log,
    /// When the next batch of case events is published.
    pub batch: crate::tlog::BatchClock,
    /// The public figures, derived from the published log.
    pub figures: Figures,
    /// The handle hash of every case, to turn unknown handles away
    /// without a read.
    pub known: crate::known::KnownHandles,
    /// The settings.
    pub settings: Settings,
    /// The bounded queues in front of expensive work.
    pub gates: crate::gate::Gates,
    /// Where the no-JavaScript pages' client has verified the log to, so
    /// that each report reads only what is new.
    pub nojs_log: crate::client::readers::SharedLog,
    /// Where reporters find it: `--public-url`, else the loopback address.
    pub public: crate::config::PublicUrl,
}

impl AppState {
    /// Today by the server's calendar.
    pub fn today(&self) -> Day {
        self.settings.today()
    }

    /// The deadlines of a desk: its own, or the server's defaults.
    pub fn deadlines(&self, store: &Store, desk_id: i64) -> Result<Deadlines, ApiError> {
        Ok(self.deadlines_or_default(store.desk_deadlines(desk_id)?))
    }

    /// A desk's own deadlines if it has any (as a case's row carries
    /// them), else the server's defaults.
    pub fn deadlines_or_default(&self, own: Option<DeskDeadlines>) -> Deadlines {
        match own {
            Some(d) => Deadlines {
                acknowledge_days: d.acknowledge_days,
                update_days: d.update_days,
                feedback_months: d.feedback_months,
            },
            None => self.settings.deadlines(),
        }
    }

    /// The acknowledgement deadlines the public figures use: the default,
    /// and each desk's own.
    pub fn figure_deadlines(
        &self,
        store: &Store,
    ) -> Result<(i64, std::collections::BTreeMap<String, i64>), ApiError> {
        let desks = store
            .all_desk_deadlines()?
            .into_iter()
            .map(|(name, d)| (name, d.acknowledge_days))
            .collect();
        Ok((self.settings.acknowledge_days, desks))
    }
}

/// [`AppState::app`]: a function, shown in `Debug` by name only.
#[derive(Clone, Copy)]
pub struct AppBuilder(pub fn(web::Data<AppState>) -> BoxedApp);

impl std::fmt::Debug for AppBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppBuilder")
    }
}

/// The replay of the published log behind the public figures, extended as
/// checkpoints come (see `routes::transparency`).
#[derive(Debug, Default)]
pub struct Figures(pub Mutex<Option<Replay>>);

/// What the handlers owe the reporter of an open case, and by when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The next news: the acknowledgement within `acknowledge_days` of
    /// opening, then an update every `update_days` after a handler last
    /// acted.
    pub next_update: Option<Day>,
    /// Feedback on what was done, `feedback_months` after the
    /// acknowledgement (or after its deadline, when it came late or not at
    /// all), as the EU Whistleblower Directive counts it.
    pub feedback: Option<Day>,
}

impl Due {
    /// The deadlines of a case in `state`, opened on `opened`, whose
    /// handlers first acted on `desk_first` and last on `desk_updated`.
    pub fn of(
        d: &Deadlines,
        state: CaseState,
        opened: Day,
        desk_first: Option<Day>,
        desk_updated: Option<Day>,
    ) -> Self {
        if !state.is_open() {
            return Self {
                next_update: None,
                feedback: None,
            };
        }
        let acknowledge_by = opened.plus(d.acknowledge_days);
        let next_update = match (state, desk_updated) {
            (CaseState::Received, None) => acknowledge_by,
            (_, Some(last)) => last.plus(d.update_days),
            (_, None) => opened.plus(d.update_days),
        };
        let acknowledged = desk_first.map_or(acknowledge_by, |f| f.min(acknowledge_by));
        Self {
            next_update: Some(next_update),
            feedback: Some(acknowledged.plus_months(d.feedback_months)),
        }
    }
}

/// Connections the pool keeps open. They are all opened at start, so a
/// request never opens one (each new one parses the schema and fills a
/// page cache of its own). The server runs no more blocking tasks at once
/// than this (see `crate::startup`); a task that finds none idle waits for
/// one.
pub const CONNECTIONS: usize = 16;

/// The pool of SQLite connections.
#[derive(Debug)]
pub struct Db {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
    returned: Condvar,
    changes: sotto_store::Changes,
}

thread_local! {
    /// Each HTTP worker's own connection, for the short indexed reads that
    /// run on the worker itself ([`on_worker`]).
    static WORKER_STORE: RefCell<Option<Store>> = const { RefCell::new(None) };
}

impl Db {
    /// A pool over the database at `path`: the first connection migrates
    /// it, then the others are opened.
    pub fn open(path: PathBuf) -> Result<Self, sotto_store::StoreError> {
        let mut idle = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            idle.push(Store::open(&path)?);
        }
        let changes = idle[0].changes()?;
        Ok(Self {
            path,
            idle: Mutex::new(idle),
            returned: Condvar::new(),
            changes,
        })
    }

    /// The count of the database's changes: read it before reading what
    /// may be kept in memory (see [`sotto_store::Changes`]).
    pub fn changes(&self) -> &sotto_store::Changes {
        &self.changes
    }

    /// Opens this thread's worker connection, if it has none: called as
    /// each HTTP worker starts, so no request opens it.
    pub fn open_for_worker(&self) -> Result<(), sotto_store::StoreError> {
        WORKER_STORE.with(|w| {
            let mut w = w.borrow_mut();
            if w.is_none() {
                *w = Some(Store::open(&self.path)?);
            }
            Ok(())
        })
    }

    /// An idle connection, waiting for one if all are in use.
    fn take(&self) -> Result<Store, ApiError> {
        let poisoned = || ApiError::internal(&"the connection pool's lock is poisoned");
        let mut idle = self.idle.lock().map_err(|_| poisoned())?;
        loop {
            if let Some(store) = idle.pop() {
                return Ok(store);
            }
            idle = self.returned.wait(idle).map_err(|_| poisoned())?;
        }
    }

    fn give_back(&self, store: Store) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(store);
            self.returned.notify_one();
        }
    }
}

/// A connection out of the pool, back in it when dropped (a task that
/// panics gives it back too: its transaction has rolled back by then).
struct Lent<'a> {
    db: &'a Db,
    store: Option<Store>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(store) = self.store.take() {
            self.db.give_back(store);
        }
    }
}

/// Runs `f` on this worker thread with its own connection, without a hop
/// to the blocking pool: only for a few short indexed reads and a bounded
/// read of envelopes (tens of microseconds), never a write or a scan, all
/// in one read transaction ([`Store::snapshot`]). A
/// thread without one (the no-JavaScript forms' in-process app) opens it
/// on first use.
pub fn on_worker<T>(
    state: &AppState,
    f: impl FnOnce(&Store, &AppState) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    state.db.open_for_worker()?;
    WORKER_STORE.with(|w| match w.borrow().as_ref() {
        Some(store) => store.snapshot(|store| f(store, state)),
        None => Err(ApiError::internal(&"the worker has no connection")),
    })
}

/// Runs `f` with a connection on the blocking pool.
pub async fn with_store<T, F>(state: &web::Data<AppState>, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut Store, &AppState) -> Result<T, ApiError> + Send + 'static,
{
    let state = state.clone();
    web::block(move || {
        let mut lent = Lent {
            db: &state.db,
            store: Some(state.db.take()?),
        };
        match lent.store.as_mut() {
            Some(store) => f(store, &state),
            None => Err(ApiError::internal(&"a lent connection went missing")),
        }
    })
    .await?
}
