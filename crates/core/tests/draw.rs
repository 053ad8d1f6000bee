//! The expert draw: no drawn or called-up expert breaks an avoidance rule,
//! over random pools and requests (the rules checked here from the raw
//! data, not through the draw's own `avoidance`); every expert of a
//! specialty is equally likely (chi-square).

use chrono::NaiveDate;
use ggzy_core::draw::{
    draw, tally, to_call, Call, Candidate, DrawError, Inputs, Outcome, Pick, Reply, Request,
};
use ggzy_core::experts::ExpertStatus;
use proptest::prelude::*;
use std::collections::BTreeSet;

const SPECIALTIES: [&str; 3] = ["A01", "A02", "B01"];
const EMPLOYERS: [&str; 5] = ["浙江大学", "台州学院", "宏远建设", "求是咨询", "市交通局"];
const REGIONS: [&str; 3] = ["台州", "杭州", "宁波"];
const DAY: &str = "2026-12-10";

fn day() -> NaiveDate {
    NaiveDate::parse_from_str(DAY, "%Y-%m-%d").unwrap()
}

fn candidate() -> impl Strategy<Value = (Vec<usize>, usize, usize, bool, bool)> {
    (
        proptest::collection::vec(0..SPECIALTIES.len(), 1..3),
        0..EMPLOYERS.len(),
        0..REGIONS.len(),
        proptest::bool::weighted(0.1),
        proptest::bool::weighted(0.1),
    )
}

fn request(
    needs: &[(usize, u32)],
    backups: u32,
    avoid: Vec<String>,
    regions: Vec<String>,
) -> Request {
    let specialties: Vec<_> = needs
        .iter()
        .map(|(s, n)| serde_json::json!({"code": SPECIALTIES[*s], "count": n}))
        .collect();
    serde_json::from_value(serde_json::json!({
        "specialties": specialties,
        "backups": backups,
        "evaluation": {"start": format!("{DAY}T09:00:00+08:00"), "duration_hours": 4, "place": "评标室", "contact_phone": "0576-85110086"},
        "sender": "中心",
        "avoid": avoid,
        "regions": regions,
    }))
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn no_drawn_or_backup_expert_breaks_a_rule(
        pool in proptest::collection::vec(candidate(), 0..60),
        needs in proptest::collection::btree_map(0..SPECIALTIES.len(), 1u32..4, 1..3),
        backups in 0u32..3,
        avoid in proptest::collection::vec(0usize..60, 0..6),
        recent in proptest::collection::vec(0usize..60, 0..6),
        on_project in proptest::collection::vec(0usize..60, 0..3),
        parties in proptest::collection::vec(0..EMPLOYERS.len(), 0..3),
        regions in proptest::collection::vec(0..REGIONS.len(), 0..2),
        seed in any::<[u8; 32]>(),
    ) {
        let id = |i: usize| format!("X{i:02}");
        let candidates: Vec<Candidate> = pool.iter().enumerate().map(|(i, (sp, emp, reg, suspended, away))| Candidate {
            id: id(i),
            specialties: sp.iter().map(|s| SPECIALTIES[*s].to_owned()).collect(),
            employer: EMPLOYERS[*emp].to_owned(),
            region: REGIONS[*reg].to_owned(),
            status: if *suspended { ExpertStatus::Suspended } else { ExpertStatus::Active },
            unavailable: if *away { vec![day()] } else { Vec::new() },
        }).collect();
        let needs: Vec<(usize, u32)> = needs.into_iter().collect();
        let avoid: Vec<String> = avoid.into_iter().map(id).collect();
        let regions: Vec<String> = regions.into_iter().map(|r| REGIONS[r].to_owned()).collect();
        let inputs = Inputs {
            project: "P".into(),
            request: request(&needs, backups, avoid.clone(), regions.clone()),
            parties: parties.iter().map(|p| EMPLOYERS[*p].to_owned()).collect(),
            recent: recent.into_iter().map(id).collect(),
            on_project: on_project.into_iter().map(id).collect(),
            candidates: candidates.clone(),
        };
        // Whether the rules allow an expert, read straight from the data.
        let allowed = |c: &Candidate| {
            c.status == ExpertStatus::Active
                && !c.unavailable.contains(&day())
                && !avoid.contains(&c.id)
                && !inputs.on_project.contains(&c.id)
                && !inputs.parties.contains(&c.employer)
                && !inputs.recent.contains(&c.id)
                && (regions.is_empty() || regions.contains(&c.region))
        };
        match draw(&inputs, &seed) {
            Ok(outcome) => {
                let mut seen = BTreeSet::new();
                for (pick, (s, n)) in outcome.picks.iter().zip(&needs) {
                    prop_assert_eq!(&pick.code, SPECIALTIES[*s]);
                    prop_assert_eq!(pick.drawn.len(), *n as usize);
                    let eligible = candidates.iter().filter(|c| c.specialties.contains(&pick.code) && allowed(c)).count();
                    prop_assert!(pick.backups.len() <= backups as usize);
                    for x in pick.drawn.iter().chain(&pick.backups) {
                        let c = candidates.iter().find(|c| &c.id == x).expect("from the pool");
                        prop_assert!(allowed(c), "{} breaks a rule", x);
                        prop_assert!(c.specialties.contains(&pick.code));
                        prop_assert!(seen.insert(x.clone()), "{} chosen twice", x);
                    }
                    prop_assert!(pick.drawn.len() + pick.backups.len() <= eligible);
                }
            }
            Err(DrawError::Short(s)) => {
                // Short for real: fewer allowed experts of it than asked for
                // (less any chosen for an earlier specialty).
                let eligible = candidates.iter().filter(|c| c.specialties.contains(&s.code) && allowed(c)).count();
                prop_assert!(eligible < s.count as usize + needs.len() * (backups as usize + 3), "{}", s);
                prop_assert!((s.eligible as usize) < s.count as usize);
            }
            Err(e) => prop_assert!(false, "{}", e),
        }
    }
}

