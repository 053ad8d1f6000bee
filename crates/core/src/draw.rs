//! The expert draw (专家抽取, 4.6): fair, reproducible and checkable.
//!
//! A draw is a pure function of its recorded inputs and a 32-byte seed. The
//! seed's SM3 hash (the commitment) is recorded and audited before the draw
//! and the seed itself after it, so anyone holding the inputs can re-run the
//! draw and see the same experts come out, and nobody could have picked the
//! seed after seeing who it draws.
//!
//! The procedure, which `ggzy draw verify` repeats:
//! 1. The candidates are the pool's experts holding a requested specialty,
//!    ordered by id (byte order).
//! 2. The random stream is ChaCha20 (RFC 8439 core, 20 rounds) seeded with
//!    the seed; a number below `n` is drawn by rejection from 64-bit words
//!    (a word at or above the largest multiple of `n` is thrown away), so
//!    every choice is exactly uniform.
//! 3. Specialty by specialty, in the request's order, the eligible
//!    candidates (no avoidance rule applies, not chosen yet) are shuffled by
//!    a partial Fisher–Yates: for position i, swap in position i + below(n - i).
//!    The first `count` are drawn, the next `backups` are called in that order.

use crate::audit::sm3_hex;
use crate::event::Evaluation;
use crate::experts::{Expert, ExpertStatus};
use chrono::NaiveDate;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How many experts of a specialty to draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    pub code: String,
    pub count: u32,
}

/// A draw as staff ask for it (and `ggzy draw run --request` reads it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub specialties: Vec<Need>,
    /// Backups per specialty, called in order when someone declines.
    #[serde(default)]
    pub backups: u32,
    pub evaluation: Evaluation,
    /// The sending body named in the 4.6 message.
    pub sender: String,
    /// Experts this project must not draw (its own avoidance list).
    #[serde(default)]
    pub avoid: Vec<String>,
    /// Experts drawn by any project within this many days are not drawn again.
    #[serde(default)]
    pub recent_days: Option<u32>,
    /// If given, only experts of these regions are drawn.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Minutes a called expert has to answer: no answer by then counts as a
    /// decline (default `DEFAULT_REPLY_MINUTES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_minutes: Option<u32>,
}

/// Minutes a called expert has to answer when the request does not say.
pub const DEFAULT_REPLY_MINUTES: u32 = 60;

/// Why a candidate is not drawn (回避), in the order the rules are asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Avoidance {
    Suspended,
    Unavailable,
    Avoided,
    OnProject,
    Employer,
    Recent,
    Region,
}

impl Avoidance {
    pub const ALL: [Avoidance; 7] = [
        Avoidance::Suspended,
        Avoidance::Unavailable,
        Avoidance::Avoided,
        Avoidance::OnProject,
        Avoidance::Employer,
        Avoidance::Recent,
        Avoidance::Region,
    ];

    pub fn zh(self) -> &'static str {
        match self {
            Avoidance::Suspended => "暂停抽取",
            Avoidance::Unavailable => "评标当日不可用",
            Avoidance::Avoided => "本项目回避名单",
            Avoidance::OnProject => "已为本项目抽取",
            Avoidance::Employer => "与招标人、代理机构或投标人同单位",
            Avoidance::Recent => "近期已被抽取",
            Avoidance::Region => "不在限定地区",
        }
    }
}

/// What a draw needs to know of a candidate: nothing that says who they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub id: String,
    pub specialties: Vec<String>,
    pub employer: String,
    pub region: String,
    pub status: ExpertStatus,
    pub unavailable: Vec<NaiveDate>,
}

impl From<&Expert> for Candidate {
    fn from(e: &Expert) -> Self {
        Candidate {
            id: e.id.clone(),
            specialties: e.specialties.clone(),
            employer: e.employer.clone(),
            region: e.region.clone(),
            status: e.status,
            unavailable: e.unavailable.clone(),
        }
    }
}

/// Everything a draw is decided on, recorded with it: `draw verify` re-runs
/// the draw from these and the revealed seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inputs {
    pub project: String,
    pub request: Request,
    /// The project's tenderer, agency and bidders, by name (the employer rule).
    pub parties: Vec<String>,
    /// Experts drawn within `recent_days` before this draw, by any project.
    pub recent: Vec<String>,
    /// Experts this project drew before.
    pub on_project: Vec<String>,
    /// The candidates, ordered by id.
    pub candidates: Vec<Candidate>,
}

