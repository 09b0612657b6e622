//! `GET /transparency`: the public figures (the same as `/v1/transparency`)
//! as a page in the reader's language, with a chart ([`super::chart`]) and
//! the table it draws. The page runs no script and loads nothing but the
//! style sheet: anyone may read it, from anywhere, so it asks nothing of
//! the reader's browser that a page of figures does not need.

use std::fmt::Write as _;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use sotto_wire::api::Transparency;

use super::chart;
use super::i18n::substitute;
use super::pages::{self, esc, Ctx, Nav};
use crate::error::ApiError;
use crate::routes::transparency::figures;
use crate::state::AppState;

/// `GET /transparency`.
pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let t = figures(&state).await?;
    Ok(render(&super::ctx(&req), &t))
}

/// The page of `t`.
pub fn render(ctx: &Ctx, t: &Transparency) -> HttpResponse {
    pages::page_without_script(
        ctx,
        StatusCode::OK,
        ctx.lang.text("transparency.title"),
        Nav::Transparency,
        &main(ctx, t),
    )
}

/// The text of `key`, escaped, with `{name}` placeholders replaced by HTML
/// the caller built (and escaped). In one pass ([`substitute`]): a value
/// is never searched for placeholders itself (an origin may hold `{size}`).
fn with_html(ctx: &Ctx, key: &str, parts: &[(&str, &str)]) -> String {
    substitute(&ctx.t(key), parts)
}

/// The page's `<main>`.
pub fn main(ctx: &Ctx, t: &Transparency) -> String {
    let mut m = String::new();
    let checkpoint = format!(
        "<a href=\"{}\">{}</a>",
        ctx.url("/log/checkpoint"),
        ctx.t("transparency.checkpoint")
    );
    let _ = writeln!(
        m,
        "<h1>{}</h1>\n<p>{}</p>",
        ctx.t("transparency.title"),
        with_html(
            ctx,
            "transparency.intro",
            &[
                ("checkpoint", &checkpoint),
                ("size", &t.size.to_string()),
                // A command reads left to right in every language.
                (
                    "command",
                    "<code dir=\"ltr\">sotto audit log --server URL --state FILE</code>",
                ),
            ],
        ),
    );
    // With no month yet, the table's one row says so.
    if let Some(figure) = chart::figure(ctx, &chart::months(&t.months)) {
        m.push_str(&figure);
    }
    m.push_str(&table(ctx, t));
    let _ = writeln!(
        m,
        "<h2>{}</h2>\n<p>{}</p>\n<dl class=\"fields\"><dt>{}</dt><dd>{}</dd>",
        ctx.t("transparency.how"),
        ctx.t("transparency.how.text"),
        ctx.t("transparency.deadline"),
        t.acknowledge_days,
    );
    for (desk, days) in &t.desk_acknowledge_days {
        let _ = write!(
            m,
            "<dt>{}</dt><dd>{days}</dd>",
            ctx.f("transparency.desk_deadline", &[("desk", desk)])
        );
    }
    let _ = writeln!(
        m,
        "</dl>\n<p><a href=\"{}\">{}</a></p>",
        ctx.url("/v1/transparency"),
        ctx.t("transparency.json"),
    );
    m
}

/// Every month, newest first: the data itself, for every reader.
fn table(ctx: &Ctx, t: &Transparency) -> String {
    let mut s = String::new();
    // A wide table scrolls inside its own box, which must then be
    // reachable and named for keyboard and screen reader users. Its title
    // stands above that box, so that it never scrolls out of sight.
    let _ = write!(
        s,
        "<p class=\"table-title\" id=\"figures-title\">{}</p>\n\
         <div class=\"table-wrap\" role=\"region\" aria-labelledby=\"figures-title\" tabindex=\"0\">\n\
         <table class=\"figures\" aria-labelledby=\"figures-title\">\n<thead><tr>",
        with_html(
            ctx,
            "transparency.caption",
            &[
                // An address reads left to right, whatever surrounds it.
                ("origin", &format!("<bdi dir=\"ltr\">{}</bdi>", esc(&t.origin))),
                ("size", &t.size.to_string()),
            ]
        ),
    );
    for key in [
        "month",
        "received",
        "in_time",
        "late",
        "resolved",
        "record_only",
        "bad_faith",
    ] {
        let _ = write!(
            s,
            "<th scope=\"col\">{}</th>",
            ctx.t(&format!("transparency.col.{key}"))
        );
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for m in t.months.iter().rev() {
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\"><time datetime=\"{month}\">{month}</time></th><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            m.received,
            m.acknowledged_in_time,
            m.acknowledged_late,
            m.resolved,
            m.record_only,
            m.bad_faith,
            month = esc(&m.month),
        );
    }
    if t.months.is_empty() {
        let _ = writeln!(
            s,
            "<tr><td colspan=\"7\">{}</td></tr>",
            ctx.t("transparency.none")
        );
    }
    s.push_str("</tbody>\n</table>\n</div>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::{Lang, LANGS};
    use sotto_wire::api::MonthFigures;

    fn ctx(lang: Lang, base: &str) -> Ctx {
        Ctx {
            lang,
            path: "/transparency".into(),
            base: base.into(),
            origin: String::new(),
        }
    }

    fn figures(months: Vec<MonthFigures>) -> Transparency {
        Transparency {
            origin: "example.org/<i>\"sotto\"{size}".into(),
            size: 19,
            acknowledge_days: 7,
            desk_acknowledge_days: [("<volunteers>".to_owned(), 14)].into(),
            months,
        }
    }

    #[test]
    fn with_no_reports_every_language_says_so_and_draws_nothing() {
        for lang in LANGS {
            let html = main(&ctx(lang, ""), &figures(vec![]));
            let none = esc(lang.text("transparency.none"));
            assert_eq!(html.matches(&none).count(), 1, "{}", lang.tag);
            assert!(!html.contains("<svg"), "{}", lang.tag);
        }
    }

    #[test]
    fn names_from_the_server_are_escaped_and_links_keep_the_prefix() {
        let html = main(
            &ctx(Lang::english(), "/report"),
            &figures(vec![MonthFigures {
                month: "2026-11".into(),
                received: 3,
                acknowledged_in_time: 2,
                acknowledged_late: 0,
                resolved: 1,
                record_only: 1,
                bad_faith: 1,
            }]),
        );
        assert!(
            html.contains("example.org/&lt;i&gt;&quot;sotto&quot;"),
            "{html}"
        );
        assert!(html.contains("&lt;volunteers&gt;"), "{html}");
        assert!(!html.contains("<i>") && !html.contains("<volunteers>"));
        assert!(html.contains("href=\"/report/log/checkpoint\""));
        assert!(html.contains("href=\"/report/v1/transparency\""));
        assert!(html.contains("<td>3</td><td>2</td><td>0</td><td>1</td><td>1</td><td>1</td>"));
    }
}
