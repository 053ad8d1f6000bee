//! The rule catalog: one rule per clause (and outcome) of the standard, each
//! with its trigger, recipient roles and zh-CN template. The rule id travels
//! onto every push; `clause` is the id without its outcome suffix.

use crate::event::{Outcome, Stage};
use crate::role::Role;
use Role::*;

/// What makes a rule fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    MemberSubmitted,
    MemberReviewed(Outcome),
    PasswordReset,
    ProjectRegistered,
    FilingSubmitted(Stage),
    FilingReviewed(Stage, Outcome),
    MaterialsSubmitted(Stage),
    /// The product's own: materials returned by their verification.
    MaterialsReturned,
    NoticePublished(Stage),
    ExpertsDrawn,
    DepositRefunded,
    ComplaintResolved,
    /// The product's own: the day's audit head (`event::ANCHORED`).
    HeadAnchored,
    /// The product's own: a draw left short once its backups ran out (`event::DRAW_SHORT`).
    DrawShort,
    /// The product's own: a complaint lodged, told to the supervisors.
    ComplaintLodged,
    /// The product's own: a complaint not accepted, told to the complainant.
    ComplaintRefused,
    /// The product's own: a complaint handed to a supervisor to investigate.
    ComplaintAssigned,
    /// The product's own: a complaint's clock about to run out, or run out.
    ComplaintReminded,
}

#[derive(Debug)]
pub struct Rule {
    /// e.g. `4.4.2-reject`.
    pub id: &'static str,
    /// The clause of the standard, e.g. `4.4.2`.
    pub clause: &'static str,
    /// The step, in the standard's words.
    pub title: &'static str,
    pub trigger: Trigger,
    pub recipients: &'static [Role],
    /// Roles whose message must also say the project finished the stage.
    pub stage_done_for: &'static [Role],
    /// Body with `{item}` placeholders; every placeholder is a required item.
    pub template: &'static str,
}

impl Rule {
    /// The required items: every placeholder of the template.
    pub fn required_items(&self) -> Vec<&'static str> {
        placeholders(self.template)
    }

    /// The sentence telling a recipient the project finished the stage.
    pub fn stage_done_sentence(&self) -> Option<String> {
        match self.trigger {
            Trigger::NoticePublished(stage) if !self.stage_done_for.is_empty() => {
                Some(format!("该项目已完成{}阶段。", stage.notice_zh()))
            }
            _ => None,
        }
    }
}

use Outcome::{Passed, Rejected};
use Stage::*;
use Trigger::*;

const TA: &[Role] = &[Tenderer, Agency];
const TAB: &[Role] = &[Tenderer, Agency, Bidder];
const CENTER: &[Role] = &[CenterStaff];
const SUPERVISION: &[Role] = &[SupervisorStaff];

macro_rules! rule {
    ($id:literal, $clause:literal, $title:literal, $trigger:expr, $to:expr, $done:expr, $tpl:literal) => {
        Rule {
            id: $id,
            clause: $clause,
            title: $title,
            trigger: $trigger,
            recipients: $to,
            stage_done_for: $done,
            template: $tpl,
        }
    };
}

