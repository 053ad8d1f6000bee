//! The decision for one event: check it against what is known (the project,
//! the member, the complaint), apply it, and render every push its clause
//! requires. Pure: the store looks things up before and persists after.

use crate::catalog::{rule_for, Rule, Trigger};
pub use crate::complaints::ComplaintRecord;
use crate::complaints::{ComplaintState, Step, StepKind};
use crate::error::Refusal;
use crate::event::{Envelope, EventBody, Outcome, Party, Stage};
use crate::materials::Verdict;
use crate::push::{Channel, PushDraft, Recipient, Secret};
use crate::reach::{ContactRules, Reach};
use crate::render::{recipient_name, render, Center, Items, Message, MASK};
use crate::role::{Role, StaffRole};
use crate::workflow::{Project, ProjectParty};
use serde::{Deserialize, Serialize};

/// An active user of the staff directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub username: String,
    pub name: String,
}

/// Active staff of the roles pushes go to: the two the standard names, and
/// the center's own supervisors (监督/投诉处理), who are told of complaints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    pub center_staff: Vec<StaffMember>,
    pub supervisor_staff: Vec<StaffMember>,
    pub supervisors: Vec<StaffMember>,
}

impl Directory {
    /// The directory of staff read as (username, name, role) rows, the
    /// role as `StaffRole::as_str` writes it; other roles are left out.
    pub fn of(rows: impl IntoIterator<Item = (String, String, String)>) -> Directory {
        let mut d = Directory::default();
        for (username, name, role) in rows {
            let member = StaffMember { username, name };
            if role == StaffRole::CenterStaff.as_str() {
                d.center_staff.push(member);
            } else if role == StaffRole::SupervisorStaff.as_str() {
                d.supervisor_staff.push(member);
            } else if role == StaffRole::Supervisor.as_str() {
                d.supervisors.push(member);
            }
        }
        d
    }

    /// One stand-in per role, for deciding events again in a fold: who was
    /// addressed is not part of what the events leave, so no event already
    /// accepted is refused there for want of a recipient.
    pub fn stand_ins() -> Directory {
        let one = || {
            vec![StaffMember {
                username: "replay".into(),
                name: "replay".into(),
            }]
        };
        Directory {
            center_staff: one(),
            supervisor_staff: one(),
            supervisors: one(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    Submitted,
    Active,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    pub party: Party,
    pub status: MemberStatus,
}

/// What the event refers to, as the store found it.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub project: Option<Project>,
    pub member: Option<MemberRecord>,
    pub complaint: Option<ComplaintRecord>,
    /// Whether the project a complaint or a survey names is registered.
    pub project_known: bool,
}

/// The state an accepted event leaves behind.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Project {
        project: Project,
        added: Vec<ProjectParty>,
        registered: bool,
    },
    Member(MemberRecord),
    Complaint(ComplaintRecord),
    Survey,
    /// Nothing beyond the event and its pushes (the daily anchor, a draw's shortage alert).
    PushesOnly,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub change: Change,
    pub pushes: Vec<PushDraft>,
    /// The recipients of the rule who get nothing, and why: the trace of a
    /// silence (a party that declined pushes is still on the record).
    pub silenced: Vec<Silenced>,
}

impl Decision {
    fn new(change: Change, drafts: Drafts) -> Self {
        Decision {
            change,
            pushes: drafts.pushes,
            silenced: drafts.silenced,
        }
    }
}

/// A recipient of a rule that is not pushed to, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silenced {
    pub rule: &'static str,
    pub clause: &'static str,
    pub recipient: Recipient,
    pub reason: &'static str,
}

/// Why a party that declined pushes (prefers `none`) got none of this clause.
pub const DECLINED: &str = "对方已选择不接收推送，本条款不属必达条款";

/// What a rule comes to for its recipients: the pushes, and the silences.
#[derive(Debug, Clone, Default, PartialEq)]
struct Drafts {
    pushes: Vec<PushDraft>,
    silenced: Vec<Silenced>,
}