impl Inputs {
    /// The inputs of a draw over `pool` (or any experts that include the
    /// candidates): its candidates taken and ordered.
    pub fn new(
        project: &str,
        request: Request,
        parties: Vec<String>,
        recent: Vec<String>,
        on_project: Vec<String>,
        pool: impl IntoIterator<Item = Candidate>,
    ) -> Inputs {
        let wanted: BTreeSet<String> = request.codes().into_iter().collect();
        let mut candidates: Vec<Candidate> = pool
            .into_iter()
            .filter(|c| c.specialties.iter().any(|s| wanted.contains(s)))
            .collect();
        candidates.sort_by(|a, b| a.id.cmp(&b.id));
        Inputs {
            project: project.to_owned(),
            request,
            parties,
            recent,
            on_project,
            candidates,
        }
    }

    /// The inputs as recorded: canonical JSON, and its SM3 (audited).
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).expect("plain values")
    }

    pub fn digest(&self) -> String {
        sm3_hex(self.canonical())
    }

    /// The first rule that keeps a candidate from being drawn, if any.
    pub fn avoidance(&self, c: &Candidate) -> Option<Avoidance> {
        let day = self.request.evaluation.start.date_naive();
        let norm = |s: &str| s.split_whitespace().collect::<String>();
        let employer = norm(&c.employer);
        if c.status == ExpertStatus::Suspended {
            Some(Avoidance::Suspended)
        } else if c.unavailable.contains(&day) {
            Some(Avoidance::Unavailable)
        } else if self.request.avoid.contains(&c.id) {
            Some(Avoidance::Avoided)
        } else if self.on_project.contains(&c.id) {
            Some(Avoidance::OnProject)
        } else if self.parties.iter().any(|p| norm(p) == employer) {
            Some(Avoidance::Employer)
        } else if self.recent.contains(&c.id) {
            Some(Avoidance::Recent)
        } else if !self.request.regions.is_empty() && !self.request.regions.contains(&c.region) {
            Some(Avoidance::Region)
        } else {
            None
        }
    }
}

/// A fresh seed from the operating system's CSPRNG.
pub fn new_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    seed
}

/// The commitment to a seed: its SM3, in hex.
pub fn commitment(seed: &[u8; 32]) -> String {
    sm3_hex(seed)
}

/// One specialty's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pick {
    pub code: String,
    pub drawn: Vec<String>,
    /// In calling order.
    pub backups: Vec<String>,
}

/// A draw's outcome: per specialty, and how many candidates each rule kept out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub picks: Vec<Pick>,
    pub excluded: BTreeMap<Avoidance, u32>,
}

impl Outcome {
    pub fn drawn(&self) -> Vec<String> {
        self.picks.iter().flat_map(|p| p.drawn.clone()).collect()
    }

    pub fn backups(&self) -> Vec<String> {
        self.picks.iter().flat_map(|p| p.backups.clone()).collect()
    }
}

/// A draw that cannot be filled: which specialty, by how many, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("专业 {code} 需抽取 {count} 名，符合条件的只有 {eligible} 名，缺 {short} 名；{why}")]
pub struct Shortage {
    pub code: String,
    pub count: u32,
    pub eligible: u32,
    pub short: u32,
    /// The candidates of this specialty each rule kept out.
    pub excluded: BTreeMap<Avoidance, u32>,
    pub why: String,
}

/// A request that cannot be drawn as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawError {
    #[error("抽取请求无效：{0}")]
    Invalid(String),
    #[error("{0}")]
    Short(Shortage),
}

impl Request {
    /// The specialty codes asked for.
    pub fn codes(&self) -> Vec<String> {
        self.specialties.iter().map(|n| n.code.clone()).collect()
    }

    /// What a request must say.
    pub fn check(&self) -> Result<(), DrawError> {
        let invalid = |m: String| Err(DrawError::Invalid(m));
        if self.specialties.is_empty() {
            return invalid("specialties 不能为空：至少抽取一个专业".into());
        }
        for (i, n) in self.specialties.iter().enumerate() {
            if n.code.trim().is_empty() {
                return invalid(format!("specialties[{i}].code 不能为空"));
            }
            if n.count == 0 {
                return invalid(format!("specialties[{i}].count 须大于 0"));
            }
            if self.specialties[..i].iter().any(|o| o.code == n.code) {
                return invalid(format!("specialties[{i}].code `{}` 重复", n.code));
            }
        }
        if self.sender.trim().is_empty() {
            return invalid("sender 不能为空：4.6 消息须写明发送单位".into());
        }
        let e = &self.evaluation;
        if !(e.duration_hours > 0.0 && e.duration_hours.is_finite()) {
            return invalid("evaluation.duration_hours 须大于 0".into());
        }
        if e.place.trim().is_empty() || e.contact_phone.trim().is_empty() {
            return invalid("evaluation.place 与 evaluation.contact_phone 不能为空".into());
        }
        if self.reply_minutes == Some(0) {
            return invalid("reply_minutes 须大于 0（专家答复时限，分钟）".into());
        }
        Ok(())
    }

