//! How a client reaches a server: over HTTPS, through a SOCKS5 proxy such
//! as Tor, or in plain HTTP on the same machine, and never otherwise.
//!
//! The reporter's handle travels in a header of every request, and an
//! ombudsperson's signed requests show what they work on: either would
//! give a reporter away to anyone on the path. So the rules are strict and
//! checked before anything is sent ([`Transport::check`]):
//!
//! - `https://` anywhere. The certificate must chain to one of the
//!   platform's trusted roots, read from disk (`rustls-native-certs`), or to
//!   the private CA named with `--ca`. rustls checks it with its WebPKI
//!   verifier, which never goes to the network itself: an operating
//!   system's verifier may fetch revocation data or missing intermediates
//!   directly, outside the proxy the user named.
//! - `http://` only to a loopback address, or to a `.onion` name (Tor
//!   encrypts that end to end), unless `--insecure-http` says otherwise.
//! - A `.onion` server only through a proxy: without one, its name would
//!   go to the local resolver and the connection could not be made anyway.
//! - A proxy only when named (`socks5h://`, so that names are resolved by
//!   the proxy, never locally). `HTTP_PROXY`, `HTTPS_PROXY` and `ALL_PROXY`
//!   are ignored: a workplace proxy would see every handle.
//! - No redirects: a Sotto server never sends one, and following one would
//!   carry the handle to wherever it points.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::exchange::{Exchange, Method, Request, Response};
use super::ClientError;

/// Time to set up a connection (TCP, proxy and TLS), directly.
const CONNECT_DIRECT: Duration = Duration::from_secs(20);
/// The same through a proxy: Tor may have to build a circuit first, and an
/// onion service's proof-of-work defence may make it wait.
const CONNECT_PROXY: Duration = Duration::from_secs(90);
/// Longest silence while sending or receiving, once connected.
const IDLE: Duration = Duration::from_secs(60);
/// Longest wait for the answer's headers once the request is sent: the
/// server may be checking a proof of work and a large envelope.
const RESPONSE: Duration = Duration::from_secs(120);

/// How to reach servers: the options every client command shares.
#[derive(Debug, Clone, Default)]
pub struct Transport {
    /// A private certificate authority (PEM) to trust besides the
    /// platform's roots.
    pub ca: Option<PathBuf>,
    /// A SOCKS5 proxy, as `socks5h://HOST:PORT`.
    pub proxy: Option<String>,
    /// Allow plain `http://` to a host that is neither loopback nor onion.
    pub insecure_http: bool,
}

/// Where a server is, as the rules above see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// 127.0.0.0/8, ::1 or `localhost`.
    Loopback,
    /// A `.onion` name.
    Onion,
    /// Anywhere else.
    Remote,
}

fn place(host: &str) -> Place {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let lower = host.trim_end_matches('.').to_ascii_lowercase();
    if lower == "localhost" {
        return Place::Loopback;
    }
    if lower.ends_with(".onion") {
        return Place::Onion;
    }
    match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => Place::Loopback,
        _ => Place::Remote,
    }
}

