//! The outbox: the claim/finish cycle a dispatcher worker runs. Each status
//! change appends a `push_status` record and an audit record, and moves the
//! push's row in `push_states` (their projection). A push nobody has claimed
//! yet has no such row: it is queued.

use crate::audit::AuditWriter;
use crate::pushes::{status, Push};
use crate::{now, Result, Store, StoreError};
use ggzy_core::error::ErrorCode;
use ggzy_core::push::{Channel, PushStatus};
use serde::Deserialize;

/// What a worker needs of a push it claimed: what to send, to whom, and
/// how its attempts stand. (Less than a [`Push`]: a claim reads thousands.)
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Due {
    pub no: i64,
    pub id: uuid::Uuid,
    pub rule: String,
    pub clause: String,
    pub recipient_id: String,
    pub recipient_name: String,
    pub channel: Channel,
    pub address: String,
    pub text: String,
    pub secret: Option<String>,
    pub attempts: i64,
    pub series: i64,
}

/// What a worker would need of a push the log shows.
impl From<&Push> for Due {
    fn from(p: &Push) -> Self {
        Due {
            no: p.no,
            id: p.id,
            rule: p.rule.clone(),
            clause: p.clause.clone(),
            recipient_id: p.recipient_id.clone(),
            recipient_name: p.recipient_name.clone(),
            channel: p.channel,
            address: p.address.clone(),
            text: p.text.clone(),
            secret: p.secret.clone(),
            attempts: p.attempts,
            series: p.series,
        }
    }
}

impl Due {
    /// The key this series of attempts is sent under (its own, until a re-drive).
    pub fn send_key(&self) -> uuid::Uuid {
        ggzy_core::push::series_key(self.id, self.series)
    }
}

/// What a send attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Handed to the provider; its receipt may follow.
    Sent,
    /// Delivered (the provider confirmed it, or the channel is the inbox).
    Delivered,
    /// Failed; try again at the given time.
    Retry,
    /// Failed for good: a dead letter for staff to see and re-drive.
    Dead,
    /// The request left but no answer came: reconcile before any resend.
    Unknown,
    /// The provider reported that delivery failed.
    Failed,
    /// Held back, not tried (quiet hours): due again at the given time,
    /// without counting as an attempt.
    Deferred,
}

impl Attempt {
    pub fn status(self) -> PushStatus {
        match self {
            Attempt::Sent => PushStatus::Sent,
            Attempt::Delivered => PushStatus::Delivered,
            Attempt::Retry | Attempt::Deferred => PushStatus::Retrying,
            Attempt::Dead => PushStatus::Dead,
            Attempt::Unknown => PushStatus::Unknown,
            Attempt::Failed => PushStatus::Failed,
        }
    }
}

/// A push a worker has claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub push: Due,
    /// An earlier attempt may have reached the provider (its answer never
    /// came, or a worker died mid-send): ask the provider before sending again.
    pub uncertain: bool,
}

/// What one attempt came to, for [`Store::finish_all`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub push_no: i64,
    /// The push's id (`Due::id`): its status record names it by it.
    pub push_id: uuid::Uuid,
    pub attempt: Attempt,
    /// What happened, in words staff read in the push's history (never a secret).
    pub detail: String,
    /// When to try again (`Retry`, `Unknown`, `Deferred`); `None` is now.
    pub retry_at: Option<String>,
}

