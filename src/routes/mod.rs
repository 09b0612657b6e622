//! The `/v1` API, one module per resource, and the state they share.
//!
//! Handlers never log: no line per request, none with request data. SQLite
//! work runs on actix's blocking pool (`web::block`) so the async workers
//! never wait on the disk; WAL lets reads proceed beside a write.

use std::path::PathBuf;
use std::sync::Mutex;

use actix_web::web;
use ring::hmac;
use sotto_envelope::pow::ChallengeKey;
use sotto_store::Store;
use sotto_wire::api::Deadlines;
use sotto_wire::{CaseState, Day};

use crate::auth::ReplayGuard;
use crate::config::Settings;
use crate::error::ApiError;

pub mod cases;
pub mod desks;
pub mod health;
pub mod inbox;
pub mod log;
pub mod reporter;
pub mod transparency;

/// What every handler can reach.
#[derive(Debug)]
pub struct AppState {
    /// Connections to the database.
    pub db: Db,
    /// Keys the handle hashes.
    pub pepper: hmac::Key,
    /// Authenticates proof-of-work challenges.
    pub challenges: ChallengeKey,
    /// Signed requests already seen.
    pub replay: ReplayGuard,
    /// The transparency log's key and identity.
    pub log: crate::tlog::Log,
    /// The public figures, derived from the published log.
    pub figures: transparency::Figures,
    /// The settings.
    pub settings: Settings,
    /// Where this server answers on loopback, for the no-JavaScript pages
    /// (which run the reporter's client against it).
    pub base_url: String,
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
        Ok(match store.desk_deadlines(desk_id)? {
            Some(d) => Deadlines {
                acknowledge_days: d.acknowledge_days,
                update_days: d.update_days,
                feedback_months: d.feedback_months,
            },
            None => self.settings.deadlines(),
        })
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

    /// What the handlers owe on a stored case.
    pub fn case_due(&self, store: &Store, row: &sotto_store::CaseRow) -> Result<Due, ApiError> {
        let deadlines = self.deadlines(store, row.desk_id)?;
        Ok(Due::of(
            &deadlines,
            state_of(&row.state)?,
            day(&row.opened_on)?,
            row.desk_first_on.as_deref().map(day).transpose()?,
            row.desk_updated_on.as_deref().map(day).transpose()?,
        ))
    }
}

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

/// A small pool of SQLite connections.
#[derive(Debug)]
pub struct Db {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
}

impl Db {
    /// A pool over the database at `path` (opened and migrated once here).
    pub fn open(path: PathBuf) -> Result<Self, sotto_store::StoreError> {
        let first = Store::open(&path)?;
        Ok(Self {
            path,
            idle: Mutex::new(vec![first]),
        })
    }

    fn take(&self) -> Result<Store, ApiError> {
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        match idle {
            Some(s) => Ok(s),
            None => Ok(Store::open(&self.path)?),
        }
    }

    fn give_back(&self, store: Store) {
        if let Ok(mut v) = self.idle.lock() {
            if v.len() < 16 {
                v.push(store);
            }
        }
    }
}

/// Runs `f` with a connection on the blocking pool.
pub async fn with_store<T, F>(state: &web::Data<AppState>, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut Store, &AppState) -> Result<T, ApiError> + Send + 'static,
{
    let state = state.clone();
    web::block(move || {
        let mut store = state.db.take()?;
        let out = f(&mut store, &state);
        state.db.give_back(store);
        out
    })
    .await?
}

/// Parses a stored day; the schema guarantees the form.
pub fn day(s: &str) -> Result<Day, ApiError> {
    Day::parse(s).ok_or_else(|| ApiError::internal(&"stored day does not parse"))
}

/// A case's erasure as sent to clients.
pub fn erasure(row: &sotto_store::CaseRow) -> Result<Option<sotto_wire::api::Erasure>, ApiError> {
    row.erased
        .as_ref()
        .map(|e| {
            Ok(sotto_wire::api::Erasure {
                on: day(&e.on_day)?,
                entry: e.entry,
            })
        })
        .transpose()
}

/// Parses a stored state; the schema guarantees the value.
pub fn state_of(s: &str) -> Result<sotto_wire::CaseState, ApiError> {
    sotto_wire::CaseState::parse(s)
        .ok_or_else(|| ApiError::internal(&"stored state does not parse"))
}

/// Routes under `/v1`, and the log's tiles under `/log`. Each path is a
/// resource, so a wrong method gets 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/transparency").route(web::get().to(transparency::page)));
    cfg.service(
        web::scope(log::PREFIX)
            .service(web::resource("/checkpoint").route(web::get().to(log::checkpoint)))
            .service(web::resource("/tile/{tail:.*}").route(web::get().to(log::tile))),
    );
    cfg.service(
        web::scope("/v1")
            .service(web::resource("/health").route(web::get().to(health::health)))
            .service(web::resource("/log").route(web::get().to(log::info)))
            .service(web::resource("/transparency").route(web::get().to(transparency::json)))
            .service(web::resource("/log/inclusion").route(web::get().to(log::inclusion)))
            .service(web::resource("/log/consistency").route(web::get().to(log::consistency)))
            .service(web::resource("/log/frontier").route(web::get().to(log::frontier)))
            .service(web::resource("/desks").route(web::get().to(desks::list)))
            .service(web::resource("/desks/{desk}").route(web::get().to(desks::info)))
            .service(
                web::resource("/desks/{desk}/challenge").route(web::post().to(desks::challenge)),
            )
            .service(
                web::resource("/desks/{desk}/resources").route(web::get().to(desks::resources)),
            )
            .service(web::resource("/cases").route(web::post().to(cases::open)))
            .service(web::resource("/reporter/case").route(web::get().to(reporter::status)))
            .service(
                web::resource("/reporter/case/receipt").route(web::get().to(reporter::receipt)),
            )
            .service(
                web::resource("/reporter/case/messages")
                    .route(web::post().to(reporter::post_message)),
            )
            .service(
                web::resource("/reporter/case/escalate").route(web::post().to(reporter::escalate)),
            )
            .service(web::resource("/inbox").route(web::get().to(inbox::inbox)))
            .service(web::resource("/cases/{case}").route(web::get().to(inbox::case)))
            .service(
                web::resource("/cases/{case}/messages").route(web::post().to(inbox::post_message)),
            )
            .service(web::resource("/cases/{case}/state").route(web::post().to(inbox::set_state)))
            .service(web::resource("/cases/{case}/shares").route(web::post().to(inbox::share))),
    );
}
