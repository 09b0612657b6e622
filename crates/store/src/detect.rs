//! Recognising values that must never be stored: IP addresses, e-mail
//! addresses, URLs, user agents and readable prose. Used by the auditor on
//! every value of the database.
//!
//! Text values are checked as they are. Binary values (other than
//! envelopes, which are ciphertext) are checked on their runs of printable
//! ASCII, with stricter patterns: a random 32-byte hash should not look
//! like anything, and these patterns make that chance negligible.

/// What a value looks like, if it looks like something forbidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Looks {
    /// An IPv4 or IPv6 address.
    IpAddress,
    /// An e-mail address.
    Email,
    /// A URL.
    Url,
    /// An HTTP user agent.
    UserAgent,
    /// Several words of readable text.
    Prose,
}

impl Looks {
    /// Said in a finding.
    pub fn describe(self) -> &'static str {
        match self {
            Looks::IpAddress => "an IP address",
            Looks::Email => "an e-mail address",
            Looks::Url => "a URL",
            Looks::UserAgent => "a browser or HTTP client's user agent",
            Looks::Prose => "readable prose",
        }
    }
}

/// Checks a text value. `public_text` columns (names and descriptions the
/// operator or an ombudsperson publish) may hold prose.
pub fn text(s: &str, public_text: bool) -> Option<Looks> {
    if has_ipv4(s) || has_ipv6(s) {
        return Some(Looks::IpAddress);
    }
    if has_email(s, 1) {
        return Some(Looks::Email);
    }
    if has_url(s) {
        return Some(Looks::Url);
    }
    if has_user_agent(s) {
        return Some(Looks::UserAgent);
    }
    if !public_text && has_prose(s, 4) {
        return Some(Looks::Prose);
    }
    None
}

/// Checks a binary value's printable runs.
pub fn binary(b: &[u8]) -> Option<Looks> {
    for run in b
        .split(|c| !(0x20..0x7f).contains(c))
        .filter(|r| r.len() >= 7)
    {
        let s = std::str::from_utf8(run).unwrap_or("");
        if has_ipv4(s) || has_ipv6(s) {
            return Some(Looks::IpAddress);
        }
        if has_email(s, 3) {
            return Some(Looks::Email);
        }
        if has_url(s) {
            return Some(Looks::Url);
        }
        if has_user_agent(s) {
            return Some(Looks::UserAgent);
        }
        if run.len() >= 20 && has_prose(s, 4) {
            return Some(Looks::Prose);
        }
    }
    None
}

fn has_ipv4(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'))
        {
            let mut j = i;
            let mut groups = 0;
            loop {
                let start = j;
                while j < b.len() && b[j].is_ascii_digit() && j - start < 4 {
                    j += 1;
                }
                let len = j - start;
                let ok = (1..=3).contains(&len)
                    && std::str::from_utf8(&b[start..j])
                        .ok()
                        .and_then(|g| g.parse::<u16>().ok())
                        .is_some_and(|v| v <= 255);
                if !ok {
                    break;
                }
                groups += 1;
                if groups == 4 {
                    let end_ok = j == b.len() || !(b[j].is_ascii_alphanumeric() || b[j] == b'.');
                    if end_ok {
                        return true;
                    }
                    break;
                }
                if j < b.len() && b[j] == b'.' {
                    j += 1;
                } else {
                    break;
                }
            }
        }
        i += 1;
    }
    false
}

fn has_ipv6(s: &str) -> bool {
    s.split(|c: char| !(c.is_ascii_hexdigit() || c == ':'))
        .any(|run| {
            let colons = run.matches(':').count();
            colons >= 2
                && !run.contains(":::")
                && (run.contains("::") || colons == 7)
                && run.split(':').all(|g| g.len() <= 4)
                && run.split(':').filter(|g| !g.is_empty()).count() >= 2
        })
}

