//! Other devices' records, applied here a page at a time, each page and
//! the cursor after it in one transaction: a page is applied whole or not
//! at all, and the cursor (`meta sync_downloaded`) is never ahead of what
//! is here.
//!
//! Each record goes into its device's chain here, which it must continue
//! exactly; what it records follows it. An accepted event is stored with
//! the pushes its record carries (never decided again: they are what its
//! device decided and may have sent) and folded into the projections in
//! the order (`fold`); another device's pushes are held from this
//! desktop's dispatcher, and their status records move their states. This
//! desktop's own records coming back down only take their places.
//!
//! A page is read in a few queries (what it refers to), checked and decided
//! in memory, and written in a few multi-row statements: a fresh desktop
//! takes hundreds of thousands of records.

use crate::audit::{save_head, EVENT_ACCEPTED, PUSH_STATUS, RESOLVED};
use crate::conflicts::record_resolution;
use crate::fold::{fold_all, Derived, Stale};
use crate::rows::{run, Built};
use crate::{now, Result, Store, StoreError};
use ggzy_core::audit::{sm3, Hash, GENESIS};
use ggzy_core::error::ErrorCode;
use ggzy_core::event::Envelope;
use ggzy_core::push::PushStatus;
use ggzy_core::sync::{CarriedPush, Checked, Placed, SERVER_DEVICE};
use sqlx::SqliteConnection;
use std::collections::{HashMap, HashSet};

/// What applying a page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Other devices' records new here.
    pub records: u64,
    /// Of them, accepted events.
    pub events: u64,
    /// Actions the order found stale on this page (see `conflicts`).
    pub conflicts: u64,
    /// The cursor after the page.
    pub cursor: i64,
}

impl Store {
    /// The place in the server's global order this desktop has applied
    /// everything up to.
    pub async fn downloaded(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(CURSOR).fetch_one(self.pool()).await?)
    }

    /// Open conflicts: actions the order found stale, for staff to resolve.
    pub async fn conflicts_open(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM conflicts c WHERE NOT EXISTS (SELECT 1 FROM conflict_resolutions r \
             WHERE r.origin_device = c.origin_device AND r.origin_seq = c.origin_seq)",
        )
        .fetch_one(self.pool())
        .await?)
    }

    /// Apply a page of the global order (checked: `Page::check`), with the
    /// cursor after it, in one transaction. Records at or before the cursor
    /// are skipped (a page asked again); a page that does not start right
    /// after the cursor, or a record that does not continue its device's
    /// chain here, refuses the whole page.
    pub async fn apply_page(&self, checked: &Checked) -> Result<Applied> {
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let cursor: i64 = sqlx::query_scalar(CURSOR).fetch_one(&mut *conn).await?;
        let page = checked.page();
        let fresh: Vec<&Placed> = page.records.iter().filter(|p| p.gseq > cursor).collect();
        let mut applied = Applied {
            cursor: fresh.last().map_or(cursor, |p| p.gseq),
            ..Applied::default()
        };
        let Some(first) = fresh.first() else {
            return Ok(applied);
        };
        // The server numbers its global order without a gap.
        if first.gseq != cursor + 1 {
            return Err(StoreError::invalid(
                ErrorCode::Corrupt,
                format!(
                    "同步服务器的下载页从全局第 {} 条开始，本机已取到第 {cursor} 条：中间的记录缺失，同步已停止，请联系服务器管理员",
                    first.gseq
                ),
            ));
        }
        let mut a = Applying::begin(conn, self.device_n(), &fresh).await?;
        for (placed, env) in checked.records().filter(|p| p.0.gseq > cursor) {
            a.place(placed, env, &mut applied)?;
        }
        applied.conflicts += a.finish(conn).await?;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('sync_downloaded', CAST(?1 AS TEXT)) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(applied.cursor)
        .execute(&mut *conn)
        .await?;
        tx.commit().await?;
        Ok(applied)
    }
}

const CURSOR: &str =
    "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'sync_downloaded'), 0)";

