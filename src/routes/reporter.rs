//! The reporter's side: status and follow-ups, authenticated by the handle
//! (see [`Reporter`]).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sotto_envelope::sign::CaseId;
use sotto_wire::api::{Escalate, Escalated, PostMessage, ReporterStatus};
use sotto_wire::CaseState;

use super::checks::{desk_by_name, not_erased, signature_field};
use super::extract::Reporter;
use super::fresh::{Asker, Conditional, Fresh};
use super::thread::{self, Author};
use super::views::{case_receipt, reporter_status};
use crate::error::{parse_json, ApiError};

/// How many bytes of envelopes a status may read on the HTTP worker
/// itself: a page larger than this is read on the blocking pool instead.
/// About 40 messages of the smallest padding bucket: a first visit or a
/// new message, not a long thread read in one go.
const ON_WORKER_BYTES: usize = 64 << 10;

/// `GET /v1/reporter/case[?after=SEQ][&limit=N]`: one keyed hash; then
/// `404` for a handle no case has, and `304` for a client that holds the
/// tag this worker last made for the case, if nothing was written since,
/// both from memory ([`crate::known`], [`super::fresh::Recall`]); else the case's row (three indexed
/// lookups), then `304` if the client holds the case already, or the
/// case's rows with one page of its thread.
pub async fn status(req: HttpRequest, reporter: Reporter) -> Result<HttpResponse, ApiError> {
    let ask = Conditional::of(&req)?;
    // A flood of unknown handles ends here: no memory of tags searched.
    reporter.known()?;
    let recall = reporter.recall();
    if let Some(tag) = recall.tag(&reporter.hash()).filter(|t| ask.holds(*t)) {
        return Ok(Fresh::<ReporterStatus>::NotModified(tag).respond());
    }
    // A poll that finds something new and a status with a small page end
    // here: a few indexed reads on this worker, no hop to the blocking
    // pool (docs/benchmarks.md measured both).
    let here = reporter.on_row(|store, st, row| {
        ask.read(store, st, &row, Asker::Reporter, || {
            reporter_status(store, st, &row, Asker::Reporter, ask.page, ON_WORKER_BYTES)
        })
    })?;
    recall.keep(&reporter.hash(), here.tag());
    if let Some(answer) = here.made() {
        return Ok(answer.respond());
    }
    let status = reporter.on_case(move |store, st, row| {
        ask.read(store, st, &row, Asker::Reporter, || {
            reporter_status(store, st, &row, Asker::Reporter, ask.page, usize::MAX)?
                .ok_or_else(|| ApiError::internal(&"a page without a bound was refused"))
        })
    });
    Ok(status.await?.respond())
}

/// `GET /v1/reporter/case/receipt`: the log's promise for the case's
/// opening, and its receipt once a published checkpoint covers it (until
/// then `receipt` is null, with `Retry-After`). For the reporter who holds
/// only the promise, who kept nothing, or whose client lost the answer to
/// the upload.
pub async fn receipt(reporter: Reporter) -> Result<HttpResponse, ApiError> {
    let answer = reporter
        .on_case(|store, st, row| case_receipt(store, st, &row))
        .await?;
    let mut response = HttpResponse::Ok();
    if let Some(seconds) = answer.receipt_after_seconds {
        response.insert_header((header::RETRY_AFTER, seconds.to_string()));
    }
    Ok(response.json(answer))
}

/// `POST /v1/reporter/case/messages`: a follow-up from the reporter, signed
/// with the key registered when the case was opened.
pub async fn post_message(body: web::Bytes, reporter: Reporter) -> Result<HttpResponse, ApiError> {
    let msg: PostMessage = parse_json(&body)?;
    let signature = signature_field(&msg.signature)?;
    let posted = reporter.on_case_checking(move |store, st, row| {
        not_erased(&row)?;
        thread::post_message(store, st, &row, Author::Reporter, &msg, &signature)
    });
    Ok(HttpResponse::Created().json(posted.await?))
}

/// `POST /v1/reporter/case/escalate`: once the desk has let the
/// acknowledgement deadline pass with nobody acting on the case, the
/// reporter hands it on to readers of another desk, each share signed with
/// the reporter's key. The other desk's readers they leave out can never be
/// added later.
pub async fn escalate(body: web::Bytes, reporter: Reporter) -> Result<HttpResponse, ApiError> {
    let e: Escalate = parse_json(&body)?;
    let done = reporter.on_case_checking(move |store, st, row| {
        not_erased(&row)?;
        if e.desk == row.desk {
            return Err(ApiError::bad_request(
                "same_desk",
                "escalate to another desk than the one the case is at",
            ));
        }
        let target = desk_by_name(store, &e.desk)?;
        let case_state = row.state;
        if case_state != CaseState::Received || row.desk_first_on.is_some() {
            return Err(ApiError::conflict(
                "not_escalable",
                format!(
                    "escalation is for a report nobody has acknowledged; yours is {case_state}"
                ),
            ));
        }
        let due = row
            .opened_on
            .plus(st.deadlines_or_default(row.desk_deadlines).acknowledge_days);
        if st.today() <= due {
            return Err(ApiError::conflict(
                "not_late",
                format!(
                    "the desk has until {due} to acknowledge your report; you can escalate from {}",
                    due.plus(1)
                ),
            ));
        }
        if e.shares.is_empty() {
            return Err(ApiError::bad_request(
                "no_readers",
                "choose at least one reader of the other desk",
            ));
        }
        thread::within_readers(store.case_readers(&row.id)?.len() + e.shares.len())?;
        let mut checked = Vec::new();
        for (i, s) in e.shares.iter().enumerate() {
            if s.desk != e.desk || e.shares[..i].iter().any(|o| o.reader == s.reader) {
                return Err(ApiError::bad_request(
                    "bad_share",
                    "each share is for a different reader of the desk escalated to",
                ));
            }
            checked.push(thread::check_share(store, st, &row, Author::Reporter, s)?);
        }
        let left_out: Vec<String> = store
            .active_recipients(target.id)?
            .into_iter()
            .map(|r| r.id)
            .filter(|id| !e.shares.iter().any(|s| &s.reader == id))
            .collect();
        thread::record_escalation(store, st, &row, &checked, &left_out)?;
        Ok(Escalated {
            case: CaseId(row.id).to_string(),
            desk: target.name,
        })
    });
    Ok(HttpResponse::Created().json(done.await?))
}