impl Transport {
    /// Checks that `uri` may be reached this way; says in one line why not.
    /// Runs before anything is sent.
    pub fn check(&self, uri: &ureq::http::Uri) -> Result<(), ClientError> {
        let host = uri.host().unwrap_or("");
        let where_ = place(host);
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") => {
                let allowed = match where_ {
                    Place::Loopback | Place::Onion => true,
                    Place::Remote => self.insecure_http,
                };
                if !allowed {
                    return Err(ClientError::Usage(format!(
                        "refusing plain http to {host}: your handle and every request would cross the network in clear; use https:// (or --insecure-http on a network you trust)"
                    )));
                }
            }
            _ => {
                return Err(ClientError::Usage(format!(
                    "not a server URL (expected https://… or http://127.0.0.1:…): {uri}"
                )))
            }
        }
        if where_ == Place::Onion && self.proxy.is_none() {
            return Err(ClientError::Usage(format!(
                "{host} is an onion service: name Tor's SOCKS port with --proxy socks5h://127.0.0.1:9050 (tor) or socks5h://127.0.0.1:9150 (Tor Browser)"
            )));
        }
        Ok(())
    }

    /// The network exchange to the server at `base`, reached over `scheme`.
    pub(crate) fn network(&self, base: &str, scheme: &str) -> Result<Network, ClientError> {
        Ok(Network {
            base: base.to_owned(),
            agent: self.agent(scheme)?,
            via_proxy: self.proxy.is_some(),
        })
    }

    /// The HTTP agent for a server reached over `scheme`.
    pub(crate) fn agent(&self, scheme: &str) -> Result<ureq::Agent, ClientError> {
        let proxy = self.proxy.as_deref().map(parse_proxy).transpose()?;
        let connect = if proxy.is_some() {
            CONNECT_PROXY
        } else {
            CONNECT_DIRECT
        };
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Ignore HTTP_PROXY and friends: only a proxy the user named.
            .proxy(proxy)
            .max_redirects(0)
            .timeout_connect(Some(connect))
            .timeout_per_read(Some(IDLE))
            .timeout_per_write(Some(IDLE))
            .timeout_recv_response(Some(RESPONSE))
            .user_agent("sotto");
        // The CA file is read whatever the URL, so that a bad one is said.
        let ca = self.read_ca()?;
        if scheme == "https" {
            config = config.https_only(true).tls_config(tls(ca)?);
        }
        Ok(config.build().into())
    }

    /// The certificates of `--ca`, if given.
    fn read_ca(&self) -> Result<Vec<ureq::tls::Certificate<'static>>, ClientError> {
        let Some(path) = &self.ca else {
            return Ok(Vec::new());
        };
        let pem = std::fs::read(path)
            .map_err(|e| ClientError::Usage(format!("--ca {}: {e}", path.display())))?;
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                Ok(_) => {}
                Err(_) => {
                    return Err(ClientError::Usage(format!(
                        "--ca {}: not a PEM certificate file",
                        path.display()
                    )))
                }
            }
        }
        if certs.is_empty() {
            return Err(ClientError::Usage(format!(
                "--ca {}: no certificate in it (expected a PEM file with BEGIN CERTIFICATE)",
                path.display()
            )));
        }
        Ok(certs)
    }
}

/// Requests carried over the network, as a [`Transport`] allows: the
/// [`Exchange`] of every client on a user's machine.
#[derive(Debug)]
pub struct Network {
    base: String,
    agent: ureq::Agent,
    via_proxy: bool,
}

impl Exchange for Network {
    fn exchange(&self, request: Request) -> Result<Response, ClientError> {
        let url = format!("{}{}", self.base, request.path);
        let sent = match request.method {
            Method::Get => {
                let mut req = self.agent.get(url);
                for (k, v) in &request.headers {
                    req = req.header(*k, v.as_str());
                }
                req.call()
            }
            Method::Post => {
                let mut req = self.agent.post(url).content_type("application/json");
                for (k, v) in &request.headers {
                    req = req.header(*k, v.as_str());
                }
                req.send(&request.body[..])
            }
        };
        let mut res = sent.map_err(|e| network_error(e, self.via_proxy))?;
        let status = res.status().as_u16();
        let etag = res
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if (300..400).contains(&status) {
            // Not read: a redirect is refused whatever it says.
            let location = res
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            return Ok(Response {
                status,
                location,
                etag,
                body: Vec::new(),
            });
        }
        let body = res
            .body_mut()
            .with_config()
            .limit(request.limit)
            .read_to_vec()
            .map_err(|e| network_error(e, self.via_proxy))?;
        Ok(Response {
            status,
            location: None,
            etag,
            body,
        })
    }
}

/// rustls on ring, trusting the platform's roots and the `--ca` certificates.
fn tls(
    mut roots: Vec<ureq::tls::Certificate<'static>>,
) -> Result<ureq::tls::TlsConfig, ClientError> {
    use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
    // Unreadable entries of the platform's store are skipped: one bad
    // file there must not stop a user whose server chains elsewhere.
    let native = rustls_native_certs::load_native_certs();
    for der in native.certs {
        roots.push(Certificate::from_der(der.as_ref()).to_owned());
    }
    if roots.is_empty() {
        return Err(ClientError::Usage(
            "no trusted certificate authorities found on this system (install ca-certificates, or name one with --ca)".into(),
        ));
    }
    Ok(TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::Specific(Arc::new(roots)))
        .build())
}