/// A page being applied: what it refers to, read before; the rows it adds,
/// written after.
struct Applying {
    own: i64,
    /// Device id -> local number.
    devices: HashMap<uuid::Uuid, i64>,
    /// Device number -> its chain's head here, as the page moves it.
    heads: HashMap<i64, (i64, Hash)>,
    /// The page's records already here: (device, seq) -> hash.
    held: HashMap<(i64, i64), Vec<u8>>,
    /// The page's event ids already accepted here (or earlier on the page).
    taken: HashSet<String>,
    /// Another device's pushes here (or earlier on the page), by id.
    remote: HashMap<uuid::Uuid, i64>,
    /// This desktop's pushes handed to the server that the page's status
    /// records name: id -> number here.
    handed: HashMap<uuid::Uuid, i64>,
    /// The last of this desktop's records the server has placed so far.
    own_placed: i64,
    /// This desktop's last accepted event's record.
    own_last_event: i64,
    /// Another device's events, in the order, to fold after what is here.
    fold: Vec<(i64, i64, Envelope)>,
    /// One of them landed before an event of this desktop's: fold all again.
    refold: bool,
    next_event: i64,
    next_message: i64,
    next_push: i64,
    at: String,
    rows: Rows,
}

/// The rows a page adds.
#[derive(Default)]
struct Rows {
    records: Vec<(i64, i64, String, Hash, Hash)>,
    placed: Vec<(i64, i64, i64)>,
    events: Vec<EventRow>,
    messages: Vec<(i64, String, String)>,
    /// no, event no, message no, the push.
    pushes: Vec<(i64, i64, i64, CarriedPush)>,
    /// device, seq, event id, why, when.
    duplicates: Vec<(i64, i64, String, String, String)>,
    /// push no, status, detail, at, device, seq.
    statuses: Vec<(i64, PushStatus, String, String, i64, i64)>,
    resolutions: Vec<Resolution>,
}

/// Another device's accepted event, as `events` keeps it.
struct EventRow {
    no: i64,
    id: String,
    project: Option<String>,
    body: String,
    source: String,
    received_at: String,
    device: i64,
    seq: i64,
}

/// A conflict resolved on another device.
struct Resolution {
    /// The conflicted event's record: its device, and seq there.
    device: uuid::Uuid,
    seq: i64,
    how: String,
    event: Option<String>,
    by: String,
    at: String,
}

/// A record's content, as far as applying it needs.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Content {
    kind: String,
    subject: String,
    push: Option<String>,
    status: Option<String>,
    detail: Option<String>,
    at: String,
    how: Option<String>,
    by: Option<String>,
    event: Option<String>,
}

