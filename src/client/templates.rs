//! Response templates for ombudspersons: Markdown with `{{placeholders}}`,
//! one file per template and language. English, Spanish and German ship
//! in the binary (`templates/`); a folder of the desk's own
//! (`LANG/NAME.md`) overrides or adds to them.

use std::collections::BTreeMap;
use std::path::Path;

use super::ClientError;

/// The shipped templates: (language, name, text).
const SHIPPED: &[(&str, &str, &str)] = &[
    (
        "en",
        "acknowledge",
        include_str!("../../templates/en/acknowledge.md"),
    ),
    (
        "en",
        "more-info",
        include_str!("../../templates/en/more-info.md"),
    ),
    (
        "en",
        "close-resolved",
        include_str!("../../templates/en/close-resolved.md"),
    ),
    (
        "en",
        "close-no-action",
        include_str!("../../templates/en/close-no-action.md"),
    ),
    (
        "en",
        "close-record-only",
        include_str!("../../templates/en/close-record-only.md"),
    ),
    (
        "en",
        "close-bad-faith",
        include_str!("../../templates/en/close-bad-faith.md"),
    ),
    (
        "es",
        "acknowledge",
        include_str!("../../templates/es/acknowledge.md"),
    ),
    (
        "es",
        "more-info",
        include_str!("../../templates/es/more-info.md"),
    ),
    (
        "es",
        "close-resolved",
        include_str!("../../templates/es/close-resolved.md"),
    ),
    (
        "es",
        "close-no-action",
        include_str!("../../templates/es/close-no-action.md"),
    ),
    (
        "es",
        "close-record-only",
        include_str!("../../templates/es/close-record-only.md"),
    ),
    (
        "es",
        "close-bad-faith",
        include_str!("../../templates/es/close-bad-faith.md"),
    ),
    (
        "de",
        "acknowledge",
        include_str!("../../templates/de/acknowledge.md"),
    ),
    (
        "de",
        "more-info",
        include_str!("../../templates/de/more-info.md"),
    ),
    (
        "de",
        "close-resolved",
        include_str!("../../templates/de/close-resolved.md"),
    ),
    (
        "de",
        "close-no-action",
        include_str!("../../templates/de/close-no-action.md"),
    ),
    (
        "de",
        "close-record-only",
        include_str!("../../templates/de/close-record-only.md"),
    ),
    (
        "de",
        "close-bad-faith",
        include_str!("../../templates/de/close-bad-faith.md"),
    ),
];

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 5] = ["handler", "desk", "case", "update_days", "next_update"];

/// All templates: shipped ones, then the folder's, keyed by (name, language).
#[derive(Debug, Clone, Default)]
pub struct Templates(BTreeMap<(String, String), String>);

fn name_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Templates {
    /// The shipped templates, overridden or extended by `folder`'s
    /// `LANG/NAME.md` files when given.
    pub fn load(folder: Option<&Path>) -> Result<Self, ClientError> {
        let mut all = BTreeMap::new();
        for (lang, name, text) in SHIPPED {
            all.insert(((*name).to_owned(), (*lang).to_owned()), (*text).to_owned());
        }
        let Some(folder) = folder else {
            return Ok(Self(all));
        };
        let io = |p: &Path, e: std::io::Error| ClientError::Usage(format!("{}: {e}", p.display()));
        for lang_dir in std::fs::read_dir(folder).map_err(|e| io(folder, e))? {
            let lang_dir = lang_dir.map_err(|e| io(folder, e))?.path();
            let Some(lang) = lang_dir.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !lang_dir.is_dir() || !sotto_wire::content::is_language_tag(lang) {
                continue;
            }
            for file in std::fs::read_dir(&lang_dir).map_err(|e| io(&lang_dir, e))? {
                let path = file.map_err(|e| io(&lang_dir, e))?.path();
                let Some(name) = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".md"))
                else {
                    continue;
                };
                if !name_ok(name) {
                    continue;
                }
                let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
                check(&text).map_err(|e| ClientError::Usage(format!("{}: {e}", path.display())))?;
                all.insert((name.to_owned(), lang.to_owned()), text);
            }
        }
        Ok(Self(all))
    }

    /// Every (name, languages) pair, sorted.
    pub fn list(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, lang) in self.0.keys() {
            out.entry(name.as_str()).or_default().push(lang.as_str());
        }
        out
    }

    /// The template `name` in `lang`, else in English. Returns the
    /// language used with the text.
    pub fn get(&self, name: &str, lang: &str) -> Result<(&str, &str), ClientError> {
        let primary = lang.split('-').next().unwrap_or(lang).to_ascii_lowercase();
        for l in [lang, primary.as_str(), "en"] {
            if let Some(t) = self.0.get(&(name.to_owned(), l.to_owned())) {
                return Ok((self.lang_of(name, l), t));
            }
        }
        let names: Vec<&str> = self.list().into_keys().collect();
        Err(ClientError::Usage(format!(
            "no template named {name:?}; there are: {}",
            names.join(", ")
        )))
    }

    fn lang_of(&self, name: &str, lang: &str) -> &str {
        self.0
            .get_key_value(&(name.to_owned(), lang.to_owned()))
            .map_or("en", |((_, l), _)| l.as_str())
    }
}