/// `socks5h://HOST:PORT`, and nothing else.
fn parse_proxy(s: &str) -> Result<ureq::Proxy, ClientError> {
    let bad = |why: &str| {
        ClientError::Usage(format!(
            "--proxy {s}: {why} (expected socks5h://HOST:PORT, e.g. socks5h://127.0.0.1:9050 for tor, 9150 for Tor Browser)"
        ))
    };
    let Some(rest) = s.strip_prefix("socks5h://") else {
        return Err(if s.starts_with("socks5://") {
            bad("socks5:// would resolve names on this machine; use socks5h://")
        } else {
            bad("only a SOCKS5 proxy that resolves names is supported")
        });
    };
    let (host, port) = rest
        .trim_end_matches('/')
        .rsplit_once(':')
        .ok_or_else(|| bad("the port is missing"))?;
    if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
        return Err(bad("not a host and port"));
    }
    ureq::Proxy::new(s).map_err(|_| bad("not a proxy URL"))
}

/// A transport failure, in one line that says what to do.
pub(crate) fn network_error(e: ureq::Error, via_proxy: bool) -> ClientError {
    use ureq::Error as E;
    let msg = match e {
        E::Timeout(kind) => {
            use ureq::Timeout as T;
            match kind {
                T::Connect | T::Resolve => {
                    if via_proxy {
                        "timed out connecting through the proxy (is tor running, and the address right?)".to_owned()
                    } else {
                        "timed out connecting to the server (check the address, or your network)"
                            .to_owned()
                    }
                }
                T::RecvResponse | T::RecvBody | T::PerRead => {
                    "timed out waiting for the server's answer; try again later".to_owned()
                }
                _ => "timed out sending to the server; try again later".to_owned(),
            }
        }
        E::HostNotFound => {
            "the server's name does not resolve (check the address; a .onion needs --proxy)".into()
        }
        E::ConnectionFailed => "the connection was refused or failed".into(),
        E::ConnectProxyFailed(why) => format!("the proxy could not connect: {why}"),
        E::Rustls(e) => format!("TLS: {}", tls_reason(&e)),
        E::Tls(why) => format!("TLS: {why}"),
        E::Io(io) => {
            // rustls reports a refused certificate through the I/O error.
            let tls = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>());
            if let Some(tls) = tls {
                format!("TLS: {}", tls_reason(tls))
            } else if via_proxy && io.kind() == std::io::ErrorKind::ConnectionRefused {
                "the proxy refused the connection (is tor running on that port?)".into()
            } else if io.kind() == std::io::ErrorKind::ConnectionRefused {
                "the server refused the connection (is it running, on that port?)".into()
            } else if io.to_string().contains("failed to lookup address") {
                // The resolver's own words (getaddrinfo), kind "other".
                "the server's name does not resolve (check the address; a .onion needs --proxy)"
                    .into()
            } else {
                io.to_string()
            }
        }
        E::RequireHttpsOnly(_) | E::TlsRequired => "refused: this connection must use TLS".into(),
        E::BodyExceedsLimit(n) => format!("the answer is larger than the {n} bytes allowed"),
        other => other.to_string(),
    };
    ClientError::Network(msg)
}

