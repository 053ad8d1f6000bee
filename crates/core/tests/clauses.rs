//! Every clause of the standard, table-driven: each step of a full tender
//! lifecycle names the rule it must fire, exactly who must receive it, and
//! the items every message must carry. Then: every clause id of clauses.md
//! has a rule and a row here.

use ggzy_core::catalog::{rule_by_id, CATALOG};
use ggzy_core::engine::{
    complaint_id, decide, member_username, Change, ComplaintRecord, Context, Directory, Known,
    MemberRecord, StaffMember,
};
use ggzy_core::event::parse;
use ggzy_core::push::{Channel, PushDraft, Secret};
use ggzy_core::reach::{ContactRules, Reach, WorkGroup};
use ggzy_core::render::{Center, MASK};
use ggzy_core::role::Role;
use ggzy_core::workflow::Project;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

/// A tiny in-memory world around the pure engine.
struct World {
    projects: HashMap<String, Project>,
    members: HashMap<String, MemberRecord>,
    complaints: HashMap<String, ComplaintRecord>,
    center: Center,
    staff: Directory,
    rules: ContactRules,
    n: u32,
    /// Whom the last event's rule left silent.
    silenced: Vec<ggzy_core::engine::Silenced>,
}

impl World {
    fn new() -> Self {
        let s = |u: &str, n: &str| StaffMember {
            username: u.into(),
            name: n.into(),
        };
        World {
            projects: HashMap::new(),
            members: HashMap::new(),
            complaints: HashMap::new(),
            center: Center {
                name: "临海市公共资源交易中心".into(),
                phone: Some("0576-85110086".into()),
            },
            staff: Directory {
                center_staff: vec![s("cs1", "张一"), s("cs2", "张二")],
                supervisor_staff: vec![s("ss1", "王一")],
                supervisors: vec![s("jd1", "陈一"), s("jd2", "陈二")],
            },
            rules: ContactRules::default(),
            n: 0,
            silenced: Vec::new(),
        }
    }

    fn feed(&mut self, mut event: Value) -> Result<Vec<PushDraft>, ggzy_core::Refusal> {
        self.n += 1;
        let map = event.as_object_mut().unwrap();
        map.insert("id".into(), format!("e{}", self.n).into());
        map.insert("at".into(), "2026-11-27T09:30:00+08:00".into());
        let env = parse(&event.to_string())?;
        let mut known = Known::default();
        if let Some(p) = &env.project {
            known.project = self.projects.get(p).cloned();
            known.project_known = known.project.is_some();
        }
        if let Some(u) = member_username(&env.body) {
            known.member = self.members.get(u).cloned();
        }
        if let Some(c) = complaint_id(&env.body) {
            known.complaint = self.complaints.get(c).cloned();
        }
        let ctx = Context {
            center: &self.center,
            staff: &self.staff,
            rules: &self.rules,
        };
        let d = decide(&env, &known, &ctx)?;
        self.silenced = d.silenced;
        match d.change {
            Change::Project { project, .. } => {
                self.projects.insert(project.code.clone(), project);
            }
            Change::Member(m) => {
                self.members.insert(m.party.username.clone().unwrap(), m);
            }
            Change::Complaint(c) => {
                self.complaints.insert(c.complaint.id.clone(), c);
            }
            Change::Survey | Change::PushesOnly => {}
        }
        Ok(d.pushes)
    }
}

const P: &str = "LH-2026-0001";
const NAME: &str = "灵江大桥维修加固工程";

fn ev(kind: &str, fields: Value) -> Value {
    let mut e = json!({"type": kind, "project": P});
    for (k, v) in fields.as_object().unwrap() {
        e.as_object_mut().unwrap().insert(k.clone(), v.clone());
    }
    e
}

/// One row: an event, the rule it must fire, its exact recipients
/// (role:id), what every message must say, and what only some may say.
struct Row {
    event: Value,
    rule: Option<&'static str>,
    to: &'static [&'static str],
    says: &'static [&'static str],
    /// (recipient, text) that only those recipients' messages carry.
    only: &'static [(&'static [&'static str], &'static str)],
}

fn row(
    event: Value,
    rule: &'static str,
    to: &'static [&'static str],
    says: &'static [&'static str],
) -> Row {
    Row {
        event,
        rule: Some(rule),
        to,
        says,
        only: &[],
    }
}

const TA: &[&str] = &["tenderer:T1", "agency:A1"];
const TAB: &[&str] = &[
    "tenderer:T1",
    "agency:A1",
    "bidder:B1",
    "bidder:B2",
    "bidder:B3",
];
const CS: &[&str] = &["center_staff:cs1", "center_staff:cs2"];
const SS: &[&str] = &["supervisor_staff:ss1"];