impl Applying {
    async fn begin(conn: &mut SqliteConnection, own: i64, page: &[&Placed]) -> Result<Self> {
        type Next = (i64, i64, i64, i64, i64);
        let (own_placed, own_last_event, next_event, next_message, next_push): Next =
            sqlx::query_as(
                "SELECT coalesce((SELECT max(seq) FROM placed WHERE origin_device = ?1), 0), \
                 coalesce((SELECT max(origin_seq) FROM events WHERE origin_device = ?1), 0), \
                 coalesce((SELECT max(no) FROM events), 0) + 1, coalesce((SELECT max(no) FROM messages), 0) + 1, \
                 coalesce((SELECT max(no) FROM pushes), 0) + 1",
            )
            .bind(own)
            .fetch_one(&mut *conn)
            .await?;
        let mut a = Applying {
            own,
            devices: HashMap::new(),
            heads: HashMap::new(),
            held: HashMap::new(),
            taken: HashSet::new(),
            remote: HashMap::new(),
            handed: HashMap::new(),
            own_placed,
            own_last_event,
            fold: Vec::new(),
            refold: false,
            next_event,
            next_message,
            next_push,
            at: now(),
            rows: Rows::default(),
        };
        // The page's devices (a few), and each one's head here.
        for id in page.iter().map(|p| p.device_id).collect::<HashSet<_>>() {
            let n: i64 = sqlx::query_scalar(
                "INSERT INTO devices (id) VALUES (?1) ON CONFLICT (id) DO UPDATE SET id = id RETURNING n",
            )
            .bind(id.to_string())
            .fetch_one(&mut *conn)
            .await?;
            let head: Option<(i64, Vec<u8>)> =
                sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE origin_device = ?")
                    .bind(n)
                    .fetch_optional(&mut *conn)
                    .await?;
            let head = match head {
                Some((seq, hash)) => (seq, hash.try_into().unwrap_or([0xff; 32])),
                None => (0, GENESIS),
            };
            a.devices.insert(id, n);
            a.heads.insert(n, head);
        }
        // The page's records this desktop has already (its own, coming back).
        let here: Vec<(i64, i64)> = page
            .iter()
            .map(|p| (a.devices[&p.device_id], p.record.seq))
            .filter(|(n, seq)| *seq <= a.heads[n].0)
            .collect();
        let held: Vec<(i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT a.origin_device, a.seq, a.hash FROM json_each(?1) j JOIN audit_records a \
             ON a.origin_device = j.value ->> 0 AND a.seq = j.value ->> 1",
        )
        .bind(serde_json::to_string(&here).expect("numbers"))
        .fetch_all(&mut *conn)
        .await?;
        a.held = held.into_iter().map(|(n, seq, h)| ((n, seq), h)).collect();
        // Event ids already taken, and the pushes the status records name:
        // what the subject of each record says (its content is checked
        // against its hash before anything of it is kept).
        let mut ids = Vec::new();
        let mut pushes = Vec::new();
        for p in page {
            let c: Content = serde_json::from_str(&p.record.content).unwrap_or_default();
            match c.kind.as_str() {
                EVENT_ACCEPTED => ids.push(c.subject),
                PUSH_STATUS => pushes.extend(c.push),
                _ => {}
            }
        }
        a.taken = sqlx::query_scalar::<_, String>(
            "SELECT id FROM events WHERE id IN (SELECT value FROM json_each(?1))",
        )
        .bind(serde_json::to_string(&ids).expect("strings"))
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
        let remote: Vec<(uuid::Uuid, i64)> = sqlx::query_as(
            "SELECT id, push_no FROM push_holds WHERE why = 'remote' \
             AND id IN (SELECT unhex(value) FROM json_each(?1))",
        )
        .bind(serde_json::to_string(&pushes).expect("strings"))
        .fetch_all(&mut *conn)
        .await?;
        a.remote = remote.into_iter().collect();
        let handed: Vec<(uuid::Uuid, i64)> = sqlx::query_as(
            "SELECT id, push_no FROM handed WHERE id IN (SELECT unhex(value) FROM json_each(?1))",
        )
        .bind(serde_json::to_string(&pushes).expect("strings"))
        .fetch_all(&mut *conn)
        .await?;
        a.handed = handed.into_iter().collect();
        Ok(a)
    }

    /// One record of the page, in the order (its event read): it must
    /// continue its chain here; its rows made.
    fn place(
        &mut self,
        placed: &Placed,
        env: Option<&Envelope>,
        applied: &mut Applied,
    ) -> Result<()> {
        let r = &placed.record;
        let n = self.devices[&placed.device_id];
        let differs = |why: &str| {
            StoreError::invalid(
                ErrorCode::Corrupt,
                format!(
                    "同步服务器上设备 {} 的第 {} 条记录{why}：本机或服务器上的历史记录被改写过，同步已停止，请联系系统管理员核查（ggzy audit verify --server）",
                    placed.device_id, r.seq
                ),
            )
        };
        if let Some(held) = self.held.get(&(n, r.seq)) {
            // Here already: this desktop's own, or one applied before.
            if held[..] != r.hash[..] {
                return Err(differs("与本机保存的不同"));
            }
        } else {
            if n == self.own {
                return Err(differs("本机没有"));
            }
            let head = self.heads[&n];
            if r.seq != head.0 + 1 || r.prev_hash != head.1 {
                return Err(differs(&format!("没有接在本机已有的第 {} 条之后", head.0)));
            }
            self.heads.insert(n, (r.seq, r.hash));
            self.rows
                .records
                .push((n, r.seq, r.content.clone(), r.prev_hash, r.hash));
            applied.records += 1;
            self.effect(n, placed, env, applied)?;
        }
        self.rows.placed.push((placed.gseq, n, r.seq));
        if n == self.own {
            self.own_placed = self.own_placed.max(r.seq);
        }
        Ok(())
    }

