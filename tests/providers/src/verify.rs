//! How each provider checks a request's signature, written here from the
//! providers' documentation with other libraries (ring's HMAC, data-encoding)
//! than the dispatcher signs with: a signing bug in the dispatcher cannot
//! pass both sides. Each has a known answer from the provider's own example.

use data_encoding::{BASE64, HEXLOWER};
use ring::hmac;
use std::collections::BTreeMap;

fn mac(algorithm: hmac::Algorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(algorithm, key), message)
        .as_ref()
        .to_vec()
}

/// The generic gateway (docs/operations.md): lowercase hex of
/// HMAC-SHA256(secret, `"{ts}\n{METHOD}\n{path}\n{body}"`).
pub fn gateway(secret: &str, timestamp: &str, method: &str, path: &str, body: &str) -> String {
    let message = format!("{timestamp}\n{method}\n{path}\n{body}");
    HEXLOWER.encode(&mac(
        hmac::HMAC_SHA256,
        secret.as_bytes(),
        message.as_bytes(),
    ))
}

/// DingTalk's custom robot (加签): Base64 of HMAC-SHA256(secret,
/// `"{timestamp_ms}\n{secret}"`), before the URL's percent-encoding.
pub fn dingtalk(secret: &str, timestamp_ms: i64) -> String {
    let message = format!("{timestamp_ms}\n{secret}");
    BASE64.encode(&mac(
        hmac::HMAC_SHA256,
        secret.as_bytes(),
        message.as_bytes(),
    ))
}

/// Alibaba Cloud's RPC signature: parameters sorted, each name and value
/// percent-encoded (RFC 3986: only `A-Za-z0-9-_.~` kept), joined with `&`,
/// the whole encoded again into `METHOD&%2F&…`, HMAC-SHA1 keyed with
/// `secret&`, Base64.
pub fn aliyun(method: &str, params: &BTreeMap<String, String>, secret: &str) -> String {
    fn encode(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let to_sign = format!("{method}&{}&{}", encode("/"), encode(&query.join("&")));
    let key = format!("{secret}&");
    BASE64.encode(&mac(
        hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        key.as_bytes(),
        to_sign.as_bytes(),
    ))
}

/// The providers' documented examples with their known answers: the
/// dispatcher's signing and these checks are both held to them.
pub mod examples {
    use std::collections::BTreeMap;

    /// The gateway's (docs/operations.md): secret, timestamp, method, path,
    /// body, and the signature (computed with Python's `hmac`).
    pub const GATEWAY: [&str; 6] = [
        "gateway-secret",
        "1764900000",
        "POST",
        "/sms/messages",
        r#"{"key":"018f3c9e-0000-7000-8000-000000000001","to":"13800000001","text":"【临海中心】您好","clause":"4.2"}"#,
        "d5f6e4502fbaa8115e463204db199524d53839a079fa61cf88ef4fde5557c901",
    ];

    /// DingTalk's documented sample code (HMAC-SHA256 over
    /// `"{timestamp}\n{secret}"`, Base64) for these inputs: secret,
    /// timestamp in ms, signature.
    pub const DINGTALK: (&str, i64, &str) = (
        "SEC-this-is-secret",
        1_700_000_000_000,
        "wdjB5br8ZaMHKoYKHS/BR/iq+TpXDYdScVhMlxAttg4=",
    );

    /// Alibaba Cloud's documented RPC signature example ("签名示例"):
    /// method, the `DescribeRegions` request, AccessKeySecret, signature.
    pub fn aliyun() -> (
        &'static str,
        BTreeMap<String, String>,
        &'static str,
        &'static str,
    ) {
        let params = [
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        ("GET", params, "testsecret", "OLeaidS1JvxuMvnyHOwuJ+uX5qY=")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_answers_its_documented_example() {
        let [secret, ts, method, path, body, signature] = examples::GATEWAY;
        assert_eq!(gateway(secret, ts, method, path, body), signature);
        let (secret, ts, signature) = examples::DINGTALK;
        assert_eq!(dingtalk(secret, ts), signature);
        let (method, params, secret, signature) = examples::aliyun();
        assert_eq!(aliyun(method, &params, secret), signature);
    }
}
