//! The providers' HTTP client against a real server on loopback, plain TCP
//! and HTTP/1.1 written out by hand, so the test sees every connection a
//! provider would: connections are reused, never more than the requests at
//! once, and one the server closed while idle costs no failed send.

use bytes::Bytes;
use ggzy_dispatch::http::{with_body, Http};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Each request's head (request line and headers), as the server read it.
type Heads = Arc<Mutex<Vec<String>>>;

/// A server answering every request `202 {}`; it counts the connections it
/// accepts, keeps each request's head and, when `close_after_answer`, ends
/// each connection after one answer without saying so (as a server ending a
/// connection kept idle).
async fn server(close_after_answer: bool) -> (String, Arc<AtomicUsize>, Heads) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms/messages", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let heads = Heads::default();
    let (counted, kept) = (accepted.clone(), heads.clone());
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(answer(socket, close_after_answer, kept.clone()));
        }
    });
    (url, accepted, heads)
}

async fn answer(mut socket: TcpStream, once: bool, heads: Heads) {
    let mut buf = Vec::new();
    loop {
        // One whole request: its head, then Content-Length bytes of body.
        let whole = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |n| n.trim().parse::<usize>().unwrap());
                if buf.len() >= end + 4 + length {
                    heads.lock().unwrap().push(head);
                    break end + 4 + length;
                }
            }
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        buf.drain(..whole);
        let reply = b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        if socket.write_all(reply).await.is_err() || once {
            return;
        }
    }
}

fn request(url: &str, n: usize) -> http::Request<http_body_util::Full<Bytes>> {
    let request = http::Request::post(url).header(http::header::CONTENT_TYPE, "application/json");
    with_body(request, format!("{{\"n\":{n}}}")).unwrap()
}

fn client() -> Http {
    Http::new(Duration::from_secs(5), Duration::from_secs(2)).unwrap()
}

#[tokio::test]
async fn connections_are_reused_never_more_than_the_requests_at_once() {
    use futures_util::StreamExt;
    let (url, accepted, _) = server(false).await;
    let http = client();
    let answers: Vec<_> = futures_util::stream::iter(0..2000)
        .map(|n| http.send(request(&url, n)))
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(
        answers
            .iter()
            .all(|a| matches!(a, Ok((s, _)) if s.as_u16() == 202)),
        "every request answered 202"
    );
    let opened = accepted.load(Ordering::SeqCst);
    assert!(
        (1..=32).contains(&opened),
        "2,000 requests, 32 at a time, opened {opened} connections (at most 32)"
    );
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_costs_no_failed_send() {
    let (url, accepted, _) = server(true).await;
    let http = client();
    let first = http.send(request(&url, 1)).await;
    assert!(
        matches!(first, Ok((s, _)) if s.as_u16() == 202),
        "{first:?}"
    );
    // The server has closed that connection; the client sees so in its own time.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = http.send(request(&url, 2)).await;
    assert!(
        matches!(second, Ok((s, _)) if s.as_u16() == 202),
        "the second send goes on a new connection, not reported failed: {second:?}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

/// The request line carries the path only and `Host` the host and port: a
/// user name and password written into a provider's address go nowhere.
#[tokio::test]
async fn the_host_header_names_host_and_port_only() {
    let (url, _, heads) = server(false).await;
    let with_user = url.replacen("http://", "http://ggzy:secret-1@", 1);
    let sent = client().send(request(&with_user, 1)).await;
    assert!(matches!(sent, Ok((s, _)) if s.as_u16() == 202), "{sent:?}");
    let head = heads.lock().unwrap()[0].clone();
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches("/sms/messages");
    assert!(
        head.starts_with("post /sms/messages http/1.1\r\n"),
        "{head}"
    );
    let host = format!("host: {addr}");
    assert!(head.lines().any(|l| l == host), "{head}");
    assert!(!head.contains("ggzy"), "{head}");
}