/// Every `{{name}}` in `text` is a known placeholder.
fn check(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "a {{ without its }}".to_owned())?;
        let name = after[..end].trim();
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "unknown placeholder {{{{{name}}}}}; templates may use {}",
                PLACEHOLDERS.map(|p| format!("{{{{{p}}}}}")).join(", ")
            ));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

/// Fills the placeholders of `text` with `values` (name, value).
pub fn render(text: &str, values: &[(&str, String)]) -> Result<String, ClientError> {
    check(text).map_err(ClientError::Usage)?;
    let mut out = text.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_template_exists_in_english_spanish_and_german_and_uses_known_placeholders() {
        let t = Templates::load(None).unwrap();
        let list = t.list();
        assert_eq!(list.len(), 6);
        for (name, langs) in list {
            assert_eq!(langs, vec!["de", "en", "es"], "{name}");
        }
        for (_, _, text) in SHIPPED {
            check(text).unwrap();
            assert!(text.contains("{{handler}}"));
        }
    }

    #[test]
    fn a_missing_language_falls_back_to_english_and_a_region_to_its_language() {
        let t = Templates::load(None).unwrap();
        assert_eq!(t.get("acknowledge", "ar").unwrap().0, "en");
        assert_eq!(t.get("acknowledge", "es-MX").unwrap().0, "es");
        assert!(t.get("nonesuch", "en").is_err());
    }

    #[test]
    fn rendering_fills_every_placeholder_and_refuses_unknown_ones() {
        let out = render(
            "Hi, {{handler}} of {{desk}}: by {{next_update}}.",
            &[
                ("handler", "Alice".into()),
                ("desk", "default".into()),
                ("next_update", "2026-12-01".into()),
            ],
        )
        .unwrap();
        assert_eq!(out, "Hi, Alice of default: by 2026-12-01.");
        assert!(render("{{reporter_name}}", &[]).is_err());
        assert!(render("{{handler", &[]).is_err());
    }

    #[test]
    fn a_folder_overrides_and_adds_templates_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("en")).unwrap();
        std::fs::write(dir.path().join("en/acknowledge.md"), "Ours, {{handler}}.").unwrap();
        std::fs::write(dir.path().join("en/thanks.md"), "Thanks.").unwrap();
        std::fs::write(dir.path().join("en/Bad Name.md"), "ignored").unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        assert_eq!(t.get("acknowledge", "en").unwrap().1, "Ours, {{handler}}.");
        assert_eq!(t.get("thanks", "en").unwrap().1, "Thanks.");
        assert_eq!(t.list().len(), 7);
        std::fs::write(dir.path().join("en/oops.md"), "{{token}}").unwrap();
        let err = Templates::load(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("unknown placeholder {{token}}"), "{err}");
    }
}
