//! Reading a case in pages, and not at all when nothing changed.
//!
//! A thread is served in pages (`?after=SEQ`, at most `--page-bytes` of
//! envelopes each, and at most `limit=N` messages if asked), so no answer
//! needs memory in proportion to a case's whole history. Each answer
//! carries an entity tag over the case's version: a client that holds
//! everything sends it back in `If-None-Match` and, while nothing changed,
//! gets `304 Not Modified`: from the worker's memory when it made that tag
//! and nothing was written since ([`Recall`]), else from one indexed
//! lookup.
//!
//! The memory: each worker keeps the tags it made, by handle hash, under
//! the database's change count they were read under. Every write of the
//! server passes through one connection, which counts them; a write of
//! another process (`sotto admin set-deadlines`, beside the server) is
//! counted within a second ([`sotto_store::Changes`]). It holds keyed
//! hashes of handles, as the database does, and only known ones: a tag is
//! kept only after its case was read.
//!
//! The tag names the case as the asker sees it, not one page: it is the
//! same for every `after`. A client that is still paging through a thread
//! does not send it. Answers are `no-store`, so no cache keeps a page
//! under it.

use std::cell::RefCell;
use std::collections::HashMap;

use actix_web::http::header::{self, EntityTag, Header, IfNoneMatch};
use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use sotto_envelope::labels::CASE_TAG;
use sotto_store::{CaseRow, CaseVersion, Changes, Store};

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
/// so a worker can keep many ([`Recall`]).
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

/// The most tags one worker keeps: a worker that would keep more starts
/// again from none. 44 bytes a tag: about 3 MiB a worker when full.
const RECALLED: usize = 56 << 10;

/// The tags one worker made lately, by handle hash, all made while the
/// change count was `under`.
#[derive(Debug, Default)]
struct Tags {
    under: u64,
    tags: HashMap<[u8; 32], CaseTag>,
}

thread_local! {
    static TAGS: RefCell<Tags> = RefCell::new(Tags::default());
}

/// This worker's memory of the tags it made, as of one moment: take it
/// before reading the database, so that whatever is read after is at
/// least as new as the count it is kept under.
#[derive(Debug, Clone, Copy)]
pub struct Recall {
    changes: u64,
}

impl Recall {
    /// The memory as of now.
    pub fn now(changes: &Changes) -> Self {
        Self {
            changes: changes.now(),
        }
    }

    /// The tag last made on this worker for the case of `hash`, if nothing
    /// was written since.
    pub fn tag(self, hash: &[u8; 32]) -> Option<CaseTag> {
        TAGS.with(|t| {
            let t = t.borrow();
            (t.under == self.changes)
                .then(|| t.tags.get(hash).copied())
                .flatten()
        })
    }

    /// Keeps `tag`, made from reads that began after this recall, for the
    /// case of `hash`. A tag made under an older count than the worker's
    /// newest is not kept: a write may have come between.
    pub fn keep(self, hash: &[u8; 32], tag: CaseTag) {
        TAGS.with(|t| {
            let mut t = t.borrow_mut();
            if self.changes < t.under {
                return;
            }
            if self.changes > t.under || t.tags.len() >= RECALLED {
                t.tags.clear();
                t.under = self.changes;
            }
            t.tags.insert(*hash, tag);
        });
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
    let deadlines = st.deadlines_or_default(row.desk_deadlines);
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn tag(n: u8) -> CaseTag {
        CaseTag::from_digest(&[n; 32])
    }

    #[test]
    fn a_tag_is_recalled_only_while_nothing_was_written() {
        // Each test runs on its own thread, with its own memory.
        let (a, b) = ([1; 32], [2; 32]);
        let first = Recall { changes: 5 };
        assert_eq!(first.tag(&a), None);
        first.keep(&a, tag(1));
        assert_eq!(first.tag(&a), Some(tag(1)));
        assert_eq!(first.tag(&b), None, "by handle");

        // A write: nothing made before it is recalled.
        let written = Recall { changes: 6 };
        assert_eq!(written.tag(&a), None);
        // A tag read before that write, kept after a newer one: not kept.
        written.keep(&b, tag(2));
        first.keep(&a, tag(3));
        assert_eq!(written.tag(&a), None);
        assert_eq!(written.tag(&b), Some(tag(2)));
    }

    #[test]
    fn a_full_memory_starts_again_from_none() {
        let now = Recall { changes: 1 };
        for n in 0..RECALLED {
            let mut hash = [0; 32];
            hash[..8].copy_from_slice(&(n as u64).to_le_bytes());
            now.keep(&hash, tag(1));
        }
        let first = [0; 32];
        assert_eq!(now.tag(&first), Some(tag(1)));
        now.keep(&[0xff; 32], tag(2));
        assert_eq!(now.tag(&first), None);
        assert_eq!(now.tag(&[0xff; 32]), Some(tag(2)));
        TAGS.with(|t| assert_eq!(t.borrow().tags.len(), 1));
    }
}
