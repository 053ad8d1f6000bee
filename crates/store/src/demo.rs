//! The demo center that `make run` and the desktop app open on: staff of
//! every role, a dozen projects at different stages with rejections, two
//! correction rounds, an expert draw, deposit refunds and complaints. The
//! events go through the same intake as any other.

use crate::intake::Summary;
use crate::users::NewUser;
use crate::{Result, Store, StoreError};
use ggzy_core::error::ErrorCode;
use ggzy_core::event::Stage;
use ggzy_core::materials::Checklists;
use ggzy_core::role::StaffRole;
use serde_json::{json, Value};

/// Every demo account logs in with this password (demo databases only).
pub const DEMO_PASSWORD: &str = "Demo@2026";

/// (username, name, role, phone)
pub const DEMO_USERS: [(&str, &str, StaffRole, &str); 6] = [
    ("admin", "系统管理员", StaffRole::Admin, "0576-85110000"),
    ("zhangwei", "张伟", StaffRole::CenterStaff, "13857610001"),
    ("lina", "李娜", StaffRole::CenterStaff, "13857610002"),
    (
        "wangfang",
        "王芳",
        StaffRole::SupervisorStaff,
        "13857610003",
    ),
    ("liuyang", "刘洋", StaffRole::SupervisorStaff, "13857610004"),
    ("chenjing", "陈静", StaffRole::Supervisor, "13857610005"),
];

const PROJECTS: [(&str, &str); 12] = [
    ("LH-2026-0101", "临海市古城街道老旧小区改造工程"),
    ("LH-2026-0102", "临海市东部新区污水管网提升工程"),
    ("LH-2026-0103", "临海市第二人民医院医疗设备采购项目"),
    ("LH-2026-0104", "临海市中小学智慧教室建设项目"),
    ("LH-2026-0105", "临海市灵江大桥维修加固工程"),
    ("LH-2026-0106", "临海市城区道路照明节能改造工程"),
    ("LH-2026-0107", "临海市政务服务中心物业管理服务项目"),
    ("LH-2026-0108", "临海市农村饮用水达标提标工程"),
    ("LH-2026-0109", "临海市括苍山森林防火通道工程"),
    ("LH-2026-0110", "临海市图书馆数字化改造项目"),
    ("LH-2026-0111", "临海市垃圾分类收运车辆采购项目"),
    ("LH-2026-0112", "临海市杜桥镇农贸市场改造工程"),
];

const FIRMS: [&str; 8] = [
    "浙江宏远建设有限公司",
    "台州市华通市政工程有限公司",
    "浙江正大建工集团有限公司",
    "杭州中科信息技术有限公司",
    "宁波甬安建设工程有限公司",
    "台州恒信工程管理咨询有限公司",
    "浙江天成机电设备有限公司",
    "温州瓯江环境科技有限公司",
];

/// How far each demo project has come.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Reach {
    Registered,
    FilingPending,
    FilingRejected,
    MaterialsChecking,
    TenderPublished,
    CorrectionsTwice,
    ExpertsDrawn,
    Evaluated,
    AwardPublished,
    Refunded,
    Performance,
}

struct Script {
    events: Vec<Value>,
    minute: i64,
}

impl Script {
    /// An event; a notice is published after its materials passed their
    /// verification, every item of the stage's default checklist checked.
    fn push(&mut self, project: &str, kind: &str, fields: Value) {
        if kind == "notice.published" {
            let mut verdict = fields.clone();
            let map = verdict.as_object_mut().expect("object");
            map.remove("url");
            let stage: Stage = serde_json::from_value(map["stage"].clone()).expect("a stage");
            let checked: Vec<Value> = Checklists::default()
                .of(stage)
                .iter()
                .map(|item| json!({"item": item, "ok": true}))
                .collect();
            map.insert("outcome".into(), "passed".into());
            map.insert("checklist".into(), checked.into());
            self.record(project, "materials.verified", verdict);
        }
        self.record(project, kind, fields);
    }

