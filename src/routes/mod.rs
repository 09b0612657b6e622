//! The `/v1` API and the log's tiles: the router. One module per resource
//! holds its handlers; the pieces they share live below them, so no
//! handler module imports another:
//!
//! - [`extract`]: who is asking (the reporter's handle, a desk's signature).
//! - [`checks`]: shared checks, and the store's refusals as the API words them.
//! - [`views`]: stored rows as clients see them.
//! - [`thread`]: adding messages and shares to a case, for either author.
//! - [`opening`]: what makes a new report acceptable, as one pure function.
//!
//! Handlers never log: no line per request, none with request data. State
//! and the database pool are in [`crate::state`].

use actix_web::web;

pub mod cases;
pub mod checks;
pub mod desk_cases;
pub mod desks;
pub mod extract;
pub mod health;
pub mod inbox;
pub mod log;
pub mod opening;
pub mod reporter;
pub mod thread;
pub mod transparency;
pub mod views;

/// Routes under `/v1`, and the log's tiles under `/log`. Each path is a
/// resource, so a wrong method gets 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(log::PREFIX)
            .service(web::resource("/checkpoint").route(web::get().to(log::checkpoint)))
            .service(web::resource("/tile/{tail:.*}").route(web::get().to(log::tile))),
    );
    cfg.service(
        web::scope("/v1")
            .service(web::resource("/health").route(web::get().to(health::health)))
            .service(web::resource("/log").route(web::get().to(log::info)))
            .service(web::resource("/transparency").route(web::get().to(transparency::json)))
            .service(web::resource("/log/inclusion").route(web::get().to(log::inclusion)))
            .service(web::resource("/log/consistency").route(web::get().to(log::consistency)))
            .service(web::resource("/log/frontier").route(web::get().to(log::frontier)))
            .service(web::resource("/desks").route(web::get().to(desks::list)))
            .service(web::resource("/desks/{desk}").route(web::get().to(desks::info)))
            .service(
                web::resource("/desks/{desk}/challenge").route(web::post().to(desks::challenge)),
            )
            .service(
                web::resource("/desks/{desk}/resources").route(web::get().to(desks::resources)),
            )
            .service(web::resource("/cases").route(web::post().to(cases::open)))
            .service(web::resource("/reporter/case").route(web::get().to(reporter::status)))
            .service(
                web::resource("/reporter/case/receipt").route(web::get().to(reporter::receipt)),
            )
            .service(
                web::resource("/reporter/case/messages")
                    .route(web::post().to(reporter::post_message)),
            )
            .service(
                web::resource("/reporter/case/escalate").route(web::post().to(reporter::escalate)),
            )
            .service(web::resource("/inbox").route(web::get().to(inbox::inbox)))
            .service(web::resource("/cases/{case}").route(web::get().to(desk_cases::case)))
            .service(
                web::resource("/cases/{case}/messages")
                    .route(web::post().to(desk_cases::post_message)),
            )
            .service(
                web::resource("/cases/{case}/state").route(web::post().to(desk_cases::set_state)),
            )
            .service(
                web::resource("/cases/{case}/shares").route(web::post().to(desk_cases::share)),
            ),
    );
}
