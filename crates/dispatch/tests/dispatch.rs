//! The dispatcher against real servers on loopback playing the providers:
//! the demo center's pushes go out, faults are retried, the unknown is
//! asked after, the dead are re-driven, the backup takes over, receipts land.

use ggzy_core::push::Channel;
use ggzy_dispatch::channel::{Failover, Inbox, Outcome, Outgoing, Sender};
use ggzy_dispatch::http::Http;
use ggzy_dispatch::robot::{DingTalk, RateLimit, WeCom};
use ggzy_dispatch::sms::{Aliyun, Gateway};
use ggzy_dispatch::{Dispatcher, Policy, Routes};
use ggzy_providers as providers;
use ggzy_providers::{Fake, Fault};
use ggzy_store::{Store, StoreError};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn http(timeout_ms: u64) -> Http {
    Http::new(
        Duration::from_millis(timeout_ms),
        Duration::from_millis(timeout_ms),
    )
    .unwrap()
}

fn gateway_sender(fake: &Fake, name: &str) -> Gateway {
    gateway_at_port(fake.addr.port(), name)
}

/// A dispatcher sending SMS through the gateway `fake` plays.
fn sms_through(fake: &Fake, store: &Store, policy: Policy) -> Dispatcher {
    Dispatcher::new(
        store.clone(),
        Routes::default().with(Channel::Sms, gateway_sender(fake, "短信网关")),
        policy,
    )
}

fn aliyun_sender(fake: &Fake) -> Aliyun {
    Aliyun {
        name: "阿里云短信".into(),
        endpoint: fake.url("/"),
        access_key_id: providers::ALIYUN_ID.into(),
        access_key_secret: providers::ALIYUN_SECRET.into(),
        sign_name: "临海市公共资源交易中心".into(),
        template_code: "SMS_000001".into(),
        http: http(400),
    }
}

/// A loopback port with nothing behind it (for now).
fn nobody_listening() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The gateway sender aimed at `127.0.0.1:port`.
fn gateway_at_port(port: u16, name: &str) -> Gateway {
    Gateway::new(
        name,
        &format!("http://127.0.0.1:{port}/sms"),
        "ggzy-test",
        providers::SECRET,
        http(400),
    )
}

/// Quick retries, so faults play out in a test's time.
fn quick() -> Policy {
    Policy {
        max_attempts: 4,
        first_retry: Duration::from_millis(20),
        max_retry: Duration::from_millis(80),
        ask_after: Duration::from_millis(20),
        ..Policy::default()
    }
}

/// Run the dispatcher until `done` holds of the push statuses (or fail).
async fn drain(
    d: &Dispatcher,
    store: &Store,
    done: impl Fn(&BTreeMap<String, i64>) -> bool,
) -> BTreeMap<String, i64> {
    drain_channel(d, store, None, done).await
}

/// `drain`, looking at one channel's pushes only.
async fn drain_channel(
    d: &Dispatcher,
    store: &Store,
    channel: Option<&str>,
    done: impl Fn(&BTreeMap<String, i64>) -> bool,
) -> BTreeMap<String, i64> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n = d.run_once().await.unwrap();
        let now = match channel {
            Some(c) => providers::channel_statuses(store, c).await,
            None => providers::statuses(store).await,
        };
        if done(&now) {
            return now;
        }
        assert!(Instant::now() < deadline, "dispatch never settled: {now:?}");
        if n == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Whether the gateway got exactly the SMS pushes queued, each under its own
/// key, with its stored text — where that text has a password's mask, a
/// 12-character one-time password in its place. Names the first difference.
async fn assert_sent_as_queued(store: &Store, mut taken: Vec<(String, String, String)>) {
    let mut queued = sms_texts(store).await;
    taken.sort();
    queued.sort();
    assert_eq!(taken.len(), queued.len());
    for (t, q) in taken.iter().zip(&queued) {
        let same_text = match q.2.split_once(ggzy_core::render::MASK) {
            Some((before, after)) => {
                t.2.len() == q.2.len() - ggzy_core::render::MASK.len() + 12
                    && t.2.starts_with(before)
                    && t.2.ends_with(after)
            }
            None => t.2 == q.2,
        };
        assert!(
            t.0 == q.0 && t.1 == q.1 && same_text,
            "sent {t:?}\nqueued {q:?}"
        );
    }
}