/// The rows with each notice's passed verification before it: a pass
/// pushes nothing, the publication that follows tells the parties.
fn lifecycle() -> Vec<Row> {
    let mut rows = Vec::new();
    for row in steps() {
        if row.event["type"] == "notice.published" {
            let mut pass = row.event.clone();
            pass["type"] = "materials.verified".into();
            pass["outcome"] = "passed".into();
            pass.as_object_mut().unwrap().remove("url");
            rows.push(Row {
                event: pass,
                rule: None,
                to: &[],
                says: &[],
                only: &[],
            });
        }
        rows.push(row);
    }
    rows
}

fn steps() -> Vec<Row> {
    let url = |s: &str| format!("https://ggzy.linhai.gov.cn/{s}");
    let stage = |k: &str, s: &str| ev(k, json!({"stage": s}));
    let publish = |s: &str| ev("notice.published", json!({"stage": s, "url": url(s)}));
    let review = |s: &str, outcome: &str| {
        let mut f = json!({"stage": s, "outcome": outcome});
        if outcome == "rejected" {
            f["opinion"] = "资格条件表述不清".into();
        }
        ev("filing.reviewed", f)
    };
    let bidder = |id: &str, name: &str, contact: Value| {
        let mut b = json!({"id": id, "name": name});
        for (k, v) in contact.as_object().unwrap() {
            b[k] = v.clone();
        }
        Row {
            event: ev("project.bidder_added", json!({ "bidder": b })),
            rule: None,
            to: &[],
            says: &[],
            only: &[],
        }
    };
    let correction = |kind: &str, round: u32, extra: Value| {
        let mut f = json!({"stage": "correction", "round": round});
        for (k, v) in extra.as_object().unwrap() {
            f[k] = v.clone();
        }
        ev(kind, f)
    };
    vec![
        row(
            json!({"type": "member.registration_submitted", "member": {"id": "M1", "name": "台州新材料科技有限公司", "username": "tzxcl", "phone": "13857699001"}}),
            "4.1.2a",
            &["member:tzxcl"],
            &["tzxcl", MASK, "一次性密码"],
        ),
        row(
            json!({"type": "member.registration_reviewed", "username": "tzxcl", "outcome": "rejected", "opinion": "营业执照照片不清晰"}),
            "4.1.2b-reject",
            &["member:tzxcl"],
            &[
                "不符合要求",
                "已被驳回",
                "营业执照照片不清晰",
                "修改资料后重新提交",
                "tzxcl",
            ],
        ),
        row(
            json!({"type": "member.registration_submitted", "member": {"id": "M1", "name": "台州新材料科技有限公司", "username": "tzxcl", "phone": "13857699001"}}),
            "4.1.2a",
            &["member:tzxcl"],
            &["tzxcl", MASK],
        ),
        row(
            json!({"type": "member.registration_reviewed", "username": "tzxcl", "outcome": "passed"}),
            "4.1.2b-pass",
            &["member:tzxcl"],
            &["账号", "已开通", "tzxcl", "登录"],
        ),
        row(
            json!({"type": "member.password_reset", "username": "tzxcl"}),
            "4.1.2c",
            &["member:tzxcl"],
            &["tzxcl", MASK],
        ),
        row(
            ev(
                "project.registered",
                json!({"name": NAME,
                "tenderer": {"id": "T1", "name": "临海市交通运输局", "phone": "0576-85000001"},
                "agency": {"id": "A1", "name": "浙江求是工程咨询有限公司", "email": "a1@qiushi.cn"}}),
            ),
            "4.2",
            TA,
            &[NAME, P, "受理登记"],
        ),
        bidder(
            "B1",
            "浙江宏远建设有限公司",
            json!({"phone": "13900000001"}),
        ),
        bidder(
            "B2",
            "台州华通市政工程有限公司",
            json!({"phone": "13900000002", "email": "b2@huatong.cn"}),
        ),
        bidder(
            "B3",
            "宁波甬安建设工程有限公司",
            json!({"email": "b3@yongan.cn"}),
        ),
        row(
            stage("materials.submitted", "consultation"),
            "4.3.1",
            CS,
            &[NAME, "意见征询发布资料", "查验"],
        ),
        row(
            publish("consultation"),
            "4.3.2",
            TA,
            &[
                NAME,
                "意见征询已发布",
                "https://ggzy.linhai.gov.cn/consultation",
            ],
        ),
        row(
            stage("filing.submitted", "tender_notice"),
            "4.4.1",
            SS,
            &[NAME, "招标文件资料", "备案", "审核"],
        ),
        row(
            review("tender_notice", "rejected"),
            "4.4.2-reject",
            TA,
            &[
                NAME,
                "招标文件资料备案未通过审核",
                "资格条件表述不清",
                "按照驳回意见修改后重新提交",
            ],
        ),
        row(
            stage("filing.submitted", "tender_notice"),
            "4.4.1",
            SS,
            &[NAME],
        ),
        row(
            review("tender_notice", "passed"),
            "4.4.2-pass",
            TA,
            &[NAME, "招标文件资料备案已通过审核"],
        ),
        row(
            stage("materials.submitted", "tender_notice"),
            "4.4.3",
            CS,
            &[NAME, "招标公告发布资料", "查验"],
        ),
        row(
            ev(
                "materials.verified",
                json!({"stage": "tender_notice", "outcome": "returned", "reason": "公告未载明投标截止时间",
                "checklist": [{"item": "公告内容完整", "ok": false, "remark": "缺投标截止时间"}]}),
            ),
            "returned",
            TA,
            &[
                NAME,
                "招标公告发布资料经查验未通过，已退回",
                "公告未载明投标截止时间",
                "修改后重新提交",
            ],
        ),
        row(
            stage("materials.submitted", "tender_notice"),
            "4.4.3",
            CS,
            &[NAME, "招标公告发布资料"],
        ),
        row(
            publish("tender_notice"),
            "4.4.4",
            TA,
            &[
                NAME,
                "招标公告已发布",
                "https://ggzy.linhai.gov.cn/tender_notice",
                "已完成招标公告阶段",
            ],
        ),
        row(
            correction("filing.submitted", 1, json!({})),
            "4.5.1",
            SS,
            &[NAME, "更正（澄清、答疑）文件资料", "备案"],
        ),
        row(
            correction(
                "filing.reviewed",
                1,
                json!({"outcome": "rejected", "opinion": "澄清内容与招标文件矛盾"}),
            ),
            "4.5.2-reject",
            TA,
            &[
                NAME,
                "更正（澄清、答疑）文件资料备案未通过审核",
                "澄清内容与招标文件矛盾",
                "修改后重新提交",
            ],
        ),
        row(
            correction("filing.submitted", 1, json!({})),
            "4.5.1",
            SS,
            &[NAME],
        ),
        row(
            correction("filing.reviewed", 1, json!({"outcome": "passed"})),
            "4.5.2-pass",
            TA,
            &[NAME, "更正（澄清、答疑）文件资料备案已通过审核"],
        ),
        row(
            correction("materials.submitted", 1, json!({})),
            "4.5.3",
            CS,
            &[NAME, "更正（澄清、答疑）公告发布资料", "查验"],
        ),
        row(
            correction("notice.published", 1, json!({"url": url("gzgg/1")})),
            "4.5.4",
            TA,
            &[
                NAME,
                "更正（澄清、答疑）公告已发布",
                "https://ggzy.linhai.gov.cn/gzgg/1",
            ],
        ),
        row(
            correction("filing.submitted", 2, json!({})),
            "4.5.1",
            SS,
            &[NAME, "第2次"],
        ),
        row(
            correction("filing.reviewed", 2, json!({"outcome": "passed"})),
            "4.5.2-pass",
            TA,
            &["第2次"],
        ),
        row(
            correction("materials.submitted", 2, json!({})),
            "4.5.3",
            CS,
            &["第2次"],
        ),
        row(
            correction("notice.published", 2, json!({"url": url("gzgg/2")})),
            "4.5.4",
            TA,
            &["https://ggzy.linhai.gov.cn/gzgg/2"],
        ),
        row(
            ev(
                "experts.drawn",
                json!({"sender": "临海市公共资源交易中心",
                "evaluation": {"start": "2026-12-03T09:00:00+08:00", "duration_hours": 3.5, "place": "交易中心三楼第二评标室", "contact_phone": "0576-85110086"},
                "experts": [{"id": "X1", "name": "周建国", "phone": "13958610001"}, {"id": "X2", "name": "吴晓梅", "phone": "13958610002"}]}),
            ),
            "4.6",
            &["expert:X1", "expert:X2"],
            &[
                "临海市公共资源交易中心",
                "2026年12月03日 09:00",
                "3.5小时",
                "交易中心三楼第二评标室",
                "0576-85110086",
            ],
        ),
        row(
            stage("materials.submitted", "bid_opening"),
            "4.7.1",
            CS,
            &[NAME, "开标结果公告发布资料", "查验"],
        ),
        row(
            publish("bid_opening"),
            "4.7.2",
            TAB,
            &[
                NAME,
                "开标结果公告已发布",
                "https://ggzy.linhai.gov.cn/bid_opening",
                "已完成开标结果公告阶段",
            ],
        ),
        row(
            stage("materials.submitted", "evaluation_result"),
            "4.8.1",
            CS,
            &[NAME, "评标结果（中标候选人）公示发布资料", "查验"],
        ),
        row(
            publish("evaluation_result"),
            "4.8.2",
            TAB,
            &[
                NAME,
                "评标结果（中标候选人）公示已发布",
                "https://ggzy.linhai.gov.cn/evaluation_result",
                "已完成评标结果（中标候选人）公示阶段",
            ],
        ),
        row(
            ev(
                "filing.submitted",
                json!({"stage": "award", "winner": "B2"}),
            ),
            "4.9.1",
            SS,
            &[NAME, "中标（成交）结果文件资料", "备案"],
        ),
        row(
            review("award", "rejected"),
            "4.9.2-reject",
            TA,
            &[
                NAME,
                "中标（成交）结果文件资料备案未通过审核",
                "资格条件表述不清",
                "按照驳回意见修改后重新提交",
            ],
        ),
        row(
            ev(
                "filing.submitted",
                json!({"stage": "award", "winner": "B2"}),
            ),
            "4.9.1",
            SS,
            &[NAME],
        ),
        row(
            review("award", "passed"),
            "4.9.2-pass",
            TA,
            &[NAME, "中标（成交）结果文件资料备案已通过审核"],
        ),
        row(
            stage("materials.submitted", "award"),
            "4.9.3",
            CS,
            &[NAME, "中标（成交）结果公告发布资料", "查验"],
        ),
        Row {
            event: publish("award"),
            rule: Some("4.9.4"),
            to: TAB,
            says: &[
                NAME,
                "中标（成交）结果公告已发布",
                "https://ggzy.linhai.gov.cn/award",
            ],
            // The standard tells the tenderer and agency the stage is done; bidders get the notice.
            only: &[(
                &["tenderer:T1", "agency:A1"],
                "已完成中标（成交）结果公告阶段",
            )],
        },
        row(
            ev("deposit.refunded", json!({"bidders": ["B1", "B2"]})),
            "4.11",
            &["losing_bidder:B1", "winning_bidder:B2"],
            &[NAME, "投标保证金已退回"],
        ),
        row(
            ev("deposit.refunded", json!({})),
            "4.11",
            &["losing_bidder:B3"],
            &[NAME, "投标保证金已退回"],
        ),
        row(
            stage("filing.submitted", "contract"),
            "4.10.1",
            SS,
            &[NAME, "合同资料", "备案"],
        ),
        row(
            review("contract", "rejected"),
            "4.10.2-reject",
            TA,
            &[NAME, "合同资料备案未通过审核", "资格条件表述不清"],
        ),
        row(stage("filing.submitted", "contract"), "4.10.1", SS, &[NAME]),
        row(
            review("contract", "passed"),
            "4.10.2-pass",
            TA,
            &[NAME, "合同资料备案已通过审核"],
        ),
        row(
            stage("materials.submitted", "contract"),
            "4.10.3",
            CS,
            &[NAME, "合同公告发布资料", "查验"],
        ),
        row(
            publish("contract"),
            "4.10.4",
            &["tenderer:T1", "agency:A1", "winning_bidder:B2"],
            &[
                NAME,
                "合同公告已发布",
                "https://ggzy.linhai.gov.cn/contract",
                "已完成合同公告阶段",
            ],
        ),
        row(
            stage("materials.submitted", "performance"),
            "4.12.1",
            CS,
            &[NAME, "履约公告发布资料", "查验"],
        ),
        row(
            publish("performance"),
            "4.12.2",
            &["winning_bidder:B2", "tenderer:T1"],
            &[
                NAME,
                "履约公告已发布",
                "https://ggzy.linhai.gov.cn/performance",
                "已完成履约公告阶段",
            ],
        ),
        row(
            ev(
                "complaint.lodged",
                json!({"complaint": {"id": "TS-1", "channel": "online", "complainant": {"id": "C1", "name": "林先生", "phone": "13957681234"}, "subject": "开标结果公告未收到短信"}}),
            ),
            "lodged",
            &["supervisor:jd1", "supervisor:jd2"],
            &["网上投诉", "TS-1", "开标结果公告未收到短信", "决定是否受理"],
        ),
        row(
            json!({"type": "complaint.accepted", "complaint_id": "TS-1", "assignee": "jd1"}),
            "assigned",
            &["supervisor:jd1"],
            &["开标结果公告未收到短信", "TS-1", "交由您调查处理"],
        ),
        Row {
            event: json!({"type": "complaint.noted", "complaint_id": "TS-1", "note": "已调取短信网关回执", "files": [{"name": "回执.pdf", "size": 3, "sm3": "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"}]}),
            rule: None,
            to: &[],
            says: &[],
            only: &[],
        },
        row(
            json!({"type": "complaint.assigned", "complaint_id": "TS-1", "assignee": "jd2"}),
            "assigned",
            &["supervisor:jd2"],
            &["交由您调查处理"],
        ),
        row(
            json!({"type": "complaint.resolved", "complaint_id": "TS-1", "result": "已核实并补发通知"}),
            "5.1.2",
            &["complainant:C1"],
            &["开标结果公告未收到短信", "已核实并补发通知"],
        ),
        row(
            ev(
                "complaint.lodged",
                json!({"complaint": {"id": "TS-2", "channel": "suggestion_box", "complainant": {"id": "C2", "name": "周女士", "phone": "13957681235"}, "subject": "大厅空调太冷"}}),
            ),
            "lodged",
            &["supervisor:jd1", "supervisor:jd2"],
            &["意见箱投诉", "大厅空调太冷"],
        ),
        row(
            json!({"type": "complaint.refused", "complaint_id": "TS-2", "reason": "不属于信息推送服务的监督范围，已转交后勤部门"}),
            "refused",
            &["complainant:C2"],
            &["大厅空调太冷", "不予受理", "已转交后勤部门"],
        ),
    ]
}