impl Drafts {
    fn add(&mut self, more: Drafts) {
        self.pushes.extend(more.pushes);
        self.silenced.extend(more.silenced);
    }
}

pub struct Context<'a> {
    pub center: &'a Center,
    pub staff: &'a Directory,
    pub rules: &'a ContactRules,
}

/// How long a one-time password stays valid, as told to the member.
pub const PASSWORD_TTL: &str = "24小时";

/// How a message to a work group greets its members.
pub const GROUP_GREETING: &str = "各位同事";

/// The member username an event refers to, for the store's lookup.
pub fn member_username(body: &EventBody) -> Option<&str> {
    match body {
        EventBody::MemberRegistrationSubmitted { member } => member.username.as_deref(),
        EventBody::MemberRegistrationReviewed { username, .. }
        | EventBody::MemberPasswordReset { username } => Some(username),
        _ => None,
    }
}

/// The complaint id an event refers to, for the store's lookup.
pub fn complaint_id(body: &EventBody) -> Option<&str> {
    match body {
        EventBody::ComplaintLodged { complaint } => Some(&complaint.id),
        EventBody::ComplaintAccepted { complaint_id, .. }
        | EventBody::ComplaintRefused { complaint_id, .. }
        | EventBody::ComplaintAssigned { complaint_id, .. }
        | EventBody::ComplaintNoted { complaint_id, .. }
        | EventBody::ComplaintReminded { complaint_id, .. }
        | EventBody::ComplaintResolved { complaint_id, .. } => Some(complaint_id),
        _ => None,
    }
}

