//! The desktop's sync client. Uploading is resumable by construction: the
//! cursor moves only to the head the server says it holds, checked against
//! this chain, so an upload cut short, repeated or answered late leaves
//! nothing lost and nothing twice (the server counts repeats as duplicates).

use ggzy_core::audit::Head;
use ggzy_core::error::ErrorCode;
use ggzy_core::sync::{Alarm, Alarms, Checked, Heads, Page, Upload, Uploaded};
use ggzy_store::{Store, StoreError};

/// What an upload came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    /// Records the server stored (new to it).
    pub stored: u64,
    /// Tamper alarms the server holds, of every device.
    pub alarms: i64,
    /// This desktop's pushes handed to the server to send (connected mode).
    pub handed: u64,
}

/// What a download came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Received {
    /// Other devices' records applied here.
    pub records: u64,
    /// Of them, accepted events.
    pub events: u64,
    /// Actions the order found stale on the way.
    pub conflicts: u64,
    /// The last place the server had given when asked last.
    pub server_last: i64,
}

/// What one round (up, then down) came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub sent: Sent,
    pub received: Received,
}

/// Records sent in one request at most.
pub const BATCH: i64 = 2_000;
/// Pushes handed to the server in one request at most.
pub const HAND_OVER_MAX: i64 = 20_000;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("无法连接同步服务器 {server}：{detail}。本机照常离线工作，网络恢复后再同步")]
    Unreachable { server: String, detail: String },
    /// The server refused, with its code and what to do.
    #[error("同步服务器拒绝（{code}）：{message}")]
    Refused { code: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where the server is, and this desktop's token (from the keyring; never
/// logged, never stored in the database).
#[derive(Clone)]
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(server: &str, token: &str) -> Client {
        Client {
            base: server.trim_end_matches('/').to_owned(),
            token: token.trim().to_owned(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .expect("an HTTP client with default settings"),
        }
    }

    /// Send what the server does not hold of this device's series, in
    /// batches, moving the cursor after each answer. How many records the
    /// server stored.
    pub async fn upload(&self, store: &Store) -> Result<Sent, SyncError> {
        let device_id: uuid::Uuid = store
            .device()
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("本机编号 `{}` 不是 UUID", store.device())))?;
        let mut sent = Sent::default();
        // At least one request, so a wrong token or a server out of reach
        // is said even when nothing waits; the answer's head is held to
        // this chain every time.
        loop {
            let after = store.uploaded().await?.seq;
            let records = store.outgoing(after, BATCH).await?;
            let last = records.is_empty();
            let up = Upload {
                device_id,
                records,
                hand_over: Vec::new(),
            };
            let answer: Uploaded = self.post("/api/v1/sync/upload", &up).await?;
            if answer.head_seq > 0 {
                let head: ggzy_core::audit::Head =
                    format!("{}:{}", answer.head_seq, answer.head_hash)
                        .parse()
                        .map_err(|message| SyncError::Refused {
                            code: "bad_answer".into(),
                            message,
                        })?;
                store.set_uploaded(head.seq, &head.hash).await?;
            }
            sent.stored += answer.stored;
            sent.alarms = answer.alarms;
            if last {
                break;
            }
        }
        // Connected (a server saved in 设置 → 同步): this desktop's
        // dispatcher is off, and the server sends its pushes.
        if store.connected().await?.is_some() {
            loop {
                let handing = store.to_hand_over(HAND_OVER_MAX).await?;
                if handing.pushes.is_empty() {
                    store.set_handed(&handing).await?;
                    break;
                }
                let up = Upload {
                    device_id,
                    records: Vec::new(),
                    hand_over: handing.wire(),
                };
                let answer: Uploaded = self.post("/api/v1/sync/upload", &up).await?;
                sent.handed += answer.handed;
                store.set_handed(&handing).await?;
            }
        }
        Ok(sent)
    }

    /// Apply the others' records after this desktop's cursor, a page at a
    /// time, each page with its cursor in one local transaction. The next
    /// page is asked for while one is applied (it starts where that one's
    /// cursor will be; if applying fails, it is dropped unread).
    pub async fn download(&self, store: &Store) -> Result<Received, SyncError> {
        let mut got = Received::default();
        let mut page = self.page(store.downloaded().await?).await?;
        loop {
            let (more, next_after) = (
                page.page().more && !page.page().records.is_empty(),
                page.page().next,
            );
            let (applied, next) = tokio::join!(store.apply_page(&page), async {
                match more {
                    true => Some(self.page(next_after).await),
                    false => None,
                }
            });
            let applied = applied?;
            got.records += applied.records;
            got.events += applied.events;
            got.conflicts += applied.conflicts;
            got.server_last = page.page().last;
            match next {
                Some(next) => page = next?,
                None => return Ok(got),
            }
        }
    }

    /// The page after `after`, checked (see `Page::check`).
    async fn page(&self, after: i64) -> Result<Checked, SyncError> {
        let page: Page = self
            .get(&format!("/api/v1/sync/download?after={after}"))
            .await?;
        page.check().map_err(|u| {
            SyncError::Store(StoreError::invalid(
                ErrorCode::Corrupt,
                format!(
                    "同步服务器上设备 {} 的第 {} 条记录不完整（{}）：服务器上的记录被改写过，同步已停止，请联系系统管理员核查",
                    u.device_id, u.seq, u.why
                ),
            ))
        })
    }

    /// One round: this desktop's records up, then the others' down.
    pub async fn round(&self, store: &Store) -> Result<Round, SyncError> {
        let sent = self.upload(store).await?;
        let received = self.download(store).await?;
        Ok(Round { sent, received })
    }

    /// The tamper alarms the server raised, newest first.
    pub async fn alarms(&self) -> Result<Vec<Alarm>, SyncError> {
        Ok(self.get::<Alarms>("/api/v1/alarms").await?.alarms)
    }

    /// Hold this database's chains to the heads the server keeps: each
    /// series this database has must still hold the server's head there.
    pub async fn check_heads(&self, store: &Store) -> Result<Vec<HeadCheck>, SyncError> {
        let heads: Heads = self.get("/api/v1/sync/heads").await?;
        let mut checks = Vec::new();
        for h in heads.heads {
            let id = h.device_id.to_string();
            let Some((here, last)) = store.series_at(&id, h.seq).await? else {
                continue; // a series this desktop has not downloaded
            };
            let server = Head {
                seq: h.seq,
                hash: h.hash,
            };
            let found = match here {
                Some(hash) if hash == h.hash => Found::Same,
                Some(hash) => Found::Differs(hash),
                None => Found::Missing { last },
            };
            checks.push(HeadCheck {
                own: id == store.device(),
                device_id: id,
                server,
                found,
            });
        }
        Ok(checks)
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, SyncError> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        answer(r).await
    }

    fn unreachable(&self, e: reqwest::Error) -> SyncError {
        SyncError::Unreachable {
            server: self.base.clone(),
            detail: e.to_string(),
        }
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, SyncError> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        answer(r).await
    }
}

