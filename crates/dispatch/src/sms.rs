//! SMS over HTTP: a generic gateway (JSON, shared-secret signature) and
//! Alibaba Cloud SMS (its RPC request format and HMAC-SHA1 signing).

use crate::channel::{answer_outcome, bad_address, mask, short, Asked, Outcome, Outgoing, Sender};
use crate::http::{with_body, Failed, Http};
use async_trait::async_trait;
use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::HeaderValue;
use http_body_util::Full;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

/// The generic gateway: `POST {url}/messages` with the push as JSON, and
/// `GET {url}/messages/{key}` to ask after one. Every request carries
/// `X-Ggzy-Key-Id`, `X-Ggzy-Timestamp` (Unix seconds) and
/// `X-Ggzy-Signature`: hex HMAC-SHA256 under the shared secret of
/// `"{timestamp}\n{method}\n{path}\n{body}"`; the push's key also goes as
/// `Idempotency-Key`, so the gateway takes each push once.
pub struct Gateway {
    name: String,
    /// The base URL, without a trailing slash.
    url: String,
    /// `None` when no header can carry the configured key id.
    key_id: Option<HeaderValue>,
    /// Keyed with the shared secret once; each signature starts from a copy.
    mac: Hmac<sha2::Sha256>,
    /// Where a push is posted, and the path its signature covers, worked out
    /// once (tens of thousands of sends a minute go there); `None` when the
    /// configured address is unusable.
    post: Option<(http::Uri, String)>,
    http: Http,
}

/// Whether a key id can go in a request header as it is: visible ASCII, the
/// way providers issue them.
pub fn key_id_usable(key_id: &str) -> bool {
    !key_id.is_empty() && key_id.bytes().all(|b| b.is_ascii_graphic())
}

/// The signature of a gateway request (also what a receiving gateway checks).
pub fn gateway_signature(
    secret: &str,
    timestamp: &str,
    method: &str,
    path: &str,
    body: &str,
) -> String {
    sign(&keyed(secret), timestamp, method, path, body)
}

fn keyed(secret: &str) -> Hmac<sha2::Sha256> {
    Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length")
}

