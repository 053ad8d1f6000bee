//! The one HTTP client of every provider (SMS gateway, Alibaba Cloud,
//! robots): hyper's pooled client, the one reqwest wraps, used directly — at
//! tens of thousands of SMS a minute reqwest's per-request URL parsing,
//! header maps and boxing cost as much as the request itself. HTTPS through
//! rustls with the operating system's certificate store.

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
    /// The configured address is none HTTP can send to: nothing left.
    BadAddress,
    /// Never connected: the request did not leave.
    Connect,
    /// No whole answer within the timeout: it may have arrived.
    Timeout,
    /// The connection broke after the request left.
    Interrupted,
}

/// Whether `url` is an address this client can send to: `http(s)://host…`,
/// in ASCII (a Chinese domain name in its `xn--` form).
pub fn usable(url: &str) -> bool {
    http::Uri::try_from(url).is_ok_and(|u| {
        matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some_and(|h| !h.is_empty())
    })
}

/// A request with `body`, or [`Failed::BadAddress`] when its URL is unusable.
pub fn with_body(
    request: http::request::Builder,
    body: impl Into<Bytes>,
) -> Result<http::Request<Full<Bytes>>, Failed> {
    request
        .body(Full::new(body.into()))
        .map_err(|_| Failed::BadAddress)
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
