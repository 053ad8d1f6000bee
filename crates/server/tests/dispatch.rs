//! Connected mode: the pushes of the events the server decides go out from
//! the server. Two server instances on one PostgreSQL send one outbox to a
//! fake SMS gateway on loopback (`ggzy-providers`, its own HTTP server):
//! every push reaches the gateway once, and what became of each comes down
//! to a desktop as a status it shows and verifies.

mod common;
#[path = "../../store/tests/common/mod.rs"]
mod store_common;

use ggzy_core::push::{Channel, PushStatus};
use ggzy_dispatch::{Policy, Routes};
use ggzy_server::dispatch::Dispatch;
use ggzy_store::pushes::PushFilter;
use ggzy_sync::Client;

use store_common::{mobile_project, staffed};

/// One server instance's dispatcher, on its own pool, sending SMS through
/// the fake gateway in small batches so the two instances interleave.
async fn instance(url: &str, gateway: &ggzy_providers::Fake) -> Dispatch {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let sms = common::sms_to(gateway);
    let routes = Routes::default()
        .with(Channel::Sms, sms)
        .with(Channel::Desktop, ggzy_dispatch::channel::Inbox);
    let policy = Policy {
        batch: 7,
        concurrency: 4,
        ..Policy::default()
    };
    Dispatch::new(pool, routes, policy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_instances_send_one_outbox_each_push_once() {
    let pg = common::Postgres::start();
    let url = pg.database("ggzy").await;
    let (pool, base) = ggzy_server::start_local(&url, 16 << 20).await.unwrap();
    let gateway = ggzy_providers::gateway().await;
    let intake = ggzy_server::tokens::add_intake(&pool, "交易系统")
        .await
        .unwrap();
    let a = staffed().await;
    let a_sync = Client::new(
        &base,
        &ggzy_server::tokens::add_device(&pool, "甲").await.unwrap(),
    );
    a_sync.round(&a.store).await.unwrap();

    let lines: Vec<String> = (0..60).map(mobile_project).collect();
    let answer: ggzy_core::sync::IntakeAnswer = reqwest::Client::new()
        .post(format!("{base}/api/v1/intake"))
        .bearer_auth(&intake)
        .body(lines.join("\n"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer.accepted, 60, "{answer:?}");
    let sms: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM records r, json_array_elements(r.pushes::json) p \
         WHERE p->>'channel' = 'sms'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(sms >= 60, "{sms}");

    // Both instances at once, until nothing is due.
    let (one, two) = (
        instance(&url, &gateway).await,
        instance(&url, &gateway).await,
    );
    let drain = |d: Dispatch| async move {
        let mut claimed = 0;
        loop {
            match d.run_once().await.unwrap() {
                0 => return claimed,
                n => claimed += n,
            }
        }
    };
    let (by_one, by_two) = tokio::join!(
        tokio::spawn(drain(one.clone())),
        tokio::spawn(drain(two.clone()))
    );
    let (by_one, by_two) = (by_one.unwrap(), by_two.unwrap());
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((by_one + by_two) as i64, total);
    assert!(by_one > 0 && by_two > 0, "{by_one} + {by_two}");

    let seen = gateway.seen();
    assert_eq!(seen.taken.len() as i64, sms);
    assert_eq!(seen.repeats, 0, "a push reached the gateway twice");
    assert_eq!(seen.requests as i64, sms);
    let open: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status NOT IN ('sent', 'delivered')")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(open, 0);

    // What became of them comes down to the desktop: each of the server's
    // pushes shows as the gateway took it (or delivered, for the inbox),
    // and the desktop's chain with the server's status records verifies.
    a_sync.round(&a.store).await.unwrap();
    let pushes = a.store.pushes(&PushFilter::default()).await.unwrap();
    assert_eq!(pushes.len() as i64, total);
    for p in &pushes {
        let want = match p.channel {
            Channel::Sms => PushStatus::Sent,
            _ => PushStatus::Delivered,
        };
        assert_eq!(p.status, want, "{p:?}");
        assert_eq!(p.held, Some(ggzy_core::push::Hold::Server), "{p:?}");
    }
    let v = a.store.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!(v.broken, None, "{v:?}");
}