fn sign(
    keyed: &Hmac<sha2::Sha256>,
    timestamp: &str,
    method: &str,
    path: &str,
    body: &str,
) -> String {
    let mut mac = keyed.clone();
    for part in [timestamp, "\n", method, "\n", path, "\n", body] {
        mac.update(part.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

impl Gateway {
    pub fn new(name: &str, url: &str, key_id: &str, secret: &str, http: Http) -> Gateway {
        let url = url.trim_end_matches('/').to_owned();
        let post = Self::target(&url, "/messages");
        Gateway {
            name: name.to_owned(),
            key_id: Some(key_id)
                .filter(|k| key_id_usable(k))
                .and_then(|k| HeaderValue::from_str(k).ok()),
            mac: keyed(secret),
            post,
            url,
            http,
        }
    }

    /// `path` under the base URL, and the path a signature covers.
    fn target(url: &str, path: &str) -> Option<(http::Uri, String)> {
        let uri = http::Uri::try_from(format!("{url}{path}")).ok()?;
        Some((uri, format!("{}{path}", url_path(url))))
    }

    fn signed(
        &self,
        method: http::Method,
        (uri, signed_path): (http::Uri, &str),
        body: String,
        key_id: &HeaderValue,
        key: uuid::Uuid,
    ) -> http::Request<Full<Bytes>> {
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign(
            &self.mac,
            &timestamp.to_string(),
            method.as_str(),
            signed_path,
            &body,
        );
        let mut request = http::Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        // Header names spelled out once (parsing a name per request costs
        // an allocation each, at tens of thousands a minute).
        use http::header::HeaderName;
        let mut key_text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let key_text = key.hyphenated().encode_lower(&mut key_text);
        let headers = request.headers_mut();
        headers.reserve(6);
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            HeaderName::from_static("idempotency-key"),
            HeaderValue::from_str(key_text).expect("a uuid is a header value"),
        );
        headers.insert(HeaderName::from_static("x-ggzy-key-id"), key_id.clone());
        headers.insert(
            HeaderName::from_static("x-ggzy-timestamp"),
            timestamp.into(),
        );
        headers.insert(
            HeaderName::from_static("x-ggzy-signature"),
            HeaderValue::try_from(signature).expect("hex is a header value"),
        );
        request
    }

    /// Why nothing can be sent with this key id (saving the channels refuses
    /// it; only a configuration written by other means gets here).
    fn bad_key_id(&self) -> String {
        format!(
            "{}：Key ID 含有请求头不能携带的字符，请在 设置 → 推送通道 中改正",
            self.name
        )
    }
}

/// The path part of a base URL, without a trailing slash.
fn url_path(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme
        .find('/')
        .map_or("", |i| after_scheme[i..].trim_end_matches('/'))
}

#[async_trait]
impl Sender for Gateway {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, m: &Outgoing) -> Outcome {
        #[derive(serde::Serialize)]
        struct Message<'a> {
            key: uuid::Uuid,
            to: &'a str,
            text: &'a str,
            clause: &'a str,
        }
        let body = serde_json::to_string(&Message {
            key: m.key,
            to: &m.address,
            text: &m.text,
            clause: &m.clause,
        })
        .expect("strings serialise");
        let Some(key_id) = &self.key_id else {
            return Outcome::Retry(self.bad_key_id());
        };
        let sent = match &self.post {
            Some((uri, path)) => {
                let request =
                    self.signed(http::Method::POST, (uri.clone(), path), body, key_id, m.key);
                self.http.send(request).await
            }
            None => Err(Failed::BadAddress),
        };
        let to = mask(&m.address);
        answer_outcome(&self.name, sent, |_, body| {
            #[derive(Deserialize)]
            struct Answer {
                #[serde(default)]
                status: Option<String>,
            }
            match serde_json::from_str::<Answer>(body)
                .ok()
                .and_then(|a| a.status)
            {
                Some(s) if s == "delivered" => {
                    Outcome::Delivered(format!("{}：已送达 {to}", self.name))
                }
                _ => Outcome::Accepted(format!("{}：已受理，发往 {to}", self.name)),
            }
        })
    }

    async fn ask(&self, m: &Outgoing) -> Asked {
        let Some(key_id) = &self.key_id else {
            return Asked::Failed(self.bad_key_id());
        };
        let asked = match Self::target(&self.url, &format!("/messages/{}", m.key)) {
            Some((uri, path)) => {
                let request = self.signed(
                    http::Method::GET,
                    (uri, &path),
                    String::new(),
                    key_id,
                    m.key,
                );
                self.http.send(request).await
            }
            None => Err(Failed::BadAddress),
        };
        let (status, body) = match asked {
            Ok(answer) => answer,
            Err(Failed::BadAddress) => return Asked::Failed(bad_address(&self.name)),
            Err(_) => return Asked::Failed(format!("{}：查询失败", self.name)),
        };
        match status.as_u16() {
            404 => Asked::NotReceived,
            200 => {
                #[derive(Deserialize)]
                struct State {
                    status: String,
                }
                match serde_json::from_slice::<State>(&body) {
                    Ok(s) if s.status == "delivered" => {
                        Asked::Known(Outcome::Delivered(format!("{}：查询确认已送达", self.name)))
                    }
                    Ok(s) if s.status == "failed" => Asked::Known(Outcome::Rejected(format!(
                        "{}：查询确认发送失败",
                        self.name
                    ))),
                    Ok(_) => {
                        Asked::Known(Outcome::Accepted(format!("{}：查询确认已受理", self.name)))
                    }
                    Err(_) => Asked::Failed(format!("{}：查询应答无法识别", self.name)),
                }
            }
            code => Asked::Failed(format!("{}：查询 HTTP {code}", self.name)),
        }
    }
}

/// Alibaba Cloud SMS (`dysmsapi`, version 2017-05-25): `SendSms` with the
/// push's key as `OutId`, signed per Alibaba Cloud's RPC signature (HMAC-SHA1
/// over the sorted, percent-encoded parameters). The whole message goes as
/// the template's `content` parameter: the center registers one template,
/// `${content}`, whose code is configured here.
pub struct Aliyun {
    pub name: String,
    /// `https://dysmsapi.aliyuncs.com/` in production.
    pub endpoint: String,
    pub access_key_id: String,
    pub access_key_secret: String,
    pub sign_name: String,
    pub template_code: String,
    pub http: Http,
}

/// Alibaba Cloud's percent-encoding: RFC 3986 unreserved characters kept.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn pct(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// Sign `params` (without `Signature`) for `method`; returns the signature.
pub fn aliyun_signature(method: &str, params: &BTreeMap<String, String>, secret: &str) -> String {
    let canonical: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect();
    let to_sign = format!("{method}&{}&{}", pct("/"), pct(&canonical.join("&")));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("any key length");
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliyunAnswer {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    biz_id: Option<String>,
}

impl Aliyun {
    async fn call(
        &self,
        action: &str,
        specific: &[(&str, String)],
    ) -> Result<(http::StatusCode, Bytes), Failed> {
        let mut params: BTreeMap<String, String> = [
            ("AccessKeyId", self.access_key_id.clone()),
            ("Action", action.to_owned()),
            ("Format", "JSON".to_owned()),
            ("RegionId", "cn-hangzhou".to_owned()),
            ("SignatureMethod", "HMAC-SHA1".to_owned()),
            ("SignatureNonce", uuid::Uuid::new_v4().to_string()),
            ("SignatureVersion", "1.0".to_owned()),
            (
                "Timestamp",
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ),
            ("Version", "2017-05-25".to_owned()),
        ]
        .into_iter()
        .chain(specific.iter().cloned())
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let signature = aliyun_signature("POST", &params, &self.access_key_secret);
        params.insert("Signature".into(), signature);
        let form = serde_urlencoded::to_string(&params).expect("string pairs encode");
        let request = http::Request::post(&self.endpoint).header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        );
        self.http.send(with_body(request, form)?).await
    }
}