#[test]
fn every_step_pushes_to_exactly_its_recipients_with_every_item() {
    let mut world = World::new();
    for (i, row) in lifecycle().into_iter().enumerate() {
        let pushes = world
            .feed(row.event.clone())
            .unwrap_or_else(|e| panic!("step {i} ({:?}) refused: {e}", row.rule));
        let Some(rule) = row.rule else {
            assert!(pushes.is_empty(), "step {i} should push nothing");
            continue;
        };
        let got: BTreeSet<String> = pushes
            .iter()
            .map(|p| format!("{}:{}", p.recipient.role, p.recipient.id))
            .collect();
        let want: BTreeSet<String> = row.to.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want, "step {i}: recipients of {rule}");
        assert_eq!(
            pushes.len(),
            want.len(),
            "step {i}: one message per recipient of {rule}"
        );
        for p in &pushes {
            assert_eq!(p.rule, rule, "step {i}");
            assert_eq!(p.clause, rule_by_id(rule).unwrap().clause);
            assert!(
                p.text().starts_with("【临海市公共资源交易中心】"),
                "{}",
                p.text()
            );
            assert!(
                p.text().contains(&format!("{}，您好！", p.recipient.name)),
                "{}",
                p.text()
            );
            assert!(p.text().contains("0576-85110086"), "{}", p.text());
            for item in row.says {
                assert!(
                    p.text().contains(item),
                    "step {i} {rule} to {}: missing `{item}` in {}",
                    p.recipient.id,
                    p.text()
                );
            }
            let who = format!("{}:{}", p.recipient.role, p.recipient.id);
            for (for_whom, item) in row.only {
                assert_eq!(
                    p.text().contains(item),
                    for_whom.contains(&who.as_str()),
                    "step {i} {rule} to {who}: `{item}` in {}",
                    p.text()
                );
            }
            // Staff are told on the desktop; parties by SMS when they have a phone.
            if p.recipient.role.staff().is_some() {
                assert_eq!(p.channel, Channel::Desktop);
            }
        }
    }
}