impl Store {
    /// Claim up to `limit` due pushes for `lease_secs`: they become `sending`
    /// and no other worker takes them until the lease runs out. Fresh pushes
    /// (queued, in queue order) are taken as one range under one lease (see
    /// the table `outbox_leases`), with nothing written for each; the others
    /// (retries, answers that never came, leases that ran out) each get a
    /// `sending` state with its lease. A few statements whatever the batch,
    /// besides BEGIN and COMMIT (under load each round trip waits for a busy
    /// CPU): pick, then take.
    pub async fn claim_due(&self, limit: i64, lease_secs: i64) -> Result<Vec<Claimed>> {
        let at = chrono::Local::now();
        let now_s = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
        let lease = (at + chrono::Duration::seconds(lease_secs))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
        let mut tx = self.write().await?;
        let conn = tx.conn();
        // Leases that ran out (a push's own, or a range's pushes with no
        // state yet), answers that never came and retries that are due,
        // through their partial indexes; then fresh pushes after the cursor,
        // in queue order. Each as [no, uncertain, fresh], all in one JSON
        // value: a row each would cross from SQLite's thread one at a time,
        // each waking the other side.
        let due: String = sqlx::query_scalar(
            "SELECT json_group_array(json_array(no, u, f)) FROM (SELECT * FROM (\
             SELECT push_no AS no, 1 AS u, 0 AS f FROM push_states WHERE status = 'sending' AND lease_until < ?1 \
             UNION ALL SELECT p.no, 1, 0 FROM outbox_leases l JOIN pushes p ON p.no BETWEEN l.first AND l.last \
               WHERE l.lease_until < ?1 AND NOT EXISTS (SELECT 1 FROM push_states s WHERE s.push_no = p.no) \
             UNION ALL SELECT push_no, 1, 0 FROM push_states WHERE status = 'unknown' AND next_attempt_at <= ?1 \
             UNION ALL SELECT push_no, 0, 0 FROM push_states WHERE status = 'retrying' AND next_attempt_at <= ?1 \
             UNION ALL SELECT * FROM (SELECT no, 0, 1 FROM pushes p \
               WHERE no > coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'outbox_cursor'), 0) \
               AND NOT EXISTS (SELECT 1 FROM push_states s WHERE s.push_no = p.no) \
               AND NOT EXISTS (SELECT 1 FROM push_holds h WHERE h.push_no = p.no) ORDER BY no LIMIT ?2) \
             ) d WHERE NOT EXISTS (SELECT 1 FROM push_holds h WHERE h.push_no = d.no) LIMIT ?2)",
        )
        .bind(&now_s)
        .bind(limit)
        .fetch_one(&mut *conn)
        .await?;
        let due: Vec<(i64, bool, bool)> = serde_json::from_str::<Vec<(i64, u8, u8)>>(&due)
            .map_err(|e| StoreError::Corrupt(format!("due pushes: {e}")))?
            .into_iter()
            .map(|(no, uncertain, fresh)| (no, uncertain == 1, fresh == 1))
            .collect();
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let (fresh, again): (Vec<&(i64, bool, bool)>, Vec<_>) = due.iter().partition(|d| d.2);
        // Parameters ?1…?k in each statement, as in `record_finished`.
        if !again.is_empty() {
            // A range's pushes taken one by one leave its count; then each
            // gets its own lease.
            sqlx::query(
                "UPDATE outbox_leases SET open = open - (SELECT count(*) FROM json_each(?1) j \
                   WHERE j.value BETWEEN first AND last \
                   AND NOT EXISTS (SELECT 1 FROM push_states s WHERE s.push_no = j.value)); \
                 DELETE FROM outbox_leases WHERE open <= 0; \
                 INSERT INTO push_states (push_no, status, lease_until, updated_at) \
                 SELECT value, 'sending', ?2, ?3 FROM json_each(?1) WHERE true \
                 ON CONFLICT (push_no) DO UPDATE SET status = 'sending', lease_until = excluded.lease_until, \
                 updated_at = excluded.updated_at",
            )
            .bind(serde_json::to_string(&again.iter().map(|d| d.0).collect::<Vec<_>>()).expect("numbers"))
            .bind(&lease)
            .bind(&now_s)
            .execute(&mut *conn)
            .await?;
        }
        let first = fresh.iter().map(|d| d.0).min();
        if let (Some(first), Some(last)) = (first, fresh.iter().map(|d| d.0).max()) {
            // Taken in queue order: every push with no state from the first
            // to the last is in the range.
            sqlx::query(
                "INSERT INTO outbox_leases (last, first, open, lease_until) VALUES (?1, ?2, ?3, ?4); \
                 INSERT INTO meta (key, value) VALUES ('outbox_cursor', CAST(?1 AS TEXT)) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(last)
            .bind(first)
            .bind(fresh.len() as i64)
            .bind(&lease)
            .execute(&mut *conn)
            .await?;
        }
        let nos =
            serde_json::to_string(&due.iter().map(|d| d.0).collect::<Vec<_>>()).expect("numbers");
        tx.commit().await?;
        // Read them back once taken, in the order taken, as one JSON array
        // of arrays in `Due`'s field order (one value to hand over, not a row
        // each), outside the writers' turn: a record can be written
        // meanwhile. What a push says never changes.
        let pushes: String = sqlx::query_scalar(
            "SELECT json_group_array(json_array(p.no, hex(p.id), p.rule, p.clause, p.recipient_id, \
             p.recipient_name, p.channel, p.address, m.head || p.recipient_name || m.body, p.secret, \
             coalesce(s.attempts, 0), coalesce(s.series, 0)) ORDER BY j.key) \
             FROM json_each(?1) j JOIN pushes p ON p.no = j.value JOIN messages m ON m.no = p.message \
             LEFT JOIN push_states s ON s.push_no = p.no",
        )
        .bind(&nos)
        .fetch_one(self.pool())
        .await?;
        let pushes: Vec<Due> = serde_json::from_str(&pushes)
            .map_err(|e| StoreError::Corrupt(format!("claimed pushes: {e}")))?;
        if pushes.len() != due.len() || due.iter().zip(&pushes).any(|(d, p)| d.0 != p.no) {
            return Err(StoreError::Corrupt(
                "claimed pushes read back out of order".into(),
            ));
        }
        Ok(due
            .into_iter()
            .zip(pushes)
            .map(|((_, uncertain, _), push)| Claimed { push, uncertain })
            .collect())
    }

    /// Whether any push is still to be sent: queued, being sent, or awaiting
    /// a retry or an answer (whether due yet or not).
    pub async fn dispatch_pending(&self) -> Result<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM push_states s WHERE status = 'sending' AND NOT EXISTS \
                        (SELECT 1 FROM push_holds h WHERE h.push_no = s.push_no)) \
             OR EXISTS (SELECT 1 FROM outbox_leases) \
             OR EXISTS (SELECT 1 FROM push_states s WHERE status = 'retrying' AND NOT EXISTS \
                        (SELECT 1 FROM push_holds h WHERE h.push_no = s.push_no)) \
             OR EXISTS (SELECT 1 FROM push_states s WHERE status = 'unknown' AND NOT EXISTS \
                        (SELECT 1 FROM push_holds h WHERE h.push_no = s.push_no)) \
             OR EXISTS (SELECT 1 FROM pushes p WHERE no > coalesce((SELECT CAST(value AS INTEGER) FROM meta \
                        WHERE key = 'outbox_cursor'), 0) \
                        AND NOT EXISTS (SELECT 1 FROM push_states s WHERE s.push_no = p.no) \
                        AND NOT EXISTS (SELECT 1 FROM push_holds h WHERE h.push_no = p.no))",
        )
        .fetch_one(self.pool())
        .await?)
    }

    /// One dispatcher per deployment: a dispatcher starting takes over what
    /// the one before it left mid-send (those pushes are uncertain).
    /// How many pushes it took over.
    pub async fn take_over_leases(&self) -> Result<u64> {
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let own =
            sqlx::query("UPDATE push_states SET lease_until = '0000' WHERE status = 'sending'")
                .execute(&mut *conn)
                .await?;
        let ranged: Vec<i64> =
            sqlx::query_scalar("UPDATE outbox_leases SET lease_until = '0000' RETURNING open")
                .fetch_all(&mut *conn)
                .await?;
        tx.commit().await?;
        Ok(own.rows_affected() + ranged.iter().sum::<i64>() as u64)
    }

    /// Put a push that failed back in line, due now, with a fresh series of
    /// attempts: a person's decision, kept in the push's history and the
    /// audit trail. Only a push that
    /// failed (for good or awaiting a retry) can be put back.
    pub async fn requeue(&self, push_no: i64, by: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let state: Option<String> = sqlx::query_scalar(concat!(
            "SELECT ",
            status!(),
            " FROM pushes p LEFT JOIN push_states s ON s.push_no = p.no WHERE p.no = ?"
        ))
        .bind(push_no)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(state) = state else {
            return Err(StoreError::NotFound(format!("没有第 {push_no} 号推送")));
        };
        let held: Option<String> =
            sqlx::query_scalar("SELECT why FROM push_holds WHERE push_no = ?")
                .bind(push_no)
                .fetch_optional(&mut *conn)
                .await?;
        match held.as_deref() {
            Some("remote") => {
                return Err(StoreError::invalid(
                    ErrorCode::PushHeld,
                    format!("第 {push_no} 号推送由另一台设备发送：请在那台设备上重新排队"),
                ))
            }
            Some(_) => {
                return Err(StoreError::invalid(
                    ErrorCode::PushHeld,
                    format!("第 {push_no} 号推送所属的操作与其他设备上的操作冲突，推送已暂停：请先在“同步冲突”中处理该冲突"),
                ))
            }
            None => {}
        }
        let state = PushStatus::try_from(state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if !matches!(
            state,
            PushStatus::Dead | PushStatus::Failed | PushStatus::Retrying
        ) {
            return Err(StoreError::invalid(
                ErrorCode::NotFailed,
                format!(
                    "第 {push_no} 号推送当前为“{}”，只有发送失败的推送可以重新排队",
                    state.zh()
                ),
            ));
        }
        let at = now();
        sqlx::query(
            "UPDATE push_states SET status = 'retrying', attempts = 0, series = series + 1, next_attempt_at = ?1, \
             lease_until = NULL, updated_at = ?1 WHERE push_no = ?2",
        )
        .bind(&at)
        .bind(push_no)
        .execute(&mut *conn)
        .await?;
        let detail = format!("由 {by} 重新排队");
        let mut audit = AuditWriter::load(conn, self.device_n()).await?;
        history(
            conn,
            &mut audit,
            &at,
            push_no,
            PushStatus::Retrying,
            &detail,
            Some(by),
        )
        .await?;
        audit.flush(conn).await?;
        tx.commit().await
    }

    /// Record what an attempt came to: history, audit record and status, together.
    pub async fn finish(
        &self,
        push_no: i64,
        attempt: Attempt,
        detail: &str,
        retry_at: Option<&str>,
    ) -> Result<()> {
        let push_id: Option<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM pushes WHERE no = ?")
            .bind(push_no)
            .fetch_optional(self.pool())
            .await?;
        let push_id =
            push_id.ok_or_else(|| StoreError::NotFound(format!("没有第 {push_no} 号推送")))?;
        self.finish_all(&[Finished {
            push_no,
            push_id,
            attempt,
            detail: detail.to_owned(),
            retry_at: retry_at.map(str::to_owned),
        }])
        .await
    }

    /// Record what several attempts came to, in one transaction: for each,
    /// its history, audit record and status. All or nothing. Set-based (a
    /// few statements for the whole batch), as a dispatcher finishes
    /// hundreds at a time.
    pub async fn finish_all(&self, done: &[Finished]) -> Result<()> {
        if done.is_empty() {
            return Ok(());
        }
        let at = now();
        // The batch goes as JSON arrays, one bound value each, so the whole
        // record is a handful of round trips to the database however big
        // the batch: under load each trip waits for a busy CPU.
        let nos = serde_json::to_string(&done.iter().map(|f| f.push_no).collect::<Vec<_>>())
            .expect("numbers");
        let sent = serde_json::to_string(
            &done
                .iter()
                .filter(|f| f.attempt == Attempt::Sent)
                .map(|f| f.push_no)
                .collect::<Vec<_>>(),
        )
        .expect("numbers");
        let device = self.device_n();
        // Everything is made ready before the writers' turn (which every
        // claim and record waits for), on the chain's head as it is now, and
        // written in one round trip inside it; only if a writer moved the
        // head meanwhile (seldom: claims write no audit record) is it made
        // again in the turn. Under load each round trip to SQLite's thread
        // waits ~1 ms for a busy CPU, and the turn's length bounds the rate.
        let seen = finish_read(self.pool(), &nos, device, &sent).await?;
        let (head, rows) = finish_rows(&seen, done, &at, device)?;
        let mut tx = self.write().await?;
        let conn = tx.conn();
        if !record_finished(conn, device, head, &at, &rows).await? {
            let seen = finish_read(&mut *conn, &nos, device, &sent).await?;
            let (head, rows) = finish_rows(&seen, done, &at, device)?;
            if !record_finished(conn, device, head, &at, &rows).await? {
                return Err(StoreError::Corrupt(
                    "the audit chain's head moved inside the write turn".into(),
                ));
            }
        }
        tx.commit().await
    }

    /// A provider's delivery receipt for the push sent under `key`: it
    /// becomes delivered or failed. A receipt for a push already settled
    /// changes nothing (providers repeat them); one for a key never sent is
    /// refused.
    pub async fn receipt(&self, key: uuid::Uuid, delivered: bool, detail: &str) -> Result<Receipt> {
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let found: Option<(i64, String)> = sqlx::query_as(
            "SELECT k.push_no, s.status FROM sent_keys k JOIN push_states s ON s.push_no = k.push_no WHERE k.key = ?",
        )
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((push_no, status)) = found else {
            return Err(StoreError::NotFound(format!("没有以 {key} 发出的推送")));
        };
        let status =
            PushStatus::try_from(status).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if matches!(status, PushStatus::Delivered | PushStatus::Failed) {
            return Ok(Receipt::Already { push_no, status });
        }
        let at = now();
        let status = if delivered {
            PushStatus::Delivered
        } else {
            PushStatus::Failed
        };
        sqlx::query("UPDATE push_states SET status = ?, updated_at = ? WHERE push_no = ?")
            .bind(status.as_str())
            .bind(&at)
            .bind(push_no)
            .execute(&mut *conn)
            .await?;
        let mut audit = AuditWriter::load(conn, self.device_n()).await?;
        history(conn, &mut audit, &at, push_no, status, detail, None).await?;
        audit.flush(conn).await?;
        tx.commit().await?;
        Ok(Receipt::Applied { push_no })
    }
}

