//! `/transparency` and `/v1/transparency`: public figures per month,
//! derived only from the published log, so that anyone can re-derive them
//! with `sotto audit log`.

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

/// `GET /transparency`: the same figures as a page, with no script, style
/// or request to anywhere else.
pub async fn page(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let t = figures(&state).await?;
    let mut rows = String::new();
    for m in t.months.iter().rev() {
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            crate::html::esc(&m.month),
            m.received,
            m.acknowledged_in_time,
            m.acknowledged_late,
            m.resolved,
            m.record_only,
            m.bad_faith
        ));
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=\"7\">No reports yet.</td></tr>\n");
    }
    let body = format!(
        "<!doctype html>
<html lang=\"en\">
<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">
<title>Transparency: reports by month</title></head>
<body>
<main>
<h1>Reports by month</h1>
<p>Every report, reply and state change is an entry of a public, append-only log
(<a href=\"log/checkpoint\">latest checkpoint</a>). These figures are derived from its
first {size} entries and nothing else; anyone can derive them again with
<code>sotto audit log --server URL --state FILE</code>. A report counts as acknowledged in
time when a handler first changed its state within {days} days; record-only reports need
no acknowledgement.</p>
<table>
<caption>Log {origin}, {size} entries</caption>
<thead><tr><th scope=\"col\">Month</th><th scope=\"col\">Received</th><th scope=\"col\">Acknowledged in time</th><th scope=\"col\">Acknowledged late</th><th scope=\"col\">Resolved</th><th scope=\"col\">Record only</th><th scope=\"col\">Bad faith</th></tr></thead>
<tbody>
{rows}</tbody>
</table>
</main>
</body>
</html>
",
        size = t.size,
        days = t.acknowledge_days,
        origin = crate::html::esc(&t.origin),
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ))
        .body(body))
}
