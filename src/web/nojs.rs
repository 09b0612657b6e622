//! The forms for browsers without JavaScript (Tor Browser at "Safest").
//!
//! Here the server plays the reporter's client for one request: it makes
//! the token, or reads the one typed, and runs exactly the code of
//! `sotto report` ([`crate::client::reporter`]) against its own API over
//! loopback, so the same checks hold and the same rows are written. The
//! plaintext lives in this request's memory only, in buffers wiped when it
//! ends, and is never logged. The pages say plainly that the server saw
//! the text.

use std::fmt::Write as _;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures_util::StreamExt;
use sotto_envelope::sign::Direction;
use sotto_envelope::token::{Token, TokenError};
use sotto_wire::content::{Attachment, Content};
use zeroize::Zeroizing;

use super::ctx;
use super::pages::{self, esc, Ctx, Nav};
use crate::client::reporter::{self, ReporterView, Submission};
use crate::client::{files, Api, ClientError};
use crate::state::AppState;

/// A posted form: text fields (wiped on drop) and files.
#[derive(Default)]
struct Posted {
    fields: Vec<(String, Zeroizing<String>)>,
    files: Vec<Attachment>,
}

impl Posted {
    fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.to_string())
            .collect()
    }
}

impl Drop for Posted {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for f in &mut self.files {
            f.data.zeroize();
            f.name.zeroize();
        }
    }
}

/// The most parts a form may have: a few fields, and attachments.
const MAX_PARTS: usize = 256;
/// What each part counts towards the limit besides its bytes (its headers).
const PART_OVERHEAD: usize = 256;

/// Reads a multipart form of at most `limit` bytes in all.
async fn read_form(mut mp: Multipart, limit: usize) -> Result<Posted, &'static str> {
    let mut out = Posted::default();
    let mut total = 0usize;
    let mut parts = 0usize;
    while let Some(field) = mp.next().await {
        let mut field = field.map_err(|_| "error.form")?;
        parts += 1;
        total = total.saturating_add(PART_OVERHEAD);
        if parts > MAX_PARTS || total > limit {
            return Err("error.form_too_large");
        }
        let name = field.name().unwrap_or("").to_owned();
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_owned);
        let mut data = Zeroizing::new(Vec::new());
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| "error.form")?;
            total = total.saturating_add(chunk.len());
            if total > limit {
                return Err("error.form_too_large");
            }
            data.extend_from_slice(&chunk);
        }
        match filename {
            // A file input left empty still sends a part with no name.
            Some(f) if !f.is_empty() || !data.is_empty() => {
                out.files.push(Attachment {
                    name: f,
                    data: std::mem::take(&mut *data),
                });
            }
            Some(_) => {}
            None => {
                let text =
                    String::from_utf8(std::mem::take(&mut *data)).map_err(|_| "error.form")?;
                out.fields.push((name, Zeroizing::new(text)));
            }
        }
    }
    Ok(out)
}

fn token_problem(e: TokenError) -> &'static str {
    match e {
        TokenError::Character => "token.character",
        TokenError::Length => "token.length",
        _ => "token.checksum",
    }
}

/// An error of the client run on the reporter's behalf, as a page.
fn client_error(ctx: &Ctx, nav: Nav, e: &ClientError) -> HttpResponse {
    let status = match e {
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

/// Runs the reporter's client against this server, on the blocking pool.
async fn as_client<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&Api) -> Result<T, ClientError> + Send + 'static,
) -> Result<T, ClientError> {
    let base = state.base_url.clone();
    web::block(move || f(&Api::new(&base)?))
        .await
        .map_err(|_| ClientError::Protocol("the server is too busy".into()))?
}

/// The form named a reader the desk no longer has.
const READERS_CHANGED: &str = "the list of readers changed since this page was loaded";

