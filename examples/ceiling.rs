//! The ceiling the load benchmark measures Sotto against (issue 14):
//! actix-web on the same machine with the same number of workers, and
//! nothing else. Run by `examples/load.rs`; prints its address, then
//! serves until killed.
//!
//! - `GET /bare`: a fixed JSON body, the most any actix-web route does.
//! - `GET /lookup`: HMAC-SHA256 of the `sotto-handle` header, then one
//!   indexed SQLite lookup of the hash on the blocking pool: what a
//!   status poll cannot do without.
//!
//! `ceiling LISTEN DB WORKERS`; the database is made with 10,000 rows if
//! it does not exist.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::path::PathBuf;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use ring::hmac;

const BODY: &str = r#"{"case":"5e24fc0707246d53bdeb35f933699825","desk":"default","state":"received","opened":"2026-12-03","updated":"2026-12-03","next_update_due":"2026-12-10","feedback_due":null,"timeline":[{"state":"received","on":"2026-12-03"}],"shares":[],"message_count":2,"messages":[],"erased":null}"#;

thread_local! {
    static CONN: RefCell<Option<rusqlite::Connection>> = const { RefCell::new(None) };
}

struct State {
    key: hmac::Key,
    db: PathBuf,
}

async fn bare() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(BODY)
}

async fn lookup(req: HttpRequest, st: web::Data<State>) -> HttpResponse {
    let Some(handle) = req.headers().get("sotto-handle") else {
        return HttpResponse::Unauthorized().finish();
    };
    let tag = hmac::sign(&st.key, handle.as_bytes());
    let hash = tag.as_ref().to_vec();
    let st = st.clone();
    let found = web::block(move || {
        CONN.with(|c| {
            let mut c = c.borrow_mut();
            let conn = c.get_or_insert_with(|| rusqlite::Connection::open(&st.db).unwrap());
            let found = conn
                .prepare_cached("SELECT state FROM cases WHERE hash = ?1")
                .unwrap()
                .query_row([&hash], |r| r.get::<_, String>(0))
                .ok();
            found
        })
    })
    .await
    .unwrap();
    match found {
        Some(state) => HttpResponse::Ok()
            .content_type("application/json")
            .body(format!(r#"{{"state":"{state}"}}"#)),
        None => HttpResponse::NotFound().finish(),
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let db = PathBuf::from(args.next().unwrap_or_else(|| "ceiling.db".into()));
    let workers: usize = args.next().map_or(2, |w| w.parse().unwrap());
    let key = hmac::Key::new(hmac::HMAC_SHA256, b"ceiling pepper");
    if !db.exists() {
        let mut conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE cases (hash BLOB PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;",
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        for i in 0..10_000u32 {
            let tag = hmac::sign(&key, format!("handle-{i}").as_bytes());
            tx.execute(
                "INSERT INTO cases (hash, state) VALUES (?1, 'received')",
                [tag.as_ref()],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let state = web::Data::new(State { key, db });
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .route("/bare", web::get().to(bare))
                .route("/lookup", web::get().to(lookup))
        })
        .workers(workers)
        .bind(listen)?;
        let addr = server.addrs()[0];
        println!("ceiling listening on http://{addr}/");
        server.run().await
    })
}