pub fn decide(env: &Envelope, known: &Known, ctx: &Context) -> Result<Decision, Refusal> {
    let mut items = Items::new();
    match &env.body {
        EventBody::MemberRegistrationSubmitted { member } => {
            let username = member.username.clone().unwrap_or_default();
            if let Some(m) = &known.member {
                if m.status != MemberStatus::Rejected {
                    return Err(Refusal::field(
                        "member.username",
                        format!("用户名 `{username}` 已被注册"),
                    ));
                }
            }
            let record = MemberRecord {
                party: member.clone(),
                status: MemberStatus::Submitted,
            };
            password_message(Trigger::MemberSubmitted, record, ctx)
        }
        EventBody::MemberRegistrationReviewed {
            username,
            outcome,
            opinion,
        } => {
            let mut record = known_member(known, username)?;
            if record.status != MemberStatus::Submitted {
                return Err(Refusal::order(
                    "4.1.2b",
                    format!("会员 `{username}` 没有待查验的注册资料"),
                ));
            }
            record.status = match outcome {
                Outcome::Passed => MemberStatus::Active,
                Outcome::Rejected => MemberStatus::Rejected,
            };
            items.insert("username", username.clone());
            if let Some(o) = opinion {
                items.insert("opinion", o.clone());
            }
            let drafts = member_push(
                Trigger::MemberReviewed(*outcome),
                &record.party,
                &items,
                ctx,
                None,
            )?;
            Ok(Decision::new(Change::Member(record), drafts))
        }
        EventBody::MemberPasswordReset { username } => {
            password_message(Trigger::PasswordReset, known_member(known, username)?, ctx)
        }
        EventBody::ComplaintLodged { complaint } => {
            if known.complaint.is_some() {
                return Err(Refusal::field(
                    "complaint.id",
                    format!("投诉 `{}` 已登记过", complaint.id),
                ));
            }
            if let Some(code) = &env.project {
                if !known.project_known {
                    return Err(Refusal::UnknownProject(code.clone()));
                }
            }
            let record = ComplaintRecord {
                complaint: complaint.clone(),
                project: env.project.clone(),
                result: None,
                steps: Vec::new(),
            };
            items.insert("channel", complaint.channel.zh().into());
            let drafts = supervisor_pushes(Trigger::ComplaintLodged, &record, &items, None, ctx)?;
            Ok(Decision::new(Change::Complaint(record), drafts))
        }
        EventBody::ComplaintAccepted {
            complaint_id,
            assignee,
        } => {
            let mut record = lodged_complaint(known, complaint_id)?;
            record.steps.push(step(
                env,
                StepKind::Accepted {
                    assignee: assignee.clone(),
                },
            ));
            let drafts = match assignee {
                Some(a) => {
                    supervisor_pushes(Trigger::ComplaintAssigned, &record, &items, Some(a), ctx)?
                }
                None => Drafts::default(),
            };
            Ok(Decision::new(Change::Complaint(record), drafts))
        }
        EventBody::ComplaintRefused {
            complaint_id,
            reason,
        } => {
            let mut record = lodged_complaint(known, complaint_id)?;
            record.steps.push(step(
                env,
                StepKind::Refused {
                    reason: reason.clone(),
                },
            ));
            items.insert("subject", record.complaint.subject.clone());
            items.insert("reason", reason.clone());
            let rule = rule_for(Trigger::ComplaintRefused).expect("the refusal is an own rule");
            let to = &record.complaint.complainant;
            let mut message = RoleMessage::new(rule, Role::Complainant, &items, ctx.center);
            let drafts = party_pushes(to, &mut message, ctx.rules, false)?;
            Ok(Decision::new(Change::Complaint(record), drafts))
        }
        EventBody::ComplaintAssigned {
            complaint_id,
            assignee,
        } => {
            let mut record = open_complaint(known, complaint_id)?;
            if record.state() == ComplaintState::Lodged {
                return Err(Refusal::order(
                    "5.1.2",
                    format!("投诉 `{complaint_id}` 尚未受理：请先受理再指派调查人员"),
                ));
            }
            record.steps.push(step(
                env,
                StepKind::Assigned {
                    assignee: assignee.clone(),
                },
            ));
            let drafts = supervisor_pushes(
                Trigger::ComplaintAssigned,
                &record,
                &items,
                Some(assignee),
                ctx,
            )?;
            Ok(Decision::new(Change::Complaint(record), drafts))
        }
        EventBody::ComplaintNoted {
            complaint_id,
            note,
            files,
        } => {
            let mut record = open_complaint(known, complaint_id)?;
            record.steps.push(step(
                env,
                StepKind::Noted {
                    note: note.clone(),
                    files: files.clone(),
                },
            ));
            Ok(Decision::new(Change::Complaint(record), Drafts::default()))
        }
        EventBody::ComplaintReminded {
            complaint_id,
            limit,
            due,
            overdue,
        } => {
            let mut record = open_complaint(known, complaint_id)?;
            record.steps.push(step(
                env,
                StepKind::Reminded {
                    limit: *limit,
                    due: *due,
                    overdue: *overdue,
                },
            ));
            let when = if *overdue {
                format!("{}期限已于 {due} 届满，现已逾期", limit.zh())
            } else {
                format!("{}期限将于 {due} 届满", limit.zh())
            };
            items.insert("when", when);
            // Before the last day the assignee is told; once it passed, every supervisor.
            let only = (!*overdue)
                .then(|| record.assignee())
                .flatten()
                .map(str::to_owned);
            let drafts = supervisor_pushes(
                Trigger::ComplaintReminded,
                &record,
                &items,
                only.as_deref(),
                ctx,
            )?;
            Ok(Decision::new(Change::Complaint(record), drafts))
        }
        EventBody::ComplaintResolved {
            complaint_id,
            result,
        } => {
            let mut record = known_complaint(known, complaint_id)?;
            match record.state() {
                ComplaintState::Decided => {
                    return Err(Refusal::order(
                        "5.1.2",
                        format!("投诉 `{complaint_id}` 已处理并反馈过"),
                    ))
                }
                ComplaintState::Refused => {
                    return Err(Refusal::order(
                        "5.1.2",
                        format!("投诉 `{complaint_id}` 已决定不予受理，不能再作出处理决定"),
                    ))
                }
                _ => {}
            }
            record.result = Some(result.clone());
            items.insert("subject", record.complaint.subject.clone());
            items.insert("result", result.clone());
            let rule = rule_for(Trigger::ComplaintResolved).expect("5.1.2 is in the catalog");
            let to = &record.complaint.complainant;
            let mut message = RoleMessage::new(rule, Role::Complainant, &items, ctx.center);
            let drafts = party_pushes(to, &mut message, ctx.rules, false)?;
            Ok(Decision::new(Change::Complaint(record), drafts))
        }
        EventBody::SurveyAnswered { .. } => {
            if let Some(code) = &env.project {
                if !known.project_known {
                    return Err(Refusal::UnknownProject(code.clone()));
                }
            }
            Ok(Decision::new(Change::Survey, Drafts::default()))
        }
        EventBody::HeadAnchored { head, recipients } => {
            items.insert("head", head.to_string());
            items.insert("date", env.at.format("%Y-%m-%d %H:%M").to_string());
            let rule = rule_for(Trigger::HeadAnchored).expect("the anchor is an own rule");
            let mut message = RoleMessage::new(rule, Role::SupervisorStaff, &items, ctx.center);
            // Every contact given: the copy is the point.
            let both = ContactRules {
                both: Reach::Both,
                ..ContactRules::default()
            };
            let mut drafts = Drafts::default();
            for r in recipients {
                let party = Party {
                    prefer: None,
                    ..r.clone()
                };
                drafts.add(party_pushes(&party, &mut message, &both, false)?);
            }
            Ok(Decision::new(Change::PushesOnly, drafts))
        }
        EventBody::ProjectRegistered {
            name,
            tenderer,
            agency,
        } => {
            let code = env.project.as_deref().expect("parse requires a project");
            if let Some(p) = &known.project {
                return Err(p.apply(&env.body).expect_err("re-registration is refused"));
            }
            let project = Project::register(code, name, tenderer, agency.as_ref());
            let drafts = project_pushes(env, &project, &project, ctx)?;
            Ok(Decision::new(
                Change::Project {
                    added: project.parties.to_vec(),
                    project,
                    registered: true,
                },
                drafts,
            ))
        }
        body => {
            let code = env.project.as_deref().expect("parse requires a project");
            let before = known
                .project
                .as_ref()
                .ok_or_else(|| Refusal::UnknownProject(code.to_owned()))?;
            let (after, added) = before.apply(body)?;
            let drafts = project_pushes(env, before, &after, ctx)?;
            Ok(Decision::new(
                Change::Project {
                    project: after,
                    added,
                    registered: false,
                },
                drafts,
            ))
        }
    }
}

