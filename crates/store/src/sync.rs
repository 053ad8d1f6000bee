//! This desktop's side of sync: its own series going up in order, from
//! where the server's last answer left it. The cursor (`meta
//! sync_uploaded`) is what the server said it holds: it is the server's
//! word, checked against this chain, not a state of this desktop's own, so
//! it has no audit record (one would be a new record to upload, forever).

use crate::{Result, Store, StoreError};
use ggzy_core::audit::Hash;
use ggzy_core::error::ErrorCode;
use ggzy_core::sync::{CarriedPush, HandOver, Record};
use std::collections::HashMap;

mod apply;
pub use apply::Applied;

/// This desktop's pushes to hand to the server, and the cursor past them.
#[derive(Debug, Clone, Default)]
pub struct HandingOver {
    pub pushes: Vec<Handing>,
    pub upto: i64,
}

/// One push to hand over: its local number, id, its event's record and
/// its series of attempts.
#[derive(Debug, Clone, Copy)]
pub struct Handing {
    pub no: i64,
    pub push: uuid::Uuid,
    pub seq: i64,
    pub series: i64,
}

impl HandingOver {
    /// As the server is told of them.
    pub fn wire(&self) -> Vec<HandOver> {
        self.pushes
            .iter()
            .map(|h| HandOver {
                push: h.push,
                seq: h.seq,
                series: h.series,
            })
            .collect()
    }
}

/// Where the server's last answer left this device's series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uploaded {
    /// The last record the server holds (0: none).
    pub seq: i64,
    /// Records of this device's chain the server does not hold yet.
    pub waiting: i64,
}

impl Store {
    /// The sync server this desktop is connected to (设置 → 同步), if any:
    /// then the server sends this desktop's pushes, and its own dispatcher
    /// does not.
    pub async fn connected(&self) -> Result<Option<String>> {
        let server: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'sync_server'")
                .fetch_optional(self.pool())
                .await?;
        Ok(server.filter(|s| !s.trim().is_empty()))
    }

