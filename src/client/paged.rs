//! A case read page by page: the server sends a thread in pages of at most
//! its `--page-bytes` of envelopes (`?after=SEQ`), and these join them into
//! the whole case, checking that no message is skipped or repeated.

use sotto_wire::api::{DeskCase, Message, ReporterStatus};

use super::ClientError;

/// A case answer whose thread comes in pages.
pub trait Paged {
    /// The messages of this page.
    fn messages_mut(&mut self) -> &mut Vec<Message>;
    /// How many messages the thread has in all.
    fn message_count(&self) -> u64;
}

impl Paged for ReporterStatus {
    fn messages_mut(&mut self) -> &mut Vec<Message> {
        &mut self.messages
    }
    fn message_count(&self) -> u64 {
        self.message_count
    }
}

impl Paged for DeskCase {
    fn messages_mut(&mut self) -> &mut Vec<Message> {
        &mut self.messages
    }
    fn message_count(&self) -> u64 {
        self.message_count
    }
}

/// The whole case: `fetch(after)` reads one page, from the first message
/// when `after` is `None`. The answer is the latest page's case with every
/// message so far; a message posted while paging is read too.
pub fn whole<T: Paged>(
    fetch: impl FnMut(Option<u64>) -> Result<T, ClientError>,
) -> Result<T, ClientError> {
    whole_from(0, fetch)
}

/// The case with every message from seq `from` on: [`whole`] for a reader
/// who holds the messages before `from` already.
pub fn whole_from<T: Paged>(
    from: u64,
    mut fetch: impl FnMut(Option<u64>) -> Result<T, ClientError>,
) -> Result<T, ClientError> {
    let mut case = fetch(from.checked_sub(1))?;
    let mut messages = std::mem::take(case.messages_mut());
    check_page(&messages, from)?;
    while from.saturating_add(messages.len() as u64) < case.message_count() {
        let after = messages.last().map(|m| m.seq);
        let mut next = fetch(after)?;
        let page = std::mem::take(next.messages_mut());
        if page.is_empty() {
            return Err(ClientError::Protocol(
                "the server counts more messages than it sends".into(),
            ));
        }
        check_page(&page, from.saturating_add(messages.len() as u64))?;
        messages.extend(page);
        case = next;
    }
    *case.messages_mut() = messages;
    Ok(case)
}

/// A page must go on from message `from`, one message after the other.
pub fn check_page(page: &[Message], from: u64) -> Result<(), ClientError> {
    if page
        .iter()
        .zip(from..)
        .all(|(m, expected)| m.seq == expected)
    {
        Ok(())
    } else {
        Err(ClientError::Protocol(
            "the server sent a page of the thread out of order".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: u64) -> Message {
        Message {
            seq,
            direction: "reporter".into(),
            author: None,
            on: sotto_wire::Day::parse("2026-12-03").unwrap(),
            envelope: vec![seq as u8],
            signature: String::new(),
        }
    }

    fn status(count: u64, seqs: &[u64]) -> ReporterStatus {
        let mut s: ReporterStatus = serde_json::from_value(serde_json::json!({
            "case": "c", "desk": "default", "state": "received",
            "opened": "2026-12-03", "updated": "2026-12-03",
            "next_update_due": null, "timeline": [], "message_count": count,
            "messages": [], "erased": null,
        }))
        .unwrap();
        s.messages = seqs.iter().copied().map(message).collect();
        s
    }

    /// A server that answers each `after` from `pages`.
    fn server<'a>(
        count: u64,
        pages: &'a [(Option<u64>, &'a [u64])],
    ) -> impl FnMut(Option<u64>) -> Result<ReporterStatus, ClientError> + 'a {
        move |after| {
            let (_, seqs) = pages.iter().find(|(a, _)| *a == after).unwrap();
            Ok(status(count, seqs))
        }
    }

    #[test]
    fn pages_join_into_the_whole_thread() {
        let pages: &[(Option<u64>, &[u64])] = &[(None, &[0, 1]), (Some(1), &[2]), (Some(2), &[3])];
        let whole = whole(server(4, pages)).unwrap();
        let seqs: Vec<u64> = whole.messages.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, [0, 1, 2, 3]);
    }

    #[test]
    fn a_skipped_repeated_or_missing_message_is_refused() {
        let skipped: &[(Option<u64>, &[u64])] = &[(None, &[0, 1]), (Some(1), &[3])];
        let repeated: &[(Option<u64>, &[u64])] = &[(None, &[0, 1]), (Some(1), &[1, 2])];
        let not_first: &[(Option<u64>, &[u64])] = &[(None, &[1])];
        let empty: &[(Option<u64>, &[u64])] = &[(None, &[0]), (Some(0), &[])];
        for pages in [skipped, repeated, not_first, empty] {
            let err = whole(server(3, pages)).unwrap_err();
            assert!(matches!(err, ClientError::Protocol(_)), "{err}");
        }
    }
}
