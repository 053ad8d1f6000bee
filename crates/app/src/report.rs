//! 自评报告 (5.2a): the internal audit of the push service for a period,
//! generated from the data — clause coverage (each clause's pushes, and any
//! event that should have told someone and did not), timeliness, failures
//! and dead letters, complaints and their clocks, satisfaction, the
//! improvement actions and their effect, the statutory steps owed. Every
//! figure is computed here; nothing is typed. Printed as a PDF, or as .xlsx.

use crate::pdf::Block;
use crate::rights::EVALUATORS;
use crate::statistics::{period, Chart, StatRow, StatTable};
use crate::{App, Result};
use ggzy_core::catalog::CATALOG;
use ggzy_core::complaints::ComplaintState;
use ggzy_core::event::{kind_zh, SURVEY_ITEMS};
use ggzy_core::improvement::ImprovementState;
use serde::Serialize;
use ts_rs::TS;

/// One computed figure of the summary.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Fact {
    pub label: String,
    pub value: f64,
}

/// The report's content: the summary's figures and its tables.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SelfEvaluation {
    pub center: String,
    pub from: String,
    pub to: String,
    pub generated_at: String,
    pub facts: Vec<Fact>,
    pub tables: Vec<StatTable>,
}

impl SelfEvaluation {
    /// A figure of the summary by its label.
    pub fn fact(&self, label: &str) -> Option<f64> {
        self.facts
            .iter()
            .find(|f| f.label == label)
            .map(|f| f.value)
    }

    pub fn table(&self, key: &str) -> Option<&StatTable> {
        self.tables.iter().find(|t| t.key == key)
    }
}

fn fact(label: &str, value: f64) -> Fact {
    Fact {
        label: label.into(),
        value,
    }
}

