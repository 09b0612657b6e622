//! What a sequence of leaves says, replayed in log order: who reads for each
//! desk, per-month statistics, and anything that should not happen.
//!
//! The server derives its public `/transparency` figures with this, and
//! `sotto audit log` re-derives them from the log alone; the reporter's
//! client uses the desk rosters. A replay is incremental and serializable,
//! so a client keeps it beside the checkpoint it has verified and later
//! applies only the leaves that follow. A reporter's client keeps only the
//! rosters ([`Scope::Rosters`]): its state grows with the desks and their
//! readers, never with the cases.
//!
//! The statistics, per month (`YYYY-MM`):
//! - `received`: cases opened that month;
//! - `acknowledged_in_time` / `acknowledged_late`: of the cases opened that
//!   month (record-only ones excepted), those whose first handler state
//!   change came within / after the acknowledgement deadline;
//! - `resolved`, `record_only`, `bad_faith`: cases that entered that state
//!   that month, each case counted once per state (a case opened as
//!   record-only counts in the month it was opened).

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sotto_wire::api::MonthFigures;
use sotto_wire::{CaseState, Day};

use crate::leaf::{Event, Leaf};
use crate::merkle::Hash;

/// Figures for one month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Month {
    /// Cases opened.
    pub received: u64,
    /// Of those, acknowledged within the deadline.
    pub acknowledged_in_time: u64,
    /// Of those, acknowledged after the deadline.
    pub acknowledged_late: u64,
    /// Cases that became resolved.
    pub resolved: u64,
    /// Cases kept for the record only.
    pub record_only: u64,
    /// Cases judged made in bad faith.
    pub bad_faith: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CaseTrack {
    opened: Day,
    /// Days its desk had to acknowledge it (`None` in states saved before
    /// desks had deadlines of their own: the replay's default).
    #[serde(default)]
    deadline: Option<i64>,
    /// No acknowledgement is owed (opened as record-only).
    record_only: bool,
    /// Whether the report's own initial state was seen.
    initial_seen: bool,
    acknowledged: bool,
    erased: bool,
    /// States already counted for this case.
    counted: Vec<CaseState>,
}

/// What a replay keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Rosters, cases and figures: the server's figures and the auditor's
    /// replay. Its state grows with the cases.
    #[default]
    Everything,
    /// The desks' rosters only: what a reporter's device checks before it
    /// encrypts. The events of cases are counted in `size` and checked for
    /// their day, but not followed, so the problems only a case's history
    /// shows (an event for a case never opened, a case opened twice) are
    /// left to the auditor.
    Rosters,
}

/// The state of a replay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replay {
    /// Leaves replayed so far.
    pub size: u64,
    /// What this replay keeps (states saved before scopes existed kept
    /// everything).
    #[serde(default)]
    pub scope: Scope,
    /// Days handlers have to acknowledge a case.
    pub acknowledge_days: i64,
    /// Desks with an acknowledgement deadline of their own: name → days.
    #[serde(default)]
    pub desk_acknowledge_days: BTreeMap<String, i64>,
    /// The last day seen.
    last_day: Option<Day>,
    /// Per desk (commitment, base64), its current readers (recipient
    /// commitment, base64) and the day each was added.
    rosters: BTreeMap<String, BTreeMap<String, Day>>,
    cases: BTreeMap<String, CaseTrack>,
    /// Figures by month.
    pub months: BTreeMap<String, Month>,
    /// Events by kind and month.
    pub kinds: BTreeMap<String, BTreeMap<String, u64>>,
}

fn key(h: &Hash) -> String {
    STANDARD.encode(h)
}

fn month(d: Day) -> String {
    let (y, m, _) = d.civil();
    format!("{y:04}-{m:02}")
}

impl Replay {
    /// An empty replay, for a deadline of `acknowledge_days`.
    pub fn new(acknowledge_days: i64) -> Self {
        Self {
            acknowledge_days,
            ..Self::default()
        }
    }

    /// An empty replay that keeps only the desks' rosters.
    pub fn rosters() -> Self {
        Self {
            scope: Scope::Rosters,
            ..Self::default()
        }
    }

