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

/// Elements that have no end tag.
const VOID_ELEMENTS: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param",
];

/// One start tag: its name and attributes (values unescaped only as far as the checks need).
#[derive(Debug)]
pub struct Tag {
    pub name: String,
    pub attributes: Vec<(String, String)>,
}

impl Tag {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn parse_attributes(text: &str, context: &str) -> Vec<(String, String)> {
    let mut attributes = Vec::new();
    let mut rest = text.trim().trim_end_matches('/').trim();
    while !rest.is_empty() {
        let name_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "a bad attribute name in <{context}>: {rest:?}"
        );
        rest = rest[name_end..].trim_start();
        let value = if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let Some(quoted) = after.strip_prefix('"') else {
                panic!("attribute {name} of <{context}> is not double-quoted: {after:?}");
            };
            let end = quoted
                .find('"')
                .unwrap_or_else(|| panic!("attribute {name} of <{context}> never ends"));
            let value = &quoted[..end];
            assert!(
                !value.contains('<'),
                "a raw < in attribute {name} of <{context}>"
            );
            rest = quoted[end + 1..].trim_start();
            value.to_owned()
        } else {
            String::new()
        };
        assert!(
            attributes.iter().all(|(k, _)| *k != name),
            "attribute {name} twice in <{context}>"
        );
        attributes.push((name, value));
    }
    attributes
}

