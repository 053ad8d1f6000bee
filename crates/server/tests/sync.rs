//! The sync API on a real PostgreSQL, over real HTTP on loopback: each
//! device's series kept whole and in order, a repeated upload a no-op, a
//! rewritten history refused and raised as an alarm, every bad request a
//! 4xx that says what is wrong and applies nothing.

mod common;

use ggzy_core::audit::{chain, hex, sm3, Hash, GENESIS};
use ggzy_core::sync::{Page, Record, Upload, Uploaded};
use serde_json::Value;

struct Server {
    _pg: common::Postgres,
    pool: sqlx::PgPool,
    base: String,
    http: reqwest::Client,
}

const MAX_BODY: usize = 64 * 1024;

async fn server() -> Server {
    let (pg, pool, base) = common::server(MAX_BODY).await;
    Server {
        _pg: pg,
        pool,
        base,
        http: reqwest::Client::new(),
    }
}

impl Server {
    async fn upload(&self, token: &str, up: &Upload) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/api/v1/sync/upload", self.base))
            .bearer_auth(token)
            .json(up)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn download(&self, token: &str, after: i64, limit: i64) -> Page {
        let r = self
            .http
            .get(format!(
                "{}/api/v1/sync/download?after={after}&limit={limit}",
                self.base
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    async fn alarms(&self) -> Vec<String> {
        sqlx::query_scalar("SELECT detail FROM alarms ORDER BY n")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }
}

/// A device's series: `n` records chained from its first, each the record
/// of an accepted event carrying its line.
fn series(device: &str, n: i64) -> Vec<Record> {
    let mut prev: Hash = GENESIS;
    (1..=n)
        .map(|seq| {
            let line = format!(r#"{{"id":"{device}-{seq}"}}"#);
            let content = format!(
                r#"{{"event_digest":"{}","kind":"event.accepted","pushes":0,"pushes_digest":"{}","subject":"{device}-{seq}"}}"#,
                hex(&sm3(&line)),
                ggzy_core::audit::pushes_digest(Vec::new())
            );
            let hash = chain(&prev, &content);
            let r = Record {
                seq,
                content,
                prev_hash: prev,
                hash,
                body: Some(line),
                pushes: Vec::new(),
            };
            prev = hash;
            r
        })
        .collect()
}

#[tokio::test]
async fn series_are_kept_whole_in_one_global_order_and_repeats_change_nothing() {
    let s = server().await;
    let (a_id, b_id) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let a = ggzy_server::tokens::add_device(&s.pool, "甲")
        .await
        .unwrap();
    let b = ggzy_server::tokens::add_device(&s.pool, "乙")
        .await
        .unwrap();
    let a_series = series("a", 5);
    let b_series = series("b", 3);

    let up = |id, records: &[Record]| Upload {
        device_id: id,
        records: records.to_vec(),
        hand_over: Vec::new(),
    };
    let (status, done) = s.upload(&a, &up(a_id, &a_series[..3])).await;
    assert_eq!(status, 200, "{done}");
    let done: Uploaded = serde_json::from_value(done).unwrap();
    assert_eq!((done.stored, done.duplicates, done.head_seq), (3, 0, 3));
    assert_eq!(done.head_hash, hex(&a_series[2].hash));
    assert_eq!(s.upload(&b, &up(b_id, &b_series)).await.0, 200);
    // The answer was lost and the desktop sends again, with what came since.
    let (status, again) = s.upload(&a, &up(a_id, &a_series)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (again["stored"].as_u64(), again["duplicates"].as_u64()),
        (Some(2), Some(3))
    );

    // Downloaded in pages, in the order the server placed them.
    let mut got = Vec::new();
    let mut after = 0;
    loop {
        let page = s.download(&b, after, 3).await;
        got.extend(
            page.records
                .iter()
                .map(|p| (p.device_id, p.record.seq, p.gseq)),
        );
        after = page.next;
        if !page.more {
            break;
        }
    }
    let order: Vec<(uuid::Uuid, i64)> = got.iter().map(|(d, q, _)| (*d, *q)).collect();
    assert_eq!(
        order,
        [
            (a_id, 1),
            (a_id, 2),
            (a_id, 3),
            (b_id, 1),
            (b_id, 2),
            (b_id, 3),
            (a_id, 4),
            (a_id, 5)
        ]
    );
    assert!(got.windows(2).all(|w| w[0].2 < w[1].2), "{got:?}");
    assert_eq!(s.download(&a, after, 10).await.records, []);
    let page = s.download(&a, 0, 1).await;
    assert_eq!(
        page.records[0].record, a_series[0],
        "a record comes back as it went up"
    );
    assert!(s.alarms().await.is_empty());
}

#[tokio::test]
async fn a_rewritten_history_is_refused_and_raised_as_an_alarm() {
    let s = server().await;
    let id = uuid::Uuid::now_v7();
    let token = ggzy_server::tokens::add_device(&s.pool, "甲")
        .await
        .unwrap();
    let original = series("a", 4);
    let up = |records: Vec<Record>| Upload {
        device_id: id,
        records,
        hand_over: Vec::new(),
    };
    assert_eq!(s.upload(&token, &up(original.clone())).await.0, 200);

    // Record 2 changed and the chain rebuilt from there on: every hash holds,
    // but the server holds the original.
    let mut forged = series("a", 1);
    let mut prev = forged[0].hash;
    for seq in 2..=5 {
        let content = format!(r#"{{"kind":"user.login","subject":"forged-{seq}"}}"#);
        let hash = chain(&prev, &content);
        forged.push(Record {
            seq,
            content,
            prev_hash: prev,
            hash,
            body: None,
            pushes: Vec::new(),
        });
        prev = hash;
    }
    let (status, body) = s.upload(&token, &up(forged.clone())).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("tampered")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("第 2 条"),
        "{body}"
    );
    // Only the new tail, chained to the forged record 4 rather than the
    // server's: also refused.
    let (status, body) = s.upload(&token, &up(forged[4..].to_vec())).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("tampered")),
        "{body}"
    );
    let alarms = s.alarms().await;
    assert_eq!(alarms.len(), 2, "{alarms:?}");
    // Each alarm is also a record of the server's own series, chained.
    let chained: Vec<String> = sqlx::query_scalar(
        "SELECT r.content::json->>'detail' FROM records r JOIN devices d ON d.n = r.device \
         WHERE d.name = '(服务器)' AND r.content::json->>'kind' = 'alarm.raised' ORDER BY r.seq",
    )
    .fetch_all(&s.pool)
    .await
    .unwrap();
    assert_eq!(chained, alarms);
    // Nothing of the refused uploads was applied.
    let held: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM records r JOIN devices d ON d.n = r.device WHERE d.name <> '(服务器)'",
    )
    .fetch_one(&s.pool)
    .await
    .unwrap();
    assert_eq!(held, 4);

    // A gap is not tampering: said, and nothing applied.
    let mut next = series("a", 6);
    let (status, body) = s.upload(&token, &up(next.split_off(5))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("gap")),
        "{body}"
    );
    assert_eq!(s.alarms().await.len(), 2);
}