#[test]
fn passwords_are_never_in_a_stored_message() {
    let mut world = World::new();
    let pushes = world
        .feed(json!({"type": "member.registration_submitted", "member": {"id": "M1", "name": "某公司", "username": "abc", "email": "x@y.cn"}}))
        .unwrap();
    assert_eq!(pushes[0].secret, Some(Secret::OneTimePassword));
    assert_eq!(pushes[0].channel, Channel::Email);
    assert!(pushes[0].text().contains(MASK));
}

/// 3.4 through the engine: the center's rule for a party with both contacts,
/// a party's own preference, a declined party still told a mandatory clause,
/// and a work group copied on what center staff are told.
#[test]
fn pushes_follow_preferences_mandatory_clauses_and_work_groups() {
    let mut world = World::new();
    world.rules = ContactRules {
        both: Reach::Both,
        mandatory: vec!["5.1.2".into()],
        groups: vec![WorkGroup {
            channel: Channel::Dingtalk,
            roles: vec![Role::CenterStaff],
        }],
    };
    let both = json!({"phone": "0576-85000001", "email": "t1@lh.gov.cn"});
    let mut tenderer = json!({"id": "T1", "name": "临海市交通运输局"});
    tenderer
        .as_object_mut()
        .unwrap()
        .extend(both.as_object().unwrap().clone());
    let mut agency = tenderer.clone();
    agency["id"] = "A1".into();
    agency["prefer"] = "email".into();
    let pushes = world
        .feed(ev(
            "project.registered",
            json!({"name": NAME, "tenderer": tenderer, "agency": agency}),
        ))
        .unwrap();
    let got: Vec<(String, Channel)> = pushes
        .iter()
        .map(|p| (p.recipient.id.clone(), p.channel))
        .collect();
    assert_eq!(
        got,
        [
            ("T1".into(), Channel::Sms),
            ("T1".into(), Channel::Email),
            ("A1".into(), Channel::Email)
        ],
        "the center's rule (both) for T1, the agency's own preference (email)"
    );
    assert_ne!(
        pushes[0].key("e1", &at()),
        pushes[1].key("e1", &at()),
        "one key per channel"
    );

    let staff = world
        .feed(ev("materials.submitted", json!({"stage": "consultation"})))
        .unwrap();
    let group: Vec<&PushDraft> = staff
        .iter()
        .filter(|p| p.channel == Channel::Dingtalk)
        .collect();
    assert_eq!(
        group.len(),
        1,
        "one copy for the group, beside each staff member's"
    );
    assert_eq!(staff.len(), 3);
    assert!(
        group[0].text().contains("】各位同事，您好！"),
        "{}",
        group[0].text()
    );

    let declined =
        |id: &str| json!({"id": id, "name": "某专家", "phone": "13900000009", "prefer": "none"});
    let mut other = ev(
        "project.registered",
        json!({"name": NAME, "tenderer": declined("T9")}),
    );
    other["project"] = "LH-2026-0009".into();
    let silent = world.feed(other).unwrap();
    assert!(
        silent.is_empty(),
        "declined, and 4.2 is not mandatory: {silent:?}"
    );
    let trace: Vec<(&str, &str, &str)> = world
        .silenced
        .iter()
        .map(|s| (s.clause, s.recipient.id.as_str(), s.reason))
        .collect();
    assert_eq!(
        trace,
        [("4.2", "T9", ggzy_core::engine::DECLINED)],
        "the silence is on the record, with its reason"
    );
    world
        .feed(ev(
            "complaint.lodged",
            json!({"complaint": {"id": "C1", "channel": "phone", "complainant": declined("X1"), "subject": "开标时间"}}),
        ))
        .unwrap();
    let told = world
        .feed(ev(
            "complaint.resolved",
            json!({"complaint_id": "C1", "result": "已答复"}),
        ))
        .unwrap();
    assert_eq!(
        told.len(),
        1,
        "5.1.2 is mandatory here: a preference cannot silence it"
    );
    assert!(world.silenced.is_empty(), "{:?}", world.silenced);
    assert_eq!(told[0].channel, Channel::Sms);
}

