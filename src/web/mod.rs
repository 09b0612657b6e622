//! The web pages: `/` (a desk's report form, or the choice of desks),
//! `/desk/{desk}`, `/status`, the public figures at `/transparency`, and
//! the static files they load. With JavaScript, `sotto.js` does all
//! cryptography in the browser over the `/v1` API; without it, the forms
//! post here and [`nojs`] seals on the server (and says so on the page).
//! [`transparency`] runs no script at all; [`chart`] draws its figures.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::ApiError;
use crate::routes::views::recipient_info;
use crate::state::{with_store, AppState};

pub mod assets;
pub mod chart;
pub mod i18n;
pub mod nojs;
pub mod pages;
pub mod transparency;

use i18n::Lang;
use pages::{Ctx, DeskChoice, Nav};
use sotto_wire::api::RecipientInfo;

/// The Content-Security-Policy of every response: this origin's script
/// and style only, no inline script, no eval, no framing, forms only here.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' blob: data:; connect-src 'self'; worker-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The Content-Security-Policy of a page that runs no script (see
/// [`pages::page_without_script`]): this origin's style sheet and nothing
/// else; the only image is the empty `data:` icon that keeps browsers from
/// asking for `/favicon.ico`.
pub const CSP_NO_SCRIPT: &str = "default-src 'none'; script-src 'none'; style-src 'self'; \
    img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The reader's language and the page's path.
pub fn ctx(req: &HttpRequest) -> Ctx {
    let query =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok();
    let wanted = query
        .as_ref()
        .and_then(|q| q.get("lang"))
        .map(String::as_str);
    let accept = req
        .headers()
        .get("accept-language")
        .and_then(|v| v.to_str().ok());
    // A form's answer links its languages to the page the form was on.
    let path = req.path();
    let path = path
        .strip_suffix("/report")
        .or_else(|| path.strip_suffix("/reply"))
        .unwrap_or(path);
    // Where the reader is comes from the operator's setting, never from
    // the request's Host or Forwarded headers, which the sender chooses.
    let (base, origin) = match req.app_data::<web::Data<AppState>>() {
        Some(state) => (
            state.public.prefix().to_owned(),
            state.public.origin().to_owned(),
        ),
        None => (String::new(), String::new()),
    };
    Ctx {
        lang: Lang::negotiate(wanted, accept),
        path: path.to_owned(),
        base,
        origin,
    }
}

/// Routes of the pages and their files.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(home)))
        .service(web::resource("/desk/{desk}").route(web::get().to(desk_page)))
        .service(web::resource("/desk/{desk}/report").route(web::post().to(nojs::report)))
        .service(
            web::resource("/status")
                .route(web::get().to(status_page))
                .route(web::post().to(nojs::status)),
        )
        .service(web::resource("/status/reply").route(web::post().to(nojs::reply)))
        .service(web::resource("/transparency").route(web::get().to(transparency::page)))
        .service(web::resource("/static/{file}").route(web::get().to(assets::serve)));
}

/// A desk's readers as the form lists them: what `GET /v1/desks/{desk}` says.
fn readers(store: &sotto_store::Store, desk: i64) -> Result<Vec<RecipientInfo>, ApiError> {
    store
        .active_recipients(desk)?
        .iter()
        .map(recipient_info)
        .collect()
}

enum Home {
    Choose(Vec<DeskChoice>),
    One(String, String, Vec<RecipientInfo>),
}

/// `GET /`: the only desk's form, or the choice when several desks have
/// readers.
async fn home(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let ctx = ctx(&req);
    let home = with_store(&state, |store, _| {
        let mut open = Vec::new();
        for d in store.desks()? {
            let r = readers(store, d.id)?;
            if !r.is_empty() {
                open.push((d, r));
            }
        }
        if open.len() == 1 {
            if let Some((d, r)) = open.pop() {
                return Ok(Home::One(d.name, d.description, r));
            }
        }
        Ok(Home::Choose(
            open.into_iter()
                .map(|(d, r)| DeskChoice {
                    name: d.name,
                    description: d.description,
                    readers: r.len(),
                })
                .collect(),
        ))
    })
    .await?;
    Ok(match home {
        Home::One(name, description, r) => pages::report(&ctx, &name, &description, &r),
        Home::Choose(desks) => pages::desks(&ctx, &desks),
    })
}

/// `GET /desk/{desk}`.
async fn desk_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ctx = ctx(&req);
    let name = path.into_inner();
    let found = with_store(&state, move |store, _| match store.desk_by_name(&name) {
        Ok(d) => {
            let r = readers(store, d.id)?;
            Ok(Some((d, r)))
        }
        Err(sotto_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    })
    .await?;
    Ok(match found {
        Some((d, r)) => pages::report(&ctx, &d.name, &d.description, &r),
        None => pages::error_page(
            &ctx,
            StatusCode::NOT_FOUND,
            Nav::Report,
            ctx.lang.text("error.unknown_desk"),
        ),
    })
}

/// `GET /status`.
async fn status_page(req: HttpRequest) -> HttpResponse {
    pages::status(&ctx(&req))
}
