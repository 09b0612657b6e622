//! `POST /v1/cases`: open a case.
//!
//! Every check runs before anything is written ([`super::opening`]), and
//! the write is all or nothing: a refused request stores nothing (it may
//! share a transaction with the openings queued beside it, and a failure
//! in one runs each again alone: `Store::open_case`). The checks (proof
//! of work, signature and envelope, hashing the whole envelope once)
//! run on the blocking pool behind the `openings` gate
//! ([`crate::gate`]), so a flood waits in a bounded queue or gets 503. The
//! answer holds the log's promise, not a receipt: the opening is published
//! with the next batch, and its index would date other cases.

use actix_web::{web, HttpResponse};
use sotto_wire::api::CaseOpened;

use super::checks::{already_used, desk_by_name};
use super::extract::Reporter;
use super::opening::validate;
use super::views::due;
use crate::auth::now_unix;
use crate::error::{parse_json, ApiError};
use crate::state::{with_store, AppState};

/// `POST /v1/cases`.
pub async fn open(
    body: web::Bytes,
    reporter: Reporter,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let opening = state
        .gates
        .openings
        .run(move || {
            validate(
                parse_json(&body)?,
                &st.challenges,
                now_unix(),
                st.settings.max_envelope_bytes,
            )
        })
        .await?;
    let opened = with_store(&state, move |store, st| {
        let desk = desk_by_name(store, opening.desk())?;
        opening.check_active(&store.active_recipients(desk.id)?)?;
        // Known before it is written: a poll that finds the case finds its
        // handle known.
        st.known.add(&reporter.hash());
        let opened = store
            .open_case(&opening.new_case(desk.id, reporter.hash()), st.today())
            .map_err(already_used)?;
        Ok(CaseOpened {
            case: opening.case.to_string(),
            state: opening.state,
            opened: opened.row.opened_on,
            next_update_due: due(st, &opened.row).next_update,
            promise: st.log.promise_for(opened.leaf),
            receipt_after_seconds: st.batch.seconds_left(),
        })
    })
    .await?;
    state.effort.opened();
    Ok(HttpResponse::Created().json(opened))
}