/// One step of a complaint, at its event's own time.
fn step(env: &Envelope, what: StepKind) -> Step {
    Step {
        event: env.id.clone(),
        at: env.at.to_rfc3339(),
        what,
    }
}

fn known_complaint(known: &Known, id: &str) -> Result<ComplaintRecord, Refusal> {
    known.complaint.clone().ok_or_else(|| {
        Refusal::field(
            "complaint_id",
            format!("投诉 `{id}` 未登记：请先提交 complaint.lodged"),
        )
    })
}

/// A complaint whose acceptance is still to be decided.
fn lodged_complaint(known: &Known, id: &str) -> Result<ComplaintRecord, Refusal> {
    let record = known_complaint(known, id)?;
    if record.state() != ComplaintState::Lodged {
        return Err(Refusal::order(
            "5.1.2",
            format!("投诉 `{id}` {}，不能再决定是否受理", record.state().zh()),
        ));
    }
    Ok(record)
}

/// A complaint still being handled (neither refused nor decided).
fn open_complaint(known: &Known, id: &str) -> Result<ComplaintRecord, Refusal> {
    let record = known_complaint(known, id)?;
    if !record.state().open() {
        return Err(Refusal::order(
            "5.1.2",
            format!("投诉 `{id}` {}，已办结", record.state().zh()),
        ));
    }
    Ok(record)
}

