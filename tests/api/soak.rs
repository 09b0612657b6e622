//! A soak: status polls, new cases, follow-ups and desk reads, mixed, at a
//! steady rate, while the server's memory and its write-ahead log are
//! sampled. Both must stay flat.
//!
//! In the test command it runs 20 seconds (a smoke version). By hand,
//! `scripts/soak.sh` runs it for 30 minutes in a release build at half the
//! capacity it measures first, and prints a line a minute.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sotto::client::{desk, reporter, Api, ClientError};
use sotto_envelope::keys::DeskIdentity;
use sotto_envelope::token::Token;

use crate::helpers::{spawn_app_with, TestApp};

/// What the load does, one request at a time.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Poll,
    Open,
    FollowUp,
    DeskRead,
}

/// Out of 20 requests: 14 polls, 2 new cases, 2 follow-ups, 2 desk reads.
const MIX: [Kind; 20] = {
    use Kind::*;
    [
        Poll, Poll, Open, Poll, Poll, FollowUp, Poll, DeskRead, Poll, Poll, Poll, Open, Poll, Poll,
        FollowUp, Poll, DeskRead, Poll, Poll, Poll,
    ]
};

#[derive(Default)]
struct Counts {
    done: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
}

/// Runs one request of `kind`; `Err` only for what must never happen (a
/// 5xx, a broken connection).
fn one(
    api: &Api,
    me: &DeskIdentity,
    tokens: &Mutex<Vec<Token>>,
    kind: Kind,
    n: u64,
) -> Result<bool, ClientError> {
    let some_token = || {
        let t = tokens.lock().unwrap();
        t.get((n as usize) % t.len().max(1)).cloned()
    };
    let outcome = match kind {
        Kind::Poll => match some_token() {
            Some(t) => api.reporter_status(&t.handle()).map(drop),
            None => Ok(()),
        },
        Kind::Open => reporter::submit(
            api,
            &reporter::Submission {
                desk: "default".into(),
                text: format!("soak report {n}"),
                ..Default::default()
            },
        )
        .map(|done| tokens.lock().unwrap().push(done.token)),
        Kind::FollowUp => match some_token() {
            Some(t) => reporter::reply(api, &t, "soak follow-up", vec![]).map(drop),
            None => Ok(()),
        },
        Kind::DeskRead => desk::inbox(api, me).map(drop),
    };
    match outcome {
        Ok(()) => Ok(true),
        // Quotas and lost races are answers, not failures.
        Err(ClientError::Server { status, .. }) if status < 500 => Ok(false),
        Err(e) => Err(e),
    }
}

/// Sizes to watch: resident memory and the write-ahead log, in KiB.
fn sample(app: &TestApp) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{}/status", app.pid())).unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let wal =
        std::fs::metadata(app.db_path().with_extension("db-wal")).map_or(0, |m| m.len() / 1024);
    (rss, wal)
}

/// Drives `rate` requests a second (0: as fast as `threads` go) for
/// `length`, printing a line per `every`; returns the samples and counts.
fn drive(
    app: &TestApp,
    me: &DeskIdentity,
    tokens: &Arc<Mutex<Vec<Token>>>,
    threads: u64,
    rate: u64,
    length: Duration,
    every: Duration,
) -> (Vec<(u64, u64)>, Arc<Counts>) {
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (api, me, tokens) = (app.api.clone(), me.clone(), Arc::clone(tokens));
            let (counts, stop, next) = (Arc::clone(&counts), Arc::clone(&stop), Arc::clone(&next));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if rate > 0 {
                        // Open loop: request n is due at n / rate seconds.
                        let due = start + Duration::from_secs_f64(n as f64 / rate as f64);
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                    }
                    match one(&api, &me, &tokens, MIX[(n % 20) as usize], n) {
                        Ok(true) => counts.done.fetch_add(1, Ordering::Relaxed),
                        Ok(false) => counts.refused.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            eprintln!("soak: request {n} failed: {e}");
                            counts.failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            })
        })
        .collect();
    let mut samples = Vec::new();
    let mut last = 0;
    while start.elapsed() < length {
        std::thread::sleep(every.min(length.saturating_sub(start.elapsed())));
        let (rss, wal) = sample(app);
        let done = counts.done.load(Ordering::Relaxed);
        println!(
            "soak: {:>5} s  {:>7} requests/s  RSS {:>7} KiB  WAL {:>7} KiB  refused {}  failed {}",
            start.elapsed().as_secs(),
            (done - last) / every.as_secs().max(1),
            rss,
            wal,
            counts.refused.load(Ordering::Relaxed),
            counts.failed.load(Ordering::Relaxed),
        );
        last = done;
        samples.push((rss, wal));
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    (samples, counts)
}

#[test]
fn under_a_steady_mixed_load_memory_and_the_wal_stay_flat() {
    let seconds: u64 = std::env::var("SOTTO_SOAK_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let every = Duration::from_secs(if seconds >= 600 { 60 } else { 2 });
    let app = spawn_app_with(&[
        ("SOTTO_POW_DIFFICULTY", "8"),
        // A steady flood of new cases must not raise the difficulty here.
        ("SOTTO_POW_TARGET_PER_MINUTE", "1000000"),
        ("SOTTO_FOLLOW_UPS_PER_DAY", "1000000"),
        // As deploy/sotto.service runs it: two malloc arenas, so freed
        // buffers go back to use instead of staying with their thread.
        ("MALLOC_ARENA_MAX", "2"),
    ]);
    let me = app.add_recipient("Alice");
    let tokens = Arc::new(Mutex::new(Vec::new()));
    // Capacity first: as fast as eight clients go, for a tenth of the run.
    let probe = Duration::from_secs((seconds / 10).max(2));
    let (_, counts) = drive(&app, &me, &tokens, 8, 0, probe, probe);
    let capacity = counts.done.load(Ordering::Relaxed) / probe.as_secs();
    let rate = (capacity / 2).max(1);
    println!("soak: capacity about {capacity} requests/s; soaking at {rate} for {seconds} s");
    let (samples, counts) = drive(
        &app,
        &me,
        &tokens,
        16,
        rate,
        Duration::from_secs(seconds),
        every,
    );
    assert_eq!(counts.failed.load(Ordering::Relaxed), 0, "a request failed");
    assert!(counts.done.load(Ordering::Relaxed) > 0);
    // The WAL stays under what SQLite's checkpoints keep it to (it once
    // reached 704 MB under sustained writes).
    let wal = samples.iter().map(|s| s.1).max().unwrap_or(0);
    assert!(wal <= 64 * 1024, "the WAL reached {wal} KiB");
    let peak = samples.iter().map(|s| s.0).max().unwrap_or(0);
    assert!(peak <= 256 * 1024, "the server reached {peak} KiB");
    // Flat, once the caches are warm: a long run's second half needs no
    // more memory than its first half reached, give or take a quarter. (A
    // short run is still filling SQLite's page caches.)
    if seconds >= 600 {
        let half = samples.len() / 2;
        let first = samples[..half].iter().map(|s| s.0).max().unwrap_or(0);
        let second = samples[half..].iter().map(|s| s.0).max().unwrap_or(0);
        assert!(
            second <= first + first / 4,
            "memory grew from {first} KiB to {second} KiB"
        );
    }
}
