//! In the field: every client command over real HTTPS (Caddy, with the
//! very `deploy/Caddyfile` an operator copies and Caddy's internal CA), at
//! the root of a host and under a path, through a real SOCKS5 proxy
//! (microsocks) that alone can resolve the server's name, and the
//! refusals that must send nothing.
//!
//! Caddy and microsocks come from Debian; `./scripts/test.sh` installs
//! them. A missing tool fails these tests by name rather than skipping.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::helpers::{
    lossy_proxy, printed_token, spawn_app, spawn_app_with, stderr, stdout, TestApp,
};

/// A host name that only the test's proxy can resolve.
const PROXY_ONLY_NAME: &str = "sotto-behind-proxy.test";

/// A program the test script installs; its absence is a failure, not a skip.
fn tool(name: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("{name} is not installed: ./scripts/test.sh installs it from Debian (apt-get install {name})");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

/// A process killed when the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Caddy in front of a test server, configured from `deploy/` with only
/// what a test needs changed: its internal CA instead of Let's Encrypt,
/// free ports instead of 80 and 443, no admin endpoint, and the test
/// server's port as the upstream.
struct Caddy {
    _proc: Running,
    dir: tempfile::TempDir,
    port: u16,
}

impl Caddy {
    fn start(file: &str, upstream: u16) -> Caddy {
        Self::start_on(file, upstream, free_port())
    }

    fn start_on(file: &str, upstream: u16, port: u16) -> Caddy {
        let deployed = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("deploy")
                .join(file),
        )
        .unwrap();
        // Two picks of a free port can give the same one; Caddy would then
        // serve the site over plain HTTP on it, and never answer over TLS.
        let http_port = std::iter::repeat_with(free_port)
            .find(|p| *p != port)
            .unwrap_or(0);
        let test_globals = format!(
            "{{\n\tadmin off\n\tlocal_certs\n\tskip_install_trust\n\thttp_port {http_port}\n\thttps_port {port}\n"
        );
        assert!(
            deployed.contains("\n{\n\tlog default"),
            "deploy/{file} changed its global block"
        );
        let config = deployed
            .replacen("\n{\n", &format!("\n{test_globals}"), 1)
            .replace("127.0.0.1:8080", &format!("127.0.0.1:{upstream}"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Caddyfile");
        std::fs::write(&path, config).unwrap();
        let child = Command::new(tool("caddy"))
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&path)
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path())
            .env(
                "SOTTO_DOMAIN",
                format!("localhost:{port}, {PROXY_ONLY_NAME}:{port}"),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("caddy.log")).unwrap())
            .spawn()
            .unwrap();
        let caddy = Caddy {
            _proc: Running(child),
            dir,
            port,
        };
        // Ready once its CA exists and it answers over TLS (whatever the
        // status: under a prefix, the root is Caddy's 404).
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if caddy.root().exists() && caddy.get("/").is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "caddy did not start: {}",
                caddy.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        caddy
    }

    /// Caddy's root certificate, for `--ca`.
    fn root(&self) -> PathBuf {
        self.dir.path().join("caddy/pki/authorities/local/root.crt")
    }

    fn url(&self, prefix: &str) -> String {
        format!("https://localhost:{}{prefix}", self.port)
    }

    /// GET through Caddy, trusting its CA: the status and the body.
    fn get(&self, path: &str) -> Result<(u16, String), ureq::Error> {
        let root = ureq::tls::Certificate::from_pem(
            &std::fs::read(self.root()).map_err(ureq::Error::Io)?,
        )?
        .to_owned();
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::new_with_certs(&[root]))
            .build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .proxy(None)
            .http_status_as_error(false)
            .build()
            .into();
        let mut res = agent
            .get(&format!("https://localhost:{}{path}", self.port))
            .call()?;
        Ok((res.status().as_u16(), res.body_mut().read_to_string()?))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("caddy.log")).unwrap_or_default()
    }
}

