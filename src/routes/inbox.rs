//! `GET /v1/inbox`: the cases addressed to the signing ombudsperson. Every
//! desk request is signed (see [`super::extract`]); a case's own routes
//! are in [`super::desk_cases`].

use std::collections::HashSet;

use actix_web::HttpResponse;
use sotto_wire::api::Inbox;

use super::extract::Signed;
use super::views::inbox_entry;
use crate::error::ApiError;

/// `GET /v1/inbox`.
pub async fn inbox(req: Signed) -> Result<HttpResponse, ApiError> {
    let inbox = req.on_signer(|store, st, who| {
        // Only cases of desks the signer is still active on: one query for
        // all of them, not one per case.
        let my_desks: HashSet<String> = store
            .recipients()?
            .into_iter()
            .filter(|r| r.id == who.id && r.removed_on.is_none())
            .map(|r| r.desk)
            .collect();
        let cases = store
            .inbox(&who.id)?
            .iter()
            .filter(|(_, through)| my_desks.contains(through))
            .map(|(row, _)| inbox_entry(store, st, row))
            .collect::<Result<_, _>>()?;
        Ok(Inbox { cases })
    });
    Ok(HttpResponse::Ok().json(inbox.await?))
}
