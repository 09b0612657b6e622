//! The forms for browsers without JavaScript (Tor Browser at "Safest").
//!
//! Here the server plays the reporter's client for one request: it makes
//! the token, or reads the one typed, and runs exactly the code of
//! `sotto report` ([`crate::client::reporter`]) against its own routes,
//! in process (`inprocess`: no loopback connection), so the same checks
//! hold and the same rows are written. The plaintext lives in this
//! request's memory only, in buffers wiped when it ends, and is never
//! logged. The pages say plainly that the server saw the text.
//!
//! Sealing and opening cost the server what a reporter's device would
//! otherwise spend, so every form waits its turn at the `nojs` gate
//! ([`crate::gate`]): when the queue is full, the page says the server is
//! busy (503 with `Retry-After`) before the form is even read.

mod form;
mod inprocess;
mod render;

use actix_multipart::Multipart;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use sotto_envelope::token::Token;
use zeroize::Zeroizing;

pub use self::form::TokenForm;
use self::form::{read_form, token_problem};
use self::inprocess::Failed;
pub use self::render::token_file;
use self::render::{case_page, token_page};
use super::ctx;
use super::pages::{self, Ctx, Nav};
use crate::client::reporter::{self, ReporterView, Submission};
use crate::client::{Api, ClientError};
use crate::error::RETRY_AFTER_SECONDS;
use crate::state::AppState;

/// The page of a full queue: nothing was done, come back later. A flood
/// gets many of these, so it is the small page, without the script.
fn busy(ctx: &Ctx, nav: Nav) -> HttpResponse {
    let mut page = pages::error_page_without_script(
        ctx,
        StatusCode::SERVICE_UNAVAILABLE,
        nav,
        ctx.lang.text("error.busy"),
    );
    page.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    page
}

/// An error of the client run on the reporter's behalf, as a page.
fn client_error(ctx: &Ctx, nav: Nav, e: &Failed) -> HttpResponse {
    let e = match e {
        Failed::Busy => return busy(ctx, nav),
        Failed::Client(e) => e,
    };
    let status = match e {
        ClientError::Server { status: 503, .. } => return busy(ctx, nav),
        ClientError::Server { status, .. } if (400..500).contains(status) => {
            StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST)
        }
        ClientError::Usage(_) | ClientError::Crypto(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::BAD_GATEWAY,
    };
    let message = match e {
        ClientError::Server { code, .. } if code == "unknown_desk" => {
            ctx.lang.text("error.unknown_desk").to_owned()
        }
        ClientError::Server { message, .. } => {
            ctx.lang.fill("error.server", &[("message", message)])
        }
        other => ctx
            .lang
            .fill("error.unknown", &[("message", &other.to_string())]),
    };
    pages::error_page(ctx, status, nav, &message)
}

/// Runs the reporter's client for this page, once the `nojs` gate admits
/// it (see [`inprocess`]).
async fn as_client<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&Api) -> Result<T, ClientError> + Send + 'static,
) -> Result<T, Failed> {
    let pass = state.gates.nojs.enter().await.map_err(|_| Failed::Busy)?;
    inprocess::run(state, pass, f).await
}

/// `POST /desk/{desk}/report`.
pub async fn report(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: Multipart,
) -> HttpResponse {
    let ctx = ctx(&req);
    if state.gates.nojs.is_full() {
        crate::gate::refuse().await;
        return busy(&ctx, Nav::Report);
    }
    let limit = state.settings.max_envelope_bytes;
    let mut posted = match read_form(form, limit).await {
        Ok(p) => p,
        Err(key) => {
            return pages::error_page(
                &ctx,
                StatusCode::BAD_REQUEST,
                Nav::Report,
                ctx.lang.text(key),
            )
        }
    };
    if posted.get("text").trim().is_empty() {
        return pages::error_page(
            &ctx,
            StatusCode::BAD_REQUEST,
            Nav::Report,
            ctx.lang.text("error.required"),
        );
    }
    let submission = Submission {
        desk: path.into_inner(),
        text: posted.get("text").to_owned(),
        when: posted.get("when").trim().to_owned(),
        involved: posted.get("involved").trim().to_owned(),
        category: Some(posted.get("category"))
            .filter(|c| sotto_wire::content::CATEGORIES.contains(c))
            .unwrap_or("")
            .to_owned(),
        lang: ctx.lang.tag.to_owned(),
        links: posted
            .get("links")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        attachments: std::mem::take(&mut posted.files),
        urgent: !posted.get("urgent").is_empty(),
        record_only: !posted.get("record_only").is_empty(),
        exclude: Vec::new(),
        only: Some(posted.all("reader")),
        known: None,
        shared_log: Some(state.nojs_log.clone()),
    };
    drop(posted);
    let done = as_client(&state, move |api| {
        let mut submission = submission;
        let done = reporter::submit(api, &submission);
        use zeroize::Zeroize;
        submission.text.zeroize();
        submission.when.zeroize();
        submission.involved.zeroize();
        submission.links.iter_mut().for_each(Zeroize::zeroize);
        for a in &mut submission.attachments {
            a.name.zeroize();
            a.data.zeroize();
        }
        done
    })
    .await;
    match done {
        Ok(done) => token_page(&ctx, &done),
        Err(Failed::Client(ClientError::Usage(m))) if m == reporter::READERS_CHANGED => {
            pages::error_page(
                &ctx,
                StatusCode::BAD_REQUEST,
                Nav::Report,
                ctx.lang.text("report.readers_changed"),
            )
        }
        Err(Failed::Client(ClientError::Usage(m))) if m.starts_with("nobody would receive") => {
            pages::error_page(
                &ctx,
                StatusCode::BAD_REQUEST,
                Nav::Report,
                ctx.lang.text("report.nobody"),
            )
        }
        Err(e) => client_error(&ctx, Nav::Report, &e),
    }
}