/// What a receipt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    Applied {
        push_no: i64,
    },
    /// The push had settled already: nothing changed.
    Already {
        push_no: i64,
        status: PushStatus,
    },
}

/// What a record needs of the database before it writes: a push of the
/// batch that does not exist, the chain's head, and the re-driven among
/// those sent, as `[no, id in hex, series]` (their keys are derived in Rust).
type FinishRead = (Option<i64>, Option<i64>, Option<Vec<u8>>, String);

async fn finish_read<'e>(
    db: impl sqlx::SqliteExecutor<'e>,
    nos: &str,
    device: i64,
    sent: &str,
) -> Result<FinishRead> {
    Ok(sqlx::query_as(
        "SELECT (SELECT value FROM json_each(?1) WHERE value NOT IN (SELECT no FROM pushes) LIMIT 1), \
         (SELECT seq FROM audit_heads WHERE origin_device = ?2), \
         (SELECT hash FROM audit_heads WHERE origin_device = ?2), \
         (SELECT json_group_array(json_array(p.no, hex(p.id), s.series)) FROM pushes p \
          JOIN push_states s ON s.push_no = p.no \
          WHERE p.no IN (SELECT value FROM json_each(?3)) AND s.series > 0)",
    )
    .bind(nos)
    .bind(device)
    .bind(sent)
    .fetch_one(db)
    .await?)
}

