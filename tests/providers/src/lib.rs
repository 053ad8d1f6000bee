//! Real servers on loopback that play the providers: each checks every
//! request's signature and payload the way the provider does, keeps a log of
//! what it took, and can be told to fail. (Only the providers themselves
//! cannot run here; these speak their real request formats.)

pub mod targets;
pub mod verify;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use ggzy_store::Store;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const SECRET: &str = "网关共享密钥-test-1";

/// What the next request meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500, message not taken.
    Error,
    /// Takes the message, then answers only after `Duration` (a client with a
    /// shorter timeout never hears).
    TakeThenStall(Duration),
    /// Answers normally after `Duration`.
    Slow(Duration),
}

#[derive(Default, Clone)]
pub struct Log {
    /// Messages taken, by idempotency key, in arrival order.
    pub taken: Vec<(String, String, String)>,
    pub by_key: HashMap<String, usize>,
    /// Requests that came again under a key already taken (deduplicated).
    pub repeats: usize,
    pub requests: usize,
    pub bad_signatures: usize,
    pub faults: VecDeque<Fault>,
    /// Status queries by key.
    pub asked: usize,
    /// Every message to this number meets HTTP 500.
    pub refuse_to: Option<String>,
    /// When each message of `taken` arrived (Unix time, µs): what a latency
    /// bench reads.
    pub arrived: Vec<u64>,
}

#[derive(Clone)]
pub struct Fake {
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Log>>,
}

impl Fake {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn fail_next(&self, faults: &[Fault]) {
        self.log
            .lock()
            .unwrap()
            .faults
            .extend(faults.iter().copied());
    }

    /// What the server has seen so far (a copy: no lock held).
    pub fn seen(&self) -> Log {
        self.log.lock().unwrap().clone()
    }

    pub fn taken(&self) -> usize {
        self.log.lock().unwrap().taken.len()
    }

    /// Room for `n` messages, so a benchmark's sends do not wait for the log
    /// to grow (oha, its baseline, repeats one key and never adds to it).
    pub fn reserve(&self, n: usize) {
        let mut log = self.log.lock().unwrap();
        log.taken.reserve(n);
        log.by_key.reserve(n);
        log.arrived.reserve(n);
    }
}

type Shared = Arc<Mutex<Log>>;

/// Serve the routes `routes` adds, sharing one log, on `addr`.
async fn fake(addr: &str, routes: impl FnOnce(Router<Shared>) -> Router<Shared>) -> Fake {
    let log = Shared::default();
    let router = routes(Router::new()).with_state(log.clone());
    Fake {
        addr: serve(router, addr).await,
        log,
    }
}

async fn serve(router: Router, addr: &str) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// Take a message under `key` once; a repeat is only counted.
fn take(log: &mut Log, key: &str, to: &str, text: &str) {
    if log.by_key.contains_key(key) {
        log.repeats += 1;
    } else {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        log.arrived.push(now.as_micros() as u64);
        log.by_key.insert(key.to_owned(), log.taken.len());
        log.taken
            .push((key.to_owned(), to.to_owned(), text.to_owned()));
    }
}

/// The generic SMS gateway, at `/sms/messages`.
pub async fn gateway() -> Fake {
    gateway_at("127.0.0.1:0").await
}

pub async fn gateway_at(addr: &str) -> Fake {
    fake(addr, |r| {
        r.route("/sms/messages", post(gateway_send))
            .route("/sms/messages/{key}", get(gateway_ask))
            .route("/sms/arrivals", get(arrivals))
    })
    .await
}

fn signed_ok(headers: &HeaderMap, method: &str, path: &str, body: &str) -> bool {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    h("x-ggzy-key-id") == "ggzy-test"
        && h("x-ggzy-signature")
            == verify::gateway(SECRET, &h("x-ggzy-timestamp"), method, path, body)
}