fn at() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2026-11-27T09:30:00+08:00").unwrap()
}

/// Register a project and submit consultation materials (4.3.1, to center
/// staff), which must be refused: the refusal.
fn materials_refused(world: &mut World) -> ggzy_core::Refusal {
    world
        .feed(ev(
            "project.registered",
            json!({"name": NAME, "tenderer": {"id": "T1", "name": "T", "phone": "0576-85000001"}}),
        ))
        .unwrap();
    world
        .feed(ev("materials.submitted", json!({"stage": "consultation"})))
        .unwrap_err()
}

#[test]
fn a_staff_clause_with_nobody_to_tell_is_refused() {
    let mut world = World::new();
    world.staff.center_staff.clear();
    let err = materials_refused(&mut world);
    assert_eq!(err.code(), "no_recipient");
    assert_eq!(err.locus().as_deref(), Some("4.3.1"));
}

/// A message is rendered once per role and shared, but every recipient is
/// still greeted by name: one without a name refuses the event, wherever it
/// comes in the list.
#[test]
fn a_recipient_without_a_name_is_refused_even_after_others() {
    let mut world = World::new();
    world.staff.center_staff.push(StaffMember {
        username: "cs3".into(),
        name: "  ".into(),
    });
    let err = materials_refused(&mut world);
    assert_eq!(err.code(), "missing_item", "{err}");
    assert!(err.to_string().contains("recipient_name"), "{err}");
}