/// A listener that counts connections and reads nothing: a proxy that
/// must never be used, or a server that must never be reached.
fn trap() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            if conn.is_ok() {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    (port, hits)
}

/// Every proxy variable a workplace might set, pointing at a trap.
fn ambient_proxies(port: u16) -> Vec<(String, String)> {
    let url = format!("http://127.0.0.1:{port}");
    [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ]
    .iter()
    .map(|k| (k.to_string(), url.clone()))
    .collect()
}

/// The README's walkthrough through `server` with `flags` (e.g. `--ca`),
/// every proxy variable pointing at a trap that must see no connection.
fn walkthrough(app: &TestApp, server: &str, flags: &[&str]) {
    let (trap_port, trap_hits) = trap();
    let env_owned = ambient_proxies(trap_port);
    let mut env: Vec<(&str, &str)> = env_owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    env.push(("SOTTO_SERVER", server));
    let run = |args: &[&str], stdin: Option<&str>, extra: &[(&str, &str)]| {
        let mut all: Vec<&str> = args.to_vec();
        let remote =
            !matches!(args[0], "admin") && !matches!(args.get(1), Some(&"keygen" | &"card"));
        if remote {
            all.extend_from_slice(flags);
        }
        let mut e = env.clone();
        e.extend_from_slice(extra);
        let out = app.sotto_with(&all, stdin, &e);
        assert!(
            out.status.success(),
            "sotto {}: {}{}",
            all.join(" "),
            stderr(&out),
            stdout(&out)
        );
        out
    };
    let data = app.data_dir();
    let data = data.to_str().unwrap();

    // 1-2. keygen, add-recipient (on the host).
    let card = stdout(&run(
        &[
            "desk",
            "keygen",
            "--name",
            "Alice Ombud",
            "--identity",
            "alice.key",
        ],
        None,
        &[],
    ))
    .trim()
    .to_owned();
    run(
        &["admin", "add-recipient", "--data", data, "--card", &card],
        None,
        &[],
    );
    app.wait_for_checkpoint();

    // 3. submit, with the receipt saved.
    let out = run(
        &["report", "submit", "--receipt", "my.receipt"],
        Some("A moderator has been sending me threatening messages."),
        &[],
    );
    let text = stdout(&out);
    assert!(text.contains("Alice Ombud"), "{text}");
    let token = printed_token(&text);
    assert!(
        text.contains(&format!("--server {server}")),
        "the hint repeats how to reach the server: {text}"
    );

    // 4. inbox, show, reply, set-state.
    let out = run(
        &["desk", "inbox", "--identity", "alice.key", "--json"],
        None,
        &[],
    );
    let inbox: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let case = inbox[0]["case"].as_str().unwrap().to_owned();
    let out = run(
        &["desk", "show", &case, "--identity", "alice.key"],
        None,
        &[],
    );
    assert!(
        stdout(&out).contains("threatening messages"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("signature verified"));
    run(
        &["desk", "reply", &case, "--identity", "alice.key"],
        Some("Thank you for telling us. We are looking into it."),
        &[],
    );
    run(
        &[
            "desk",
            "set-state",
            &case,
            "in-review",
            "--identity",
            "alice.key",
        ],
        None,
        &[],
    );

    // 5. the reporter comes back with the token and the receipt.
    app.wait_for_checkpoint();
    let out = run(
        &["report", "status", "--receipt", "my.receipt"],
        None,
        &[("SOTTO_TOKEN", &token)],
    );
    let text = stdout(&out);
    for want in ["in review", "We are looking into it.", "signature verified"] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }

    // 6. the auditor, from anywhere.
    let out = run(&["audit", "log", "--state", "audit.json"], None, &[]);
    let text = stdout(&out);
    assert!(text.contains("entries verified"), "{text}");
    assert!(text.contains("No findings."), "{text}");

    assert_eq!(
        trap_hits.load(Ordering::SeqCst),
        0,
        "a proxy from the environment was used"
    );
}