async fn gateway_send(
    State(log): State<Arc<Mutex<Log>>>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, Json<Value>) {
    let fault = {
        let mut l = log.lock().unwrap();
        l.requests += 1;
        if !signed_ok(&headers, "POST", "/sms/messages", &body) {
            l.bad_signatures += 1;
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "bad signature"})),
            );
        }
        l.faults.pop_front()
    };
    let m: Value = serde_json::from_str(&body).unwrap();
    if log.lock().unwrap().refuse_to.as_deref() == m["to"].as_str() {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": "this number's carrier is down"})),
        );
    }
    let key = m["key"].as_str().unwrap().to_owned();
    assert_eq!(
        headers["idempotency-key"].to_str().unwrap(),
        key,
        "the key goes as Idempotency-Key too"
    );
    let store = |log: &Arc<Mutex<Log>>| {
        take(
            &mut log.lock().unwrap(),
            &key,
            m["to"].as_str().unwrap(),
            m["text"].as_str().unwrap(),
        );
    };
    match fault {
        Some(Fault::Error) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": "boom"})),
            )
        }
        Some(Fault::TakeThenStall(d)) => {
            store(&log);
            tokio::time::sleep(d).await;
        }
        Some(Fault::Slow(d)) => {
            tokio::time::sleep(d).await;
            store(&log);
        }
        None => store(&log),
    }
    (
        StatusCode::ACCEPTED,
        Json(json!({"id": key, "status": "accepted"})),
    )
}

/// `{key: µs}` of every message taken, and how many requests came.
async fn arrivals(State(log): State<Arc<Mutex<Log>>>) -> Json<Value> {
    let l = log.lock().unwrap();
    let arrived: serde_json::Map<String, Value> = l
        .taken
        .iter()
        .zip(&l.arrived)
        .map(|((key, ..), at)| (key.clone(), json!(at)))
        .collect();
    Json(
        json!({ "arrived": arrived, "requests": l.requests, "repeats": l.repeats, "bad_signatures": l.bad_signatures }),
    )
}

