//! The intake contract (`spec/intake.md`): one JSON object per line, parsed
//! into a typed [`Envelope`] or refused with the field at fault.

use crate::error::Refusal;
use crate::materials::{CheckedItem, Verdict};
use crate::role::StaffRole;
use chrono::{DateTime, FixedOffset};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

pub use crate::model::Party;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Stage {
    Consultation,
    TenderNotice,
    Correction,
    BidOpening,
    EvaluationResult,
    Award,
    Contract,
    Performance,
}

impl Stage {
    pub const ALL: [Stage; 8] = [
        Stage::Consultation,
        Stage::TenderNotice,
        Stage::Correction,
        Stage::BidOpening,
        Stage::EvaluationResult,
        Stage::Award,
        Stage::Contract,
        Stage::Performance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Consultation => "consultation",
            Stage::TenderNotice => "tender_notice",
            Stage::Correction => "correction",
            Stage::BidOpening => "bid_opening",
            Stage::EvaluationResult => "evaluation_result",
            Stage::Award => "award",
            Stage::Contract => "contract",
            Stage::Performance => "performance",
        }
    }

    /// The stage as staff call it.
    pub fn zh(self) -> &'static str {
        match self {
            Stage::Consultation => "意见征询",
            Stage::TenderNotice => "招标公告",
            Stage::Correction => "更正（澄清、答疑）",
            Stage::BidOpening => "开标",
            Stage::EvaluationResult => "评标结果公示",
            Stage::Award => "中标结果",
            Stage::Contract => "合同",
            Stage::Performance => "履约",
        }
    }

    /// Only these stages pass a filing review (备案审核) before publication.
    pub fn has_filing_review(self) -> bool {
        matches!(
            self,
            Stage::TenderNotice | Stage::Correction | Stage::Award | Stage::Contract
        )
    }

    /// The notice published at the end of the stage, in the standard's words.
    pub fn notice_zh(self) -> &'static str {
        match self {
            Stage::Consultation => "意见征询",
            Stage::TenderNotice => "招标公告",
            Stage::Correction => "更正（澄清、答疑）公告",
            Stage::BidOpening => "开标结果公告",
            Stage::EvaluationResult => "评标结果（中标候选人）公示",
            Stage::Award => "中标（成交）结果公告",
            Stage::Contract => "合同公告",
            Stage::Performance => "履约公告",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Outcome {
    Passed,
    Rejected,
}

impl Outcome {
    pub const ALL: [Outcome; 2] = [Outcome::Passed, Outcome::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Rejected => "rejected",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Outcome::Passed => "通过",
            Outcome::Rejected => "不通过",
        }
    }
}

crate::model::codes!(Stage => "阶段", Outcome => "审核结果");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    #[serde(deserialize_with = "rfc3339")]
    pub start: DateTime<FixedOffset>,
    pub duration_hours: f64,
    pub place: String,
    pub contact_phone: String,
}

/// The four ways of 5.1.1 a complaint comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ComplaintChannel {
    Phone,
    Online,
    EReview,
    SuggestionBox,
}

impl ComplaintChannel {
    pub const ALL: [ComplaintChannel; 4] = [
        ComplaintChannel::Phone,
        ComplaintChannel::Online,
        ComplaintChannel::EReview,
        ComplaintChannel::SuggestionBox,
    ];

    /// As 5.1.1 names it.
    pub fn zh(self) -> &'static str {
        match self {
            ComplaintChannel::Phone => "电话",
            ComplaintChannel::Online => "网上",
            ComplaintChannel::EReview => "电子评价",
            ComplaintChannel::SuggestionBox => "意见箱",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    pub id: String,
    pub channel: ComplaintChannel,
    pub complainant: Party,
    pub subject: String,
}

/// A file kept with a complaint's investigation note: the store keeps its
/// bytes, the event (and so the audit trail) its SM3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Attachment {
    pub name: String,
    #[ts(type = "number")]
    pub size: u64,
    /// SM3 of the bytes, 64 lowercase hex digits.
    pub sm3: String,
}

/// The most files one note may carry.
pub const MAX_ATTACHMENTS: usize = 20;

/// How an Appendix A form came in (5.2b: on site, online, a phone return visit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SurveyMethod {
    /// A paper form, typed in.
    Paper,
    /// A phone return visit (电话回访).
    PhoneVisit,
    /// Asked on site (现场).
    OnSite,
    /// Online (网上).
    Online,
}

impl SurveyMethod {
    pub const ALL: [SurveyMethod; 4] = [
        SurveyMethod::Paper,
        SurveyMethod::PhoneVisit,
        SurveyMethod::OnSite,
        SurveyMethod::Online,
    ];

    pub fn zh(self) -> &'static str {
        match self {
            SurveyMethod::Paper => "纸质调查表",
            SurveyMethod::PhoneVisit => "电话回访",
            SurveyMethod::OnSite => "现场评价",
            SurveyMethod::Online => "网上评价",
        }
    }
}

/// The rest of Appendix A's form, each part when known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct SurveyDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub method: Option<SurveyMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub address: Option<String>,
    /// The push it concerns (its id), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub push: Option<String>,
    /// The date written on the form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    pub filled_on: Option<chrono::NaiveDate>,
}

impl SurveyDetails {
    pub fn is_empty(&self) -> bool {
        *self == SurveyDetails::default()
    }
}

/// Appendix A: each item 1 (很不满意) to 5 (很满意).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scores {
    pub timeliness: u8,
    pub completeness: u8,
    pub accuracy: u8,
    pub access: u8,
    pub courtesy: u8,
    pub complaint_handling: u8,
}

/// Appendix A's six items, in its order: the score field and the name.
pub const SURVEY_ITEMS: [(&str, &str); 6] = [
    ("timeliness", "信息及时性"),
    ("completeness", "信息完整性"),
    ("accuracy", "信息准确性"),
    ("access", "获取便捷性"),
    ("courtesy", "礼貌用语"),
    ("complaint_handling", "投诉处理"),
];