    fn record(&mut self, project: &str, kind: &str, fields: Value) {
        self.minute += 97;
        let at = chrono::DateTime::parse_from_rfc3339("2026-10-08T08:30:00+08:00").expect("valid")
            + chrono::Duration::minutes(self.minute);
        let mut e = json!({
            "id": format!("demo-{:04}", self.events.len() + 1),
            "type": kind,
            "at": at.to_rfc3339(),
            "project": project,
        });
        let map = e.as_object_mut().expect("object");
        for (k, v) in fields.as_object().expect("object") {
            map.insert(k.clone(), v.clone());
        }
        self.events.push(e);
    }
}

fn phone(n: usize) -> String {
    format!("1395861{:04}", 1000 + n)
}

fn lifecycle(s: &mut Script, i: usize, code: &str, name: &str, reach: Reach) {
    let firm = |k: usize| FIRMS[(i + k) % FIRMS.len()];
    s.push(
        code,
        "project.registered",
        json!({
            "name": name,
            "tenderer": {"id": format!("T-{i:02}"), "name": format!("临海市{}", ["住房和城乡建设局", "水务集团有限公司", "卫生健康局", "教育局", "交通运输局", "综合行政执法局"][i % 6]), "phone": phone(i * 10)},
            "agency": {"id": format!("A-{i:02}"), "name": "浙江求是工程咨询监理有限公司", "phone": phone(i * 10 + 1), "email": format!("agency{i}@qiushi-zixun.cn")},
        }),
    );
    if i == 10 {
        s.push(
            code,
            "materials.submitted",
            json!({"stage": "consultation"}),
        );
        s.push(code, "notice.published", json!({"stage": "consultation", "url": format!("https://ggzy.linhai.gov.cn/yjzx/{code}")}));
    }
    if reach == Reach::Registered {
        return;
    }
    let bidders = 3 + i % 3;
    for b in 0..bidders {
        s.push(code, "project.bidder_added", json!({"bidder": {"id": format!("B-{i:02}-{b}"), "name": firm(b), "phone": phone(i * 10 + 2 + b)}}));
    }
    s.push(code, "filing.submitted", json!({"stage": "tender_notice"}));
    if reach == Reach::FilingPending {
        return;
    }
    if matches!(
        reach,
        Reach::FilingRejected | Reach::MaterialsChecking | Reach::AwardPublished
    ) {
        s.push(code, "filing.reviewed", json!({"stage": "tender_notice", "outcome": "rejected", "opinion": "投标人资格条件中“近三年类似业绩”表述不清，请明确业绩金额和认定标准"}));
        if reach == Reach::FilingRejected {
            return;
        }
        s.push(code, "filing.submitted", json!({"stage": "tender_notice"}));
    }
    s.push(
        code,
        "filing.reviewed",
        json!({"stage": "tender_notice", "outcome": "passed"}),
    );
    s.push(
        code,
        "materials.submitted",
        json!({"stage": "tender_notice"}),
    );
    if reach == Reach::MaterialsChecking {
        return;
    }
    if reach == Reach::TenderPublished {
        s.push(code, "materials.verified", json!({"stage": "tender_notice", "outcome": "returned",
            "reason": "公告中投标文件递交截止时间与招标文件不一致，请核对后重新提交",
            "checklist": [{"item": "公告内容与已备案的招标文件一致", "ok": false, "remark": "截止时间不一致"}]}));
        s.push(
            code,
            "materials.submitted",
            json!({"stage": "tender_notice"}),
        );
    }
    s.push(
        code,
        "notice.published",
        json!({"stage": "tender_notice", "url": format!("https://ggzy.linhai.gov.cn/zbgg/{code}")}),
    );
    if reach == Reach::TenderPublished {
        return;
    }
    if reach == Reach::CorrectionsTwice {
        for round in 1..=2 {
            s.push(
                code,
                "filing.submitted",
                json!({"stage": "correction", "round": round}),
            );
            s.push(
                code,
                "filing.reviewed",
                json!({"stage": "correction", "round": round, "outcome": "passed"}),
            );
            s.push(
                code,
                "materials.submitted",
                json!({"stage": "correction", "round": round}),
            );
            s.push(code, "notice.published", json!({"stage": "correction", "round": round, "url": format!("https://ggzy.linhai.gov.cn/gzgg/{code}-{round}")}));
        }
        return;
    }
    s.push(code, "experts.drawn", json!({
        "sender": "临海市公共资源交易中心",
        "evaluation": {"start": "2026-11-30T09:00:00+08:00", "duration_hours": 4, "place": "临海市公共资源交易中心三楼第二评标室", "contact_phone": "0576-85110086"},
        "experts": [
            {"id": format!("E-{i:02}-1"), "name": "周建国", "phone": phone(900 + i * 3)},
            {"id": format!("E-{i:02}-2"), "name": "吴晓梅", "phone": phone(901 + i * 3)},
            {"id": format!("E-{i:02}-3"), "name": "郑立新", "phone": phone(902 + i * 3)},
        ],
    }));
    if reach == Reach::ExpertsDrawn {
        return;
    }
    for stage in ["bid_opening", "evaluation_result"] {
        s.push(code, "materials.submitted", json!({"stage": stage}));
        s.push(
            code,
            "notice.published",
            json!({"stage": stage, "url": format!("https://ggzy.linhai.gov.cn/{stage}/{code}")}),
        );
    }
    if reach == Reach::Evaluated {
        return;
    }
    let winner = format!("B-{i:02}-0");
    s.push(
        code,
        "filing.submitted",
        json!({"stage": "award", "winner": winner}),
    );
    if reach == Reach::AwardPublished {
        s.push(code, "filing.reviewed", json!({"stage": "award", "outcome": "rejected", "opinion": "中标候选人公示期内收到异议尚未答复完毕，请答复后重新提交"}));
        s.push(
            code,
            "filing.submitted",
            json!({"stage": "award", "winner": winner}),
        );
    }
    s.push(
        code,
        "filing.reviewed",
        json!({"stage": "award", "outcome": "passed"}),
    );
    s.push(code, "materials.submitted", json!({"stage": "award"}));
    s.push(
        code,
        "notice.published",
        json!({"stage": "award", "url": format!("https://ggzy.linhai.gov.cn/zbjg/{code}")}),
    );
    if reach == Reach::AwardPublished {
        return;
    }
    s.push(code, "deposit.refunded", json!({}));
    if reach == Reach::Refunded {
        return;
    }
    let stage = "contract";
    {
        s.push(code, "filing.submitted", json!({"stage": stage}));
        s.push(
            code,
            "filing.reviewed",
            json!({"stage": stage, "outcome": "passed"}),
        );
        s.push(code, "materials.submitted", json!({"stage": stage}));
        s.push(
            code,
            "notice.published",
            json!({"stage": stage, "url": format!("https://ggzy.linhai.gov.cn/htgg/{code}")}),
        );
    }
    s.push(code, "materials.submitted", json!({"stage": "performance"}));
    s.push(
        code,
        "notice.published",
        json!({"stage": "performance", "url": format!("https://ggzy.linhai.gov.cn/lygg/{code}")}),
    );
}

