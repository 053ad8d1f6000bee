//! Refused input, kept with its reason so staff can fix and retry it.

use crate::lines::{LineOutcome, LineResult};
use crate::rows::insert_rows;
use crate::{Result, Store};
use ggzy_core::audit::sm3_hex;
use serde::Serialize;
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Reject {
    pub id: i64,
    pub source: String,
    pub line_no: Option<i64>,
    pub event_id: Option<String>,
    pub raw: String,
    pub code: String,
    pub locus: Option<String>,
    pub message: String,
    pub created_at: String,
    pub resolved_at: Option<String>,
    pub resolved_by: Option<String>,
}

/// A refused line to keep, as its row and its audit record hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kept {
    /// SM3 of the raw line, in hex.
    pub digest: String,
    pub line_no: i64,
    pub event_id: Option<String>,
    pub raw: String,
    pub code: &'static str,
    pub locus: Option<String>,
    pub message: String,
}

impl Kept {
    /// A refused line's row, or `None` for an outcome that is not kept.
    pub(crate) fn of(r: LineResult, raw: String) -> Option<Kept> {
        match r.outcome {
            LineOutcome::Refused { event_id, refusal } => Some(Kept {
                digest: sm3_hex(&raw),
                line_no: r.line as i64,
                event_id,
                raw,
                code: refusal.code(),
                locus: refusal.locus(),
                message: refusal.to_string(),
            }),
            _ => None,
        }
    }
}

/// The body of the audit record of a batch's refused lines (kind
/// [`KEPT`], subject the source): each line's digest, number, event id,
/// code and reason, so `verify` can hold the table to it.
pub(crate) fn kept_record(kept: &[Kept]) -> serde_json::Value {
    let rows: Vec<_> = kept
        .iter()
        .map(|k| serde_json::json!([k.digest, k.line_no, k.event_id, k.code, k.message]))
        .collect();
    serde_json::json!({ "rejects": rows })
}

/// The kind of the record of a batch's refused lines.
pub(crate) const KEPT: &str = "rejects.kept";
/// The kind of the record of a refused line corrected by a person.
pub(crate) const FIXED: &str = "reject.fixed";

/// Keep refused lines; the same line is kept once, with its latest reason.
pub(crate) async fn keep(
    conn: &mut SqliteConnection,
    source: &str,
    rejects: Vec<Kept>,
    at: &str,
) -> Result<()> {
    insert_rows(
        conn,
        "INSERT INTO rejects (digest, source, line_no, event_id, raw, code, locus, message, created_at) ",
        " ON CONFLICT (digest) DO UPDATE SET code = excluded.code, locus = excluded.locus, \
         message = excluded.message WHERE rejects.resolved_at IS NULL AND rejects.message <> excluded.message",
        rejects,
        |mut b, k| {
            b.push_bind(k.digest)
                .push_bind(source.to_owned())
                .push_bind(k.line_no)
                .push_bind(k.event_id)
                .push_bind(k.raw)
                .push_bind(k.code)
                .push_bind(k.locus)
                .push_bind(k.message)
                .push_bind(at.to_owned());
        },
    )
    .await
}

/// Mark open rejects resolved once an event with their id is accepted
/// (the corrected line came in), except id conflicts.
pub(crate) async fn resolve(
    conn: &mut SqliteConnection,
    accepted: &[String],
    at: &str,
) -> Result<()> {
    if accepted.is_empty() {
        return Ok(());
    }
    let open: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM rejects WHERE resolved_at IS NULL AND event_id IS NOT NULL)",
    )
    .fetch_one(&mut *conn)
    .await?;
    if !open {
        return Ok(());
    }
    for chunk in accepted.chunks(500) {
        let mut qb: QueryBuilder<'_, Sqlite> =
            QueryBuilder::new("UPDATE rejects SET resolved_at = ");
        qb.push_bind(at.to_owned())
            // An id conflict is never fixed by accepting that id: the id is what is taken.
            .push(", resolved_by = event_id WHERE resolved_at IS NULL AND code <> 'id_conflict' AND event_id IN ");
        qb.push_tuples(chunk, |mut b, id| {
            b.push_bind(id.as_str());
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Open rejects among these lines, by the SM3 of the line: (id, reason).
pub(crate) async fn open_by_digest<'a>(
    conn: &mut SqliteConnection,
    lines: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, (i64, String)>> {
    let open: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM rejects WHERE resolved_at IS NULL)")
            .fetch_one(&mut *conn)
            .await?;
    let mut out = HashMap::new();
    if !open {
        return Ok(out);
    }
    let digests: Vec<String> = lines.map(sm3_hex).collect();
    for chunk in digests.chunks(500) {
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "SELECT digest, id, message FROM rejects WHERE resolved_at IS NULL AND digest IN ",
        );
        qb.push_tuples(chunk, |mut b, d| {
            b.push_bind(d.as_str());
        });
        let rows: Vec<(String, i64, String)> = qb.build_query_as().fetch_all(&mut *conn).await?;
        out.extend(rows.into_iter().map(|(d, id, m)| (d, (id, m))));
    }
    Ok(out)
}

impl Store {
    /// Refused lines, oldest first; resolved ones only when asked.
    pub async fn rejects(&self, include_resolved: bool) -> Result<Vec<Reject>> {
        Ok(sqlx::query_as(
            "SELECT id, source, line_no, event_id, raw, code, locus, message, created_at, resolved_at, resolved_by \
             FROM rejects WHERE ? OR resolved_at IS NULL ORDER BY id",
        )
        .bind(include_resolved)
        .fetch_all(self.pool())
        .await?)
    }

    /// A page of open rejects, oldest first, and how many are open.
    pub async fn open_rejects(&self, offset: i64, limit: i64) -> Result<(Vec<Reject>, i64)> {
        let total = sqlx::query_scalar("SELECT count(*) FROM rejects WHERE resolved_at IS NULL")
            .fetch_one(self.pool())
            .await?;
        let page = sqlx::query_as(
            "SELECT id, source, line_no, event_id, raw, code, locus, message, created_at, resolved_at, resolved_by \
             FROM rejects WHERE resolved_at IS NULL ORDER BY id LIMIT ? OFFSET ?",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        Ok((page, total))
    }
}
