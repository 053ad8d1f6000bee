//! The expert draw (专家抽取, 4.6) in the app: run, followed call by call,
//! answered, signed in and printed. Who was drawn is secret (4.6): the
//! drawing staff see counts and each call's state, never who; identities
//! show to the staff of that evaluation (who ran the draw or signed someone
//! in) once an expert signs in or the evaluation begins, and to the
//! supervisor at any time. Every look at an identity is audited.

use crate::pdf::Block;
use crate::rights::Right;
use crate::{App, AppError, Result, ANY_ROLE};
pub use ggzy_core::draw::Tally;
use ggzy_core::draw::{Avoidance, Need, Reply, Request};
use ggzy_core::error::ErrorCode;
use ggzy_core::event::Evaluation;
use ggzy_core::experts::mask_id_number;
use ggzy_store::draw_calls::{Advance, CallRow};
use ggzy_store::draws::DrawRecord;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What a draw asks for, as the form sends it (the same fields as the
/// request file of `ggzy draw run`).
#[derive(Debug, Clone, PartialEq, Deserialize, TS)]
#[ts(export)]
pub struct DrawForm {
    pub specialties: Vec<NeedInput>,
    pub backups: u32,
    /// RFC 3339.
    pub evaluation_start: String,
    pub duration_hours: f64,
    pub place: String,
    pub contact_phone: String,
    pub sender: String,
    pub avoid: Vec<String>,
    #[ts(optional)]
    pub recent_days: Option<u32>,
    pub regions: Vec<String>,
    /// Minutes a called expert has to answer (default 60).
    #[ts(optional)]
    pub reply_minutes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct NeedInput {
    pub code: String,
    pub count: u32,
}

/// A draw as its staff see it: how many, never who.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct DrawSummary {
    pub id: String,
    pub created_at: String,
    pub created_by: String,
    pub commitment: String,
    #[ts(optional)]
    pub seed: Option<String>,
    pub picks: Vec<PickCount>,
    /// Candidates each avoidance rule kept out, by the rule's name.
    pub excluded: Vec<ExcludedCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PickCount {
    pub code: String,
    pub drawn: u32,
    pub backups: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ExcludedCount {
    pub rule: String,
    pub count: u32,
}

impl From<DrawRecord> for DrawSummary {
    fn from(d: DrawRecord) -> Self {
        let (picks, excluded) = match d.outcome {
            Some(o) => (
                o.picks
                    .iter()
                    .map(|p| PickCount {
                        code: p.code.clone(),
                        drawn: p.drawn.len() as u32,
                        backups: p.backups.len() as u32,
                    })
                    .collect(),
                Avoidance::ALL
                    .into_iter()
                    .filter_map(|r| {
                        o.excluded.get(&r).map(|n| ExcludedCount {
                            rule: r.zh().to_owned(),
                            count: *n,
                        })
                    })
                    .collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        DrawSummary {
            id: d.id,
            created_at: d.created_at,
            created_by: d.created_by,
            commitment: d.commitment,
            seed: d.seed,
            picks,
            excluded,
        }
    }
}

/// A draw as its page and its printed record show it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct DrawView {
    pub summary: DrawSummary,
    pub project: String,
    pub project_name: String,
    pub sender: String,
    /// RFC 3339.
    pub evaluation_start: String,
    pub duration_hours: f64,
    pub place: String,
    pub contact_phone: String,
    pub backups: u32,
    pub reply_minutes: u32,
    #[ts(optional)]
    pub recent_days: Option<u32>,
    pub regions: Vec<String>,
    /// How many experts the project's own avoidance list named.
    pub avoided: u32,
    /// Whether the evaluation has begun.
    pub started: bool,
    pub tally: Vec<Tally>,
    pub calls: Vec<CallView>,
    /// Whether any identity is shown (the look was audited).
    pub revealed: bool,
}

/// One call of a draw: its state, and who only where they may be seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CallView {
    #[ts(type = "number")]
    pub seq: i64,
    pub specialty: String,
    /// Called as a backup (after someone declined).
    pub backup: bool,
    /// 待答复, 确认参加, 不能参加, 超时未答复 or 已签到.
    pub state: String,
    pub called_at: String,
    #[ts(optional)]
    pub replied_at: Option<String>,
    #[ts(optional)]
    pub signed_in_at: Option<String>,
    #[ts(optional)]
    pub expert: Option<ShownExpert>,
}

/// A drawn expert as the staff of their evaluation see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ShownExpert {
    pub id: String,
    pub name: String,
    /// Masked, as everywhere.
    pub id_number: String,
    #[ts(optional)]
    pub phone: Option<String>,
    pub employer: String,
}

/// What recording an answer came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ReplyResult {
    /// Backups called (each told by 4.6).
    pub called: u32,
    /// Specialties left short and by how many: the drawer was alerted.
    pub short: Vec<ShortCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ShortCount {
    pub code: String,
    pub missing: u32,
}

impl From<Advance> for ReplyResult {
    fn from(a: Advance) -> Self {
        ReplyResult {
            called: a.called,
            short: a
                .short
                .into_iter()
                .map(|(code, missing)| ShortCount { code, missing })
                .collect(),
        }
    }
}

/// A call's state as staff read it.
fn state_zh(c: &CallRow) -> &'static str {
    match (c.signed_in_at.is_some(), c.reply) {
        (true, _) => "已签到",
        (false, None) => "待答复",
        (false, Some(r)) => r.zh(),
    }
}

/// An RFC 3339 time as staff read it (local `YYYY-MM-DD HH:MM:SS`, as the
/// window shows times); other text as it is.
fn shown_time(s: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(s).map_or_else(
        |_| s.to_owned(),
        |t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        },
    )
}

