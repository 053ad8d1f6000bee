//! 投诉 (5.1) for the supervisor: the board of every complaint with its
//! clocks, counted in working days from its own lodging time, overdue
//! first; one complaint's steps, files and feedback; and the steps a
//! supervisor takes — lodge, accept or refuse, assign, note, decide — each
//! an event through the same path as an import.

use crate::actions::ActionDone;
use crate::rights::Right;
use crate::{App, AppError, Result};
use chrono::{DateTime, FixedOffset};
use ggzy_core::calendar::{beijing, Calendar, Clock, ClockState};
use ggzy_core::complaints::{ComplaintLimit, ComplaintState, StepKind};
use ggzy_core::deadlines::Limits;
use ggzy_core::error::ErrorCode;
use ggzy_core::event::{Attachment, ComplaintChannel};
use ggzy_core::push::{Channel, PushStatus};
use ggzy_core::role::StaffRole;
use ggzy_store::complaints::{ComplaintRow, Feedback};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use ts_rs::TS;

/// One of a complaint's clocks as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ComplaintClock {
    pub limit: ComplaintLimit,
    /// As staff read it (3 个工作日).
    pub length: String,
    /// Its last day, `YYYY-MM-DD` (Beijing).
    pub due: String,
    pub state: ClockState,
}

/// A complaint on the supervisors' board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ComplaintItem {
    pub id: String,
    pub channel: ComplaintChannel,
    pub complainant: String,
    pub subject: String,
    #[ts(optional)]
    pub project: Option<String>,
    pub state: ComplaintState,
    /// The supervisor investigating it: their name (their username if gone).
    #[ts(optional)]
    pub assignee: Option<String>,
    /// RFC 3339, as the lodging event says.
    pub lodged_at: String,
    #[ts(optional)]
    pub resolved_at: Option<String>,
    #[ts(optional)]
    pub result: Option<String>,
    /// The decision's limit as staff read it (30 个工作日).
    pub limit: String,
    /// The decision's last day, `YYYY-MM-DD` (Beijing).
    pub due: String,
    /// The clocks still running (whether to accept it while that is
    /// undecided; the decision while it is open), the most urgent first.
    pub clocks: Vec<ComplaintClock>,
    /// Closed: the working days it took, lodging to decision or refusal.
    #[ts(optional, type = "number")]
    pub took: Option<i64>,
    /// The push that told the complainant the outcome (5.1.2, or the
    /// refusal): where the first of them stands.
    #[ts(optional)]
    pub feedback: Option<PushStatus>,
}

impl ComplaintItem {
    /// The most urgent clock's state, if one runs.
    fn urgent(&self) -> Option<ClockState> {
        self.clocks.first().map(|c| c.state)
    }
}

/// A step on a complaint's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct StepView {
    pub event: String,
    /// RFC 3339, the event's own time.
    pub at: String,
    pub what: StepKind,
    /// Who recorded it: a name, or where it came from (an import, the clock).
    pub by: String,
    /// For a note: whether this device keeps each file's bytes, by SM3.
    pub kept: Vec<String>,
}

/// A push to the complainant on the complaint's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct FeedbackView {
    pub rule: String,
    pub channel: Channel,
    pub address: String,
    pub status: PushStatus,
}

/// One complaint's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ComplaintDetail {
    pub item: ComplaintItem,
    #[ts(optional)]
    pub phone: Option<String>,
    #[ts(optional)]
    pub email: Option<String>,
    #[ts(optional)]
    pub refusal: Option<String>,
    pub steps: Vec<StepView>,
    pub feedback: Vec<FeedbackView>,
}

/// A complaint taken in by staff (5.1.1): by phone, online, through the
/// electronic review or the suggestion box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ComplaintForm {
    pub channel: ComplaintChannel,
    /// The complainant: a person or a unit.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub email: Option<String>,
    pub subject: String,
    /// The project it concerns, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub project: Option<String>,
}

/// A supervisor who may be assigned a complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Assignable {
    pub username: String,
    pub name: String,
}

