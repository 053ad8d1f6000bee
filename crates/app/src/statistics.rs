//! 统计: the service's figures for a period (the events' own days), each a
//! table that the page draws as a chart beside it and exports to .xlsx —
//! pushes by clause, month, channel and status; how soon they went out
//! (3.1's "at once"); delivery by channel and provider; how long
//! verifications took; complaints by channel, state and age; satisfaction
//! per item by month; the statutory steps owed now.

use crate::rights::ANALYSTS;
use crate::{App, AppError, Result};
use chrono::NaiveDate;
use ggzy_core::calendar::{beijing, ClockState};
use ggzy_core::complaints::ComplaintState;
use ggzy_core::deadlines::Deadline;
use ggzy_core::error::ErrorCode;
use ggzy_core::event::{ComplaintChannel, SURVEY_ITEMS};
use ggzy_core::push::{Channel, PushStatus};
use ggzy_store::statistics::{PushCount, TIMELINESS_BUCKETS};
use serde::Serialize;
use ts_rs::TS;

/// How a table is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Chart {
    Bar,
    /// Bars stacked: the parts of a whole.
    Stack,
    Line,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct StatRow {
    pub label: String,
    pub values: Vec<f64>,
}

/// One figure: its rows by the first column, one series per other column.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct StatTable {
    pub key: String,
    pub title: String,
    pub chart: Chart,
    pub columns: Vec<String>,
    pub rows: Vec<StatRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Statistics {
    pub from: String,
    pub to: String,
    pub tables: Vec<StatTable>,
}

fn table(key: &str, title: &str, chart: Chart, columns: &[&str], rows: Vec<StatRow>) -> StatTable {
    StatTable {
        key: key.into(),
        title: title.into(),
        chart,
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        rows,
    }
}

fn row(label: impl Into<String>, values: Vec<f64>) -> StatRow {
    StatRow {
        label: label.into(),
        values,
    }
}

/// `4.4.2` before `4.10.1`: a clause's numbers compared as numbers.
fn clause_order(c: &str) -> Vec<u32> {
    c.split('.')
        .map(|p| {
            p.trim_start_matches(|ch: char| !ch.is_ascii_digit())
                .parse()
                .unwrap_or(u32::MAX)
        })
        .collect()
}

fn counts(rows: Vec<PushCount>) -> Vec<StatRow> {
    rows.into_iter()
        .map(|c| {
            row(
                c.key,
                vec![c.total as f64, c.succeeded as f64, c.dead as f64],
            )
        })
        .collect()
}

/// Rows of `(row, column, count)` laid out as a table with these columns.
fn pivot<'a>(
    cells: impl IntoIterator<Item = (String, usize, f64)>,
    width: usize,
    order: impl Fn(&str) -> Vec<u32> + 'a,
) -> Vec<StatRow> {
    let mut rows: Vec<StatRow> = Vec::new();
    for (label, col, n) in cells {
        let at = match rows.iter().position(|r| r.label == label) {
            Some(i) => i,
            None => {
                rows.push(row(label, vec![0.0; width]));
                rows.len() - 1
            }
        };
        rows[at].values[col] += n;
    }
    rows.sort_by_key(|r| order(&r.label));
    rows
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// A period of days, both included, or why not.
pub(crate) fn period(from: &str, to: &str) -> Result<(NaiveDate, NaiveDate)> {
    let day = |what: &str, d: &str| {
        NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            AppError::new(
                ErrorCode::Invalid,
                format!("{what}`{d}`不是日期：请按 2026-12-31 的格式选择"),
            )
        })
    };
    let (f, t) = (day("起始日", from)?, day("截止日", to)?);
    if f > t {
        return Err(AppError::new(
            ErrorCode::Invalid,
            format!("起始日 {f} 晚于截止日 {t}：请重新选择期间"),
        ));
    }
    Ok((f, t))
}

