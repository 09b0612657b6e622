//! A message's direction as `messages.direction` holds it: its wire name,
//! `reporter` or `desk`. [`Direction`] lives with the signatures that
//! commit to it (`sotto-envelope`, which knows nothing of SQLite), so the
//! store converts it through this wrapper.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use sotto_envelope::sign::Direction;

/// A [`Direction`] on its way into or out of the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoredDirection(pub(crate) Direction);

impl ToSql for StoredDirection {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.as_str()))
    }
}

impl FromSql for StoredDirection {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Direction::parse(value.as_str()?)
            .map(Self)
            .ok_or_else(|| FromSqlError::Other("a stored direction is not reporter or desk".into()))
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value;
    use rusqlite::Connection;

    use super::*;

    #[test]
    fn both_directions_are_stored_as_their_wire_names_and_read_back() {
        let conn = Connection::open_in_memory().unwrap();
        for (d, name) in [
            (Direction::FromReporter, "reporter"),
            (Direction::FromDesk, "desk"),
        ] {
            let (stored, back): (Value, StoredDirection) = conn
                .query_row("SELECT ?1, ?1", [StoredDirection(d)], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .unwrap();
            assert_eq!(stored, Value::Text(name.to_owned()));
            assert_eq!(back, StoredDirection(d));
        }
    }

    #[test]
    fn a_bad_stored_direction_is_a_conversion_error_not_a_panic() {
        let conn = Connection::open_in_memory().unwrap();
        let read = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, StoredDirection>(0));
        for bad in ["SELECT 'Reporter'", "SELECT 'operator'", "SELECT ''"] {
            assert!(
                matches!(
                    read(bad),
                    Err(rusqlite::Error::FromSqlConversionFailure(..))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            read("SELECT 1"),
            Err(rusqlite::Error::InvalidColumnType(..))
        ));
    }
}
