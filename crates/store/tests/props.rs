//! Random event sequences against a real SQLite file: nothing panics, a
//! refused line changes nothing, batch import and line-by-line submission
//! agree, a replay changes nothing, and the audit chain verifies.

mod common;
use common::*;
use ggzy_store::intake::LineOutcome;
use ggzy_store::pushes::PushFilter;
use proptest::prelude::*;
use serde_json::json;

const STAGES: [&str; 8] = [
    "consultation",
    "tender_notice",
    "correction",
    "bid_opening",
    "evaluation_result",
    "award",
    "contract",
    "performance",
];

#[derive(Debug, Clone)]
enum Act {
    Register(u8),
    Bidder(u8, u8),
    Filing(u8, u8, u8),
    Review(u8, u8, u8, bool),
    Materials(u8, u8, u8),
    Verify(u8, u8, u8, bool),
    Publish(u8, u8, u8),
    Experts(u8, u8),
    Refund(u8, Option<u8>),
    Complaint(u8),
    Resolve(u8),
    Garbage(u8),
    Repeat(u8),
}

fn act() -> impl Strategy<Value = Act> {
    let p = 0u8..2;
    let s = 0u8..8;
    let r = 1u8..3;
    prop_oneof![
        1 => p.clone().prop_map(Act::Register),
        2 => (p.clone(), 0u8..4).prop_map(|(p, b)| Act::Bidder(p, b)),
        3 => (p.clone(), s.clone(), r.clone()).prop_map(|(p, s, r)| Act::Filing(p, s, r)),
        3 => (p.clone(), s.clone(), r.clone(), any::<bool>()).prop_map(|(p, s, r, ok)| Act::Review(p, s, r, ok)),
        3 => (p.clone(), s.clone(), r.clone()).prop_map(|(p, s, r)| Act::Materials(p, s, r)),
        3 => (p.clone(), s.clone(), r.clone(), any::<bool>()).prop_map(|(p, s, r, ok)| Act::Verify(p, s, r, ok)),
        3 => (p.clone(), s, r).prop_map(|(p, s, r)| Act::Publish(p, s, r)),
        1 => (p.clone(), 0u8..3).prop_map(|(p, e)| Act::Experts(p, e)),
        1 => (p.clone(), proptest::option::of(0u8..4)).prop_map(|(p, b)| Act::Refund(p, b)),
        1 => (0u8..2).prop_map(Act::Complaint),
        1 => (0u8..2).prop_map(Act::Resolve),
        1 => (0u8..4).prop_map(Act::Garbage),
        1 => any::<u8>().prop_map(Act::Repeat),
    ]
}