#[test]
fn out_of_order_steps_name_the_clause() {
    let mut world = World::new();
    world
        .feed(ev(
            "project.registered",
            json!({"name": NAME, "tenderer": {"id": "T1", "name": "T", "phone": "0576-85000001"}}),
        ))
        .unwrap();
    let cases = [
        (
            json!({"stage": "tender_notice"}),
            "materials.submitted",
            "4.4.3",
        ),
        (
            json!({"stage": "tender_notice", "outcome": "passed"}),
            "filing.reviewed",
            "4.4.2",
        ),
        (
            json!({"stage": "bid_opening"}),
            "materials.submitted",
            "4.7.1",
        ),
        (
            json!({"stage": "award", "url": "https://x.cn/a"}),
            "notice.published",
            "4.9.4",
        ),
        (json!({"stage": "correction"}), "filing.submitted", "4.5.1"),
        (json!({}), "deposit.refunded", "4.11"),
    ];
    for (fields, kind, clause) in cases {
        let err = world.feed(ev(kind, fields)).unwrap_err();
        assert_eq!(err.code(), "out_of_order", "{kind}: {err}");
        assert_eq!(err.locus().as_deref(), Some(clause), "{kind}: {err}");
    }
    let err = world
        .feed(json!({"type": "materials.submitted", "project": "NOPE", "stage": "consultation"}))
        .unwrap_err();
    assert_eq!(err.code(), "unknown_project");
}

