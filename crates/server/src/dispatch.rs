//! The server's dispatcher: the pushes of the events the server decides go
//! out from here, whether or not any desktop is online. Every instance may
//! run one over the same `outbox`: a claim takes due rows with
//! `FOR UPDATE SKIP LOCKED` and leases them, so no two instances send the
//! same push; a lease that runs out (an instance died mid-send) lets another
//! take the push, which asks the provider first where it can, and sends
//! again under the same idempotency key otherwise. What each attempt came
//! to is settled as a desktop's dispatcher settles it
//! (`ggzy_dispatch::worker::settle`) and chained as a status record in the
//! server's series, which every desktop applies to the push.

use crate::series::Series;
use futures_util::StreamExt;
use ggzy_core::audit::status_content;
use ggzy_core::push::{Channel, Secret};
use ggzy_core::sync::CarriedPush;
use ggzy_dispatch::channel::{Asked, Outcome, Outgoing};
use ggzy_dispatch::worker::settle;
use ggzy_dispatch::{Policy, Routes};
use ggzy_store::outbox::Attempt;
use sqlx::{PgConnection, PgPool};
use std::time::Duration;

/// How long an idle dispatcher waits before it looks again.
const IDLE: Duration = Duration::from_millis(500);

/// How long a push for a channel the server lacks waits before it looks again.
const UNCONFIGURED: Duration = Duration::from_secs(300);

/// Pushes to put in the outbox with their events' records.
#[derive(Default)]
pub(crate) struct Outbox {
    ids: Vec<uuid::Uuid>,
    gseqs: Vec<i64>,
}

impl Outbox {
    /// The pushes of the event recorded at `gseq`.
    pub(crate) fn add(&mut self, gseq: i64, pushes: &[CarriedPush]) {
        for p in pushes {
            self.ids.push(p.id);
            self.gseqs.push(gseq);
        }
    }