/// A batch's rows, its audit records chained after the head `read` saw,
/// as one JSON array: `[no, status, counted, retry_at, detail, the key it
/// was sent under if not its own id, seq, content, prev_hash, hash]` (hashes
/// in hex); with that head's seq.
fn finish_rows(
    read: &FinishRead,
    done: &[Finished],
    at: &str,
    device: i64,
) -> Result<(Option<i64>, String)> {
    let (unknown, seq, hash, redriven) = read;
    if let Some(no) = unknown {
        return Err(StoreError::NotFound(format!("没有第 {no} 号推送")));
    }
    let redriven: Vec<(i64, String, i64)> =
        serde_json::from_str(redriven).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let keys = redriven
        .into_iter()
        .map(|(no, id, series)| {
            let id = uuid::Uuid::try_parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok((
                no,
                ggzy_core::push::series_key(id, series).simple().to_string(),
            ))
        })
        .collect::<Result<std::collections::HashMap<_, _>>>()?;
    let mut audit = AuditWriter::at(device, seq.zip(hash.clone()))?;
    for f in done {
        let push = (f.push_no, &f.push_id);
        audit.append_status(at, push, f.attempt.status(), &f.detail, None);
    }
    let records = audit.take_pending();
    let rows = serde_json::to_string(
        &done
            .iter()
            .zip(&records)
            .map(|(f, r)| {
                (
                    f.push_no,
                    f.attempt.status(),
                    i64::from(f.attempt != Attempt::Deferred),
                    f.retry_at.as_deref(),
                    &f.detail,
                    keys.get(&f.push_no),
                    r.seq,
                    &r.content,
                    ggzy_core::audit::hex(&r.prev_hash),
                    ggzy_core::audit::hex(&r.hash),
                )
            })
            .collect::<Vec<_>>(),
    )
    .expect("plain values");
    Ok((*seq, rows))
}