#[tokio::test]
async fn bad_requests_are_refused_with_what_is_wrong_and_apply_nothing() {
    let s = server().await;
    let id = uuid::Uuid::now_v7();
    let token = ggzy_server::tokens::add_device(&s.pool, "甲")
        .await
        .unwrap();
    let other = ggzy_server::tokens::add_device(&s.pool, "乙")
        .await
        .unwrap();
    let records = series("a", 2);
    let up = Upload {
        device_id: id,
        records: records.clone(),
        hand_over: Vec::new(),
    };

    let post = |token: Option<&str>, body: String| {
        let mut r = s
            .http
            .post(format!("{}/api/v1/sync/upload", s.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        async move {
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            (status, text)
        }
    };
    let json = serde_json::to_string(&up).unwrap();
    let (status, text) = post(None, json.clone()).await;
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("no_token"), "{text}");
    let (status, text) = post(Some("ggzy_wrong"), json.clone()).await;
    assert_eq!(status, 401);
    assert!(text.contains("bad_token"), "{text}");
    let (status, text) = post(Some(&token), "{\"device_id\": \"cut sho".into()).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("bad_body"), "{text}");
    let (status, text) = post(Some(&token), "{\"device_id\": 1, \"records\": []}".into()).await;
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("device_id"), "{text}");
    let mut altered = up.clone();
    altered.records[1].content.push(' ');
    let (status, text) = post(Some(&token), serde_json::to_string(&altered).unwrap()).await;
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("哈希"), "{text}");
    // Past the configured size: 413, before the body is read whole.
    let (status, _) = post(Some(&token), json.clone() + &" ".repeat(MAX_BODY)).await;
    assert_eq!(status, 413);

    assert_eq!(post(Some(&token), json.clone()).await.0, 200);
    // Another device's series, with this device's token or its own.
    let (status, text) = post(Some(&other), json.clone()).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("other_device"), "{text}");
    let mut theirs = up.clone();
    theirs.device_id = uuid::Uuid::now_v7();
    let (status, text) = post(Some(&token), serde_json::to_string(&theirs).unwrap()).await;
    assert_eq!(status, 403, "{text}");

    ggzy_server::tokens::revoke_device(&s.pool, "甲")
        .await
        .unwrap();
    let (status, text) = post(Some(&token), json).await;
    assert_eq!(status, 401);
    assert!(text.contains("revoked_token"), "{text}");
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM records")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    assert_eq!(held, 2, "only the one good upload");
}

#[tokio::test]
async fn health_says_whether_the_database_answers() {
    let s = server().await;
    let r = s
        .http
        .get(format!("{}/health", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.pool.close().await;
    let r = s
        .http
        .get(format!("{}/health", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
}