/// The desktop pushes of a complaint's own rule to the center's
/// supervisors: to `only` when that one is on duty, else to all of them. A
/// center with no supervisor yet is told nothing; the board still shows it.
fn supervisor_pushes(
    trigger: Trigger,
    record: &ComplaintRecord,
    items: &Items,
    only: Option<&str>,
    ctx: &Context,
) -> Result<Drafts, Refusal> {
    let rule = rule_for(trigger).expect("every complaint trigger has a rule");
    let mut items = items.clone();
    items.insert("complaint_id", record.complaint.id.clone());
    items.insert("subject", record.complaint.subject.clone());
    let mut staff: Vec<&StaffMember> = ctx.staff.supervisors.iter().collect();
    if let Some(one) = only {
        if staff.iter().any(|s| s.username == one) {
            staff.retain(|s| s.username == one);
        }
    }
    let mut message = RoleMessage::new(rule, Role::Supervisor, &items, ctx.center);
    let mut drafts = Drafts::default();
    for s in staff {
        drafts
            .pushes
            .push(desktop_push(rule, Role::Supervisor, s, &mut message)?);
    }
    Ok(drafts)
}

/// A push to a staff member's desktop inbox.
fn desktop_push(
    rule: &'static Rule,
    role: Role,
    s: &StaffMember,
    message: &mut RoleMessage,
) -> Result<PushDraft, Refusal> {
    Ok(PushDraft {
        rule: rule.id,
        clause: rule.clause,
        recipient: Recipient {
            role,
            id: s.username.clone(),
            name: recipient_name(&s.name),
        },
        channel: Channel::Desktop,
        address: s.username.clone(),
        message: message.to(&s.name)?,
        secret: None,
    })
}

/// A message that tells a member a one-time password (4.1.2a, 4.1.2c): stored
/// masked, the dispatcher issues the password when it sends (note P).
fn password_message(
    trigger: Trigger,
    record: MemberRecord,
    ctx: &Context,
) -> Result<Decision, Refusal> {
    let mut items = Items::new();
    items.insert(
        "username",
        record.party.username.clone().unwrap_or_default(),
    );
    items.insert("password", MASK.into());
    items.insert("password_ttl", PASSWORD_TTL.into());
    let drafts = member_push(
        trigger,
        &record.party,
        &items,
        ctx,
        Some(Secret::OneTimePassword),
    )?;
    Ok(Decision::new(Change::Member(record), drafts))
}

fn known_member(known: &Known, username: &str) -> Result<MemberRecord, Refusal> {
    known.member.clone().ok_or_else(|| {
        Refusal::field(
            "username",
            format!("会员 `{username}` 未注册：请先提交 member.registration_submitted"),
        )
    })
}

fn member_push(
    trigger: Trigger,
    member: &Party,
    items: &Items,
    ctx: &Context,
    secret: Option<Secret>,
) -> Result<Drafts, Refusal> {
    let rule = rule_for(trigger).expect("every member trigger has a rule");
    let mut drafts = party_pushes(
        member,
        &mut RoleMessage::new(rule, Role::Member, items, ctx.center),
        ctx.rules,
        secret.is_some(),
    )?;
    let id = member.username.clone().unwrap_or_else(|| member.id.clone());
    for push in &mut drafts.pushes {
        push.recipient.id = id.clone();
        push.secret = secret;
    }
    for silenced in &mut drafts.silenced {
        silenced.recipient.id = id.clone();
    }
    Ok(drafts)
}

/// The message of one rule for one role: rendered for the first recipient
/// and the same for the others, as only the name around it differs.
struct RoleMessage<'a> {
    rule: &'static Rule,
    role: Role,
    items: &'a Items,
    center: &'a Center,
    rendered: Option<Message>,
}

impl<'a> RoleMessage<'a> {
    fn new(rule: &'static Rule, role: Role, items: &'a Items, center: &'a Center) -> Self {
        RoleMessage {
            rule,
            role,
            items,
            center,
            rendered: None,
        }
    }