/// Write a batch's `rows` (see `finish_rows`) in one round trip: states,
/// history, sent keys, audit records and the chain's new head; whether it
/// was written — nothing is if the head is no longer at `head`.
async fn record_finished(
    conn: &mut sqlx::SqliteConnection,
    device: i64,
    head: Option<i64>,
    at: &str,
    rows: &str,
) -> Result<bool> {
    // The batch is read out of its JSON once, into a table of this
    // connection's own (in memory), and the statements read that: SQLite
    // parses a JSON array's element again for every `->>` pass. Each row is
    // made binary JSON (`jsonb`) once, materialized, so its ten fields are
    // picked out without parsing the text ten times (~1 µs a push). Each
    // statement's parameters are ?1…?k without a gap: for a statement that
    // skips one, sqlx (0.8) binds the gap positionally and may leave the
    // rest unbound (NULL). A push with no state yet was sent from a leased
    // range (`claim_due`): it is counted off its range, which goes when none
    // is left. The count, last, says whether the head was where the batch
    // was chained on.
    let written: i64 = sqlx::query_scalar(
        "CREATE TEMP TABLE IF NOT EXISTS finishing (push_no INTEGER, status TEXT, counted INTEGER, \
         retry_at TEXT, detail TEXT, key TEXT, seq INTEGER, content TEXT, prev_hash TEXT, hash TEXT, at TEXT, \
         fresh INTEGER); \
         DELETE FROM temp.finishing; \
         INSERT INTO temp.finishing WITH r AS MATERIALIZED (SELECT jsonb(value) AS j FROM json_each(?4)) \
         SELECT j ->> 0, j ->> 1, j ->> 2, j ->> 3, j ->> 4, j ->> 5, j ->> 6, j ->> 7, j ->> 8, j ->> 9, ?3, \
         NOT EXISTS (SELECT 1 FROM push_states s WHERE s.push_no = j ->> 0) FROM r \
         WHERE (SELECT seq FROM audit_heads WHERE origin_device = ?1) IS ?2; \
         UPDATE outbox_leases AS l SET open = open - c.n FROM (SELECT r.last, count(*) AS n \
         FROM temp.finishing f JOIN outbox_leases r ON f.push_no BETWEEN r.first AND r.last \
         WHERE f.fresh GROUP BY r.last) AS c WHERE l.last = c.last; \
         DELETE FROM outbox_leases WHERE open <= 0; \
         INSERT INTO push_states (push_no, status, attempts, next_attempt_at, updated_at) \
         SELECT push_no, status, counted, retry_at, at FROM temp.finishing WHERE true \
         ON CONFLICT (push_no) DO UPDATE SET status = excluded.status, \
         attempts = push_states.attempts + excluded.attempts, next_attempt_at = excluded.next_attempt_at, \
         lease_until = NULL, updated_at = excluded.updated_at; \
         INSERT INTO push_status (push_no, status, detail, at, origin_device, origin_seq) \
         SELECT push_no, status, detail, at, ?1, seq FROM temp.finishing; \
         INSERT INTO sent_keys (key, push_no) \
         SELECT coalesce(unhex(f.key), p.id), p.no FROM temp.finishing f JOIN pushes p ON p.no = f.push_no \
         WHERE f.status = 'sent' ON CONFLICT DO NOTHING; \
         INSERT INTO audit_records (origin_device, seq, content, prev_hash, hash) \
         SELECT ?1, seq, content, unhex(prev_hash), unhex(hash) FROM temp.finishing; \
         INSERT INTO audit_heads (origin_device, seq, hash) \
         SELECT ?1, seq, unhex(hash) FROM temp.finishing WHERE true ORDER BY seq DESC LIMIT 1 \
         ON CONFLICT (origin_device) DO UPDATE SET seq = excluded.seq, hash = excluded.hash; \
         SELECT count(*) FROM temp.finishing",
    )
    .bind(device)
    .bind(head)
    .bind(at)
    .bind(rows)
    .fetch_one(&mut *conn)
    .await?;
    Ok(written > 0)
}

/// A push's status change: its audit record (who did it, if a person),
/// chained in `audit` (the caller flushes it), and the history row that the
/// record covers.
async fn history(
    conn: &mut sqlx::SqliteConnection,
    audit: &mut AuditWriter,
    at: &str,
    push_no: i64,
    status: PushStatus,
    detail: &str,
    by: Option<&str>,
) -> Result<()> {
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM pushes WHERE no = ?")
        .bind(push_no)
        .fetch_one(&mut *conn)
        .await?;
    let seq = audit.append_status(at, (push_no, &id), status, detail, by);
    let device = audit.device();
    sqlx::query(
        "INSERT INTO push_status (push_no, status, detail, at, origin_device, origin_seq) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(push_no)
    .bind(status.as_str())
    .bind(detail)
    .bind(at)
    .bind(device)
    .bind(seq)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
