//! The HTTP client of the providers that take tens of thousands of requests
//! a minute (the SMS gateway): hyper's pooled client, the one reqwest wraps,
//! used directly — at that rate reqwest's per-request URL parsing, header
//! map and boxing cost as much as the request itself. HTTPS through rustls
//! with the operating system's certificate store.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

#[derive(Clone)]
pub struct Http {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

/// Why no answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// Never connected: the request did not leave.
    Connect,
    /// No whole answer within the timeout: it may have arrived.
    Timeout,
    /// The connection broke after the request left.
    Interrupted,
}

impl Http {
    pub fn new(timeout: Duration, connect_timeout: Duration) -> std::io::Result<Http> {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(connect_timeout));
        connector.set_nodelay(true);
        connector.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .try_with_platform_verifier()
            .map_err(std::io::Error::other)?
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        Ok(Http {
            client: Client::builder(TokioExecutor::new()).build(https),
            timeout,
        })
    }

    /// Send `request`; its status and whole body.
    pub async fn send(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<(http::StatusCode, Bytes), Failed> {
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                if e.is_connect() {
                    Failed::Connect
                } else {
                    Failed::Interrupted
                }
            })?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|_| Failed::Interrupted)?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or(Err(Failed::Timeout))
    }
}