fn time(what: &str, s: &str) -> Result<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).map_err(|e| {
        AppError::new(
            ErrorCode::Corrupt,
            format!("投诉的{what}`{s}`无法读取（{e}）：请运行 ggzy audit verify"),
        )
    })
}

fn day(t: DateTime<FixedOffset>) -> chrono::NaiveDate {
    t.with_timezone(&beijing()).date_naive()
}

/// Overdue by most, then running by fewest days left, then closed, newest first.
fn rank(i: &ComplaintItem) -> (u8, i64) {
    match i.urgent() {
        Some(ClockState::Overdue { by }) => (0, -by),
        Some(ClockState::Running { left }) => (1, left),
        None => (2, 0),
    }
}

impl App {
    /// Every complaint with its clocks: open ones overdue first, then by
    /// their last day; closed ones after, newest first.
    pub async fn complaints(&self) -> Result<Vec<ComplaintItem>> {
        self.require(Right::SeeComplaints.roles(), "查看投诉")
            .await?;
        let mut items = self.complaint_items().await?;
        items.sort_by(|a, b| {
            rank(a)
                .cmp(&rank(b))
                .then_with(|| b.resolved_at.cmp(&a.resolved_at))
                .then_with(|| a.due.cmp(&b.due))
                .then_with(|| b.lodged_at.cmp(&a.lodged_at))
        });
        Ok(items)
    }

    /// How many complaints are open, and how many of those are overdue
    /// (the supervisor's workbench).
    pub(crate) async fn complaints_open(&self) -> Result<(i64, i64)> {
        let items = self.complaint_items().await?;
        let open = items.iter().filter(|i| i.state.open()).count() as i64;
        let late = items
            .iter()
            .filter(|i| matches!(i.urgent(), Some(ClockState::Overdue { .. })))
            .count() as i64;
        Ok((open, late))
    }

    /// One complaint's page: its steps with who took them, the files kept,
    /// and the pushes that told the complainant.
    pub async fn complaint(&self, id: &str) -> Result<ComplaintDetail> {
        self.require(Right::SeeComplaints.roles(), "查看投诉")
            .await?;
        let row = self.complaint_row(id).await?;
        let names = self.staff_names().await?;
        let feedback = self.store().complaint_feedback().await?;
        let (calendar, limits) = self.clock_settings().await?;
        let item = item(&row, &calendar, &limits, &names, &feedback)?;
        let ids: Vec<&str> = row.record.steps.iter().map(|s| s.event.as_str()).collect();
        let sources = self.store().event_sources(&ids).await?;
        let mut steps = Vec::new();
        for s in &row.record.steps {
            let mut kept = Vec::new();
            if let StepKind::Noted { files, .. } = &s.what {
                for f in files {
                    if self.store().complaint_file(&f.sm3).await?.is_some() {
                        kept.push(f.sm3.clone());
                    }
                }
            }
            steps.push(StepView {
                event: s.event.clone(),
                at: s.at.clone(),
                what: s.what.clone(),
                by: who(sources.get(&s.event).map(String::as_str), &names),
                kept,
            });
        }
        let c = &row.record.complaint;
        Ok(ComplaintDetail {
            phone: c.complainant.phone.clone(),
            email: c.complainant.email.clone(),
            refusal: row.record.refusal().map(str::to_owned),
            feedback: feedback
                .into_iter()
                .filter(|f| f.complaint_id == c.id)
                .map(|f| FeedbackView {
                    rule: f.rule,
                    channel: f.channel,
                    address: f.address,
                    status: f.status,
                })
                .collect(),
            item,
            steps,
        })
    }

    /// The supervisors a complaint may be assigned to (active ones).
    pub async fn assignable(&self) -> Result<Vec<Assignable>> {
        self.require(Right::SeeComplaints.roles(), "查看投诉")
            .await?;
        Ok(self
            .store()
            .users()
            .await?
            .into_iter()
            .filter(|u| u.active && u.role == StaffRole::Supervisor)
            .map(|u| Assignable {
                username: u.username,
                name: u.name,
            })
            .collect())
    }

