//! Days and states as SQLite stores them (feature `sql`): the same text as
//! on the wire, a [`Day`] as `YYYY-MM-DD` and a [`CaseState`] as its
//! [`CaseState::as_str`] name, so a database written before these types
//! crossed the boundary reads the same, byte for byte.
//!
//! A stored value that does not parse is a [`FromSqlError`] naming the
//! column's type, never the value: it may be whatever an operator planted.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::{CaseState, Day};

impl ToSql for Day {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.to_string()))
    }
}

impl FromSql for Day {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Day::parse(value.as_str()?)
            .ok_or_else(|| FromSqlError::Other("a stored day is not YYYY-MM-DD".into()))
    }
}

impl ToSql for CaseState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for CaseState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        CaseState::parse(value.as_str()?)
            .ok_or_else(|| FromSqlError::Other("a stored case state is not one Sotto knows".into()))
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value;
    use rusqlite::Connection;

    use super::*;

    /// Stores `v` and reads back both the stored text and the typed value.
    fn round_trip<T: ToSql + FromSql>(v: &T) -> (Value, T) {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v)").unwrap();
        conn.execute("INSERT INTO t (v) VALUES (?1)", [v]).unwrap();
        conn.query_row("SELECT v, v FROM t", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
    }

    /// Reads `stored` (an SQL literal) as a `T`.
    fn read<T: FromSql>(stored: &str) -> rusqlite::Result<T> {
        let conn = Connection::open_in_memory().unwrap();
        conn.query_row(&format!("SELECT {stored}"), [], |r| r.get(0))
    }

    #[test]
    fn a_day_is_stored_as_its_wire_text_and_reads_back() {
        for s in ["1970-01-01", "2000-02-29", "2026-11-22", "9999-12-31"] {
            let day = Day::parse(s).unwrap();
            assert_eq!(round_trip(&day), (Value::Text(s.to_owned()), day));
            assert_eq!(read::<Day>(&format!("'{s}'")).unwrap(), day);
        }
    }

    #[test]
    fn every_state_is_stored_as_its_wire_name_and_reads_back() {
        for s in CaseState::ALL {
            assert_eq!(round_trip(&s), (Value::Text(s.as_str().to_owned()), s));
        }
    }

    #[test]
    fn a_bad_stored_day_is_a_conversion_error_not_a_panic() {
        for bad in [
            "'2026-13-01'",
            "'2026-02-29'",
            "'2026-11-22T10:00:00Z'",
            "'10.20.30.40'",
            "''",
        ] {
            let err = read::<Day>(bad).unwrap_err();
            assert!(
                matches!(err, rusqlite::Error::FromSqlConversionFailure(..)),
                "{bad}: {err:?}"
            );
        }
        for not_text in ["20261122", "x'32303236'", "NULL"] {
            let err = read::<Day>(not_text).unwrap_err();
            assert!(
                matches!(err, rusqlite::Error::InvalidColumnType(..)),
                "{not_text}: {err:?}"
            );
        }
        assert_eq!(read::<Option<Day>>("NULL").unwrap(), None);
    }

    #[test]
    fn a_bad_stored_state_is_a_conversion_error_not_a_panic() {
        for bad in ["'open'", "'Received'", "'in_review'", "''"] {
            let err = read::<CaseState>(bad).unwrap_err();
            assert!(
                matches!(err, rusqlite::Error::FromSqlConversionFailure(..)),
                "{bad}: {err:?}"
            );
        }
        assert!(matches!(
            read::<CaseState>("3"),
            Err(rusqlite::Error::InvalidColumnType(..))
        ));
    }

    #[test]
    fn the_error_never_repeats_the_stored_value() {
        let err = read::<Day>("'reporter@example.org'").unwrap_err();
        assert!(!err.to_string().contains("example.org"), "{err}");
        let err = read::<CaseState>("'reporter@example.org'").unwrap_err();
        assert!(!err.to_string().contains("example.org"), "{err}");
    }
}