async fn gateway_ask(
    State(log): State<Arc<Mutex<Log>>>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> (StatusCode, Json<Value>) {
    let mut l = log.lock().unwrap();
    l.asked += 1;
    if !signed_ok(&headers, "GET", &format!("/sms/messages/{key}"), "") {
        l.bad_signatures += 1;
        return (StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    if l.by_key.contains_key(&key) {
        (StatusCode::OK, Json(json!({"status": "accepted"})))
    } else {
        (StatusCode::NOT_FOUND, Json(json!({})))
    }
}

pub const ALIYUN_ID: &str = "LTAI-test-id";
pub const ALIYUN_SECRET: &str = "aliyun-test-secret";

/// Alibaba Cloud SMS at `/`: checks the RPC signature over the form.
pub async fn aliyun() -> Fake {
    fake("127.0.0.1:0", |r| r.route("/", post(aliyun_call))).await
}

async fn aliyun_call(
    State(log): State<Arc<Mutex<Log>>>,
    Form(mut form): Form<BTreeMap<String, String>>,
) -> Json<Value> {
    let mut l = log.lock().unwrap();
    l.requests += 1;
    let signature = form.remove("Signature").unwrap_or_default();
    if signature != verify::aliyun("POST", &form, ALIYUN_SECRET) || form["AccessKeyId"] != ALIYUN_ID
    {
        l.bad_signatures += 1;
        return Json(
            json!({"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"}),
        );
    }
    for k in [
        "Format",
        "RegionId",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureVersion",
        "Timestamp",
        "Version",
    ] {
        assert!(form.contains_key(k), "common parameter {k} missing");
    }
    assert_eq!(form["Version"], "2017-05-25");
    match form["Action"].as_str() {
        "SendSms" => {
            let param: Value = serde_json::from_str(&form["TemplateParam"]).unwrap();
            assert_eq!(form["SignName"], "临海市公共资源交易中心");
            assert_eq!(form["TemplateCode"], "SMS_000001");
            take(
                &mut l,
                &form["OutId"],
                &form["PhoneNumbers"],
                param["content"].as_str().unwrap(),
            );
            Json(
                json!({"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5"}),
            )
        }
        "QuerySendDetails" => {
            l.asked += 1;
            let dtos: Vec<Value> = l
                .taken
                .iter()
                .filter(|(_, to, _)| *to == form["PhoneNumber"])
                .map(|(key, _, _)| json!({"OutId": key, "SendStatus": 1}))
                .collect();
            Json(json!({"Code": "OK", "SmsSendDetailDTOs": {"SmsSendDetailDTO": dtos}}))
        }
        other => panic!("unexpected action {other}"),
    }
}

pub const DINGTALK_SECRET: &str = "SEC-dingtalk-test";
pub const WECOM_KEY: &str = "wecom-test-key";

/// A DingTalk robot at `/robot/send?access_token=…&timestamp=…&sign=…`.
pub async fn dingtalk() -> Fake {
    fake("127.0.0.1:0", |r| {
        r.route("/robot/send", post(dingtalk_send))
    })
    .await
}

async fn dingtalk_send(
    State(log): State<Arc<Mutex<Log>>>,
    Query(q): Query<HashMap<String, String>>,
    Json(m): Json<Value>,
) -> Json<Value> {
    let mut l = log.lock().unwrap();
    l.requests += 1;
    let ts: i64 = q["timestamp"].parse().unwrap();
    let fresh = (chrono::Utc::now().timestamp_millis() - ts).abs() < 3_600_000;
    if q["access_token"] != "tok" || !fresh || q["sign"] != verify::dingtalk(DINGTALK_SECRET, ts) {
        l.bad_signatures += 1;
        return Json(json!({"errcode": 310000, "errmsg": "sign not match"}));
    }
    assert_eq!(m["msgtype"], "text");
    let n = l.taken.len();
    take(
        &mut l,
        &n.to_string(),
        "group",
        m["text"]["content"].as_str().unwrap(),
    );
    Json(json!({"errcode": 0, "errmsg": "ok"}))
}

/// A WeCom robot at `/cgi-bin/webhook/send?key=…`, refusing the 21st message in a minute.
pub async fn wecom() -> Fake {
    fake("127.0.0.1:0", |r| {
        r.route("/cgi-bin/webhook/send", post(wecom_send))
    })
    .await
}

async fn wecom_send(
    State(log): State<Arc<Mutex<Log>>>,
    Query(q): Query<HashMap<String, String>>,
    Json(m): Json<Value>,
) -> Json<Value> {
    let mut l = log.lock().unwrap();
    l.requests += 1;
    if q.get("key").map(String::as_str) != Some(WECOM_KEY) {
        l.bad_signatures += 1;
        return Json(json!({"errcode": 93000, "errmsg": "invalid webhook url"}));
    }
    if l.taken.len() >= 20 {
        return Json(json!({"errcode": 45009, "errmsg": "api freq out of limit"}));
    }
    let n = l.taken.len();
    take(
        &mut l,
        &n.to_string(),
        "group",
        m["text"]["content"].as_str().unwrap(),
    );
    Json(json!({"errcode": 0, "errmsg": "ok"}))
}

/// A store holding the demo center's data as a center's own (unmarked, so
/// it sends through the channels a test configures), in a temp dir.
pub async fn demo() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    store.seed_sample().await.unwrap();
    (store, dir)
}

pub async fn statuses(store: &Store) -> BTreeMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>("SELECT status, count(*) FROM push_texts GROUP BY 1")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .into_iter()
        .collect()
}

pub async fn channel_statuses(store: &Store, channel: &str) -> BTreeMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>(
        "SELECT status, count(*) FROM push_texts WHERE channel = ? GROUP BY 1",
    )
    .bind(channel)
    .fetch_all(store.pool())
    .await
    .unwrap()
    .into_iter()
    .collect()
}
