//! Message catalogs: every string the reporter's page shows. One JSON file
//! per language under `web/i18n/`, compiled into the binary. The reporter
//! picks the language with `?lang=`; it is kept nowhere, and links carry it.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A shipped language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lang {
    /// The BCP 47 tag (`en`, `es`, `de`, `ar`).
    pub tag: &'static str,
    source: &'static str,
}

/// Every shipped language, English first (the fallback).
pub const LANGS: [Lang; 4] = [
    Lang {
        tag: "en",
        source: include_str!("../../web/i18n/en.json"),
    },
    Lang {
        tag: "es",
        source: include_str!("../../web/i18n/es.json"),
    },
    Lang {
        tag: "de",
        source: include_str!("../../web/i18n/de.json"),
    },
    Lang {
        tag: "ar",
        source: include_str!("../../web/i18n/ar.json"),
    },
];

type Table = HashMap<String, String>;

/// `template` with each `{name}` of `args` replaced by its value, in one
/// pass: a value is never read again, so one that holds `{other}` is shown
/// as written, not filled in too. Unknown or unclosed braces stay as they
/// are.
pub fn substitute(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let filled = after.split_once('}').and_then(|(name, tail)| {
            args.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| (*value, tail))
        });
        match filled {
            Some((value, tail)) => {
                out.push_str(value);
                rest = tail;
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn tables() -> &'static [Table; 4] {
    static TABLES: OnceLock<[Table; 4]> = OnceLock::new();
    TABLES.get_or_init(|| {
        // The catalogs are compiled in and checked by the tests; a broken
        // one would show keys instead of text, never fail a request.
        LANGS.map(|l| serde_json::from_str(l.source).unwrap_or_default())
    })
}

impl Lang {
    /// English.
    pub fn english() -> Self {
        LANGS[0]
    }

    fn index(self) -> usize {
        LANGS.iter().position(|l| l.tag == self.tag).unwrap_or(0)
    }

    /// The language named by `tag` exactly, if shipped.
    pub fn by_tag(tag: &str) -> Option<Self> {
        LANGS.into_iter().find(|l| l.tag == tag)
    }

    /// The language for a request: `?lang=` if it names a shipped one, else
    /// the first shipped language in `Accept-Language`, else English.
    pub fn negotiate(query: Option<&str>, accept: Option<&str>) -> Self {
        if let Some(l) = query.and_then(Self::by_tag) {
            return l;
        }
        accept
            .into_iter()
            .flat_map(|a| a.split(','))
            .filter_map(|part| {
                let tag = part.split(';').next()?.trim();
                let primary = tag.split('-').next()?.to_ascii_lowercase();
                Self::by_tag(&primary)
            })
            .next()
            .unwrap_or_else(Self::english)
    }

    /// The text of `key`, falling back to English, then to the key itself.
    pub fn text(self, key: &str) -> &str {
        let t = tables();
        t[self.index()]
            .get(key)
            .or_else(|| t[0].get(key))
            .map_or(key, String::as_str)
    }

    /// `text(key)` with `{name}` placeholders filled in (values are plain
    /// text: the caller escapes the result for HTML).
    pub fn fill(self, key: &str, args: &[(&str, &str)]) -> String {
        substitute(self.text(key), args)
    }

    /// `ltr` or `rtl`.
    pub fn dir(self) -> &'static str {
        if self.text("lang.dir") == "rtl" {
            "rtl"
        } else {
            "ltr"
        }
    }

    /// The whole catalog as JSON, for the page's script (English keys
    /// filled in where this language lacks them), with every `<` written
    /// `\u003c` so that it can stand inside a `<script>` element. Made once
    /// per language: every page with the script carries it, and merging
    /// and encoding it per page was most of a small page's cost (a busy
    /// page under a flood, docs/benchmarks.md).
    pub fn catalog_json(self) -> &'static str {
        static CATALOGS: OnceLock<[String; 4]> = OnceLock::new();
        let all = CATALOGS.get_or_init(|| {
            let t = tables();
            LANGS.map(|l| {
                let mut merged: std::collections::BTreeMap<&str, &str> =
                    t[0].iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                for (k, v) in &t[l.index()] {
                    merged.insert(k, v);
                }
                serde_json::to_string(&merged)
                    .unwrap_or_else(|_| "{}".into())
                    .replace('<', "\\u003c")
            })
        });
        &all[self.index()]
    }
}