/// Publication waits for a passed verification of the materials submitted
/// last: before it, while it is pending, after a return; a verdict needs
/// materials waiting for one; a pass over a failed item, or a return without
/// its reason, is refused by field.
#[test]
fn publication_waits_for_a_passed_verification() {
    let mut world = World::new();
    world
        .feed(ev(
            "project.registered",
            json!({"name": NAME, "tenderer": {"id": "T1", "name": "T", "phone": "0576-85000001"}}),
        ))
        .unwrap();
    let stage = json!({"stage": "consultation"});
    let publish = || {
        ev(
            "notice.published",
            json!({"stage": "consultation", "url": "https://x.cn/c"}),
        )
    };
    let verdict = |outcome: &str| {
        let mut f = json!({"stage": "consultation", "outcome": outcome});
        if outcome == "returned" {
            f["reason"] = "征询期限未写明".into();
        }
        ev("materials.verified", f)
    };
    let refused = |world: &mut World, event: Value, clause: &str, says: &str| {
        let err = world.feed(event).unwrap_err();
        assert_eq!(err.code(), "out_of_order", "{err}");
        assert_eq!(err.locus().as_deref(), Some(clause), "{err}");
        assert!(err.to_string().contains(says), "{err}");
    };
    refused(
        &mut world,
        verdict("passed"),
        "4.3.1",
        "没有待查验的发布资料",
    );
    refused(&mut world, publish(), "4.3.2", "尚未提交发布资料");
    world
        .feed(ev("materials.submitted", stage.clone()))
        .unwrap();
    refused(&mut world, publish(), "4.3.2", "发布资料待查验");

    let bad = [
        (json!({"outcome": "returned"}), "reason"),
        (
            json!({"outcome": "passed", "checklist": [{"item": "附件齐全", "ok": false, "remark": "缺附件"}]}),
            "checklist[0].ok",
        ),
        (
            json!({"outcome": "returned", "reason": "r", "checklist": [{"item": "附件齐全", "ok": false}]}),
            "checklist[0].remark",
        ),
        (json!({"outcome": "approved"}), "outcome"),
    ];
    for (fields, field) in bad {
        let mut f = fields.clone();
        f["stage"] = "consultation".into();
        let err = world.feed(ev("materials.verified", f)).unwrap_err();
        assert_eq!(err.locus().as_deref(), Some(field), "{fields}: {err}");
    }

    let told = world.feed(verdict("returned")).unwrap();
    assert_eq!(told.len(), 1, "the tenderer is told why: {told:?}");
    assert!(
        told[0].text().contains("征询期限未写明"),
        "{}",
        told[0].text()
    );
    refused(&mut world, publish(), "4.3.2", "已退回");
    refused(&mut world, verdict("passed"), "4.3.1", "已退回");
    world.feed(ev("materials.submitted", stage)).unwrap();
    assert!(world.feed(verdict("passed")).unwrap().is_empty());
    assert_eq!(world.feed(publish()).unwrap().len(), 1);
}

/// The clause ids of clauses.md: section 4's table, plus 5.1.2.
fn clause_ids(text: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for line in text.lines() {
        let Some(cell) = line.strip_prefix("| ").and_then(|l| l.split(" |").next()) else {
            continue;
        };
        if !(cell.starts_with("4.") || cell == "5.1.2") {
            continue;
        }
        // "4.5.2-pass / -reject" is two ids.
        let mut parts = cell.split(" / ");
        let first = parts.next().unwrap().trim();
        ids.insert(first.to_owned());
        let base = first.split('-').next().unwrap();
        for alt in parts {
            ids.insert(format!("{base}{}", alt.trim()));
        }
    }
    ids
}