async fn sms_texts(store: &Store) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT lower(substr(hex(id),1,8)||'-'||substr(hex(id),9,4)||'-'||substr(hex(id),13,4)||'-'||substr(hex(id),17,4)||'-'||substr(hex(id),21)), \
         address, text FROM push_texts WHERE channel = 'sms' ORDER BY no",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn the_demo_center_goes_out_through_the_gateway_each_push_once() {
    let (store, _dir) = providers::demo().await;
    let fake = providers::gateway().await;
    let d = Dispatcher::new(
        store.clone(),
        Routes::default()
            .with(Channel::Sms, gateway_sender(&fake, "短信网关"))
            .with(Channel::Desktop, Inbox),
        quick(),
    );
    let done = drain(&d, &store, |s| {
        !s.contains_key("queued") && !s.contains_key("sending")
    })
    .await;
    // 220 SMS sent, 108 inbox items delivered (the two complaints told to the
    // supervisor among them), the one email a dead letter: no email channel here.
    assert_eq!(
        done,
        BTreeMap::from([
            ("sent".into(), 220),
            ("delivered".into(), 108),
            ("dead".into(), 1)
        ])
    );

    let log = fake.seen();
    assert_eq!((log.bad_signatures, log.repeats), (0, 0));
    // the gateway got exactly the texts queued, under their keys.
    assert_sent_as_queued(&store, log.taken).await;

    let (detail,): (String,) = sqlx::query_as(
        "SELECT detail FROM push_status s JOIN pushes p ON p.no = s.push_no WHERE p.channel = 'email'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert!(detail.contains("未配置“电子邮件”通道"), "{detail}");
    // Every status change is in the audit chain, which still verifies.
    let audit: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_trail WHERE kind = 'push.status'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(audit, 329);
    assert_eq!(store.verify_audit(|_, _| {}).await.unwrap().broken, None);
    // No phone number in the history staff read beside the push: masked.
    let plain: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM push_status s JOIN pushes p ON p.no = s.push_no WHERE instr(s.detail, p.address) > 0",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(plain, 0);
}

#[tokio::test]
async fn faults_are_retried_until_delivered_and_nothing_is_lost() {
    let (store, _dir) = providers::demo().await;
    let fake = providers::gateway().await;
    // 500s, a slow answer inside the timeout, and a stall past it after the
    // gateway took the message: the dispatcher must ask, not send twice.
    fake.fail_next(&[
        Fault::Error,
        Fault::Error,
        Fault::Slow(Duration::from_millis(150)),
        Fault::TakeThenStall(Duration::from_secs(2)),
        Fault::Error,
    ]);
    let d = sms_through(
        &fake,
        &store,
        Policy {
            batch: 4,
            concurrency: 1,
            ..quick()
        },
    );
    drain(&d, &store, |s| s.get("sent") == Some(&220)).await;
    let log = fake.seen();
    assert_eq!(log.taken.len(), 220);
    assert_eq!(
        log.repeats, 0,
        "the stalled push was asked after, not sent again"
    );
    assert!(log.asked >= 1);
    let failures: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM push_status WHERE status IN ('retrying', 'unknown')",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(
        failures, 4,
        "three 500s and one unknown, each in the history"
    );
}

