//! The states a case moves through.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A case's state. Any state may follow any other: handlers reopen cases,
/// and a record-only report may turn out to need action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseState {
    /// Stored; nobody has looked yet.
    Received,
    /// A handler has seen it and said so.
    Acknowledged,
    /// Being looked into.
    InReview,
    /// The handlers asked the reporter something.
    NeedsInfo,
    /// Dealt with.
    Resolved,
    /// Closed without further action.
    Closed,
    /// Kept for the record; no action asked for.
    RecordOnly,
    /// Judged to be made in bad faith.
    BadFaith,
}

impl CaseState {
    /// Every state, in lifecycle order.
    pub const ALL: [CaseState; 8] = [
        CaseState::Received,
        CaseState::Acknowledged,
        CaseState::InReview,
        CaseState::NeedsInfo,
        CaseState::Resolved,
        CaseState::Closed,
        CaseState::RecordOnly,
        CaseState::BadFaith,
    ];

    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Received => "received",
            CaseState::Acknowledged => "acknowledged",
            CaseState::InReview => "in-review",
            CaseState::NeedsInfo => "needs-info",
            CaseState::Resolved => "resolved",
            CaseState::Closed => "closed",
            CaseState::RecordOnly => "record-only",
            CaseState::BadFaith => "bad-faith",
        }
    }

    /// Parses [`CaseState::as_str`]'s output.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether the handlers still owe the reporter news: no deadline runs
    /// for a finished case, a record-only one, or one made in bad faith.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            CaseState::Resolved | CaseState::Closed | CaseState::RecordOnly | CaseState::BadFaith
        )
    }

    /// A sentence for the reporter.
    pub fn describe(self) -> &'static str {
        match self {
            CaseState::Received => "received: stored, waiting for a handler to acknowledge it",
            CaseState::Acknowledged => "acknowledged: a handler has read it",
            CaseState::InReview => "in review: the handlers are looking into it",
            CaseState::NeedsInfo => "needs information: the handlers asked you something",
            CaseState::Resolved => "resolved",
            CaseState::Closed => "closed",
            CaseState::RecordOnly => "kept for the record, no action taken",
            CaseState::BadFaith => "judged to be made in bad faith",
        }
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_serde_and_parse_back() {
        for s in CaseState::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(CaseState::parse(s.as_str()), Some(s));
        }
        assert_eq!(CaseState::parse("open"), None);
    }
}