    /// What another device's record records, as rows.
    fn effect(
        &mut self,
        n: i64,
        placed: &Placed,
        env: Option<&Envelope>,
        applied: &mut Applied,
    ) -> Result<()> {
        let r = &placed.record;
        let c: Content = serde_json::from_str(&r.content).map_err(|e| {
            StoreError::Corrupt(format!(
                "设备 {} 的第 {} 条记录：{e}",
                placed.device_id, r.seq
            ))
        })?;
        match (c.kind.as_str(), &r.body, env) {
            (EVENT_ACCEPTED, Some(body), Some(env)) => {
                let env = env.clone();
                if !self.taken.insert(env.id.clone()) {
                    // Accepted here first (on this desktop, or from another
                    // device): the record is kept, the event is a conflict.
                    let why = format!("事件 `{}` 已由另一台设备先接收", env.id);
                    self.rows
                        .duplicates
                        .push((n, r.seq, env.id, why, self.at.clone()));
                    applied.conflicts += 1;
                    return Ok(());
                }
                let no = self.next_event;
                self.next_event += 1;
                self.rows.events.push(EventRow {
                    no,
                    id: env.id.clone(),
                    project: env.project.clone(),
                    body: body.clone(),
                    source: format!("sync:{}", placed.device_id),
                    // Accepted when its own device says it was, clock and all.
                    received_at: c.at.clone(),
                    device: n,
                    seq: r.seq,
                });
                // Recipients that read alike share one message, as intake writes them.
                let first = self.rows.messages.len();
                for p in &r.pushes {
                    let found = self.rows.messages[first..]
                        .iter()
                        .find(|m| (&m.1, &m.2) == (&p.head, &p.body))
                        .map(|m| m.0);
                    let message = found.unwrap_or_else(|| {
                        let m = self.next_message;
                        self.next_message += 1;
                        self.rows.messages.push((m, p.head.clone(), p.body.clone()));
                        m
                    });
                    let push_no = self.next_push;
                    self.next_push += 1;
                    self.remote.insert(p.id, push_no);
                    self.rows.pushes.push((push_no, no, message, p.clone()));
                }
                applied.events += 1;
                // An event of this desktop's not yet placed, or placed after
                // this one, was decided before it: the order changed.
                if self.own_last_event > self.own_placed {
                    self.refold = true;
                }
                self.fold.push((n, r.seq, env));
            }
            (PUSH_STATUS, ..) => {
                // A record from before pushes were named by id, or of a push
                // whose event was a duplicate here: kept in the chain only.
                let push = c
                    .push
                    .as_deref()
                    .and_then(|p| uuid::Uuid::try_parse(p).ok());
                // Another device's push, or (from the server, which sends
                // them in connected mode) one this desktop handed over.
                let by_server = placed.device_id == SERVER_DEVICE;
                let Some(&push_no) = push.and_then(|id| {
                    self.remote
                        .get(&id)
                        .or_else(|| self.handed.get(&id).filter(|_| by_server))
                }) else {
                    return Ok(());
                };
                let status = PushStatus::try_from(c.status.unwrap_or_default())
                    .map_err(|e| StoreError::Corrupt(format!("记录 {}: {e}", r.seq)))?;
                self.rows.statuses.push((
                    push_no,
                    status,
                    c.detail.unwrap_or_default(),
                    c.at,
                    n,
                    r.seq,
                ));
            }
            (RESOLVED, ..) => {
                // Subject: `<device id>:<seq>` of the conflicted event's record.
                let conflict = c.subject.rsplit_once(':').and_then(|(d, s)| {
                    Some((uuid::Uuid::try_parse(d).ok()?, s.parse::<i64>().ok()?))
                });
                if let Some((device, seq)) = conflict {
                    self.rows.resolutions.push(Resolution {
                        device,
                        seq,
                        how: c.how.unwrap_or_default(),
                        event: c.event,
                        by: c.by.unwrap_or_default(),
                        at: c.at,
                    });
                }
            }
            // Users, settings, logins and refused lines are each desktop's
            // own: kept in the chain, applied nowhere else.
            _ => {}
        }
        Ok(())
    }

