//! Reading a case in pages, and not at all when nothing changed.
//!
//! A thread is served in pages (`?after=SEQ`, at most `--page-bytes` of
//! envelopes each, and at most `limit=N` messages if asked), so no answer
//! needs memory in proportion to a case's whole history. Each answer
//! carries an entity tag over the case's version: a client that holds
//! everything sends it back in `If-None-Match` and, while nothing changed,
//! gets `304 Not Modified`: from the worker's memory when it made that tag
//! and nothing was written since ([`crate::known::Recall`]), else from one
//! indexed lookup.
//!
//! The tag names the case as the asker sees it, not one page: it is the
//! same for every `after`. A client that is still paging through a thread
//! does not send it. Answers are `no-store`, so no cache keeps a page
//! under it.

use actix_web::http::header::{self, EntityTag, Header, IfNoneMatch};
use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use sotto_envelope::labels::CASE_TAG;
use sotto_store::{CaseRow, CaseVersion, Store};

use crate::error::ApiError;
use crate::state::AppState;
use crate::tlog::Log;

/// Who reads the case: the answer differs by asker (a reader gets the
/// envelope of the share sealed to them), and so does its tag.
#[derive(Debug, Clone, Copy)]
pub enum Asker<'a> {
    /// The reporter.
    Reporter,
    /// A reader of the case, by recipient id.
    Reader(&'a str),
}

/// Which page of a thread a read asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Page {
    /// Only messages after this `seq`.
    pub after: Option<u64>,
    /// At most this many messages (at least one): a client that needs only
    /// the report asks for `limit=1`, and reads no more of a long thread.
    pub limit: Option<u64>,
}

/// What a conditional read asks for: the page, and the tag the client
/// already holds.
#[derive(Debug, Clone)]
pub struct Conditional {
    /// The page.
    pub page: Page,
    known: Option<IfNoneMatch>,
}

impl Conditional {
    /// Reads `?after=SEQ&limit=N` (the only parameters these routes take,
    /// each at most once, both optional) and `If-None-Match`.
    pub fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        let mut page = Page::default();
        for pair in req.query_string().split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("after", v)) if page.after.is_none() => {
                    page.after = Some(super::query::u64_value("after", v)?);
                }
                Some(("limit", v)) if page.limit.is_none() => {
                    let limit = super::query::u64_value("limit", v)?;
                    if limit == 0 {
                        return Err(ApiError::bad_request(
                            "bad_query",
                            "limit must be at least 1",
                        ));
                    }
                    page.limit = Some(limit);
                }
                _ => {
                    return Err(ApiError::bad_request(
                        "bad_query",
                        "this route takes the query parameters after=SEQ and limit=N, each at most once",
                    ))
                }
            }
        }
        Ok(Self {
            page,
            known: IfNoneMatch::parse(req).ok(),
        })
    }

    /// Whether the client already holds the case at `tag` (weak
    /// comparison, as RFC 9110 asks of `If-None-Match`).
    pub fn holds(&self, tag: CaseTag) -> bool {
        match &self.known {
            Some(IfNoneMatch::Any) => true,
            Some(IfNoneMatch::Items(items)) => {
                let tag = tag.entity();
                items.iter().any(|t| t.weak_eq(&tag))
            }
            None => false,
        }
    }

    /// The case at its current tag: `NotModified` when the client holds
    /// it, else what `read` builds.
    pub fn read<T>(
        &self,
        store: &Store,
        st: &AppState,
        row: &CaseRow,
        asker: Asker<'_>,
        read: impl FnOnce() -> Result<T, ApiError>,
    ) -> Result<Fresh<T>, ApiError> {
        let tag = case_tag(store, st, &row.case_version(), asker)?;
        if self.holds(tag) {
            return Ok(Fresh::NotModified(tag));
        }
        Ok(Fresh::Changed(tag, read()?))
    }
}

/// A conditional read's answer.
#[derive(Debug)]
pub enum Fresh<T> {
    /// Nothing changed since the client's tag.
    NotModified(CaseTag),
    /// The case, under its new tag.
    Changed(CaseTag, T),
}

impl<T> Fresh<T> {
    /// The case's tag, changed or not.
    pub fn tag(&self) -> CaseTag {
        match self {
            Self::NotModified(tag) | Self::Changed(tag, _) => *tag,
        }
    }
}

impl<T> Fresh<Option<T>> {
    /// The answer, or `None` if it is a changed case whose body was left
    /// for another to read ([`super::views::reporter_status`]'s `most`).
    pub fn made(self) -> Option<Fresh<T>> {
        match self {
            Self::NotModified(tag) => Some(Fresh::NotModified(tag)),
            Self::Changed(tag, body) => body.map(|b| Fresh::Changed(tag, b)),
        }
    }
}

impl<T: Serialize> Fresh<T> {
    /// `304` with the tag, or `200` with the tag and the JSON.
    pub fn respond(self) -> HttpResponse {
        match self {
            Self::NotModified(tag) => HttpResponse::NotModified()
                .insert_header((header::ETAG, tag.entity().to_string()))
                .finish(),
            Self::Changed(tag, body) => HttpResponse::Ok()
                .insert_header((header::ETAG, tag.entity().to_string()))
                .json(body),
        }
    }
}

/// A case's entity tag: twelve bytes of a hash over its version (see
/// [`case_tag`]), sent as sixteen characters of base64. Small and `Copy`,
/// so a worker can keep many ([`crate::known::Recall`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseTag([u8; 12]);

impl CaseTag {
    /// The tag of a case version's digest: its first twelve bytes.
    pub fn from_digest(digest: &[u8; 32]) -> Self {
        let mut tag = [0; 12];
        tag.copy_from_slice(&digest[..12]);
        Self(tag)
    }

    /// The tag as HTTP sends it: strong, quoted base64.
    pub fn entity(self) -> EntityTag {
        EntityTag::new_strong(URL_SAFE_NO_PAD.encode(self.0))
    }
}

/// The case's tag: a hash over what its answer is made of besides its
/// rows' contents. Every change to the case is an event, so the position
/// of its latest event stands for the rows; the desk's deadlines give the
/// dates owed; the log's published size shows in the erasure's entry and
/// (for readers) the opening's.
pub fn case_tag(
    store: &Store,
    st: &AppState,
    row: &CaseVersion,
    asker: Asker<'_>,
) -> Result<CaseTag, ApiError> {
    let deadlines = st.deadlines(store, row.desk_id)?;
    let mut m = Vec::with_capacity(128);
    m.extend_from_slice(CASE_TAG);
    m.push(0);
    m.extend_from_slice(&row.id);
    m.extend_from_slice(&row.version.to_be_bytes());
    for days in [
        deadlines.acknowledge_days,
        deadlines.update_days,
        deadlines.feedback_months,
    ] {
        m.extend_from_slice(&days.to_be_bytes());
    }
    let published = |entry: u64| -> Result<u8, ApiError> {
        Ok(u8::from(Log::published_index(store, entry)?.is_some()))
    };
    if let Some(entry) = row.erased_entry {
        m.push(published(entry)?);
    }
    match asker {
        Asker::Reporter => m.push(0),
        Asker::Reader(id) => {
            m.push(1);
            m.extend_from_slice(id.as_bytes());
            if let Some(first) = store.case_leaf_indexes(&row.id)?.first() {
                m.push(published(*first)?);
            }
        }
    }
    Ok(CaseTag::from_digest(&sotto_envelope::sha256(&m)))
}