    /// The message for a recipient of this name (refused as `render` refuses).
    fn to(&mut self, name: &str) -> Result<Message, Refusal> {
        match &self.rendered {
            Some(m) if !name.trim().is_empty() => Ok(m.clone()),
            _ => {
                let m = render(self.rule, self.role, name, self.items, self.center)?;
                self.rendered = Some(m.clone());
                Ok(m)
            }
        }
    }
}

/// A party's pushes of one rule: one per channel it is reached on (3.4);
/// when it declined a clause that is not mandatory, none, and that silence.
fn party_pushes(
    party: &Party,
    message: &mut RoleMessage,
    rules: &ContactRules,
    single: bool,
) -> Result<Drafts, Refusal> {
    let (rule, role) = (message.rule, message.role);
    if party.phone.is_none() && party.email.is_none() {
        return Err(Refusal::MissingItem {
            clause: rule.clause,
            item: format!("{}（{}）的联系方式", role.zh(), party.id),
        });
    }
    let recipient = Recipient {
        role,
        id: party.id.clone(),
        name: recipient_name(&party.name),
    };
    let mut out = Drafts::default();
    let channels = rules.channels(party, rule.clause, single);
    if channels.is_empty() {
        // It has a contact, so it declined.
        out.silenced.push(Silenced {
            rule: rule.id,
            clause: rule.clause,
            recipient,
            reason: DECLINED,
        });
        return Ok(out);
    }
    for (channel, address) in channels {
        out.pushes.push(PushDraft {
            rule: rule.id,
            clause: rule.clause,
            recipient: recipient.clone(),
            channel,
            address,
            message: message.to(&party.name)?,
            secret: None,
        });
    }
    Ok(out)
}

/// The trigger of a project event, and the rule it fires.
fn project_trigger(body: &EventBody) -> Option<Trigger> {
    Some(match body {
        EventBody::ProjectRegistered { .. } => Trigger::ProjectRegistered,
        EventBody::FilingSubmitted { stage, .. } => Trigger::FilingSubmitted(*stage),
        EventBody::FilingReviewed { stage, outcome, .. } => {
            Trigger::FilingReviewed(*stage, *outcome)
        }
        EventBody::MaterialsSubmitted { stage, .. } => Trigger::MaterialsSubmitted(*stage),
        EventBody::MaterialsVerified { verdict, .. } => match verdict {
            Verdict::Returned => Trigger::MaterialsReturned,
            Verdict::Passed => return None,
        },
        EventBody::NoticePublished { stage, .. } => Trigger::NoticePublished(*stage),
        EventBody::ExpertsDrawn { .. } => Trigger::ExpertsDrawn,
        EventBody::DepositRefunded { .. } => Trigger::DepositRefunded,
        EventBody::DrawShort { .. } => Trigger::DrawShort,
        _ => return None,
    })
}

