//! Spawning the server and the CLI for tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sotto::client::Api;
use sotto_envelope::keys::{DeskIdentity, DisplayName};

/// The `sotto` binary under test.
pub fn sotto_bin() -> &'static str {
    env!("CARGO_BIN_EXE_sotto")
}

/// A running server.
pub struct TestApp {
    pub url: String,
    pub data: tempfile::TempDir,
    pub work: tempfile::TempDir,
    pub api: Api,
    child: Child,
    stderr: Arc<Mutex<Vec<u8>>>,
    stdout: Arc<Mutex<Vec<u8>>>,
}

/// Starts `sotto serve` on a free port with debug logging and an easy proof of work.
pub fn spawn_app() -> TestApp {
    spawn_app_with(&[])
}

/// Like [`spawn_app`], with extra environment.
pub fn spawn_app_with(env: &[(&str, &str)]) -> TestApp {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let (child, url, stderr, stdout) = start(&data.path().join("data"), env);
    let api = Api::new(&url).unwrap();
    TestApp {
        url,
        data,
        work,
        api,
        child,
        stderr,
        stdout,
    }
}

type Sink = Arc<Mutex<Vec<u8>>>;

/// Starts `sotto serve` on `data_dir`; returns it with its URL and output.
fn start(data_dir: &Path, env: &[(&str, &str)]) -> (Child, String, Sink, Sink) {
    let mut cmd = Command::new(sotto_bin());
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data_dir)
        .env("SOTTO_LOG", "debug")
        .env("SOTTO_POW_DIFFICULTY", "6")
        .env("SOTTO_WORKERS", "2")
        .env("SOTTO_CHECKPOINT_INTERVAL", "1")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let stdout = Arc::new(Mutex::new(Vec::new()));
    {
        let mut err = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
    }
    let (tx, rx) = mpsc::channel();
    {
        let out = child.stdout.take().unwrap();
        let sink = Arc::clone(&stdout);
        std::thread::spawn(move || {
            let mut lines = BufReader::new(out);
            let mut line = String::new();
            let mut first = true;
            while lines.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                sink.lock().unwrap().extend_from_slice(line.as_bytes());
                if first {
                    let _ = tx.send(line.clone());
                    first = false;
                }
                line.clear();
            }
        });
    }
    let line = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(l) => l,
        Err(_) => {
            let _ = child.kill();
            panic!(
                "server did not start: {}",
                String::from_utf8_lossy(&stderr.lock().unwrap())
            );
        }
    };
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the start line names the URL")
        .trim_end_matches('/')
        .to_owned();
    (child, url, stderr, stdout)
}

impl TestApp {
    /// Stops the server and starts it again on the same data directory,
    /// with extra environment (e.g. a later calendar). Its URL changes.
    pub fn restart_with(&mut self, env: &[(&str, &str)]) {
        self.stop();
        let (child, url, stderr, stdout) = start(&self.data_dir(), env);
        self.api = Api::new(&url).unwrap();
        self.url = url;
        self.child = child;
        self.stderr = stderr;
        self.stdout = stdout;
    }