    /// Take in a complaint (5.1.1) under the next number of the year
    /// (`TS-2026-001`); the supervisors are told at once.
    pub async fn lodge_complaint(&self, form: ComplaintForm) -> Result<String> {
        let year = chrono::Utc::now().with_timezone(&beijing()).format("%Y");
        let prefix = format!("TS-{year}-");
        let next = self
            .store()
            .complaints()
            .await?
            .iter()
            .filter_map(|r| {
                r.record
                    .complaint
                    .id
                    .strip_prefix(&prefix)?
                    .parse::<u32>()
                    .ok()
            })
            .max()
            .unwrap_or(0)
            + 1;
        let id = format!("{prefix}{next:03}");
        fn blank(s: &Option<String>) -> Option<&str> {
            s.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        let mut complainant = json!({ "id": format!("C-{id}"), "name": form.name.trim() });
        if let Some(p) = blank(&form.phone) {
            complainant["phone"] = p.into();
        }
        if let Some(e) = blank(&form.email) {
            complainant["email"] = e.into();
        }
        let mut body = json!({
            "type": "complaint.lodged",
            "complaint": {
                "id": id,
                "channel": form.channel,
                "complainant": complainant,
                "subject": form.subject.trim(),
            },
        });
        if let Some(p) = blank(&form.project) {
            body["project"] = p.into();
        }
        self.record_step(body, Vec::new()).await?;
        Ok(id)
    }

    /// Accept a complaint (受理), handing it to a supervisor if one is named.
    pub async fn accept_complaint(&self, id: &str, assignee: Option<String>) -> Result<ActionDone> {
        let mut body = json!({ "type": "complaint.accepted", "complaint_id": id });
        if let Some(a) = assignee.filter(|a| !a.trim().is_empty()) {
            body["assignee"] = self.check_assignee(&a).await?.into();
        }
        self.record_step(body, Vec::new()).await
    }

    /// Refuse a complaint (不予受理); the reason is told to the complainant.
    pub async fn refuse_complaint(&self, id: &str, reason: &str) -> Result<ActionDone> {
        let body =
            json!({ "type": "complaint.refused", "complaint_id": id, "reason": reason.trim() });
        self.record_step(body, Vec::new()).await
    }

    /// Hand a complaint to (another) supervisor to investigate.
    pub async fn assign_complaint(&self, id: &str, assignee: &str) -> Result<ActionDone> {
        let assignee = self.check_assignee(assignee).await?;
        let body =
            json!({ "type": "complaint.assigned", "complaint_id": id, "assignee": assignee });
        self.record_step(body, Vec::new()).await
    }

    /// An investigation note with the files it keeps (name and bytes, as
    /// the person chose them in the system's dialog): the bytes are kept in
    /// the store under their SM3, which the note's event carries.
    pub async fn note_complaint(
        &self,
        id: &str,
        note: &str,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<ActionDone> {
        let named: Vec<Attachment> = files
            .iter()
            .map(|(name, bytes)| Attachment {
                name: name.clone(),
                size: bytes.len() as u64,
                sm3: ggzy_core::audit::sm3_hex(bytes),
            })
            .collect();
        let body = json!({
            "type": "complaint.noted",
            "complaint_id": id,
            "note": note.trim(),
            "files": named,
        });
        let bytes = files.into_iter().map(|(_, b)| b).collect();
        self.record_step(body, bytes).await
    }

    /// Decide a complaint: the result goes to the complainant (5.1.2).
    pub async fn decide_complaint(&self, id: &str, result: &str) -> Result<ActionDone> {
        let body =
            json!({ "type": "complaint.resolved", "complaint_id": id, "result": result.trim() });
        self.record_step(body, Vec::new()).await
    }

    /// A kept file's bytes, for the person who may see the complaint.
    pub async fn complaint_file(&self, sm3: &str) -> Result<Vec<u8>> {
        self.require(Right::SeeComplaints.roles(), "查看投诉附件")
            .await?;
        self.store().complaint_file(sm3).await?.ok_or_else(|| {
            AppError::new(
                ErrorCode::NotFound,
                format!("本机没有附件 `{sm3}` 的内容：它随导入或同步的调查记录而来，文件在记录它的那台电脑上"),
            )
        })
    }

    /// An active supervisor's username, or why not.
    async fn check_assignee(&self, username: &str) -> Result<String> {
        let ok = self
            .store()
            .users()
            .await?
            .into_iter()
            .any(|u| u.username == username && u.active && u.role == StaffRole::Supervisor);
        if !ok {
            return Err(AppError::new(
                ErrorCode::Invalid,
                format!("`{username}` 不是在岗的投诉处理人员：请从列表中选择调查人员"),
            ));
        }
        Ok(username.to_owned())
    }

    async fn complaint_row(&self, id: &str) -> Result<ComplaintRow> {
        self.store()
            .complaints()
            .await?
            .into_iter()
            .find(|r| r.record.complaint.id == id)
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, format!("没有投诉 `{id}`")))
    }

