//! `GET /v1/inbox`: the cases addressed to the signing ombudsperson, in
//! pages. Every desk request is signed (see [`super::extract`]); a case's
//! own routes are in [`super::desk_cases`].

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse};
use sotto_envelope::sign::CaseId;
use sotto_wire::api::Inbox;
use sotto_wire::Day;

use super::extract::Signed;
use super::views::inbox_entry;
use crate::error::ApiError;

/// Cases a page of the inbox holds at most: what one answer costs stays
/// the same however many cases a desk has.
pub const INBOX_PAGE: usize = 200;

/// `GET /v1/inbox[?after=CURSOR]`: one page, newest first, and the cursor
/// of the next (`DAY.CASE`, the last case's day opened and id).
pub async fn inbox(http: HttpRequest, req: Signed) -> Result<HttpResponse, ApiError> {
    let after = cursor(http.query_string())?;
    let inbox = req.on_signer(move |store, st, who| {
        // Only cases of desks the signer is still active on: one query for
        // all of them, not one per case.
        let my_desks: HashSet<String> = store
            .recipients()?
            .into_iter()
            .filter(|r| r.id == who.id && r.removed_on.is_none())
            .map(|r| r.desk)
            .collect();
        let page = store.inbox(&who.id, after, INBOX_PAGE)?;
        let next = (page.len() == INBOX_PAGE)
            .then(|| page.last())
            .flatten()
            .map(|(row, _)| format!("{}.{}", row.opened_on, CaseId(row.id)));
        let cases = page
            .iter()
            .filter(|(_, through)| my_desks.contains(through))
            .map(|(row, _)| inbox_entry(store, st, row))
            .collect::<Result<_, _>>()?;
        Ok(Inbox { cases, next })
    });
    Ok(HttpResponse::Ok().json(inbox.await?))
}

/// `after=DAY.CASE`, the only query parameter.
fn cursor(query: &str) -> Result<Option<(Day, [u8; 16])>, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "bad_query",
            "this route takes one query parameter, after=CURSOR, as the last page's next gives it",
        )
    };
    if query.is_empty() {
        return Ok(None);
    }
    let value = query.strip_prefix("after=").ok_or_else(bad)?;
    let (day, case) = value.split_once('.').ok_or_else(bad)?;
    let day = Day::parse(day).ok_or_else(bad)?;
    let case = CaseId::parse(case).ok_or_else(bad)?;
    Ok(Some((day, case.0)))
}