/// Appendix A's five levels, from 5 (很满意) down to 1 (很不满意).
pub const SURVEY_LEVELS: [(u8, &str); 5] = [
    (5, "很满意"),
    (4, "较满意"),
    (3, "基本满意"),
    (2, "较不满意"),
    (1, "很不满意"),
];

/// The highest score that is a dissatisfaction (较不满意): it opens an
/// item in the improvement register (6).
pub const LOW_SCORE: u8 = 2;

impl Scores {
    /// The six scores in Appendix A's order.
    pub fn items(&self) -> [u8; 6] {
        [
            self.timeliness,
            self.completeness,
            self.accuracy,
            self.access,
            self.courtesy,
            self.complaint_handling,
        ]
    }
}

/// The typed payload of each intake type.
#[derive(Debug, Clone, PartialEq)]
pub enum EventBody {
    MemberRegistrationSubmitted {
        member: Party,
    },
    MemberRegistrationReviewed {
        username: String,
        outcome: Outcome,
        opinion: Option<String>,
    },
    MemberPasswordReset {
        username: String,
    },
    ProjectRegistered {
        name: String,
        tenderer: Party,
        agency: Option<Party>,
    },
    BidderAdded {
        bidder: Party,
    },
    FilingSubmitted {
        stage: Stage,
        round: u32,
        winner: Option<String>,
    },
    FilingReviewed {
        stage: Stage,
        round: u32,
        outcome: Outcome,
        opinion: Option<String>,
    },
    MaterialsSubmitted {
        stage: Stage,
        round: u32,
    },
    /// The verdict on the materials submitted last (发布资料查验).
    MaterialsVerified {
        stage: Stage,
        round: u32,
        verdict: Verdict,
        /// Why the materials go back (required when returned).
        reason: Option<String>,
        checklist: Vec<CheckedItem>,
    },
    NoticePublished {
        stage: Stage,
        round: u32,
        url: String,
    },
    ExpertsDrawn {
        sender: String,
        evaluation: Evaluation,
        experts: Vec<Party>,
    },
    DepositRefunded {
        bidders: Option<Vec<String>>,
    },
    ComplaintLodged {
        complaint: Complaint,
    },
    /// Accepted (受理), and handed to a supervisor to investigate if named.
    ComplaintAccepted {
        complaint_id: String,
        assignee: Option<String>,
    },
    /// Not accepted (不予受理), with the reason told to the complainant.
    ComplaintRefused {
        complaint_id: String,
        reason: String,
    },
    /// Handed (again) to a supervisor to investigate.
    ComplaintAssigned {
        complaint_id: String,
        assignee: String,
    },
    /// An investigation note, with the files it keeps.
    ComplaintNoted {
        complaint_id: String,
        note: String,
        files: Vec<Attachment>,
    },
    ComplaintResolved {
        complaint_id: String,
        result: String,
    },
    /// The product's own: a complaint's clock about to run out, or run out.
    ComplaintReminded {
        complaint_id: String,
        limit: crate::complaints::ComplaintLimit,
        /// The clock's last day.
        due: chrono::NaiveDate,
        overdue: bool,
    },
    SurveyAnswered {
        respondent: Party,
        scores: Scores,
        remarks: Option<String>,
        details: SurveyDetails,
    },
    /// The product's own (never imported): the head of this device's audit
    /// chain, pushed to the supervisory department's recipients to keep.
    HeadAnchored {
        head: crate::audit::Head,
        recipients: Vec<Party>,
    },
    /// The product's own (never imported): a draw's specialty left short
    /// after its backups ran out, told to the staff who ran the draw.
    DrawShort {
        draw: String,
        specialty: String,
        missing: u32,
        /// The username of the staff member who ran the draw.
        staff: String,
    },
}

/// One accepted-for-checking intake line.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub id: String,
    pub kind: &'static str,
    pub at: DateTime<FixedOffset>,
    pub project: Option<String>,
    pub body: EventBody,
    /// The line re-serialised with sorted keys: what is stored and hashed.
    pub canonical: String,
}

/// Every intake type, as written on the wire.
pub const TYPES: [&str; 19] = [
    "member.registration_submitted",
    "member.registration_reviewed",
    "member.password_reset",
    "project.registered",
    "project.bidder_added",
    "filing.submitted",
    "filing.reviewed",
    "materials.submitted",
    "materials.verified",
    "notice.published",
    "experts.drawn",
    "deposit.refunded",
    "complaint.lodged",
    "complaint.accepted",
    "complaint.refused",
    "complaint.assigned",
    "complaint.noted",
    "complaint.resolved",
    "survey.answered",
];

/// The types the product records itself, which no intake may carry: the
/// daily anchor of the audit chain's head, a draw's shortage alert, a
/// complaint clock's reminder.
pub const OWN_TYPES: [&str; 3] = [ANCHORED, DRAW_SHORT, COMPLAINT_REMINDED];

/// The daily anchor: the chain's head, pushed for the supervisory department to keep.
pub const ANCHORED: &str = "audit.anchored";

/// A draw's specialty short of experts once its backups ran out.
pub const DRAW_SHORT: &str = "draw.short";

/// A complaint's clock about to run out, or run out, told to its supervisors.
pub const COMPLAINT_REMINDED: &str = "complaint.reminded";

/// Each type as staff call it (the product's own included); a type not
/// listed is shown as written.
pub fn kind_zh(kind: &str) -> &str {
    match kind {
        "member.registration_submitted" => "会员注册申请",
        "member.registration_reviewed" => "会员注册审核",
        "member.password_reset" => "会员密码重置",
        "project.registered" => "项目登记",
        "project.bidder_added" => "新增投标人",
        "filing.submitted" => "提交备案",
        "filing.reviewed" => "备案审核",
        "materials.submitted" => "提交发布资料",
        "materials.verified" => "发布资料查验",
        "notice.published" => "公告发布",
        "experts.drawn" => "专家抽取",
        "deposit.refunded" => "保证金退还",
        "complaint.lodged" => "投诉登记",
        "complaint.accepted" => "投诉受理",
        "complaint.refused" => "投诉不予受理",
        "complaint.assigned" => "投诉指派",
        "complaint.noted" => "投诉调查记录",
        "complaint.resolved" => "投诉处理完毕",
        COMPLAINT_REMINDED => "投诉期限提醒",
        "survey.answered" => "满意度调查",
        ANCHORED => "审计链头存证",
        DRAW_SHORT => "专家抽取缺额",
        other => other,
    }
}

