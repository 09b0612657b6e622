//! A desk's referral directory: support organisations outside the
//! community, public by design. The server serves the whole directory; the
//! reporter's client filters it on their device by language, region and
//! topic, so the server never learns the reporter's region.

use serde::{Deserialize, Serialize};

use crate::content::{is_language_tag, CATEGORIES};

/// Version of the directory format.
pub const DIRECTORY_VERSION: u32 = 1;
/// Most entries a directory holds.
pub const MAX_ENTRIES: usize = 500;

/// A whole directory.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    /// [`DIRECTORY_VERSION`].
    pub version: u32,
    /// The organisations.
    pub entries: Vec<Resource>,
}

/// One organisation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// Its name, 1 to 100 characters.
    pub name: String,
    /// Languages it works in (BCP 47 tags).
    pub languages: Vec<String>,
    /// Where it helps: ISO 3166-1 alpha-2 codes (`DE`), `EU`, or `*` for
    /// anywhere.
    pub regions: Vec<String>,
    /// What it helps with: report categories, or `*` for any.
    pub topics: Vec<String>,
    /// How to reach it (a phone number, "chat on the website"), at most
    /// 200 characters.
    pub contact: String,
    /// Its website, `https://…`.
    pub url: String,
    /// One or two sentences, at most 500 characters (optional).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

fn text_ok(s: &str, max: usize) -> bool {
    s.trim() == s && s.chars().count() <= max && !s.chars().any(char::is_control)
}

fn region_ok(r: &str) -> bool {
    r == "*" || (r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()))
}

impl Directory {
    /// Parses and checks a directory; the error says which entry and field
    /// is wrong, and why.
    pub fn parse(json: &str) -> Result<Self, String> {
        let d: Directory = serde_json::from_str(json).map_err(|e| {
            format!("not a directory file ({e}); see deploy/resources.example.json")
        })?;
        if d.version != DIRECTORY_VERSION {
            return Err(format!(
                "version {} is not known; this Sotto reads version {DIRECTORY_VERSION}",
                d.version
            ));
        }
        if d.entries.len() > MAX_ENTRIES {
            return Err(format!(
                "{} entries; at most {MAX_ENTRIES}",
                d.entries.len()
            ));
        }
        for (i, e) in d.entries.iter().enumerate() {
            let at = |field: &str, why: String| {
                format!("entry {} ({:?}): {field}: {why}", i + 1, e.name)
            };
            if e.name.is_empty() || !text_ok(&e.name, 100) {
                return Err(at(
                    "name",
                    "1 to 100 characters, no control characters or outer spaces".into(),
                ));
            }
            if e.languages.is_empty() {
                return Err(at("languages", "list at least one language".into()));
            }
            if let Some(l) = e.languages.iter().find(|l| !is_language_tag(l)) {
                return Err(at(
                    "languages",
                    format!("{l:?} is not a language tag (e.g. en, es, pt-BR)"),
                ));
            }
            if e.regions.is_empty() {
                return Err(at(
                    "regions",
                    "list at least one region, or \"*\" for anywhere".into(),
                ));
            }
            if let Some(r) = e.regions.iter().find(|r| !region_ok(r)) {
                return Err(at(
                    "regions",
                    format!("{r:?} is not a region: use two capital letters (DE, US, EU) or \"*\""),
                ));
            }
            if e.topics.is_empty() {
                return Err(at(
                    "topics",
                    "list at least one topic, or \"*\" for any".into(),
                ));
            }
            if let Some(t) = e
                .topics
                .iter()
                .find(|t| *t != "*" && !CATEGORIES.contains(&t.as_str()))
            {
                return Err(at(
                    "topics",
                    format!(
                        "{t:?} is not a topic: use {} or \"*\"",
                        CATEGORIES.join(", ")
                    ),
                ));
            }
            if e.contact.is_empty() || !text_ok(&e.contact, 200) {
                return Err(at(
                    "contact",
                    "1 to 200 characters, no control characters".into(),
                ));
            }
            let rest = e.url.strip_prefix("https://").unwrap_or("");
            if rest.is_empty()
                || e.url.len() > 300
                || e.url.chars().any(|c| {
                    c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>'
                })
            {
                return Err(at(
                    "url",
                    "an https:// address, at most 300 characters".into(),
                ));
            }
            if !text_ok(&e.description, 500) {
                return Err(at(
                    "description",
                    "at most 500 characters, no control characters".into(),
                ));
            }
        }
        Ok(d)
    }

