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

use crate::audit::save_head;
use crate::fold::{fold_all, Derived, Stale};
use crate::{now, Result, Store, StoreError};
use ggzy_core::audit::{sm3, Hash, GENESIS};
use ggzy_core::error::ErrorCode;
use ggzy_core::event::{parse, Envelope};
use ggzy_core::push::PushStatus;
use ggzy_core::sync::{Page, Placed};
use serde_json::Value;
use sqlx::SqliteConnection;
use std::collections::HashMap;

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
        Ok(sqlx::query_scalar(
            "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'sync_downloaded'), 0)",
        )
        .fetch_one(self.pool())
        .await?)
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

    /// Apply a page of the global order, with the cursor after it, in one
    /// transaction. Records at or before the cursor are skipped (a page
    /// asked again); a record that does not continue its device's chain
    /// here refuses the whole page.
    pub async fn apply_page(&self, page: &Page) -> Result<Applied> {
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let cursor = sqlx::query_scalar::<_, i64>(
            "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'sync_downloaded'), 0)",
        )
        .fetch_one(&mut *conn)
        .await?;
        let mut a = Applying::begin(conn, self.device_n()).await?;
        let mut applied = Applied {
            cursor,
            ..Applied::default()
        };
        for placed in page.records.iter().filter(|p| p.gseq > cursor) {
            a.place(conn, placed, &mut applied).await?;
            applied.cursor = placed.gseq;
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

/// A page being applied.
struct Applying {
    own: i64,
    /// Device id -> local number.
    devices: HashMap<uuid::Uuid, i64>,
    /// Device number -> its chain's head here, as the page moves it.
    heads: HashMap<i64, (i64, Hash)>,
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
    at: String,
}

impl Applying {
    async fn begin(conn: &mut SqliteConnection, own: i64) -> Result<Self> {
        let (own_placed, own_last_event, next_event, next_message): (i64, i64, i64, i64) =
            sqlx::query_as(
                "SELECT coalesce((SELECT max(seq) FROM placed WHERE origin_device = ?1), 0), \
                 coalesce((SELECT max(origin_seq) FROM events WHERE origin_device = ?1), 0), \
                 coalesce((SELECT max(no) FROM events), 0) + 1, coalesce((SELECT max(no) FROM messages), 0) + 1",
            )
            .bind(own)
            .fetch_one(&mut *conn)
            .await?;
        Ok(Applying {
            own,
            devices: HashMap::new(),
            heads: HashMap::new(),
            own_placed,
            own_last_event,
            fold: Vec::new(),
            refold: false,
            next_event,
            next_message,
            at: now(),
        })
    }

    async fn device(&mut self, conn: &mut SqliteConnection, id: uuid::Uuid) -> Result<i64> {
        if let Some(n) = self.devices.get(&id) {
            return Ok(*n);
        }
        let n: i64 = sqlx::query_scalar(
            "INSERT INTO devices (id) VALUES (?1) ON CONFLICT (id) DO UPDATE SET id = id RETURNING n",
        )
        .bind(id.to_string())
        .fetch_one(&mut *conn)
        .await?;
        self.devices.insert(id, n);
        Ok(n)
    }

    async fn place(
        &mut self,
        conn: &mut SqliteConnection,
        placed: &Placed,
        applied: &mut Applied,
    ) -> Result<()> {
        let r = &placed.record;
        let n = self.device(conn, placed.device_id).await?;
        let held: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT hash FROM audit_records WHERE origin_device = ?1 AND seq = ?2",
        )
        .bind(n)
        .bind(r.seq)
        .fetch_optional(&mut *conn)
        .await?;
        let differs = |why: &str| {
            StoreError::invalid(
                ErrorCode::Corrupt,
                format!(
                    "同步服务器上设备 {} 的第 {} 条记录{why}：本机或服务器上的历史记录被改写过，同步已停止，请联系系统管理员核查（ggzy audit verify --server）",
                    placed.device_id, r.seq
                ),
            )
        };
        if let Some(held) = held {
            // A record here already: this desktop's own, or one applied before.
            if held[..] != r.hash[..] {
                return Err(differs("与本机保存的不同"));
            }
        } else {
            if n == self.own {
                return Err(differs("本机没有"));
            }
            r.holds().map_err(|m| differs(&format!("不完整（{m}）")))?;
            let head = match self.heads.get(&n) {
                Some(h) => *h,
                None => {
                    let h: Option<(i64, Vec<u8>)> =
                        sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE origin_device = ?")
                            .bind(n)
                            .fetch_optional(&mut *conn)
                            .await?;
                    match h {
                        Some((seq, hash)) => (seq, hash.try_into().unwrap_or([0xff; 32])),
                        None => (0, GENESIS),
                    }
                }
            };
            if r.seq != head.0 + 1 || r.prev_hash != head.1 {
                return Err(differs(&format!("没有接在本机已有的第 {} 条之后", head.0)));
            }
            sqlx::query(
                "INSERT INTO audit_records (origin_device, seq, content, prev_hash, hash) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(n)
            .bind(r.seq)
            .bind(&r.content)
            .bind(&r.prev_hash[..])
            .bind(&r.hash[..])
            .execute(&mut *conn)
            .await?;
            self.heads.insert(n, (r.seq, r.hash));
            applied.records += 1;
            self.effect(conn, n, placed, applied).await?;
        }
        sqlx::query("INSERT OR IGNORE INTO placed (gseq, origin_device, seq) VALUES (?, ?, ?)")
            .bind(placed.gseq)
            .bind(n)
            .bind(r.seq)
            .execute(&mut *conn)
            .await?;
        if n == self.own {
            self.own_placed = self.own_placed.max(r.seq);
        }
        Ok(())
    }

    /// What another device's record records, applied here.
    async fn effect(
        &mut self,
        conn: &mut SqliteConnection,
        n: i64,
        placed: &Placed,
        applied: &mut Applied,
    ) -> Result<()> {
        let r = &placed.record;
        let content: Value = serde_json::from_str(&r.content)
            .map_err(|e| StoreError::Corrupt(format!("记录 {}: {e}", r.seq)))?;
        let field = |k: &str| content.get(k).and_then(Value::as_str).unwrap_or_default();
        match (field("kind"), &r.body) {
            (crate::audit::EVENT_ACCEPTED, Some(body)) => {
                let env = parse(body).map_err(|e| {
                    StoreError::Corrupt(format!(
                        "设备 {} 的第 {} 条记录所附事件无法读取（{e}）",
                        placed.device_id, r.seq
                    ))
                })?;
                let taken: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM events WHERE id = ?)")
                    .bind(&env.id)
                    .fetch_one(&mut *conn)
                    .await?;
                if taken {
                    // Accepted here first (on this desktop, or from another
                    // device): the record is kept, the event is a conflict.
                    sqlx::query(
                        "INSERT INTO conflicts (origin_device, origin_seq, event_id, kind, reason, found_at) \
                         VALUES (?, ?, ?, 'duplicate', ?, ?)",
                    )
                    .bind(n)
                    .bind(r.seq)
                    .bind(&env.id)
                    .bind(format!("事件 `{}` 已由另一台设备先接收", env.id))
                    .bind(&self.at)
                    .execute(&mut *conn)
                    .await?;
                    applied.conflicts += 1;
                    return Ok(());
                }
                self.store_event(conn, n, placed, body, &env).await?;
                applied.events += 1;
                // An event of this desktop's not yet placed, or placed after
                // this one, was decided before it: the order changed.
                if self.own_last_event > self.own_placed {
                    self.refold = true;
                }
                self.fold.push((n, r.seq, env));
            }
            (crate::audit::PUSH_STATUS, _) => {
                let Some(id) = uuid::Uuid::try_parse(field("push")).ok() else {
                    return Ok(()); // a record from before pushes were named by id: kept in the chain only
                };
                let push: Option<i64> = sqlx::query_scalar(
                    "SELECT push_no FROM push_holds WHERE why = 'remote' AND id = ?",
                )
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
                let Some(push_no) = push else {
                    return Ok(()); // a push of an event that was a duplicate here
                };
                let status = PushStatus::try_from(field("status").to_owned())
                    .map_err(|e| StoreError::Corrupt(format!("记录 {}: {e}", r.seq)))?;
                let counted = !matches!(status, PushStatus::Delivered | PushStatus::Failed);
                sqlx::query(
                    "INSERT INTO push_status (push_no, status, detail, at, origin_device, origin_seq) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6); \
                     INSERT INTO push_states (push_no, status, attempts, updated_at) VALUES (?1, ?2, ?7, ?4) \
                     ON CONFLICT (push_no) DO UPDATE SET status = excluded.status, \
                     attempts = push_states.attempts + excluded.attempts, updated_at = excluded.updated_at",
                )
                .bind(push_no)
                .bind(status.as_str())
                .bind(field("detail"))
                .bind(field("at"))
                .bind(n)
                .bind(r.seq)
                .bind(i64::from(counted))
                .execute(&mut *conn)
                .await?;
            }
            (crate::conflicts::RESOLVED, _) => {
                // Subject: `<device id>:<seq>` of the conflicted event's record.
                let subject = field("subject");
                let Some((device, seq)) = subject.rsplit_once(':') else {
                    return Ok(());
                };
                let (Ok(device), Ok(seq)) = (uuid::Uuid::try_parse(device), seq.parse::<i64>()) else {
                    return Ok(());
                };
                let device = self.device(conn, device).await?;
                let event = content.get("event").and_then(Value::as_str);
                crate::conflicts::record_resolution(
                    conn,
                    device,
                    seq,
                    field("how"),
                    event,
                    field("by"),
                    field("at"),
                )
                .await?;
            }
            // Users, settings, logins and refused lines are each desktop's
            // own: kept in the chain, applied nowhere else.
            _ => {}
        }
        Ok(())
    }

    /// An accepted event with the pushes its record carries, held from this
    /// desktop's dispatcher.
    async fn store_event(
        &mut self,
        conn: &mut SqliteConnection,
        n: i64,
        placed: &Placed,
        body: &str,
        env: &Envelope,
    ) -> Result<()> {
        let r = &placed.record;
        let no = self.next_event;
        self.next_event += 1;
        sqlx::query(
            "INSERT INTO events (no, id, project, body, digest, source, received_at, origin_device, origin_seq) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(no)
        .bind(&env.id)
        .bind(env.project.as_deref())
        .bind(body)
        .bind(&sm3(body)[..])
        .bind(format!("sync:{}", placed.device_id))
        .bind(&self.at)
        .bind(n)
        .bind(r.seq)
        .execute(&mut *conn)
        .await?;
        // Recipients that read alike share one message, as intake writes them.
        let mut messages: Vec<(&str, &str, i64)> = Vec::new();
        for p in &r.pushes {
            let message = match messages.iter().find(|m| (m.0, m.1) == (&p.head, &p.body)) {
                Some(m) => m.2,
                None => {
                    let m = self.next_message;
                    self.next_message += 1;
                    sqlx::query("INSERT INTO messages (no, head, body) VALUES (?, ?, ?)")
                        .bind(m)
                        .bind(&p.head)
                        .bind(&p.body)
                        .execute(&mut *conn)
                        .await?;
                    messages.push((&p.head, &p.body, m));
                    m
                }
            };
            sqlx::query(
                "INSERT INTO pushes (id, event, rule, recipient_role, recipient_id, recipient_name, channel, \
                 address, message, secret) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10); \
                 INSERT INTO push_holds (push_no, why, id) VALUES (last_insert_rowid(), 'remote', ?1)",
            )
            .bind(p.id)
            .bind(no)
            .bind(&p.rule)
            .bind(p.role.as_str())
            .bind(&p.recipient_id)
            .bind(&p.recipient_name)
            .bind(p.channel.as_str())
            .bind(&p.address)
            .bind(message)
            .bind(p.secret.map(|s| s.as_str()))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Fold the page's events and move the heads; the conflicts found.
    async fn finish(self, conn: &mut SqliteConnection) -> Result<u64> {
        for (n, (seq, hash)) in &self.heads {
            save_head(conn, *n, *seq, *hash).await?;
        }
        if self.fold.is_empty() {
            return Ok(0);
        }
        let stale = if self.refold {
            let (derived, stale) = fold_all(conn).await?;
            derived.write_all(conn).await?;
            stale
        } else {
            let envs: Vec<&Envelope> = self.fold.iter().map(|f| &f.2).collect();
            let mut derived = Derived::load(conn, &envs).await?;
            let mut stale = Vec::new();
            for (n, seq, env) in &self.fold {
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
        hold(conn, &stale, self.refold, &self.at).await
    }
}

/// Keep the stale events as conflicts and hold their pushes (after a fold
/// of everything, they are all the stale ones: the others go); how many
/// are new.
async fn hold(conn: &mut SqliteConnection, stale: &[Stale], all: bool, at: &str) -> Result<u64> {
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM conflicts WHERE kind = 'stale'")
        .fetch_one(&mut *conn)
        .await?;
    let keys: Vec<(i64, i64)> = stale.iter().map(|s| (s.origin_device, s.origin_seq)).collect();
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