/// `POST /desk/{desk}/report`.
pub async fn report(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: Multipart,
) -> HttpResponse {
    let ctx = ctx(&req);
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
    let desk = path.into_inner();
    let chosen = posted.all("reader");
    let submission = Submission {
        desk: desk.clone(),
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
        known: None,
    };
    drop(posted);
    let done = as_client(&state, move |api| {
        let mut submission = submission;
        let info = api.desk(&desk)?;
        if chosen
            .iter()
            .any(|id| !info.recipients.iter().any(|r| &r.id == id))
        {
            return Err(ClientError::Usage(READERS_CHANGED.into()));
        }
        submission.exclude = info
            .recipients
            .iter()
            .filter(|r| !chosen.contains(&r.id))
            .map(|r| r.id.clone())
            .collect();
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
        Err(ClientError::Usage(m)) if m == READERS_CHANGED => pages::error_page(
            &ctx,
            StatusCode::BAD_REQUEST,
            Nav::Report,
            ctx.lang.text("report.readers_changed"),
        ),
        Err(ClientError::Usage(m)) if m.starts_with("nobody would receive") => pages::error_page(
            &ctx,
            StatusCode::BAD_REQUEST,
            Nav::Report,
            ctx.lang.text("report.nobody"),
        ),
        Err(e) => client_error(&ctx, Nav::Report, &e),
    }
}

/// The file a reporter saves: the token and the receipt, in the form the
/// page's script reads back (`web/src/app.js`, `tokenFile`).
pub fn token_file(ctx: &Ctx, token: &str, receipt: &str) -> Zeroizing<String> {
    Zeroizing::new(format!(
        "{}\n{}\n\ntoken: {token}\n\n-----BEGIN SOTTO RECEIPT-----\n{receipt}\n-----END SOTTO RECEIPT-----\n",
        ctx.lang.text("token.file.heading"),
        ctx.lang.fill("token.file.instructions", &[("url", &ctx.public("/status"))]),
    ))
}

fn token_page(ctx: &Ctx, done: &reporter::Submitted) -> HttpResponse {
    let token = done.token.to_display();
    let receipt = Zeroizing::new(serde_json::to_string(&done.receipt).unwrap_or_default());
    let file = token_file(ctx, &token, &receipt);
    let data_url = Zeroizing::new(format!(
        "data:text/plain;charset=utf-8;base64,{}",
        STANDARD.encode(file.as_bytes())
    ));
    let due = done
        .opened
        .next_update_due
        .map(|d| d.to_string())
        .unwrap_or_default();
    let mut m = String::new();
    let _ = writeln!(
        m,
        "<section id=\"done\" aria-labelledby=\"done-title\">\n<h1 id=\"done-title\">{title}</h1>\n\
         <p id=\"done-received\">{received}</p>\n<p>{intro}</p>\n<p class=\"note\">{nojs}</p>\n\
         <p class=\"token-label\" id=\"token-label\">{label}</p>\n\
         <p><output id=\"token\" class=\"token\" aria-labelledby=\"token-label\">{token}</output></p>\n\
         <p class=\"actions\"><a id=\"save\" class=\"button\" download=\"sotto-token.txt\" href=\"{data_url}\">{save}</a></p>\n\
         <p id=\"receipt-note\">{receipt_note}</p>",
        title = ctx.t("token.title"),
        received = if due.is_empty() {
            ctx.f(
                "token.received.record",
                &[("day", &done.opened.opened.to_string())]
            )
        } else {
            ctx.f(
                "token.received",
                &[("day", &done.opened.opened.to_string()), ("due", &due)]
            )
        },
        intro = ctx.t("token.intro"),
        nojs = ctx.t("token.nojs"),
        label = ctx.t("token.label"),
        token = esc(&token),
        data_url = esc(&data_url),
        save = ctx.t("token.save"),
        receipt_note = ctx.f(
            "token.receipt",
            &[("entry", &done.receipt.receipt.leaf_index.to_string())]
        ),
    );
    for w in &done.warnings {
        let _ = writeln!(
            m,
            "<p class=\"problem\" role=\"alert\">{}</p>",
            ctx.f("token.warning", &[("why", w)])
        );
    }
    m.push_str("</section>\n");
    m.push_str(
        &pages::status_form(ctx, None)
            .replacen("<h1>", "<h2>", 1)
            .replacen("</h1>", "</h2>", 1),
    );
    pages::page(
        ctx,
        StatusCode::OK,
        ctx.lang.text("token.title"),
        Nav::Report,
        &m,
    )
}

/// What the status page shows, read on the server for this request.
struct Seen {
    view: ReporterView,
    receipt: Result<u64, String>,
    resources: Vec<sotto_wire::resources::Resource>,
}

async fn open_case(state: &web::Data<AppState>, token: Token) -> Result<Seen, ClientError> {
    as_client(state, move |api| {
        let view = reporter::status(api, &token)?;
        let receipt = match reporter::fetch_receipt_for(api, &token, &view.status) {
            Ok(r) => Ok(r.receipt.leaf_index),
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
    })
    .await
}

/// The posted token form.
#[derive(serde::Deserialize)]
pub struct TokenForm {
    token: String,
}

impl std::fmt::Debug for TokenForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenForm([redacted])")
    }
}