/// The keys of a catalog, for the tests.
pub fn keys(lang: Lang) -> Vec<String> {
    let mut k: Vec<String> = tables()[lang.index()].keys().cloned().collect();
    k.sort();
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(s: &str) -> Vec<String> {
        let mut out: Vec<String> = s
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(name, _)| name.to_owned()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn every_catalog_parses_and_has_english_keys_with_the_same_placeholders() {
        let english = keys(Lang::english());
        assert!(english.len() > 100, "English catalog did not parse");
        for l in LANGS {
            let k = keys(l);
            assert!(!k.is_empty(), "{} does not parse", l.tag);
            for key in &k {
                assert!(english.contains(key), "{}: unknown key {key}", l.tag);
                assert_eq!(
                    placeholders(l.text(key)),
                    placeholders(Lang::english().text(key)),
                    "{}: {key} has other placeholders than English",
                    l.tag
                );
            }
        }
    }

    #[test]
    fn each_catalog_for_the_script_is_its_language_over_english_and_has_no_tag_opener() {
        for l in LANGS {
            let json = l.catalog_json();
            assert!(
                !json.contains('<'),
                "{}: a '<' could close the script",
                l.tag
            );
            let parsed: std::collections::BTreeMap<String, String> =
                serde_json::from_str(json).expect("the catalog is JSON");
            assert_eq!(parsed.len(), keys(Lang::english()).len(), "{}", l.tag);
            for key in keys(Lang::english()) {
                assert_eq!(parsed[&key], l.text(&key), "{}: {key}", l.tag);
            }
        }
    }

    #[test]
    fn spanish_german_and_arabic_are_complete() {
        let english = keys(Lang::english());
        for tag in ["es", "de", "ar"] {
            let l = Lang::by_tag(tag).unwrap();
            let missing: Vec<_> = english.iter().filter(|k| !keys(l).contains(k)).collect();
            assert!(missing.is_empty(), "{tag} lacks {missing:?}");
            let untranslated: Vec<_> = english
                .iter()
                .filter(|k| {
                    let en = Lang::english().text(k);
                    l.text(k) == en && en.chars().filter(|c| c.is_alphabetic()).count() > 12
                })
                .collect();
            assert!(
                untranslated.is_empty(),
                "{tag} leaves {untranslated:?} in English"
            );
        }
    }

    #[test]
    fn arabic_is_laid_out_right_to_left() {
        assert_eq!(Lang::by_tag("ar").unwrap().dir(), "rtl");
        assert_eq!(Lang::english().dir(), "ltr");
        assert_eq!(Lang::by_tag("de").unwrap().dir(), "ltr");
    }

    #[test]
    fn the_query_wins_then_accept_language_then_english() {
        assert_eq!(Lang::negotiate(Some("de"), Some("es")).tag, "de");
        assert_eq!(
            Lang::negotiate(Some("xx"), Some("fr, es-MX;q=0.8")).tag,
            "es"
        );
        assert_eq!(Lang::negotiate(None, Some("fr")).tag, "en");
        assert_eq!(Lang::negotiate(None, None).tag, "en");
    }

    #[test]
    fn fill_replaces_placeholders() {
        let l = Lang::english();
        assert_eq!(
            l.fill("report.title", &[("desk", "ethics")]),
            "Report to ethics"
        );
    }

    #[test]
    fn fill_reads_each_value_once() {
        let en = Lang::english();
        let key = "token.received";
        let template = en.text(key);
        assert!(
            template.contains("{day}") && template.contains("{due}"),
            "{template}"
        );
        let filled = en.fill(key, &[("day", "{due}"), ("due", "2026-12-10")]);
        assert!(filled.contains("{due}"), "{filled}");
        assert_eq!(filled.matches("2026-12-10").count(), 1, "{filled}");
        // An unknown or unclosed brace is kept as it is.
        assert_eq!(en.fill("no.such.key", &[]), en.text("no.such.key"));
    }
}