#[test]
fn the_walkthrough_runs_over_https_behind_the_deployed_caddyfile() {
    let app = spawn_app();
    let caddy = Caddy::start("Caddyfile", port_of(&app.url));
    let root = caddy.root();
    walkthrough(&app, &caddy.url(""), &["--ca", root.to_str().unwrap()]);

    // Caddy logged no request: no address, no header, no path.
    let log = caddy.log();
    for leak in ["remote_ip", "User-Agent", "\"uri\"", "sotto-handle"] {
        assert!(!log.contains(leak), "caddy logged {leak}: {log}");
    }
}

#[test]
fn the_walkthrough_and_the_page_work_under_a_path_prefix() {
    // Caddy's port is chosen first: the server is told where it is published.
    let port = free_port();
    let public = format!("https://localhost:{port}/report/");
    let app = spawn_app_with(&[("SOTTO_PUBLIC_URL", public.as_str())]);
    let caddy = Caddy::start_on("Caddyfile.prefix", port_of(&app.url), port);
    let root = caddy.root();
    walkthrough(
        &app,
        &caddy.url("/report"),
        &["--ca", root.to_str().unwrap()],
    );

    // The page's links, form, style sheet and script all carry the prefix,
    // and each of them loads through the proxy.
    let page = https_get(&caddy, "/report/");
    for want in [
        "href=\"/report/static/style.css\"",
        "src=\"/report/static/sotto.js\"",
        "data-base=\"/report\"",
        "action=\"/report/desk/default/report\"",
        "href=\"/report/status\"",
        "href=\"/report/transparency\"",
    ] {
        assert!(page.contains(want), "missing {want} in {page}");
    }
    assert!(!page.contains("href=\"/status\""), "{page}");
    for asset in [
        "/report/static/sotto.js",
        "/report/static/style.css",
        "/report/transparency",
        "/report/log/checkpoint",
        "/report/status?lang=de",
    ] {
        assert!(!https_get(&caddy, asset).is_empty(), "{asset}");
    }
}

