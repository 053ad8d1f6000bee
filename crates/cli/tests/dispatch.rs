//! `ggzy dispatch`: configured from a file, secrets from the environment,
//! killed with SIGKILL at random points twenty times while 10,000 pushes are
//! queued; afterwards every push is delivered, and the gateway's own log
//! shows no message taken twice under different keys.

mod common;

use common::{ggzy, ok};

use rand::Rng;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// `ggzy dispatch run` with the gateway's secret, its output discarded.
fn dispatcher(db: &Path) -> std::process::Child {
    ggzy(db)
        .env("GGZY_SECRET_SMS_GW", ggzy_providers::SECRET)
        .args(["dispatch", "run", "--poll-ms", "20"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// 5,000 registrations, each telling its tenderer and agency by SMS: 10,000 pushes.
fn intake(path: &Path) {
    let mut lines = String::new();
    for i in 0..5_000 {
        let e = serde_json::json!({
            "id": format!("e{i}"), "type": "project.registered", "at": "2026-11-27T09:30:00+08:00",
            "project": format!("P{i:05}"), "name": format!("第 {i} 号工程"),
            "tenderer": {"id": format!("T{i}"), "name": format!("招标人{i}"), "phone": format!("138{:08}", i)},
            "agency": {"id": format!("A{i}"), "name": format!("代理机构{i}"), "phone": format!("139{:08}", i)},
        });
        lines.push_str(&e.to_string());
        lines.push('\n');
    }
    std::fs::write(path, lines).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_twenty_times_it_still_delivers_every_push_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ggzy.db");
    let fake = ggzy_providers::gateway().await;
    ok(ggzy(&db).args([
        "user",
        "add",
        "--username",
        "zhangwei",
        "--name",
        "张伟",
        "--role",
        "center_staff",
    ]));
    ok(ggzy(&db).args([
        "user",
        "add",
        "--username",
        "wangfang",
        "--name",
        "王芳",
        "--role",
        "supervisor_staff",
    ]));
    intake(&dir.path().join("intake.jsonl"));
    ok(ggzy(&db).arg("import").arg(dir.path().join("intake.jsonl")));

    // A configuration without its secret is refused, saying which variable to set.
    let config = dir.path().join("dispatch.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "sms": [{"kind": "gateway", "name": "gw", "url": fake.url("/sms"), "key_id": "ggzy-test"}],
            "retry": {"first_retry_secs": 0, "max_retry_secs": 1, "timeout_ms": 2000},
        })
        .to_string(),
    )
    .unwrap();
    let refused = ggzy(&db)
        .arg("dispatch")
        .arg("configure")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("GGZY_SECRET_SMS_GW"));
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"sms": [{"kind": "gateway", "name": "gw", "url": "x"}]}"#,
    )
    .unwrap();
    let refused = ggzy(&db)
        .arg("dispatch")
        .arg("configure")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("key_id"),
        "names the missing field"
    );
    ok(ggzy(&db)
        .env("GGZY_SECRET_SMS_GW", ggzy_providers::SECRET)
        .arg("dispatch")
        .arg("configure")
        .arg(&config));
    assert!(!std::fs::read_to_string(&db)
        .unwrap_or_default()
        .contains(ggzy_providers::SECRET));

    // Twenty starts, each killed with SIGKILL at a random moment.
    let mut rng = rand::thread_rng();
    for round in 0..20 {
        let mut child = dispatcher(&db);
        tokio::time::sleep(Duration::from_millis(rng.gen_range(200..1500))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        eprintln!("round {round}: gateway has {} messages", fake.taken());
    }
    // A second dispatcher on the same database is refused while one runs.
    let mut running = dispatcher(&db);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = ggzy(&db)
        .env("GGZY_SECRET_SMS_GW", ggzy_providers::SECRET)
        .args(["dispatch", "run"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("已有发送程序"),
        "{second:?}"
    );
    running.kill().unwrap();
    running.wait().unwrap();

    let started = Instant::now();
    let out = ok(ggzy(&db)
        .env("GGZY_SECRET_SMS_GW", ggzy_providers::SECRET)
        .args(["dispatch", "run", "--until-idle", "--poll-ms", "20"]));
    assert!(out.contains("发送完毕"), "{out}");
    eprintln!("finished in {:?} after the last kill", started.elapsed());

    let pushes = ok(ggzy(&db).args(["pushes", "--json"]));
    let pushes: Vec<serde_json::Value> = pushes
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(pushes.len(), 10_000);
    let not_sent: Vec<_> = pushes.iter().filter(|p| p["status"] != "sent").collect();
    assert!(
        not_sent.is_empty(),
        "{} not sent, e.g. {:?}",
        not_sent.len(),
        not_sent.first()
    );

    let seen = fake.seen();
    let keys: HashSet<String> = pushes
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    let taken: HashSet<String> = seen.taken.iter().map(|t| t.0.clone()).collect();
    assert_eq!(
        taken, keys,
        "the gateway took every push, under its own key"
    );
    let mut under_keys: HashMap<(String, String), usize> = HashMap::new();
    for (_, to, text) in &seen.taken {
        *under_keys.entry((to.clone(), text.clone())).or_default() += 1;
    }
    assert!(
        under_keys.values().all(|&n| n == 1),
        "a message went out under two keys"
    );
    assert_eq!(seen.bad_signatures, 0);
    eprintln!(
        "repeats under the same key (deduplicated by the gateway): {}; status queries: {}",
        seen.repeats, seen.asked
    );
    ok(ggzy(&db).args(["audit", "verify"]));
}
