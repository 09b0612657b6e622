//! The schema check: the database has exactly the tables, columns, indexes
//! and triggers of `schema.sql`, statement by statement, at this version.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;

use super::Audit;
use crate::{StoreError, SCHEMA_VERSION};

const WHY_SCHEMA: &str = "the schema is the list of what may be stored; anything else could hold identifying data, and a changed trigger lets history be rewritten";

fn objects(conn: &Connection) -> rusqlite::Result<BTreeMap<(String, String), String>> {
    let mut stmt = conn.prepare(
        "SELECT type, name, coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
    )?;
    let rows = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
    rows.collect()
}

fn normalize(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}
/// Whether every documented table exists with every documented column.
pub(super) fn tables_usable(conn: &Connection, mem: &Connection) -> Result<bool, StoreError> {
    let columns = |c: &Connection, t: &str| -> rusqlite::Result<BTreeSet<String>> {
        c.prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))?
            .query_map([], |r| r.get(0))?
            .collect()
    };
    let tables: Vec<String> = mem
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for t in tables {
        if !columns(mem, &t)?.is_subset(&columns(conn, &t)?) {
            return Ok(false);
        }
    }
    Ok(true)
}
pub(super) fn check_schema(
    conn: &Connection,
    documented: &Connection,
    a: &mut Audit,
) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version != SCHEMA_VERSION {
        a.add(
            "schema",
            "PRAGMA user_version",
            format!("version {version}, expected {SCHEMA_VERSION}"),
            WHY_SCHEMA,
        );
    }
    let want = objects(documented)?;
    let have = objects(conn)?;
    for ((kind, name), sql) in &have {
        match want.get(&(kind.clone(), name.clone())) {
            None => {
                a.add(
                    "schema",
                    format!("{kind} {name}"),
                    format!("a {kind} that schema.sql does not define"),
                    WHY_SCHEMA,
                );
            }
            Some(w) if normalize(w) != normalize(sql) => {
                a.add(
                    "schema",
                    format!("{kind} {name}"),
                    format!("defined differently from schema.sql: {}", normalize(sql)),
                    WHY_SCHEMA,
                );
            }
            Some(_) => {}
        }
    }
    for (kind, name) in want.keys() {
        if !have.contains_key(&(kind.clone(), name.clone())) {
            a.add(
                "schema",
                format!("{kind} {name}"),
                format!("the {kind} is missing"),
                WHY_SCHEMA,
            );
        }
    }
    Ok(())
}
