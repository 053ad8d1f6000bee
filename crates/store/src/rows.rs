//! Rows as written, and the multi-row inserts that write them. One statement
//! carries many rows so a batch of events costs a handful of round trips;
//! rows are moved into the statement, never copied again. Statements can be
//! built ahead (pure work, any thread) and run later, so the connection's
//! thread never waits while the next statement is put together.

use crate::Result;
use ggzy_core::audit::Hash;
use ggzy_core::render::Message;
use sqlx::query_builder::Separated;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use uuid::Uuid;

/// Rows per INSERT statement; well under SQLite's bound-parameter limit.
const CHUNK: usize = 200;

/// A statement built ahead, and whether its SQL repeats (worth a prepared-statement cache slot).
pub(crate) type Built = (QueryBuilder<'static, Sqlite>, bool);

/// Build `INSERT INTO <head> VALUES (...), (...) <tail>` for `rows`, chunked.
pub(crate) fn build_rows<T>(
    out: &mut Vec<Built>,
    head: &str,
    tail: &str,
    rows: Vec<T>,
    bind: impl FnMut(Separated<'_, 'static, Sqlite, &'static str>, T) + Copy,
) {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<T> = rows.by_ref().take(CHUNK).collect();
        // Only full chunks repeat: a short one is not worth a cache slot.
        let repeats = chunk.len() == CHUNK;
        let mut qb: QueryBuilder<'static, Sqlite> = QueryBuilder::new(head);
        qb.push_values(chunk, bind);
        qb.push(tail);
        out.push((qb, repeats));
    }
}

/// Run statements built ahead, in order.
pub(crate) async fn run(conn: &mut SqliteConnection, built: Vec<Built>) -> Result<()> {
    for (mut qb, repeats) in built {
        qb.build().persistent(repeats).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Insert `rows` with `INSERT INTO <head> VALUES (...), (...) <tail>`, chunked.
pub(crate) async fn insert_rows<T>(
    conn: &mut SqliteConnection,
    head: &str,
    tail: &str,
    rows: Vec<T>,
    bind: impl FnMut(Separated<'_, 'static, Sqlite, &'static str>, T) + Copy,
) -> Result<()> {
    let mut built = Vec::new();
    build_rows(&mut built, head, tail, rows, bind);
    run(conn, built).await
}

pub(crate) struct EventRow {
    pub no: i64,
    pub id: String,
    pub project: Option<String>,
    pub body: String,
    pub digest: Hash,
    pub origin_seq: i64,
}

pub(crate) struct PushRow {
    pub id: Uuid,
    /// Its event's local number.
    pub event: i64,
    pub rule: &'static str,
    pub role: &'static str,
    pub recipient_id: String,
    pub recipient_name: String,
    pub channel: &'static str,
    pub address: String,
    /// The number of its message (see `messages`).
    pub message: i64,
    pub secret: Option<&'static str>,
}

pub(crate) use ggzy_core::audit::push_digest;

impl PushRow {
    pub fn digest(&self, event_id: &str, head: &str, body: &Hash) -> Hash {
        push_digest(
            &self.id,
            event_id,
            self.rule,
            self.role,
            &self.recipient_id,
            &self.recipient_name,
            self.channel,
            &self.address,
            (head, body),
            self.secret,
        )
    }
}

pub(crate) fn build_events(
    out: &mut Vec<Built>,
    rows: Vec<EventRow>,
    source: &str,
    device: i64,
    received_at: &str,
) {
    build_rows(
        out,
        "INSERT INTO events (no, id, project, body, digest, source, received_at, origin_device, origin_seq) ",
        "",
        rows,
        |mut b, r| {
            b.push_bind(r.no)
                .push_bind(r.id)
                .push_bind(r.project)
                .push_bind(r.body)
                .push_bind(r.digest.to_vec())
                .push_bind(source.to_owned())
                .push_bind(received_at.to_owned())
                .push_bind(device)
                .push_bind(r.origin_seq);
        },
    );
}

/// Pushes carry no origin of their own: they travel with their event.
pub(crate) fn build_pushes(out: &mut Vec<Built>, rows: Vec<PushRow>) {
    build_rows(
        out,
        "INSERT INTO pushes (id, event, rule, recipient_role, recipient_id, recipient_name, \
         channel, address, message, secret) ",
        "",
        rows,
        |mut b, r| {
            b.push_bind(r.id)
                .push_bind(r.event)
                .push_bind(r.rule)
                .push_bind(r.role)
                .push_bind(r.recipient_id)
                .push_bind(r.recipient_name)
                .push_bind(r.channel)
                .push_bind(r.address)
                .push_bind(r.message)
                .push_bind(r.secret);
        },
    );
}

pub(crate) fn build_messages(out: &mut Vec<Built>, rows: Vec<(i64, Message)>) {
    build_rows(
        out,
        "INSERT INTO messages (no, head, body) ",
        "",
        rows,
        |mut b, (no, m)| {
            b.push_bind(no).push_bind(m.head).push_bind(m.body);
        },
    );
}
