//! `/v1/transparency`: public figures per month, derived only from the
//! published log, so that anyone can re-derive them with `sotto audit log`.
//! The page at `/transparency` shows the same figures (`crate::web::transparency`).

use actix_web::{web, HttpResponse};
use sotto_tlog::{Leaf, Replay};
use sotto_wire::api::Transparency;

use crate::error::ApiError;
use crate::state::{with_store, AppState};
use crate::tlog::Log;

/// The figures at the latest published checkpoint.
pub async fn figures(state: &web::Data<AppState>) -> Result<Transparency, ApiError> {
    with_store(state, |store, st| {
        let published = Log::published_size(store)?;
        let mut cache = st
            .figures
            .0
            .lock()
            .map_err(|_| ApiError::internal(&"figures lock poisoned"))?;
        // Deadlines are settings: when the operator changes one, the figures
        // are replayed again from the start with the new ones.
        let (default_days, desk_days) = st.figure_deadlines(store)?;
        if cache
            .as_ref()
            .is_some_and(|r| r.desk_acknowledge_days != desk_days)
        {
            *cache = None;
        }
        let replay = cache.get_or_insert_with(|| Replay::with_desks(default_days, desk_days));
        if replay.size < published {
            for leaf in store.leaves(replay.size, published)? {
                match Leaf::decode(&leaf) {
                    // Problems are for auditors; the figures count what is there.
                    Some(l) => drop(replay.apply(&l)),
                    None => replay.size += 1,
                }
            }
        }
        Ok(Transparency {
            origin: st.log.origin().to_owned(),
            size: replay.size,
            acknowledge_days: replay.acknowledge_days,
            desk_acknowledge_days: replay.desk_acknowledge_days.clone(),
            months: replay.figures(),
        })
    })
    .await
}

/// `GET /v1/transparency`.
pub async fn json(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(figures(&state).await?))
}