/// A figure as the page prints it: whole numbers without decimals.
fn shown(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

impl App {
    pub async fn self_evaluation(&self, from: &str, to: &str) -> Result<SelfEvaluation> {
        self.require(EVALUATORS, "生成自评报告").await?;
        self.evaluate(from, to).await
    }

    pub async fn self_evaluation_pdf(&self, from: &str, to: &str) -> Result<Vec<u8>> {
        let r = self.self_evaluation(from, to).await?;
        crate::pdf::render(&blocks(&r))
    }

    pub async fn self_evaluation_xlsx(&self, from: &str, to: &str) -> Result<Vec<u8>> {
        let r = self.self_evaluation(from, to).await?;
        let summary = StatTable {
            key: "summary".into(),
            title: format!("自评报告 {} 至 {}", r.from, r.to),
            chart: Chart::Bar,
            columns: vec!["项目".into(), "数值".into()],
            rows: r
                .facts
                .iter()
                .map(|f| StatRow {
                    label: f.label.clone(),
                    values: vec![f.value],
                })
                .collect(),
        };
        let mut tables = vec![summary];
        tables.extend(r.tables);
        crate::xlsx::workbook(&tables)
    }

    async fn evaluate(&self, from: &str, to: &str) -> Result<SelfEvaluation> {
        let (f, t) = period(from, to)?;
        let (from, to) = (f.to_string(), t.to_string());
        let store = self.store();
        let figures = self.figures(&from, &to).await?;
        let by_clause = figures
            .tables
            .iter()
            .find(|t| t.key == "pushes_by_clause")
            .map(|t| t.rows.clone())
            .unwrap_or_default();
        let total: f64 = by_clause.iter().map(|r| r.values[0]).sum();
        let succeeded: f64 = by_clause.iter().map(|r| r.values[1]).sum();
        let dead: f64 = by_clause.iter().map(|r| r.values[2]).sum();

        // Clause coverage: each clause of the standard, and its pushes.
        let mut coverage: Vec<StatRow> = Vec::new();
        for rule in CATALOG {
            if coverage
                .iter()
                .any(|r| r.label.starts_with(&format!("{} ", rule.clause)))
            {
                continue;
            }
            let n = by_clause
                .iter()
                .find(|r| r.label == rule.clause)
                .map_or(0.0, |r| r.values[0]);
            coverage.push(StatRow {
                label: format!("{} {}", rule.clause, rule.title),
                values: vec![n],
            });
        }
        let fired = coverage.iter().filter(|r| r.values[0] > 0.0).count();
        let missing = store.events_missing_pushes(&from, &to).await?;
        let events = store.events_by_type(&from, &to).await?;

        let complaints: Vec<_> = self
            .complaint_items()
            .await?
            .into_iter()
            .filter(|c| (from.as_str()..=to.as_str()).contains(&&c.lodged_at[..10]))
            .collect();
        let count = |ok: &dyn Fn(&crate::complaints::ComplaintItem) -> bool| {
            complaints.iter().filter(|c| ok(c)).count() as f64
        };
        let closed: Vec<i64> = complaints.iter().filter_map(|c| c.took).collect();
        let took = if closed.is_empty() {
            0.0
        } else {
            closed.iter().sum::<i64>() as f64 / closed.len() as f64
        };

        let surveys: Vec<_> = store
            .surveys()
            .await?
            .into_iter()
            .filter(|s| (from.as_str()..=to.as_str()).contains(&&s.answered_at[..10]))
            .map(crate::surveys::item)
            .collect::<Result<_>>()?;
        let averages = crate::surveys::averages(&surveys);

        let improvements = self.improvements_unchecked().await?;

        let facts = vec![
            fact("事件（件）", events.iter().map(|e| e.1 as f64).sum()),
            fact("推送（条）", total),
            fact("推送成功（条）", succeeded),
            fact("最终失败（死信，条）", dead),
            fact(
                "推送成功率（%）",
                if total > 0.0 {
                    (10000.0 * succeeded / total).round() / 100.0
                } else {
                    0.0
                },
            ),
            fact("标准条款（条）", coverage.len() as f64),
            fact("期间内有推送的条款（条）", fired as f64),
            fact("应推送而无推送的事件（件）", missing.len() as f64),
            fact("投诉（件）", complaints.len() as f64),
            fact(
                "已处理并反馈（件）",
                count(&|c| c.state == ComplaintState::Decided),
            ),
            fact(
                "不予受理（件）",
                count(&|c| c.state == ComplaintState::Refused),
            ),
            fact("未办结（件）", count(&|c| c.state.open())),
            fact(
                "其中已逾期（件）",
                count(&|c| {
                    matches!(
                        c.clocks.first().map(|k| k.state),
                        Some(ggzy_core::calendar::ClockState::Overdue { .. })
                    )
                }),
            ),
            fact("办结平均用时（工作日）", (took * 100.0).round() / 100.0),
            fact("满意度调查（份）", surveys.len() as f64),
            fact(
                "含不满意评价（份）",
                surveys.iter().filter(|s| s.low).count() as f64,
            ),
            fact(
                "改进事项（项）",
                improvements.iter().filter(|i| !i.id.is_empty()).count() as f64,
            ),
            fact(
                "已完成的改进事项（项）",
                improvements
                    .iter()
                    .filter(|i| i.state == ImprovementState::Done)
                    .count() as f64,
            ),
        ];

        let mut tables = vec![
            StatTable {
                key: "coverage".into(),
                title: "条款覆盖（期间内各条款的推送）".into(),
                chart: Chart::Bar,
                columns: vec!["条款".into(), "推送（条）".into()],
                rows: coverage,
            },
            StatTable {
                key: "events".into(),
                title: "事件（按类型）".into(),
                chart: Chart::Bar,
                columns: vec!["类型".into(), "事件".into(), "推送".into()],
                rows: events
                    .iter()
                    .map(|(kind, n, p)| StatRow {
                        label: kind_zh(kind).to_owned(),
                        values: vec![*n as f64, *p as f64],
                    })
                    .collect(),
            },
            StatTable {
                key: "satisfaction_items".into(),
                title: "满意度（各项平均分）".into(),
                chart: Chart::Bar,
                columns: vec!["项目".into(), "平均分".into()],
                rows: SURVEY_ITEMS
                    .iter()
                    .zip(averages)
                    .map(|((_, name), v)| StatRow {
                        label: (*name).to_owned(),
                        values: vec![v],
                    })
                    .collect(),
            },
            StatTable {
                key: "improvements".into(),
                title: "改进事项及其效果（生效前后各 30 天）".into(),
                chart: Chart::Bar,
                columns: vec!["事项".into(), "生效前".into(), "生效后".into()],
                rows: improvements
                    .iter()
                    .filter(|i| !i.id.is_empty())
                    .map(|i| {
                        let (b, a) = i.effect.as_ref().map_or((0.0, 0.0), |e| {
                            (e.before.unwrap_or(0.0), e.after.unwrap_or(0.0))
                        });
                        StatRow {
                            label: format!("{} {}（{}）", i.id, i.title, i.state.zh()),
                            values: vec![b, a],
                        }
                    })
                    .collect(),
            },
        ];
        if !missing.is_empty() {
            tables.push(StatTable {
                key: "missing".into(),
                title: "应推送而无推送的事件".into(),
                chart: Chart::Bar,
                columns: vec!["事件".into(), "件".into()],
                rows: missing
                    .iter()
                    .map(|(id, kind)| StatRow {
                        label: format!("{id}（{}）", kind_zh(kind)),
                        values: vec![1.0],
                    })
                    .collect(),
            });
        }
        tables.extend(figures.tables);
        let center = self
            .store()
            .settings()
            .await?
            .into_iter()
            .find(|(k, _)| k == "center_name")
            .map(|(_, v)| v)
            .unwrap_or_default();
        Ok(SelfEvaluation {
            center,
            from,
            to,
            generated_at: chrono::Utc::now()
                .with_timezone(&ggzy_core::calendar::beijing())
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            facts,
            tables,
        })
    }
}

/// The report laid out for print.
fn blocks(r: &SelfEvaluation) -> Vec<Block> {
    let mut out = vec![
        Block::Title(format!("{}信息推送服务自评报告", r.center)),
        Block::Text(format!(
            "评价期间：{} 至 {}（按事件发生日）。本报告由系统根据数据库中的事件、推送、审计记录、投诉、满意度调查与改进事项自动生成，生成于 {}（北京时间），其中所有数字均为计算所得。",
            r.from, r.to, r.generated_at
        )),
        Block::Heading("一、概况".into()),
        Block::Table {
            widths: vec![3.0, 1.0],
            header: Some(vec!["项目".into(), "数值".into()]),
            rows: r.facts.iter().map(|f| vec![f.label.clone(), shown(f.value)]).collect(),
        },
    ];
    const CHINESE: [&str; 20] = [
        "二",
        "三",
        "四",
        "五",
        "六",
        "七",
        "八",
        "九",
        "十",
        "十一",
        "十二",
        "十三",
        "十四",
        "十五",
        "十六",
        "十七",
        "十八",
        "十九",
        "二十",
        "二十一",
    ];
    for (i, t) in r.tables.iter().enumerate() {
        out.push(Block::Heading(format!(
            "{}、{}",
            CHINESE.get(i).copied().unwrap_or("…"),
            t.title
        )));
        let mut widths = vec![3.0];
        widths.extend(std::iter::repeat_n(1.0, t.columns.len().saturating_sub(1)));
        out.push(Block::Table {
            widths,
            header: Some(t.columns.clone()),
            rows: if t.rows.is_empty() {
                vec![std::iter::once("（期间内无数据）".to_owned())
                    .chain(std::iter::repeat_n(
                        String::new(),
                        t.columns.len().saturating_sub(1),
                    ))
                    .collect()]
            } else {
                t.rows
                    .iter()
                    .map(|row| {
                        std::iter::once(row.label.clone())
                            .chain(row.values.iter().map(|v| shown(*v)))
                            .collect()
                    })
                    .collect()
            },
        });
    }
    out
}
