//! The desktop's sync client. Uploading is resumable by construction: the
//! cursor moves only to the head the server says it holds, checked against
//! this chain, so an upload cut short, repeated or answered late leaves
//! nothing lost and nothing twice (the server counts repeats as duplicates).

use ggzy_core::sync::{Upload, Uploaded};
use ggzy_store::{Store, StoreError};

/// Records sent in one request at most.
pub const BATCH: i64 = 2_000;

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
    pub async fn upload(&self, store: &Store) -> Result<u64, SyncError> {
        let device_id: uuid::Uuid = store
            .device()
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("本机编号 `{}` 不是 UUID", store.device())))?;
        let mut stored = 0;
        loop {
            let after = store.uploaded().await?.seq;
            let records = store.outgoing(after, BATCH).await?;
            if records.is_empty() {
                return Ok(stored);
            }
            let answer: Uploaded = self
                .post("/api/v1/sync/upload", &Upload { device_id, records })
                .await?;
            let head: ggzy_core::audit::Head = format!("{}:{}", answer.head_seq, answer.head_hash)
                .parse()
                .map_err(|message| SyncError::Refused {
                    code: "bad_answer".into(),
                    message,
                })?;
            store.set_uploaded(head.seq, &head.hash).await?;
            stored += answer.stored;
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
            .map_err(|e| SyncError::Unreachable {
                server: self.base.clone(),
                detail: e.to_string(),
            })?;
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
}