impl Drop for TokenForm {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.token);
    }
}

/// `POST /status`.
pub async fn status(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    let ctx = ctx(&req);
    let token = match Token::parse(&form.token) {
        Ok(t) => t,
        Err(e) => return status_problem(&ctx, ctx.lang.text(token_problem(e))),
    };
    show_case(&ctx, &state, token, None).await
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
    note: Option<&str>,
) -> HttpResponse {
    let shown = Zeroizing::new(token.to_display().to_string());
    match open_case(state, token).await {
        Ok(seen) => case_page(ctx, state, &seen, &shown, note),
        Err(ClientError::Server { status: 404, .. }) => {
            status_problem(ctx, ctx.lang.text("status.unknown_case"))
        }
        Err(e) => client_error(ctx, Nav::Status, &e),
    }
}

/// `POST /status/reply`.
pub async fn reply(req: HttpRequest, state: web::Data<AppState>, form: Multipart) -> HttpResponse {
    let ctx = ctx(&req);
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
            Some(ctx.lang.text("error.reply_empty")),
        )
        .await;
    }
    let mut posted = posted;
    // Moved out, not copied: the client seals and then wipes them.
    let files = std::mem::take(&mut posted.files);
    drop(posted);
    let sender = token.clone();
    let sent = as_client(&state, move |api| {
        reporter::reply(api, &sender, &text, files).map(|_| ())
    })
    .await;
    match sent {
        Ok(()) => {
            show_case(
                &ctx,
                &state,
                token,
                Some(ctx.lang.text("status.reply.sent")),
            )
            .await
        }
        Err(e) => client_error(&ctx, Nav::Status, &e),
    }
}

fn size_text(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1 << 20))
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / f64::from(1 << 10))
    } else {
        format!("{n} B")
    }
}