pub static CATALOG: &[Rule] = &[
    rule!("4.1.2a", "4.1.2a", "会员注册提交", MemberSubmitted, &[Member], &[],
        "您已提交公共资源交易平台会员注册。用户名：{username}，初始密码：{password}（一次性密码，{password_ttl}内有效，首次登录须修改）。"),
    rule!("4.1.2b-pass", "4.1.2b", "会员注册资料查验通过", MemberReviewed(Passed), &[Member], &[],
        "您在公共资源交易平台注册的账号（用户名：{username}）已开通，可以使用注册用户名和密码登录公共资源交易平台。"),
    rule!("4.1.2b-reject", "4.1.2b", "会员注册资料查验不通过", MemberReviewed(Rejected), &[Member], &[],
        "您在公共资源交易平台注册的资料不符合要求，已被驳回，驳回意见：{opinion}。请尽快使用注册账号（用户名：{username}）和密码登录公共资源交易平台，修改资料后重新提交。"),
    rule!("4.1.2c", "4.1.2c", "找回密码", PasswordReset, &[Member], &[],
        "您已完成找回密码。注册用户名：{username}，临时密码：{password}（一次性密码，{password_ttl}内有效，登录后须修改）。"),
    rule!("4.2", "4.2", "项目登记", ProjectRegistered, TA, &[],
        "您的项目“{project_name}”（项目编号：{project_code}）已由公共资源交易平台受理登记。"),
    rule!("4.3.1", "4.3.1", "意见征询发布资料查验", MaterialsSubmitted(Consultation), CENTER, &[],
        "项目“{project_name}”（项目编号：{project_code}）的意见征询发布资料已提交，请及时查验。"),
    rule!("4.3.2", "4.3.2", "意见征询发布", NoticePublished(Consultation), TA, &[],
        "您的项目“{project_name}”意见征询已发布，网址：{url}。"),
    rule!("4.4.1", "4.4.1", "招标文件资料备案审核", FilingSubmitted(TenderNotice), SUPERVISION, &[],
        "项目“{project_name}”（项目编号：{project_code}）的招标文件资料已提交备案，请及时审核。"),
    rule!("4.4.2-pass", "4.4.2", "招标文件资料备案审核通过", FilingReviewed(TenderNotice, Passed), TA, &[],
        "您的项目“{project_name}”的招标文件资料备案已通过审核。"),
    rule!("4.4.2-reject", "4.4.2", "招标文件资料备案审核不通过", FilingReviewed(TenderNotice, Rejected), TA, &[],
        "您的项目“{project_name}”的招标文件资料备案未通过审核，驳回意见：{opinion}。请按照驳回意见修改后重新提交。"),
    rule!("4.4.3", "4.4.3", "招标公告发布资料查验", MaterialsSubmitted(TenderNotice), CENTER, &[],
        "项目“{project_name}”（项目编号：{project_code}）的招标公告发布资料已提交，请及时查验。"),
    rule!("4.4.4", "4.4.4", "招标公告发布", NoticePublished(TenderNotice), TA, TA,
        "您的项目“{project_name}”招标公告已发布，网址：{url}。"),
    rule!("4.5.1", "4.5.1", "更正（澄清、答疑）文件资料备案审核", FilingSubmitted(Correction), SUPERVISION, &[],
        "项目“{project_name}”（项目编号：{project_code}）的第{round}次更正（澄清、答疑）文件资料已提交备案，请及时审核。"),
    rule!("4.5.2-pass", "4.5.2", "更正（澄清、答疑）文件资料备案审核通过", FilingReviewed(Correction, Passed), TA, &[],
        "您的项目“{project_name}”的第{round}次更正（澄清、答疑）文件资料备案已通过审核。"),
    rule!("4.5.2-reject", "4.5.2", "更正（澄清、答疑）文件资料备案审核不通过", FilingReviewed(Correction, Rejected), TA, &[],
        "您的项目“{project_name}”的第{round}次更正（澄清、答疑）文件资料备案未通过审核，驳回意见：{opinion}。请按照驳回意见修改后重新提交。"),
    rule!("4.5.3", "4.5.3", "更正（澄清、答疑）公告发布资料查验", MaterialsSubmitted(Correction), CENTER, &[],
        "项目“{project_name}”（项目编号：{project_code}）的第{round}次更正（澄清、答疑）公告发布资料已提交，请及时查验。"),
    rule!("4.5.4", "4.5.4", "更正（澄清、答疑）公告发布", NoticePublished(Correction), TA, &[],
        "您的项目“{project_name}”第{round}次更正（澄清、答疑）公告已发布，网址：{url}。"),
    rule!("4.6", "4.6", "专家抽取", ExpertsDrawn, &[Expert], &[],
        "{sender}通知：您已被抽取为评标专家。评标时间：{evaluation_start}，评标大约耗时{duration_hours}小时，评标地点：{place}，联系电话：{contact_phone}。请准时参加，如不能参加请及时联系。"),
    rule!("4.7.1", "4.7.1", "开标结果公告发布资料查验", MaterialsSubmitted(BidOpening), CENTER, &[],
        "项目“{project_name}”（项目编号：{project_code}）的开标结果公告发布资料已提交，请及时查验。"),
    rule!("4.7.2", "4.7.2", "开标结果公告发布", NoticePublished(BidOpening), TAB, TAB,
        "项目“{project_name}”开标结果公告已发布，网址：{url}。"),
    rule!("4.8.1", "4.8.1", "评标结果（中标候选人）公示发布资料查验", MaterialsSubmitted(EvaluationResult), CENTER, &[],
        "项目“{project_name}”（项目编号：{project_code}）的评标结果（中标候选人）公示发布资料已提交，请及时查验。"),
    rule!("4.8.2", "4.8.2", "评标结果（中标候选人）公示发布", NoticePublished(EvaluationResult), TAB, TAB,
        "项目“{project_name}”评标结果（中标候选人）公示已发布，网址：{url}。"),
    rule!("4.9.1", "4.9.1", "中标（成交）结果文件资料备案审核", FilingSubmitted(Award), SUPERVISION, &[],
        "项目“{project_name}”（项目编号：{project_code}）的中标（成交）结果文件资料已提交备案，请及时审核。"),
    rule!("4.9.2-pass", "4.9.2", "中标（成交）结果文件资料备案审核通过", FilingReviewed(Award, Passed), TA, &[],
        "您的项目“{project_name}”的中标（成交）结果文件资料备案已通过审核。"),
    rule!("4.9.2-reject", "4.9.2", "中标（成交）结果文件资料备案审核不通过", FilingReviewed(Award, Rejected), TA, &[],
        "您的项目“{project_name}”的中标（成交）结果文件资料备案未通过审核，驳回意见：{opinion}。请按照驳回意见修改后重新提交。"),
    rule!("4.9.3", "4.9.3", "中标（成交）结果公告发布资料查验", MaterialsSubmitted(Award), CENTER, &[],
        "项目“{project_name}”（项目编号：{project_code}）的中标（成交）结果公告发布资料已提交，请及时查验。"),
    rule!("4.9.4", "4.9.4", "中标（成交）结果公告发布", NoticePublished(Award), TAB, TA,
        "项目“{project_name}”中标（成交）结果公告已发布，网址：{url}。"),
    rule!("4.10.1", "4.10.1", "合同资料备案审核", FilingSubmitted(Contract), SUPERVISION, &[],
        "项目“{project_name}”（项目编号：{project_code}）的合同资料已提交备案，请及时审核。"),
    rule!("4.10.2-pass", "4.10.2", "合同资料备案审核通过", FilingReviewed(Contract, Passed), TA, &[],
        "您的项目“{project_name}”的合同资料备案已通过审核。"),
    rule!("4.10.2-reject", "4.10.2", "合同资料备案审核不通过", FilingReviewed(Contract, Rejected), TA, &[],
        "您的项目“{project_name}”的合同资料备案未通过审核，驳回意见：{opinion}。请按照驳回意见修改后重新提交。"),
    rule!("4.10.3", "4.10.3", "合同公告发布资料查验", MaterialsSubmitted(Contract), CENTER, &[],
        "项目“{project_name}”（项目编号：{project_code}）的合同公告发布资料已提交，请及时查验。"),
    rule!("4.10.4", "4.10.4", "合同公告发布", NoticePublished(Contract), &[Tenderer, Agency, WinningBidder], &[Tenderer, Agency, WinningBidder],
        "项目“{project_name}”合同公告已发布，网址：{url}。"),
    rule!("4.11", "4.11", "保证金退还", DepositRefunded, &[LosingBidder, WinningBidder], &[],
        "您参与的项目“{project_name}”（项目编号：{project_code}）的投标保证金已退回，请注意查收。"),
    rule!("4.12.1", "4.12.1", "履约公告发布资料查验", MaterialsSubmitted(Performance), CENTER, &[],
        "项目“{project_name}”（项目编号：{project_code}）的履约公告发布资料已提交，请及时查验。"),
    rule!("4.12.2", "4.12.2", "履约公告发布", NoticePublished(Performance), &[WinningBidder, Tenderer], &[WinningBidder, Tenderer],
        "项目“{project_name}”履约公告已发布，网址：{url}。"),
    rule!("5.1.2", "5.1.2", "投诉处理结果反馈", ComplaintResolved, &[Complainant], &[],
        "您反映的“{subject}”已调查核实并作出处理，处理结果：{result}。感谢您对公共资源交易工作的监督。"),
];

