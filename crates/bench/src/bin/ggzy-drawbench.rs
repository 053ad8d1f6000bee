//! `make bench-draw`: an expert draw over a pool of 50,000 experts with
//! every avoidance rule in play (suspended, unavailable on the day, the
//! project's avoidance list, drawn for the project before, the parties'
//! employers, drawn recently, a region rule), beside the time to read the
//! pool from the database, in the same run.
//! Target (issue 23): the draw, as `ggzy draw run` does it (pool read,
//! commitment, draw, the 4.6 event, reveal), at most 100 ms.

use anyhow::{ensure, Result};
use ggzy_core::draw::{self, Candidate, Inputs, Request};
use ggzy_core::experts::check_character;
use ggzy_core::role::StaffRole;
use ggzy_providers::targets::Targets;
use ggzy_store::users::NewUser;
use ggzy_store::Store;
use std::process::ExitCode;
use std::time::Instant;

const POOL: usize = 50_000;
const ROUNDS: usize = 5;
const PROJECT: &str = "BENCH-0001";

fn main() -> Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(run())
}

/// A valid resident ID for a 17-digit prefix.
fn id_number(prefix: &str) -> String {
    format!("{prefix}{}", check_character(prefix).expect("17 digits"))
}

/// 50,000 experts over 40 specialties, 500 employers (some of them the
/// project's parties), 11 regions; 2 % suspended, 3 % away on the day.
fn roster() -> String {
    let mut s =
        String::from("id,name,id_number,phone,specialties,employer,region,status,unavailable\n");
    for i in 0..POOL {
        let specialties = format!("S{:02};S{:02}", i % 40, (i / 40) % 40);
        let employer = match i % 500 {
            0 => "台州市交通运输局".to_owned(),
            1 => "浙江求是工程咨询有限公司".to_owned(),
            2..=4 => format!("投标单位{}", i % 500),
            n => format!("单位{n}"),
        };
        let status = if i % 50 == 7 { "suspended" } else { "active" };
        let away = if i % 33 == 5 { "2026-12-20" } else { "" };
        s.push_str(&format!(
            "X{i:05},专家{i},{},139{i:08},{specialties},{employer},地区{},{status},{away}\n",
            id_number(&format!("33100219700101{:03}", i % 1000)),
            i % 11
        ));
    }
    s
}

fn request(avoid: &[String]) -> Request {
    serde_json::from_value(serde_json::json!({
        "specialties": [{"code": "S01", "count": 5}, {"code": "S02", "count": 4}, {"code": "S17", "count": 3}],
        "backups": 3,
        "evaluation": {"start": "2026-12-20T09:00:00+08:00", "duration_hours": 4, "place": "评标室", "contact_phone": "0576-85110086"},
        "sender": "台州市公共资源交易中心",
        "avoid": avoid,
        "recent_days": 30,
        "regions": ["地区1", "地区2", "地区3", "地区4", "地区5", "地区6", "地区7", "地区8"],
    }))
    .expect("a valid request")
}