/// Every push a project event causes: one per recipient of its rule.
fn project_pushes(
    env: &Envelope,
    before: &Project,
    after: &Project,
    ctx: &Context,
) -> Result<Drafts, Refusal> {
    let Some(trigger) = project_trigger(&env.body) else {
        // bidder_added only extends the recipient list; a passed verification
        // opens the way to publication, which tells the parties.
        return Ok(Drafts::default());
    };
    let rule = rule_for(trigger).expect("every project trigger has a rule");
    let mut items = Items::new();
    items.insert("project_name", after.name.clone());
    items.insert("project_code", after.code.clone());
    match &env.body {
        EventBody::FilingSubmitted { round, .. } | EventBody::MaterialsSubmitted { round, .. } => {
            items.insert("round", round.to_string());
        }
        EventBody::FilingReviewed { round, opinion, .. } => {
            items.insert("round", round.to_string());
            if let Some(o) = opinion {
                items.insert("opinion", o.clone());
            }
        }
        EventBody::MaterialsVerified {
            stage,
            round,
            reason,
            ..
        } => {
            let notice = match stage {
                Stage::Correction => format!("第{round}次{}", stage.notice_zh()),
                _ => stage.notice_zh().to_owned(),
            };
            items.insert("notice", notice);
            if let Some(r) = reason {
                items.insert("reason", r.clone());
            }
        }
        EventBody::NoticePublished { round, url, .. } => {
            items.insert("round", round.to_string());
            items.insert("url", url.clone());
        }
        EventBody::ExpertsDrawn {
            sender, evaluation, ..
        } => {
            items.insert("sender", sender.clone());
            items.insert(
                "evaluation_start",
                evaluation.start.format("%Y年%m月%d日 %H:%M").to_string(),
            );
            items.insert("duration_hours", format_hours(evaluation.duration_hours));
            items.insert("place", evaluation.place.clone());
            items.insert("contact_phone", evaluation.contact_phone.clone());
        }
        EventBody::DrawShort {
            specialty, missing, ..
        } => {
            items.insert("specialty", specialty.clone());
            items.insert("missing", missing.to_string());
        }
        _ => {}
    }

    let mut drafts = Drafts::default();
    for &role in rule.recipients {
        let mut message = RoleMessage::new(rule, role, &items, ctx.center);
        if let Some(staff_role) = role.staff() {
            let mut staff: Vec<&StaffMember> = match staff_role {
                StaffRole::CenterStaff => &ctx.staff.center_staff,
                StaffRole::SupervisorStaff => &ctx.staff.supervisor_staff,
                _ => &ctx.staff.supervisors,
            }
            .iter()
            .collect();
            // A shortage goes to the one who ran the draw while they are on duty.
            if let EventBody::DrawShort { staff: drawer, .. } = &env.body {
                if staff.iter().any(|s| &s.username == drawer) {
                    staff.retain(|s| &s.username == drawer);
                }
            }
            if staff.is_empty() {
                return Err(Refusal::NoRecipient {
                    clause: rule.clause,
                    role: role.zh(),
                });
            }
            for s in staff {
                drafts
                    .pushes
                    .push(desktop_push(rule, role, s, &mut message)?);
            }
            // The role's work groups get the same message, once per group.
            for channel in ctx.rules.groups_for(role) {
                drafts.pushes.push(PushDraft {
                    rule: rule.id,
                    clause: rule.clause,
                    recipient: Recipient {
                        role,
                        id: format!("group.{}", channel.as_str()),
                        name: GROUP_GREETING.into(),
                    },
                    channel,
                    address: channel.as_str().into(),
                    message: message.to(GROUP_GREETING)?,
                    secret: None,
                });
            }
            continue;
        }
        for party in recipients(env, before, after, role) {
            drafts.add(party_pushes(party, &mut message, ctx.rules, false)?);
        }
    }
    Ok(drafts)
}

/// The project's own parties holding a role for this event (3.2: never a broadcast).
fn recipients<'a>(
    env: &'a Envelope,
    before: &'a Project,
    after: &'a Project,
    role: Role,
) -> Vec<&'a Party> {
    let winner = after.progress.winner.as_deref();
    match (role, &env.body) {
        (Role::Expert, EventBody::ExpertsDrawn { experts, .. }) => experts.iter().collect(),
        (Role::WinningBidder | Role::LosingBidder, EventBody::DepositRefunded { bidders }) => {
            let targets = before
                .refund_targets(bidders.as_deref())
                .expect("apply already checked the refund");
            after
                .with_role(Role::Bidder)
                .filter(|b| targets.contains(&b.id))
                .filter(|b| (Some(b.id.as_str()) == winner) == (role == Role::WinningBidder))
                .collect()
        }
        (Role::WinningBidder, _) => after
            .with_role(Role::Bidder)
            .filter(|b| Some(b.id.as_str()) == winner)
            .collect(),
        (Role::LosingBidder, _) => after
            .with_role(Role::Bidder)
            .filter(|b| Some(b.id.as_str()) != winner)
            .collect(),
        (role, _) => after.with_role(role).collect(),
    }
}

fn format_hours(h: f64) -> String {
    if h.fract() == 0.0 {
        format!("{h:.0}")
    } else {
        format!("{h}")
    }
}