/// The server's answer, or its refusal with its code and message.
async fn answer<T: serde::de::DeserializeOwned>(r: reqwest::Response) -> Result<T, SyncError> {
    if r.status().is_success() {
        return r.json().await.map_err(|e| SyncError::Refused {
            code: "bad_answer".into(),
            message: format!("服务器的答复无法读取：{e}"),
        });
    }
    let status = r.status();
    let refused: serde_json::Value = r.json().await.unwrap_or_default();
    Err(SyncError::Refused {
        code: refused["code"].as_str().unwrap_or("http").to_owned(),
        message: refused["message"]
            .as_str()
            .map_or_else(|| format!("HTTP {status}"), str::to_owned),
    })
}

/// One series held to the head the server keeps of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadCheck {
    pub device_id: String,
    /// This database's own series.
    pub own: bool,
    pub server: Head,
    pub found: Found,
}

/// What this database has where the server's head is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The very record: the history up to the head is the one the server holds.
    Same,
    /// Another record at that place: one side's history was rewritten.
    Differs(ggzy_core::audit::Hash),
    /// No record there: the series here ends earlier (`last`), cut short.
    Missing { last: i64 },
}

impl std::fmt::Display for HeadCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let whose = if self.own {
            "本机".to_owned()
        } else {
            format!("设备 {}", self.device_id)
        };
        match &self.found {
            Found::Same => write!(f, "{whose}：与服务器保存的链头 {} 一致", self.server),
            Found::Differs(_) => write!(
                f,
                "{whose}：第 {} 条记录与服务器保存的不同（服务器链头 {}）：历史记录被改写过",
                self.server.seq, self.server
            ),
            Found::Missing { last } => write!(
                f,
                "{whose}：本库只到第 {last} 条，服务器已保存到 {}：历史记录被截短过",
                self.server
            ),
        }
    }
}
