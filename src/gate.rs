//! Bounded queues in front of expensive work.
//!
//! A flood must not make the server queue work without end: each kind of
//! expensive work passes a [`Gate`] that lets a few run at once and a
//! bounded number wait their turn, in order. Past that, the request is
//! refused with `503` and `Retry-After` ([`Busy`]), after [`SHED_DELAY`]:
//! a flood that asks again at once then costs the server one answer per
//! connection per delay, and leaves its cores to the work admitted.
//!
//! Waiting is async: a request in the queue holds no thread. A request
//! whose client has gone is dropped by actix, and with it its place in the
//! queue, so work nobody waits for anymore never starts.
//!
//! The gates ([`Gates`]), each sized by a setting of `sotto serve`:
//!
//! - `nojs`: the no-JavaScript forms, which seal or open a report on the
//!   server (`--nojs-concurrency`, `--nojs-queue`).
//! - `openings`: a new case's proof of work, signature and envelope
//!   checks (`--check-concurrency`, `--check-queue`).
//! - `signed`: signature checks of desk requests and of reporters'
//!   follow-ups and escalations, with the store work they guard (the
//!   same two settings).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Settings;
use crate::error::ApiError;

/// How long a refused request is held before its `503`. Without it, a
/// client that asks again at once (a flood does) is answered as fast as it
/// can ask, and those answers take the cores the admitted work needs: at
/// 256 connections the no-JS form let 35 to 38 reports a second in,
/// against about 500 at 16 (docs/benchmarks.md). Held, a request costs a
/// timer, not a thread.
pub const SHED_DELAY: Duration = Duration::from_millis(250);

/// The queue was full: come back later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// The right to run, held until the work is done (also by a thread the
/// work was moved to).
pub type Pass = OwnedSemaphorePermit;

/// At most `at_once` holders of a [`Pass`], and at most `queue` more
/// waiting for one.
#[derive(Debug)]
pub struct Gate {
    passes: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
}

/// Leaves the queue when dropped: admitted, or cancelled.
struct InQueue<'a>(&'a AtomicUsize);

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Gate {
    /// A gate for `at_once` at a time (at least one) and `queue` waiting.
    pub fn new(at_once: usize, queue: usize) -> Self {
        Self {
            passes: Arc::new(Semaphore::new(at_once.max(1))),
            waiting: AtomicUsize::new(0),
            queue,
        }
    }

    /// Whether a request arriving now would be refused: checked before
    /// reading a large body that could only be refused afterwards.
    pub fn is_full(&self) -> bool {
        self.passes.available_permits() == 0 && self.waiting.load(Ordering::SeqCst) >= self.queue
    }

    /// A pass now, or once those ahead are done; [`Busy`] if the queue is
    /// full, after [`SHED_DELAY`]. Dropping the future leaves the queue.
    pub async fn enter(&self) -> Result<Pass, Busy> {
        if let Ok(pass) = Arc::clone(&self.passes).try_acquire_owned() {
            return Ok(pass);
        }
        let ahead = self.waiting.fetch_add(1, Ordering::SeqCst);
        let in_queue = InQueue(&self.waiting);
        if ahead >= self.queue {
            // Not counted as waiting while held: it will not be admitted.
            drop(in_queue);
            return Err(refuse().await);
        }
        let _in_queue = in_queue;
        Arc::clone(&self.passes)
            .acquire_owned()
            .await
            .map_err(|_| Busy)
    }

    /// Runs `f` on the blocking pool once admitted. `f` must not wait on
    /// other blocking work (it would hold a pool thread while waiting).
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    {
        let _pass = self.enter().await?;
        web::block(f).await?
    }
}

/// Holds a refused request for [`SHED_DELAY`], then refuses it.
pub async fn refuse() -> Busy {
    actix_web::rt::time::sleep(SHED_DELAY).await;
    Busy
}

/// The gates of one server.
#[derive(Debug)]
pub struct Gates {
    /// The no-JavaScript forms.
    pub nojs: Gate,
    /// New cases' checks.
    pub openings: Gate,
    /// Signed requests and follow-ups.
    pub signed: Gate,
}

impl Gates {
    /// The gates as `settings` size them; a concurrency of 0 means two
    /// per core.
    pub fn new(settings: &Settings) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let or = |n: usize, default: usize| if n == 0 { default } else { n };
        let checks = or(settings.check_concurrency, 2 * cores);
        let forms = or(settings.nojs_concurrency, 2 * cores);
        Self {
            nojs: Gate::new(forms, settings.nojs_queue),
            openings: Gate::new(checks, settings.check_queue),
            signed: Gate::new(checks, settings.check_queue),
        }
    }
}

impl From<Busy> for ApiError {
    fn from(_: Busy) -> Self {
        ApiError::busy()
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    #[actix_web::test]
    async fn a_full_queue_refuses_after_the_delay_and_a_pass_given_back_admits_the_next() {
        let gate = Gate::new(1, 1);
        let first = gate.enter().await.expect("the free pass");
        assert!(!gate.is_full());
        let mut second = Box::pin(gate.enter());
        // The second waits in the queue...
        assert!((&mut second).now_or_never().is_none());
        assert!(gate.is_full());
        // ...so a third is refused, held for the delay but not queued:
        // the one waiting keeps its place, and the queue stays full.
        let third = std::time::Instant::now();
        assert_eq!(gate.enter().await.map(|_| ()), Err(Busy));
        assert!(third.elapsed() >= SHED_DELAY);
        assert!(gate.is_full());
        drop(first);
        assert!(second.await.is_ok());
    }

    #[actix_web::test]
    async fn a_request_that_leaves_the_queue_gives_its_place_up() {
        let gate = Gate::new(1, 1);
        let held = gate.enter().await.expect("the free pass");
        {
            let mut waiting = Box::pin(gate.enter());
            assert!((&mut waiting).now_or_never().is_none());
            assert!(gate.is_full());
            // Dropped, as actix drops a handler whose client has gone.
        }
        assert!(!gate.is_full());
        let mut next = Box::pin(gate.enter());
        assert!((&mut next).now_or_never().is_none());
        drop(held);
        assert!(next.await.is_ok());
    }
}