#[async_trait]
impl Sender for Aliyun {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, m: &Outgoing) -> Outcome {
        let sent = self
            .call(
                "SendSms",
                &[
                    ("PhoneNumbers", m.address.clone()),
                    ("SignName", self.sign_name.clone()),
                    ("TemplateCode", self.template_code.clone()),
                    ("TemplateParam", json!({ "content": m.text }).to_string()),
                    ("OutId", m.key.to_string()),
                ],
            )
            .await;
        let to = mask(&m.address);
        let name = &self.name;
        answer_outcome(name, sent, |_, body| {
            match serde_json::from_str::<AliyunAnswer>(body) {
                Ok(a) if a.code == "OK" => Outcome::Accepted(format!(
                    "{name}：已受理，发往 {to}（回执号 {}）",
                    a.biz_id.unwrap_or_default()
                )),
                // Flow control and the provider's own trouble pass; the rest is about this message.
                Ok(a) if a.code.contains("LIMIT_CONTROL") || a.code.starts_with("isp.") => {
                    Outcome::Retry(format!("{name}：{} {}", a.code, a.message))
                }
                Ok(a) => Outcome::Rejected(format!("{name}：{} {}", a.code, a.message)),
                Err(_) => Outcome::Unknown(format!("{name}：应答无法识别 {}", short(body))),
            }
        })
    }

    /// `QuerySendDetails` for the number, today and yesterday (an answer
    /// lost just before midnight), looking for our `OutId`.
    async fn ask(&self, m: &Outgoing) -> Asked {
        let today = chrono::Local::now();
        for day in [today, today - chrono::Duration::days(1)] {
            match self.sent_on(m, &day.format("%Y%m%d").to_string()).await {
                Asked::NotReceived => continue,
                known_or_failed => return known_or_failed,
            }
        }
        Asked::NotReceived
    }
}

impl Aliyun {
    async fn sent_on(&self, m: &Outgoing, day: &str) -> Asked {
        let answer = self
            .call(
                "QuerySendDetails",
                &[
                    ("PhoneNumber", m.address.clone()),
                    ("SendDate", day.to_owned()),
                    ("PageSize", "50".into()),
                    ("CurrentPage", "1".into()),
                ],
            )
            .await;
        let Ok((_, body)) = answer else {
            return Asked::Failed(format!("{}：查询失败", self.name));
        };
        let Ok(body) = serde_json::from_slice::<serde_json::Value>(&body) else {
            return Asked::Failed(format!("{}：查询应答无法识别", self.name));
        };
        if body["Code"] != "OK" {
            return Asked::Failed(format!("{}：查询 {}", self.name, body["Code"]));
        }
        let key = m.key.to_string();
        let found = body["SmsSendDetailDTOs"]["SmsSendDetailDTO"]
            .as_array()
            .and_then(|all| all.iter().find(|d| d["OutId"] == key.as_str()).cloned());
        match found {
            None => Asked::NotReceived,
            // SendStatus: 1 waiting for the receipt, 2 failed, 3 delivered.
            Some(d) => Asked::Known(match d["SendStatus"].as_i64() {
                Some(3) => Outcome::Delivered(format!("{}：查询确认已送达", self.name)),
                Some(2) => {
                    Outcome::Rejected(format!("{}：查询确认发送失败 {}", self.name, d["ErrCode"]))
                }
                _ => Outcome::Accepted(format!("{}：查询确认已受理", self.name)),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The gateway's documented example and Alibaba Cloud's, with their
    /// known answers (`ggzy_providers::verify::examples`).
    #[test]
    fn each_provider_signs_its_documented_example() {
        use ggzy_providers::verify::examples;
        let [secret, ts, method, path, body, signature] = examples::GATEWAY;
        assert_eq!(gateway_signature(secret, ts, method, path, body), signature);
        let (method, params, secret, signature) = examples::aliyun();
        assert_eq!(aliyun_signature(method, &params, secret), signature);
    }

    #[test]
    fn a_base_url_keeps_its_path() {
        assert_eq!(url_path("http://127.0.0.1:9/sms/"), "/sms");
        assert_eq!(url_path("http://127.0.0.1:9"), "");
    }
}
