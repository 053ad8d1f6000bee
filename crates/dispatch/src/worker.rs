//! The dispatcher: claims due pushes in batches, sends each through its
//! channel's sender at least once, and records what every attempt came to.
//! Retries wait a capped exponential backoff with full jitter; after the
//! configured attempts a push is a dead letter. A push whose earlier answer
//! never came is asked after before it is sent again.

use crate::channel::{Asked, Outcome, Outgoing, Sender};
use chrono::{Local, NaiveTime, TimeZone};
use futures_util::StreamExt;
use ggzy_core::push::{Channel, Secret};
use ggzy_core::render::MASK;
use ggzy_store::anchor::Anchored;
use ggzy_store::outbox::{Attempt, Claimed, Finished};
use ggzy_store::{Store, StoreError};
use rand::Rng;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinSet;

/// How often the dispatcher looks whether the day's anchor is due.
const ANCHOR_CHECK: Duration = Duration::from_secs(60);

/// How hard to try, and when.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Attempts before a push becomes a dead letter.
    pub max_attempts: i64,
    /// The backoff's first ceiling: attempt n waits a random time up to
    /// `min(max_retry, first_retry × 2ⁿ⁻¹)` (full jitter).
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// How long an unknown answer waits before the provider is asked.
    pub ask_after: Duration,
    /// A claimed push's lease: another worker may take it after this.
    pub lease: Duration,
    pub batch: i64,
    /// Sends in flight at once.
    pub concurrency: usize,
    /// Batches claimed ahead of the sends, ready when they need more.
    pub ahead: usize,
    pub quiet: Option<QuietHours>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_attempts: 6,
            first_retry: Duration::from_secs(5),
            max_retry: Duration::from_secs(30 * 60),
            ask_after: Duration::from_secs(30),
            lease: Duration::from_secs(120),
            batch: 256,
            concurrency: 64,
            ahead: 1,
            quiet: None,
        }
    }
}

/// Hours when SMS and email wait (non-urgent clauses only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
    /// Clauses sent at any hour, e.g. `4.6` (experts drawn: they must know now).
    pub urgent: Vec<String>,
}

impl QuietHours {
    /// When a push of `clause` on `channel` may go, if not now.
    pub fn hold_until(
        &self,
        clause: &str,
        channel: Channel,
        now: chrono::DateTime<Local>,
    ) -> Option<chrono::DateTime<Local>> {
        if !matches!(channel, Channel::Sms | Channel::Email)
            || self.urgent.iter().any(|c| c == clause)
        {
            return None;
        }
        let t = now.time();
        let quiet = if self.start <= self.end {
            t >= self.start && t < self.end
        } else {
            t >= self.start || t < self.end
        };
        if !quiet {
            return None;
        }
        let mut day = now.date_naive();
        if t >= self.end {
            day = day.succ_opt()?;
        }
        Local
            .from_local_datetime(&day.and_time(self.end))
            .earliest()
    }
}

/// The backoff before attempt `attempt + 1`, after `attempt` failures:
/// uniform in `[0, min(cap, base × 2^(attempt−1))]`.
pub fn backoff(policy: &Policy, attempt: i64, rng: &mut impl Rng) -> Duration {
    let exp = attempt.clamp(1, 30) - 1;
    let ceiling = policy
        .first_retry
        .saturating_mul(1u32 << exp)
        .min(policy.max_retry);
    ceiling.mul_f64(rng.gen::<f64>())
}

/// The sender for each channel.
#[derive(Clone, Default)]
pub struct Routes(HashMap<Channel, Arc<dyn Sender>>);

impl Routes {
    pub fn with(mut self, channel: Channel, sender: impl Sender + 'static) -> Self {
        self.0.insert(channel, Arc::new(sender));
        self
    }

    pub fn get(&self, channel: Channel) -> Option<&Arc<dyn Sender>> {
        self.0.get(&channel)
    }
}

/// A drain's first claim, at most: see [`Dispatcher::drain`].
const FIRST_CLAIM: i64 = 128;

/// Cheap to clone: clones share the store, senders and wake-up.
#[derive(Clone)]
pub struct Dispatcher {
    store: Store,
    routes: Routes,
    policy: Policy,
    wake: Arc<Notify>,
    /// Sends under way right now.
    in_flight: Arc<AtomicUsize>,
}

