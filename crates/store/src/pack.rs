//! The evidence pack of a period (`core::pack`), exported from the store:
//! its events (by their own days), their pushes, every device's audit
//! records from the first that covers the period up to that device's last,
//! and the export's own record, chained here in the same transaction.

use crate::audit::AuditWriter;
use crate::{now, Result, Store};
use chrono::NaiveDate;
use ggzy_core::audit::{hex, sm3};
use ggzy_core::pack::{Line, Manifest, PackEvent, PackPush, PackRecord, EXPORTED, FORMAT};
use serde_json::json;
use std::collections::BTreeMap;

/// What an export holds, besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub bytes: Vec<u8>,
    pub events: usize,
    pub pushes: usize,
    pub records: usize,
}

impl Store {
    /// The pack of the days `from` to `to` (both included), recorded in
    /// the trail as exported by `by`.
    pub async fn evidence_pack(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        by: &str,
    ) -> Result<Exported> {
        let center: String = sqlx::query_scalar(
            "SELECT coalesce((SELECT value FROM settings WHERE key = 'center_name'), '')",
        )
        .fetch_one(self.pool())
        .await?;
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let (from_s, to_s) = (from.to_string(), to.to_string());

        // The period's events, by their own day, in the order accepted.
        let events: Vec<(i64, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT e.no, e.id, e.body, d.id, e.origin_device, e.origin_seq FROM events e \
             JOIN devices d ON d.n = e.origin_device \
             WHERE substr(e.body ->> '$.at', 1, 10) BETWEEN ? AND ? ORDER BY e.no",
        )
        .bind(&from_s)
        .bind(&to_s)
        .fetch_all(&mut *conn)
        .await?;

        // Each device's first record: its first in the period, or the first
        // covering one of the period's events, whichever is earlier.
        let mut first: BTreeMap<i64, i64> = sqlx::query_as::<_, (i64, i64)>(
            "SELECT origin_device, min(seq) FROM audit_records \
             WHERE substr(content ->> '$.at', 1, 10) >= ? GROUP BY origin_device",
        )
        .bind(&from_s)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
        for (.., device, seq) in &events {
            let f = first.entry(*device).or_insert(*seq);
            *f = (*f).min(*seq);
        }
        // This device's chain goes on to the export's record.
        let own = self.device_n();
        let own_head: Option<i64> =
            sqlx::query_scalar("SELECT max(seq) FROM audit_records WHERE origin_device = ?")
                .bind(own)
                .fetch_one(&mut *conn)
                .await?;
        if let Some(head) = own_head {
            first.entry(own).or_insert(head);
        }

        let mut out = String::new();
        let manifest = Manifest {
            format: FORMAT,
            center,
            from: from_s.clone(),
            to: to_s.clone(),
            exported_at: now(),
            exported_by: by.to_owned(),
        };
        out.push_str(&Line::Manifest(manifest).to_line());
        let mut records = 0;
        for (device, seq) in &first {
            let rows: Vec<RecordRow> = sqlx::query_as(&format!(
                "{RECORDS} WHERE a.origin_device = ? AND a.seq >= ? ORDER BY a.seq"
            ))
            .bind(device)
            .bind(seq)
            .fetch_all(&mut *conn)
            .await?;
            records += rows.len();
            for r in rows {
                out.push_str(&r.line());
            }
        }
        for (_, id, body, device, ..) in &events {
            out.push_str(
                &Line::Event(PackEvent {
                    device: device.clone(),
                    id: id.clone(),
                    body: body.clone(),
                })
                .to_line(),
            );
        }
        let mut pushes = 0;
        for chunk in events.chunks(500) {
            let nos = serde_json::to_string(&chunk.iter().map(|e| e.0).collect::<Vec<_>>())?;
            let rows: Vec<PushRow> = sqlx::query_as(
                "SELECT p.id, e.id AS event, p.rule, p.recipient_role, p.recipient_id, p.recipient_name, \
                 p.channel, p.address, m.head, m.body, p.secret FROM pushes p \
                 JOIN events e ON e.no = p.event JOIN messages m ON m.no = p.message \
                 WHERE p.event IN (SELECT value FROM json_each(?)) ORDER BY p.no",
            )
            .bind(nos)
            .fetch_all(&mut *conn)
            .await?;
            for p in rows {
                pushes += 1;
                out.push_str(
                    &Line::Push(PackPush {
                        id: p.id,
                        event: p.event,
                        rule: p.rule,
                        role: p.recipient_role,
                        recipient_id: p.recipient_id,
                        recipient_name: p.recipient_name,
                        channel: p.channel,
                        address: p.address,
                        head: p.head,
                        body: p.body,
                        secret: p.secret,
                    })
                    .to_line(),
                );
            }
        }

        // The export's record: the SM3 of every byte above, chained here.
        let at = now();
        let mut audit = AuditWriter::load(conn, own).await?;
        let seq = audit.append(
            &at,
            EXPORTED,
            &format!("{from_s}..{to_s}"),
            json!({
                "digest": hex(&sm3(out.as_bytes())),
                "by": by,
                "events": events.len(),
                "pushes": pushes,
                "records": records,
            }),
        );
        audit.flush(conn).await?;
        let export: RecordRow = sqlx::query_as(&format!(
            "{RECORDS} WHERE a.origin_device = ? AND a.seq = ?"
        ))
        .bind(own)
        .bind(seq)
        .fetch_one(&mut *conn)
        .await?;
        out.push_str(&export.line());
        tx.commit().await?;
        Ok(Exported {
            bytes: out.into_bytes(),
            events: events.len(),
            pushes,
            records: records + 1,
        })
    }
}

/// An audit record with its device's uuid.
const RECORDS: &str = "SELECT d.id AS device, a.seq, a.content, a.prev_hash, a.hash \
     FROM audit_records a JOIN devices d ON d.n = a.origin_device";

#[derive(sqlx::FromRow)]
struct RecordRow {
    device: String,
    seq: i64,
    content: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl RecordRow {
    fn line(self) -> String {
        Line::Record(PackRecord {
            device: self.device,
            seq: self.seq,
            content: self.content,
            prev: hex(&self.prev_hash),
            hash: hex(&self.hash),
        })
        .to_line()
    }
}

#[derive(sqlx::FromRow)]
struct PushRow {
    id: uuid::Uuid,
    event: String,
    rule: String,
    recipient_role: String,
    recipient_id: String,
    recipient_name: String,
    channel: String,
    address: String,
    head: String,
    body: String,
    secret: Option<String>,
}