/// What the status page shows, read on the server for this request.
struct Seen {
    view: ReporterView,
    receipt: Result<ReceiptSeen, String>,
    resources: Vec<sotto_wire::resources::Resource>,
}

/// The case's receipt as the status page found it.
enum ReceiptSeen {
    /// Complete: the public log holds the opening at this entry.
    Included(u64),
    /// Only the log's promise, checked; the batch is due in this many
    /// seconds.
    Promised(Option<u64>),
}

/// The case as its reporter sees it, read by the client thread: one page
/// of its thread, the messages after `after` (from the first without it),
/// so the server never holds a whole long thread for a page.
fn seen(api: &Api, token: &Token, after: Option<u64>) -> Result<Seen, ClientError> {
    let view = reporter::status_page(api, token, after)?;
    let receipt = match reporter::fetch_receipt_for(api, token, &view.status) {
        Ok(r) => Ok(match r.file.receipt {
            Some(receipt) => ReceiptSeen::Included(receipt.leaf_index),
            None => ReceiptSeen::Promised(r.receipt_after_seconds),
        }),
        Err(e) => Err(e.to_string()),
    };
    // The whole directory: without a script on the reporter's device
    // there is nowhere to filter it but here, and the reporter's
    // region is never asked for.
    let resources = api
        .resources(&view.status.desk)
        .map(|d| d.entries)
        .unwrap_or_default();
    Ok(Seen {
        view,
        receipt,
        resources,
    })
}

/// `POST /status`.
pub async fn status(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    let ctx = ctx(&req);
    let token = match Token::parse(form.token()) {
        Ok(t) => t,
        Err(e) => return status_problem(&ctx, ctx.lang.text(token_problem(e))),
    };
    let Ok(after) = form.after() else {
        return status_problem(&ctx, ctx.lang.text("status.page.bad"));
    };
    show_case(&ctx, &state, token, after, None).await
}

fn status_problem(ctx: &Ctx, message: &str) -> HttpResponse {
    pages::page(
        ctx,
        StatusCode::BAD_REQUEST,
        ctx.lang.text("status.title"),
        Nav::Status,
        &pages::status_form(ctx, Some(message)),
    )
}

async fn show_case(
    ctx: &Ctx,
    state: &web::Data<AppState>,
    token: Token,
    after: Option<u64>,
    note: Option<&str>,
) -> HttpResponse {
    let shown = Zeroizing::new(token.to_display().to_string());
    let seen = as_client(state, move |api| seen(api, &token, after)).await;
    case_answer(ctx, state, seen, &shown, note)
}

/// The case page, or why it cannot be shown.
fn case_answer(
    ctx: &Ctx,
    state: &AppState,
    seen: Result<Seen, Failed>,
    shown: &str,
    note: Option<&str>,
) -> HttpResponse {
    match seen {
        Ok(seen) => case_page(ctx, state, &seen, shown, note),
        Err(Failed::Client(ClientError::Server { status: 404, .. })) => {
            status_problem(ctx, ctx.lang.text("status.unknown_case"))
        }
        Err(e) => client_error(ctx, Nav::Status, &e),
    }
}

/// `POST /status/reply`.
pub async fn reply(req: HttpRequest, state: web::Data<AppState>, form: Multipart) -> HttpResponse {
    let ctx = ctx(&req);
    if state.gates.nojs.is_full() {
        crate::gate::refuse().await;
        return busy(&ctx, Nav::Status);
    }
    let posted = match read_form(form, state.settings.max_envelope_bytes).await {
        Ok(p) => p,
        Err(key) => return status_problem(&ctx, ctx.lang.text(key)),
    };
    let token = match Token::parse(posted.get("token")) {
        Ok(t) => t,
        Err(e) => return status_problem(&ctx, ctx.lang.text(token_problem(e))),
    };
    let text = Zeroizing::new(posted.get("text").to_owned());
    if text.trim().is_empty() && posted.files.is_empty() {
        return show_case(
            &ctx,
            &state,
            token,
            None,
            Some(ctx.lang.text("error.reply_empty")),
        )
        .await;
    }
    let mut posted = posted;
    // Moved out, not copied: the client seals and then wipes them.
    let files = std::mem::take(&mut posted.files);
    drop(posted);
    let shown = Zeroizing::new(token.to_display().to_string());
    // The reply, then the case from it on, in one turn at the gate.
    let sent = as_client(&state, move |api| {
        let posted = reporter::reply(api, &token, &text, files)?;
        Ok(seen(api, &token, posted.seq.checked_sub(1)))
    })
    .await;
    match sent {
        Ok(seen) => case_answer(
            &ctx,
            &state,
            seen.map_err(Failed::Client),
            &shown,
            Some(ctx.lang.text("status.reply.sent")),
        ),
        Err(e) => client_error(&ctx, Nav::Status, &e),
    }
}