/// One send counted in the gauge until it ends, also when it is dropped
/// mid-way (a dispatcher stopped or restarted while sending).
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn count(gauge: &'a AtomicUsize) -> Self {
        gauge.fetch_add(1, Ordering::Relaxed);
        InFlight(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn stamp(at: chrono::DateTime<Local>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

fn after(d: Duration) -> String {
    stamp(Local::now() + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX))
}

impl Dispatcher {
    pub fn new(store: Store, routes: Routes, policy: Policy) -> Self {
        Dispatcher {
            store,
            routes,
            policy,
            wake: Arc::new(Notify::new()),
            in_flight: Arc::default(),
        }
    }

    /// Wake on `wake` (e.g. the app's own "pushes queued" signal) instead of
    /// a fresh one.
    pub fn with_waker(mut self, wake: Arc<Notify>) -> Self {
        self.wake = wake;
        self
    }

    /// How many sends are under way right now (a gauge: `make
    /// bench-dispatch` samples it to see how much of the time none are).
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Notify this after queueing pushes to have them sent at once rather
    /// than at the next poll.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Run until the process ends: take over what a previous dispatcher left
    /// mid-send, then send what is due, waiting for a wake-up or `poll`
    /// whenever nothing is.
    pub async fn run(&self, poll: Duration) -> Result<(), StoreError> {
        let taken = self.store.take_over_leases().await?;
        if taken > 0 {
            tracing::info!(taken, "took over pushes left mid-send");
        }
        let mut anchor_check = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= anchor_check {
                anchor_check += ANCHOR_CHECK;
                self.anchor_if_due().await;
            }
            if self.drain().await? == 0 {
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
        }
    }

    /// The daily anchor (`Store::anchor_if_due`), from the one dispatcher a
    /// deployment runs: its pushes are then sent like any other. A failure
    /// is logged and tried again at the next check; the sends go on.
    async fn anchor_if_due(&self) {
        match self.store.anchor_if_due(chrono::Utc::now()).await {
            Ok(Some(Anchored::Sent {
                event_id,
                head,
                pushes,
            })) => tracing::info!(%event_id, %head, pushes, "anchored the audit head"),
            Ok(Some(Anchored::NoRecipients) | None) => {}
            Err(e) => tracing::warn!(error = %e, "the daily anchor failed; tried again shortly"),
        }
    }

    /// Send until nothing is due; how many pushes were claimed. Three parts
    /// run at once, so the sends never wait for the database: claims stay
    /// `ahead` batches ahead of the sends, `concurrency` sends are under way
    /// all the time, and outcomes are recorded as they come, as many in one
    /// transaction as have come (up to a batch). The database takes one
    /// writer at a time: claims and records take turns while sends go on.
    /// The first part to fail stops the others.
    pub async fn drain(&self) -> Result<usize, StoreError> {
        let lease = self.policy.lease.as_secs().max(1) as i64;
        let batch = self.policy.batch.max(1);
        let (claimed_tx, mut claimed_rx) = mpsc::channel::<Vec<Claimed>>(self.policy.ahead.max(1));
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Finished>();
        // Dropped with this future: a drain stopped (the dispatcher restarted)
        // leaves no part of it running.
        let mut parts = JoinSet::new();
        let store = self.store.clone();
        parts.spawn(async move {
            // The first claims are small and double up to the batch, so the
            // sends start within a millisecond or two of a burst arriving
            // instead of waiting for a whole batch to be claimed.
            let (mut claimed, mut size) = (0, batch.min(FIRST_CLAIM));
            loop {
                let due = store.claim_due(size, lease).await?;
                if due.is_empty() {
                    return Ok::<_, StoreError>(claimed);
                }
                claimed += due.len();
                size = (size * 2).min(batch);
                if claimed_tx.send(due).await.is_err() {
                    return Ok(claimed);
                }
            }
        });
        let store = self.store.clone();
        parts.spawn(async move {
            let mut done = Vec::with_capacity(batch as usize);
            while done_rx.recv_many(&mut done, batch as usize).await > 0 {
                store.finish_all(&done).await?;
                done.clear();
            }
            Ok(0)
        });
        // The sends are a task of their own too, on the runtime's workers
        // beside hyper's connection tasks, not on the thread awaiting the
        // drain (the CLI's main thread): there, every answer crossed threads
        // to wake its send.
        let this = self.clone();
        parts.spawn(async move {
            let this = &this;
            futures_util::stream::poll_fn(|cx| claimed_rx.poll_recv(cx))
                .flat_map(futures_util::stream::iter)
                .map(|c| async move {
                    let _counted = InFlight::count(&this.in_flight);
                    this.attempt(&c).await
                })
                .buffer_unordered(this.policy.concurrency.max(1))
                .for_each(|f| {
                    // The recorder stops only on an error, and then so does all this.
                    let _ = done_tx.send(f);
                    std::future::ready(())
                })
                .await;
            // All sent: the recorder ends once it has recorded the rest.
            drop(done_tx);
            Ok(0)
        });
        let mut claimed = 0;
        while let Some(part) = parts.join_next().await {
            claimed += part.expect("a dispatch part panicked")?;
        }
        Ok(claimed)
    }

    /// Claim one batch, send it, record every outcome in one transaction;
    /// how many were claimed.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let lease = self.policy.lease.as_secs().max(1) as i64;
        let claimed = self.store.claim_due(self.policy.batch, lease).await?;
        let n = claimed.len();
        if n == 0 {
            return Ok(0);
        }
        // Each future owns its push, so the whole run is Send (spawnable).
        let done: Vec<Finished> = futures_util::stream::iter(claimed)
            .map(|c| async move {
                let _counted = InFlight::count(&self.in_flight);
                self.attempt(&c).await
            })
            .buffer_unordered(self.policy.concurrency)
            .collect()
            .await;
        self.store.finish_all(&done).await?;
        Ok(n)
    }

    async fn attempt(&self, c: &Claimed) -> Finished {
        let p = &c.push;
        let finished = |attempt: Attempt, detail: String, retry_at: Option<String>| Finished {
            push_no: p.no,
            push_id: p.id,
            attempt,
            detail,
            retry_at,
        };
        let Some(sender) = self.routes.get(p.channel) else {
            return finished(
                Attempt::Dead,
                format!(
                    "未配置“{}”通道：请在 设置 → 推送通道 中配置后重新排队",
                    p.channel.zh()
                ),
                None,
            );
        };
        if let Some(quiet) = &self.policy.quiet {
            if let Some(until) = quiet.hold_until(&p.clause, p.channel, Local::now()) {
                return finished(
                    Attempt::Deferred,
                    format!("免打扰时段，{} 发送", until.format("%m-%d %H:%M")),
                    Some(stamp(until)),
                );
            }
        }
        let m = Outgoing::from(p);
        let outcome = if c.uncertain {
            match sender.ask(&m).await {
                Asked::Known(o) => o,
                Asked::NotReceived | Asked::CannotAsk => self.send(sender.as_ref(), p, m).await,
                Asked::Failed(why) => Outcome::Retry(why),
            }
        } else {
            self.send(sender.as_ref(), p, m).await
        };
        let (attempt, detail, wait) = settle(outcome, p.attempts, &self.policy);
        finished(attempt, detail, wait.map(after))
    }
}

/// What an attempt's outcome comes to, after `attempts` earlier attempts:
/// the attempt as recorded, its detail, and how long until the push is due
/// again (none when it is done or dead). The dispatcher of a desktop and of
/// the sync server settle alike.
pub fn settle(
    outcome: Outcome,
    attempts: i64,
    policy: &Policy,
) -> (Attempt, String, Option<Duration>) {
    let last = attempts + 1 >= policy.max_attempts;
    match outcome {
        Outcome::Accepted(d) => (Attempt::Sent, d, None),
        Outcome::Delivered(d) => (Attempt::Delivered, d, None),
        Outcome::Rejected(d) => (Attempt::Dead, d, None),
        Outcome::Later(d, wait) => (Attempt::Deferred, d, Some(wait)),
        Outcome::Retry(d) | Outcome::Unknown(d) if last => (
            Attempt::Dead,
            format!("{d}；已尝试 {} 次，转为死信，可重新排队", attempts + 1),
            None,
        ),
        Outcome::Retry(d) => {
            let wait = backoff(policy, attempts + 1, &mut rand::thread_rng());
            (Attempt::Retry, d, Some(wait))
        }
        Outcome::Unknown(d) => (Attempt::Unknown, d, Some(policy.ask_after)),
    }
}

impl Dispatcher {
    /// Send `m`. A message that tells a member a one-time password (note P)
    /// gets a fresh one now, in place of the mask it is stored with: only its
    /// hash is kept, and only this send carries it.
    async fn send(
        &self,
        sender: &dyn Sender,
        p: &ggzy_store::outbox::Due,
        mut m: Outgoing,
    ) -> Outcome {
        if p.secret.as_deref() == Some(Secret::OneTimePassword.as_str()) {
            match self.store.issue_member_password(&p.recipient_id).await {
                Ok(clear) => m.text = m.text.replacen(MASK, &clear, 1),
                Err(e) => return Outcome::Retry(format!("一次性密码未能签发：{e}")),
            }
        }
        sender.send(&m).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    proptest! {
        /// Full jitter: never more than the capped exponential ceiling.
        #[test]
        fn backoff_stays_under_its_ceiling(attempt in 1i64..40, seed in any::<u64>()) {
            let policy = Policy::default();
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let wait = backoff(&policy, attempt, &mut rng);
            let ceiling = policy.first_retry.saturating_mul(1 << (attempt.min(30) - 1)).min(policy.max_retry);
            prop_assert!(wait <= ceiling);
        }
    }

    #[test]
    fn quiet_hours_hold_sms_but_not_an_expert_draw() {
        let quiet = QuietHours {
            start: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            urgent: vec!["4.6".into()],
        };
        let night = Local.with_ymd_and_hms(2026, 11, 27, 23, 30, 0).unwrap();
        let held = quiet
            .hold_until("4.4.4", Channel::Sms, night)
            .expect("held");
        assert_eq!(held, Local.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap());
        assert_eq!(
            quiet.hold_until("4.6", Channel::Sms, night),
            None,
            "experts must know now"
        );
        assert_eq!(
            quiet.hold_until("4.4.1", Channel::Desktop, night),
            None,
            "staff inbox is no phone"
        );
        let early = Local.with_ymd_and_hms(2026, 11, 28, 6, 0, 0).unwrap();
        assert_eq!(
            quiet.hold_until("4.4.4", Channel::Email, early),
            Some(Local.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap())
        );
        let day = Local.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap();
        assert_eq!(quiet.hold_until("4.4.4", Channel::Sms, day), None);
    }
}