/// A sanity check of a page the sandbox serves to browsers; returns its start tags.
///
/// * `<!doctype html>`, `<html lang>`, `<meta charset="utf-8">`, a viewport, one non-empty `<title>`,
///   one `<h1>`;
/// * every element closed in order (void elements excepted), nothing after `</html>`;
/// * attributes double-quoted, none twice, ids unique, every `for` names an id;
/// * text and attribute values escaped (no stray `<` or `>`; `&` only as an entity);
/// * no script at all (`<script>`, `on…=` handlers, `javascript:`), so the page works without
///   JavaScript, and no external asset (`src`, stylesheet links, `url(` to another host);
/// * every form posts to a path on the same host; every visible input has a label; every button
///   has a type and a text.
pub fn assert_sane_html(html: &str) -> Vec<Tag> {
    let lower = html.to_ascii_lowercase();
    assert!(
        lower.starts_with("<!doctype html>"),
        "no doctype: {}",
        &html[..html.len().min(80)]
    );
    let mut tags: Vec<Tag> = Vec::new();
    let mut open: Vec<String> = Vec::new();
    let mut texts: Vec<(String, String)> = Vec::new(); // (innermost open element, text)
    let mut rest = &html["<!doctype html>".len()..];
    let mut closed_html = false;
    while !rest.is_empty() {
        let Some(start) = rest.find('<') else {
            texts.push((open.last().cloned().unwrap_or_default(), rest.to_owned()));
            break;
        };
        if start > 0 {
            texts.push((
                open.last().cloned().unwrap_or_default(),
                rest[..start].to_owned(),
            ));
        }
        rest = &rest[start..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            let end = comment.find("-->").expect("a comment ends");
            rest = &comment[end + 3..];
            continue;
        }
        let end = rest.find('>').expect("a tag ends");
        let inside = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = inside.strip_prefix('/') {
            let name = name.trim().to_ascii_lowercase();
            let expected = open.pop();
            assert_eq!(
                expected.as_deref(),
                Some(name.as_str()),
                "</{name}> closes {expected:?}; open: {open:?}"
            );
            if name == "html" {
                closed_html = true;
            }
            continue;
        }
        assert!(!closed_html, "content after </html>: <{inside}>");
        let name_end = inside
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(inside.len());
        let name = inside[..name_end].to_ascii_lowercase();
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
            "a bad tag: <{inside}>"
        );
        let attributes = parse_attributes(&inside[name_end..], &name);
        if name == "style" {
            let close = rest.find("</style>").expect("the style element ends");
            let css = &rest[..close];
            for hint in ["url(http", "url(//", "@import"] {
                assert!(!css.contains(hint), "an external asset in the CSS: {hint}");
            }
            rest = &rest[close + "</style>".len()..];
        } else if !VOID_ELEMENTS.contains(&name.as_str()) {
            open.push(name.clone());
        }
        tags.push(Tag { name, attributes });
    }
    assert!(open.is_empty(), "never closed: {open:?}");
    assert!(closed_html, "no </html>");

    for (parent, text) in &texts {
        assert!(
            !text.contains('>'),
            "a raw > in the text of <{parent}>: {text:?}"
        );
        for (index, _) in text.match_indices('&') {
            let entity = &text[index..];
            let ok = entity.find(';').is_some_and(|end| {
                end > 1
                    && end < 10
                    && entity[1..end]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '#')
            });
            assert!(ok, "a raw & in the text of <{parent}>: {text:?}");
        }
    }
    let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"html"), "the page starts with <html>");
    let html_tag = &tags[0];
    assert!(
        html_tag.attribute("lang").is_some_and(|l| !l.is_empty()),
        "<html> has a lang"
    );
    assert!(
        tags.iter()
            .any(|t| t.name == "meta" && t.attribute("charset") == Some("utf-8")),
        "a utf-8 charset"
    );
    assert!(
        tags.iter()
            .any(|t| t.name == "meta" && t.attribute("name") == Some("viewport")),
        "a viewport"
    );
    assert_eq!(
        names.iter().filter(|n| **n == "title").count(),
        1,
        "one <title>"
    );
    assert!(
        texts
            .iter()
            .any(|(p, t)| p == "title" && !t.trim().is_empty()),
        "the title has a text"
    );
    assert_eq!(names.iter().filter(|n| **n == "h1").count(), 1, "one <h1>");
    assert!(!names.contains(&"script"), "no script");

    let mut ids = std::collections::HashSet::new();
    for tag in &tags {
        if let Some(id) = tag.attribute("id") {
            assert!(ids.insert(id.to_owned()), "id {id} twice");
        }
        for (name, value) in &tag.attributes {
            assert!(
                !name.starts_with("on"),
                "an event handler {name} on <{}>",
                tag.name
            );
            assert!(
                !value.to_ascii_lowercase().starts_with("javascript:"),
                "a javascript: URL on <{}>",
                tag.name
            );
            if name == "href" || name == "src" || name == "action" {
                assert!(
                    !value.contains('"') && !value.contains(' '),
                    "a bad URL {value:?} on <{}>",
                    tag.name
                );
            }
        }
        assert!(
            tag.attribute("src").is_none(),
            "no embedded asset: <{} src>",
            tag.name
        );
        if tag.name == "link" {
            let href = tag.attribute("href").unwrap_or_default();
            assert!(
                href.starts_with("data:"),
                "a <link> to an external asset: {href}"
            );
        }
        if tag.name == "form" {
            let action = tag.attribute("action").unwrap_or_default();
            assert!(
                action.starts_with('/'),
                "the form posts to this host: {action}"
            );
            assert_eq!(tag.attribute("method"), Some("post"), "forms post");
        }
        if tag.name == "button" {
            assert!(tag.attribute("type").is_some(), "a button has a type");
        }
    }
    for tag in tags.iter().filter(|t| t.name == "label") {
        if let Some(target) = tag.attribute("for") {
            assert!(ids.contains(target), "label for={target} names no id");
        }
    }
    for tag in tags
        .iter()
        .filter(|t| t.name == "input" && t.attribute("type") != Some("hidden"))
    {
        let id = tag.attribute("id").expect("a visible input has an id");
        assert!(
            tags.iter()
                .any(|t| t.name == "label" && t.attribute("for") == Some(id)),
            "input #{id} has a label"
        );
    }
    let buttons = names.iter().filter(|n| **n == "button").count();
    let labelled = texts
        .iter()
        .filter(|(p, t)| p == "button" && !t.trim().is_empty())
        .count();
    assert_eq!(buttons, labelled, "every button has a text");
    tags
}

/// The text of a page without its tags (entities decoded as far as tests need), with runs of
/// white space collapsed: what a reader sees, for `contains` checks.
pub fn page_text(html: &str) -> String {
    let body = html.split("</style>").last().unwrap_or(html);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