    /// Stops the server (as `kill -9`): its data directory stays, for a
    /// test to change before [`TestApp::restart_with`].
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's peak resident memory so far, in bytes (Linux's
    /// `VmHWM`).
    pub fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status");
        kib * 1024
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.data.path().join("data")
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir().join("sotto.db")
    }

    /// Everything the server wrote to stderr and stdout so far.
    pub fn logs(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned();
        s.push_str(&String::from_utf8_lossy(&self.stdout.lock().unwrap()));
        s
    }

    /// A new ombudsperson: identity made in-process, registered through the
    /// real `sotto admin add-recipient`, on `desk`.
    pub fn add_recipient_to(&self, desk: &str, name: &str) -> DeskIdentity {
        let id = DeskIdentity::generate(DisplayName::parse(name).unwrap());
        let out = self.sotto(&[
            "admin",
            "add-recipient",
            "--data",
            self.data_dir().to_str().unwrap(),
            "--desk",
            desk,
            "--card",
            &id.card().to_string(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.wait_for_checkpoint();
        id
    }

    /// Waits until the published checkpoint covers every event so far (the
    /// server publishes operator events within a second, case events at
    /// the test interval of a second).
    pub fn wait_for_checkpoint(&self) {
        let conn = rusqlite::Connection::open(self.db_path()).unwrap();
        let size: i64 = conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        let size = size as u64;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while self.api.log_info().unwrap().size < size {
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint covers the log"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A new ombudsperson on the default desk.
    pub fn add_recipient(&self, name: &str) -> DeskIdentity {
        self.add_recipient_to("default", name)
    }

    /// Writes an identity file into the work dir and returns its path.
    pub fn identity_file(&self, id: &DeskIdentity) -> PathBuf {
        let path = self
            .work
            .path()
            .join(format!("{}.identity", id.card().fingerprint().id()));
        if !path.exists() {
            std::fs::write(&path, id.to_file().as_bytes()).unwrap();
        }
        path
    }

    /// Runs `sotto admin ARGS --data DIR` on this server's data directory,
    /// beside the running server.
    pub fn admin(&self, args: &[&str]) -> Output {
        let data = self.data_dir();
        let mut all = vec!["admin"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--data", data.to_str().unwrap()]);
        self.sotto(&all)
    }

    /// Runs the CLI with `SOTTO_SERVER` set, no stdin.
    pub fn sotto(&self, args: &[&str]) -> Output {
        self.sotto_with(args, None, &[])
    }

    /// Runs the CLI with stdin text and extra environment.
    pub fn sotto_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(sotto_bin());
        cmd.args(args)
            .current_dir(self.work.path())
            .env("SOTTO_SERVER", &self.url)
            .env("SOTTO_KNOWN", self.work.path().join("known-servers.json"))
            .env_remove("SOTTO_TOKEN")
            .env_remove("SOTTO_IDENTITY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        {
            let mut input = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                // A command may refuse before it reads its input.
                let _ = input.write_all(text.as_bytes());
            }
        }
        child.wait_with_output().unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A report to the default desk through the client library.
pub fn submit(app: &TestApp, text: &str) -> sotto::client::reporter::Submitted {
    sotto::client::reporter::submit(
        &app.api,
        &sotto::client::reporter::Submission {
            desk: "default".into(),
            text: text.into(),
            ..Default::default()
        },
    )
    .unwrap()
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// A raw HTTP request to the server, for inputs the client would never send:
/// the status, the headers and the body.
pub fn raw_response(
    app: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}{}", app.url, path);
    let res = match method {
        "GET" => {
            let mut r = agent.get(&url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call()
        }
        "POST" => {
            let mut r = agent.post(&url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.send(body)
        }
        "PUT" => {
            let mut r = agent.put(&url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.send(body)
        }
        "DELETE" => agent.delete(&url).call(),
        other => panic!("method {other}"),
    };
    let mut res = res.unwrap();
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    (
        status,
        headers,
        res.body_mut().read_to_vec().unwrap_or_default(),
    )
}

/// [`raw_response`], with the body read as JSON (or as a JSON string when
/// it is not JSON).
pub fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, serde_json::Value) {
    let (status, _, body) = raw_response(app, method, path, headers, body);
    let text = String::from_utf8_lossy(&body);
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text.into_owned()));
    (status, json)
}

/// A proxy that forwards each request to `upstream` on a connection of its
/// own, but drops the answer to `POST /v1/cases`: an upload that landed
/// while its answer was lost.
pub fn lossy_proxy(upstream: &str) -> String {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                // Read the request head, then its body by Content-Length.
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let head_end = loop {
                    let n = client.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    let n = client.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let drop_answer = head.starts_with("POST /v1/cases ");
                // One request per upstream connection, closed after it.
                let request = String::from_utf8_lossy(&buf[..head_end]).replacen(
                    "\r\n\r\n",
                    "\r\nconnection: close\r\n\r\n",
                    1,
                );
                let mut up = TcpStream::connect(&upstream).unwrap();
                up.write_all(request.as_bytes()).unwrap();
                up.write_all(&buf[head_end..head_end + length]).unwrap();
                let mut answer = Vec::new();
                let _ = up.read_to_end(&mut answer);
                if !drop_answer {
                    let _ = client.write_all(&answer);
                }
            });
        }
    });
    format!("http://{addr}")
}

/// A command's standard output, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A command's standard error, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The token `sotto report submit` printed: the line of eight groups of
/// four characters.
pub fn printed_token(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| l.len() == 39 && l.matches('-').count() == 7)
        .expect("the token line")
        .to_owned()
}
