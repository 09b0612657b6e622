//! The transparency log, read-only and public: the C2SP tlog-tiles
//! resources under `/log/` (checkpoint, hash tiles, entry bundles), and
//! JSON proofs under `/v1/log`. Nothing past the latest published
//! checkpoint is served, so no response dates an event more finely than
//! the checkpoint interval.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sotto_store::Store;
use sotto_tlog::tile::{self, TileKind, TilePath};
use sotto_wire::api::{ConsistencyProof, InclusionProof, LogFrontier, LogInfo};

use super::query;
use crate::error::ApiError;
use crate::state::{with_store, AppState};
use crate::tlog::Log;

/// Where the tlog-tiles resources are served.
pub const PREFIX: &str = "/log";

/// Tiles and bundles never change once served.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn beyond() -> ApiError {
    ApiError::not_found(
        "beyond_checkpoint",
        "the log has not published a checkpoint that covers this; try again after the next one",
    )
}

/// A `u64` query parameter, which the route needs.
fn query_u64(req: &HttpRequest, name: &'static str) -> Result<u64, ApiError> {
    let v = query::value(req.query_string(), name)
        .ok_or_else(|| ApiError::bad_request("bad_query", format!("the query needs {name}=N")))?;
    query::u64_value(name, v)
}

/// `GET /log/checkpoint`: the latest published checkpoint, a signed note.
pub async fn checkpoint(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let latest = with_store(&state, |store, _| Ok(store.latest_checkpoint()?)).await?;
    let latest = latest.ok_or_else(beyond)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(latest.note))
}

/// `GET /log/tile/…`: a hash tile or an entry bundle.
pub async fn tile(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let full = format!("tile/{}", path.into_inner());
    let t = TilePath::parse(&full).ok_or_else(|| {
        ApiError::not_found("bad_tile", "not a tile path (see c2sp.org/tlog-tiles)")
    })?;
    let body = with_store(&state, move |store, _| {
        let published = Log::published_size(store)?;
        match t.needs_leaves() {
            Some(n) if n <= published => {}
            _ => return Err(beyond()),
        }
        let width = u64::from(t.width);
        match t.kind {
            TileKind::Hashes(_) => Ok(store.log_hashes(t.tree_level(), t.first(), width)?.concat()),
            TileKind::Entries => {
                let leaves = store.leaves(t.first(), t.first() + width)?;
                tile::encode_bundle(leaves.iter().map(Vec::as_slice))
                    .ok_or_else(|| ApiError::internal(&"a leaf longer than a bundle allows"))
            }
        }
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((header::CACHE_CONTROL, IMMUTABLE))
        .body(body))
}

/// `GET /v1/log/rosters`: who reads for each desk at the latest published
/// checkpoint, proven and signed, for a client's first contact.
pub async fn rosters(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rosters = with_store(&state, |store, st| Ok(st.log.rosters(store)?)).await?;
    Ok(HttpResponse::Ok().json(rosters.ok_or_else(beyond)?))
}

/// `GET /v1/log`.
pub async fn info(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (size, (acknowledge_days, desk_acknowledge_days)) = with_store(&state, |store, st| {
        Ok((Log::published_size(store)?, st.figure_deadlines(store)?))
    })
    .await?;
    Ok(HttpResponse::Ok().json(LogInfo {
        origin: state.log.origin().to_owned(),
        key: state.log.verifier().to_string(),
        size,
        checkpoint_interval_seconds: state.settings.checkpoint_interval_seconds,
        acknowledge_days,
        desk_acknowledge_days,
        prefix: PREFIX.to_owned(),
    }))
}

/// Answers with what `f` finds, in one hop to the store, once the log has
/// published `size` entries: past the latest checkpoint, nothing.
async fn published<T, F>(
    state: &web::Data<AppState>,
    size: u64,
    f: F,
) -> Result<HttpResponse, ApiError>
where
    T: serde::Serialize + Send + 'static,
    F: FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
{
    let found = with_store(state, move |store, _| {
        if size > Log::published_size(store)? {
            return Err(beyond());
        }
        f(store)
    });
    Ok(HttpResponse::Ok().json(found.await?))
}

/// A `bad_query` unless `ok`.
fn ensure(ok: bool, why: &'static str) -> Result<(), ApiError> {
    match ok {
        true => Ok(()),
        false => Err(ApiError::bad_request("bad_query", why)),
    }
}

/// `GET /v1/log/inclusion?index=I&size=N`, `N` at most the published size.
pub async fn inclusion(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (index, size) = (query_u64(&req, "index")?, query_u64(&req, "size")?);
    published(&state, size, move |store| {
        ensure(index < size, "index must be below size")?;
        let proof = store.inclusion_proof(index, size)?;
        Ok(InclusionProof { index, size, proof })
    })
    .await
}

/// `GET /v1/log/consistency?from=M&to=N`, `0 < M <= N`, `N` at most the
/// published size.
pub async fn consistency(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (from, to) = (query_u64(&req, "from")?, query_u64(&req, "to")?);
    let in_range = 0 < from && from <= to;
    published(&state, to, move |store| {
        ensure(in_range, "from must be at least 1 and at most to")?;
        Ok(ConsistencyProof {
            from,
            to,
            proof: store.consistency_proof(from, to)?,
        })
    })
    .await
}

/// `GET /v1/log/frontier?size=N`, `N` at most the published size.
pub async fn frontier(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let size = query_u64(&req, "size")?;
    published(&state, size, move |store| {
        let hashes = store.frontier(size)?.hashes().to_vec();
        Ok(LogFrontier { size, hashes })
    })
    .await
}