/// Whether an intake line may carry this type: the product's own may not.
pub fn may_import(kind: &'static str) -> Result<(), Refusal> {
    if OWN_TYPES.contains(&kind) {
        return Err(Refusal::OwnType(kind));
    }
    Ok(())
}

/// The staff who record satisfaction surveys (5.2b): center staff and the
/// supervisor.
pub const SURVEYORS: &[StaffRole] = &[StaffRole::CenterStaff, StaffRole::Supervisor];

/// The staff roles that may record each intake type by hand: a form in the
/// app, or a person's import. (The e-trading system's intake, and the CLI an
/// operator runs on the database, take every type.) The supervisory
/// department's review is theirs alone, so no other role can import it.
pub fn recorded_by(kind: &str) -> &'static [StaffRole] {
    const CENTER: &[StaffRole] = &[StaffRole::CenterStaff];
    const SUPERVISORY: &[StaffRole] = &[StaffRole::SupervisorStaff];
    const COMPLAINTS: &[StaffRole] = &[StaffRole::Supervisor];
    match kind {
        "filing.reviewed" => SUPERVISORY,
        k if k.starts_with("complaint.") && k != COMPLAINT_REMINDED => COMPLAINTS,
        "survey.answered" => SURVEYORS,
        ANCHORED | DRAW_SHORT | COMPLAINT_REMINDED => &[],
        _ => CENTER,
    }
}

/// Whether `role` may record an event of `kind` by hand; if not, why.
pub fn may_record(role: StaffRole, kind: &'static str) -> Result<(), Refusal> {
    may_import(kind)?;
    let allowed = recorded_by(kind);
    if allowed.contains(&role) {
        return Ok(());
    }
    Err(Refusal::NotYours {
        kind,
        role: role.zh(),
        by: allowed
            .iter()
            .map(|r| r.zh())
            .collect::<Vec<_>>()
            .join("或"),
    })
}

/// The id of a line, if it has one, even when the rest is malformed.
pub fn peek_id(line: &str) -> Option<String> {
    let v: Value = serde_json::from_str(line).ok()?;
    v.get("id")?.as_str().map(str::to_owned)
}

/// The most bytes one intake line may have.
pub const MAX_LINE: usize = 64 * 1024;

/// A line's bytes as text, or why they are not a line of intake: longer
/// than [`MAX_LINE`], or not UTF-8 (naming the first bad byte's offset).
pub fn decode_line(bytes: &[u8]) -> Result<&str, Refusal> {
    if bytes.len() > MAX_LINE {
        return Err(Refusal::TooLong { max: MAX_LINE });
    }
    std::str::from_utf8(bytes).map_err(|e| Refusal::NotUtf8 {
        byte: e.valid_up_to() + 1,
    })
}

/// Parse and validate one intake line.
pub fn parse(line: &str) -> Result<Envelope, Refusal> {
    if line.len() > MAX_LINE {
        return Err(Refusal::TooLong { max: MAX_LINE });
    }
    let value = serde_json::from_str::<Strict>(line)
        .map_err(|e| Refusal::Malformed(e.to_string()))?
        .0;
    check_strings(&value)?;
    let obj = value
        .as_object()
        .ok_or_else(|| Refusal::Malformed("一行必须是一个 JSON 对象".into()))?;

    let id = required_str(obj.get("id"), "id")?;
    if id.len() > 200 {
        return Err(Refusal::field("id", "过长（最多 200 个字符）"));
    }
    let kind_raw = required_str(obj.get("type"), "type")?;
    let kind = TYPES
        .iter()
        .chain(&OWN_TYPES)
        .copied()
        .find(|t| *t == kind_raw)
        .ok_or_else(|| Refusal::UnknownType(kind_raw.to_owned()))?;
    let at_raw = required_str(obj.get("at"), "at")?;
    let at = parse_time(at_raw).map_err(|m| Refusal::field("at", m))?;
    let project = match obj.get("project") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(_) => return Err(Refusal::field("project", "必须是非空字符串（项目编号）")),
    };

    let body = decode_body(kind, &value)?;
    validate(&body)?;
    let needs_project = !matches!(
        body,
        EventBody::MemberRegistrationSubmitted { .. }
            | EventBody::MemberRegistrationReviewed { .. }
            | EventBody::MemberPasswordReset { .. }
            | EventBody::ComplaintLodged { .. }
            | EventBody::ComplaintAccepted { .. }
            | EventBody::ComplaintRefused { .. }
            | EventBody::ComplaintAssigned { .. }
            | EventBody::ComplaintNoted { .. }
            | EventBody::ComplaintResolved { .. }
            | EventBody::ComplaintReminded { .. }
            | EventBody::SurveyAnswered { .. }
            | EventBody::HeadAnchored { .. }
    );
    if needs_project && project.is_none() {
        return Err(Refusal::field("project", "缺失：项目事件必须给出项目编号"));
    }

    Ok(Envelope {
        id: id.to_owned(),
        kind,
        at,
        project,
        body,
        canonical: serde_json::to_string(&value).expect("a Value always serialises"),
    })
}