    /// Minutes a called expert has to answer.
    pub fn reply_minutes(&self) -> u32 {
        self.reply_minutes.unwrap_or(DEFAULT_REPLY_MINUTES)
    }
}

/// A called expert's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Confirmed,
    Declined,
    /// No answer within the request's time: counts as a decline.
    TimedOut,
}

impl Reply {
    pub fn as_str(self) -> &'static str {
        match self {
            Reply::Confirmed => "confirmed",
            Reply::Declined => "declined",
            Reply::TimedOut => "timed_out",
        }
    }

    pub fn parse(s: &str) -> Option<Reply> {
        [Reply::Confirmed, Reply::Declined, Reply::TimedOut]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    pub fn zh(self) -> &'static str {
        match self {
            Reply::Confirmed => "确认参加",
            Reply::Declined => "不能参加",
            Reply::TimedOut => "超时未答复",
        }
    }

    /// An expert's text message back: 1 / Y / 是 / 确认 / 参加 confirms,
    /// 2 / N / 否 / 拒绝 / 不参加 / 不能参加 declines; anything else is no answer.
    pub fn from_sms(text: &str) -> Option<Reply> {
        let t = text
            .trim()
            .trim_end_matches(['。', '.', '!', '！'])
            .to_uppercase();
        match t.as_str() {
            "1" | "Y" | "YES" | "是" | "确认" | "确认参加" | "参加" => {
                Some(Reply::Confirmed)
            }
            "2" | "N" | "NO" | "否" | "拒绝" | "不参加" | "不能参加" => {
                Some(Reply::Declined)
            }
            _ => None,
        }
    }
}

/// One expert a draw called, as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub expert: String,
    pub specialty: String,
    pub reply: Option<Reply>,
}

/// A specialty's calls added up: how many, never who (what the drawing
/// staff see).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct Tally {
    pub code: String,
    /// Experts the request asked for.
    pub wanted: u32,
    pub called: u32,
    pub confirmed: u32,
    /// Declined, or no answer in time.
    pub declined: u32,
    /// Called and not answered yet.
    pub waiting: u32,
    /// Backups not called yet.
    pub backups_left: u32,
    /// Places no backup is left for.
    pub short: u32,
}

/// Each specialty's tally, in the request's order.
pub fn tally(outcome: &Outcome, calls: &[Call]) -> Vec<Tally> {
    outcome
        .picks
        .iter()
        .map(|pick| {
            let mine = || calls.iter().filter(|c| c.specialty == pick.code);
            let count = |f: fn(Option<Reply>) -> bool| mine().filter(|c| f(c.reply)).count() as u32;
            let confirmed = count(|r| r == Some(Reply::Confirmed));
            let waiting = count(|r| r.is_none());
            let backups_left = pick
                .backups
                .iter()
                .filter(|b| !calls.iter().any(|c| &c.expert == *b))
                .count() as u32;
            let wanted = pick.drawn.len() as u32;
            let open = wanted.saturating_sub(confirmed + waiting);
            Tally {
                code: pick.code.clone(),
                wanted,
                called: mine().count() as u32,
                confirmed,
                declined: count(|r| matches!(r, Some(Reply::Declined | Reply::TimedOut))),
                waiting,
                backups_left,
                short: open.saturating_sub(backups_left),
            }
        })
        .collect()
}

/// Whom to call now, as (specialty, expert): in each specialty where fewer
/// than wanted have confirmed or are still to answer, the next backups not
/// called yet, in calling order. Nobody is called twice.
pub fn to_call(outcome: &Outcome, calls: &[Call]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (pick, t) in outcome.picks.iter().zip(tally(outcome, calls)) {
        let open = t.wanted.saturating_sub(t.confirmed + t.waiting) as usize;
        out.extend(
            pick.backups
                .iter()
                .filter(|b| !calls.iter().any(|c| &c.expert == *b))
                .take(open)
                .map(|b| (pick.code.clone(), b.clone())),
        );
    }
    out
}

/// A number below `n` (n > 0), exactly uniform: 64-bit words by rejection.
fn below(rng: &mut ChaCha20Rng, n: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let x = rng.next_u64();
        if x < zone {
            return x % n;
        }
    }
}