    /// A replay that keeps only the rosters, at `size` leaves, with these
    /// readers per desk (from a verified summary, [`crate::rosters`]). The
    /// day of the last leaf is not known, so the next leaf's day is not
    /// compared with it.
    pub fn from_rosters(size: u64, rosters: &BTreeMap<Hash, BTreeMap<Hash, Day>>) -> Self {
        Self {
            size,
            rosters: rosters
                .iter()
                .map(|(desk, readers)| {
                    let readers = readers.iter().map(|(r, d)| (key(r), *d)).collect();
                    (key(desk), readers)
                })
                .collect(),
            ..Self::rosters()
        }
    }

    /// Keeps from now on only the rosters, and forgets the cases, the
    /// figures and the deadlines they are measured by (a state saved before
    /// with everything shrinks to this).
    pub fn keep_rosters_only(&mut self) {
        self.scope = Scope::Rosters;
        self.acknowledge_days = 0;
        self.desk_acknowledge_days = BTreeMap::new();
        self.cases = BTreeMap::new();
        self.months = BTreeMap::new();
        self.kinds = BTreeMap::new();
    }

    /// An empty replay, for a default deadline of `acknowledge_days` and
    /// the desks' own deadlines (name → days).
    pub fn with_desks(acknowledge_days: i64, desks: BTreeMap<String, i64>) -> Self {
        Self {
            acknowledge_days,
            desk_acknowledge_days: desks,
            ..Self::default()
        }
    }

    /// The acknowledgement deadline of the desk with this commitment.
    fn deadline_of(&self, desk: &Hash) -> i64 {
        self.desk_acknowledge_days
            .iter()
            .find(|(name, _)| crate::leaf::desk_commitment(name) == *desk)
            .map_or(self.acknowledge_days, |(_, d)| *d)
    }

