//! The HTML of the reporter's pages. Every string comes from the catalogs;
//! every value is escaped. The pages work as plain forms; the script
//! (`/static/sotto.js`) takes them over where JavaScript runs.

use std::fmt::Write as _;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use super::i18n::{Lang, LANGS};
use crate::bundle::bundle_sha256;

pub use crate::html::esc;

/// What every page needs: the language and where the page is (for the
/// language links).
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The reader's language.
    pub lang: Lang,
    /// The page's path, without query, as the server sees it.
    pub path: String,
    /// The path a proxy publishes the server under (`/report`), or empty.
    pub base: String,
    /// Scheme and host of the public address, for the saved token file.
    pub origin: String,
}

impl Ctx {
    /// Text of `key`, escaped.
    pub fn t(&self, key: &str) -> String {
        esc(self.lang.text(key))
    }

    /// Text of `key` with placeholders filled, escaped.
    pub fn f(&self, key: &str, args: &[(&str, &str)]) -> String {
        esc(&self.lang.fill(key, args))
    }

    /// `path` (from the server's root) as the reader's browser must ask
    /// for it, with this page's language kept.
    pub fn href(&self, path: &str) -> String {
        if self.lang == Lang::english() {
            self.url(path)
        } else {
            format!("{}?lang={}", self.url(path), self.lang.tag)
        }
    }

    /// `path` (from the server's root) under the public prefix, escaped.
    pub fn url(&self, path: &str) -> String {
        esc(&format!("{}{path}", self.base))
    }

    /// The public address of `path`, e.g. for the saved token file.
    pub fn public(&self, path: &str) -> String {
        format!("{}{}{path}", self.origin, self.base)
    }
}

/// Which navigation entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// The report pages.
    Report,
    /// The status page.
    Status,
    /// The public figures.
    Transparency,
}

/// A whole page around `main`, with the script that takes its forms over.
pub fn page(ctx: &Ctx, status: StatusCode, title: &str, nav: Nav, main: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(layout(ctx, title, nav, main, true))
}

/// A whole page around `main` that runs no script: no script element, no
/// catalog for one, a footer that says so, and a policy that forbids any
/// script and any request but this origin's style sheet.
pub fn page_without_script(
    ctx: &Ctx,
    status: StatusCode,
    title: &str,
    nav: Nav,
    main: &str,
) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("content-security-policy", super::CSP_NO_SCRIPT))
        .body(layout(ctx, title, nav, main, false))
}