/// Draw: the same inputs and seed always give the same outcome.
pub fn draw(inputs: &Inputs, seed: &[u8; 32]) -> Result<Outcome, DrawError> {
    inputs.request.check()?;
    let mut rng = ChaCha20Rng::from_seed(*seed);
    let mut chosen: BTreeSet<&str> = BTreeSet::new();
    let mut excluded: BTreeMap<Avoidance, u32> = BTreeMap::new();
    let rules: Vec<Option<Avoidance>> = inputs
        .candidates
        .iter()
        .map(|c| inputs.avoidance(c))
        .collect();
    for rule in rules.iter().flatten() {
        *excluded.entry(*rule).or_default() += 1;
    }
    let mut picks = Vec::new();
    for need in &inputs.request.specialties {
        let mut mine: BTreeMap<Avoidance, u32> = BTreeMap::new();
        let mut eligible: Vec<&str> = Vec::new();
        for (c, rule) in inputs.candidates.iter().zip(&rules) {
            if !c.specialties.contains(&need.code) || chosen.contains(c.id.as_str()) {
                continue;
            }
            match rule {
                Some(r) => *mine.entry(*r).or_default() += 1,
                None => eligible.push(&c.id),
            }
        }
        let count = need.count as usize;
        if eligible.len() < count {
            let why = if mine.is_empty() {
                "专家库中该专业的专家不足".to_owned()
            } else {
                let rules: Vec<String> = mine
                    .iter()
                    .map(|(r, n)| format!("{} {n} 名", r.zh()))
                    .collect();
                format!("因回避规则排除：{}", rules.join("，"))
            };
            return Err(DrawError::Short(Shortage {
                code: need.code.clone(),
                count: need.count,
                eligible: eligible.len() as u32,
                short: (count - eligible.len()) as u32,
                excluded: mine,
                why,
            }));
        }
        let take = (count + inputs.request.backups as usize).min(eligible.len());
        for i in 0..take {
            let j = i + below(&mut rng, (eligible.len() - i) as u64) as usize;
            eligible.swap(i, j);
        }
        chosen.extend(&eligible[..take]);
        picks.push(Pick {
            code: need.code.clone(),
            drawn: eligible[..count].iter().map(|s| s.to_string()).collect(),
            backups: eligible[count..take]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        });
    }
    Ok(Outcome { picks, excluded })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(count: u32) -> Request {
        serde_json::from_value(serde_json::json!({
            "specialties": [{"code": "A01", "count": count}],
            "backups": 2,
            "evaluation": {"start": "2026-12-10T09:00:00+08:00", "duration_hours": 4, "place": "评标室", "contact_phone": "0576-85110086"},
            "sender": "临海市公共资源交易中心",
        }))
        .unwrap()
    }

    fn candidate(i: usize) -> Candidate {
        Candidate {
            id: format!("E{i:03}"),
            specialties: vec!["A01".into()],
            employer: format!("单位{}", i % 5),
            region: "台州".into(),
            status: ExpertStatus::Active,
            unavailable: Vec::new(),
        }
    }

    fn inputs(n: usize, count: u32) -> Inputs {
        Inputs {
            project: "P".into(),
            request: request(count),
            parties: vec!["单位0".into()],
            recent: vec!["E001".into()],
            on_project: Vec::new(),
            candidates: (0..n).map(candidate).collect(),
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_experts_and_another_seed_others() {
        let i = inputs(40, 3);
        let a = draw(&i, &[7; 32]).unwrap();
        assert_eq!(a, draw(&i, &[7; 32]).unwrap());
        assert_ne!(a.drawn(), draw(&i, &[8; 32]).unwrap().drawn());
        assert_eq!((a.drawn().len(), a.backups().len()), (3, 2));
        // 单位0 (every fifth) and the recent E001 are never drawn.
        assert_eq!(a.excluded[&Avoidance::Employer], 8);
        assert_eq!(a.excluded[&Avoidance::Recent], 1);
    }

    #[test]
    fn a_shortage_says_by_how_many_and_which_rule() {
        let e = draw(&inputs(10, 9), &[1; 32]).unwrap_err();
        let DrawError::Short(s) = e else {
            panic!("{e}")
        };
        assert_eq!((s.eligible, s.short), (7, 2));
        assert!(
            s.why.contains("与招标人、代理机构或投标人同单位 2 名"),
            "{}",
            s.why
        );
    }

    #[test]
    fn the_commitment_is_the_seeds_sm3() {
        assert_eq!(commitment(&[0; 32]).len(), 64);
        assert_ne!(commitment(&[0; 32]), commitment(&[1; 32]));
    }
}