fn render(acts: &[Act]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, a) in acts.iter().enumerate() {
        let id = format!("e{i}");
        let code = |p: &u8| format!("P{p}");
        let stage = |s: &u8| STAGES[*s as usize];
        let l = match a {
            Act::Register(p) => register(&id, &code(p)),
            Act::Bidder(p, b) => line(&id, "project.bidder_added", &code(p), json!({"bidder": {"id": format!("B{b}"), "name": format!("投标人{b}"), "phone": format!("1390000000{b}")}})),
            Act::Filing(p, s, r) => {
                let mut f = json!({"stage": stage(s), "round": r});
                if stage(s) == "award" { f["winner"] = "B0".into(); }
                line(&id, "filing.submitted", &code(p), f)
            }
            Act::Review(p, s, r, ok) => line(&id, "filing.reviewed", &code(p), if *ok {
                json!({"stage": stage(s), "round": r, "outcome": "passed"})
            } else {
                json!({"stage": stage(s), "round": r, "outcome": "rejected", "opinion": "不符合要求"})
            }),
            Act::Materials(p, s, r) => line(&id, "materials.submitted", &code(p), json!({"stage": stage(s), "round": r})),
            Act::Verify(p, s, r, ok) => line(&id, "materials.verified", &code(p), if *ok {
                json!({"stage": stage(s), "round": r, "outcome": "passed"})
            } else {
                json!({"stage": stage(s), "round": r, "outcome": "returned", "reason": "资料不全"})
            }),
            Act::Publish(p, s, r) => line(&id, "notice.published", &code(p), json!({"stage": stage(s), "round": r, "url": format!("https://x.cn/{i}")})),
            Act::Experts(p, e) => line(&id, "experts.drawn", &code(p), json!({"sender": "中心", "evaluation": {"start": "2026-12-01T09:00:00+08:00", "duration_hours": 2, "place": "评标室", "contact_phone": "0576-85110086"}, "experts": [{"id": format!("X{e}"), "name": "专家", "phone": "13800000000"}]})),
            Act::Refund(p, b) => line(&id, "deposit.refunded", &code(p), match b { Some(b) => json!({"bidders": [format!("B{b}")]}), None => json!({}) }),
            Act::Complaint(c) => json!({"id": id, "type": "complaint.lodged", "at": "2026-11-27T09:30:00+08:00", "complaint": {"id": format!("C{c}"), "channel": "phone", "complainant": {"id": "c", "name": "林先生", "phone": "13900000009"}, "subject": "未收到通知"}}).to_string(),
            Act::Resolve(c) => json!({"id": id, "type": "complaint.resolved", "at": "2026-11-27T09:30:00+08:00", "complaint_id": format!("C{c}"), "result": "已补发"}).to_string(),
            Act::Garbage(k) => match k {
                0 => "{\"id\":".to_owned(),
                1 => json!({"id": id, "type": "nope", "at": "2026-11-27T09:30:00+08:00"}).to_string(),
                2 => line(&id, "notice.published", "P0", json!({"stage": "award", "url": "javascript:alert(1)"})),
                _ => line(&id, "filing.reviewed", "P0", json!({"stage": "award", "outcome": "rejected"})),
            },
            Act::Repeat(k) if !out.is_empty() => out[*k as usize % out.len()].clone(),
            Act::Repeat(_) => register(&id, "P0"),
        };
        out.push(l);
    }
    out
}

fn accepted_ids(results: &[LineOutcome]) -> Vec<String> {
    results
        .iter()
        .filter_map(|o| match o {
            LineOutcome::Accepted { event_id, .. } => Some(event_id.clone()),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_every_promise(acts in proptest::collection::vec(act(), 1..60)) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let lines = render(&acts);

            // Line by line: each refusal leaves every table as it was.
            let one = staffed().await;
            let mut outcomes = Vec::new();
            for l in &lines {
                let before = snapshot(&one.store).await;
                let out = one.store.submit_event("p", l).await.unwrap();
                if matches!(out, LineOutcome::Refused { .. } | LineOutcome::Duplicate { .. }) {
                    assert_eq!(snapshot(&one.store).await, before, "{l} changed the store");
                }
                outcomes.push(out);
            }

            // In batches: the same events and the same pushes.
            let batch = staffed().await;
            let text = lines.join("\n");
            let summary = batch.store.import(text.as_bytes(), "p", |_| {}).await.unwrap();
            let mut one_ids = accepted_ids(&outcomes);
            assert_eq!(summary.accepted as usize, one_ids.len());
            let keys = |pushes: Vec<ggzy_store::pushes::Push>| {
                let mut k: Vec<(uuid::Uuid, String)> = pushes.into_iter().map(|p| (p.id, p.text)).collect();
                k.sort();
                k
            };
            let a = keys(one.store.pushes(&PushFilter::default()).await.unwrap());
            let b = keys(batch.store.pushes(&PushFilter::default()).await.unwrap());
            assert_eq!(a, b);
            let mut batch_ids: Vec<String> = sqlx::query_scalar("SELECT id FROM events").fetch_all(batch.store.pool()).await.unwrap();
            one_ids.sort();
            batch_ids.sort();
            assert_eq!(one_ids, batch_ids);

            // A replay changes nothing.
            let before = snapshot(&batch.store).await;
            let again = batch.store.import(text.as_bytes(), "p", |_| {}).await.unwrap();
            assert_eq!(again.accepted, 0);
            assert_eq!(snapshot(&batch.store).await, before);

            for db in [&one, &batch] {
                let v = db.store.verify_audit(|_, _| {}).await.unwrap();
                assert_eq!(v.broken, None);
                assert_eq!(v.events as usize, one_ids.len());
            }
        });
    }
}