/// The demo's intake lines.
pub fn events() -> Vec<String> {
    use Reach::*;
    let reach = [
        Registered,
        FilingPending,
        FilingRejected,
        MaterialsChecking,
        TenderPublished,
        CorrectionsTwice,
        ExpertsDrawn,
        Evaluated,
        AwardPublished,
        Refunded,
        Performance,
        Performance,
    ];
    let mut s = Script {
        events: Vec::new(),
        minute: 0,
    };
    for (i, ((code, name), reach)) in PROJECTS.iter().zip(reach).enumerate() {
        lifecycle(&mut s, i, code, name, reach);
    }
    let complaint = |id: &str, channel: &str, who: &str, subject: &str| json!({"complaint": {"id": id, "channel": channel, "complainant": {"id": format!("C-{id}"), "name": who, "phone": "13957681234"}, "subject": subject}});
    s.push(
        "LH-2026-0108",
        "complaint.lodged",
        complaint(
            "TS-2026-031",
            "online",
            "台州市华通市政工程有限公司",
            "评标结果公示中对我司业绩认定有误",
        ),
    );
    s.push(
        "LH-2026-0107",
        "complaint.lodged",
        complaint(
            "TS-2026-032",
            "phone",
            "林先生",
            "开标结果公告发布后未收到短信通知",
        ),
    );
    let mut resolved = json!({"complaint_id": "TS-2026-031", "result": "经调查核实，评标委员会对贵司业绩认定符合招标文件要求，维持原评标结果。"});
    resolved.as_object_mut().expect("object").remove("project");
    s.push("LH-2026-0108", "complaint.resolved", resolved);
    s.push("LH-2026-0112", "survey.answered", json!({
        "respondent": {"id": "R-001", "name": "浙江宏远建设有限公司", "phone": "0576-85123456"},
        "scores": {"timeliness": 5, "completeness": 4, "accuracy": 5, "access": 4, "courtesy": 5, "complaint_handling": 4},
        "remarks": "短信通知及时，建议增加微信渠道。",
    }));
    s.push("", "member.registration_submitted", json!({"member": {"id": "M-0001", "name": "台州新材料科技有限公司", "username": "tzxcl", "phone": "13857699001"}}));
    s.push(
        "",
        "member.registration_reviewed",
        json!({"username": "tzxcl", "outcome": "passed"}),
    );
    s.push("", "member.registration_submitted", json!({"member": {"id": "M-0002", "name": "临海市明远贸易有限公司", "username": "lhmy", "email": "service@mingyuan-trade.cn"}}));
    s.events
        .into_iter()
        .map(|mut e| {
            let map = e.as_object_mut().expect("object");
            if map.get("project").and_then(Value::as_str) == Some("") {
                map.remove("project");
            }
            if map.get("type").and_then(Value::as_str) == Some("complaint.resolved") {
                map.remove("project");
            }
            e.to_string()
        })
        .collect()
}