impl App {
    pub async fn statistics(&self, from: &str, to: &str) -> Result<Statistics> {
        self.require(ANALYSTS, "查看统计").await?;
        self.figures(from, to).await
    }

    /// The figures, for whoever the caller checked.
    pub(crate) async fn figures(&self, from: &str, to: &str) -> Result<Statistics> {
        let (f, t) = period(from, to)?;
        let (from, to) = (f.to_string(), t.to_string());
        let store = self.store();
        let mut tables = Vec::new();

        let mut by_clause = counts(store.pushes_by_clause(&from, &to).await?);
        by_clause.sort_by_key(|r| clause_order(&r.label));
        tables.push(table(
            "pushes_by_clause",
            "推送（按条款）",
            Chart::Bar,
            &["条款", "推送", "成功", "最终失败"],
            by_clause,
        ));
        tables.push(table(
            "pushes_by_month",
            "推送（按月）",
            Chart::Line,
            &["月份", "推送", "成功", "最终失败"],
            counts(store.pushes_by_month(&from, &to).await?),
        ));

        let statuses = PushStatus::ALL;
        let cells = store
            .pushes_by_channel_status(&from, &to)
            .await?
            .into_iter()
            .filter_map(|(channel, status, n)| {
                let channel = Channel::try_from(channel).ok()?;
                let status = PushStatus::try_from(status).ok()?;
                let col = statuses.iter().position(|s| *s == status)?;
                Some((channel.zh().to_owned(), col, n as f64))
            });
        let mut columns = vec!["通道"];
        columns.extend(statuses.iter().map(|s| s.zh()));
        tables.push(table(
            "pushes_by_channel",
            "推送状态（按通道）",
            Chart::Stack,
            &columns,
            pivot(cells, statuses.len(), |_| Vec::new()),
        ));

        let delivery = store
            .delivery_by_provider(&from, &to)
            .await?
            .into_iter()
            .map(|(channel, provider, settled, ok)| {
                let channel =
                    Channel::try_from(channel.clone()).map_or(channel, |c| c.zh().to_owned());
                let rate = if settled > 0 {
                    round2(100.0 * ok as f64 / settled as f64)
                } else {
                    0.0
                };
                row(
                    format!("{channel} · {provider}"),
                    vec![settled as f64, ok as f64, rate],
                )
            })
            .collect();
        tables.push(table(
            "delivery",
            "送达成功率（按通道与服务商）",
            Chart::Bar,
            &["通道 · 服务商", "已结束", "成功", "成功率（%）"],
            delivery,
        ));

        let cells = store
            .timeliness(&from, &to)
            .await?
            .into_iter()
            .map(|(clause, bucket, n)| (clause, bucket as usize, n as f64));
        let mut columns = vec!["条款"];
        columns.extend(TIMELINESS_BUCKETS);
        tables.push(table(
            "timeliness",
            "及时性：事件发生至推送送出（3.1 即时推送）",
            Chart::Stack,
            &columns,
            pivot(cells, TIMELINESS_BUCKETS.len(), clause_order),
        ));

        let calendar = store.calendar().await?;
        const TOOK: [&str; 4] = ["当日", "1 个工作日", "2–3 个工作日", "超过 3 个工作日"];
        let mut took = [0.0; TOOK.len()];
        for (submitted, verified) in store.verification_times(&from, &to).await? {
            let day = |s: &str| {
                chrono::DateTime::parse_from_rfc3339(s)
                    .map(|t| t.with_timezone(&beijing()).date_naive())
            };
            if let (Ok(a), Ok(b)) = (day(&submitted), day(&verified)) {
                let n = calendar.working_days_between(a, b);
                took[match n {
                    ..=0 => 0,
                    1 => 1,
                    2 | 3 => 2,
                    _ => 3,
                }] += 1.0;
            }
        }
        tables.push(table(
            "verification",
            "发布资料查验用时（提交至查验）",
            Chart::Bar,
            &["用时", "次数"],
            TOOK.iter()
                .zip(took)
                .map(|(l, n)| row(*l, vec![n]))
                .collect(),
        ));

        let complaints: Vec<_> = self
            .complaint_items()
            .await?
            .into_iter()
            .filter(|c| (from.as_str()..=to.as_str()).contains(&&c.lodged_at[..10]))
            .collect();
        let states = ComplaintState::ALL;
        let cells = complaints.iter().map(|c| {
            let col = states.iter().position(|s| *s == c.state).unwrap_or(0);
            (c.channel.zh().to_owned(), col, 1.0)
        });
        let mut columns = vec!["渠道"];
        columns.extend(states.iter().map(|s| s.zh()));
        let order = |l: &str| {
            vec![ComplaintChannel::ALL
                .iter()
                .position(|c| c.zh() == l)
                .unwrap_or(usize::MAX) as u32]
        };
        tables.push(table(
            "complaints",
            "投诉（按渠道与状态）",
            Chart::Stack,
            &columns,
            pivot(cells, states.len(), order),
        ));
        const AGES: [&str; 4] = [
            "3 个工作日内",
            "4–10 个工作日",
            "11–30 个工作日",
            "超过 30 个工作日",
        ];
        let today = chrono::Utc::now().with_timezone(&beijing()).date_naive();
        let mut ages = [0.0; AGES.len()];
        for c in complaints.iter().filter(|c| c.state.open()) {
            let lodged = chrono::DateTime::parse_from_rfc3339(&c.lodged_at)
                .map(|t| t.with_timezone(&beijing()).date_naive())
                .unwrap_or(today);
            ages[match calendar.working_days_between(lodged, today) {
                ..=3 => 0,
                4..=10 => 1,
                11..=30 => 2,
                _ => 3,
            }] += 1.0;
        }
        tables.push(table(
            "complaint_age",
            "未办结投诉已历时",
            Chart::Bar,
            &["已历时", "件数"],
            AGES.iter()
                .zip(ages)
                .map(|(l, n)| row(*l, vec![n]))
                .collect(),
        ));

        let months = store.satisfaction_by_month(&from, &to).await?;
        let mut columns = vec!["月份", "份数"];
        columns.extend(SURVEY_ITEMS.iter().map(|(_, n)| *n));
        tables.push(table(
            "satisfaction",
            "满意度（按月各项平均分，5 分为很满意）",
            Chart::Line,
            &columns,
            months
                .into_iter()
                .map(|m| {
                    let avg = [
                        m.timeliness,
                        m.completeness,
                        m.accuracy,
                        m.access,
                        m.courtesy,
                        m.complaint_handling,
                    ];
                    let mut values = vec![m.answers as f64];
                    values.extend(avg.map(round2));
                    row(m.month, values)
                })
                .collect(),
        ));

        let remind = i64::from(store.limits().await?.remind_before);
        let mut owed = [[0.0; 3]; 2];
        for r in self.running_deadlines().await? {
            let i = Deadline::ALL
                .iter()
                .position(|d| *d == r.step.owed.deadline)
                .unwrap_or(0);
            let col = match r.state {
                ClockState::Overdue { .. } => 0,
                ClockState::Running { left } if left <= remind => 1,
                ClockState::Running { .. } => 2,
            };
            owed[i][col] += 1.0;
        }
        tables.push(table(
            "deadlines",
            "法定时限（当前）",
            Chart::Stack,
            &["事项", "已逾期", "即将到期", "进行中"],
            Deadline::ALL
                .iter()
                .zip(owed)
                .map(|(d, v)| row(d.zh(), v.to_vec()))
                .collect(),
        ));

        Ok(Statistics { from, to, tables })
    }

    /// The figures as an .xlsx workbook, one sheet per table.
    pub async fn statistics_xlsx(&self, from: &str, to: &str) -> Result<Vec<u8>> {
        self.require(ANALYSTS, "导出统计").await?;
        let stats = self.figures(from, to).await?;
        crate::xlsx::workbook(&stats.tables)
    }
}