async fn run() -> Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("draw.db")).await?;
    for (username, role) in [
        ("cs", StaffRole::CenterStaff),
        ("ss", StaffRole::SupervisorStaff),
    ] {
        let user = NewUser {
            username: username.into(),
            name: role.zh().into(),
            role,
            phone: None,
            email: None,
            password: None,
        };
        store.add_user(user, "bench").await?;
    }
    let t = Instant::now();
    let report = store
        .import_experts(roster().as_bytes(), "bench.csv", "bench")
        .await?;
    ensure!(
        report.refused.is_empty(),
        "roster refused: {:?}",
        &report.refused[..1]
    );
    println!(
        "a pool of {} experts imported in {:.2} s",
        report.added,
        t.elapsed().as_secs_f64()
    );
    let lines = [
        r#"{"id":"b1","type":"project.registered","at":"2026-11-02T09:00:00+08:00","project":"BENCH-0001","name":"基准项目","tenderer":{"id":"T","name":"台州市交通运输局","phone":"0576-88100001"},"agency":{"id":"A","name":"浙江求是工程咨询有限公司","phone":"0576-88100002"}}"#.to_owned(),
        r#"{"id":"b2","type":"filing.submitted","at":"2026-11-03T09:00:00+08:00","project":"BENCH-0001","stage":"tender_notice"}"#.to_owned(),
        r#"{"id":"b3","type":"filing.reviewed","at":"2026-11-04T09:00:00+08:00","project":"BENCH-0001","stage":"tender_notice","outcome":"passed"}"#.to_owned(),
        r#"{"id":"b4","type":"materials.submitted","at":"2026-11-05T09:00:00+08:00","project":"BENCH-0001","stage":"tender_notice"}"#.to_owned(),
        r#"{"id":"b5","type":"materials.verified","at":"2026-11-05T10:00:00+08:00","project":"BENCH-0001","stage":"tender_notice","outcome":"passed"}"#.to_owned(),
        r#"{"id":"b6","type":"notice.published","at":"2026-11-06T09:00:00+08:00","project":"BENCH-0001","stage":"tender_notice","url":"https://ggzy.example/1"}"#.to_owned(),
    ];
    let mut all = lines.to_vec();
    for b in 2..=4 {
        all.push(format!(
            r#"{{"id":"bb{b}","type":"project.bidder_added","at":"2026-11-07T09:00:00+08:00","project":"BENCH-0001","bidder":{{"id":"B{b}","name":"投标单位{b}","phone":"1390000000{b}"}}}}"#
        ));
    }
    let s = store
        .import(all.join("\n").as_bytes(), "bench", |_| {})
        .await?;
    ensure!(
        s.refused.is_empty(),
        "the bench project was refused: {:?}",
        s.refused
    );

    let avoid: Vec<String> = (0..200).map(|i| format!("X{:05}", i * 97)).collect();
    let mut targets = Targets::default();
    let (mut reads, mut decides, mut draws) = (Vec::new(), Vec::new(), Vec::new());
    println!("round   read pool ms   decide ms   draw run ms   drawn   excluded");
    for round in 1..=ROUNDS {
        let t = Instant::now();
        let pool = store.expert_pool().await?;
        let read = t.elapsed().as_secs_f64() * 1e3;
        ensure!(pool.len() == POOL, "read {} experts", pool.len());

        // The decision alone: the inputs taken from the pool, and the draw.
        let t = Instant::now();
        let candidates = pool.iter().map(Candidate::from);
        let parties = vec!["台州市交通运输局".into()];
        let inputs = Inputs::new(
            PROJECT,
            request(&avoid),
            parties,
            Vec::new(),
            Vec::new(),
            candidates,
        );
        let outcome = draw::draw(&inputs, &draw::new_seed())?;
        let decide = t.elapsed().as_secs_f64() * 1e3;
        ensure!(outcome.drawn().len() == 12);

        // As `ggzy draw run` does it, every rule in play (the draws before
        // this one are "recent" and "on the project").
        let t = Instant::now();
        let d = store.run_draw(PROJECT, request(&avoid), "bench").await?;
        let run = t.elapsed().as_secs_f64() * 1e3;
        let o = d.outcome.expect("drawn");
        let excluded: u32 = o.excluded.values().sum();
        println!(
            "{round:>5}   {read:>12.1}   {decide:>9.1}   {run:>11.1}   {:>5}   {excluded:>8} ({} rules)",
            o.drawn().len(),
            o.excluded.len()
        );
        reads.push(read);
        decides.push(decide);
        draws.push(run);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (read, decide, run) = (median(&mut reads), median(&mut decides), median(&mut draws));
    println!(
        "median: draw run {run:.1} ms (decide {decide:.1} ms) beside reading the pool {read:.1} ms, over {POOL} experts"
    );
    targets.check(run <= 100.0, || {
        format!("draw over {POOL} experts {run:.1} ms > 100 ms")
    });
    Ok(targets.finish())
}