/// Ten eligible experts, one drawn each time, 20,000 seeds: each is drawn
/// about 2,000 times. Chi-square with 9 degrees of freedom stays below
/// 27.88 (p = 0.001) for a fair draw.
#[test]
fn every_eligible_expert_is_equally_likely() {
    let candidates: Vec<Candidate> = (0..10)
        .map(|i| Candidate {
            id: format!("E{i}"),
            specialties: vec!["A01".into()],
            employer: "某单位".into(),
            region: String::new(),
            status: ExpertStatus::Active,
            unavailable: Vec::new(),
        })
        .collect();
    let inputs = Inputs {
        project: "P".into(),
        request: request(&[(0, 1)], 0, Vec::new(), Vec::new()),
        parties: Vec::new(),
        recent: Vec::new(),
        on_project: Vec::new(),
        candidates,
    };
    let draws = 20_000u32;
    let mut counts = [0u32; 10];
    for n in 0..draws {
        let seed: [u8; 32] = ggzy_core::audit::sm3(n.to_le_bytes());
        let drawn = draw(&inputs, &seed).unwrap().drawn();
        let i: usize = drawn[0][1..].parse().unwrap();
        counts[i] += 1;
    }
    let expected = f64::from(draws) / 10.0;
    let chi2: f64 = counts
        .iter()
        .map(|&c| (f64::from(c) - expected).powi(2) / expected)
        .sum();
    assert!(chi2 < 27.88, "chi-square {chi2:.2} over {counts:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Answers in any order, each followed by the calls `to_call` asks for:
    /// only a backup of the declining expert's own specialty is called, in
    /// calling order, nobody twice, and only while a place is open; once
    /// everything is answered, every place is confirmed or counted short.
    #[test]
    fn declines_call_the_next_backups_of_their_specialty(
        sizes in proptest::collection::vec((1usize..4, 0usize..4), 1..3),
        answers in proptest::collection::vec((0usize..20, any::<bool>()), 0..40),
    ) {
        let picks: Vec<Pick> = sizes.iter().enumerate().map(|(s, (drawn, backups))| Pick {
            code: SPECIALTIES[s].to_owned(),
            drawn: (0..*drawn).map(|i| format!("{s}-d{i}")).collect(),
            backups: (0..*backups).map(|i| format!("{s}-b{i}")).collect(),
        }).collect();
        let outcome = Outcome { picks: picks.clone(), excluded: Default::default() };
        let mut calls: Vec<Call> = picks.iter().flat_map(|p| p.drawn.iter().map(|d| Call {
            expert: d.clone(), specialty: p.code.clone(), reply: None,
        })).collect();
        let answer_all = |calls: &mut Vec<Call>, pick: &mut dyn FnMut(usize) -> (usize, bool)| {
            loop {
                let open: Vec<usize> = (0..calls.len()).filter(|i| calls[*i].reply.is_none()).collect();
                if open.is_empty() { break; }
                let (i, yes) = pick(open.len());
                calls[open[i % open.len()]].reply = Some(if yes { Reply::Confirmed } else { Reply::Declined });
                for (code, expert) in to_call(&outcome, calls) {
                    let pick = picks.iter().find(|p| p.code == code).unwrap();
                    // A backup of this specialty, the first not called yet.
                    let next = pick.backups.iter().find(|b| !calls.iter().any(|c| &c.expert == *b));
                    assert_eq!(Some(&expert), next);
                    calls.push(Call { expert, specialty: code, reply: None });
                }
            }
        };
        let mut k = 0;
        let mut script = |_: usize| { let a = answers.get(k).copied().unwrap_or((0, true)); k += 1; a };
        answer_all(&mut calls, &mut script);
        let mut seen = BTreeSet::new();
        for c in &calls {
            prop_assert!(seen.insert(c.expert.clone()), "{} called twice", c.expert);
            prop_assert!(c.expert.starts_with(&picks.iter().position(|p| p.code == c.specialty).unwrap().to_string()));
        }
        for t in tally(&outcome, &calls) {
            prop_assert_eq!(t.waiting, 0);
            prop_assert_eq!(t.confirmed + t.short, t.wanted, "{:?}", t);
            prop_assert!(t.confirmed <= t.wanted);
        }
    }
}

#[test]
fn an_sms_answer_is_read_as_people_write_it() {
    for yes in ["1", " Y ", "yes", "确认。", "参加", "是"] {
        assert_eq!(Reply::from_sms(yes), Some(Reply::Confirmed), "{yes}");
    }
    for no in ["2", "n", "不参加", "拒绝！", "不能参加"] {
        assert_eq!(Reply::from_sms(no), Some(Reply::Declined), "{no}");
    }
    for neither in ["", "3", "好的，谢谢", "1 2"] {
        assert_eq!(Reply::from_sms(neither), None, "{neither}");
    }
}