/// A dispatcher sending 4 at a time through `fake`, started by `start` on a
/// task of its own, once its 4 first sends are under way: the gateway answers
/// them slowly (350 ms), yet within the client's timeout (400 ms).
async fn four_slow_sends_under_way<F>(
    store: &Store,
    fake: &Fake,
    start: impl FnOnce(Dispatcher) -> F,
) -> (
    Dispatcher,
    tokio::task::JoinHandle<Result<usize, StoreError>>,
)
where
    F: std::future::Future<Output = Result<usize, StoreError>> + Send + 'static,
{
    fake.fail_next(&[Fault::Slow(Duration::from_millis(350)); 4]);
    let d = sms_through(
        fake,
        store,
        Policy {
            batch: 4,
            concurrency: 4,
            ahead: 1,
            ..quick()
        },
    );
    let running = tokio::spawn(start(d.clone()));
    let deadline = Instant::now() + Duration::from_secs(5);
    while d.in_flight() < 4 {
        assert!(
            Instant::now() < deadline,
            "never 4 in flight: {}",
            d.in_flight()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (d, running)
}

/// The in-flight gauge counts sends under way, and a dispatcher stopped
/// mid-send (an admin saving new channel settings restarts it) leaves none
/// counted.
#[tokio::test]
async fn sends_in_flight_are_counted_and_a_stopped_dispatcher_leaves_none() {
    let (store, _dir) = providers::demo().await;
    let fake = providers::gateway().await;
    let (d, running) =
        four_slow_sends_under_way(&store, &fake, |d| async move { d.run_once().await }).await;
    running.abort();
    let _ = running.await;
    assert_eq!(d.in_flight(), 0, "stopped mid-send: nothing is under way");
}

/// A drain's sends are a task of their own: stopping the drain (the
/// dispatcher restarted with new settings) stops them too, at once, and
/// nothing more goes out.
#[tokio::test]
async fn a_stopped_drain_leaves_no_send_under_way_and_sends_nothing_more() {
    let (store, _dir) = providers::demo().await;
    let queued = sms_texts(&store).await.len();
    assert!(queued > 8, "the demo queues {queued} SMS");
    let fake = providers::gateway().await;
    let (d, running) =
        four_slow_sends_under_way(&store, &fake, |d| async move { d.drain().await }).await;
    running.abort();
    let _ = running.await;
    // Well before the slow answers would have come.
    let deadline = Instant::now() + Duration::from_millis(200);
    while d.in_flight() > 0 {
        assert!(
            Instant::now() < deadline,
            "the drain stopped, {} sends still under way",
            d.in_flight()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        fake.taken() <= 4,
        "the drain stopped with 4 sends under way, the gateway took {} of {queued}",
        fake.taken()
    );
}

/// Claims, sends and records run side by side; when recording fails (here
/// the database refuses history rows, as a full disk would), sending stops
/// at once with the error, rather than going on claiming and sending
/// through the queue with nothing recorded.
#[tokio::test]
async fn a_database_failure_stops_the_sends_at_once() {
    let (store, _dir) = providers::demo().await;
    let fake = providers::gateway().await;
    fake.fail_next(&[Fault::Slow(Duration::from_millis(100)); 300]);
    sqlx::query(
        "CREATE TRIGGER no_history BEFORE INSERT ON push_status \
         BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let d = sms_through(
        &fake,
        &store,
        Policy {
            batch: 8,
            concurrency: 4,
            ..quick()
        },
    );
    let draining = tokio::spawn({
        let d = d.clone();
        async move { d.drain().await }
    });
    let stopped = tokio::time::timeout(Duration::from_secs(3), draining)
        .await
        .expect("the drain went on after recording failed")
        .unwrap();
    let err = stopped.unwrap_err().to_string();
    assert!(err.contains("disk is full"), "{err}");
    let taken = fake.taken();
    assert!(
        taken < 60,
        "{taken} of 220 sent: a failed record stops the sends"
    );
    assert_eq!(d.in_flight(), 0);
}

#[tokio::test]
async fn refused_connections_are_retried_until_the_gateway_is_back() {
    let (store, _dir) = providers::demo().await;
    // A port with nothing behind it, for now.
    let port = nobody_listening();
    let down = gateway_at_port(port, "短信网关");
    let d = Dispatcher::new(
        store.clone(),
        Routes::default().with(Channel::Sms, down),
        Policy {
            max_attempts: 50,
            batch: 20,
            ..quick()
        },
    );
    for _ in 0..3 {
        d.run_once().await.unwrap();
    }
    assert!(providers::statuses(&store).await["retrying"] > 0);
    let fake = providers::gateway_at(&format!("127.0.0.1:{port}")).await;
    drain(&d, &store, |s| s.get("sent") == Some(&220)).await;
    assert_eq!((fake.taken(), fake.seen().repeats), (220, 0));
}

#[tokio::test]
async fn after_n_failures_dead_letters_are_re_driven_by_a_person() {
    let (store, _dir) = providers::demo().await;
    let fake = providers::gateway().await;
    let (phone, to_phone): (String, i64) = sqlx::query_as(
        "SELECT address, count(*) FROM pushes WHERE channel = 'sms' GROUP BY address ORDER BY 2 DESC LIMIT 1",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    fake.log.lock().unwrap().refuse_to = Some(phone.clone());
    let d = sms_through(
        &fake,
        &store,
        Policy {
            max_attempts: 3,
            ..quick()
        },
    );
    let done = drain_channel(&d, &store, Some("sms"), |s| {
        s.get("dead") == Some(&to_phone)
    })
    .await;
    assert_eq!(done.get("sent"), Some(&(220 - to_phone)), "{done:?}");
    let dead: Vec<(i64, String)> = sqlx::query_as(
        "SELECT push_no, detail FROM push_status s JOIN pushes p ON p.no = s.push_no \
         WHERE s.status = 'dead' AND p.channel = 'sms'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(
        dead.iter()
            .all(|(_, d)| d.contains("已尝试 3 次，转为死信")),
        "{dead:?}"
    );
    let tries: i64 =
        sqlx::query_scalar("SELECT count(*) FROM push_status WHERE status = 'retrying'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(tries, 2 * to_phone, "two retries, then dead");

    // The carrier is back; a person re-drives each dead letter.
    fake.log.lock().unwrap().refuse_to = None;
    for (no, _) in &dead {
        store.requeue(*no, "zhangwei").await.unwrap();
    }
    drain_channel(&d, &store, Some("sms"), |s| s.get("sent") == Some(&220)).await;
    assert_eq!((fake.taken(), fake.seen().repeats), (220, 0));
    let by: Vec<String> = sqlx::query_scalar(
        "SELECT json_extract(content, '$.by') FROM audit_trail WHERE kind = 'push.status' \
         AND json_extract(content, '$.by') IS NOT NULL",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        by,
        vec!["zhangwei".to_owned(); dead.len()],
        "each re-drive is an audited act of a person"
    );
}

#[tokio::test]
async fn the_backup_provider_delivers_when_the_primary_is_down() {
    let (store, _dir) = providers::demo().await;
    let port = nobody_listening();
    let primary = gateway_at_port(port, "主用网关");
    let aliyun = providers::aliyun().await;
    let backup = aliyun_sender(&aliyun);
    let d = Dispatcher::new(
        store.clone(),
        Routes::default().with(
            Channel::Sms,
            Failover::new(vec![Box::new(primary), Box::new(backup)]),
        ),
        quick(),
    );
    drain(&d, &store, |s| s.get("sent") == Some(&220)).await;
    let log = aliyun.seen();
    assert_eq!(
        (log.taken.len(), log.bad_signatures, log.repeats),
        (220, 0, 0)
    );
    // OutId is the push's key; the template's content its text.
    assert_sent_as_queued(&store, log.taken).await;
    let (detail,): (String,) =
        sqlx::query_as("SELECT detail FROM push_status WHERE status = 'sent' LIMIT 1")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(
        detail.starts_with("主用网关：") && detail.contains("阿里云短信：已受理"),
        "{detail}"
    );
}

#[tokio::test]
async fn alibaba_cloud_is_asked_by_out_id_before_a_resend() {
    let aliyun = providers::aliyun().await;
    let sender = aliyun_sender(&aliyun);
    let m = Outgoing {
        key: uuid::Uuid::now_v7(),
        clause: "4.2".into(),
        title: "项目受理登记".into(),
        recipient: "招标人".into(),
        address: "13812345678".into(),
        text: "【临海市公共资源交易中心】您好！".into(),
    };
    use ggzy_dispatch::channel::Asked;
    assert_eq!(sender.ask(&m).await, Asked::NotReceived);
    assert!(matches!(sender.send(&m).await, Outcome::Accepted(_)));
    assert!(matches!(
        sender.ask(&m).await,
        Asked::Known(Outcome::Accepted(_))
    ));
    let wrong = Aliyun {
        access_key_secret: "not-the-secret".into(),
        ..sender
    };
    assert!(
        matches!(wrong.send(&m).await, Outcome::Rejected(d) if d.contains("SignatureDoesNotMatch"))
    );
}

#[tokio::test]
async fn an_address_no_request_can_go_to_is_named_and_kept_for_a_retry() {
    // Saving the channels refuses such an address; a configuration written by
    // other means still reaches the sender, which sends nothing and says why.
    let gateway = Gateway::new(
        "网关",
        "http://短信 网关/sms",
        "ggzy-test",
        providers::SECRET,
        http(400),
    );
    let m = group_message(1);
    assert!(
        matches!(gateway.send(&m).await, Outcome::Retry(d) if d.contains("地址无效")),
        "retried once the address is mended"
    );
    use ggzy_dispatch::channel::Asked;
    assert!(matches!(gateway.ask(&m).await, Asked::Failed(d) if d.contains("地址无效")));
    // The same for a key id no request header can carry, named as such.
    let gateway = Gateway::new(
        "网关",
        "http://127.0.0.1:1/sms",
        "中心密钥",
        providers::SECRET,
        http(400),
    );
    assert!(
        matches!(gateway.send(&m).await, Outcome::Retry(d) if d.contains("Key ID")),
        "retried once the key id is mended"
    );
    assert!(matches!(gateway.ask(&m).await, Asked::Failed(d) if d.contains("Key ID")));
}

fn group_message(n: usize) -> Outgoing {
    Outgoing {
        key: uuid::Uuid::now_v7(),
        clause: "4.4.1".into(),
        title: "招标文件备案".into(),
        recipient: "监督科".into(),
        address: "group".into(),
        text: format!("第 {n} 条：招标文件备案待审核"),
    }
}

#[tokio::test]
async fn work_group_robots_get_signed_messages_and_wecom_twenty_a_minute() {
    let ding = providers::dingtalk().await;
    let robot = DingTalk {
        webhook: ding.url("/robot/send?access_token=tok"),
        secret: providers::DINGTALK_SECRET.into(),
        http: http(1000),
        limit: RateLimit::per_minute(20),
    };
    assert!(matches!(
        robot.send(&group_message(1)).await,
        Outcome::Delivered(_)
    ));
    let wrong = DingTalk {
        secret: "SEC-wrong".into(),
        ..robot
    };
    assert!(
        matches!(wrong.send(&group_message(2)).await, Outcome::Rejected(d) if d.contains("310000"))
    );
    {
        let log = ding.seen();
        assert_eq!((log.taken.len(), log.bad_signatures), (1, 1));
        assert_eq!(log.taken[0].2, "第 1 条：招标文件备案待审核");
    }

    let wecom = providers::wecom().await;
    let robot = WeCom {
        webhook: format!(
            "{}?key={}",
            wecom.url("/cgi-bin/webhook/send"),
            providers::WECOM_KEY
        ),
        http: http(1000),
        limit: RateLimit::per_minute(20),
    };
    let mut later = 0;
    for n in 0..25 {
        match robot.send(&group_message(n)).await {
            Outcome::Delivered(_) => {}
            Outcome::Later(_, wait) => {
                assert!(wait > Duration::from_secs(50));
                later += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(later, 5);
    assert_eq!(
        wecom.seen().requests,
        20,
        "the limit is kept here, not learnt from refusals"
    );
}

/// The receipts and replies endpoint on a free loopback port, with the
/// gateway's secret and Alibaba's token `tok-123`.
async fn callbacks(store: &Store) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = ggzy_dispatch::receipts::router(
        store.clone(),
        Some(providers::SECRET.into()),
        Some("tok-123".into()),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// POST `body` to `path`, signed as the gateway signs (its own code, not ours).
fn signed(
    client: &reqwest::Client,
    addr: std::net::SocketAddr,
    path: &str,
    body: String,
    secret: &str,
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> {
    let ts = chrono::Utc::now().timestamp().to_string();
    client
        .post(format!("http://{addr}{path}"))
        .header("X-Ggzy-Timestamp", &ts)
        .header(
            "X-Ggzy-Signature",
            providers::verify::gateway(secret, &ts, "POST", path, &body),
        )
        .body(body)
        .send()
}

#[tokio::test]
async fn receipts_make_pushes_delivered_or_failed_once() {
    let (store, _dir) = providers::demo().await;
    let fake = providers::gateway().await;
    let d = sms_through(&fake, &store, quick());
    drain(&d, &store, |s| s.get("sent") == Some(&220)).await;
    let keys: Vec<String> = fake.seen().taken.iter().map(|t| t.0.clone()).collect();

    let addr = callbacks(&store).await;
    let client = reqwest::Client::new();
    let post =
        |body: String, secret: &str| signed(&client, addr, "/receipts/gateway", body, secret);
    let report = |key: &str, status: &str| {
        serde_json::json!({"key": key, "status": status, "detail": "用户已接收"}).to_string()
    };

    assert_eq!(
        post(report(&keys[0], "delivered"), providers::SECRET)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        post(report(&keys[0], "failed"), providers::SECRET)
            .await
            .unwrap()
            .status(),
        200,
        "a repeat is taken"
    );
    assert_eq!(
        post(report(&keys[1], "failed"), providers::SECRET)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        post(report(&keys[2], "delivered"), "wrong")
            .await
            .unwrap()
            .status(),
        401
    );
    let never = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        post(report(&never, "delivered"), providers::SECRET)
            .await
            .unwrap()
            .status(),
        404
    );

    // Alibaba's SmsReport push, through its token URL.
    let ali = serde_json::json!([{"out_id": keys[3], "success": true, "err_code": "DELIVERED", "err_msg": "用户接收成功", "phone_number": "13800000000"}]);
    let r = client
        .post(format!("http://{addr}/receipts/aliyun/tok-123"))
        .json(&ali)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["code"], 0);
    let bad = client
        .post(format!("http://{addr}/receipts/aliyun/guess"))
        .json(&ali)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);

    let s = providers::statuses(&store).await;
    assert_eq!(
        (s["delivered"], s["failed"], s["sent"]),
        (2, 1, 217),
        "{s:?}"
    );
    let history: Vec<(String, String)> = sqlx::query_as(
        "SELECT s.status, s.detail FROM push_status s JOIN sent_keys k ON k.push_no = s.push_no \
         WHERE lower(hex(k.key)) = replace(?, '-', '') ORDER BY s.id",
    )
    .bind(&keys[0])
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        history.len(),
        2,
        "sent, then delivered; the repeat changed nothing: {history:?}"
    );
    assert_eq!(
        history[1],
        ("delivered".into(), "短信网关回执：用户已接收".into())
    );

    // The carrier failed keys[1]; a person re-drives it. The gateway took that
    // key already and would take a resend under it as a repeat: the re-drive
    // goes under a key of its own, and its receipt lands on the same push.
    let (failed_no,): (i64,) =
        sqlx::query_as("SELECT push_no FROM sent_keys WHERE lower(hex(key)) = replace(?, '-', '')")
            .bind(&keys[1])
            .fetch_one(store.pool())
            .await
            .unwrap();
    store.requeue(failed_no, "zhangwei").await.unwrap();
    drain(&d, &store, |s| s.get("sent") == Some(&218)).await;
    let seen = fake.seen();
    assert_eq!(
        (seen.taken.len(), seen.repeats),
        (221, 0),
        "sent again, under a new key"
    );
    let again = &seen.taken[220];
    assert_ne!(again.0, keys[1]);
    assert_eq!(
        again.2,
        seen.taken.iter().find(|t| t.0 == keys[1]).unwrap().2,
        "the same message"
    );
    assert_eq!(
        post(report(&again.0, "delivered"), providers::SECRET)
            .await
            .unwrap()
            .status(),
        200
    );
    let s = providers::statuses(&store).await;
    assert_eq!((s["delivered"], s.get("failed")), (3, None), "{s:?}");
    assert_eq!(store.verify_audit(|_, _| {}).await.unwrap().broken, None);
}

/// The demo center sends nothing anywhere: its dispatcher, needing no
/// configuration, plays a provider, and its pushes move through every state
/// a push log shows. Real channels cannot be configured on it, and a demo
/// database holding some (written by hand) is refused.
#[tokio::test]
async fn the_demo_moves_its_pushes_through_every_state_and_sends_nothing() {
    use ggzy_dispatch::deployment;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("demo.db")).await.unwrap();
    store.seed_demo().await.unwrap();
    let none = ggzy_dispatch::secrets::Memory::default();
    let (dispatcher, _) = deployment::dispatcher(&store, &none)
        .await
        .unwrap()
        .expect("the demo dispatches with no channel configured");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        dispatcher.drain().await.unwrap();
        let s = providers::statuses(&store).await;
        let settled = ["queued", "sending", "retrying", "sent"]
            .iter()
            .all(|k| !s.contains_key(*k));
        if settled {
            break;
        }
        assert!(Instant::now() < deadline, "the demo never settled: {s:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let s = providers::statuses(&store).await;
    assert!(s["delivered"] > s["dead"] + s["failed"], "{s:?}");
    assert!(s["dead"] > 0 && s["failed"] > 0, "{s:?}");
    let retried: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT push_no) FROM push_status WHERE status = 'retrying'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert!(retried > 0, "some were retried");
    let simulated: i64 =
        sqlx::query_scalar("SELECT count(*) FROM push_status WHERE detail LIKE '%模拟%'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(simulated > 100, "{simulated}");
    assert_eq!(store.verify_audit(|_, _| {}).await.unwrap().broken, None);

    let config = r#"{"sms": [{"kind": "gateway", "name": "gw", "url": "https://sms.example.gov.cn/api", "key_id": "k"}]}"#;
    let err = deployment::configure(&store, config, &none, "admin")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("演示中心"), "{err}");
    sqlx::query("INSERT INTO meta (key, value) VALUES ('dispatch_config', ?)")
        .bind(config)
        .execute(store.pool())
        .await
        .unwrap();
    let err = deployment::dispatcher(&store, &none)
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("拒绝发送"), "{err}");
}

#[tokio::test]
async fn a_running_dispatcher_sends_the_days_audit_head_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    store
        .set_settings(
            &[
                ("center_name", "临海市公共资源交易中心"),
                // Due from midnight: whenever the test runs, today's is due.
                ("anchor_time", "00:00"),
                ("anchor_recipients", "王科长 13800000001"),
            ],
            "admin",
        )
        .await
        .unwrap();
    let head = store.audit_head().await.unwrap();
    let fake = providers::gateway().await;
    let d = sms_through(&fake, &store, quick());
    let running = tokio::spawn(async move { d.run(Duration::from_millis(20)).await });
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.taken() == 0 {
        assert!(Instant::now() < deadline, "no anchor was sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The dispatcher goes on; nothing more is sent.
    tokio::time::sleep(Duration::from_millis(200)).await;
    running.abort();
    let log = fake.seen();
    assert_eq!(log.taken.len(), 1, "{:?}", log.taken);
    let (_, to, text) = &log.taken[0];
    assert_eq!(to, "13800000001");
    assert!(text.contains(&head.to_string()), "{text}");
    assert_eq!(store.verify_audit(|_, _| {}).await.unwrap().broken, None);
}

/// Experts answer a 4.6 call by text: the gateway's signed reply callback
/// and Alibaba Cloud's SmsUp push. A "2" calls the next backup (told by
/// 4.6); a "1" confirms; an unsigned reply changes nothing.
#[tokio::test]
async fn sms_replies_answer_a_draw_call() {
    let (store, _dir) = providers::demo().await;
    let mut csv = String::from(
        "id,name,id_number,phone,email,specialties,employer,region,status,unavailable\n",
    );
    for i in 1..=5 {
        let prefix = format!("33108219700101{i:03}");
        let check = ggzy_core::experts::check_character(&prefix).unwrap();
        csv.push_str(&format!(
            "Q{i},专家{i},{prefix}{check},1395861000{i},,A01,单位{i},台州,active,\n"
        ));
    }
    store
        .import_experts(csv.as_bytes(), "r.csv", "admin")
        .await
        .unwrap();
    let start = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let request = serde_json::from_value(serde_json::json!({
        "specialties": [{"code": "A01", "count": 2}], "backups": 1,
        "evaluation": {"start": start, "duration_hours": 4, "place": "评标室", "contact_phone": "0576-85110086"},
        "sender": "临海市公共资源交易中心"}))
    .unwrap();
    let d = store
        .run_draw("LH-2026-0105", request, "zhangwei")
        .await
        .unwrap();
    let o = d.outcome.unwrap();
    let (drawn, backup) = (&o.picks[0].drawn, &o.picks[0].backups[0]);
    let phone = |id: &str| format!("+86 1395861000{}", &id[1..]);

    let addr = callbacks(&store).await;
    let client = reqwest::Client::new();
    let post = |body: String, secret: &str| signed(&client, addr, "/replies/gateway", body, secret);
    let text = |id: &str, t: &str| serde_json::json!({"phone": phone(id), "text": t}).to_string();
    let told = |who: String| {
        let store = store.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM pushes WHERE rule = '4.6' AND recipient_id = ?",
            )
            .bind(who)
            .fetch_one(store.pool())
            .await
            .unwrap()
        }
    };

    let r = post(text(&drawn[0], "2"), "wrong").await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        told(backup.clone()).await,
        0,
        "an unsigned reply changes nothing"
    );
    let r = post(text(&drawn[0], "2"), providers::SECRET).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["result"],
        "recorded"
    );
    assert_eq!(told(backup.clone()).await, 1, "the backup is called");
    let r = post(text(&drawn[0], "好的"), providers::SECRET)
        .await
        .unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["result"],
        "not a yes or a no: nothing recorded"
    );

    let up = serde_json::json!([{"phone_number": phone(&drawn[1]), "content": "1", "send_time": "2026-12-07 10:00:00", "sign_name": "临海交易中心", "dest_code": "", "sequence_id": 1}]);
    let r = client
        .post(format!("http://{addr}/replies/aliyun/tok-123"))
        .json(&up)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["code"], 0);
    let calls = store.draw_calls(&d.id).await.unwrap();
    let replies: Vec<_> = calls
        .iter()
        .map(|c| (c.expert_id.as_str(), c.reply, c.replied_by.as_deref()))
        .collect();
    use ggzy_core::draw::Reply;
    assert_eq!(
        replies,
        [
            (drawn[0].as_str(), Some(Reply::Declined), Some("sms")),
            (drawn[1].as_str(), Some(Reply::Confirmed), Some("sms")),
            (backup.as_str(), None, None),
        ]
    );
}
