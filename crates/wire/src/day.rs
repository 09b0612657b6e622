//! UTC calendar days. Sotto never stores or sends a time of day: a day is
//! coarse enough that it does not date a report to the minute.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A UTC calendar day, as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i64);

impl Day {
    /// The day `unix_seconds` falls on, in UTC.
    pub fn from_unix(unix_seconds: i64) -> Self {
        Self(unix_seconds.div_euclid(86_400))
    }

    /// Today, by the system clock, shifted by `offset_days` (tests move time).
    pub fn today(offset_days: i64) -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Self(Self::from_unix(secs).0 + offset_days)
    }

    /// `n` days later.
    pub fn plus(self, n: i64) -> Self {
        Self(self.0 + n)
    }

    /// The same day of the month `n` months later, or the month's last day
    /// when it is shorter (31 January plus one month is 28 or 29 February):
    /// never later than the calendar says, as a legal deadline needs.
    pub fn plus_months(self, n: i64) -> Self {
        let (y, m, d) = self.civil();
        let months = y * 12 + (m - 1) + n;
        let (y, m) = (months.div_euclid(12), months.rem_euclid(12) + 1);
        Self(days_from_civil(y, m, d.min(days_in_month(y, m))))
    }

    /// Days from `self` to `later`.
    pub fn days_until(self, later: Day) -> i64 {
        later.0 - self.0
    }

    /// Parses `YYYY-MM-DD` (a real date, four-digit year).
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = s.get(r)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
            return None;
        }
        Some(Self(days_from_civil(y, m, d)))
    }

    /// Year, month, day.
    pub fn civil(self) -> (i64, i64, i64) {
        civil_from_days(self.0)
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil-calendar algorithms (public domain), proleptic Gregorian.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Day::parse(&s).ok_or_else(|| serde::de::Error::custom("expected a day, YYYY-MM-DD"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_days_convert_both_ways() {
        assert_eq!(Day::from_unix(0).to_string(), "1970-01-01");
        assert_eq!(Day::from_unix(951_782_400).to_string(), "2000-02-29");
        assert_eq!(Day::from_unix(1_795_305_600).to_string(), "2026-11-22");
        assert_eq!(Day::from_unix(-1).to_string(), "1969-12-31");
        assert_eq!(
            Day::parse("2026-11-22"),
            Some(Day::from_unix(1_795_305_600))
        );
    }

    #[test]
    fn every_day_for_a_thousand_years_round_trips() {
        let start = Day::parse("1600-01-01").unwrap();
        for i in 0..366_000 {
            let d = start.plus(i);
            assert_eq!(Day::parse(&d.to_string()), Some(d));
        }
    }

    #[test]
    fn months_end_on_the_same_day_or_the_months_last() {
        let d = |s: &str| Day::parse(s).unwrap();
        assert_eq!(d("2026-11-22").plus_months(3), d("2027-02-22"));
        assert_eq!(d("2026-11-30").plus_months(3), d("2027-02-28"));
        assert_eq!(d("2027-11-30").plus_months(3), d("2028-02-29"));
        assert_eq!(d("2026-01-31").plus_months(1), d("2026-02-28"));
        assert_eq!(d("2026-12-15").plus_months(12), d("2027-12-15"));
        assert_eq!(d("2026-05-31").plus_months(0), d("2026-05-31"));
    }

    #[test]
    fn impossible_or_precise_dates_are_refused() {
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-11-31",
            "2026-11-22T10:00",
            "26-11-22",
            "2026/11/22",
            "+026-11-22",
            "",
        ] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
        assert!(Day::parse("2024-02-29").is_some());
    }
}
