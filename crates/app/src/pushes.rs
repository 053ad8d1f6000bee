//! The push log, and each staff member's inbox with its unread count and
//! the desktop notice of new messages.

use crate::projects::PushItem;
use crate::{App, AppError, Result, ANY_ROLE};
use ggzy_core::error::ErrorCode;
use ggzy_core::push::{Channel, PushStatus};
use ggzy_store::pushes::{PushPage, PushQuery};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Filters of the push log; empty ones are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct PushLogQuery {
    #[ts(optional)]
    pub clause: Option<String>,
    #[ts(optional)]
    pub status: Option<PushStatus>,
    #[ts(optional)]
    pub channel: Option<Channel>,
    #[ts(optional)]
    pub project: Option<String>,
    /// `YYYY-MM-DD`, received on or after.
    #[ts(optional)]
    pub from: Option<String>,
    /// `YYYY-MM-DD`, received on or before.
    #[ts(optional)]
    pub to: Option<String>,
    /// The previous page's `next_before`.
    #[ts(optional, type = "number")]
    pub before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PushList {
    pub items: Vec<PushItem>,
    #[ts(type = "number | null")]
    pub next_before: Option<i64>,
}

/// A desktop notice of new messages in the logged-in user's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub title: String,
    pub body: String,
}

pub const LOG_PAGE: i64 = 20;

impl From<PushPage> for PushList {
    fn from(p: PushPage) -> Self {
        PushList {
            items: p.items.into_iter().map(PushItem::from).collect(),
            next_before: p.next_before,
        }
    }
}

fn date(field: &str, v: &Option<String>) -> Result<()> {
    match v.as_deref().filter(|v| !v.is_empty()) {
        Some(d) if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() => Err(AppError::new(
            ErrorCode::InvalidDate,
            format!("{field}“{d}”不是有效日期：请按 年-月-日 填写，如 2026-11-27"),
        )),
        _ => Ok(()),
    }
}

impl App {
    /// A page of the push log. Pushes to drawn experts are concealed but
    /// from those who may see them (`projects::Sees`), and such a look is
    /// audited, for each project whose experts it shows.
    pub async fn push_log(&self, q: PushLogQuery) -> Result<PushList> {
        let me = self.require(ANY_ROLE, "查看推送记录").await?;
        date("开始日期", &q.from)?;
        date("结束日期", &q.to)?;
        let page = self
            .store()
            .push_log(&PushQuery {
                clause: q.clause,
                status: q.status,
                channel: q.channel,
                project: q.project,
                from: q.from,
                to: q.to,
                staff: None,
                before: q.before,
                limit: LOG_PAGE,
            })
            .await?;
        let projects: std::collections::BTreeSet<String> = page
            .items
            .iter()
            .filter(|p| p.recipient_role == ggzy_core::role::Role::Expert)
            .filter_map(|p| p.project.clone())
            .collect();
        let mut list: PushList = page.into();
        for code in projects {
            let sees = self.sees_experts(&me, &code).await?;
            let mut shown = false;
            for p in list.items.iter_mut().filter(|p| {
                p.recipient_role == ggzy_core::role::Role::Expert
                    && p.project.as_deref() == Some(code.as_str())
            }) {
                if sees.shows(&p.recipient_id) {
                    shown = true;
                } else {
                    crate::projects::conceal_push(p);
                }
            }
            if shown {
                self.store()
                    .record_experts_viewed(&code, &me.username)
                    .await?;
            }
        }
        Ok(list)
    }

    /// The logged-in user's own pushes, newest first; reading the first page marks them read.
    pub async fn inbox(&self, before: Option<i64>) -> Result<PushList> {
        let me = self.require(ANY_ROLE, "查看消息").await?;
        let page = self
            .store()
            .push_log(&PushQuery {
                staff: Some(me.username.clone()),
                before,
                limit: LOG_PAGE,
                ..Default::default()
            })
            .await?;
        if before.is_none() {
            if let Some(newest) = page.items.first() {
                self.store()
                    .mark_inbox_read(&me.username, newest.no)
                    .await?;
            }
        }
        Ok(page.into())
    }

    /// Put a failed push back in line (center staff and admins).
    pub async fn requeue(&self, push_no: i64) -> Result<()> {
        let me = self
            .require(crate::rights::Right::Resend.roles(), "重新发送推送")
            .await?;
        Ok(self.store().requeue(push_no, &me.username).await?)
    }

    /// Asked by the window every few seconds: it keeps no session alive.
    pub async fn inbox_unread(&self) -> Result<i64> {
        let me = self.require_quietly(ANY_ROLE, "查看消息").await?;
        Ok(self.store().inbox_unread(&me.username).await?.0)
    }

    /// A notice when the inbox holds unread pushes not told of yet; each is told once.
    pub async fn inbox_notice(&self) -> Result<Option<Notice>> {
        let Ok(me) = self.require_quietly(ANY_ROLE, "查看消息").await else {
            return Ok(None);
        };
        if !crate::rights::INBOX_HOLDERS.contains(&me.role) {
            return Ok(None);
        }
        let (unread, newest) = self.store().inbox_unread(&me.username).await?;
        let Some(newest) = newest else {
            return Ok(None);
        };
        let mut told = self.told.lock().expect("told lock");
        if told
            .as_ref()
            .is_some_and(|(user, upto)| *user == me.username && *upto >= newest)
        {
            return Ok(None);
        }
        *told = Some((me.username.clone(), newest));
        Ok(Some(Notice {
            title: "公共资源交易信息推送台".into(),
            body: format!("{}，您有 {unread} 条未读消息", me.name),
        }))
    }
}
