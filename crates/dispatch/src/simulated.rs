//! The demo center's only channel: answers as a provider would, and sends
//! nothing anywhere. Most pushes are taken and confirmed by a receipt a few
//! seconds later; some fail for good, some are refused once and taken on
//! the retry, some are confirmed failed by their receipt, so a newcomer sees
//! every state of the push log move (已送达, 失败, 重试, 死信). What each push
//! comes to follows from its key, so a demo plays out alike every time.

use crate::channel::{Asked, Outcome, Outgoing, Sender};
use async_trait::async_trait;
use ggzy_store::Store;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

/// The simulated provider of one channel of the demo.
pub struct Simulated {
    name: String,
    store: Store,
    /// Keys refused once already (their retry is taken).
    refused_once: Mutex<HashSet<uuid::Uuid>>,
    /// How long a receipt takes.
    receipt_after: Duration,
}

/// What a push comes to, by its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Fate {
    /// Taken; a receipt says delivered.
    Delivered,
    /// Taken; a receipt says the handset never got it.
    FailedLater,
    /// Busy once, taken on the retry.
    RetriedOnce,
    /// Refused for good: a dead letter.
    Dead,
}

fn fate(key: uuid::Uuid) -> Fate {
    // The key's last bits are SM3 output: evenly spread.
    match key.as_u128() % 100 {
        0..=79 => Fate::Delivered,
        80..=87 => Fate::RetriedOnce,
        88..=93 => Fate::FailedLater,
        _ => Fate::Dead,
    }
}

impl Simulated {
    pub fn new(channel: &str, store: Store) -> Self {
        Simulated {
            name: format!("演示模拟{channel}"),
            store,
            refused_once: Mutex::default(),
            receipt_after: Duration::from_secs(3),
        }
    }

    /// Receipts after `after` instead of the default few seconds.
    pub fn with_receipt_after(mut self, after: Duration) -> Self {
        self.receipt_after = after;
        self
    }

    /// The provider's receipt, a moment after the push was taken.
    fn receipt(&self, key: uuid::Uuid, delivered: bool) {
        let (store, after) = (self.store.clone(), self.receipt_after);
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let detail = if delivered {
                "演示回执：已送达（模拟，未真实发送）"
            } else {
                "演示回执：对方手机关机，未送达（模拟）"
            };
            if let Err(e) = store.receipt(key, delivered, detail).await {
                tracing::warn!(error = %e, "the demo's receipt was not recorded");
            }
        });
    }
}

#[async_trait]
impl Sender for Simulated {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, m: &Outgoing) -> Outcome {
        match fate(m.key) {
            Fate::Dead => Outcome::Rejected("演示：号码无效，拒收（模拟，未真实发送）".into()),
            Fate::RetriedOnce
                if self
                    .refused_once
                    .lock()
                    .expect("simulated lock")
                    .insert(m.key) =>
            {
                Outcome::Retry("演示：网关繁忙，稍后重试（模拟）".into())
            }
            f => {
                self.receipt(m.key, f != Fate::FailedLater);
                Outcome::Accepted("演示：已受理（模拟，未真实发送）".into())
            }
        }
    }

    async fn ask(&self, _m: &Outgoing) -> Asked {
        Asked::NotReceived
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Over many keys the demo shows every state, most of them delivered.
    #[test]
    fn keys_spread_over_every_fate() {
        let mut counts = std::collections::HashMap::new();
        for i in 0..10_000u32 {
            let hash = ggzy_core::audit::sm3(i.to_le_bytes());
            let key = uuid::Uuid::from_slice(&hash[..16]).unwrap();
            *counts.entry(fate(key)).or_insert(0) += 1;
        }
        assert!(counts[&Fate::Delivered] > 7_000, "{counts:?}");
        for f in [Fate::RetriedOnce, Fate::FailedLater, Fate::Dead] {
            assert!(counts[&f] > 300, "{f:?}: {counts:?}");
        }
    }
}