    /// The readers of the desk with this commitment, with the day each was
    /// added.
    pub fn roster(&self, desk: &Hash) -> BTreeMap<Hash, Day> {
        self.rosters
            .get(&key(desk))
            .map(|r| {
                r.iter()
                    .filter_map(|(k, d)| {
                        let raw = STANDARD.decode(k).ok()?;
                        Some((Hash::try_from(raw.as_slice()).ok()?, *d))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every desk created, with its readers and the day each was added.
    pub fn desks(&self) -> BTreeMap<Hash, BTreeMap<Hash, Day>> {
        self.rosters
            .keys()
            .filter_map(|k| {
                let raw = STANDARD.decode(k).ok()?;
                let desk = Hash::try_from(raw.as_slice()).ok()?;
                Some((desk, self.roster(&desk)))
            })
            .collect()
    }

    /// The figures by month, oldest first, as `/v1/transparency` publishes
    /// them.
    pub fn figures(&self) -> Vec<MonthFigures> {
        self.months
            .iter()
            .map(|(month, m)| MonthFigures {
                month: month.clone(),
                received: m.received,
                acknowledged_in_time: m.acknowledged_in_time,
                acknowledged_late: m.acknowledged_late,
                resolved: m.resolved,
                record_only: m.record_only,
                bad_faith: m.bad_faith,
            })
            .collect()
    }

    /// Applies the next leaf; returns what is wrong with it, if anything
    /// (the replay goes on either way).
    pub fn apply(&mut self, leaf: &Leaf) -> Vec<String> {
        let index = self.size;
        self.size += 1;
        let mut problems = Vec::new();
        let mut problem = |s: String| problems.push(format!("leaf {index}: {s}"));
        let day = leaf.day;
        if self.last_day.is_some_and(|last| day < last) {
            problem(format!(
                "dated {day}, earlier than the leaf before it: events were inserted into the past"
            ));
        }
        self.last_day = Some(self.last_day.map_or(day, |l| l.max(day)));
        if self.scope == Scope::Rosters {
            if let Some(p) = self.apply_to_rosters(&leaf.event, day) {
                problem(p.into());
            }
            return problems;
        }
        *self
            .kinds
            .entry(leaf.event.kind().as_str().to_owned())
            .or_default()
            .entry(month(day))
            .or_default() += 1;
        match &leaf.event {
            Event::DeskCreated { .. }
            | Event::RecipientAdded { .. }
            | Event::RecipientRemoved { .. } => {
                if let Some(p) = self.apply_to_rosters(&leaf.event, day) {
                    problem(p.into());
                }
            }
            Event::CaseOpened { desk, case, .. } => {
                if let Some(p) = self.apply_to_rosters(&leaf.event, day) {
                    problem(p.into());
                }
                let deadline = self.deadline_of(desk);
                match self.cases.entry(key(case)) {
                    std::collections::btree_map::Entry::Occupied(_) => {
                        problem("a case is opened twice".into());
                    }
                    std::collections::btree_map::Entry::Vacant(v) => {
                        v.insert(CaseTrack {
                            opened: day,
                            deadline: Some(deadline),
                            record_only: false,
                            initial_seen: false,
                            acknowledged: false,
                            erased: false,
                            counted: Vec::new(),
                        });
                        self.months.entry(month(day)).or_default().received += 1;
                    }
                }
            }
            Event::MessagePosted { case, .. }
            | Event::CaseShared { case, .. }
            | Event::CaseErased { case } => {
                let erasing = matches!(leaf.event, Event::CaseErased { .. });
                match self.cases.get_mut(&key(case)) {
                    None => problem("an event for a case that was never opened".into()),
                    Some(t) if t.erased => {
                        problem("an event for a case that was already erased".into())
                    }
                    Some(t) => {
                        if day < t.opened {
                            problem("an event dated before its case was opened".into());
                        }
                        t.erased |= erasing;
                    }
                }
            }
            Event::StateChanged { case, state } => {
                let Some(t) = self.cases.get_mut(&key(case)) else {
                    problem("a state change for a case that was never opened".into());
                    return problems;
                };
                if day < t.opened {
                    problem("a state change dated before its case was opened".into());
                }
                let m = self.months.entry(month(day)).or_default();
                if !t.initial_seen {
                    // The report's own state, written with the opening.
                    t.initial_seen = true;
                    match state {
                        CaseState::Received => {}
                        CaseState::RecordOnly => {
                            t.record_only = true;
                            t.counted.push(CaseState::RecordOnly);
                            m.record_only += 1;
                        }
                        other => problem(format!("a case opens in state {other}")),
                    }
                    return problems;
                }
                if !t.acknowledged {
                    t.acknowledged = true;
                    if !t.record_only {
                        let opened = self.months.entry(month(t.opened)).or_default();
                        if t.opened.days_until(day) <= t.deadline.unwrap_or(self.acknowledge_days) {
                            opened.acknowledged_in_time += 1;
                        } else {
                            opened.acknowledged_late += 1;
                        }
                    }
                }
                let m = self.months.entry(month(day)).or_default();
                if matches!(
                    state,
                    CaseState::Resolved | CaseState::RecordOnly | CaseState::BadFaith
                ) && !t.counted.contains(state)
                {
                    t.counted.push(*state);
                    match state {
                        CaseState::Resolved => m.resolved += 1,
                        CaseState::RecordOnly => m.record_only += 1,
                        _ => m.bad_faith += 1,
                    }
                }
            }
        }
        problems
    }

    /// What `event`, dated `day`, changes in the rosters, and what is wrong
    /// with it there. Events of cases change nothing; an opening is checked for
    /// its desk.
    fn apply_to_rosters(&mut self, event: &Event, day: Day) -> Option<&'static str> {
        match event {
            Event::DeskCreated { desk } => self
                .rosters
                .insert(key(desk), BTreeMap::new())
                .map(|_| "a desk is created twice"),
            Event::RecipientAdded { desk, recipient } => match self.rosters.get_mut(&key(desk)) {
                None => Some("a recipient is added to a desk that was never created"),
                Some(r) => r
                    .insert(key(recipient), day)
                    .map(|_| "a recipient is added to a desk they are already on"),
            },
            Event::RecipientRemoved { desk, recipient } => self
                .rosters
                .get_mut(&key(desk))
                .and_then(|r| r.remove(&key(recipient)))
                .is_none()
                .then_some("a recipient is removed from a desk they are not on"),
            Event::CaseOpened { desk, .. } => (!self.rosters.contains_key(&key(desk)))
                .then_some("a case is opened at a desk that was never created"),
            Event::MessagePosted { .. }
            | Event::CaseShared { .. }
            | Event::CaseErased { .. }
            | Event::StateChanged { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::{case_commitment, desk_commitment, recipient_commitment};

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    fn leaf(d: &str, event: Event) -> Leaf {
        Leaf { day: day(d), event }
    }

    fn opened(d: &str, c: u8) -> Leaf {
        leaf(
            d,
            Event::CaseOpened {
                desk: desk_commitment("default"),
                case: case_commitment(&[c; 16]),
                report: [0; 32],
                readers: [0; 32],
                reporter: [0; 32],
            },
        )
    }

    fn state(d: &str, c: u8, s: CaseState) -> Leaf {
        leaf(
            d,
            Event::StateChanged {
                case: case_commitment(&[c; 16]),
                state: s,
            },
        )
    }

    #[test]
    fn rosters_follow_additions_and_removals() {
        let desk = desk_commitment("default");
        let (a, b) = (recipient_commitment("1"), recipient_commitment("2"));
        let mut r = Replay::new(7);
        for l in [
            leaf("2026-01-01", Event::DeskCreated { desk }),
            leaf("2026-01-02", Event::RecipientAdded { desk, recipient: a }),
            leaf("2026-01-03", Event::RecipientAdded { desk, recipient: b }),
            leaf("2026-01-04", Event::RecipientRemoved { desk, recipient: a }),
        ] {
            assert!(r.apply(&l).is_empty());
        }
        let roster = r.roster(&desk);
        assert_eq!(roster.len(), 1);
        assert_eq!(roster.get(&b), Some(&day("2026-01-03")));
        // Removing someone who is not there is a problem worth reporting.
        let p = r.apply(&leaf(
            "2026-01-05",
            Event::RecipientRemoved { desk, recipient: a },
        ));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("leaf 4:"));
    }

    #[test]
    fn statistics_count_cases_once_and_deadlines_from_the_opening_day() {
        let desk = desk_commitment("default");
        let mut r = Replay::new(7);
        let leaves = [
            leaf("2026-01-01", Event::DeskCreated { desk }),
            opened("2026-01-05", 1),
            state("2026-01-05", 1, CaseState::Received),
            state("2026-01-10", 1, CaseState::Acknowledged),
            state("2026-02-01", 1, CaseState::Resolved),
            state("2026-02-02", 1, CaseState::InReview),
            state("2026-02-03", 1, CaseState::Resolved),
            opened("2026-01-20", 2),
            state("2026-01-20", 2, CaseState::Received),
            state("2026-02-20", 2, CaseState::BadFaith),
            opened("2026-02-21", 3),
            state("2026-02-21", 3, CaseState::RecordOnly),
        ];
        let mut problems = Vec::new();
        for l in &leaves {
            problems.extend(r.apply(l));
        }
        // Leaves are in log order but the days above are not: the replay
        // says so, and still counts.
        assert!(
            problems.iter().all(|p| p.contains("earlier than")),
            "{problems:?}"
        );
        let jan = r.months["2026-01"];
        assert_eq!(
            jan,
            Month {
                received: 2,
                acknowledged_in_time: 1,
                acknowledged_late: 1,
                ..Month::default()
            }
        );
        let feb = r.months["2026-02"];
        assert_eq!(
            feb,
            Month {
                received: 1,
                resolved: 1,
                record_only: 1,
                bad_faith: 1,
                ..Month::default()
            }
        );
        assert_eq!(r.kinds["state-changed"]["2026-02"], 5);
    }

    #[test]
    fn each_case_is_measured_against_its_own_desks_deadline() {
        let fast = desk_commitment("fast");
        let open_at = |d: &str, desk: Hash, c: u8| {
            leaf(
                d,
                Event::CaseOpened {
                    desk,
                    case: case_commitment(&[c; 16]),
                    report: [0; 32],
                    readers: [0; 32],
                    reporter: [0; 32],
                },
            )
        };
        let mut r = Replay::with_desks(7, BTreeMap::from([("fast".to_owned(), 2)]));
        for l in [
            leaf(
                "2026-01-01",
                Event::DeskCreated {
                    desk: desk_commitment("default"),
                },
            ),
            leaf("2026-01-01", Event::DeskCreated { desk: fast }),
            opened("2026-01-05", 1),
            state("2026-01-05", 1, CaseState::Received),
            open_at("2026-01-05", fast, 2),
            state("2026-01-05", 2, CaseState::Received),
            // Four days: in time at the default desk, late at the fast one.
            state("2026-01-09", 1, CaseState::Acknowledged),
            state("2026-01-09", 2, CaseState::Acknowledged),
        ] {
            assert_eq!(r.apply(&l), Vec::<String>::new());
        }
        let jan = r.months["2026-01"];
        assert_eq!((jan.acknowledged_in_time, jan.acknowledged_late), (1, 1));
    }

    #[test]
    fn events_for_unknown_or_erased_cases_are_problems() {
        let desk = desk_commitment("default");
        let mut r = Replay::new(7);
        assert!(r
            .apply(&leaf("2026-01-01", Event::DeskCreated { desk }))
            .is_empty());
        assert_eq!(
            r.apply(&state("2026-01-02", 9, CaseState::Resolved)).len(),
            1
        );
        assert!(r.apply(&opened("2026-01-02", 1)).is_empty());
        assert_eq!(r.apply(&opened("2026-01-02", 1)).len(), 1);
        let erased = leaf(
            "2026-01-03",
            Event::CaseErased {
                case: case_commitment(&[1; 16]),
            },
        );
        assert!(r.apply(&erased).is_empty());
        assert_eq!(r.apply(&erased).len(), 1);
    }

    #[test]
    fn a_replay_survives_serialization_and_continues_the_same() {
        let desk = desk_commitment("default");
        let mut whole = Replay::new(7);
        let leaves = [
            leaf("2026-01-01", Event::DeskCreated { desk }),
            opened("2026-01-05", 1),
            state("2026-01-05", 1, CaseState::Received),
            state("2026-01-09", 1, CaseState::Acknowledged),
        ];
        for l in &leaves {
            whole.apply(l);
        }
        let mut part = Replay::new(7);
        part.apply(&leaves[0]);
        part.apply(&leaves[1]);
        let json = serde_json::to_string(&part).unwrap();
        let mut back: Replay = serde_json::from_str(&json).unwrap();
        back.apply(&leaves[2]);
        back.apply(&leaves[3]);
        assert_eq!(back, whole);
    }

    #[test]
    fn a_rosters_replay_has_the_same_rosters_in_a_state_that_does_not_grow_with_cases() {
        let desk = desk_commitment("default");
        let (a, b) = (recipient_commitment("1"), recipient_commitment("2"));
        let mut leaves = vec![
            leaf("2026-01-01", Event::DeskCreated { desk }),
            leaf("2026-01-02", Event::RecipientAdded { desk, recipient: a }),
        ];
        let size_with = |cases: u8| {
            let mut all = leaves.clone();
            for c in 0..cases {
                all.push(opened("2026-01-05", c));
                all.push(state("2026-01-05", c, CaseState::Received));
            }
            all.push(leaf(
                "2026-01-06",
                Event::RecipientAdded { desk, recipient: b },
            ));
            all.push(leaf(
                "2026-01-07",
                Event::RecipientRemoved { desk, recipient: a },
            ));
            let (mut whole, mut rosters) = (Replay::new(7), Replay::rosters());
            for l in &all {
                assert!(whole.apply(l).is_empty());
                assert!(rosters.apply(l).is_empty());
            }
            assert_eq!(rosters.roster(&desk), whole.roster(&desk));
            assert_eq!(rosters.size, whole.size);
            // The count of leaves aside, which grows by its digits.
            (whole.size, rosters.size) = (0, 0);
            (
                serde_json::to_vec(&whole).unwrap().len(),
                serde_json::to_vec(&rosters).unwrap().len(),
            )
        };
        let (whole_few, rosters_few) = size_with(2);
        let (whole_many, rosters_many) = size_with(200);
        assert!(
            whole_many > whole_few + 200 * 100,
            "{whole_few} {whole_many}"
        );
        assert_eq!(rosters_few, rosters_many);
        // Roster problems are still found; a case's are left to the auditor.
        let mut r = Replay::rosters();
        leaves.push(leaf(
            "2026-01-03",
            Event::RecipientAdded { desk, recipient: a },
        ));
        let problems: Vec<String> = leaves.iter().flat_map(|l| r.apply(l)).collect();
        assert_eq!(
            problems,
            ["leaf 2: a recipient is added to a desk they are already on"]
        );
        assert!(r
            .apply(&state("2026-01-04", 9, CaseState::Resolved))
            .is_empty());
        // A state saved with everything shrinks to the rosters.
        let mut old = Replay::new(7);
        for l in &leaves[..2] {
            old.apply(l);
        }
        old.apply(&opened("2026-01-05", 1));
        old.keep_rosters_only();
        let mut fresh = Replay::rosters();
        for l in &leaves[..2] {
            fresh.apply(l);
        }
        fresh.apply(&opened("2026-01-05", 1));
        assert_eq!(old, fresh);
    }
}
