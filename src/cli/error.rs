//! How a command fails: one line `error: …` on standard error, or with
//! `--json` one JSON object `{"error": CODE, "message": TEXT}`, and exit
//! code 1. The codes are stable (docs/cli.md, "Exit codes and errors"):
//! the API's own code when the server refused, else one of [`CODES`].

use crate::client::ClientError;

/// The codes of failures that are not the server's refusal.
pub const CODES: [&str; 10] = [
    "usage", "network", "protocol", "crypto", "io", "store", "backup", "warnings", "findings",
    "internal",
];

/// A CLI failure: a stable code and one line for the user.
#[derive(Debug)]
pub struct CliError {
    code: String,
    message: String,
}

impl CliError {
    /// A failure with one of [`CODES`] (or an API error code).
    pub fn new(code: &str, message: String) -> Self {
        CliError {
            code: code.to_owned(),
            message,
        }
    }

    /// Something the user asked for that cannot be done as asked: a bad
    /// flag value, a missing token, a file that exists already.
    pub fn usage(message: String) -> Self {
        Self::new("usage", message)
    }

    /// A local file that cannot be read or written.
    pub fn io(message: String) -> Self {
        Self::new("io", message)
    }

    /// The stable code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message, for the user.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prints the failure on standard error: one line, as JSON or as text.
    pub fn print(&self, json: bool) {
        let message = self.message.replace('\n', " ");
        if json {
            eprintln!(
                "{}",
                serde_json::json!({"error": self.code, "message": message})
            );
        } else {
            eprintln!("error: {message}");
        }
    }
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> Self {
        let code = match &e {
            ClientError::Server { code, .. } => code.as_str(),
            ClientError::Network(_) => "network",
            ClientError::Protocol(_) => "protocol",
            ClientError::Usage(_) => "usage",
            ClientError::Crypto(_) => "crypto",
        };
        CliError::new(code, e.to_string())
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::io(e.to_string())
    }
}

impl From<serde_json::Error> for CliError {
    fn from(e: serde_json::Error) -> Self {
        CliError::new("internal", e.to_string())
    }
}

impl From<sotto_store::StoreError> for CliError {
    fn from(e: sotto_store::StoreError) -> Self {
        CliError::new("store", e.to_string())
    }
}

impl From<crate::datadir::DataDirError> for CliError {
    fn from(e: crate::datadir::DataDirError) -> Self {
        CliError::new("store", e.to_string())
    }
}

impl From<crate::backup::BackupError> for CliError {
    fn from(e: crate::backup::BackupError) -> Self {
        CliError::new("backup", e.to_string())
    }
}

impl From<crate::startup::StartError> for CliError {
    fn from(e: crate::startup::StartError) -> Self {
        CliError::io(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_refusal_keeps_the_api_error_code() {
        let e = CliError::from(ClientError::Server {
            status: 404,
            code: "unknown_case".into(),
            message: "no case has this handle".into(),
        });
        assert_eq!(e.code(), "unknown_case");
        assert!(e.message().contains("the server refused"), "{e:?}");
    }

    #[test]
    fn every_client_side_failure_has_a_documented_code() {
        for e in [
            ClientError::Network("down".into()),
            ClientError::Protocol("odd".into()),
            ClientError::Usage("no".into()),
            ClientError::Crypto("bad".into()),
        ] {
            let e = CliError::from(e);
            assert!(CODES.contains(&e.code()), "{e:?}");
        }
        let io = CliError::from(std::io::Error::other("disk full"));
        assert_eq!(io.code(), "io");
    }
}