    /// The entries for a reporter: in `lang` (if given), helping in
    /// `region` (if given) and with `topic` (if given). Runs on the
    /// reporter's device.
    pub fn matching(&self, lang: &str, region: &str, topic: &str) -> Vec<&Resource> {
        let primary = lang.split('-').next().unwrap_or("");
        self.entries
            .iter()
            .filter(|e| {
                lang.is_empty()
                    || e.languages
                        .iter()
                        .any(|l| l == lang || l.split('-').next() == Some(primary))
            })
            .filter(|e| region.is_empty() || e.regions.iter().any(|r| r == "*" || r == region))
            .filter(|e| topic.is_empty() || e.topics.iter().any(|t| t == "*" || t == topic))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../deploy/resources.example.json");

    #[test]
    fn the_shipped_example_is_a_valid_directory() {
        let d = Directory::parse(EXAMPLE).unwrap();
        assert!(d.entries.len() >= 3);
    }

    #[test]
    fn each_mistake_names_the_entry_and_the_field() {
        let ok = r#"{"name":"Help","languages":["en"],"regions":["*"],"topics":["*"],"contact":"see website","url":"https://example.org"}"#;
        let wrap = |e: &str| format!(r#"{{"version":1,"entries":[{ok},{e}]}}"#);
        for (bad, says) in [
            (
                ok.replace(r#""en""#, r#""english""#),
                "entry 2 (\"Help\"): languages: \"english\"",
            ),
            (
                ok.replace(r#"["*"],"topics""#, r#"["Germany"],"topics""#),
                "regions: \"Germany\"",
            ),
            (
                ok.replace(r#"["*"],"contact""#, r#"["cats"],"contact""#),
                "topics: \"cats\"",
            ),
            (
                ok.replace("https://example.org", "http://example.org"),
                "url: an https://",
            ),
            (
                ok.replace("https://example.org", "javascript:alert(1)"),
                "url",
            ),
            (ok.replace(r#""Help""#, r#""""#), "name"),
            (ok.replace(r#""see website""#, r#""""#), "contact"),
            (
                ok.replace(r#""languages":["en"]"#, r#""languages":[]"#),
                "list at least one language",
            ),
        ] {
            let err = Directory::parse(&wrap(&bad)).unwrap_err();
            assert!(err.contains(says), "{err}");
        }
        assert!(Directory::parse(r#"{"version":2,"entries":[]}"#)
            .unwrap_err()
            .contains("version 2"));
        assert!(Directory::parse(r#"{"version":1,"entries":[],"extra":1}"#).is_err());
        assert!(Directory::parse("not json")
            .unwrap_err()
            .contains("not a directory file"));
    }

    #[test]
    fn matching_filters_by_language_region_and_topic() {
        let d = Directory::parse(EXAMPLE).unwrap();
        let de = d.matching("de", "DE", "harassment");
        assert!(!de.is_empty());
        assert!(de.iter().all(|e| e.languages.iter().any(|l| l == "de")));
        assert!(d.matching("xx", "", "").is_empty());
        assert_eq!(d.matching("", "", "").len(), d.entries.len());
        let anywhere = d.matching("en", "NZ", "");
        assert!(anywhere.iter().all(|e| e.regions.iter().any(|r| r == "*")));
    }
}