fn layout(ctx: &Ctx, title: &str, nav: Nav, main: &str, script: bool) -> String {
    let mut h = String::with_capacity(main.len() + 8192);
    let lang = ctx.lang;
    let _ =
        write!(
        h,
        "<!doctype html>\n<html lang=\"{tag}\" dir=\"{dir}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <title>{title} · {site}</title>\n\
         <link rel=\"stylesheet\" href=\"{css}\">\n{js}</head>\n<body data-base=\"{base}\">\n\
         <a class=\"skip\" href=\"#main\">{skip}</a>\n<header>\n<p class=\"brand\">{site} \
         <span>{tagline}</span></p>\n<nav aria-label=\"{site}\"><ul>",
        tag = lang.tag,
        dir = lang.dir(),
        title = esc(title),
        site = ctx.t("site.name"),
        tagline = ctx.t("site.tagline"),
        skip = ctx.t("nav.skip"),
        css = ctx.url("/static/style.css"),
        js = if script {
            format!("<script src=\"{}\" defer></script>\n", ctx.url("/static/sotto.js"))
        } else {
            String::new()
        },
        base = esc(&ctx.base),
    );
    for (key, path, which) in [
        ("nav.report", "/", Some(Nav::Report)),
        ("nav.status", "/status", Some(Nav::Status)),
        ("nav.transparency", "/transparency", Some(Nav::Transparency)),
    ] {
        let current = if which == Some(nav) {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(
            h,
            "<li><a href=\"{}\"{current}>{}</a></li>",
            ctx.href(path),
            ctx.t(key)
        );
    }
    let _ = write!(
        h,
        "</ul></nav>\n<nav aria-label=\"{}\"><ul class=\"langs\">",
        ctx.t("nav.language")
    );
    for l in LANGS {
        let current = if l == lang {
            " aria-current=\"true\""
        } else {
            ""
        };
        let _ = write!(
            h,
            "<li><a href=\"{}?lang={tag}\" hreflang=\"{tag}\" lang=\"{tag}\"{current}>{}</a></li>",
            ctx.url(&ctx.path),
            esc(l.text("lang.name")),
            tag = l.tag,
        );
    }
    let _ = write!(
        h,
        "</ul></nav>\n</header>\n<main id=\"main\" tabindex=\"-1\">\n{main}</main>\n<footer>\n"
    );
    if script {
        let _ = writeln!(
            h,
            "<p>{bundle}</p>\n</footer>\n\
             <script type=\"application/json\" id=\"sotto-i18n\">{catalog}</script>\n</body>\n</html>",
            bundle = ctx.f("footer.bundle", &[("hash", bundle_sha256())]),
            catalog = lang.catalog_json(),
        );
    } else {
        let _ = writeln!(
            h,
            "<p>{}</p>\n</footer>\n</body>\n</html>",
            ctx.t("footer.no_script")
        );
    }
    h
}

/// A page that says one thing went wrong, in the reader's language.
pub fn error_page(ctx: &Ctx, status: StatusCode, nav: Nav, message: &str) -> HttpResponse {
    page(
        ctx,
        status,
        ctx.lang.text("error.title"),
        nav,
        &error_main(ctx, nav, message),
    )
}

/// [`error_page`] without the script and its catalog: a quarter of the
/// bytes, for the answers a flood gets (a full queue's busy page), which
/// have nothing for a script to do.
pub fn error_page_without_script(
    ctx: &Ctx,
    status: StatusCode,
    nav: Nav,
    message: &str,
) -> HttpResponse {
    page_without_script(
        ctx,
        status,
        ctx.lang.text("error.title"),
        nav,
        &error_main(ctx, nav, message),
    )
}

fn error_main(ctx: &Ctx, nav: Nav, message: &str) -> String {
    format!(
        "<h1>{}</h1>\n<p role=\"alert\" class=\"problem\">{}</p>\n<p><a href=\"{}\">{}</a></p>\n",
        ctx.t("error.title"),
        esc(message),
        ctx.href(match nav {
            Nav::Report => "/",
            Nav::Status => "/status",
            Nav::Transparency => "/transparency",
        }),
        ctx.t(match nav {
            Nav::Report => "nav.report",
            Nav::Status => "nav.status",
            Nav::Transparency => "nav.transparency",
        }),
    )
}

/// One desk, as the chooser shows it.
#[derive(Debug, Clone)]
pub struct DeskChoice {
    /// Its name.
    pub name: String,
    /// Its sentence.
    pub description: String,
    /// Active readers.
    pub readers: usize,
}

/// `/` when the deployment has several desks.
pub fn desks(ctx: &Ctx, desks: &[DeskChoice]) -> HttpResponse {
    let mut m = String::new();
    let _ = writeln!(
        m,
        "<h1>{}</h1>\n<p>{}</p>\n<ul class=\"desks\">",
        ctx.t("desks.title"),
        ctx.t("desks.intro")
    );
    for d in desks {
        let _ = writeln!(
            m,
            "<li><h2><a href=\"{}\">{}</a></h2><p>{}</p><p class=\"meta\">{}</p></li>",
            ctx.href(&format!("/desk/{}", urlencode(&d.name))),
            ctx.f("desks.choose", &[("desk", &d.name)]),
            esc(&d.description),
            ctx.f("desks.readers", &[("count", &d.readers.to_string())]),
        );
    }
    m.push_str("</ul>\n");
    if desks.is_empty() {
        let _ = writeln!(m, "<p class=\"note\">{}</p>", ctx.t("desks.none"));
    }
    page(
        ctx,
        StatusCode::OK,
        ctx.lang.text("desks.title"),
        Nav::Report,
        &m,
    )
}

/// Percent-encodes a path segment.
pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn field(ctx: &Ctx, id: &str, key: &str, input: &str, help: Option<&str>) -> String {
    let help_html = help
        .map(|h| format!("<p class=\"help\" id=\"{id}-help\">{}</p>", ctx.t(h)))
        .unwrap_or_default();
    format!(
        "<div class=\"field\"><label for=\"{id}\">{}</label>{help_html}{input}</div>\n",
        ctx.t(key)
    )
}

/// The report form of one desk.
pub fn report(
    ctx: &Ctx,
    desk: &str,
    description: &str,
    readers: &[sotto_wire::api::RecipientInfo],
) -> HttpResponse {
    let mut m = String::new();
    let title = ctx.lang.fill("report.title", &[("desk", desk)]);
    let _ = writeln!(
        m,
        "<h1>{}</h1>\n<p class=\"desk-description\">{}</p>\n<p>{}</p>",
        esc(&title),
        esc(description),
        ctx.t("report.intro")
    );
    let _ = writeln!(
        m,
        "<details class=\"safety\" open><summary>{}</summary>\n<ul>\
         <li>{}</li><li>{}</li><li>{}</li><li>{}</li>\
         <li class=\"js-only\" hidden>{} <button type=\"button\" id=\"forget\">{}</button> \
         <span id=\"forgotten\" role=\"status\"></span></li></ul>\n</details>",
        ctx.t("report.safety.title"),
        ctx.t("report.safety.stored"),
        ctx.t("report.safety.not_stored"),
        ctx.t("report.safety.tor"),
        ctx.t("report.safety.token"),
        ctx.t("report.safety.memory"),
        ctx.t("report.safety.forget"),
    );
    let _ = writeln!(
        m,
        "<noscript><p class=\"note\">{}</p></noscript>",
        ctx.t("report.nojs")
    );
    let _ = writeln!(
        m,
        "<form id=\"report-form\" method=\"post\" action=\"{}\" enctype=\"multipart/form-data\" \
         data-desk=\"{}\">",
        ctx.href(&format!("/desk/{}/report", urlencode(desk))),
        esc(desk)
    );
    m.push_str(&field(
        ctx,
        "text",
        "report.what",
        "<textarea id=\"text\" name=\"text\" rows=\"10\" required aria-describedby=\"text-help\"></textarea>",
        Some("report.what.help"),
    ));
    m.push_str(&field(
        ctx,
        "when",
        "report.when",
        "<input id=\"when\" name=\"when\" type=\"text\" autocomplete=\"off\" aria-describedby=\"when-help\">",
        Some("report.when.help"),
    ));
    m.push_str(&field(
        ctx,
        "links",
        "report.where",
        "<textarea id=\"links\" name=\"links\" rows=\"3\" aria-describedby=\"links-help\"></textarea>",
        Some("report.where.help"),
    ));
    m.push_str(&field(
        ctx,
        "involved",
        "report.involved",
        "<input id=\"involved\" name=\"involved\" type=\"text\" autocomplete=\"off\" aria-describedby=\"involved-help\">",
        Some("report.involved.help"),
    ));
    let mut options = format!("<option value=\"\">{}</option>", ctx.t("category.none"));
    for c in sotto_wire::content::CATEGORIES {
        let _ = write!(
            options,
            "<option value=\"{c}\">{}</option>",
            ctx.t(&format!("category.{c}"))
        );
    }
    m.push_str(&field(
        ctx,
        "category",
        "report.category",
        &format!(
            "<select id=\"category\" name=\"category\" aria-describedby=\"category-help\">{options}</select>"
        ),
        Some("report.category.help"),
    ));
    let _ = writeln!(
        m,
        "<input type=\"hidden\" name=\"lang\" value=\"{}\">",
        ctx.lang.tag
    );
    let _ = writeln!(
        m,
        "<div class=\"check\"><input type=\"checkbox\" id=\"urgent\" name=\"urgent\" value=\"1\">\
         <label for=\"urgent\">{}</label></div>\n\
         <div class=\"check\"><input type=\"checkbox\" id=\"record_only\" name=\"record_only\" value=\"1\" \
         aria-describedby=\"record_only-help\"><label for=\"record_only\">{}</label>\
         <p class=\"help\" id=\"record_only-help\">{}</p></div>",
        ctx.t("report.urgent"),
        ctx.t("report.record_only"),
        ctx.t("report.record_only.help"),
    );
    m.push_str(&field(
        ctx,
        "attachments",
        "report.attachments",
        "<input id=\"attachments\" name=\"attachment\" type=\"file\" multiple aria-describedby=\"attachments-help\">",
        Some("report.attachments.help"),
    ));
    let _ = writeln!(
        m,
        "<fieldset id=\"readers\"><legend>{}</legend>\n<p class=\"help\">{}</p>\n<ul>",
        ctx.t("report.readers"),
        ctx.t("report.readers.help")
    );
    for (i, r) in readers.iter().enumerate() {
        let _ = writeln!(
            m,
            "<li class=\"check\"><input type=\"checkbox\" id=\"reader-{i}\" name=\"reader\" value=\"{id}\" checked \
             data-name=\"{name}\"><label for=\"reader-{i}\"><span class=\"reader-name\">{name}</span> \
             <span class=\"fingerprint\">{fp}</span></label></li>",
            id = esc(&r.id),
            name = esc(&r.name),
            fp = ctx.f("report.reader.fingerprint", &[("fp", &r.fingerprint)]),
        );
    }
    let _ = writeln!(
        m,
        "</ul>\n<div id=\"reader-check\" role=\"status\" aria-live=\"polite\"></div>\n</fieldset>\n\
         <div id=\"progress\" hidden>\n{}{}{}</div>\n\
         <p id=\"form-error\" class=\"problem\" role=\"alert\"></p>\n\
         {}</form>",
        progress(ctx, "encrypt"),
        progress(ctx, "work"),
        progress(ctx, "upload"),
        submit_buttons(ctx, "send", "report.submit.nojs", "report.submit"),
    );
    let _ = writeln!(
        m,
        "<section id=\"done\" hidden tabindex=\"-1\" aria-labelledby=\"done-title\">\n\
         <h2 id=\"done-title\">{title}</h2>\n<p id=\"done-received\"></p>\n<p>{intro}</p>\n\
         <p class=\"token-label\" id=\"token-label\">{label}</p>\n\
         <p><output id=\"token\" class=\"token\" aria-labelledby=\"token-label\"></output></p>\n\
         <p class=\"actions\"><button type=\"button\" id=\"copy\">{copy}</button> \
         <a id=\"save\" class=\"button\" href=\"#\" download=\"sotto-token.txt\">{save}</a> \
         <span id=\"copied\" role=\"status\"></span></p>\n\
         <p id=\"receipt-note\"></p>\n<div id=\"done-warnings\" role=\"alert\"></div>\n\
         <form id=\"confirm-form\"><div class=\"field\"><label for=\"confirm\">{confirm}</label>\
         <input id=\"confirm\" type=\"text\" autocomplete=\"off\" spellcheck=\"false\" autocapitalize=\"off\" \
         maxlength=\"8\"></div><button type=\"submit\">{confirm_button}</button></form>\n\
         <p id=\"confirm-result\" role=\"status\"></p>\n\
         <p id=\"status-link\" hidden><a href=\"{status_href}\">{status}</a></p>\n</section>",
        title = ctx.t("token.title"),
        intro = ctx.t("token.intro"),
        label = ctx.t("token.label"),
        copy = ctx.t("token.copy"),
        save = ctx.t("token.save"),
        confirm = ctx.t("token.confirm"),
        confirm_button = ctx.t("token.confirm.button"),
        status_href = ctx.href("/status"),
        status = ctx.t("nav.status"),
    );
    page(ctx, StatusCode::OK, &title, Nav::Report, &m)
}

fn progress(ctx: &Ctx, stage: &str) -> String {
    format!(
        "<div class=\"stage\"><label for=\"p-{stage}\">{}</label>\
         <progress id=\"p-{stage}\" max=\"1\" value=\"0\"></progress></div>\n",
        ctx.t(&format!("progress.{stage}"))
    )
}

/// The token form of the status page, with an optional problem above it.
pub fn status_form(ctx: &Ctx, problem: Option<&str>) -> String {
    let problem = problem
        .map(|p| format!("<p class=\"problem\" role=\"alert\">{}</p>\n", esc(p)))
        .unwrap_or_default();
    format!(
        "<h1>{title}</h1>\n<p class=\"js-only\" hidden>{intro}</p>\n\
         <noscript><p class=\"note\">{nojs}</p></noscript>\n{problem}\
         <form id=\"status-form\" method=\"post\" action=\"{action}\">\n\
         <div class=\"field\"><label for=\"token-input\">{token}</label>\
         <p class=\"help\" id=\"token-help\">{help}</p>\
         <input id=\"token-input\" name=\"token\" type=\"text\" autocomplete=\"off\" spellcheck=\"false\" \
         autocapitalize=\"off\" aria-describedby=\"token-help\"></div>\n\
         <div class=\"field js-only\" hidden><label for=\"token-file\">{file}</label>\
         <input id=\"token-file\" type=\"file\" accept=\".txt,text/plain\"></div>\n\
         <p id=\"status-error\" class=\"problem\" role=\"alert\"></p>\n\
         {buttons}\n</form>\n<section id=\"case\" hidden tabindex=\"-1\"></section>\n",
        title = ctx.t("status.title"),
        intro = ctx.t("status.intro"),
        nojs = ctx.t("status.intro.nojs"),
        action = ctx.href("/status"),
        token = ctx.t("status.token"),
        help = ctx.t("status.token.help"),
        file = ctx.t("status.file"),
        buttons = submit_buttons(ctx, "open", "status.open", "status.open"),
    )
}

/// A form's two submit buttons. Without JavaScript only the first exists
/// (it is inside `<noscript>`) and the server does the work. With
/// JavaScript the second stays hidden and disabled until the script has
/// taken the form over, so neither a click nor Enter in a field before the
/// script has loaded sends anything to the server (a disabled default
/// button blocks implicit submission).
fn submit_buttons(ctx: &Ctx, id: &str, server_key: &str, script_key: &str) -> String {
    format!(
        "<noscript><button type=\"submit\" id=\"{id}-server\">{}</button></noscript>\
         <button type=\"submit\" id=\"{id}\" class=\"js-submit\" hidden disabled>{}</button>\n",
        ctx.t(server_key),
        ctx.t(script_key)
    )
}

/// `GET /status`.
pub fn status(ctx: &Ctx) -> HttpResponse {
    page(
        ctx,
        StatusCode::OK,
        ctx.lang.text("status.title"),
        Nav::Status,
        &status_form(ctx, None),
    )
}
