//! Desks: the list, one desk's public information, and proof-of-work
//! challenges for a new report.

use actix_web::{web, HttpResponse};
use sotto_envelope::pow::Challenge;
use sotto_envelope::sign::CaseId;
use sotto_store::Desk;
use sotto_wire::api::{ChallengeResponse, DeskInfo, DeskList, DeskSummary, Limits, PowParams};

use super::checks::desk_by_name;
use super::views::recipient_info;
use crate::auth::now_unix;
use crate::bundle::bundle_sha256;
use crate::error::ApiError;
use crate::state::{with_store, AppState};

/// The desk named in the path.
async fn named(state: &web::Data<AppState>, path: web::Path<String>) -> Result<Desk, ApiError> {
    let name = path.into_inner();
    with_store(state, move |store, _| desk_by_name(store, &name)).await
}

/// `GET /v1/desks`.
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let desks = with_store(&state, |store, _| {
        let mut out = Vec::new();
        for d in store.desks()? {
            out.push(DeskSummary {
                recipients: store.active_recipients(d.id)?.len(),
                name: d.name,
                description: d.description,
            });
        }
        Ok(out)
    })
    .await?;
    Ok(HttpResponse::Ok().json(DeskList { desks }))
}

/// `GET /v1/desks/{desk}`: everything a reporter's client needs before
/// writing: who will read, their fingerprints, limits, proof of work.
pub async fn info(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = path.into_inner();
    let info = with_store(&state, move |store, st| {
        let desk = desk_by_name(store, &name)?;
        let recipients = store
            .active_recipients(desk.id)?
            .iter()
            .map(recipient_info)
            .collect::<Result<_, _>>()?;
        Ok(DeskInfo {
            name: desk.name,
            description: desk.description,
            recipients,
            limits: Limits {
                max_envelope_bytes: st.settings.max_envelope_bytes,
            },
            proof_of_work: PowParams {
                difficulty: st.effort.difficulty(),
                usual_difficulty: Some(st.effort.base()),
                challenge_ttl_seconds: st.settings.challenge_ttl_seconds,
            },
            deadlines: st.deadlines(store, desk.id)?,
            web_bundle_sha256: bundle_sha256().to_owned(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(info))
}

/// `POST /v1/desks/{desk}/challenge`: a fresh case id and a challenge bound
/// to it. Nothing is stored: the challenge carries its own authentication.
pub async fn challenge(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let desk = named(&state, path).await?;
    let case = CaseId::generate();
    let ttl = state.settings.challenge_ttl_seconds;
    let challenge = Challenge {
        case,
        expires: now_unix().saturating_add(ttl),
        difficulty: state.effort.difficulty(),
        desk: desk.name,
    };
    let encoded = state
        .challenges
        .issue(&challenge)
        .map_err(|_| ApiError::internal(&"desk name too long to bind"))?;
    Ok(HttpResponse::Ok().json(ChallengeResponse {
        challenge: encoded,
        case: case.to_string(),
        difficulty: challenge.difficulty,
        expires_in_seconds: ttl,
    }))
}

/// `GET /v1/desks/{desk}/resources`: the desk's whole referral directory
/// (empty if it has none). The whole of it, always: the reporter's client
/// filters by language, region and topic, so the server learns none of them.
pub async fn resources(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let desk = named(&state, path).await?;
    let file = crate::datadir::resources_path(&state.settings.data_dir, desk.id);
    let directory = web::block(move || match std::fs::read_to_string(&file) {
        Ok(text) => sotto_wire::resources::Directory::parse(&text)
            .map_err(|why| ApiError::internal(&format!("the stored directory is invalid: {why}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(sotto_wire::resources::Directory {
                version: sotto_wire::resources::DIRECTORY_VERSION,
                entries: Vec::new(),
            })
        }
        Err(e) => Err(ApiError::internal(&e)),
    })
    .await??;
    Ok(HttpResponse::Ok().json(directory))
}