impl Store {
    /// Seed the demo center into this database and mark it as the demo (in
    /// the database itself, audited): its pushes then go only through the
    /// simulated channel. Safe to run again. A database that is a center's
    /// own (staff, settings or events of its own) is refused: the demo lives
    /// in a file of its own.
    pub async fn seed_demo(&self) -> Result<Summary> {
        if !self.is_demo().await? {
            let own: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM settings) \
                 OR EXISTS (SELECT 1 FROM events)",
            )
            .fetch_one(self.pool())
            .await?;
            if own {
                return Err(StoreError::invalid(
                    ErrorCode::NotDemo,
                    "这个数据库已是本中心的数据，不能放入演示数据：演示中心使用单独的数据库文件（ggzy --db demo.db demo，或 make run）",
                ));
            }
            self.mark_demo().await?;
        }
        self.seed_sample().await
    }

    /// Whether this database is the demo center (see [`Store::seed_demo`]).
    pub async fn is_demo(&self) -> Result<bool> {
        let mark: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'demo'")
            .fetch_optional(self.pool())
            .await?;
        Ok(mark.as_deref() == Some("1"))
    }

    /// The demo center's staff (any not here yet), with the demo password,
    /// and nothing else: what another desktop of the demo center would have.
    pub async fn seed_staff(&self) -> Result<()> {
        let existing: Vec<String> = self
            .users()
            .await?
            .into_iter()
            .map(|u| u.username)
            .collect();
        for (username, name, role, phone) in DEMO_USERS {
            if existing.iter().any(|u| u == username) {
                continue;
            }
            let user = NewUser {
                username: username.into(),
                name: name.into(),
                role,
                phone: Some(phone.into()),
                email: None,
                password: Some(DEMO_PASSWORD.into()),
            };
            self.add_user(user, "demo").await?;
        }
        Ok(())
    }

    /// The demo center's staff, settings and year of events, unmarked: a
    /// realistic center for tests and benchmarks that send through loopback
    /// providers. Never for a person's use: its 300-odd pushes go to
    /// realistic phone numbers.
    pub async fn seed_sample(&self) -> Result<Summary> {
        self.seed_staff().await?;
        if self.settings().await?.is_empty() {
            self.set_setting("center_name", "临海市公共资源交易中心", "demo")
                .await?;
            self.set_setting("center_phone", "0576-85110086", "demo")
                .await?;
        }
        let lines = events().join("\n");
        self.import(lines.as_bytes(), "demo", |_| {}).await
    }
}