/// GET through Caddy that must answer 200; the body.
fn https_get(caddy: &Caddy, path: &str) -> String {
    let (status, body) = caddy
        .get(path)
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// microsocks in a mount namespace of its own, where `/etc/hosts` names
/// [`PROXY_ONLY_NAME`]: the name resolves there and nowhere else.
struct Socks {
    _proc: Running,
    port: u16,
    log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Socks {
    fn start() -> Socks {
        let dir = tempfile::tempdir().unwrap();
        let hosts = dir.path().join("hosts");
        std::fs::write(&hosts, format!("127.0.0.1 {PROXY_ONLY_NAME}\n")).unwrap();
        let port = free_port();
        let script = format!(
            "mount --bind '{}' /etc/hosts && exec '{}' -i 127.0.0.1 -p {port}",
            hosts.display(),
            tool("microsocks").display()
        );
        let mut child = Command::new(tool("unshare"))
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sink = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    sink.lock().unwrap().push_str(&line);
                    sink.lock().unwrap().push('\n');
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "microsocks did not start: {}",
                log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Socks {
            _proc: Running(child),
            port,
            log,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("socks5h://127.0.0.1:{}", self.port)
    }
}

#[test]
fn every_client_command_reaches_the_server_through_a_socks5_proxy_that_resolves_its_name() {
    let app = spawn_app();
    let caddy = Caddy::start("Caddyfile", port_of(&app.url));
    let socks = Socks::start();
    let server = format!("https://{PROXY_ONLY_NAME}:{}", caddy.port);
    let root = caddy.root();
    let root = root.to_str().unwrap();

    // Without the proxy the name does not resolve: nothing can be reached.
    let out = app.sotto_with(
        &["audit", "log", "--state", "direct.json", "--ca", root],
        None,
        &[("SOTTO_SERVER", &server)],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("does not resolve"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));

    let proxy = socks.url();
    walkthrough(&app, &server, &["--ca", root, "--proxy", &proxy]);

    // The proxy's own log shows it carried the connections to that name.
    let log = socks.log.lock().unwrap().clone();
    let carried = log
        .lines()
        .filter(|l| l.contains(&format!("connected to {PROXY_ONLY_NAME}:{}", caddy.port)))
        .count();
    // Seven commands of the walkthrough talk to the server, each a process
    // of its own with at least one connection.
    assert!(
        carried >= 7,
        "the proxy carried {carried} connections: {log}"
    );

    // SOTTO_PROXY does the same as --proxy.
    let out = app.sotto_with(
        &["audit", "log", "--state", "env.json", "--ca", root],
        None,
        &[("SOTTO_SERVER", &server), ("SOTTO_PROXY", &proxy)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A TLS server on loopback that presents `chain`, counts the bytes of
/// request it ever decrypts (none must arrive: the client refuses during
/// the handshake), and serves until the test ends.
fn tls_server(
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
) -> (u16, Arc<AtomicUsize>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&received);
    std::thread::spawn(move || {
        for conn in listener.incoming().take(16) {
            let Ok(mut tcp) = conn else { continue };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
            let mut tls = rustls::ServerConnection::new(Arc::clone(&config)).unwrap();
            let mut stream = rustls::Stream::new(&mut tls, &mut tcp);
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                counted.fetch_add(n, Ordering::SeqCst);
                let _ = stream.write_all(b"HTTP/1.1 500 x\r\ncontent-length: 0\r\n\r\n");
            }
        }
    });
    (port, received)
}

/// A CA, and a certificate it signed for `name`, valid `from`..`to`.
fn issue(name: &str, from: (i32, u8, u8), to: (i32, u8, u8)) -> (String, u16, Arc<AtomicUsize>) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Sotto test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let mut leaf = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
    leaf.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
    leaf.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let (port, received) = tls_server(vec![leaf_cert.der().clone(), ca_cert.der().clone()], key);
    (ca_cert.pem(), port, received)
}

/// Runs `report status` (the handle would be the first thing sent) against
/// `server`; returns the failed command's one line.
fn refused(app: &TestApp, server: &str, flags: &[&str], env: &[(&str, &str)]) -> String {
    let token = sotto_envelope::token::Token::generate()
        .to_display()
        .to_string();
    let mut args = vec!["report", "status"];
    args.extend_from_slice(flags);
    let mut all_env = vec![("SOTTO_SERVER", server), ("SOTTO_TOKEN", token.as_str())];
    all_env.extend_from_slice(env);
    let out = app.sotto_with(&args, None, &all_env);
    assert!(
        !out.status.success(),
        "{server} was not refused: {}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

#[test]
fn bad_certificates_are_refused_in_one_line_before_the_handle_is_sent() {
    let app = spawn_app();
    let ca_file = app.work.path().join("ca.pem");

    let (ca, port, received) = issue("localhost", (2020, 1, 1), (2020, 2, 1));
    std::fs::write(&ca_file, ca).unwrap();
    let server = format!("https://localhost:{port}");
    let err = refused(&app, &server, &["--ca", ca_file.to_str().unwrap()], &[]);
    assert!(err.contains("certificate has expired"), "{err}");
    assert_eq!(received.load(Ordering::SeqCst), 0);

    let (ca, port, received) = issue("reports.example.org", (2020, 1, 1), (2999, 1, 1));
    std::fs::write(&ca_file, ca).unwrap();
    let err = refused(
        &app,
        &format!("https://localhost:{port}"),
        &["--ca", ca_file.to_str().unwrap()],
        &[],
    );
    assert!(err.contains("certificate is for another name"), "{err}");
    // Without --ca, a certificate from a private CA is refused for its
    // unknown authority, and the message says how to trust it.
    let err = refused(&app, &format!("https://localhost:{port}"), &[], &[]);
    assert!(
        err.contains("not signed by an authority you trust"),
        "{err}"
    );
    assert!(err.contains("--ca"), "{err}");
    assert_eq!(received.load(Ordering::SeqCst), 0);
}

#[test]
fn unsafe_ways_to_a_server_are_refused_in_one_line_and_send_nothing() {
    let app = spawn_app();
    let (port, hits) = trap();

    // An onion service without a proxy: the usual ports are named.
    let err = refused(
        &app,
        "http://sottoabcdefghijklmnopqrstuvwxyz234567sottoabcdefghijklmnop.onion",
        &[],
        &[],
    );
    assert!(err.contains("9050") && err.contains("9150"), "{err}");

    // Plain http to a host that is not this machine.
    let err = refused(&app, "http://reports.example.org", &[], &[]);
    assert!(err.contains("refusing plain http"), "{err}");

    // A bad CA file, even for a server that is there.
    let bad_ca = app.work.path().join("bad-ca.pem");
    std::fs::write(&bad_ca, "-----BEGIN CERTIFICATE-----\nnot base64\n").unwrap();
    let err = refused(
        &app,
        &format!("http://127.0.0.1:{port}"),
        &["--ca", bad_ca.to_str().unwrap()],
        &[],
    );
    assert!(err.contains("--ca"), "{err}");
    let err = refused(
        &app,
        &format!("http://127.0.0.1:{port}"),
        &["--ca", "/nonexistent/ca.pem"],
        &[],
    );
    assert!(err.contains("--ca /nonexistent/ca.pem"), "{err}");

    // A proxy that would resolve names here.
    let err = refused(
        &app,
        &format!("http://127.0.0.1:{port}"),
        &["--proxy", &format!("socks5://127.0.0.1:{port}")],
        &[],
    );
    assert!(err.contains("socks5h://"), "{err}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a refused command connected"
    );

    // Ambient proxy variables are ignored: the status check goes straight
    // to the server, and the trap never sees a connection.
    let env = ambient_proxies(port);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = app.sotto_with(&["audit", "log", "--state", "a.json"], None, &env);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(hits.load(Ordering::SeqCst), 0, "an ambient proxy was used");

    // A proxy that is not running: one line that says so.
    let dead = free_port();
    let err = refused(
        &app,
        &app.url,
        &["--proxy", &format!("socks5h://127.0.0.1:{dead}")],
        &[],
    );
    assert!(err.contains("proxy"), "{err}");
}

#[test]
fn an_upload_whose_answer_is_lost_behind_tls_and_a_proxy_still_reaches_its_case() {
    // Reporter -> SOCKS5 proxy -> Caddy (TLS) -> a hop that drops the
    // answer to POST /v1/cases -> the server. The case lands; the reporter
    // sees a 502 from Caddy, and the client finds the case with its token.
    let app = spawn_app();
    app.add_recipient("Alice Ombud");
    let lossy = lossy_proxy(&app.url);
    let caddy = Caddy::start("Caddyfile", port_of(&lossy));
    let socks = Socks::start();
    let api = sotto::client::Api::with_transport(
        &format!("https://{PROXY_ONLY_NAME}:{}", caddy.port),
        &sotto::client::Transport {
            ca: Some(caddy.root()),
            proxy: Some(socks.url()),
            insecure_http: false,
        },
    )
    .unwrap();
    let done = sotto::client::reporter::submit(
        &api,
        &sotto::client::reporter::Submission {
            desk: "default".into(),
            text: "The answer to this upload never arrives.".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(done.warnings.is_empty(), "{:?}", done.warnings);
    let view = sotto::client::reporter::status(&app.api, &done.token).unwrap();
    assert_eq!(view.status.case, done.opened.case);
    assert_eq!(
        view.messages[0].content.as_ref().unwrap().text(),
        "The answer to this upload never arrives."
    );
    assert!(socks.log.lock().unwrap().contains(PROXY_ONLY_NAME));
}
