//! The OAuth flows' token calls through the `oauth2` crate and our HTTP client, against a
//! one-off server that answers what each test queues and records what it was sent: Zoho's
//! errors in HTTP 200 answers, the providers' extra token fields, the requests' shape, and our
//! retries of a failing token endpoint.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use engine::connectors::oauth::OAuthApp;
use engine::connectors::{
    ConnectorConfig, ConnectorError, Connectors, Endpoints, IntuitOAuth, ResilienceConfig,
    ZohoOAuth,
};
use serde_json::{Value, json};

#[derive(Debug, Clone)]
struct Sent {
    /// Method and path.
    line: String,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Sent {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn form(&self) -> Vec<(String, String)> {
        oauth2::url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }

    fn field(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

#[derive(Default)]
struct Script {
    /// Answers in order; the last one repeats.
    answers: VecDeque<(u16, String)>,
    sent: Vec<Sent>,
}

struct TokenServer {
    script: Arc<Mutex<Script>>,
    url: String,
    connectors: Connectors,
}

impl TokenServer {
    async fn start(max_retries: usize) -> TokenServer {
        let script = Arc::new(Mutex::new(Script::default()));
        let state = script.clone();
        let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
            let state = state.clone();
            async move {
                let (parts, body) = request.into_parts();
                let body = axum::body::to_bytes(body, 1 << 20).await.expect("body");
                let mut script = state.lock().expect("lock");
                script.sent.push(Sent {
                    line: format!("{} {}", parts.method, parts.uri.path()),
                    headers: parts.headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                let (status, answer) = if script.answers.len() > 1 {
                    script.answers.pop_front()
                } else {
                    script.answers.front().cloned()
                }
                .unwrap_or((500, String::new()));
                axum::response::Response::builder()
                    .status(status)
                    .header("content-type", "application/json;charset=UTF-8")
                    .body(axum::body::Body::from(answer))
                    .expect("response")
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let connectors = Connectors::new(ConnectorConfig {
            endpoints: Endpoints::sandbox(&url, &url, &url, &url),
            resilience: ResilienceConfig {
                max_retries,
                min_backoff: Duration::from_millis(5),
                max_backoff: Duration::from_millis(10),
                timeout: Duration::from_secs(5),
                ..ResilienceConfig::default()
            },
        })
        .expect("connectors");
        TokenServer {
            script,
            url,
            connectors,
        }
    }

    fn answer(&self, answers: &[(u16, Value)]) {
        let mut script = self.script.lock().expect("lock");
        script.answers = answers
            .iter()
            .map(|(status, body)| (*status, body.to_string()))
            .collect();
        script.sent.clear();
    }

    fn sent(&self) -> Vec<Sent> {
        self.script.lock().expect("lock").sent.clone()
    }

    fn last(&self) -> Sent {
        self.sent().pop().expect("a request")
    }

    fn app() -> OAuthApp {
        OAuthApp {
            client_id: "1000.CLIENT".to_owned(),
            client_secret: "s3cret".to_owned(),
            redirect_uri: "http://localhost/cb".to_owned(),
        }
    }

    fn zoho(&self) -> ZohoOAuth {
        ZohoOAuth::new(&self.connectors, Self::app())
    }

    fn intuit(&self) -> IntuitOAuth {
        IntuitOAuth::new(&self.connectors, Self::app())
    }
}

const REFUSED_SETTINGS: &str =
    "zqsync's connection settings were refused by the sign-in service. Please contact support.";

#[tokio::test]
async fn zoho_errors_in_http_200_answers_become_our_errors() {
    let s = TokenServer::start(0).await;
    let zoho = s.zoho();

    // A used or expired code.
    s.answer(&[(200, json!({"error": "invalid_code"}))]);
    let error = zoho
        .exchange_code(&s.url, "1000.code")
        .await
        .expect_err("invalid_code");
    assert!(
        matches!(error, ConnectorError::NeedsReconnect { .. }),
        "{error:?}"
    );
    assert_eq!(error.remote().status, Some(200));
    assert_eq!(error.remote().code.as_deref(), Some("invalid_code"));
    assert!(error.plain_message().contains("Reconnect Zoho CRM"));
    let sent = s.last();
    assert_eq!(sent.line, "POST /oauth/v2/token");
    assert_eq!(
        sent.field("grant_type").as_deref(),
        Some("authorization_code")
    );
    assert_eq!(sent.field("code").as_deref(), Some("1000.code"));
    assert_eq!(sent.field("client_id").as_deref(), Some("1000.CLIENT"));
    assert_eq!(sent.field("client_secret").as_deref(), Some("s3cret"));
    assert_eq!(
        sent.field("redirect_uri").as_deref(),
        Some("http://localhost/cb")
    );
    assert_eq!(
        sent.header("authorization"),
        None,
        "Zoho: credentials in the body"
    );

    // Too many access tokens for one refresh token: throttled, not dead.
    s.answer(&[(
        200,
        json!({"error_description": "You have made too many requests continuously. Please try again after some time.",
               "error": "Access Denied", "status": "failure"}),
    )]);
    let error = zoho
        .refresh(&s.url, "1000.refresh")
        .await
        .expect_err("Access Denied");
    match &error {
        ConnectorError::RateLimited { retry_after, .. } => {
            assert_eq!(*retry_after, Duration::from_secs(60));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(error.remote().code.as_deref(), Some("Access Denied"));
    assert!(error.raw_message().contains("too many requests"));
    let sent = s.last();
    assert_eq!(sent.field("grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(sent.field("refresh_token").as_deref(), Some("1000.refresh"));
    assert_eq!(sent.field("redirect_uri"), None);

    // Our credentials refused: support's business, not the customer's.
    s.answer(&[(200, json!({"error": "invalid_client"}))]);
    let error = zoho
        .refresh(&s.url, "1000.refresh")
        .await
        .expect_err("invalid_client");
    assert!(
        matches!(error, ConnectorError::Unexpected { .. }),
        "{error:?}"
    );
    assert_eq!(error.plain_message(), REFUSED_SETTINGS);
    assert_eq!(error.raw_message(), "invalid_client: ");

    // A 200 that is neither a token nor an error.
    s.answer(&[(200, json!({"status": "success"}))]);
    let error = zoho
        .refresh(&s.url, "1000.refresh")
        .await
        .expect_err("no token");
    assert!(
        matches!(error, ConnectorError::Unexpected { .. }),
        "{error:?}"
    );
    assert_eq!(error.raw_message(), "token answer without access_token");

    // Revoking: Zoho says no in a 200 too.
    s.answer(&[(200, json!({"error": "invalid_token"}))]);
    let error = zoho
        .revoke(&s.url, "1000.refresh")
        .await
        .expect_err("invalid_token");
    assert!(
        matches!(error, ConnectorError::NeedsReconnect { .. }),
        "{error:?}"
    );
    let sent = s.last();
    assert_eq!(sent.line, "POST /oauth/v2/token/revoke");
    assert_eq!(sent.field("token").as_deref(), Some("1000.refresh"));
    s.answer(&[(200, json!({"status": "success"}))]);
    zoho.revoke(&s.url, "1000.refresh").await.expect("revoked");
}

#[tokio::test]
async fn token_answers_keep_the_providers_extra_fields() {
    let s = TokenServer::start(0).await;
    let zoho = s.zoho();

    s.answer(&[(
        200,
        json!({"access_token": "1000.access", "refresh_token": "1000.refresh", "api_domain": s.url,
               "token_type": "Bearer", "expires_in": 3600}),
    )]);
    let (dc, tokens) = zoho
        .exchange_code(&s.url, "1000.code")
        .await
        .expect("tokens");
    assert_eq!(dc.location, "us");
    assert_eq!(tokens.api_domain.as_deref(), Some(s.url.as_str()));
    assert_eq!(tokens.access_token.secret(), "1000.access");
    assert_eq!(
        tokens.refresh_token.as_ref().map(|t| t.secret().as_str()),
        Some("1000.refresh")
    );
    assert_eq!(tokens.expires_in_secs, 3600);
    assert!(!format!("{tokens:?}").contains("1000."), "{tokens:?}");

    // Zoho's older answer: `expires_in` in milliseconds next to `expires_in_sec`, and no
    // api_domain (the data centre's is kept).
    s.answer(&[(
        200,
        json!({"access_token": "1000.access2", "token_type": "Bearer", "expires_in": 3_600_000, "expires_in_sec": 3600}),
    )]);
    let tokens = zoho.refresh(&s.url, "1000.refresh").await.expect("tokens");
    assert_eq!(tokens.expires_in_secs, 3600);
    assert_eq!(tokens.api_domain.as_deref(), Some(s.url.as_str()));
    assert!(tokens.refresh_token.is_none(), "Zoho does not rotate");

    // An api_domain of another data centre is refused.
    s.answer(&[(
        200,
        json!({"access_token": "1000.access3", "token_type": "Bearer", "expires_in": 3600,
               "api_domain": "https://www.zohoapis.evil.example"}),
    )]);
    let error = zoho
        .refresh(&s.url, "1000.refresh")
        .await
        .expect_err("foreign api_domain");
    assert!(
        matches!(error, ConnectorError::Unexpected { .. }),
        "{error:?}"
    );

    // Intuit: the rolling and the absolute refresh-token lifetimes, the latter asked for in a
    // header; credentials in a Basic header.
    let intuit = s.intuit();
    s.answer(&[(
        200,
        serde_json::from_str(include_str!(
            "../../../sandbox/tests/fixtures/qbo/intuit_oauth__token_response_hard_expiry.json"
        ))
        .expect("fixture"),
    )]);
    let tokens = intuit.exchange_code("AB1code", None).await.expect("tokens");
    assert_eq!(tokens.refresh_expires_in_secs, Some(8_726_400));
    assert_eq!(tokens.refresh_hard_expires_in_secs, Some(156_032_154));
    assert_eq!(tokens.expires_in_secs, 3600);
    assert_eq!(
        tokens.refresh_token.as_ref().map(|t| t.secret().as_str()),
        Some("RT1-39-H3-1785429816rcysb9dns1ofreknypnm")
    );
    let sent = s.last();
    assert_eq!(sent.line, "POST /oauth2/v1/tokens/bearer");
    assert_eq!(
        sent.header("x-include-refresh-token-hard-expires-in"),
        Some("true")
    );
    assert_eq!(sent.header("accept"), Some("application/json"));
    let basic = sent
        .header("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .expect("Basic credentials");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic)
        .expect("base64");
    assert_eq!(decoded, b"1000.CLIENT:s3cret");
    assert_eq!(sent.field("client_secret"), None);
    assert_eq!(
        sent.field("grant_type").as_deref(),
        Some("authorization_code")
    );
    assert_eq!(sent.field("code").as_deref(), Some("AB1code"));
    assert_eq!(
        sent.field("redirect_uri").as_deref(),
        Some("http://localhost/cb")
    );

    // Intuit always hands out a refresh token; an answer without one is not used.
    s.answer(&[(
        200,
        json!({"access_token": "eyJ.a", "token_type": "bearer", "expires_in": 3600}),
    )]);
    let error = intuit.refresh("RT1-x").await.expect_err("no refresh token");
    assert_eq!(error.raw_message(), "token answer without refresh_token");

    // An error answer that is not JSON keeps its status.
    s.answer(&[(400, Value::String("<html>".to_owned()))]);
    let error = intuit.refresh("RT1-x").await.expect_err("400");
    assert!(
        matches!(error, ConnectorError::Unexpected { .. }),
        "{error:?}"
    );
    assert_eq!(error.remote().status, Some(400));
    assert_eq!(error.remote().code.as_deref(), Some("unknown"));

    // Revoking at Intuit: a JSON body with the Basic header.
    s.answer(&[(200, json!({}))]);
    intuit.revoke("RT1-x").await.expect("revoked");
    let sent = s.last();
    assert_eq!(sent.line, "POST /v2/oauth2/tokens/revoke");
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert!(
        sent.header("authorization")
            .is_some_and(|h| h.starts_with("Basic "))
    );
    let body: Value = serde_json::from_str(&sent.body).expect("JSON body");
    assert_eq!(body, json!({"token": "RT1-x"}));
}

#[tokio::test]
async fn a_failing_token_endpoint_is_retried_and_a_refusal_is_not() {
    let s = TokenServer::start(2).await;
    let intuit = s.intuit();
    s.answer(&[
        (503, json!({})),
        (502, json!({})),
        (
            200,
            json!({"access_token": "eyJ.a", "refresh_token": "RT1-y", "token_type": "bearer", "expires_in": 3600}),
        ),
    ]);
    let tokens = intuit.refresh("RT1-x").await.expect("third time lucky");
    assert_eq!(tokens.access_token.secret(), "eyJ.a");
    assert_eq!(s.sent().len(), 3);

    s.answer(&[(503, json!({}))]);
    let error = intuit.refresh("RT1-x").await.expect_err("down");
    assert!(
        matches!(error, ConnectorError::Transient { .. }),
        "{error:?}"
    );
    assert_eq!(error.remote().status, Some(503));
    assert_eq!(s.sent().len(), 3, "the first try and two retries");

    s.answer(&[(
        400,
        json!({"error": "invalid_grant", "error_description": "Token invalid"}),
    )]);
    let error = intuit.refresh("RT1-x").await.expect_err("invalid_grant");
    assert!(
        matches!(error, ConnectorError::NeedsReconnect { .. }),
        "{error:?}"
    );
    assert_eq!(error.remote().status, Some(400));
    assert_eq!(error.raw_message(), "invalid_grant: Token invalid");
    assert_eq!(s.sent().len(), 1, "a refused grant is final");

    s.answer(&[(429, json!({}))]);
    let error = intuit.refresh("RT1-x").await.expect_err("throttled");
    assert!(
        matches!(error, ConnectorError::RateLimited { .. }),
        "{error:?}"
    );
}
