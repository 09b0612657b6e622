//! Desks (`desks`) and their own deadlines (`desk_deadlines`): the
//! public names reports are made to, and how fast each must answer.

use rusqlite::{params, OptionalExtension};
use sotto_tlog::leaf::Kind;
use sotto_wire::Day;

use crate::{log, Result, Store, StoreError};

/// A desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desk {
    /// Row id.
    pub id: i64,
    /// Public name.
    pub name: String,
    /// Public description.
    pub description: String,
}

/// A desk's own deadlines (`desk_deadlines`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeskDeadlines {
    /// Days to acknowledge a new report.
    pub acknowledge_days: i64,
    /// Days between updates owed to the reporter.
    pub update_days: i64,
    /// Months from the acknowledgement to the reporter's feedback.
    pub feedback_months: i64,
}

impl Store {
    /// All desks, by name.
    pub fn desks(&self) -> Result<Vec<Desk>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, description FROM desks ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(Desk {
                id: r.get(0)?,
                name: r.get(1)?,
                description: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The desk with this name.
    pub fn desk_by_name(&self, name: &str) -> Result<Desk> {
        self.conn
            .prepare_cached("SELECT id, name, description FROM desks WHERE name = ?1")?
            .query_row([name], |r| {
                Ok(Desk {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    description: r.get(2)?,
                })
            })
            .optional()?
            .ok_or(StoreError::NotFound)
    }

    /// Creates a desk (and logs it). `Conflict` if the name is taken.
    pub fn insert_desk(&mut self, name: &str, description: &str, day: Day) -> Result<Desk> {
        self.write(|tx| {
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM desks WHERE name = ?1)",
                [name],
                |r| r.get(0),
            )?;
            if taken {
                return Err(StoreError::Conflict("a desk with that name exists"));
            }
            tx.execute(
                "INSERT INTO desks (name, description, created_on) VALUES (?1, ?2, ?3)",
                params![name, description, day],
            )?;
            let id = tx.last_insert_rowid();
            log::append(tx, &log::NewEvent::desk(Kind::DeskCreated, day, id, None))?;
            Ok(Desk {
                id,
                name: name.to_owned(),
                description: description.to_owned(),
            })
        })
    }

    /// The desk with this name, created if missing (the `default` desk on first start).
    pub fn ensure_desk(&mut self, name: &str, description: &str, day: Day) -> Result<Desk> {
        match self.desk_by_name(name) {
            Err(StoreError::NotFound) => self.insert_desk(name, description, day),
            other => other,
        }
    }

    /// A desk's own deadlines, if the operator set them.
    pub fn desk_deadlines(&self, desk_id: i64) -> Result<Option<DeskDeadlines>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT acknowledge_days, update_days, feedback_months
                 FROM desk_deadlines WHERE desk_id = ?1",
            )?
            .query_row([desk_id], |r| {
                Ok(DeskDeadlines {
                    acknowledge_days: r.get(0)?,
                    update_days: r.get(1)?,
                    feedback_months: r.get(2)?,
                })
            })
            .optional()?)
    }

    /// Takes a desk back to the server's default deadlines.
    pub fn clear_desk_deadlines(&mut self, desk_id: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM desk_deadlines WHERE desk_id = ?1", [desk_id])?;
            Ok(())
        })
    }

    /// Every desk with deadlines of its own, by name.
    pub fn all_desk_deadlines(&self) -> Result<Vec<(String, DeskDeadlines)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT d.name, x.acknowledge_days, x.update_days, x.feedback_months
             FROM desk_deadlines x JOIN desks d ON d.id = x.desk_id ORDER BY d.name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                DeskDeadlines {
                    acknowledge_days: r.get(1)?,
                    update_days: r.get(2)?,
                    feedback_months: r.get(3)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Sets a desk's deadlines, replacing those before. They apply to every
    /// open case of the desk from now on (they are settings, not history).
    pub fn set_desk_deadlines(&mut self, desk_id: i64, d: &DeskDeadlines) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO desk_deadlines (desk_id, acknowledge_days, update_days, feedback_months)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (desk_id) DO UPDATE SET acknowledge_days = ?2, update_days = ?3,
                                                     feedback_months = ?4",
                params![desk_id, d.acknowledge_days, d.update_days, d.feedback_months],
            )?;
            Ok(())
        })
    }
}