    async fn staff_names(&self) -> Result<HashMap<String, String>> {
        Ok(self
            .store()
            .users()
            .await?
            .into_iter()
            .map(|u| (u.username, u.name))
            .collect())
    }

    async fn clock_settings(&self) -> Result<(Calendar, Limits)> {
        Ok((self.store().calendar().await?, self.store().limits().await?))
    }

    pub(crate) async fn complaint_items(&self) -> Result<Vec<ComplaintItem>> {
        let (calendar, limits) = self.clock_settings().await?;
        let names = self.staff_names().await?;
        let feedback = self.store().complaint_feedback().await?;
        self.store()
            .complaints()
            .await?
            .iter()
            .map(|row| item(row, &calendar, &limits, &names, &feedback))
            .collect()
    }
}

/// Who recorded an event, as staff read it.
fn who(source: Option<&str>, names: &HashMap<String, String>) -> String {
    match source {
        Some(s) => match s.strip_prefix("app:") {
            Some(u) => names.get(u).cloned().unwrap_or_else(|| u.to_owned()),
            None if s == "clock" => "系统（期限提醒）".into(),
            None => s.to_owned(),
        },
        None => String::new(),
    }
}

fn item(
    row: &ComplaintRow,
    calendar: &Calendar,
    limits: &Limits,
    names: &HashMap<String, String>,
    feedback: &[Feedback],
) -> Result<ComplaintItem> {
    let now = chrono::Utc::now().with_timezone(&beijing());
    let lodged = time("登记时间", &row.lodged_at)?;
    let record = &row.record;
    let state = record.state();
    let decide = Clock::start(calendar, lodged, limits.complaint_decide);
    let mut clocks: Vec<ComplaintClock> = record
        .clocks(lodged, calendar, limits)
        .into_iter()
        .map(|(limit, clock)| ComplaintClock {
            limit,
            length: clock.limit.zh(),
            due: clock.due.to_string(),
            state: clock.state(calendar, now),
        })
        .collect();
    clocks.sort_by_key(|c| match c.state {
        ClockState::Overdue { by } => (0, -by),
        ClockState::Running { left } => (1, left),
    });
    // Closed at the decision, or at the refusal.
    let closed = match (&row.resolved_at, state) {
        (Some(at), _) => Some(time("办结时间", at)?),
        (None, ComplaintState::Refused) => record
            .admitted_at()
            .map(|at| time("受理决定时间", at))
            .transpose()?,
        _ => None,
    };
    let c = &record.complaint;
    Ok(ComplaintItem {
        id: c.id.clone(),
        channel: c.channel,
        complainant: c.complainant.name.clone(),
        subject: c.subject.clone(),
        project: record.project.clone(),
        state,
        assignee: record
            .assignee()
            .map(|u| names.get(u).cloned().unwrap_or_else(|| u.to_owned())),
        lodged_at: row.lodged_at.clone(),
        resolved_at: row.resolved_at.clone(),
        result: record.result.clone(),
        limit: limits.complaint_decide.zh(),
        due: decide.due.to_string(),
        clocks,
        took: closed.map(|t| calendar.working_days_between(day(lodged), day(t))),
        feedback: feedback
            .iter()
            .find(|f| f.complaint_id == c.id)
            .map(|f| f.status),
    })
}
