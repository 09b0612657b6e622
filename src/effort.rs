//! Proof-of-work difficulty that follows load, with no counter per sender.
//!
//! Like the proof-of-work defence of Tor's onion services, the effort asked
//! of every new reporter rises while the server as a whole is flooded and
//! falls back once the flood is over. The server counts the cases opened
//! in each window (a minute by default) and nothing else: no address, no
//! handle, no time of any one case. After a window with more than the
//! target (`--pow-target-per-minute`), each new challenge asks for one
//! more bit, twice the work, up to `--pow-max-difficulty`; after a window
//! with at most half the target, one bit less, down to `--pow-difficulty`.
//!
//! What this reveals: the difficulty is public (every challenge names it),
//! so anyone polling it learns in which windows more than the target of
//! cases were opened. That dates a flood to the window, never one report,
//! as long as the target is well above what honest reporters send in a
//! window.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The difficulty now, and what moves it.
#[derive(Debug)]
pub struct Effort {
    base: u8,
    max: u8,
    target: u64,
    window: Duration,
    now: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    opened: u64,
    extra: u8,
}

impl Effort {
    /// Starts at `base` bits, rises to `max` at most, one bit per window of
    /// `window` with more than `target` cases opened.
    pub fn new(base: u8, max: u8, target: u64, window: Duration) -> Self {
        Self {
            base,
            max: max.max(base),
            target: target.max(1),
            window: window.max(Duration::from_millis(1)),
            now: Mutex::new(Window {
                started: Instant::now(),
                opened: 0,
                extra: 0,
            }),
        }
    }

    /// The difficulty with no load: `--pow-difficulty`.
    pub fn base(&self) -> u8 {
        self.base
    }

    /// The difficulty to ask of a new challenge now.
    pub fn difficulty(&self) -> u8 {
        self.difficulty_at(Instant::now())
    }

    /// Counts one case opened now.
    pub fn opened(&self) {
        self.opened_at(Instant::now());
    }

    fn difficulty_at(&self, now: Instant) -> u8 {
        let mut w = self.lock();
        self.roll(&mut w, now);
        self.base.saturating_add(w.extra).min(self.max)
    }

    fn opened_at(&self, now: Instant) {
        let mut w = self.lock();
        self.roll(&mut w, now);
        w.opened = w.opened.saturating_add(1);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        // A panic while holding this lock leaves a count and a number of
        // bits, both valid whatever happened: go on with them.
        self.now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Closes every window that ended before `now`, moving the difficulty
    /// once for each.
    fn roll(&self, w: &mut Window, now: Instant) {
        let headroom = self.max - self.base;
        // Past this many quiet windows the difficulty is back at the base
        // whatever it was: no need to count them one by one.
        let mut left = u32::from(headroom) + 1;
        while now.saturating_duration_since(w.started) >= self.window {
            if left == 0 {
                w.started = now;
                break;
            }
            left -= 1;
            if w.opened > self.target {
                w.extra = w.extra.saturating_add(1).min(headroom);
            } else if w.opened <= self.target / 2 {
                w.extra = w.extra.saturating_sub(1);
            }
            w.opened = 0;
            w.started += self.window;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn effort() -> (Effort, Instant) {
        let e = Effort::new(18, 21, 10, MINUTE);
        let t0 = e.lock().started;
        (e, t0)
    }

    fn open(e: &Effort, at: Instant, n: u64) {
        for _ in 0..n {
            e.opened_at(at);
        }
    }

    #[test]
    fn a_flood_raises_the_difficulty_a_bit_per_window_up_to_the_most() {
        let (e, t0) = effort();
        assert_eq!(e.difficulty_at(t0), 18);
        let mut seen = Vec::new();
        for minute in 0..5 {
            open(&e, t0 + MINUTE * minute, 11);
            seen.push(e.difficulty_at(t0 + MINUTE * (minute + 1)));
        }
        // Never past the most.
        assert_eq!(seen, [19, 20, 21, 21, 21]);
    }

    #[test]
    fn the_target_itself_does_not_raise_it_and_quiet_lowers_it() {
        let (e, t0) = effort();
        open(&e, t0, 10);
        assert_eq!(e.difficulty_at(t0 + MINUTE), 18, "at the target, not over");
        open(&e, t0 + MINUTE, 11);
        open(&e, t0 + MINUTE * 2, 11);
        assert_eq!(e.difficulty_at(t0 + MINUTE * 3), 20);
        // Between half the target and the target: it stays.
        open(&e, t0 + MINUTE * 3, 8);
        assert_eq!(e.difficulty_at(t0 + MINUTE * 4), 20);
        // Quiet windows: a bit less each, down to the base and no further.
        assert_eq!(e.difficulty_at(t0 + MINUTE * 5), 19);
        assert_eq!(e.difficulty_at(t0 + MINUTE * 6), 18);
        assert_eq!(e.difficulty_at(t0 + MINUTE * 600), 18);
    }

    #[test]
    fn a_long_quiet_spell_is_not_counted_window_by_window() {
        let (e, t0) = effort();
        for minute in 0..3 {
            open(&e, t0 + MINUTE * minute, 50);
        }
        assert_eq!(e.difficulty_at(t0 + MINUTE * 3), 21);
        // Years later: back at the base, and the next window starts now.
        let later = t0 + MINUTE * 60 * 24 * 365 * 3;
        assert_eq!(e.difficulty_at(later), 18);
        open(&e, later, 11);
        assert_eq!(e.difficulty_at(later + MINUTE), 19);
    }
}
