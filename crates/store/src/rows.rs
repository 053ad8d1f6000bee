//! Rows as written, and the multi-row inserts that write them. One statement
//! carries many rows so a batch of events costs a handful of round trips;
//! rows are moved into the statement, never copied again.

use crate::Result;
use sm3::{Digest, Sm3};
use sqlx::query_builder::Separated;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

/// Rows per INSERT statement; well under SQLite's bound-parameter limit.
const CHUNK: usize = 200;

/// Insert `rows` with `INSERT INTO <head> VALUES (...), (...) <tail>`, chunked.
pub(crate) async fn insert_rows<T>(
    conn: &mut SqliteConnection,
    head: &str,
    tail: &str,
    rows: Vec<T>,
    bind: impl FnMut(Separated<'_, 'static, Sqlite, &'static str>, T) + Copy,
) -> Result<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<T> = rows.by_ref().take(CHUNK).collect();
        // Only full chunks repeat: a short one is not worth a prepared-statement cache slot.
        let repeats = chunk.len() == CHUNK;
        let mut qb: QueryBuilder<'static, Sqlite> = QueryBuilder::new(head);
        qb.push_values(chunk, bind);
        qb.push(tail);
        qb.build().persistent(repeats).execute(&mut *conn).await?;
    }
    Ok(())
}

pub(crate) struct EventRow {
    pub id: String,
    pub kind: &'static str,
    pub at: String,
    pub project: Option<String>,
    pub body: String,
    pub digest: String,
    pub origin_seq: i64,
}

pub(crate) struct PushRow {
    pub id: String,
    pub event_id: String,
    pub project: Option<String>,
    pub rule: &'static str,
    pub clause: &'static str,
    pub role: &'static str,
    pub recipient_id: String,
    pub recipient_name: String,
    pub channel: &'static str,
    pub address: String,
    pub text: String,
    pub secret: Option<&'static str>,
    pub origin_seq: i64,
}

/// SM3 over a push's immutable content, as the audit record holds it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn push_digest(
    id: &str,
    event_id: &str,
    rule: &str,
    role: &str,
    recipient_id: &str,
    recipient_name: &str,
    channel: &str,
    address: &str,
    text: &str,
    secret: Option<&str>,
) -> String {
    let mut h = Sm3::new();
    let fields = [
        id,
        event_id,
        rule,
        role,
        recipient_id,
        recipient_name,
        channel,
        address,
        text,
    ];
    for f in fields.into_iter().chain(secret) {
        h.update(f.as_bytes());
        h.update([0x1f]); // unit separator: fields cannot run into each other
    }
    format!("{:x}", h.finalize())
}

impl PushRow {
    pub fn digest(&self) -> String {
        push_digest(
            &self.id,
            &self.event_id,
            self.rule,
            self.role,
            &self.recipient_id,
            &self.recipient_name,
            self.channel,
            &self.address,
            &self.text,
            self.secret,
        )
    }
}

pub(crate) async fn insert_events(
    conn: &mut SqliteConnection,
    rows: Vec<EventRow>,
    source: &str,
    device: i64,
    received_at: &str,
) -> Result<()> {
    insert_rows(
        conn,
        "INSERT INTO events (id, type, at, project, body, digest, source, received_at, origin_device, origin_seq) ",
        "",
        rows,
        |mut b, r| {
            b.push_bind(r.id)
                .push_bind(r.kind)
                .push_bind(r.at)
                .push_bind(r.project)
                .push_bind(r.body)
                .push_bind(r.digest)
                .push_bind(source.to_owned())
                .push_bind(received_at.to_owned())
                .push_bind(device)
                .push_bind(r.origin_seq);
        },
    )
    .await
}

pub(crate) async fn insert_pushes(
    conn: &mut SqliteConnection,
    rows: Vec<PushRow>,
    device: i64,
) -> Result<()> {
    insert_rows(
        conn,
        "INSERT INTO pushes (id, event_id, project, rule, clause, recipient_role, recipient_id, recipient_name, \
         channel, address, text, secret, origin_device, origin_seq) ",
        "",
        rows,
        |mut b, r| {
            b.push_bind(r.id)
                .push_bind(r.event_id)
                .push_bind(r.project)
                .push_bind(r.rule)
                .push_bind(r.clause)
                .push_bind(r.role)
                .push_bind(r.recipient_id)
                .push_bind(r.recipient_name)
                .push_bind(r.channel)
                .push_bind(r.address)
                .push_bind(r.text)
                .push_bind(r.secret)
                .push_bind(device)
                .push_bind(r.origin_seq);
        },
    )
    .await
}
