//! The pushes as people read them: the log with its filters and pages, a
//! staff member's inbox, a push's status history. The claim/finish cycle a
//! dispatcher runs is the outbox (`outbox.rs`).

use crate::{Result, Store};
use futures_util::TryStreamExt;
use ggzy_core::push::{Channel, PushStatus};
use ggzy_core::role::Role;
use serde::Serialize;
use sqlx::{FromRow, QueryBuilder, Sqlite};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Push {
    /// Local queue order: what a worker claims and finishes by.
    pub no: i64,
    /// The idempotency key, the same on every device.
    pub id: uuid::Uuid,
    pub event_id: String,
    pub project: Option<String>,
    pub rule: String,
    pub clause: String,
    #[sqlx(try_from = "String")]
    pub recipient_role: Role,
    pub recipient_id: String,
    pub recipient_name: String,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    pub address: String,
    pub text: String,
    pub secret: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: PushStatus,
    pub attempts: i64,
    /// Re-drives so far: the push is sent under its series' key (see [`Due::send_key`]).
    pub series: i64,
    pub next_attempt_at: Option<String>,
    /// When its event was received: a push is queued with its event.
    pub created_at: String,
    pub updated_at: String,
    /// Why this desktop does not send it, if it does not.
    #[sqlx(try_from = "Held")]
    pub held: Option<ggzy_core::push::Hold>,
    /// Its status changes, oldest first (filled where a page shows them: the timeline).
    #[sqlx(skip)]
    pub history: Vec<StatusChange>,
}

/// One status change of a push, from `push_status` (each covered by an audit record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct StatusChange {
    pub push_no: i64,
    #[sqlx(try_from = "String")]
    pub status: PushStatus,
    pub detail: Option<String>,
    pub at: String,
}

/// Where push `p` stands, its state `s` if it has one: a push with none yet
/// is being sent at or below the outbox cursor (claimed in a leased range,
/// see `claim_due`) and queued above it; one this desktop holds (another
/// device's, or a stale action's) is queued wherever it stands.
macro_rules! status {
    () => {
        "coalesce(s.status, CASE WHEN p.no <= (SELECT CAST(value AS INTEGER) FROM meta \
         WHERE key = 'outbox_cursor') AND NOT EXISTS (SELECT 1 FROM push_holds h WHERE h.push_no = p.no) \
         THEN 'sending' ELSE 'queued' END)"
    };
}

/// A `push_holds.why` read back (NULL: not held).
#[derive(sqlx::Type)]
#[sqlx(transparent)]
pub struct Held(Option<String>);

impl TryFrom<Held> for Option<ggzy_core::push::Hold> {
    type Error = ggzy_core::model::UnknownCode;
    fn try_from(h: Held) -> Result<Self, Self::Error> {
        h.0.map(ggzy_core::push::Hold::try_from).transpose()
    }
}
pub(crate) use status;

/// A staff member's own pushes: exactly the predicate of the partial index
/// `pushes_staff` (migration 0012), so the planner uses it.
const STAFF: &str = "(p.recipient_role = 'center_staff' OR p.recipient_role = 'supervisor_staff' \
     OR p.recipient_role = 'supervisor')";

/// A push row with its text, state and its event's receipt time; `p` is
/// pushes, `e` its event, `s` its state (none while queued or in a leased range).
const SELECT: &str = concat!(
    "SELECT p.no, p.id, e.id AS event_id, e.project, p.rule, p.clause, p.recipient_role, p.recipient_id, \
    p.recipient_name, p.channel, p.address, m.head || p.recipient_name || m.body AS text, p.secret, ",
    status!(),
    " AS status, coalesce(s.attempts, 0) AS attempts, coalesce(s.series, 0) AS series, s.next_attempt_at, \
    e.received_at AS created_at, coalesce(s.updated_at, e.received_at) AS updated_at, \
    (SELECT CASE WHEN h.why = 'remote' AND e.origin_device = \
       (SELECT n FROM devices WHERE id = '67677a79-7365-7276-6572-000000000001' /* SERVER_DEVICE */) \
       THEN 'server' ELSE h.why END FROM push_holds h WHERE h.push_no = p.no) AS held \
    FROM pushes p JOIN events e ON e.no = p.event \
    JOIN messages m ON m.no = p.message LEFT JOIN push_states s ON s.push_no = p.no"
);

#[derive(Debug, Clone, Default)]
pub struct PushFilter {
    pub project: Option<String>,
    pub event_id: Option<String>,
}