/// The printed record of a draw for the project file: its inputs, the
/// commitment and the reveal, exclusions by rule, each call with its
/// answer and sign-in, a signatures block. Who was called shows as the
/// page shows it to the one printing.
pub fn record(view: &DrawView, printed_at: &str) -> Vec<Block> {
    let t = |s: &str| shown_time(s);
    let s = &view.summary;
    let row = |k: &str, v: String| vec![k.to_owned(), v];
    let mut blocks = vec![
        Block::Title("评标专家抽取记录".into()),
        Block::Text(view.sender.clone()),
        Block::Table {
            widths: vec![1.0, 3.0],
            header: None,
            rows: vec![
                row("项目名称", view.project_name.clone()),
                row("项目编号", view.project.clone()),
                row("抽取编号", s.id.clone()),
                row("抽取人", format!("{}（{}）", s.created_by, t(&s.created_at))),
                row(
                    "评标时间",
                    format!("{}（约 {} 小时）", t(&view.evaluation_start), view.duration_hours),
                ),
                row("评标地点", view.place.clone()),
                row("联系电话", view.contact_phone.clone()),
                row("答复时限", format!("{} 分钟", view.reply_minutes)),
            ],
        },
        Block::Heading("抽取条件".into()),
        Block::Table {
            widths: vec![1.0, 3.0],
            header: None,
            rows: vec![
                row(
                    "专业与人数",
                    s.picks
                        .iter()
                        .map(|p| format!("{} {} 名", p.code, p.drawn))
                        .collect::<Vec<_>>()
                        .join("；"),
                ),
                row("每专业备选", format!("{} 名", view.backups)),
                row(
                    "回避规则",
                    format!(
                        "与招标人、代理机构、投标人同单位回避；本项目回避名单 {} 名；{}评标当日不可用、暂停的不抽取{}",
                        view.avoided,
                        view.recent_days
                            .map(|d| format!("{d} 天内抽中过的回避；"))
                            .unwrap_or_default(),
                        if view.regions.is_empty() {
                            String::new()
                        } else {
                            format!("；限定地区：{}", view.regions.join("、"))
                        }
                    ),
                ),
                row(
                    "回避人数",
                    if s.excluded.is_empty() {
                        "无".into()
                    } else {
                        s.excluded
                            .iter()
                            .map(|x| format!("{} {} 名", x.rule, x.count))
                            .collect::<Vec<_>>()
                            .join("；")
                    },
                ),
            ],
        },
        Block::Heading("随机数承诺与公开".into()),
        Block::Table {
            widths: vec![1.0, 3.0],
            header: None,
            rows: vec![
                row("承诺值（抽取前记录）", s.commitment.clone()),
                row(
                    "公开的种子（抽取后）",
                    s.seed.clone().unwrap_or_else(|| "（尚未公开）".into()),
                ),
                row(
                    "复核方法",
                    format!(
                        "种子的 SM3 应等于承诺值；ggzy draw verify {} 按记录的条件与种子重新抽取，结果应一致",
                        s.id
                    ),
                ),
            ],
        },
        Block::Heading("抽取结果、答复与签到".into()),
    ];
    let or_dash = |v: &Option<String>| v.as_deref().map_or_else(|| "—".to_owned(), t);
    blocks.push(Block::Table {
        widths: vec![0.5, 0.7, 0.6, 2.2, 1.1, 1.5, 1.5, 1.5],
        header: Some(
            [
                "序号",
                "专业",
                "类别",
                "专家",
                "状态",
                "通知时间",
                "答复时间",
                "签到时间",
            ]
            .map(String::from)
            .to_vec(),
        ),
        rows: view
            .calls
            .iter()
            .map(|c| {
                vec![
                    c.seq.to_string(),
                    c.specialty.clone(),
                    if c.backup { "备选" } else { "正选" }.into(),
                    c.expert.as_ref().map_or_else(
                        || "（身份保密）".to_owned(),
                        |e| format!("{}（{}）", e.name, e.id),
                    ),
                    c.state.clone(),
                    t(&c.called_at),
                    or_dash(&c.replied_at),
                    or_dash(&c.signed_in_at),
                ]
            })
            .collect(),
    });
    blocks.push(Block::Text(
        view.tally
            .iter()
            .map(|t| {
                let short = if t.short > 0 {
                    format!("，缺 {}", t.short)
                } else {
                    String::new()
                };
                format!(
                    "专业 {}：应抽 {}，确认 {}，不能参加/超时 {}，待答复 {}{short}",
                    t.code, t.wanted, t.confirmed, t.declined, t.waiting
                )
            })
            .collect::<Vec<_>>()
            .join("；"),
    ));
    blocks.push(Block::Heading("签字".into()));
    blocks.push(Block::Table {
        widths: vec![1.0, 2.0, 0.8, 1.5],
        header: None,
        rows: ["抽取人", "监督人", "评标组织人"]
            .iter()
            .map(|who| {
                vec![
                    format!("{who}\n "),
                    String::new(),
                    "日期".into(),
                    String::new(),
                ]
            })
            .collect(),
    });
    blocks.push(Block::Text(format!("打印时间：{}", t(printed_at))));
    blocks
}