    /// Write the page's rows, move the heads, fold its events; the
    /// conflicts found.
    async fn finish(self, conn: &mut SqliteConnection) -> Result<u64> {
        let Applying {
            heads,
            rows,
            fold,
            refold,
            at,
            ..
        } = self;
        write_rows(conn, rows).await?;
        for (n, (seq, hash)) in &heads {
            save_head(conn, *n, *seq, *hash).await?;
        }
        if fold.is_empty() {
            return Ok(0);
        }
        let stale = if refold {
            let (derived, stale) = fold_all(conn).await?;
            derived.write_all(conn).await?;
            stale
        } else {
            let envs: Vec<&Envelope> = fold.iter().map(|f| &f.2).collect();
            let mut derived = Derived::load(conn, &envs).await?;
            let mut stale = Vec::new();
            for (n, seq, env) in &fold {
                if let Err(r) = derived.step(env) {
                    stale.push(Stale {
                        origin_device: *n,
                        origin_seq: *seq,
                        event_id: env.id.clone(),
                        reason: r.to_string(),
                    });
                }
            }
            derived.write_touched(conn).await?;
            stale
        };
        hold(conn, &stale, refold, &at).await
    }
}

/// Write what a page adds, in multi-row statements.
async fn write_rows(conn: &mut SqliteConnection, rows: Rows) -> Result<()> {
    let mut b: Vec<Built> = Vec::new();
    use crate::rows::build_rows;
    build_rows(
        &mut b,
        "INSERT INTO audit_records (origin_device, seq, content, prev_hash, hash) ",
        "",
        rows.records,
        |mut q, (n, seq, content, prev, hash)| {
            q.push_bind(n)
                .push_bind(seq)
                .push_bind(content)
                .push_bind(prev.to_vec())
                .push_bind(hash.to_vec());
        },
    );
    build_rows(
        &mut b,
        "INSERT OR IGNORE INTO placed (gseq, origin_device, seq) ",
        "",
        rows.placed,
        |mut q, (gseq, n, seq)| {
            q.push_bind(gseq).push_bind(n).push_bind(seq);
        },
    );
    build_rows(
        &mut b,
        "INSERT INTO events (no, id, project, body, digest, source, received_at, origin_device, origin_seq) ",
        "",
        rows.events,
        |mut q, e| {
            let digest = sm3(&e.body).to_vec();
            q.push_bind(e.no)
                .push_bind(e.id)
                .push_bind(e.project)
                .push_bind(e.body)
                .push_bind(digest)
                .push_bind(e.source)
                .push_bind(e.received_at)
                .push_bind(e.device)
                .push_bind(e.seq);
        },
    );
    build_rows(
        &mut b,
        "INSERT INTO messages (no, head, body) ",
        "",
        rows.messages,
        |mut q, (no, head, body)| {
            q.push_bind(no).push_bind(head).push_bind(body);
        },
    );
    let holds: Vec<(i64, uuid::Uuid)> = rows.pushes.iter().map(|p| (p.0, p.3.id)).collect();
    build_rows(
        &mut b,
        "INSERT INTO pushes (no, id, event, rule, recipient_role, recipient_id, recipient_name, channel, \
         address, message, secret) ",
        "",
        rows.pushes,
        |mut q, (no, event, message, p)| {
            q.push_bind(no)
                .push_bind(p.id)
                .push_bind(event)
                .push_bind(p.rule)
                .push_bind(p.role.as_str())
                .push_bind(p.recipient_id)
                .push_bind(p.recipient_name)
                .push_bind(p.channel.as_str())
                .push_bind(p.address)
                .push_bind(message)
                .push_bind(p.secret.map(|s| s.as_str()));
        },
    );
    build_rows(
        &mut b,
        "INSERT INTO push_holds (push_no, why, id) ",
        "",
        holds,
        |mut q, (no, id)| {
            q.push_bind(no).push_bind("remote").push_bind(id);
        },
    );
    build_rows(
        &mut b,
        "INSERT OR IGNORE INTO conflicts (origin_device, origin_seq, event_id, kind, reason, found_at) ",
        "",
        rows.duplicates,
        |mut q, (n, seq, id, why, found_at)| {
            q.push_bind(n)
                .push_bind(seq)
                .push_bind(id)
                .push_bind("duplicate")
                .push_bind(why)
                .push_bind(found_at);
        },
    );
    // Where each push stands after its last status record of the page.
    let mut states: HashMap<i64, (PushStatus, i64, String)> = HashMap::new();
    for (no, status, _, at, _, _) in &rows.statuses {
        let counted = i64::from(!matches!(
            status,
            PushStatus::Delivered | PushStatus::Failed
        ));
        let e = states.entry(*no).or_insert((*status, 0, String::new()));
        *e = (*status, e.1 + counted, at.clone());
    }
    build_rows(
        &mut b,
        "INSERT INTO push_status (push_no, status, detail, at, origin_device, origin_seq) ",
        "",
        rows.statuses,
        |mut q, (no, status, detail, at, n, seq)| {
            q.push_bind(no)
                .push_bind(status.as_str())
                .push_bind(detail)
                .push_bind(at)
                .push_bind(n)
                .push_bind(seq);
        },
    );
    build_rows(
        &mut b,
        "INSERT INTO push_states (push_no, status, attempts, updated_at) ",
        " ON CONFLICT (push_no) DO UPDATE SET status = excluded.status, \
         attempts = push_states.attempts + excluded.attempts, updated_at = excluded.updated_at",
        states.into_iter().collect(),
        |mut q, (no, (status, attempts, at))| {
            q.push_bind(no)
                .push_bind(status.as_str())
                .push_bind(attempts)
                .push_bind(at);
        },
    );
    run(conn, b).await?;
    for r in rows.resolutions {
        let n: i64 = sqlx::query_scalar(
            "INSERT INTO devices (id) VALUES (?1) ON CONFLICT (id) DO UPDATE SET id = id RETURNING n",
        )
        .bind(r.device.to_string())
        .fetch_one(&mut *conn)
        .await?;
        record_resolution(conn, n, r.seq, &r.how, r.event.as_deref(), &r.by, &r.at).await?;
    }
    Ok(())
}