/// The product's own rules, beside the standard's and not clauses of it:
/// their ids carry no clause number.
pub static OWN: &[Rule] = &[
    rule!("returned", "returned", "发布资料查验退回", MaterialsReturned, TA, &[],
        "您的项目“{project_name}”（项目编号：{project_code}）的{notice}发布资料经查验未通过，已退回。退回原因：{reason}。请修改后重新提交。"),
    rule!("short", "short", "专家抽取缺额", DrawShort, CENTER, &[],
        "项目“{project_name}”（项目编号：{project_code}）的专家抽取中，专业 {specialty} 尚缺 {missing} 名专家：备选专家均已通知或已用尽，请补充抽取。"),
    rule!("lodged", "lodged", "投诉登记", ComplaintLodged, &[Supervisor], &[],
        "收到一件{channel}投诉（编号 {complaint_id}）：“{subject}”。请及时决定是否受理。"),
    rule!("refused", "refused", "投诉不予受理告知", ComplaintRefused, &[Complainant], &[],
        "您反映的“{subject}”经审查不予受理，理由：{reason}。感谢您对公共资源交易工作的监督。"),
    rule!("assigned", "assigned", "投诉指派调查", ComplaintAssigned, &[Supervisor], &[],
        "投诉“{subject}”（编号 {complaint_id}）已交由您调查处理，请及时调查核实。"),
    rule!("remind", "remind", "投诉期限提醒", ComplaintReminded, &[Supervisor], &[],
        "投诉“{subject}”（编号 {complaint_id}）的{when}，请及时办理。"),
    rule!("anchor", "anchor", "审计链头存证", HeadAnchored, SUPERVISION, &[],
        "截至{date}，本中心审计记录的链头为 {head}。请留存本消息：日后可凭它核对本中心的审计记录未被删除或改写。"),
];

/// Every rule: the standard's, then the product's own.
pub fn rules() -> impl Iterator<Item = &'static Rule> {
    CATALOG.iter().chain(OWN)
}

/// The `{name}` placeholders of a template, in order.
pub fn placeholders(template: &'static str) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after.find('}').expect("templates close every placeholder");
        out.push(&after[..end]);
        rest = &after[end + 1..];
    }
    out
}

/// The rule a trigger fires, if any.
pub fn rule_for(trigger: Trigger) -> Option<&'static Rule> {
    rules().find(|r| r.trigger == trigger)
}

pub fn rule_by_id(id: &str) -> Option<&'static Rule> {
    rules().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_triggers_are_unique() {
        let all: Vec<&Rule> = rules().collect();
        for (i, r) in all.iter().enumerate() {
            // The store derives a push's clause from its rule this way (pushes.clause).
            assert_eq!(r.id.split('-').next(), Some(r.clause), "{}", r.id);
            for o in &all[..i] {
                assert_ne!(o.id, r.id);
                assert_ne!(
                    o.trigger, r.trigger,
                    "{} and {} share a trigger",
                    o.id, r.id
                );
            }
        }
    }
}