    /// This desktop's pushes to hand to the server, at most `limit`: not
    /// handed over yet (above the `sync_handed` cursor), neither held nor
    /// done, of events whose records the server holds (up to the upload
    /// cursor). With the cursor to keep once the server has them.
    pub async fn to_hand_over(&self, limit: i64) -> Result<HandingOver> {
        let from: i64 = sqlx::query_scalar(
            "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'sync_handed'), 0)",
        )
        .fetch_one(self.pool())
        .await?;
        let uploaded = self.uploaded().await?.seq;
        // Re-driven here since they were handed over: again, first.
        let mut rows: Vec<(i64, uuid::Uuid, i64, i64)> = sqlx::query_as(
            "SELECT p.no, p.id, e.origin_seq, s.series FROM handed h JOIN pushes p ON p.no = h.push_no \
             JOIN events e ON e.no = p.event JOIN push_states s ON s.push_no = p.no \
             WHERE s.series > h.series AND s.status NOT IN ('sent', 'delivered', 'failed', 'dead') \
             ORDER BY p.no LIMIT ?1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let room = limit - rows.len() as i64;
        let fresh: Vec<(i64, uuid::Uuid, i64, i64)> = sqlx::query_as(
            "SELECT p.no, p.id, e.origin_seq, coalesce(s.series, 0) FROM pushes p \
             JOIN events e ON e.no = p.event LEFT JOIN push_states s ON s.push_no = p.no \
             WHERE p.no > ?1 AND e.origin_device = ?2 AND e.origin_seq <= ?3 \
               AND NOT EXISTS (SELECT 1 FROM push_holds h WHERE h.push_no = p.no) \
               AND coalesce(s.status, 'queued') NOT IN ('sent', 'delivered', 'failed', 'dead') \
             ORDER BY p.no LIMIT ?4",
        )
        .bind(from)
        .bind(self.device_n())
        .bind(uploaded)
        .bind(room)
        .fetch_all(self.pool())
        .await?;
        // Past every push of an uploaded event up to the last one taken (all
        // of them when fewer than asked were).
        let upto =
            match fresh.last() {
                Some(last) if fresh.len() as i64 == room => last.0,
                _ if room == 0 => from,
                _ => sqlx::query_scalar(
                    "SELECT coalesce(max(p.no), ?1) FROM pushes p JOIN events e ON e.no = p.event \
                 WHERE p.no > ?1 AND e.origin_device = ?2 AND e.origin_seq <= ?3",
                )
                .bind(from)
                .bind(self.device_n())
                .bind(uploaded)
                .fetch_one(self.pool())
                .await?,
            };
        rows.extend(fresh);
        let pushes = rows
            .into_iter()
            .map(|(no, push, seq, series)| Handing {
                no,
                push,
                seq,
                series,
            })
            .collect();
        Ok(HandingOver { pushes, upto })
    }

    /// The server has `handed`: kept (by id, for the statuses it will send
    /// down), with the cursor past them.
    pub async fn set_handed(&self, handed: &HandingOver) -> Result<()> {
        let mut tx = self.write().await?;
        let conn = tx.conn();
        for chunk in handed.pushes.chunks(10_000) {
            let mut b = sqlx::QueryBuilder::new("INSERT INTO handed (id, push_no, series) ");
            b.push_values(chunk, |mut q, h| {
                q.push_bind(h.push).push_bind(h.no).push_bind(h.series);
            });
            b.push(" ON CONFLICT (id) DO UPDATE SET series = excluded.series");
            b.build().execute(&mut *conn).await?;
        }
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('sync_handed', CAST(?1 AS TEXT)) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(handed.upto)
        .execute(&mut *conn)
        .await?;
        tx.commit().await
    }

    /// This device's records after `after`, in order, at most `limit`, each
    /// with the event line and the pushes an accepted event's record covers.
    pub async fn outgoing(&self, after: i64, limit: i64) -> Result<Vec<Record>> {
        type Row = (i64, String, Vec<u8>, Vec<u8>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT a.seq, a.content, a.prev_hash, a.hash, e.body FROM audit_records a \
             LEFT JOIN events e ON e.origin_device = a.origin_device AND e.origin_seq = a.seq \
             WHERE a.origin_device = ?1 AND a.seq > ?2 ORDER BY a.seq LIMIT ?3",
        )
        .bind(self.device_n())
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut pushes = match (rows.first(), rows.last()) {
            (Some(first), Some(last)) => self.carried(first.0, last.0).await?,
            _ => HashMap::new(),
        };
        rows.into_iter()
            .map(|(seq, content, prev, hash, body)| {
                Ok(Record {
                    seq,
                    content,
                    prev_hash: hash32(seq, prev)?,
                    hash: hash32(seq, hash)?,
                    body,
                    pushes: pushes.remove(&seq).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// The pushes of this device's events recorded from `lo` to `hi`, by
    /// the seq of their event's record.
    async fn carried(&self, lo: i64, hi: i64) -> Result<HashMap<i64, Vec<CarriedPush>>> {
        type Row = (
            i64,
            uuid::Uuid,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT e.origin_seq, p.id, p.rule, p.recipient_role, p.recipient_id, p.recipient_name, p.channel, \
             p.address, m.head, m.body, p.secret FROM events e JOIN pushes p ON p.event = e.no \
             JOIN messages m ON m.no = p.message \
             WHERE e.origin_device = ?1 AND e.origin_seq BETWEEN ?2 AND ?3 ORDER BY p.no",
        )
        .bind(self.device_n())
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool())
        .await?;
        let mut out: HashMap<i64, Vec<CarriedPush>> = HashMap::new();
        for (
            seq,
            id,
            rule,
            role,
            recipient_id,
            recipient_name,
            channel,
            address,
            head,
            body,
            secret,
        ) in rows
        {
            let corrupt = |e: String| StoreError::Corrupt(format!("第 {seq} 条记录的推送：{e}"));
            let push = CarriedPush {
                id,
                rule,
                role: role
                    .try_into()
                    .map_err(|e: ggzy_core::model::UnknownCode| corrupt(e.to_string()))?,
                recipient_id,
                recipient_name,
                channel: channel
                    .try_into()
                    .map_err(|e: ggzy_core::model::UnknownCode| corrupt(e.to_string()))?,
                address,
                head,
                body,
                secret: secret
                    .map(|s| serde_json::from_value(s.into()))
                    .transpose()
                    .map_err(|e| corrupt(e.to_string()))?,
            };
            out.entry(seq).or_default().push(push);
        }
        Ok(out)
    }

    /// How far the server holds this device's series, and how much waits.
    pub async fn uploaded(&self) -> Result<Uploaded> {
        let (seq, head): (i64, i64) = sqlx::query_as(
            "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'sync_uploaded'), 0), \
             coalesce((SELECT seq FROM audit_heads WHERE origin_device = ?1), 0)",
        )
        .bind(self.device_n())
        .fetch_one(self.pool())
        .await?;
        Ok(Uploaded {
            seq,
            waiting: head - seq,
        })
    }

    /// The server says it holds this device's series up to `seq` with
    /// `hash`: kept as the cursor, if this chain has that very record.
    /// A head this chain does not have means one side's history differs:
    /// refused, the cursor left where it was.
    pub async fn set_uploaded(&self, seq: i64, hash: &Hash) -> Result<()> {
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let ours: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT hash FROM audit_records WHERE origin_device = ?1 AND seq = ?2",
        )
        .bind(self.device_n())
        .bind(seq)
        .fetch_optional(&mut *conn)
        .await?;
        if ours.as_deref() != Some(&hash[..]) {
            return Err(StoreError::invalid(
                ErrorCode::Corrupt,
                format!(
                    "同步服务器保存的本机第 {seq} 条记录与本机的不同：本机或服务器上的历史记录被改写过，请联系系统管理员核查（ggzy audit verify --server）"
                ),
            ));
        }
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('sync_uploaded', CAST(?1 AS TEXT)) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(seq)
        .execute(&mut *conn)
        .await?;
        tx.commit().await
    }
}

impl Store {
    /// The hash of device `device_id`'s record `seq` in this database, and
    /// that device's last seq here; `None` for a device this database has
    /// no record of.
    pub async fn series_at(
        &self,
        device_id: &str,
        seq: i64,
    ) -> Result<Option<(Option<Hash>, i64)>> {
        let row: Option<(Option<Vec<u8>>, i64)> = sqlx::query_as(
            "SELECT (SELECT a.hash FROM audit_records a WHERE a.origin_device = d.n AND a.seq = ?2), \
             coalesce((SELECT h.seq FROM audit_heads h WHERE h.origin_device = d.n), 0) \
             FROM devices d WHERE d.id = ?1",
        )
        .bind(device_id)
        .bind(seq)
        .fetch_optional(self.pool())
        .await?;
        row.map(|(hash, last)| Ok((hash.map(|h| hash32(seq, h)).transpose()?, last)))
            .transpose()
    }
}

fn hash32(seq: i64, bytes: Vec<u8>) -> Result<Hash> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("本机第 {seq} 条审计记录的哈希长度不对")))
}