fn tls_reason(e: &rustls::Error) -> String {
    use rustls::Error as R;
    match e {
        R::InvalidCertificate(c) => {
            use rustls::CertificateError as C;
            match c {
                C::Expired | C::ExpiredContext { .. } => {
                    "the server's certificate has expired".into()
                }
                C::NotValidYet | C::NotValidYetContext { .. } => {
                    "the server's certificate is not valid yet (check this computer's clock)".into()
                }
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    "the server's certificate is for another name".into()
                }
                C::UnknownIssuer => {
                    "the server's certificate is not signed by an authority you trust (for a private CA, name it with --ca)".into()
                }
                other => format!("the server's certificate is not valid ({other:?})"),
            }
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, t: &Transport) -> Result<(), String> {
        let uri: ureq::http::Uri = url.parse().map_err(|_| "parse".to_owned())?;
        t.check(&uri).map_err(|e| e.to_string())
    }

    fn with_proxy() -> Transport {
        Transport {
            proxy: Some("socks5h://127.0.0.1:9050".into()),
            ..Transport::default()
        }
    }

    #[test]
    fn https_anywhere_is_allowed() {
        let t = Transport::default();
        assert_eq!(check("https://reports.example.org", &t), Ok(()));
        assert_eq!(check("https://reports.example.org/report", &t), Ok(()));
    }

    #[test]
    fn plain_http_is_allowed_on_loopback_only() {
        let t = Transport::default();
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.3.2.1:8080",
            "http://[::1]:8080",
            "http://localhost:8080",
            "http://LOCALHOST.:8080",
        ] {
            assert_eq!(check(ok, &t), Ok(()), "{ok}");
        }
        for remote in [
            "http://reports.example.org",
            "http://10.0.0.1:8080",
            "http://[::2]:8080",
            "http://localhost.example.org",
        ] {
            let e = check(remote, &t).unwrap_err();
            assert!(e.contains("refusing plain http"), "{remote}: {e}");
        }
    }

    #[test]
    fn insecure_http_allows_a_remote_plain_server() {
        let t = Transport {
            insecure_http: true,
            ..Transport::default()
        };
        assert_eq!(check("http://reports.example.org", &t), Ok(()));
    }

    #[test]
    fn an_onion_needs_a_proxy_and_names_the_usual_ports() {
        let onion = "http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion";
        let e = check(onion, &Transport::default()).unwrap_err();
        assert!(e.contains("9050") && e.contains("9150"), "{e}");
        assert_eq!(check(onion, &with_proxy()), Ok(()));
        let https_onion = "https://x.ONION/report";
        assert!(check(https_onion, &Transport::default()).is_err());
    }

    #[test]
    fn a_proxy_does_not_make_plain_http_to_a_remote_host_safe() {
        let e = check("http://reports.example.org", &with_proxy()).unwrap_err();
        assert!(e.contains("refusing plain http"), "{e}");
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(check("ftp://example.org", &Transport::default()).is_err());
    }

    #[test]
    fn only_socks5h_proxies_are_accepted() {
        assert!(parse_proxy("socks5h://127.0.0.1:9050").is_ok());
        assert!(parse_proxy("socks5h://tor.internal:9150").is_ok());
        let e = parse_proxy("socks5://127.0.0.1:9050")
            .unwrap_err()
            .to_string();
        assert!(e.contains("socks5h://"), "{e}");
        for bad in [
            "http://127.0.0.1:3128",
            "socks5h://127.0.0.1",
            "socks5h://:9050",
            "socks5h://127.0.0.1:0",
            "127.0.0.1:9050",
        ] {
            assert!(parse_proxy(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn each_timeout_is_one_line_that_says_which_wait_ran_out() {
        use ureq::Timeout as T;
        let say = |t, proxy| network_error(ureq::Error::Timeout(t), proxy).to_string();
        assert!(say(T::Connect, false).contains("timed out connecting to the server"));
        assert!(say(T::Connect, true).contains("through the proxy"));
        assert!(say(T::RecvResponse, false).contains("waiting for the server's answer"));
        assert!(say(T::PerRead, false).contains("waiting for the server's answer"));
        assert!(say(T::SendBody, false).contains("sending to the server"));
        for t in [T::Connect, T::RecvResponse, T::SendBody] {
            assert!(!say(t, false).contains('\n'));
        }
    }

    #[test]
    fn a_refused_connection_names_the_proxy_when_there_is_one() {
        let refused = || ureq::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        assert!(network_error(refused(), true)
            .to_string()
            .contains("the proxy refused"));
        assert!(network_error(refused(), false)
            .to_string()
            .contains("the server refused"));
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let t = Transport {
            ca: Some(path.clone()),
            ..Transport::default()
        };
        let e = t.agent("https").unwrap_err().to_string();
        assert!(e.contains("--ca") && e.contains("no certificate"), "{e}");
        let missing = Transport {
            ca: Some(dir.path().join("missing.pem")),
            ..Transport::default()
        };
        assert!(missing.agent("http").is_err());
    }
}