    pub(crate) async fn write(self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self.ids.is_empty() {
            return Ok(());
        }
        sqlx::query("INSERT INTO outbox (id, gseq) SELECT * FROM UNNEST($1::UUID[], $2::BIGINT[])")
            .bind(&self.ids)
            .bind(&self.gseqs)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

/// A push claimed from the outbox, with its event record's pushes.
#[derive(sqlx::FromRow)]
struct Claimed {
    id: uuid::Uuid,
    pushes: Option<String>,
    status: String,
    attempts: i32,
    /// This claim's number (the row's `claims` after it).
    claims: i32,
    series: i32,
}

/// A claimed push with its content, as its record carries it.
struct Due {
    id: uuid::Uuid,
    push: Option<CarriedPush>,
    status: String,
    attempts: i32,
    claims: i32,
    series: i32,
}

impl From<Claimed> for Due {
    fn from(c: Claimed) -> Self {
        let pushes: Vec<CarriedPush> = c
            .pushes
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default();
        Due {
            id: c.id,
            push: pushes.into_iter().find(|p| p.id == c.id),
            status: c.status,
            attempts: c.attempts,
            claims: c.claims,
            series: c.series,
        }
    }
}

/// One server instance's dispatcher. Cheap to clone.
#[derive(Clone)]
pub struct Dispatch {
    pool: PgPool,
    routes: Routes,
    policy: Policy,
}

impl Dispatch {
    pub fn new(pool: PgPool, routes: Routes, policy: Policy) -> Self {
        Dispatch {
            pool,
            routes,
            policy,
        }
    }

    /// The dispatcher `config` describes: its channel configuration file
    /// read, each channel's secret from the environment (`GGZY_SECRET_…`).
    /// Without one, only the staff inbox is served and other pushes wait.
    pub fn configured(pool: PgPool, config: &crate::config::Config) -> anyhow::Result<Self> {
        let Some(path) = &config.dispatch_config else {
            tracing::warn!(
                "no dispatch configuration: pushes other than the staff inbox wait in the outbox"
            );
            let routes = Routes::default().with(Channel::Desktop, ggzy_dispatch::channel::Inbox);
            return Ok(Dispatch::new(pool, routes, Policy::default()));
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("无法读取推送通道配置 {}：{e}", path.display()))?;
        let channels = ggzy_dispatch::deployment::parse(&text)?;
        let routes = channels.routes(&config.center_name, &ggzy_dispatch::secrets::Env)?;
        Ok(Dispatch::new(pool, routes, channels.policy()?))
    }

    /// Send what is due until `stop` resolves; then finish the batch under
    /// way and return.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let idle = match self.run_once().await {
                Ok(0) => IDLE,
                Ok(_) => Duration::ZERO,
                Err(e) => {
                    tracing::error!(error = %e, "dispatch: database");
                    IDLE * 4
                }
            };
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(idle) => {}
            }
        }
    }

    /// Claim one batch, send it and record what every send came to; how
    /// many were claimed.
    pub async fn run_once(&self) -> Result<usize, sqlx::Error> {
        let claimed: Vec<Claimed> = sqlx::query_as(
            "WITH c AS (UPDATE outbox o SET claims = o.claims + 1, lease_until = now() + make_interval(secs => $2) \
               FROM (SELECT id FROM outbox WHERE status IN ('queued', 'retrying', 'unknown') AND due_at <= now() \
                     AND (lease_until IS NULL OR lease_until < now()) \
                     ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED) d \
               WHERE o.id = d.id RETURNING o.id, o.gseq, o.status, o.attempts, o.claims, o.series) \
             SELECT c.id, r.pushes, c.status, c.attempts, c.claims, c.series FROM c JOIN records r ON r.gseq = c.gseq",
        )
        .bind(self.policy.batch)
        .bind(self.policy.lease.as_secs_f64().max(1.0))
        .fetch_all(&self.pool)
        .await?;
        let due: Vec<Due> = claimed.into_iter().map(Due::from).collect();
        let n = due.len();
        if n == 0 {
            return Ok(0);
        }
        let done: Vec<(Due, Attempt, String, Option<Duration>)> = futures_util::stream::iter(due)
            .map(|d| async move {
                let (attempt, detail, wait) = self.attempt(&d).await;
                (d, attempt, detail, wait)
            })
            .buffer_unordered(self.policy.concurrency)
            .collect()
            .await;
        self.finish(done).await?;
        Ok(n)
    }

    async fn attempt(&self, d: &Due) -> (Attempt, String, Option<Duration>) {
        let Some(p) = &d.push else {
            // The record was checked when it came: this is the database's fault.
            return (
                Attempt::Dead,
                "服务器数据库中找不到这条推送的内容：请联系服务器管理员".into(),
                None,
            );
        };
        let Some(sender) = self.routes.get(p.channel) else {
            // Kept, not dead: nobody could re-drive it from a desktop.
            return (
                Attempt::Deferred,
                format!(
                    "服务器未配置“{}”通道：配置后发出（服务器的 dispatch_config）",
                    p.channel.zh()
                ),
                Some(UNCONFIGURED),
            );
        };
        if p.secret == Some(Secret::OneTimePassword) {
            return (
                Attempt::Dead,
                "一次性密码只能由中心的电脑签发：请在电脑上为该会员重新办理密码重置".into(),
                None,
            );
        }
        let rule = ggzy_core::catalog::rule_by_id(&p.rule);
        let clause = rule.map_or(p.rule.as_str(), |r| r.clause);
        if let Some(quiet) = &self.policy.quiet {
            let now = chrono::Local::now();
            if let Some(until) = quiet.hold_until(clause, p.channel, now) {
                let wait = (until - now).to_std().unwrap_or_default();
                let detail = format!("免打扰时段，{} 发送", until.format("%m-%d %H:%M"));
                return (Attempt::Deferred, detail, Some(wait));
            }
        }
        let m = Outgoing {
            key: ggzy_core::push::series_key(d.id, d.series.into()),
            clause: clause.to_owned(),
            title: rule.map_or_else(|| clause.to_owned(), |r| r.title.to_owned()),
            recipient: p.recipient_name.clone(),
            address: p.address.clone(),
            text: [p.head.as_str(), &p.recipient_name, &p.body].concat(),
        };
        // A push whose answer never came, or whose claim ran out mid-send,
        // may have gone out: ask before sending it again.
        let uncertain = d.status == "unknown" || d.claims > d.attempts + 1;
        let outcome = if uncertain {
            match sender.ask(&m).await {
                Asked::Known(o) => o,
                Asked::NotReceived | Asked::CannotAsk => sender.send(&m).await,
                Asked::Failed(why) => Outcome::Retry(why),
            }
        } else {
            sender.send(&m).await
        };
        settle(outcome, d.attempts as i64, &self.policy)
    }

    /// Record what the sends came to: the rows still leased to this claim
    /// move on, and each move is a status record in the server's series.
    async fn finish(
        &self,
        done: Vec<(Due, Attempt, String, Option<Duration>)>,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut series = Series::open(&mut tx).await?;
        let moved: Vec<uuid::Uuid> = sqlx::query_scalar(
            "UPDATE outbox o SET status = t.status, detail = t.detail, attempts = o.attempts + t.counts, \
             due_at = now() + make_interval(secs => t.wait), lease_until = NULL \
             FROM UNNEST($1::UUID[], $2::INT[], $3::TEXT[], $4::TEXT[], $5::INT[], $6::FLOAT8[]) \
             AS t(id, claims, status, detail, counts, wait) \
             WHERE o.id = t.id AND o.claims = t.claims RETURNING o.id",
        )
        .bind(done.iter().map(|d| d.0.id).collect::<Vec<_>>())
        .bind(done.iter().map(|d| d.0.claims).collect::<Vec<_>>())
        .bind(done.iter().map(|d| d.1.status().as_str()).collect::<Vec<_>>())
        .bind(done.iter().map(|d| d.2.as_str()).collect::<Vec<_>>())
        .bind(
            done.iter()
                .map(|d| i32::from(d.1 != Attempt::Deferred))
                .collect::<Vec<_>>(),
        )
        .bind(
            done.iter()
                .map(|d| d.3.unwrap_or_default().as_secs_f64())
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut *tx)
        .await?;
        let moved: std::collections::HashSet<uuid::Uuid> = moved.into_iter().collect();
        let at = chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
        for (d, attempt, detail, _) in &done {
            if !moved.contains(&d.id) {
                // Its lease ran out and another claim took it: that claim records.
                tracing::warn!(push = %d.id, "dispatch: lease ran out before the send was recorded");
                continue;
            }
            let id = d.id.simple().to_string();
            let content = status_content(&at, &id, &d.id, attempt.status(), detail, None);
            series.push(content, None, Vec::new());
        }
        series.write(&mut tx).await?;
        tx.commit().await
    }
}
