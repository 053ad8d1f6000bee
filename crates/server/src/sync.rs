//! Upload and download of the devices' series.
//!
//! An upload is the next records of the uploading device's own series, each
//! holding to its chain. It is taken whole or not at all, in one
//! transaction: records the server already holds identically are counted
//! and skipped (an upload repeated after a lost answer); a record the server
//! holds with another hash, or one that does not follow the head the server
//! holds, is tampering: refused, and an alarm kept. New records take their
//! places in the global order from the one `global_seq` row, whose lock
//! orders uploads so places become visible in order.

use crate::tokens::{self, Device};
use crate::{Refused, State};
use axum::extract::{Query, State as Shared};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use ggzy_core::audit::{hex, Hash, GENESIS};
use ggzy_core::sync::{
    Alarm, Alarms, HandOver, Heads, Page, Placed, Record, SeriesHead, Upload, Uploaded,
};
use sqlx::PgPool;

/// Records in one download page at most.
pub const PAGE_MAX: i64 = 5_000;

pub async fn upload(
    Shared(s): Shared<State>,
    headers: HeaderMap,
    body: Result<Json<Upload>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Uploaded>, Refused> {
    let device = tokens::device(&s.pool, &headers).await?;
    let Json(up) = body.map_err(|e| {
        Refused::new(
            e.status(),
            "bad_body",
            format!("上传内容不是有效的同步记录：{}", e.body_text()),
        )
    })?;
    bind(&s.pool, device, up.device_id).await?;
    for r in &up.records {
        r.holds()
            .map_err(|m| Refused::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_record", m))?;
    }
    match store(&s.pool, device.n, &up.records).await {
        Ok(mut done) => {
            done.handed = hand_over(&s.pool, device.n, &up.hand_over).await?;
            tracing::info!(
                device = device.n,
                stored = done.stored,
                duplicates = done.duplicates,
                head = done.head_seq,
                "upload"
            );
            Ok(Json(done))
        }
        Err(Stored::Tampered(detail)) => {
            raise(&s.pool, device.n, &detail).await?;
            tracing::warn!(device = device.n, %detail, "tamper alarm");
            Err(Refused::new(StatusCode::CONFLICT, "tampered", detail))
        }
        Err(Stored::Refused(r)) => Err(r),
    }
}

/// Keep a tamper alarm, apart from the refused upload (which rolled back):
/// in `alarms`, shown to admins, and as a record of the server's own series
/// (`alarm.raised`), chained like every record and taken in by every
/// desktop, so no alarm can be dropped without a trace.
async fn raise(pool: &PgPool, device: i64, detail: &str) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut series = crate::series::Series::open(&mut tx).await?;
    let name: String = sqlx::query_scalar("SELECT name FROM devices WHERE n = $1")
        .bind(device)
        .fetch_one(&mut *tx)
        .await?;
    // Keys sorted, as every record's content.
    let content = serde_json::json!({
        "alarm": "tamper",
        "at": chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
        "detail": detail,
        "kind": ggzy_core::audit::ALARM_RAISED,
        "subject": name,
    });
    series.push(content.to_string(), None, Vec::new());
    series.write(&mut tx).await?;
    sqlx::query("INSERT INTO alarms (device, kind, detail) VALUES ($1, 'tamper', $2)")
        .bind(device)
        .bind(detail)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// A device's first upload binds its id to its token; after that the token
/// writes that series only.
async fn bind(pool: &PgPool, device: Device, id: uuid::Uuid) -> Result<(), Refused> {
    match device.device_id {
        Some(bound) if bound == id => Ok(()),
        Some(_) => Err(Refused::new(
            StatusCode::FORBIDDEN,
            "other_device",
            "该令牌属于另一台设备：每台设备只能上传自己的记录，请为本机另行登记",
        )),
        None => {
            let bound =
                sqlx::query("UPDATE devices SET device_id = $1 WHERE n = $2 AND device_id IS NULL")
                    .bind(id)
                    .bind(device.n)
                    .execute(pool)
                    .await;
            match bound {
                Ok(_) => Ok(()),
                Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Err(Refused::new(
                    StatusCode::FORBIDDEN,
                    "other_device",
                    "这台设备已用另一个令牌登记：请使用原令牌，或请管理员吊销后重新登记",
                )),
                Err(e) => Err(e.into()),
            }
        }
    }
}

enum Stored {
    Tampered(String),
    Refused(Refused),
}

impl From<sqlx::Error> for Stored {
    fn from(e: sqlx::Error) -> Self {
        Stored::Refused(e.into())
    }
}

async fn store(pool: &PgPool, device: i64, records: &[Record]) -> Result<Uploaded, Stored> {
    let mut tx = pool.begin().await?;
    // The head this series has on the server, locked for this upload.
    let head: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM heads WHERE device = $1 FOR UPDATE")
            .bind(device)
            .fetch_optional(&mut *tx)
            .await?;
    let (mut seq, mut hash): (i64, Hash) = match head {
        Some((seq, hash)) => (seq, hash.try_into().unwrap_or([0xff; 32])),
        None => (0, GENESIS),
    };
    let mut duplicates = 0u64;
    let mut fresh: Vec<&Record> = Vec::new();
    for r in records {
        if r.seq <= seq && fresh.is_empty() {
            let held: Option<Vec<u8>> =
                sqlx::query_scalar("SELECT hash FROM records WHERE device = $1 AND seq = $2")
                    .bind(device)
                    .bind(r.seq)
                    .fetch_optional(&mut *tx)
                    .await?;
            if held.as_deref() == Some(&r.hash[..]) {
                duplicates += 1;
                continue;
            }
            return Err(Stored::Tampered(format!(
                "第 {} 条记录与服务器已保存的不同：该设备的历史记录被改写过",
                r.seq
            )));
        }
        if r.seq != seq + 1 {
            return Err(Stored::Refused(Refused::new(
                StatusCode::CONFLICT,
                "gap",
                format!(
                    "缺少第 {} 条起的记录（服务器已有到第 {seq} 条）：请按顺序从第 {} 条上传",
                    seq + 1,
                    seq + 1
                ),
            )));
        }
        if r.prev_hash != hash {
            return Err(Stored::Tampered(format!(
                "第 {} 条记录没有接在服务器保存的第 {seq} 条之后：该设备的历史记录被改写过",
                r.seq
            )));
        }
        seq = r.seq;
        hash = r.hash;
        fresh.push(r);
    }
    if !fresh.is_empty() {
        let n = fresh.len() as i64;
        let last: i64 = sqlx::query_scalar("UPDATE global_seq SET last = last + $1 RETURNING last")
            .bind(n)
            .fetch_one(&mut *tx)
            .await?;
        let first = last - n + 1;
        insert(&mut tx, device, first, &fresh).await?;
        save_head(&mut tx, device, seq, &hash).await?;
    }
    let alarms: i64 = sqlx::query_scalar("SELECT count(*) FROM alarms")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Uploaded {
        stored: fresh.len() as u64,
        duplicates,
        head_seq: seq,
        head_hash: hex(&hash),
        alarms,
        handed: 0,
    })
}

/// Take the pushes a device hands over into the outbox (connected mode):
/// each must be one its own record carries. How many were new.
async fn hand_over(pool: &PgPool, device: i64, pushes: &[HandOver]) -> Result<u64, Refused> {
    if pushes.is_empty() {
        return Ok(0);
    }
    let ids: Vec<uuid::Uuid> = pushes.iter().map(|h| h.push).collect();
    let seqs: Vec<i64> = pushes.iter().map(|h| h.seq).collect();
    let mut tx = pool.begin().await?;
    let series: Vec<i32> = pushes.iter().map(|h| h.series as i32).collect();
    let found: Vec<(uuid::Uuid, i64, i32)> = sqlx::query_as(
        "SELECT h.id, r.gseq, h.series FROM UNNEST($2::UUID[], $3::BIGINT[], $4::INT[]) AS h(id, seq, series) \
         JOIN records r ON r.device = $1 AND r.seq = h.seq \
         WHERE r.pushes IS NOT NULL \
           AND r.pushes::jsonb @> jsonb_build_array(jsonb_build_object('id', h.id::text))",
    )
    .bind(device)
    .bind(&ids)
    .bind(&seqs)
    .bind(&series)
    .fetch_all(&mut *tx)
    .await?;
    if found.len() != pushes.len() {
        let known: std::collections::HashSet<uuid::Uuid> = found.iter().map(|f| f.0).collect();
        let stray = pushes
            .iter()
            .find(|h| !known.contains(&h.push))
            .expect("one is missing");
        return Err(Refused::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_hand_over",
            format!(
                "交由服务器发送的推送 {} 不在本设备第 {} 条记录中：请先上传该记录，或检查本机数据（ggzy audit verify）",
                stray.push, stray.seq
            ),
        ));
    }
    // A push handed over again with a later series was re-driven on its
    // desktop: due again, under that series' key.
    let new = sqlx::query(
        "INSERT INTO outbox (id, gseq, series) SELECT * FROM UNNEST($1::UUID[], $2::BIGINT[], $3::INT[]) \
         ON CONFLICT (id) DO UPDATE SET series = excluded.series, status = 'queued', detail = NULL, \
         attempts = 0, due_at = now(), lease_until = NULL WHERE outbox.series < excluded.series",
    )
    .bind(found.iter().map(|f| f.0).collect::<Vec<_>>())
    .bind(found.iter().map(|f| f.1).collect::<Vec<_>>())
    .bind(found.iter().map(|f| f.2).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(new)
}

/// Write `records` of `device`'s series at the places from `first` on.
pub(crate) async fn insert(
    tx: &mut sqlx::PgConnection,
    device: i64,
    first: i64,
    records: &[&Record],
) -> Result<(), sqlx::Error> {
    let last = first + records.len() as i64 - 1;
    sqlx::query(
        "INSERT INTO records (gseq, device, seq, content, prev_hash, hash, body, pushes) \
         SELECT g, $1, s, c, p, h, b, x FROM UNNEST($2::BIGINT[], $3::BIGINT[], $4::TEXT[], $5::BYTEA[], $6::BYTEA[], \
         $7::TEXT[], $8::TEXT[]) AS t(g, s, c, p, h, b, x)",
    )
    .bind(device)
    .bind((first..=last).collect::<Vec<i64>>())
    .bind(records.iter().map(|r| r.seq).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.content.as_str()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.prev_hash.to_vec()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.hash.to_vec()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.body.as_deref()).collect::<Vec<_>>())
    .bind(
        records
            .iter()
            .map(|r| {
                (!r.pushes.is_empty())
                    .then(|| serde_json::to_string(&r.pushes).expect("plain values"))
            })
            .collect::<Vec<_>>(),
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Hold `hash` at `seq` as the head of `device`'s series.
pub(crate) async fn save_head(
    tx: &mut sqlx::PgConnection,
    device: i64,
    seq: i64,
    hash: &Hash,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO heads (device, seq, hash) VALUES ($1, $2, $3) \
         ON CONFLICT (device) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )
    .bind(device)
    .bind(seq)
    .bind(hash.to_vec())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[derive(Debug, serde::Deserialize)]
pub struct After {
    #[serde(default)]
    pub after: i64,
    pub limit: Option<i64>,
}

/// Every device's records after the cursor, in the global order.
pub async fn download(
    Shared(s): Shared<State>,
    headers: HeaderMap,
    Query(q): Query<After>,
) -> Result<Json<Page>, Refused> {
    tokens::device(&s.pool, &headers).await?;
    let limit = q.limit.unwrap_or(PAGE_MAX).clamp(1, PAGE_MAX);
    type Row = (
        i64,
        uuid::Uuid,
        i64,
        String,
        Vec<u8>,
        Vec<u8>,
        Option<String>,
        Option<String>,
    );
    let mut rows: Vec<Row> = sqlx::query_as(
        "SELECT r.gseq, d.device_id, r.seq, r.content, r.prev_hash, r.hash, r.body, r.pushes \
         FROM records r JOIN devices d ON d.n = r.device \
         WHERE r.gseq > $1 ORDER BY r.gseq LIMIT $2",
    )
    .bind(q.after)
    .bind(limit + 1)
    .fetch_all(&s.pool)
    .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = rows.last().map_or(q.after, |r| r.0);
    let records = rows
        .into_iter()
        .map(
            |(gseq, device_id, seq, content, prev, hash, body, pushes)| {
                Ok(Placed {
                    gseq,
                    device_id,
                    record: Record {
                        seq,
                        content,
                        prev_hash: hash32(prev)?,
                        hash: hash32(hash)?,
                        body,
                        pushes: match pushes {
                            Some(p) => serde_json::from_str(&p).map_err(|_| corrupt())?,
                            None => Vec::new(),
                        },
                    },
                })
            },
        )
        .collect::<Result<Vec<_>, Refused>>()?;
    let last: i64 = sqlx::query_scalar("SELECT last FROM global_seq")
        .fetch_one(&s.pool)
        .await?;
    Ok(Json(Page {
        records,
        next,
        more,
        last,
    }))
}

/// The head the server holds of every series: what a desktop checks its
/// own chain against (`ggzy audit verify --server`).
pub async fn heads(Shared(s): Shared<State>, headers: HeaderMap) -> Result<Json<Heads>, Refused> {
    tokens::device(&s.pool, &headers).await?;
    let rows: Vec<(uuid::Uuid, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT d.device_id, h.seq, h.hash FROM heads h JOIN devices d ON d.n = h.device \
         WHERE d.device_id IS NOT NULL ORDER BY d.n",
    )
    .fetch_all(&s.pool)
    .await?;
    let heads = rows
        .into_iter()
        .map(|(device_id, seq, hash)| {
            Ok(SeriesHead {
                device_id,
                seq,
                hash: hash32(hash)?,
            })
        })
        .collect::<Result<_, Refused>>()?;
    Ok(Json(Heads { heads }))
}

/// The tamper alarms raised, newest first (the last 200).
pub async fn alarms(Shared(s): Shared<State>, headers: HeaderMap) -> Result<Json<Alarms>, Refused> {
    tokens::device(&s.pool, &headers).await?;
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT coalesce(d.name, ''), a.kind, a.detail, to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
         FROM alarms a LEFT JOIN devices d ON d.n = a.device ORDER BY a.n DESC LIMIT 200",
    )
    .fetch_all(&s.pool)
    .await?;
    Ok(Json(Alarms {
        alarms: rows
            .into_iter()
            .map(|(device, kind, detail, at)| Alarm {
                device,
                kind,
                detail,
                at,
            })
            .collect(),
    }))
}

fn hash32(bytes: Vec<u8>) -> Result<Hash, Refused> {
    bytes.try_into().map_err(|_| corrupt())
}

fn corrupt() -> Refused {
    Refused::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "corrupt",
        "服务器数据库中有一条记录已损坏：请联系服务器管理员",
    )
}
