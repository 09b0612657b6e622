//! Reading the posted forms: multipart with a bound on parts and bytes,
//! text fields wiped on drop, and the token form that redacts itself.

use actix_multipart::Multipart;
use futures_util::StreamExt;
use sotto_envelope::token::TokenError;
use sotto_wire::content::Attachment;
use zeroize::Zeroizing;

/// A posted form: text fields (wiped on drop) and files.
#[derive(Default)]
pub(super) struct Posted {
    pub(super) fields: Vec<(String, Zeroizing<String>)>,
    pub(super) files: Vec<Attachment>,
}

impl Posted {
    pub(super) fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    pub(super) fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.to_string())
            .collect()
    }
}

impl Drop for Posted {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for f in &mut self.files {
            f.data.zeroize();
            f.name.zeroize();
        }
    }
}

/// The most parts a form may have: a few fields, and attachments.
const MAX_PARTS: usize = 256;
/// What each part counts towards the limit besides its bytes (its headers).
const PART_OVERHEAD: usize = 256;

/// Reads a multipart form of at most `limit` bytes in all.
pub(super) async fn read_form(mut mp: Multipart, limit: usize) -> Result<Posted, &'static str> {
    let mut out = Posted::default();
    let mut total = 0usize;
    let mut parts = 0usize;
    while let Some(field) = mp.next().await {
        let mut field = field.map_err(|_| "error.form")?;
        parts += 1;
        total = total.saturating_add(PART_OVERHEAD);
        if parts > MAX_PARTS || total > limit {
            return Err("error.form_too_large");
        }
        let name = field.name().unwrap_or("").to_owned();
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_owned);
        let mut data = Zeroizing::new(Vec::new());
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| "error.form")?;
            total = total.saturating_add(chunk.len());
            if total > limit {
                return Err("error.form_too_large");
            }
            data.extend_from_slice(&chunk);
        }
        match filename {
            // A file input left empty still sends a part with no name.
            Some(f) if !f.is_empty() || !data.is_empty() => {
                out.files.push(Attachment {
                    name: f,
                    data: std::mem::take(&mut *data),
                });
            }
            Some(_) => {}
            None => {
                let text =
                    String::from_utf8(std::mem::take(&mut *data)).map_err(|_| "error.form")?;
                out.fields.push((name, Zeroizing::new(text)));
            }
        }
    }
    Ok(out)
}

/// The translation key for a token that does not parse.
pub(super) fn token_problem(e: TokenError) -> &'static str {
    match e {
        TokenError::Character => "token.character",
        TokenError::Length => "token.length",
        _ => "token.checksum",
    }
}

/// The posted token form.
#[derive(serde::Deserialize)]
pub struct TokenForm {
    token: String,
    /// The page of the thread to show: the messages after this `seq`.
    #[serde(default)]
    after: Option<String>,
}

impl std::fmt::Debug for TokenForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenForm([redacted])")
    }
}

impl Drop for TokenForm {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.token);
    }
}

impl TokenForm {
    /// The token as typed.
    pub(super) fn token(&self) -> &str {
        &self.token
    }

    /// The page asked for: `Ok(None)` for the first, `Err(())` for a value
    /// that is no message's `seq`.
    pub(super) fn after(&self) -> Result<Option<u64>, ()> {
        match self.after.as_deref() {
            None | Some("") => Ok(None),
            Some(v) if v.bytes().all(|b| b.is_ascii_digit()) => v.parse().map(Some).map_err(drop),
            Some(_) => Err(()),
        }
    }
}
