//! The pages the no-JavaScript forms answer with: the new token and its
//! file, and a case as its reporter sees it.

use std::fmt::Write as _;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sotto_envelope::sign::Direction;
use sotto_wire::content::Content;
use zeroize::Zeroizing;

use super::{ReceiptSeen, Seen};
use crate::client::{files, reporter};
use crate::state::AppState;
use crate::web::pages::{self, esc, Ctx, Nav};

/// Where this page of the thread is, and the way to the others: a form
/// each, since the token must travel in a POST body.
fn pages(ctx: &Ctx, m: &mut String, seen: &Seen, token: &str) {
    let count = seen.view.status.message_count;
    let (Some(first), Some(last)) = (seen.view.messages.first(), seen.view.messages.last()) else {
        return;
    };
    if first.seq == 0 && last.seq + 1 >= count {
        return;
    }
    let _ = writeln!(
        m,
        "<p>{}</p>",
        ctx.f(
            "status.page",
            &[
                ("first", &(first.seq + 1).to_string()),
                ("last", &(last.seq + 1).to_string()),
                ("count", &count.to_string()),
            ]
        )
    );
    let form = |after: Option<u64>, label: &str| {
        format!(
            "<form method=\"post\" action=\"{action}\" class=\"page\">\n\
             <input type=\"hidden\" name=\"token\" value=\"{token}\">\n{after}\
             <button type=\"submit\">{label}</button>\n</form>",
            action = ctx.href("/status"),
            token = esc(token),
            after = after
                .map(|a| format!("<input type=\"hidden\" name=\"after\" value=\"{a}\">\n"))
                .unwrap_or_default(),
            label = esc(label),
        )
    };
    if first.seq > 0 {
        let _ = writeln!(m, "{}", form(None, ctx.lang.text("status.page.start")));
    }
    if last.seq + 1 < count {
        let _ = writeln!(
            m,
            "{}",
            form(Some(last.seq), ctx.lang.text("status.page.next"))
        );
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

pub(super) fn token_page(ctx: &Ctx, done: &reporter::Submitted) -> HttpResponse {
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
            &[(
                "minutes",
                &minutes(Some(done.opened.receipt_after_seconds))
            )]
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

/// Whole minutes until the next batch, at least 1: what the pages say
/// ("within N min"). Unknown, the default interval's five.
fn minutes(seconds: Option<u64>) -> String {
    seconds.map_or(5, |s| s.div_ceil(60).max(1)).to_string()
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

pub(super) fn case_page(
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
        Ok(ReceiptSeen::Included(entry)) => {
            let _ = writeln!(
                m,
                "<p class=\"ok\">{}</p>",
                ctx.f("status.receipt.fresh", &[("entry", &entry.to_string())])
            );
        }
        Ok(ReceiptSeen::Promised(seconds)) => {
            let _ = writeln!(
                m,
                "<p>{}</p>",
                ctx.f(
                    "status.receipt.promised",
                    &[("minutes", &minutes(*seconds))]
                )
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
    pages(ctx, &mut m, seen, token);
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