/// A JSON value in which no object names a key twice (`serde_json::Value`
/// would keep the last silently: two `outcome`s, and which one counts?).
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        use serde_json::map::Entry;
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(v) = map.next_value()?;
            match out.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(v);
                }
                Entry::Occupied(seen) => {
                    return Err(serde::de::Error::custom(format!(
                        "键 `{}` 重复出现，每个键只能出现一次",
                        seen.key()
                    )))
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// Free text a person writes (an opinion, a result): lines and tabs allowed.
const FREE_TEXT: [&str; 6] = ["opinion", "result", "remarks", "content", "note", "reason"];

/// The most characters a text field may hold, by its key.
fn max_chars(key: &str) -> usize {
    match key {
        "phone" => 40,
        "email" => 254,
        "id" | "project" | "username" | "winner" | "complaint_id" | "assignee" | "type" | "at"
        | "stage" => 200,
        "name" | "sender" | "place" | "contact" => 200,
        "url" => 2048,
        k if FREE_TEXT.contains(&k) => 5000,
        _ => 1000,
    }
}

/// Every text in the line: no control character (NUL and the like; free
/// text may break lines), and no longer than its kind of field holds. The
/// field's path (`bidder.name`, `experts[2].phone`) is spelled out only for
/// a refusal: a line that passes allocates nothing here.
fn check_strings(value: &Value) -> Result<(), Refusal> {
    /// Where in the line: the keys and indexes walked down to it.
    enum Step<'a> {
        Key(&'a str),
        Index(usize),
    }
    fn spell(at: &[Step]) -> String {
        let mut path = String::new();
        for step in at {
            match step {
                Step::Key(k) if path.is_empty() => path.push_str(k),
                Step::Key(k) => {
                    path.push('.');
                    path.push_str(k);
                }
                Step::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        path
    }
    fn walk<'a>(value: &'a Value, at: &mut Vec<Step<'a>>, key: &str) -> Result<(), Refusal> {
        match value {
            Value::Object(map) => map.iter().try_for_each(|(k, v)| {
                at.push(Step::Key(k));
                if k.chars().any(char::is_control) || k.chars().count() > 200 {
                    return Err(Refusal::field(spell(at), "键名含有控制字符或过长"));
                }
                walk(v, at, k)?;
                at.pop();
                Ok(())
            }),
            Value::Array(items) => items.iter().enumerate().try_for_each(|(i, v)| {
                at.push(Step::Index(i));
                walk(v, at, key)?;
                at.pop();
                Ok(())
            }),
            Value::String(s) => {
                let free = FREE_TEXT.contains(&key);
                let allowed =
                    |c: char| !c.is_control() || (free && matches!(c, '\n' | '\r' | '\t'));
                // One pass; an ASCII text is counted by its length.
                let (chars, clean) = if s.is_ascii() {
                    (s.len(), s.bytes().all(|b| allowed(char::from(b))))
                } else {
                    s.chars()
                        .fold((0, true), |(n, ok), c| (n + 1, ok && allowed(c)))
                };
                if !clean {
                    return Err(Refusal::field(
                        spell(at),
                        "含有控制字符（如 NUL、换行）：请删除后重试",
                    ));
                }
                let max = max_chars(key);
                if chars > max {
                    return Err(Refusal::field(
                        spell(at),
                        format!("过长：最多 {max} 个字符"),
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(value, &mut Vec::new(), "")
}

fn required_str<'a>(v: Option<&'a Value>, field: &str) -> Result<&'a str, Refusal> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.as_str()),
        Some(Value::String(_)) => Err(Refusal::field(field, "不能为空")),
        None | Some(Value::Null) => Err(Refusal::field(field, "缺失（必填）")),
        Some(_) => Err(Refusal::field(field, "必须是字符串")),
    }
}

const TIME_HINT: &str = "必须是带时区偏移的 RFC 3339 时间，例如 2026-11-27T09:30:00+08:00";

/// The years an intake time may fall in: a year 0000 or 9999 is a typing
/// or a system's default, never a tender's date.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

fn parse_time(s: &str) -> Result<DateTime<FixedOffset>, String> {
    let t = DateTime::parse_from_rfc3339(s).map_err(|_| format!("`{s}` {TIME_HINT}"))?;
    if !YEARS.contains(&chrono::Datelike::year(&t)) {
        return Err(format!(
            "`{s}` 超出合理范围：年份须在 {}–{} 之间",
            YEARS.start(),
            YEARS.end()
        ));
    }
    Ok(t)
}

fn rfc3339<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<FixedOffset>, D::Error> {
    let s = String::deserialize(d)?;
    parse_time(&s).map_err(serde::de::Error::custom)
}

// Wire shapes of each type's own fields; the envelope fields are ignored here.
#[derive(Deserialize)]
struct MemberSubmitted {
    member: Party,
}
#[derive(Deserialize)]
struct MemberReviewed {
    username: String,
    outcome: Outcome,
    opinion: Option<String>,
}
#[derive(Deserialize)]
struct Username {
    username: String,
}
#[derive(Deserialize)]
struct Registered {
    name: String,
    tenderer: Party,
    agency: Option<Party>,
}
#[derive(Deserialize)]
struct Bidder {
    bidder: Party,
}
#[derive(Deserialize)]
struct StageFields {
    stage: Stage,
    round: Option<u32>,
    winner: Option<String>,
    outcome: Option<Outcome>,
    opinion: Option<String>,
    url: Option<String>,
}
#[derive(Deserialize)]
struct Verified {
    stage: Stage,
    round: Option<u32>,
    outcome: Verdict,
    reason: Option<String>,
    #[serde(default)]
    checklist: Vec<CheckedItem>,
}
#[derive(Deserialize)]
struct Drawn {
    sender: String,
    evaluation: Evaluation,
    experts: Vec<Party>,
}
#[derive(Deserialize)]
struct Refunded {
    bidders: Option<Vec<String>>,
}
#[derive(Deserialize)]
struct Lodged {
    complaint: Complaint,
}
#[derive(Deserialize)]
struct Resolved {
    complaint_id: String,
    result: String,
}
#[derive(Deserialize)]
struct Accepted {
    complaint_id: String,
    assignee: Option<String>,
}
#[derive(Deserialize)]
struct Refused {
    complaint_id: String,
    reason: String,
}
#[derive(Deserialize)]
struct Assigned {
    complaint_id: String,
    assignee: String,
}
#[derive(Deserialize)]
struct Noted {
    complaint_id: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    files: Vec<Attachment>,
}
#[derive(Deserialize)]
struct Reminded {
    complaint_id: String,
    limit: crate::complaints::ComplaintLimit,
    due: chrono::NaiveDate,
    overdue: bool,
}
#[derive(Deserialize)]
struct Short {
    draw: String,
    specialty: String,
    missing: u32,
    staff: String,
}
#[derive(Deserialize)]
struct Anchored {
    head: String,
    recipients: Vec<Party>,
}
#[derive(Deserialize)]
struct Survey {
    respondent: Party,
    scores: Scores,
    remarks: Option<String>,
    #[serde(flatten)]
    details: SurveyDetails,
}

/// Deserialise with the path of the failing field in the refusal.
fn decode<T: DeserializeOwned>(v: &Value) -> Result<T, Refusal> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde reports a missing field at its parent: name the field itself.
        if let Some(rest) = inner.strip_prefix("missing field `") {
            let name = rest.split('`').next().unwrap_or(rest);
            let full = if path == "." {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            };
            return Refusal::field(full, "缺失（必填）");
        }
        Refusal::field(
            if path == "." { "(root)".into() } else { path },
            format!("无效：{inner}"),
        )
    })
}

fn decode_body(kind: &str, v: &Value) -> Result<EventBody, Refusal> {
    Ok(match kind {
        "member.registration_submitted" => {
            let m: MemberSubmitted = decode(v)?;
            EventBody::MemberRegistrationSubmitted { member: m.member }
        }
        "member.registration_reviewed" => {
            let m: MemberReviewed = decode(v)?;
            EventBody::MemberRegistrationReviewed {
                username: m.username,
                outcome: m.outcome,
                opinion: m.opinion,
            }
        }
        "member.password_reset" => EventBody::MemberPasswordReset {
            username: decode::<Username>(v)?.username,
        },
        "project.registered" => {
            let r: Registered = decode(v)?;
            EventBody::ProjectRegistered {
                name: r.name,
                tenderer: r.tenderer,
                agency: r.agency,
            }
        }
        "project.bidder_added" => EventBody::BidderAdded {
            bidder: decode::<Bidder>(v)?.bidder,
        },
        "filing.submitted" | "filing.reviewed" | "materials.submitted" | "notice.published" => {
            let s: StageFields = decode(v)?;
            let round = s.round.unwrap_or(1);
            match kind {
                "filing.submitted" => EventBody::FilingSubmitted {
                    stage: s.stage,
                    round,
                    winner: s.winner,
                },
                "filing.reviewed" => EventBody::FilingReviewed {
                    stage: s.stage,
                    round,
                    outcome: s.outcome.ok_or_else(|| {
                        Refusal::field("outcome", "缺失（必填）：passed 或 rejected")
                    })?,
                    opinion: s.opinion,
                },
                "materials.submitted" => EventBody::MaterialsSubmitted {
                    stage: s.stage,
                    round,
                },
                _ => EventBody::NoticePublished {
                    stage: s.stage,
                    round,
                    url: s
                        .url
                        .ok_or_else(|| Refusal::field("url", "缺失（必填）：公告发布的网址"))?,
                },
            }
        }
        "materials.verified" => {
            let m: Verified = decode(v)?;
            EventBody::MaterialsVerified {
                stage: m.stage,
                round: m.round.unwrap_or(1),
                verdict: m.outcome,
                reason: m.reason,
                checklist: m.checklist,
            }
        }
        "experts.drawn" => {
            let d: Drawn = decode(v)?;
            EventBody::ExpertsDrawn {
                sender: d.sender,
                evaluation: d.evaluation,
                experts: d.experts,
            }
        }
        "deposit.refunded" => EventBody::DepositRefunded {
            bidders: decode::<Refunded>(v)?.bidders,
        },
        "complaint.lodged" => EventBody::ComplaintLodged {
            complaint: decode::<Lodged>(v)?.complaint,
        },
        "complaint.resolved" => {
            let r: Resolved = decode(v)?;
            EventBody::ComplaintResolved {
                complaint_id: r.complaint_id,
                result: r.result,
            }
        }
        "complaint.accepted" => {
            let a: Accepted = decode(v)?;
            EventBody::ComplaintAccepted {
                complaint_id: a.complaint_id,
                assignee: a.assignee,
            }
        }
        "complaint.refused" => {
            let r: Refused = decode(v)?;
            EventBody::ComplaintRefused {
                complaint_id: r.complaint_id,
                reason: r.reason,
            }
        }
        "complaint.assigned" => {
            let a: Assigned = decode(v)?;
            EventBody::ComplaintAssigned {
                complaint_id: a.complaint_id,
                assignee: a.assignee,
            }
        }
        "complaint.noted" => {
            let n: Noted = decode(v)?;
            EventBody::ComplaintNoted {
                complaint_id: n.complaint_id,
                note: n.note,
                files: n.files,
            }
        }
        COMPLAINT_REMINDED => {
            let r: Reminded = decode(v)?;
            EventBody::ComplaintReminded {
                complaint_id: r.complaint_id,
                limit: r.limit,
                due: r.due,
                overdue: r.overdue,
            }
        }
        "survey.answered" => {
            let s: Survey = decode(v)?;
            EventBody::SurveyAnswered {
                respondent: s.respondent,
                scores: s.scores,
                remarks: s.remarks,
                details: s.details,
            }
        }
        ANCHORED => {
            let a: Anchored = decode(v)?;
            EventBody::HeadAnchored {
                head: a
                    .head
                    .parse()
                    .map_err(|m: String| Refusal::field("head", m))?,
                recipients: a.recipients,
            }
        }
        DRAW_SHORT => {
            let s: Short = decode(v)?;
            EventBody::DrawShort {
                draw: s.draw,
                specialty: s.specialty,
                missing: s.missing,
                staff: s.staff,
            }
        }
        other => return Err(Refusal::UnknownType(other.to_owned())),
    })
}

fn non_blank(field: &str, s: &str) -> Result<(), Refusal> {
    if s.trim().is_empty() {
        Err(Refusal::field(field, "不能为空"))
    } else {
        Ok(())
    }
}

/// A phone number as people write them: digits with `+- ()`.
pub fn valid_phone(p: &str) -> bool {
    let digits = p.chars().filter(char::is_ascii_digit).count();
    (5..=20).contains(&digits) && p.chars().all(|c| c.is_ascii_digit() || "+- ()".contains(c))
}

/// An email address, loosely: something@domain.tld without spaces.
pub fn valid_email(e: &str) -> bool {
    e.split_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !e.contains(' '))
}

fn check_phone(field: &str, p: &str) -> Result<(), Refusal> {
    if valid_phone(p) {
        Ok(())
    } else {
        Err(Refusal::field(field, format!("`{p}` 不是有效的电话号码")))
    }
}

/// A party's own rules: id and name required; an external party must be reachable.
fn check_party(field: &str, p: &Party, external: bool) -> Result<(), Refusal> {
    non_blank(&format!("{field}.id"), &p.id)?;
    non_blank(&format!("{field}.name"), &p.name)?;
    if let Some(phone) = &p.phone {
        check_phone(&format!("{field}.phone"), phone)?;
    }
    if let Some(email) = &p.email {
        if !valid_email(email) {
            return Err(Refusal::field(
                format!("{field}.email"),
                format!("`{email}` 不是有效的电子邮箱"),
            ));
        }
    }
    if external && p.phone.is_none() && p.email.is_none() {
        return Err(Refusal::field(
            field,
            "缺少联系方式：外部当事人至少需要 phone 或 email 之一，否则无法推送",
        ));
    }
    Ok(())
}

fn check_round(stage: Stage, round: u32) -> Result<(), Refusal> {
    if round == 0 {
        return Err(Refusal::field("round", "必须从 1 开始"));
    }
    if round != 1 && stage != Stage::Correction {
        return Err(Refusal::field("round", "仅适用于更正（correction）阶段"));
    }
    Ok(())
}

fn check_opinion(outcome: Outcome, opinion: &Option<String>) -> Result<(), Refusal> {
    if outcome == Outcome::Rejected && opinion.as_deref().is_none_or(|o| o.trim().is_empty()) {
        return Err(Refusal::field(
            "opinion",
            "缺失：审核不通过时必须给出驳回意见，对方需按意见修改后重新提交",
        ));
    }
    Ok(())
}

/// A checklist as checked: each item named once, a failed item with its
/// remark, and no pass over a failed item.
fn check_checklist(verdict: Verdict, checklist: &[CheckedItem]) -> Result<(), Refusal> {
    for (i, c) in checklist.iter().enumerate() {
        non_blank(&format!("checklist[{i}].item"), &c.item)?;
        if checklist[..i].iter().any(|o| o.item == c.item) {
            return Err(Refusal::field(
                format!("checklist[{i}].item"),
                format!("查验项“{}”重复", c.item),
            ));
        }
        if !c.ok {
            if c.remark.as_deref().is_none_or(|r| r.trim().is_empty()) {
                return Err(Refusal::field(
                    format!("checklist[{i}].remark"),
                    format!("缺失：查验项“{}”未通过，须写明问题", c.item),
                ));
            }
            if verdict == Verdict::Passed {
                return Err(Refusal::field(
                    format!("checklist[{i}].ok"),
                    format!("查验项“{}”未通过，发布资料不能判定为通过：请退回", c.item),
                ));
            }
        }
    }
    Ok(())
}

fn validate(body: &EventBody) -> Result<(), Refusal> {
    match body {
        EventBody::MemberRegistrationSubmitted { member } => {
            check_party("member", member, true)?;
            match &member.username {
                Some(u) => non_blank("member.username", u),
                None => Err(Refusal::field("member.username", "缺失（必填）")),
            }
        }
        EventBody::MemberRegistrationReviewed {
            username,
            outcome,
            opinion,
        } => {
            non_blank("username", username)?;
            check_opinion(*outcome, opinion)
        }
        EventBody::MemberPasswordReset { username } => non_blank("username", username),
        EventBody::ProjectRegistered {
            name,
            tenderer,
            agency,
        } => {
            non_blank("name", name)?;
            check_party("tenderer", tenderer, true)?;
            if let Some(a) = agency {
                check_party("agency", a, true)?;
            }
            Ok(())
        }
        EventBody::BidderAdded { bidder } => check_party("bidder", bidder, true),
        EventBody::FilingSubmitted {
            stage,
            round,
            winner,
        } => {
            check_round(*stage, *round)?;
            if !stage.has_filing_review() {
                return Err(Refusal::field(
                    "stage",
                    format!(
                        "`{}` 阶段没有备案审核：只有 tender_notice、correction、award、contract 需要备案",
                        stage.as_str()
                    ),
                ));
            }
            match (stage, winner) {
                (Stage::Award, None) => Err(Refusal::field(
                    "winner",
                    "缺失：中标（成交）结果备案必须给出中标人（投标人 id）",
                )),
                (Stage::Award, Some(w)) => non_blank("winner", w),
                (_, Some(_)) => Err(Refusal::field("winner", "仅适用于 award 阶段的备案")),
                _ => Ok(()),
            }
        }
        EventBody::FilingReviewed {
            stage,
            round,
            outcome,
            opinion,
        } => {
            check_round(*stage, *round)?;
            if !stage.has_filing_review() {
                return Err(Refusal::field(
                    "stage",
                    format!("`{}` 阶段没有备案审核", stage.as_str()),
                ));
            }
            check_opinion(*outcome, opinion)
        }
        EventBody::MaterialsSubmitted { stage, round } => check_round(*stage, *round),
        EventBody::MaterialsVerified {
            stage,
            round,
            verdict,
            reason,
            checklist,
        } => {
            check_round(*stage, *round)?;
            check_checklist(*verdict, checklist)?;
            if *verdict == Verdict::Returned
                && reason.as_deref().is_none_or(|r| r.trim().is_empty())
            {
                return Err(Refusal::field(
                    "reason",
                    "缺失：退回发布资料时必须写明退回原因，招标人和代理机构据此修改后重新提交",
                ));
            }
            Ok(())
        }
        EventBody::NoticePublished { stage, round, url } => {
            check_round(*stage, *round)?;
            let ok = ["http://", "https://"].iter().any(|p| {
                url.get(..p.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(p))
                    && url.len() > p.len()
            }) && !url.chars().any(char::is_whitespace);
            if ok {
                Ok(())
            } else {
                Err(Refusal::field(
                    "url",
                    format!("`{url}` 不是 http 或 https 网址"),
                ))
            }
        }
        EventBody::ExpertsDrawn {
            sender,
            evaluation,
            experts,
        } => {
            non_blank("sender", sender)?;
            if !(evaluation.duration_hours > 0.0 && evaluation.duration_hours.is_finite()) {
                return Err(Refusal::field(
                    "evaluation.duration_hours",
                    "必须大于 0（评标大约耗时，单位：小时）",
                ));
            }
            non_blank("evaluation.place", &evaluation.place)?;
            check_phone("evaluation.contact_phone", &evaluation.contact_phone)?;
            if experts.is_empty() {
                return Err(Refusal::field("experts", "不能为空：至少抽取一名评标专家"));
            }
            for (i, e) in experts.iter().enumerate() {
                check_party(&format!("experts[{i}]"), e, true)?;
                if experts[..i].iter().any(|o| o.id == e.id) {
                    return Err(Refusal::field(
                        format!("experts[{i}].id"),
                        format!("专家 `{}` 在本次抽取中重复", e.id),
                    ));
                }
            }
            Ok(())
        }
        EventBody::DepositRefunded { bidders } => {
            if let Some(list) = bidders {
                if list.is_empty() {
                    return Err(Refusal::field(
                        "bidders",
                        "为空：省略该字段表示全部投标人，否则至少列出一名",
                    ));
                }
                for (i, b) in list.iter().enumerate() {
                    if list[..i].contains(b) {
                        return Err(Refusal::field(
                            format!("bidders[{i}]"),
                            format!("投标人 `{b}` 重复"),
                        ));
                    }
                }
            }
            Ok(())
        }
        EventBody::ComplaintLodged { complaint } => {
            non_blank("complaint.id", &complaint.id)?;
            non_blank("complaint.subject", &complaint.subject)?;
            check_party("complaint.complainant", &complaint.complainant, true)
        }
        EventBody::ComplaintResolved {
            complaint_id,
            result,
        } => {
            non_blank("complaint_id", complaint_id)?;
            non_blank("result", result)
        }
        EventBody::ComplaintAccepted {
            complaint_id,
            assignee,
        } => {
            non_blank("complaint_id", complaint_id)?;
            match assignee {
                Some(a) => non_blank("assignee", a),
                None => Ok(()),
            }
        }
        EventBody::ComplaintRefused {
            complaint_id,
            reason,
        } => {
            non_blank("complaint_id", complaint_id)?;
            if reason.trim().is_empty() {
                return Err(Refusal::field(
                    "reason",
                    "缺失：不予受理时必须写明理由，它将告知投诉人",
                ));
            }
            Ok(())
        }
        EventBody::ComplaintAssigned {
            complaint_id,
            assignee,
        } => {
            non_blank("complaint_id", complaint_id)?;
            non_blank("assignee", assignee)
        }
        EventBody::ComplaintNoted {
            complaint_id,
            note,
            files,
        } => {
            non_blank("complaint_id", complaint_id)?;
            if note.trim().is_empty() && files.is_empty() {
                return Err(Refusal::field("note", "缺失：调查记录须有文字或附件"));
            }
            if files.len() > MAX_ATTACHMENTS {
                return Err(Refusal::field(
                    "files",
                    format!("过多：一条调查记录最多 {MAX_ATTACHMENTS} 个附件"),
                ));
            }
            for (i, f) in files.iter().enumerate() {
                non_blank(&format!("files[{i}].name"), &f.name)?;
                let hex = f.sm3.len() == 64
                    && f.sm3
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                if !hex {
                    return Err(Refusal::field(
                        format!("files[{i}].sm3"),
                        "必须是 64 位小写十六进制的 SM3 摘要",
                    ));
                }
            }
            Ok(())
        }
        EventBody::ComplaintReminded { complaint_id, .. } => {
            non_blank("complaint_id", complaint_id)
        }
        EventBody::SurveyAnswered {
            respondent,
            scores,
            details,
            ..
        } => {
            check_party("respondent", respondent, false)?;
            if let Some(p) = &details.push {
                non_blank("push", p)?;
            }
            for ((name, _), v) in SURVEY_ITEMS.iter().zip(scores.items()) {
                if !(1..=5).contains(&v) {
                    return Err(Refusal::field(
                        format!("scores.{name}"),
                        "必须是 1（很不满意）到 5（很满意）",
                    ));
                }
            }
            Ok(())
        }
        EventBody::DrawShort {
            draw,
            specialty,
            missing,
            staff,
        } => {
            non_blank("draw", draw)?;
            non_blank("specialty", specialty)?;
            non_blank("staff", staff)?;
            if *missing == 0 {
                return Err(Refusal::field("missing", "须大于 0"));
            }
            Ok(())
        }
        EventBody::HeadAnchored { recipients, .. } => {
            if recipients.is_empty() {
                return Err(Refusal::field("recipients", "不能为空：至少一位接收人"));
            }
            for (i, r) in recipients.iter().enumerate() {
                check_party(&format!("recipients[{i}]"), r, true)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(line: &str) -> Refusal {
        parse(line).expect_err("line should be refused")
    }

    const BIDDER: &str = r#"{"id":"b1","type":"project.bidder_added","at":"2026-11-27T09:30:00+08:00","project":"P1","bidder":{"id":"B1","name":"某公司","phone":"13800000001"}}"#;

    #[test]
    fn what_no_line_of_intake_may_hold_is_named() {
        assert!(parse(BIDDER).is_ok());
        let with = |from: &str, to: &str| BIDDER.replacen(from, to, 1);
        let cases = [
            (
                with(r#""project":"P1""#, r#""project":"P1","project":"P2""#),
                "malformed",
                "`project` 重复出现",
            ),
            (
                with("某公司", "某\\u0000公司"),
                "invalid_field",
                "bidder.name",
            ),
            (with("某公司", "某\\n公司"), "invalid_field", "控制字符"),
            (
                with("某公司", &"长".repeat(201)),
                "invalid_field",
                "最多 200 个字符",
            ),
            (
                with("2026-11-27", "0000-11-27"),
                "invalid_field",
                "2000–2100",
            ),
            (
                with(r#""at""#, r#""x\u0001":1,"at""#),
                "invalid_field",
                "键名",
            ),
            (
                format!(
                    r#"{},"pad":"{}"}}"#,
                    BIDDER.trim_end_matches('}'),
                    "x".repeat(MAX_LINE)
                ),
                "line_too_long",
                "64 KiB",
            ),
        ];
        for (line, code, says) in cases {
            let r = refusal(&line);
            assert_eq!(r.code(), code, "{r}");
            let text = format!("{} {r}", r.locus().unwrap_or_default());
            assert!(text.contains(says), "{text}");
        }
        // Free text may break lines; an opinion is long.
        let review = r#"{"id":"r1","type":"filing.reviewed","at":"2026-11-27T09:30:00+08:00","project":"P1","stage":"tender_notice","outcome":"rejected","opinion":"一、资格条件不符。\n二、请补正。"}"#;
        assert!(parse(review).is_ok(), "{:?}", parse(review).err());
        assert_eq!(
            decode_line(b"{\"id\":\"\xe4\xb8\"}").unwrap_err(),
            Refusal::NotUtf8 { byte: 8 }
        );
        assert_eq!(
            decode_line(&vec![b' '; MAX_LINE + 1]).unwrap_err().code(),
            "line_too_long"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Whatever bytes arrive, the decoder answers: never a panic, and a
        /// refusal always says what is wrong.
        #[test]
        fn any_bytes_are_accepted_or_refused_with_a_reason(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            if let Err(r) = decode_line(&bytes).and_then(parse) {
                proptest::prop_assert!(!r.code().is_empty() && !r.to_string().is_empty());
            }
        }

        /// A valid line with bytes flipped, cut or inserted anywhere: the same.
        #[test]
        fn a_damaged_line_is_accepted_or_refused_with_a_reason(
            at in 0..BIDDER.len(),
            cut in 0..8usize,
            insert in proptest::collection::vec(proptest::num::u8::ANY, 0..8),
        ) {
            let mut bytes = BIDDER.as_bytes().to_vec();
            let end = (at + cut).min(bytes.len());
            bytes.splice(at..end, insert);
            if let Err(r) = decode_line(&bytes).and_then(parse) {
                proptest::prop_assert!(!r.code().is_empty() && !r.to_string().is_empty());
            }
        }
    }

    #[test]
    fn parses_the_contract_example() {
        let e = parse(r#"{"id":"evt-0001","type":"filing.reviewed","at":"2026-11-27T09:30:00+08:00","project":"TZ-2026-0001","stage":"tender_notice","outcome":"rejected","opinion":"资格条件表述不清"}"#).unwrap();
        assert_eq!(e.id, "evt-0001");
        assert_eq!(e.project.as_deref(), Some("TZ-2026-0001"));
        assert!(matches!(
            e.body,
            EventBody::FilingReviewed {
                stage: Stage::TenderNotice,
                round: 1,
                outcome: Outcome::Rejected,
                ..
            }
        ));
    }

    #[test]
    fn names_the_field_at_fault() {
        let cases = [
            (
                r#"{"id":"a","type":"notice.published","at":"2026-11-27T09:30:00+08:00","project":"P","stage":"award","url":"ftp://x"}"#,
                "url",
            ),
            (
                r#"{"id":"a","type":"notice.published","at":"2026-11-27T09:30:00","project":"P","stage":"award","url":"https://x"}"#,
                "at",
            ),
            (
                r#"{"id":"a","type":"filing.reviewed","at":"2026-11-27T09:30:00+08:00","project":"P","stage":"award","outcome":"rejected"}"#,
                "opinion",
            ),
            (
                r#"{"id":"a","type":"experts.drawn","at":"2026-11-27T09:30:00+08:00","project":"P","sender":"S","evaluation":{"start":"2026-12-01T09:00:00+08:00","duration_hours":0,"place":"X","contact_phone":"0576-1234567"},"experts":[{"id":"e","name":"E","phone":"13800000000"}]}"#,
                "evaluation.duration_hours",
            ),
            (
                r#"{"id":"a","type":"experts.drawn","at":"2026-11-27T09:30:00+08:00","project":"P","sender":"S","evaluation":{"start":"2026-12-01T09:00:00+08:00","duration_hours":3,"contact_phone":"0576-1234567"},"experts":[{"id":"e","name":"E","phone":"13800000000"}]}"#,
                "evaluation.place",
            ),
            (
                r#"{"id":"a","type":"project.registered","at":"2026-11-27T09:30:00+08:00","project":"P","name":"N","tenderer":{"id":"t","name":"T"}}"#,
                "tenderer",
            ),
            (
                r#"{"id":"a","type":"materials.submitted","at":"2026-11-27T09:30:00+08:00","stage":"award"}"#,
                "project",
            ),
            (
                r#"{"id":"a","type":"materials.submitted","at":"2026-11-27T09:30:00+08:00","project":"P","stage":"nope"}"#,
                "stage",
            ),
            (
                r#"{"type":"materials.submitted","at":"2026-11-27T09:30:00+08:00","project":"P","stage":"award"}"#,
                "id",
            ),
        ];
        for (line, field) in cases {
            match refusal(line) {
                Refusal::Field { field: f, .. } => assert_eq!(f, field, "{line}"),
                other => panic!("{line}: expected a field refusal, got {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_type_and_garbage_are_refused() {
        assert_eq!(
            refusal(r#"{"id":"a","type":"x.y","at":"2026-11-27T09:30:00+08:00"}"#).code(),
            "unknown_type"
        );
        assert_eq!(refusal("{not json").code(), "malformed");
        assert_eq!(refusal("[1,2]").code(), "malformed");
    }
}
