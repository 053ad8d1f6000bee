//! The one HTTP client of every provider (SMS gateway, Alibaba Cloud,
//! robots): HTTP/1.1 connections of hyper's own, kept open and reused, HTTPS
//! through rustls with the operating system's certificate store.
//!
//! Not reqwest, nor the pooled client it wraps: at tens of thousands of SMS
//! a minute, their per-request work (URL parsing, header maps, a checkout
//! racing a fresh connect, a task spawned to hand each connection back)
//! costs as much as the request itself. Here a request takes an idle
//! connection (or opens one), and the connection goes back once the answer
//! is read: as many connections as requests at once, no more.

use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::client::legacy::connect::HttpConnector;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
type Connection = SendRequest<Full<Bytes>>;
type Origin = (Scheme, Authority);

#[derive(Clone)]
pub struct Http {
    connector: Connector,
    /// Open connections with no request on them, by origin; the last one
    /// back is the first taken.
    idle: Arc<Mutex<HashMap<Origin, Vec<Connection>>>>,
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

/// Whether `url` keeps what it carries private on the way: https, or plain
/// http to this machine itself (a relay or test server on loopback).
pub fn private(url: &str) -> bool {
    http::Uri::try_from(url).is_ok_and(|u| match u.scheme_str() {
        Some("https") => true,
        Some("http") => u.host().is_some_and(|h| {
            let h = h.trim_start_matches('[').trim_end_matches(']');
            h.eq_ignore_ascii_case("localhost")
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }),
        _ => false,
    })
}

/// The most of a provider's answer that is read: answers are a few hundred
/// bytes; a server that sends more is not let fill the dispatcher's memory.
pub const MAX_ANSWER: usize = 1 << 20;

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
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .try_with_platform_verifier()
            .map_err(std::io::Error::other)?
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        Ok(Http {
            connector,
            idle: Arc::default(),
            timeout,
        })
    }

    /// Send `request` (its URI absolute); its status and whole body.
    pub async fn send(
        &self,
        mut request: http::Request<Full<Bytes>>,
    ) -> Result<(http::StatusCode, Bytes), Failed> {
        let uri = request.uri().clone();
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err(Failed::BadAddress);
        };
        let origin = (scheme.clone(), authority.clone());
        // On the wire: the path, and the host (and port) in its own header;
        // never a user name or password written into the address.
        *request.uri_mut() = uri
            .path_and_query()
            .map_or_else(|| http::Uri::from_static("/"), |p| p.clone().into());
        let host = authority
            .as_str()
            .rsplit_once('@')
            .map_or(authority.as_str(), |(_, host)| host);
        let host = http::HeaderValue::from_str(host).map_err(|_| Failed::BadAddress)?;
        request
            .headers_mut()
            .entry(http::header::HOST)
            .or_insert(host);
        let exchange = async {
            loop {
                let (mut connection, fresh) = match self.take_idle(&origin) {
                    Some(c) => (c, false),
                    None => (self.connect(uri.clone()).await?, true),
                };
                if connection.ready().await.is_err() {
                    if fresh {
                        return Err(Failed::Connect);
                    }
                    continue; // closed while idle: the next one
                }
                match connection.try_send_request(request).await {
                    Ok(response) => {
                        let status = response.status();
                        // An answer past the bound is treated as one broken
                        // off: the request left, so it is asked after, not resent.
                        let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER)
                            .collect()
                            .await
                            .map_err(|_| Failed::Interrupted)?
                            .to_bytes();
                        self.put_idle(origin, connection);
                        return Ok((status, body));
                    }
                    Err(mut e) => match e.take_message() {
                        // The connection closed before the request went out
                        // (the server ended a connection kept idle): unsent,
                        // so it goes on another.
                        Some(unsent) if !fresh => request = unsent,
                        Some(_) => return Err(Failed::Connect),
                        None => return Err(Failed::Interrupted),
                    },
                }
            }
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or(Err(Failed::Timeout))
    }

    fn take_idle(&self, origin: &Origin) -> Option<Connection> {
        let mut idle = self.idle.lock().expect("never held across a panic");
        let open = idle.get_mut(origin)?;
        while let Some(c) = open.pop() {
            if !c.is_closed() {
                return Some(c);
            }
        }
        None
    }

    fn put_idle(&self, origin: Origin, connection: Connection) {
        if !connection.is_closed() {
            let mut idle = self.idle.lock().expect("never held across a panic");
            idle.entry(origin).or_default().push(connection);
        }
    }

    /// A new connection to `uri`'s origin, driven by a task of its own until
    /// either side closes it.
    async fn connect(&self, uri: http::Uri) -> Result<Connection, Failed> {
        use tower_service::Service;
        let io = self
            .connector
            .clone()
            .call(uri)
            .await
            .map_err(|_| Failed::Connect)?;
        let (connection, driver) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|_| Failed::Connect)?;
        tokio::spawn(async move {
            if let Err(e) = driver.await {
                tracing::debug!(error = %e, "an HTTP connection ended");
            }
        });
        Ok(connection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn plain_http_is_private_only_on_this_machine() {
        for ok in [
            "https://sms.example.gov.cn/api",
            "http://127.0.0.1:9/sms",
            "http://127.8.0.1/",
            "http://localhost:8080/x",
            "http://[::1]:9/",
        ] {
            assert!(private(ok), "{ok}");
        }
        for no in [
            "http://sms.example.gov.cn/api",
            "http://10.0.0.8/",
            "http://192.168.1.2/",
            "http://localhost.example.cn/",
            "ftp://x.cn",
        ] {
            assert!(!private(no), "{no}");
        }
    }

    /// A server on loopback that answers with 2 MiB: the client reads up to
    /// its bound and reports the answer as broken off, never holding it all.
    #[tokio::test]
    async fn an_answer_past_the_bound_is_not_read_whole() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let body = vec![b'x'; 2 * MAX_ANSWER];
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&body).await;
        });
        let http = Http::new(Duration::from_secs(5), Duration::from_secs(1)).unwrap();
        let request =
            with_body(http::Request::post(format!("http://{addr}/messages")), "{}").unwrap();
        let answer = http.send(request).await;
        assert!(
            matches!(answer, Err(Failed::Interrupted)),
            "{:?}",
            answer.map(|(s, b)| (s, b.len()))
        );
    }
}
