//! The page at `/transparency`: the published figures in each language,
//! with a chart drawn on the server, no script, and nothing the server was
//! told (the log's origin) taken as markup.

use sotto::client::desk;
use sotto::html::esc;
use sotto::web::i18n::Lang;
use sotto_wire::CaseState;

use crate::helpers::{raw_response, spawn_app_with, submit};

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map_or("", |(_, v)| v.as_str())
}

#[test]
fn the_page_shows_the_published_figures_in_each_language_as_a_table_and_a_chart_without_script() {
    // An origin with every character HTML cares about (a log name may
    // hold anything but spaces and '+').
    let origin = "example.org/<b>&\"sotto'";
    let app = spawn_app_with(&[("SOTTO_LOG_ORIGIN", origin)]);
    let alice = app.add_recipient("Alice Ombud");
    let answered = submit(&app, "The first report.");
    desk::set_state(
        &app.api,
        &alice,
        &answered.opened.case,
        CaseState::Acknowledged,
        None,
    )
    .unwrap();
    submit(&app, "The second report, not answered yet.");
    app.wait_for_checkpoint();
    let figures = app.api.transparency().unwrap();
    assert_eq!(figures.origin, origin);
    let month = figures.months.last().unwrap();
    assert_eq!((month.received, month.acknowledged_in_time), (2, 1));

    for tag in ["en", "es", "de", "ar"] {
        let lang = Lang::by_tag(tag).unwrap();
        let (status, headers, body) =
            raw_response(&app, "GET", &format!("/transparency?lang={tag}"), &[], b"");
        let page = String::from_utf8(body).unwrap();
        assert_eq!(status, 200, "{tag}");
        let dir = if tag == "ar" { "rtl" } else { "ltr" };
        assert!(
            page.contains(&format!("<html lang=\"{tag}\" dir=\"{dir}\">")),
            "{tag}: {page}"
        );
        // In the reader's language, with the site's style sheet and links.
        let title = esc(lang.text("transparency.title"));
        assert!(page.contains(&format!("<h1>{title}</h1>")), "{tag}: {page}");
        assert!(page.contains("<link rel=\"stylesheet\" href=\"/static/style.css\">"));
        assert!(page.contains("href=\"/log/checkpoint\""), "{tag}");
        assert!(
            page.contains(&format!(
                "href=\"/transparency?lang={tag}\" hreflang=\"{tag}\""
            )),
            "{tag}"
        );

        // The figures, as the table's row of the month.
        assert!(
            page.contains(&format!(
                "<time datetime=\"{m}\">{m}</time></th><td>2</td><td>1</td><td>0</td>",
                m = month.month
            )),
            "{tag}: {page}"
        );
        let caption = page
            .split("id=\"figures-title\">")
            .nth(1)
            .and_then(|c| c.split("</p>").next())
            .unwrap();
        assert!(
            caption.contains(&figures.size.to_string()),
            "{tag}: {caption}"
        );

        // One chart, one bar per month, named for assistive technology.
        assert_eq!(page.matches("<svg").count(), 1, "{tag}");
        assert_eq!(
            page.matches("class=\"bar-received\"").count(),
            figures.months.len(),
            "{tag}"
        );
        assert!(page.contains("role=\"img\" aria-labelledby=\"chart-title\""));
        assert!(page.contains(&format!(
            "<title id=\"chart-title\">{}</title>",
            esc(lang.text("transparency.chart.title"))
        )));

        // The origin is text, never markup.
        assert!(
            page.contains("example.org/&lt;b&gt;&amp;&quot;sotto&#39;"),
            "{tag}"
        );
        assert!(!page.contains(origin), "{tag}");

        // No script, and a policy under which none could run.
        assert!(!page.contains("<script"), "{tag}");
        let csp = header(&headers, "content-security-policy");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("script-src 'none'"), "{csp}");
        assert!(csp.contains("style-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
    }

    // The browser's language when none is chosen.
    let (_, _, body) = raw_response(
        &app,
        "GET",
        "/transparency",
        &[("accept-language", "ar, en;q=0.5")],
        b"",
    );
    assert!(String::from_utf8(body)
        .unwrap()
        .contains("<html lang=\"ar\" dir=\"rtl\">"));

    // The link the page gives to the checkpoint leads to it.
    let (status, _, body) = raw_response(&app, "GET", "/log/checkpoint", &[], b"");
    assert_eq!(status, 200);
    assert!(String::from_utf8(body).unwrap().starts_with(origin));
}

#[test]
fn under_a_path_prefix_every_link_of_the_page_carries_it() {
    let app = spawn_app_with(&[("SOTTO_PUBLIC_URL", "https://reports.example.org/report/")]);
    let (status, _, body) = raw_response(&app, "GET", "/transparency?lang=es", &[], b"");
    assert_eq!(status, 200);
    let page = String::from_utf8(body).unwrap();
    for want in [
        "href=\"/report/static/style.css\"",
        "href=\"/report/log/checkpoint\"",
        "href=\"/report/v1/transparency\"",
        "href=\"/report/?lang=es\">",
        "href=\"/report/transparency?lang=es\" aria-current=\"page\"",
        "href=\"/report/transparency?lang=ar\" hreflang=\"ar\"",
    ] {
        assert!(page.contains(want), "missing {want} in {page}");
    }
    assert!(!page.contains("href=\"/log/"), "{page}");
    // No report yet: no chart, and the table says so.
    assert!(!page.contains("<svg"));
    assert!(page.contains(&esc(Lang::by_tag("es").unwrap().text("transparency.none"))));
}