fn invalid(message: String) -> AppError {
    AppError::new(ErrorCode::Invalid, message)
}

impl App {
    /// Draw experts for a project: the drawn are told (4.6); the summary
    /// says how many, never who.
    pub async fn run_draw(&self, project: &str, form: DrawForm) -> Result<DrawSummary> {
        let me = self
            .require(Right::DrawExperts.roles(), "抽取评标专家")
            .await?;
        let start = chrono::DateTime::parse_from_rfc3339(&form.evaluation_start).map_err(|e| {
            invalid(format!(
                "评标开始时间（evaluation_start）`{}` 无法识别：{e}",
                form.evaluation_start
            ))
        })?;
        let trimmed = |v: Vec<String>| -> Vec<String> {
            v.iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let request = Request {
            specialties: form
                .specialties
                .iter()
                .map(|n| Need {
                    code: n.code.trim().to_owned(),
                    count: n.count,
                })
                .collect(),
            backups: form.backups,
            evaluation: Evaluation {
                start,
                duration_hours: form.duration_hours,
                place: form.place.trim().to_owned(),
                contact_phone: form.contact_phone.trim().to_owned(),
            },
            sender: form.sender.trim().to_owned(),
            avoid: trimmed(form.avoid),
            recent_days: form.recent_days,
            regions: trimmed(form.regions),
            reply_minutes: form.reply_minutes,
        };
        let committed = self
            .store()
            .commit_draw(project, request, &me.username)
            .await?;
        self.commitment_to_server().await?;
        let d = self.store().finish_draw(committed).await?;
        self.queued.notify_one();
        Ok(d.into())
    }

    /// A project's draws, newest first, as counts.
    pub async fn draws(&self, project: &str) -> Result<Vec<DrawSummary>> {
        self.require(crate::ANY_ROLE, "查看专家抽取").await?;
        let mut out = Vec::new();
        for d in self.store().project_draws(project).await? {
            out.push(d.into());
        }
        Ok(out)
    }

    /// Keep this desktop's draws' clocks while the app runs (no answer in
    /// time calls the next backup), whether or not it sends pushes itself.
    pub async fn keep_clocks(&self) {
        self.store().keep_clocks(&self.queued).await
    }

    /// A draw's page: its request, counts and calls; identities only where
    /// the one looking may see them, and every such look audited.
    pub async fn draw_view(&self, id: &str) -> Result<DrawView> {
        let me = self.require(ANY_ROLE, "查看专家抽取").await?;
        // What the clock decided is shown as decided.
        self.store().expire_calls(chrono::Utc::now()).await?;
        let record = self.store().draw(id).await?;
        let inputs = self.store().draw_inputs(id).await?;
        let project = self.store().project_summary(&record.project).await?;
        let calls = self.store().draw_calls(id).await?;
        let tally = self.store().draw_tally(id).await?;
        let now = chrono::Utc::now();
        let sees: std::collections::BTreeSet<String> =
            if Right::SeeExperts.roles().contains(&me.role) {
                calls.iter().map(|c| c.expert_id.clone()).collect()
            } else {
                self.store()
                    .revealed_experts(&record.project, &me.username, now)
                    .await?
            };
        let drawn: Vec<String> = record
            .outcome
            .as_ref()
            .map(|o| o.drawn())
            .unwrap_or_default();
        let mut views = Vec::new();
        for c in &calls {
            let expert = if sees.contains(&c.expert_id) {
                let e = self.store().expert(&c.expert_id).await?;
                Some(ShownExpert {
                    id_number: mask_id_number(&e.id_number),
                    id: e.id,
                    name: e.name,
                    phone: e.phone,
                    employer: e.employer,
                })
            } else {
                None
            };
            views.push(CallView {
                seq: c.seq,
                specialty: c.specialty.clone(),
                backup: !drawn.contains(&c.expert_id),
                state: state_zh(c).to_owned(),
                called_at: c.called_at.clone(),
                replied_at: c.replied_at.clone(),
                signed_in_at: c.signed_in_at.clone(),
                expert,
            });
        }
        let revealed = views.iter().any(|v| v.expert.is_some());
        if revealed {
            self.store()
                .record_experts_viewed(&record.project, &me.username)
                .await?;
        }
        let request = &inputs.request;
        Ok(DrawView {
            project: record.project.clone(),
            project_name: project.name,
            sender: request.sender.clone(),
            evaluation_start: request.evaluation.start.to_rfc3339(),
            duration_hours: request.evaluation.duration_hours,
            place: request.evaluation.place.clone(),
            contact_phone: request.evaluation.contact_phone.clone(),
            backups: request.backups,
            reply_minutes: request.reply_minutes(),
            recent_days: request.recent_days,
            regions: request.regions.clone(),
            avoided: request.avoid.len() as u32,
            started: request.evaluation.start <= now,
            tally,
            calls: views,
            revealed,
            summary: record.into(),
        })
    }

    /// Record an answer an expert gave by phone, found by the ID number or
    /// phone number they give (staff do not see who was called); a decline
    /// calls the next backup.
    pub async fn reply_call(&self, id: &str, who: &str, confirm: bool) -> Result<ReplyResult> {
        let me = self
            .require(Right::DrawExperts.roles(), "登记专家答复")
            .await?;
        let reply = if confirm {
            Reply::Confirmed
        } else {
            Reply::Declined
        };
        let a = self
            .store()
            .reply_call_by(id, who, reply, &me.username)
            .await?;
        self.queued.notify_one();
        Ok(a.into())
    }

    /// The draw's printed record as a PDF, as the one printing sees the draw.
    pub async fn draw_record_pdf(&self, id: &str) -> Result<Vec<u8>> {
        let view = self.draw_view(id).await?;
        crate::pdf::render(&record(&view, &chrono::Local::now().to_rfc3339()))
    }

    /// Sign an expert in at the evaluation by their ID card: who they are
    /// is shown to the one signing them in (and audited by the sign-in's
    /// own record).
    pub async fn sign_in(&self, id: &str, id_number: &str) -> Result<ShownExpert> {
        let me = self.require(Right::DrawExperts.roles(), "专家签到").await?;
        let e = self.store().sign_in(id, id_number, &me.username).await?;
        Ok(ShownExpert {
            id_number: mask_id_number(&e.id_number),
            id: e.id,
            name: e.name,
            phone: e.phone,
            employer: e.employer,
        })
    }
}