#[test]
fn every_clause_of_the_standard_has_a_rule_and_a_test_row() {
    let ours = include_str!("../../../docs/spec/clauses.md");
    // The team's copy of the spec must not drift from the shared one.
    let shared =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/clauses.md");
    if let Ok(text) = std::fs::read_to_string(&shared) {
        assert_eq!(
            clause_ids(&text),
            clause_ids(ours),
            "docs/spec/clauses.md is stale: copy ../shared/spec/clauses.md"
        );
    }
    let ids = clause_ids(ours);
    assert!(ids.len() >= 35, "parsed only {ids:?}");
    let rules: BTreeSet<String> = CATALOG.iter().map(|r| r.id.to_owned()).collect();
    assert_eq!(rules, ids, "the catalog and clauses.md disagree");
    let mut tested: BTreeSet<String> = lifecycle()
        .iter()
        .filter_map(|r| r.rule.map(str::to_owned))
        .collect();
    // The product's own pushes of a returned verification and of a
    // complaint's steps have their rows too.
    for own in ["returned", "lodged", "assigned", "refused"] {
        assert!(tested.remove(own), "no row for the own rule `{own}`");
    }
    assert_eq!(tested, ids, "a clause has no row in the lifecycle table");
}

#[test]
fn complaint_steps_keep_their_order() {
    let mut world = World::new();
    let lodge = |id: &str| json!({"type": "complaint.lodged", "complaint": {"id": id, "channel": "phone", "complainant": {"id": "C1", "name": "林先生", "phone": "13957681234"}, "subject": "未收到开标短信"}});
    let refused = |world: &mut World, e: Value, says: &str| {
        let r = world
            .feed(e.clone())
            .expect_err(&format!("{e} should be refused"));
        assert!(r.to_string().contains(says), "{e}: {r}");
    };
    world.feed(lodge("A")).unwrap();
    refused(
        &mut world,
        json!({"type": "complaint.assigned", "complaint_id": "A", "assignee": "jd1"}),
        "尚未受理",
    );
    refused(
        &mut world,
        json!({"type": "complaint.refused", "complaint_id": "A", "reason": " "}),
        "必须写明理由",
    );
    refused(
        &mut world,
        json!({"type": "complaint.noted", "complaint_id": "A", "note": ""}),
        "须有文字或附件",
    );
    refused(
        &mut world,
        json!({"type": "complaint.noted", "complaint_id": "A", "note": "x", "files": [{"name": "a", "size": 1, "sm3": "ABC"}]}),
        "SM3",
    );
    refused(
        &mut world,
        json!({"type": "complaint.accepted", "complaint_id": "nope"}),
        "未登记",
    );
    world
        .feed(json!({"type": "complaint.accepted", "complaint_id": "A"}))
        .unwrap();
    refused(
        &mut world,
        json!({"type": "complaint.accepted", "complaint_id": "A"}),
        "已受理，不能再决定是否受理",
    );
    // A reminder before the last day goes to the assignee alone; once the
    // day passed, to every supervisor.
    let soon = json!({"type": "complaint.reminded", "complaint_id": "A", "limit": "decide", "due": "2026-12-31", "overdue": false});
    let to = |pushes: Vec<PushDraft>| -> Vec<String> {
        pushes.iter().map(|p| p.recipient.id.clone()).collect()
    };
    assert_eq!(
        to(world.feed(soon.clone()).unwrap()),
        ["jd1", "jd2"],
        "no assignee yet: all"
    );
    world
        .feed(json!({"type": "complaint.assigned", "complaint_id": "A", "assignee": "jd2"}))
        .unwrap();
    let pushes = world.feed(soon).unwrap();
    assert_eq!(to(pushes.clone()), ["jd2"]);
    assert!(
        pushes[0]
            .text()
            .contains("处理决定期限将于 2026-12-31 届满"),
        "{}",
        pushes[0].text()
    );
    let late = json!({"type": "complaint.reminded", "complaint_id": "A", "limit": "decide", "due": "2026-12-31", "overdue": true});
    let pushes = world.feed(late).unwrap();
    assert_eq!(to(pushes.clone()), ["jd1", "jd2"]);
    assert!(
        pushes[0].text().contains("现已逾期"),
        "{}",
        pushes[0].text()
    );
    // An assignee no longer on duty: every supervisor hears of it.
    let pushes = world
        .feed(json!({"type": "complaint.assigned", "complaint_id": "A", "assignee": "gone"}))
        .unwrap();
    assert_eq!(to(pushes), ["jd1", "jd2"]);
    world
        .feed(json!({"type": "complaint.resolved", "complaint_id": "A", "result": "已补发"}))
        .unwrap();
    refused(
        &mut world,
        json!({"type": "complaint.noted", "complaint_id": "A", "note": "补记"}),
        "已处理，已办结",
    );
    world.feed(lodge("B")).unwrap();
    world
        .feed(json!({"type": "complaint.refused", "complaint_id": "B", "reason": "重复投诉"}))
        .unwrap();
    refused(
        &mut world,
        json!({"type": "complaint.resolved", "complaint_id": "B", "result": "x"}),
        "已决定不予受理",
    );
    // Neither the reminder nor a state can be imported from outside.
    assert!(ggzy_core::event::may_import("complaint.reminded").is_err());
}
