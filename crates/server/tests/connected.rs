//! Connected mode: a desktop with a sync server saved in 设置 → 同步 does
//! not send its own pushes; it hands them to the server with its upload,
//! the server sends them (a fake SMS gateway on loopback, its own HTTP
//! server), and what became of each comes back down to the desktop, which
//! shows it and verifies it. A push the server gave up on is re-driven on
//! the desktop and sent again by the server under a new key.

mod common;
#[path = "../../store/tests/common/mod.rs"]
mod store_common;

use ggzy_core::push::{Channel, PushStatus};
use ggzy_dispatch::deployment::SetupError;
use ggzy_dispatch::{Policy, Routes};
use ggzy_server::dispatch::Dispatch;
use ggzy_store::pushes::{Push, PushFilter};
use ggzy_sync::Client;

use store_common::{mobile_project, staffed};

async fn drain(d: &Dispatch) {
    while d.run_once().await.unwrap() > 0 {}
}

async fn pushes(store: &ggzy_store::Store) -> Vec<Push> {
    store.pushes(&PushFilter::default()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_desktops_pushes_are_sent_by_the_server_and_come_back_sent() {
    let (_pg, pool, base) = common::server(16 << 20).await;
    let gateway = ggzy_providers::gateway().await;
    let sms = common::sms_to(&gateway);
    let routes = Routes::default().with(Channel::Sms, sms);
    // One attempt: a push the gateway refuses is dead at once.
    let policy = Policy {
        max_attempts: 1,
        ..Policy::default()
    };
    let server = Dispatch::new(pool.clone(), routes, policy);

    let a = staffed().await;
    let client = Client::new(
        &base,
        &ggzy_server::tokens::add_device(&pool, "甲").await.unwrap(),
    );
    a.store
        .set_settings(&[("sync_server", &base)], "admin")
        .await
        .unwrap();
    // The desktop's own dispatcher refuses to start, naming why.
    let secrets = ggzy_dispatch::secrets::Held::default();
    match ggzy_dispatch::deployment::dispatcher(&a.store, &secrets).await {
        Err(SetupError::Connected(url)) => assert_eq!(url, base),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a connected desktop started its own dispatcher"),
    }

    let lines: Vec<String> = (0..5).map(mobile_project).collect();
    let done = a
        .store
        .import(std::io::Cursor::new(lines.join("\n")), "test", |_| {})
        .await
        .unwrap();
    let total = done.pushes;
    assert!(total >= 10, "{done:?}");
    // The tenderer of P2 cannot be reached this time.
    gateway.log.lock().unwrap().refuse_to = Some("13800000002".into());

    let round = client.round(&a.store).await.unwrap();
    assert_eq!(round.sent.handed, total, "{round:?}");
    // Handed over once: a second round hands nothing again.
    assert_eq!(client.round(&a.store).await.unwrap().sent.handed, 0);
    drain(&server).await;
    client.round(&a.store).await.unwrap();

    let seen = gateway.seen();
    assert_eq!(seen.taken.len() as u64, total - 1);
    assert_eq!(seen.repeats, 0);
    let dead: Vec<Push> = pushes(&a.store)
        .await
        .into_iter()
        .filter(|p| p.status != PushStatus::Sent)
        .collect();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(
        (dead[0].status, dead[0].address.as_str()),
        (PushStatus::Dead, "13800000002")
    );
    let v = a.store.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!(v.broken, None, "{v:?}");

    // Reachable again: staff re-drive the dead push on the desktop; the
    // server sends it under the new series' key, and it comes back sent.
    gateway.log.lock().unwrap().refuse_to = None;
    a.store.requeue(dead[0].no, "cs1").await.unwrap();
    let round = client.round(&a.store).await.unwrap();
    assert_eq!(round.sent.handed, 1, "{round:?}");
    drain(&server).await;
    client.round(&a.store).await.unwrap();
    assert_eq!(gateway.seen().taken.len() as u64, total);
    assert!(pushes(&a.store)
        .await
        .iter()
        .all(|p| p.status == PushStatus::Sent));
    let v = a.store.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!(v.broken, None, "{v:?}");
}
