//! The synthetic year of a large center: every project's life as intake
//! lines, ordered by time (`make bench` imports it; `make bench-sync` posts
//! it to the sync server).

use anyhow::Result;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::io::{BufWriter, Write};
use std::path::Path;

pub fn project_code(p: u32) -> String {
    format!("TZ-2026-{p:05}")
}

const FIRMS: [&str; 6] = [
    "建设有限公司",
    "市政工程有限公司",
    "建工集团有限公司",
    "信息技术有限公司",
    "环境科技有限公司",
    "机电设备有限公司",
];
const CITIES: [&str; 8] = [
    "临海", "椒江", "黄岩", "路桥", "温岭", "玉环", "天台", "仙居",
];

/// Write the year, ordered by time; returns the number of events.
pub fn generate(path: &Path, projects: u32, max_bidders: u32) -> Result<u64> {
    let mut all: Vec<(i64, String)> = Vec::new();
    for p in 0..projects {
        let mut rng = StdRng::seed_from_u64(p as u64);
        let start = rng.gen_range(0..300 * 24 * 60i64);
        for (minute, line) in lifecycle(p, max_bidders as usize, &mut rng) {
            all.push((start + minute, line));
        }
    }
    all.sort_by_key(|(t, _)| *t);
    let base = chrono::DateTime::parse_from_rfc3339("2026-01-05T08:00:00+08:00")?;
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    for (i, (minute, line)) in all.iter().enumerate() {
        let at = (base + chrono::Duration::minutes(*minute)).to_rfc3339();
        // The id and time are spliced in front so each line stays one JSON object.
        writeln!(out, "{{\"id\":\"y-{i:07}\",\"at\":\"{at}\",{}", &line[1..])?;
    }
    out.flush()?;
    Ok(all.len() as u64)
}

fn lifecycle(p: u32, max_bidders: usize, rng: &mut StdRng) -> Vec<(i64, String)> {
    let code = project_code(p);
    let mut t = 0i64;
    let mut out = Vec::new();
    let mut ev = |rng: &mut StdRng, kind: &str, fields: Value| {
        t += rng.gen_range(30..2 * 24 * 60);
        let mut e = json!({"type": kind, "project": code});
        for (k, v) in fields.as_object().expect("object") {
            e[k] = v.clone();
        }
        out.push((t, e.to_string()));
    };
    let city = CITIES[p as usize % CITIES.len()];
    ev(
        rng,
        "project.registered",
        json!({
            "name": format!("{city}市第{p}号公共基础设施建设工程"),
            "tenderer": {"id": format!("T{p}"), "name": format!("{city}市住房和城乡建设局"), "phone": format!("0576-8{:07}", p)},
            "agency": {"id": format!("A{}", p % 97), "name": "浙江求是工程咨询有限公司", "phone": "0576-88123456", "email": "bid@qiushi.cn"},
        }),
    );
    let bidders = rng.gen_range(max_bidders - 10..=max_bidders);
    for b in 0..bidders {
        ev(
            rng,
            "project.bidder_added",
            json!({"bidder": {"id": format!("B{p}-{b}"), "name": format!("浙江{}{}", CITIES[b % 8], FIRMS[b % 6]), "phone": format!("139{:04}{:04}", p % 10_000, b)}}),
        );
    }
    let url = |s: &str| format!("https://ggzy.taizhou.gov.cn/{s}/{p}");
    let filing = |rng: &mut StdRng,
                  ev: &mut dyn FnMut(&mut StdRng, &str, Value),
                  stage: &str,
                  extra: Value,
                  reject_pct: u32| {
        let mut f = json!({"stage": stage});
        for (k, v) in extra.as_object().expect("object") {
            f[k] = v.clone();
        }
        ev(rng, "filing.submitted", f.clone());
        if rng.gen_range(0..100) < reject_pct {
            let mut r = json!({"stage": stage, "outcome": "rejected", "opinion": "资料不完整，请补充后重新提交"});
            if let Some(round) = f.get("round") {
                r["round"] = round.clone();
            }
            ev(rng, "filing.reviewed", r);
            ev(rng, "filing.submitted", f.clone());
        }
        let mut r = json!({"stage": stage, "outcome": "passed"});
        if let Some(round) = f.get("round") {
            r["round"] = round.clone();
        }
        ev(rng, "filing.reviewed", r);
    };
    let publish = |rng: &mut StdRng,
                   ev: &mut dyn FnMut(&mut StdRng, &str, Value),
                   stage: &str,
                   extra: Value| {
        let mut m = json!({"stage": stage});
        for (k, v) in extra.as_object().expect("object") {
            m[k] = v.clone();
        }
        ev(rng, "materials.submitted", m.clone());
        // One in ten is returned once and submitted again.
        if rng.gen_range(0..100) < 10 {
            let mut r = m.clone();
            r["outcome"] = "returned".into();
            r["reason"] = "公告内容与备案资料不一致，请核对后重新提交".into();
            ev(rng, "materials.verified", r);
            ev(rng, "materials.submitted", m.clone());
        }
        let mut pass = m.clone();
        pass["outcome"] = "passed".into();
        ev(rng, "materials.verified", pass);
        m["url"] = url(stage).into();
        ev(rng, "notice.published", m);
    };
    if rng.gen_range(0..100) < 30 {
        publish(rng, &mut ev, "consultation", json!({}));
    }
    filing(rng, &mut ev, "tender_notice", json!({}), 20);
    publish(rng, &mut ev, "tender_notice", json!({}));
    if rng.gen_range(0..100) < 40 {
        filing(rng, &mut ev, "correction", json!({"round": 1}), 10);
        publish(rng, &mut ev, "correction", json!({"round": 1}));
    }
    let experts: Vec<Value> = (0..5).map(|e| json!({"id": format!("X{}", (p * 7 + e) % 3000), "name": "评标专家", "phone": format!("138{:08}", (p * 7 + e) % 3000)})).collect();
    ev(
        rng,
        "experts.drawn",
        json!({"sender": "台州市公共资源交易中心", "evaluation": {"start": "2026-06-01T09:00:00+08:00", "duration_hours": 4, "place": "交易中心评标室", "contact_phone": "0576-88100000"}, "experts": experts}),
    );
    publish(rng, &mut ev, "bid_opening", json!({}));
    publish(rng, &mut ev, "evaluation_result", json!({}));
    filing(
        rng,
        &mut ev,
        "award",
        json!({"winner": format!("B{p}-0")}),
        10,
    );
    publish(rng, &mut ev, "award", json!({}));
    ev(rng, "deposit.refunded", json!({}));
    filing(rng, &mut ev, "contract", json!({}), 5);
    publish(rng, &mut ev, "contract", json!({}));
    publish(rng, &mut ev, "performance", json!({}));
    out
}