/// Keep the stale events as conflicts and hold their pushes (after a fold
/// of everything, they are all the stale ones: the others go); how many
/// are new.
async fn hold(conn: &mut SqliteConnection, stale: &[Stale], all: bool, at: &str) -> Result<u64> {
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM conflicts WHERE kind = 'stale'")
        .fetch_one(&mut *conn)
        .await?;
    let keys: Vec<(i64, i64)> = stale
        .iter()
        .map(|s| (s.origin_device, s.origin_seq))
        .collect();
    if all {
        sqlx::query(
            "DELETE FROM conflicts WHERE kind = 'stale' AND NOT EXISTS (SELECT 1 FROM json_each(?1) j \
               WHERE j.value ->> 0 = origin_device AND j.value ->> 1 = origin_seq); \
             DELETE FROM push_holds WHERE why = 'held' AND NOT EXISTS (SELECT 1 FROM pushes p \
               JOIN events e ON e.no = p.event JOIN conflicts c ON c.origin_device = e.origin_device \
               AND c.origin_seq = e.origin_seq WHERE p.no = push_holds.push_no)",
        )
        .bind(serde_json::to_string(&keys).expect("numbers"))
        .execute(&mut *conn)
        .await?;
    }
    for s in stale {
        sqlx::query(
            "INSERT OR IGNORE INTO conflicts (origin_device, origin_seq, event_id, kind, reason, found_at) \
             VALUES (?1, ?2, ?3, 'stale', ?4, ?5); \
             INSERT OR IGNORE INTO push_holds (push_no, why) SELECT p.no, 'held' FROM events e \
             JOIN pushes p ON p.event = e.no WHERE e.origin_device = ?1 AND e.origin_seq = ?2",
        )
        .bind(s.origin_device)
        .bind(s.origin_seq)
        .bind(&s.event_id)
        .bind(&s.reason)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM conflicts WHERE kind = 'stale'")
        .fetch_one(&mut *conn)
        .await?;
    Ok((after - before).max(0) as u64)
}
