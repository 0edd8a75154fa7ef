//! Small helpers shared by the simulators.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub fn random_token(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

pub fn random_digits(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// HMAC-SHA256 (RFC 2104), written out because it is a dozen lines and avoids a digest-version clash.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block_key.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block_key.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The strings of a JSON array (other items skipped); `None` when `value` is not an array.
pub fn strings(value: &Value) -> Option<Vec<String>> {
    value.as_array().map(|items| {
        items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    })
}

/// Rounds an amount to cents, as both services compute totals.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The simulated companies/orgs keep Pacific time, as the recorded QBO payloads do.
pub fn pacific() -> FixedOffset {
    FixedOffset::west_opt(7 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()))
}

/// `2026-05-05T03:11:46-07:00`: entity timestamps (second precision, company offset).
pub fn qbo_timestamp(at: DateTime<Utc>) -> String {
    at.with_timezone(&pacific())
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// `2026-05-05T02:20:27.769-07:00`: the envelope's `time` member.
pub fn qbo_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&pacific())
        .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

/// A JSON object from owned values. (`json!` serializes the values it is given into new ones,
/// a deep copy of a page of records.)
pub fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
    )
}

pub fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            "application/json;charset=UTF-8",
        )],
        body.to_string(),
    )
        .into_response()
}

/// A JSON answer already serialized (a cached `requestid` answer).
pub fn json_bytes_response(status: StatusCode, body: Bytes) -> Response {
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            "application/json;charset=UTF-8",
        )],
        body,
    )
        .into_response()
}

pub fn html_response(body: String) -> Response {
    (
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

pub fn redirect(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(axum::http::header::LOCATION, location.to_owned())],
    )
        .into_response()
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub fn bearer(headers: &HeaderMap, scheme: &str) -> Option<String> {
    let value = header(headers, "authorization")?;
    let (given, token) = value.split_once(' ')?;
    given
        .eq_ignore_ascii_case(scheme)
        .then(|| token.trim().to_owned())
}

/// Decodes `application/x-www-form-urlencoded` (also used for query strings).
pub fn parse_form(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub fn form_value(form: &[(String, String)], key: &str) -> Option<String> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

pub fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }

            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn percent_encode(input: &str) -> String {
    input
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn html_escape(input: &str) -> String {
    input
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Turns Stripe-style bracket keys (`items[0][price]=x`) into nested JSON; numeric segments make arrays.
pub fn nest_form(form: &[(String, String)]) -> Value {
    let mut root = Value::Object(Map::new());
    for (key, value) in form {
        let mut path: Vec<String> = Vec::new();
        let (head, rest) = key
            .split_once('[')
            .map_or((key.as_str(), ""), |(h, r)| (h, r));
        path.push(head.to_owned());
        for segment in rest.split('[') {
            let segment = segment.trim_end_matches(']');
            if !segment.is_empty() || !rest.is_empty() {
                path.push(segment.to_owned());
            }
        }
        insert_path(&mut root, &path, Value::String(value.clone()));
    }
    root
}

fn insert_path(node: &mut Value, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let is_index = |s: &str| s.is_empty() || s.chars().all(|c| c.is_ascii_digit());
    if let Value::Array(items) = node {
        let index = if first.is_empty() {
            items.len()
        } else {
            first.parse::<usize>().unwrap_or(items.len())
        };
        while items.len() <= index {
            items.push(Value::Null);
        }
        descend(&mut items[index], rest, value, is_index);
        return;
    }
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    if let Value::Object(map) = node {
        let slot = map.entry(first.clone()).or_insert(Value::Null);
        descend(slot, rest, value, is_index);
    }
}

fn descend(slot: &mut Value, rest: &[String], value: Value, is_index: impl Fn(&str) -> bool) {
    if rest.is_empty() {
        *slot = value;
        return;
    }
    if slot.is_null() {
        *slot = if is_index(&rest[0]) {
            Value::Array(Vec::new())
        } else {
            Value::Object(Map::new())
        };
    }
    insert_path(slot, rest, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_the_stripe_reference_vector() {
        let body = r#"{"id":"evt_test","object":"event","type":"invoice.paid"}"#;
        let mac = hmac_sha256(
            b"whsec_test_secret",
            format!("1700000000.{body}").as_bytes(),
        );
        assert_eq!(
            hex(&mac),
            "02b5890a3376a18a176fde670ba47bc920bc30c6ae0deb7adf58049a4ead9aff"
        );
    }

    #[test]
    fn intuit_signature_matches_the_reference_vector() {
        use base64::Engine;
        let body = r#"{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[{"name":"Customer","id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"}]}}]}"#;
        let mac = hmac_sha256(b"test-verifier-token", body.as_bytes());
        assert_eq!(
            base64::engine::general_purpose::STANDARD.encode(mac),
            "l6ZO3g7mE6kQFjdwnQJ5OjuFt15A2/bDvuCwbJ5cr7A="
        );
    }

    #[test]
    fn bracket_form_nests() {
        let form = parse_form(
            "items[0][price]=price_1&items[0][quantity]=2&metadata[tenant_id]=t%201&mode=setup",
        );
        let nested = nest_form(&form);
        assert_eq!(nested["items"][0]["price"], "price_1");
        assert_eq!(nested["items"][0]["quantity"], "2");
        assert_eq!(nested["metadata"]["tenant_id"], "t 1");
        assert_eq!(nested["mode"], "setup");
    }
}
