//! De-identified statistics of a handler's cases, computed after
//! decryption on the handler's machine: counts by month × category ×
//! state × language, and time-to-acknowledge percentiles by month. Every
//! figure that rests on fewer than [`K`] cases is left out, and nothing of
//! a report's text is ever part of the output.

use std::collections::BTreeMap;

use serde::Serialize;
use sotto_wire::{CaseState, Day};

/// The smallest number of cases a published figure may rest on.
pub const K: u64 = 5;

/// One case, as the statistics see it.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    /// Day opened.
    pub opened: Day,
    /// One of the categories, or empty.
    pub category: String,
    /// The language tag, or empty.
    pub lang: String,
    /// The current state.
    pub state: CaseState,
    /// Days from opening to the first handler state change, if any.
    pub acknowledged_after: Option<i64>,
}

/// A count of cases sharing month, category, state and language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// `YYYY-MM` of opening.
    pub month: String,
    /// The category, or `unspecified`.
    pub category: String,
    /// The current state.
    pub state: String,
    /// The language, or `unspecified`.
    pub language: String,
    /// How many cases; at least [`K`].
    pub count: u64,
}

/// Time to acknowledge in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Acknowledgement {
    /// `YYYY-MM` of opening.
    pub month: String,
    /// Cases opened that month and acknowledged; at least [`K`].
    pub acknowledged: u64,
    /// Median days to acknowledge (nearest rank).
    pub p50_days: i64,
    /// 90th percentile of days to acknowledge (nearest rank).
    pub p90_days: i64,
}

/// The statistics of a set of cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Cells below this were left out.
    pub k: u64,
    /// First day counted (inclusive), if limited.
    pub from: Option<Day>,
    /// Last day counted (inclusive), if limited.
    pub to: Option<Day>,
    /// The counts, at least `k` each, sorted.
    pub cells: Vec<Cell>,
    /// How many cells were left out for holding fewer than `k` cases.
    pub suppressed_cells: u64,
    /// Time to acknowledge by month, months with at least `k`
    /// acknowledged cases only.
    pub time_to_acknowledge: Vec<Acknowledgement>,
}

fn month(d: Day) -> String {
    let (y, m, _) = d.civil();
    format!("{y:04}-{m:02}")
}

fn or_unspecified(s: &str) -> String {
    if s.is_empty() {
        "unspecified".into()
    } else {
        s.to_owned()
    }
}

/// The nearest-rank percentile `p` (0 to 100) of sorted `values`.
fn percentile(sorted: &[i64], p: u64) -> i64 {
    let n = sorted.len() as u64;
    let rank = (p * n).div_ceil(100).max(1);
    sorted[(rank - 1) as usize]
}

/// Computes the statistics of the cases opened between `from` and `to`.
pub fn compute(cases: &[CaseFacts], from: Option<Day>, to: Option<Day>) -> Stats {
    let within = |d: Day| from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t);
    let mut counts: BTreeMap<(String, String, String, String), u64> = BTreeMap::new();
    let mut acks: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for c in cases.iter().filter(|c| within(c.opened)) {
        *counts
            .entry((
                month(c.opened),
                or_unspecified(&c.category),
                c.state.as_str().to_owned(),
                or_unspecified(&c.lang),
            ))
            .or_default() += 1;
        if let Some(days) = c.acknowledged_after {
            acks.entry(month(c.opened)).or_default().push(days);
        }
    }
    let suppressed_cells = counts.values().filter(|&&n| n < K).count() as u64;
    let cells = counts
        .into_iter()
        .filter(|(_, n)| *n >= K)
        .map(|((month, category, state, language), count)| Cell {
            month,
            category,
            state,
            language,
            count,
        })
        .collect();
    let time_to_acknowledge = acks
        .into_iter()
        .filter(|(_, v)| v.len() as u64 >= K)
        .map(|(month, mut days)| {
            days.sort_unstable();
            Acknowledgement {
                month,
                acknowledged: days.len() as u64,
                p50_days: percentile(&days, 50),
                p90_days: percentile(&days, 90),
            }
        })
        .collect();
    Stats {
        k: K,
        from,
        to,
        cells,
        suppressed_cells,
        time_to_acknowledge,
    }
}

impl Stats {
    /// The cells as CSV: `month,category,state,language,count`.
    pub fn cells_csv(&self) -> String {
        let mut out = String::from("month,category,state,language,count\n");
        for c in &self.cells {
            out.push_str(&format!(
                "{},{},{},{},{}\n",
                c.month, c.category, c.state, c.language, c.count
            ));
        }
        out
    }

    /// Time to acknowledge as CSV: `month,acknowledged,p50_days,p90_days`.
    pub fn acknowledge_csv(&self) -> String {
        let mut out = String::from("month,acknowledged,p50_days,p90_days\n");
        for a in &self.time_to_acknowledge {
            out.push_str(&format!(
                "{},{},{},{}\n",
                a.month, a.acknowledged, a.p50_days, a.p90_days
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(day: &str, category: &str, lang: &str, ack: Option<i64>) -> CaseFacts {
        CaseFacts {
            opened: Day::parse(day).unwrap(),
            category: category.into(),
            lang: lang.into(),
            state: CaseState::Received,
            acknowledged_after: ack,
        }
    }

    #[test]
    fn cells_under_five_are_left_out_and_counted_as_suppressed() {
        let mut cases: Vec<CaseFacts> = (0..5)
            .map(|i| case("2026-10-03", "harassment", "en", Some(i)))
            .collect();
        cases.extend((0..4).map(|_| case("2026-10-04", "threats", "es", None)));
        cases.push(case("2026-11-01", "", "", Some(1)));
        let s = compute(&cases, None, None);
        assert_eq!(
            s.cells,
            vec![Cell {
                month: "2026-10".into(),
                category: "harassment".into(),
                state: "received".into(),
                language: "en".into(),
                count: 5,
            }]
        );
        assert_eq!(s.suppressed_cells, 2);
        assert_eq!(s.time_to_acknowledge.len(), 1, "November rests on one case");
        assert_eq!(s.time_to_acknowledge[0].p50_days, 2);
        assert_eq!(s.time_to_acknowledge[0].p90_days, 4);
        assert_eq!(
            s.cells_csv(),
            "month,category,state,language,count\n2026-10,harassment,received,en,5\n"
        );
    }

    #[test]
    fn the_range_is_inclusive_and_percentiles_use_the_nearest_rank() {
        let cases: Vec<CaseFacts> = (1..=10)
            .map(|d| case(&format!("2026-09-{d:02}"), "other", "de", Some(d)))
            .collect();
        let s = compute(&cases, Day::parse("2026-09-02"), Day::parse("2026-09-09"));
        assert_eq!(s.cells[0].count, 8);
        let a = &s.time_to_acknowledge[0];
        assert_eq!((a.acknowledged, a.p50_days, a.p90_days), (8, 5, 9));
        assert_eq!(percentile(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
        assert_eq!(percentile(&[7], 50), 7);
    }
}