/// A page of the push log, newest first, by filters that each narrow it.
#[derive(Debug, Clone, Default)]
pub struct PushQuery {
    pub clause: Option<String>,
    pub status: Option<PushStatus>,
    pub channel: Option<Channel>,
    pub project: Option<String>,
    /// Received on or after this day (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Received on or before this day.
    pub to: Option<String>,
    /// A staff member's own pushes (their inbox): username.
    pub staff: Option<String>,
    /// Older than this push number (the previous page's `next_before`).
    pub before: Option<i64>,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushPage {
    pub items: Vec<Push>,
    /// Where the next (older) page starts; `None` on the last page.
    pub next_before: Option<i64>,
}

/// Pushes a filtered log page looks through at most: a filter that matches
/// little returns what this stretch holds and where to go on, rather than
/// walking two million pushes for one page.
pub const LOG_WINDOW: i64 = 100_000;

impl Store {
    /// Visit pushes in the order they were queued, streaming. A filter goes
    /// through the events that caused the pushes (indexed by project and id).
    pub async fn for_each_push(&self, filter: &PushFilter, mut f: impl FnMut(Push)) -> Result<u64> {
        // Only the filters given, so SQLite can use the events' project and id indexes.
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(SELECT);
        let mut joiner = " WHERE ";
        if let Some(project) = &filter.project {
            qb.push(joiner)
                .push("e.project = ")
                .push_bind(project.as_str());
            joiner = " AND ";
        }
        if let Some(event_id) = &filter.event_id {
            qb.push(joiner).push("e.id = ").push_bind(event_id.as_str());
        }
        qb.push(" ORDER BY p.no");
        let mut rows = qb.build_query_as::<Push>().fetch(self.pool());
        let mut n = 0;
        while let Some(p) = rows.try_next().await? {
            f(p);
            n += 1;
        }
        Ok(n)
    }

    /// One page of the log. Pages by push number, never by offset, so a page
    /// deep in two million pushes costs what the first does.
    pub async fn push_log(&self, q: &PushQuery) -> Result<PushPage> {
        let limit = q.limit.clamp(1, 200);
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(SELECT);
        qb.push(" WHERE 1 = 1");
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        if let Some(before) = q.before {
            qb.push(" AND p.no < ").push_bind(before);
        }
        // The inbox goes through its own index; the log looks through a window.
        let floor = if q.staff.is_none() {
            let top = match q.before {
                Some(b) => b,
                None => {
                    sqlx::query_scalar::<_, i64>("SELECT coalesce(max(no), 0) + 1 FROM pushes")
                        .fetch_one(self.pool())
                        .await?
                }
            };
            let floor = (top - LOG_WINDOW).max(0);
            qb.push(" AND p.no >= ").push_bind(floor);
            floor
        } else {
            0
        };
        if let Some(clause) = text(&q.clause) {
            qb.push(" AND p.clause = ").push_bind(clause);
        }
        if let Some(status) = q.status {
            qb.push(concat!(" AND ", status!(), " = "))
                .push_bind(status.as_str());
        }
        if let Some(channel) = q.channel {
            qb.push(" AND p.channel = ").push_bind(channel.as_str());
        }
        if let Some(project) = text(&q.project) {
            qb.push(" AND e.project = ").push_bind(project);
        }
        if let Some(from) = text(&q.from) {
            qb.push(" AND substr(e.received_at, 1, 10) >= ")
                .push_bind(from);
        }
        if let Some(to) = text(&q.to) {
            qb.push(" AND substr(e.received_at, 1, 10) <= ")
                .push_bind(to);
        }
        if let Some(staff) = text(&q.staff) {
            qb.push(" AND p.recipient_id = ")
                .push_bind(staff)
                .push(" AND ")
                .push(STAFF);
        }
        qb.push(" ORDER BY p.no DESC LIMIT ").push_bind(limit + 1);
        let mut items: Vec<Push> = qb.build_query_as().fetch_all(self.pool()).await?;
        let next_before = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|p| p.no)
        } else if floor > 1 {
            // Fewer than a page in this window: older pushes remain to look through.
            Some(floor)
        } else {
            None
        };
        Ok(PushPage { items, next_before })
    }

    /// A staff member's unread pushes: how many, and the newest one's number.
    pub async fn inbox_unread(&self, username: &str) -> Result<(i64, Option<i64>)> {
        Ok(sqlx::query_as(
            "SELECT count(*), max(no) FROM pushes WHERE recipient_id = ?1 \
             AND (recipient_role = 'center_staff' OR recipient_role = 'supervisor_staff' \
               OR recipient_role = 'supervisor') \
             AND no > coalesce((SELECT read_upto FROM inbox_reads WHERE username = ?1), 0)",
        )
        .bind(username)
        .fetch_one(self.pool())
        .await?)
    }

    /// Everything up to push `upto` has been read.
    pub async fn mark_inbox_read(&self, username: &str, upto: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO inbox_reads (username, read_upto) VALUES (?1, ?2) \
             ON CONFLICT (username) DO UPDATE SET read_upto = max(read_upto, ?2)",
        )
        .bind(username)
        .bind(upto)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn pushes(&self, filter: &PushFilter) -> Result<Vec<Push>> {
        let mut out = Vec::new();
        self.for_each_push(filter, |p| out.push(p)).await?;
        Ok(out)
    }

    /// The status changes of these pushes, oldest first.
    pub async fn push_history(&self, nos: &[i64]) -> Result<Vec<StatusChange>> {
        Ok(sqlx::query_as(
            "SELECT push_no, status, detail, at FROM push_status \
             WHERE push_no IN (SELECT value FROM json_each(?)) ORDER BY id",
        )
        .bind(serde_json::to_string(nos).expect("numbers"))
        .fetch_all(self.pool())
        .await?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_servers_series_is_the_one_core_names() {
        let server = ggzy_core::sync::SERVER_DEVICE.to_string();
        assert!(super::SELECT.contains(&server), "{server}");
    }
}