fn case_page(
    ctx: &Ctx,
    state: &AppState,
    seen: &Seen,
    token: &str,
    note: Option<&str>,
) -> HttpResponse {
    let s = &seen.view.status;
    let mut m = String::new();
    let _ = writeln!(
        m,
        "<section id=\"case\" tabindex=\"-1\">\n<h1>{}</h1>",
        ctx.f(
            "status.case",
            &[("case", &s.case[..8.min(s.case.len())]), ("desk", &s.desk)]
        )
    );
    if let Some(n) = note {
        let _ = writeln!(m, "<p class=\"ok\" role=\"status\">{}</p>", esc(n));
    }
    let state_key = format!("state.{}", s.state.as_str());
    let state_name = ctx.lang.text(&state_key);
    let _ = writeln!(
        m,
        "<p class=\"state\">{}</p>\n<p>{}</p>",
        ctx.f("status.state", &[("state", state_name)]),
        ctx.f("status.opened", &[("day", &s.opened.to_string())])
    );
    let readers: Vec<String> = seen
        .view
        .recipients
        .iter()
        .map(|c| format!("{} ({})", c.name, c.fingerprint()))
        .collect();
    let _ = writeln!(
        m,
        "<p>{}</p>",
        ctx.f("status.readers", &[("names", &readers.join(", "))])
    );
    match s.next_update_due {
        Some(due) if due < state.today() => {
            let _ = writeln!(
                m,
                "<p class=\"problem\">{}</p>",
                ctx.f("status.late", &[("day", &due.to_string())])
            );
        }
        Some(due) => {
            let _ = writeln!(
                m,
                "<p>{}</p>",
                ctx.f("status.next_update", &[("day", &due.to_string())])
            );
        }
        None => {
            let _ = writeln!(m, "<p>{}</p>", ctx.t("status.no_update_due"));
        }
    }
    if s.state == sotto_wire::CaseState::Received
        && s.erased.is_none()
        && s.next_update_due.is_some_and(|d| d < state.today())
    {
        let _ = writeln!(m, "<p>{}</p>", ctx.t("escalate.nojs"));
    }
    if let Some(due) = s.feedback_due {
        let (class, key) = if due < state.today() {
            (" class=\"problem\"", "status.feedback_late")
        } else {
            ("", "status.feedback_due")
        };
        let _ = writeln!(
            m,
            "<p{class}>{}</p>",
            ctx.f(key, &[("day", &due.to_string())])
        );
    }
    if let Some(e) = s.erased {
        let _ = writeln!(
            m,
            "<p class=\"problem\">{}</p>",
            ctx.f("status.erased", &[("day", &e.on.to_string())])
        );
    }
    match &seen.receipt {
        Ok(entry) => {
            let _ = writeln!(
                m,
                "<p class=\"ok\">{}</p>",
                ctx.f("status.receipt.fresh", &[("entry", &entry.to_string())])
            );
        }
        Err(why) => {
            let _ = writeln!(
                m,
                "<p class=\"problem\" role=\"alert\">{}</p>",
                ctx.f("status.receipt.problem", &[("why", why)])
            );
        }
    }
    let _ = writeln!(
        m,
        "<h2>{}</h2>\n<ol class=\"timeline\">",
        ctx.t("status.timeline")
    );
    for e in &s.timeline {
        let _ = writeln!(
            m,
            "<li><time>{}</time> {}</li>",
            e.on,
            esc(ctx.lang.text(&format!("state.{}", e.state.as_str())))
        );
    }
    let _ = writeln!(
        m,
        "</ol>\n<h2>{}</h2>\n<ol class=\"thread\">",
        ctx.t("status.messages")
    );
    for msg in &seen.view.messages {
        let who = match (msg.direction, &msg.author) {
            (Direction::FromReporter, _) => ctx.t("status.from_you"),
            (_, Some(name)) => ctx.f("status.from_desk", &[("name", name)]),
            (_, None) => ctx.t("thread.unknown_direction"),
        };
        let first = if msg.seq == 0 {
            format!(" ({})", ctx.t("status.the_report"))
        } else {
            String::new()
        };
        let _ = write!(
            m,
            "<li class=\"message {}\"><p class=\"meta\"><strong>{who}</strong>{first} · <time>{}</time> · ",
            if msg.direction == Direction::FromReporter { "mine" } else { "theirs" },
            msg.on
        );
        match &msg.content {
            Ok(content) => {
                let _ = writeln!(
                    m,
                    "<span class=\"verified\">{}</span></p>",
                    ctx.t("status.verified")
                );
                if let Content::Report(r) = content {
                    report_fields(ctx, &mut m, r);
                }
                let _ = writeln!(m, "<div class=\"body\">{}</div>", esc(content.text()));
                for a in content.attachments() {
                    let _ = writeln!(
                        m,
                        "<p><a download=\"{name}\" href=\"data:application/octet-stream;base64,{data}\">{label}</a></p>",
                        name = esc(&files::safe_name(&a.name)),
                        data = STANDARD.encode(&a.data),
                        label = ctx.f(
                            "status.attachment",
                            &[("name", &files::safe_name(&a.name)), ("size", &size_text(a.data.len()))]
                        ),
                    );
                }
            }
            Err(why) => {
                let _ = writeln!(
                    m,
                    "<span class=\"problem\" role=\"alert\">{}</span></p>",
                    ctx.f("status.not_shown", &[("why", why)])
                );
            }
        }
        m.push_str("</li>\n");
    }
    m.push_str("</ol>\n");
    if s.erased.is_none() {
        let _ = writeln!(
            m,
            "<form id=\"reply-form\" method=\"post\" action=\"{action}\" enctype=\"multipart/form-data\">\n\
             <input type=\"hidden\" name=\"token\" value=\"{token}\">\n\
             <div class=\"field\"><label for=\"reply\">{reply}</label><p class=\"help\" id=\"reply-help\">{help}</p>\
             <textarea id=\"reply\" name=\"text\" rows=\"5\" aria-describedby=\"reply-help\"></textarea></div>\n\
             <div class=\"field\"><label for=\"reply-files\">{files}</label>\
             <input id=\"reply-files\" name=\"attachment\" type=\"file\" multiple></div>\n\
             <button type=\"submit\">{send}</button>\n</form>",
            action = ctx.href("/status/reply"),
            token = esc(token),
            reply = ctx.t("status.reply"),
            help = ctx.t("status.reply.help"),
            files = ctx.t("report.attachments"),
            send = ctx.t("status.reply.send"),
        );
    }
    if !seen.resources.is_empty() {
        let _ = writeln!(
            m,
            "<section id=\"resources\" aria-labelledby=\"resources-title\"><h2 id=\"resources-title\">{}</h2><p>{}</p><ul class=\"resources\">",
            ctx.t("resources.title"),
            ctx.t("resources.intro.nojs")
        );
        for e in &seen.resources {
            let _ = writeln!(
                m,
                "<li><a href=\"{}\" rel=\"noreferrer noopener\">{}</a><p class=\"meta\">{}</p>{}</li>",
                esc(&e.url),
                esc(&e.name),
                ctx.f(
                    "resources.details",
                    &[
                        ("contact", &e.contact),
                        ("languages", &e.languages.join(", ")),
                        ("regions", &e.regions.join(", ")),
                    ]
                ),
                if e.description.is_empty() {
                    String::new()
                } else {
                    format!("<p>{}</p>", esc(&e.description))
                }
            );
        }
        m.push_str("</ul></section>\n");
    }
    m.push_str("</section>\n");
    pages::page(
        ctx,
        StatusCode::OK,
        ctx.lang.text("status.title"),
        Nav::Status,
        &m,
    )
}

fn report_fields(ctx: &Ctx, m: &mut String, r: &sotto_wire::content::Report) {
    let mut dl = String::new();
    // `value` is HTML already escaped.
    let mut row = |key: &str, value: &str| {
        let _ = write!(dl, "<dt>{}</dt><dd>{value}</dd>", ctx.t(key));
    };
    if r.urgent {
        row("status.field.urgent", "✓");
    }
    if r.record_only {
        row("status.field.record_only", "✓");
    }
    if sotto_wire::content::CATEGORIES.contains(&r.category.as_str()) {
        row(
            "status.field.category",
            &ctx.t(&format!("category.{}", r.category)),
        );
    }
    if !r.when.is_empty() {
        row("status.field.when", &esc(&r.when));
    }
    if !r.involved.is_empty() {
        row("status.field.involved", &esc(&r.involved));
    }
    if !r.links.is_empty() {
        let links: Vec<String> = r.links.iter().map(|l| esc(l)).collect();
        row("status.field.links", &links.join("<br>"));
    }
    if !dl.is_empty() {
        let _ = writeln!(m, "<dl class=\"fields\">{dl}</dl>");
    }
}