fn has_email(s: &str, min_part: usize) -> bool {
    let b = s.as_bytes();
    b.iter()
        .enumerate()
        .filter(|(_, c)| **c == b'@')
        .any(|(at, _)| {
            let local = b[..at]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || b"._%+-".contains(c))
                .count();
            let domain: Vec<u8> = b[at + 1..]
                .iter()
                .copied()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'-')
                .collect();
            let domain = std::str::from_utf8(&domain)
                .unwrap_or("")
                .trim_end_matches('.');
            let Some((name, tld)) = domain.rsplit_once('.') else {
                return false;
            };
            local >= min_part
                && name.len() >= min_part
                && (2..=24).contains(&tld.len())
                && tld.bytes().all(|c| c.is_ascii_alphabetic())
        })
}

fn has_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if let Some(i) = lower.find("://") {
        let scheme = lower[..i]
            .bytes()
            .rev()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        if scheme >= 2 && lower.len() > i + 3 {
            return true;
        }
    }
    lower
        .match_indices("www.")
        .any(|(i, _)| lower[i + 4..].starts_with(|c: char| c.is_ascii_alphanumeric()))
}

fn has_user_agent(s: &str) -> bool {
    const MARKERS: [&str; 12] = [
        "mozilla/",
        "applewebkit/",
        "gecko/",
        "chrome/",
        "safari/",
        "firefox/",
        "curl/",
        "wget/",
        "python-requests/",
        "okhttp/",
        "go-http-client/",
        "ureq/",
    ];
    let lower = s.to_ascii_lowercase();
    MARKERS.iter().any(|m| lower.contains(m))
}

/// `words` consecutive words of two or more letters (trailing punctuation
/// allowed).
fn has_prose(s: &str, words: usize) -> bool {
    let mut run = 0;
    for w in s.split_whitespace() {
        let core = w.trim_end_matches([',', '.', ';', ':', '!', '?', '\'', '"', ')']);
        let core = core.trim_start_matches(['(', '\'', '"']);
        if core.chars().count() >= 2
            && core
                .chars()
                .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
        {
            run += 1;
            if run >= words {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_values_are_recognised_in_text() {
        let cases = [
            ("192.168.1.20", Looks::IpAddress),
            ("from 10.0.0.1 at noon", Looks::IpAddress),
            ("2001:db8::1", Looks::IpAddress),
            ("fe80:0:0:0:200:f8ff:fe21:67cf", Looks::IpAddress),
            ("alice@example.org", Looks::Email),
            ("https://example.org/x", Looks::Url),
            ("see www.example.org", Looks::Url),
            ("Mozilla/5.0 (X11; Linux x86_64)", Looks::UserAgent),
            ("curl/8.5.0", Looks::UserAgent),
            ("the moderator sent me threats", Looks::Prose),
        ];
        for (s, want) in cases {
            assert_eq!(text(s, false), Some(want), "{s}");
        }
    }

    #[test]
    fn what_sotto_stores_is_not_mistaken_for_them() {
        let fine = [
            "2026-11-22",
            "received",
            "message-posted",
            "1234567890123456789012345",
            "age1ty2f2937fm7a2288s99ftwfzl2adhs3fyulhcsjsjclylh9vcvfq5e4y25",
            "sotto-card-v1 age1ty2f2937fm7a2288s99ftwfzl2adhs3fyulhcsjsjclylh9vcvfq5e4y25 ed25519:HnObglcq-94r_F7BQqU0sPO2Wu13SVXh454Nkq34YJY Alice Ombud",
            "localhost/sotto\n12\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n\u{2014} localhost/sotto AbCd+/xyz=\n",
            "1.2.3",
            "version 1.2.3.4.5",
        ];
        for s in fine {
            assert_eq!(text(s, false), None, "{s}");
        }
        // Public names may be sentences, but not addresses.
        assert_eq!(text("The community's reporting desk for staff", true), None);
        assert_eq!(text("write to desk@example.org", true), Some(Looks::Email));
    }

    #[test]
    fn binary_values_are_checked_on_their_printable_runs() {
        let mut blob = vec![0u8, 1, 2];
        blob.extend_from_slice(b"10.1.2.3");
        blob.push(0xff);
        assert_eq!(binary(&blob), Some(Looks::IpAddress));
        assert_eq!(binary(b"\x00bob@mail.example\x01"), Some(Looks::Email));
        // Hashes: nothing printable to speak of.
        for i in 0..2000u32 {
            let h = sotto_envelope::sha256(&i.to_be_bytes());
            assert_eq!(binary(&h), None, "{i}");
        }
    }
}
