//! Shared helpers for the sandbox integration tests: a started sandbox on a manual clock, HTTP
//! clients, fixture loading and the structural comparison used by the contract tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use sandbox::{ManualClock, Sandbox, SandboxConfig};
use serde_json::Value;

pub struct Harness {
    pub sandbox: Sandbox,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
    pub realm: String,
}

impl Harness {
    pub async fn start(records: usize) -> Harness {
        Self::with(|c| c.records_per_module = records).await
    }

    pub async fn with(adjust: impl FnOnce(&mut SandboxConfig)) -> Harness {
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 5, 5, 9, 0, 0)
                .single()
                .expect("valid start time"),
        ));
        let mut config = SandboxConfig {
            clock: clock.clone(),
            records_per_module: 5,
            ..SandboxConfig::default()
        };
        adjust(&mut config);
        let realm = config.realm_id.clone();
        let sandbox = Sandbox::start(config).await.expect("sandbox starts");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Harness {
            sandbox,
            clock,
            http,
            realm,
        }
    }

    pub fn qbo(&self, path: &str) -> String {
        format!(
            "{}/v3/company/{}/{path}",
            self.sandbox.urls().qbo_api,
            self.realm
        )
    }

    pub fn zoho(&self, path: &str) -> String {
        format!("{}/crm/v8/{path}", self.sandbox.urls().zoho_api)
    }

    pub fn stripe(&self, path: &str) -> String {
        format!("{}/v1/{path}", self.sandbox.urls().stripe_api)
    }

    pub fn qbo_token(&self) -> String {
        self.sandbox.mint_qbo_access_token(&self.realm)
    }

    pub fn zoho_token(&self) -> String {
        self.sandbox.mint_zoho_access_token()
    }

    /// GET/POST against QBO with a fresh token; returns (status, JSON body).
    pub async fn qbo_get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(self.qbo(path))
            .bearer_auth(self.qbo_token())
            .header("accept", "application/json")
            .send()
            .await
            .expect("qbo get");
        split(response).await
    }

    pub async fn qbo_post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.qbo(path))
            .bearer_auth(self.qbo_token())
            .json(body)
            .send()
            .await
            .expect("qbo post");
        split(response).await
    }

    pub async fn qbo_query(&self, statement: &str) -> (u16, Value) {
        let response = self
            .http
            .get(self.qbo("query"))
            .query(&[("query", statement), ("minorversion", "75")])
            .bearer_auth(self.qbo_token())
            .send()
            .await
            .expect("qbo query");
        split(response).await
    }

    pub async fn zoho_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.zoho(path)).header(
            "authorization",
            format!("Zoho-oauthtoken {}", self.zoho_token()),
        );
        if let Some(body) = body {
            request = request.json(body);
        }
        split(request.send().await.expect("zoho call")).await
    }

    pub async fn stripe_post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .http
            .post(self.stripe(path))
            .bearer_auth("sk_test_sandbox")
            .form(form)
            .send()
            .await
            .expect("stripe post");
        split(response).await
    }

    pub async fn stripe_get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(self.stripe(path))
            .bearer_auth("sk_test_sandbox")
            .send()
            .await
            .expect("stripe get");
        split(response).await
    }
}

/// Status and body; an empty body reads as `Value::Null`.
pub async fn split(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Structural comparison: every key the real payload has must exist in ours with the same JSON type,
/// recursively. Extra keys in ours are fine (clients must ignore unknown fields). `null` on either
/// side matches any type, because these APIs return `null` for "not set" on the same key.
/// Arrays compare element by element up to the shorter length, and a non-empty real array must not
/// be empty in ours. `ignore` lists dotted paths (`Customer.V4IDPseudonym`, `data[].Tag`) that are
/// documented deviations. Returns every mismatch so one run shows the whole diff.
pub fn shape_diff(expected: &Value, actual: &Value, ignore: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    walk(expected, actual, "", ignore, &mut problems);
    problems
}

fn walk(expected: &Value, actual: &Value, path: &str, ignore: &[&str], problems: &mut Vec<String>) {
    if ignore.contains(&path) || expected.is_null() || actual.is_null() {
        return;
    }
    if kind(expected) != kind(actual) {
        problems.push(format!(
            "{path}: expected {} got {}",
            kind(expected),
            kind(actual)
        ));
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if ignore.contains(&child.as_str()) {
                    continue;
                }
                match a.get(key) {
                    Some(other) => walk(value, other, &child, ignore, problems),
                    None => problems.push(format!("{child}: missing")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if !e.is_empty() && a.is_empty() {
                problems.push(format!("{path}: expected a non-empty array"));
            }
            let child = format!("{path}[]");
            for (x, y) in e.iter().zip(a) {
                walk(x, y, &child, ignore, problems);
            }
        }
        _ => {}
    }
}

pub fn assert_shape(name: &str, expected: &Value, actual: &Value, ignore: &[&str]) {
    let problems = shape_diff(expected, actual, ignore);
    assert!(
        problems.is_empty(),
        "{name}: sandbox answer differs from the fixture:\n  {}\nactual: {actual}",
        problems.join("\n  ")
    );
}
