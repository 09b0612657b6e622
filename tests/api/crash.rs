//! The server killed (`kill -9`) at random moments while reporters open
//! cases and follow them up and a handler changes states: after every
//! restart, everything a client was told had been stored is there, and the
//! database and the log check out.
//!
//! 20 crashes by default; `SOTTO_CRASH_CYCLES=200 cargo test --test api
//! crash` for a longer run by hand. The seed is printed, and
//! `SOTTO_CRASH_SEED` repeats a run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sotto::client::{desk, reporter, Api};
use sotto_envelope::keys::DeskIdentity;
use sotto_envelope::token::Token;
use sotto_wire::CaseState;

use crate::helpers::{spawn_app_with, stderr, TestApp};

/// What clients were told was stored: each case's token, and how many
/// messages its thread had when the last acknowledged one landed.
#[derive(Default)]
struct Acknowledged {
    cases: Vec<(Token, String, u64)>,
}

/// A small deterministic generator (xorshift), seeded per run.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// One reporter: opens a case, then follows it up, until told to stop.
fn reporter_loop(api: Api, acked: Arc<Mutex<Acknowledged>>, stop: Arc<AtomicBool>, n: usize) {
    let mut mine: Option<usize> = None;
    while !stop.load(Ordering::Relaxed) {
        match mine {
            None => {
                let done = reporter::submit(
                    &api,
                    &reporter::Submission {
                        desk: "default".into(),
                        text: format!("report from reporter {n}"),
                        ..Default::default()
                    },
                );
                // An error is a crash mid-request: nothing was promised.
                if let Ok(done) = done {
                    let mut a = acked.lock().unwrap();
                    a.cases.push((done.token, done.receipt.case.clone(), 1));
                    mine = Some(a.cases.len() - 1);
                }
            }
            Some(i) => {
                let token = acked.lock().unwrap().cases[i].0.clone();
                if let Ok(posted) = reporter::reply(&api, &token, "and one more thing", vec![]) {
                    let mut a = acked.lock().unwrap();
                    a.cases[i].2 = a.cases[i].2.max(posted.seq + 1);
                }
            }
        }
    }
}

/// The handler: acknowledges whatever case it finds, until told to stop.
fn handler_loop(
    api: Api,
    me: DeskIdentity,
    acked: Arc<Mutex<Acknowledged>>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        let case = acked.lock().unwrap().cases.last().map(|c| c.1.clone());
        match case {
            Some(case) => {
                let _ = desk::set_state(&api, &me, &case, CaseState::InReview, None);
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Checks every acknowledged case and message against the restarted server.
fn check(app: &TestApp, acked: &Acknowledged, cycle: u64) {
    for (token, case, messages) in &acked.cases {
        let status = reporter::status(&app.api, token).unwrap_or_else(|e| {
            panic!("cycle {cycle}: case {case}, receipted, is gone after the crash: {e}")
        });
        assert_eq!(&status.status.case, case, "cycle {cycle}");
        let got = status.status.messages.len() as u64;
        assert!(
            got >= *messages,
            "cycle {cycle}: case {case} has {got} messages, {messages} were acknowledged"
        );
    }
}

fn audit_db(app: &TestApp) {
    let out = app.sotto(&["audit", "db", app.data_dir().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}{}",
        crate::helpers::stdout(&out),
        stderr(&out)
    );
}

#[test]
fn a_server_killed_at_random_moments_loses_nothing_it_acknowledged() {
    let cycles: u64 = std::env::var("SOTTO_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("SOTTO_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64 | 1)
        });
    eprintln!("crash test: {cycles} cycles, SOTTO_CRASH_SEED={seed}");
    let mut dice = Dice(seed);
    let env = [("SOTTO_CHECKPOINT_INTERVAL", "1")];
    let mut app = spawn_app_with(&env);
    let alice = app.add_recipient("Alice");
    let acked = Arc::new(Mutex::new(Acknowledged::default()));

    // What an auditor holds from before the crashes.
    app.wait_for_checkpoint();
    let state = app.work.path().join("audit.json");
    let audit_log = |app: &TestApp| {
        // The restarted server is the same service on another port: the
        // saved state is pointed at it.
        if let Ok(saved) = std::fs::read(&state) {
            let mut saved: serde_json::Value = serde_json::from_slice(&saved).unwrap();
            saved["server"] = serde_json::Value::String(app.url.clone());
            std::fs::write(&state, serde_json::to_vec(&saved).unwrap()).unwrap();
        }
        let out = app.sotto(&["audit", "log", "--state", state.to_str().unwrap(), "--json"]);
        assert!(
            out.status.success(),
            "{}{}",
            crate::helpers::stdout(&out),
            stderr(&out)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["findings"], serde_json::json!([]), "{report}");
    };
    audit_log(&app);

    let started = Instant::now();
    for cycle in 0..cycles {
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::new();
        for n in 0..3 {
            let (api, acked, stop) = (app.api.clone(), Arc::clone(&acked), Arc::clone(&stop));
            workers.push(std::thread::spawn(move || {
                reporter_loop(api, acked, stop, n)
            }));
        }
        {
            let (api, acked, stop) = (app.api.clone(), Arc::clone(&acked), Arc::clone(&stop));
            let me = alice.clone();
            workers.push(std::thread::spawn(move || {
                handler_loop(api, me, acked, stop)
            }));
        }
        // Somewhere in the middle of whatever they are doing.
        std::thread::sleep(Duration::from_millis(100 + dice.below(600)));
        app.stop();
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.join().unwrap();
        }
        app.restart_with(&env);
        check(&app, &acked.lock().unwrap(), cycle);
        if cycle % 5 == 4 || cycle + 1 == cycles {
            audit_db(&app);
            app.wait_for_checkpoint();
            audit_log(&app);
        }
    }
    let a = acked.lock().unwrap();
    eprintln!(
        "crash test: {} cases and {} messages acknowledged over {cycles} crashes in {:?}",
        a.cases.len(),
        a.cases.iter().map(|c| c.2).sum::<u64>(),
        started.elapsed()
    );
    assert!(
        !a.cases.is_empty(),
        "the clients got nothing done between crashes"
    );
}
