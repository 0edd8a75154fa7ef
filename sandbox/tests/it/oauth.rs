//! Intuit and Zoho OAuth servers over real HTTP: consent pages, code exchange, refresh rotation
//! and its 24 h grace, Zoho's non-rotating refresh tokens and 20-token cap, revoke, discovery.

use crate::common;

use chrono::Duration;
use common::Harness;
use reqwest::header::LOCATION;
use serde_json::Value;

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// The hidden inputs of the consent page's form, unescaped.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|chunk| {
            let name = chunk.split("name=\"").nth(1)?.split('"').next()?;
            let value = chunk.split("value=\"").nth(1)?.split('"').next()?;
            let unescape = |s: &str| {
                s.replace("&quot;", "\"")
                    .replace("&#39;", "'")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&")
            };
            Some((unescape(name), unescape(value)))
        })
        .collect()
}

fn query_param(location: &str, key: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| {
            v.replace("%3A", ":")
                .replace("%2F", "/")
                .replace("%2E", ".")
        })
    })
}

/// Loads the consent page like a browser, clicks the button, and returns the redirect location.
async fn consent(h: &Harness, authorize_url: &str, decision: &str) -> String {
    let page = h.http.get(authorize_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("id=\"approve\""),
        "the page has a button to click"
    );
    let action = html
        .split("action=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let base = authorize_url
        .split("/connect")
        .next()
        .unwrap()
        .split("/oauth")
        .next()
        .unwrap();
    let mut form = hidden_fields(&html);
    form.push(("decision".to_owned(), decision.to_owned()));
    let response = h
        .http
        .post(format!("{base}{action}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

async fn intuit_token(h: &Harness, form: &[(&str, &str)]) -> (u16, Value) {
    let url = format!("{}/oauth2/v1/tokens/bearer", h.sandbox.urls().intuit_oauth);
    let response = h
        .http
        .post(url)
        .basic_auth("sandbox-intuit-client", Some("sandbox-intuit-secret"))
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap();
    common::split(response).await
}

#[tokio::test]
async fn intuit_code_flow_refresh_rotation_grace_and_revoke() {
    let h = Harness::start(1).await;
    let urls = h.sandbox.urls();
    let authorize = format!(
        "{}/connect/oauth2?client_id=sandbox-intuit-client&response_type=code&scope=com.intuit.quickbooks.accounting%20openid&redirect_uri={}&state=xyz",
        urls.intuit_oauth,
        REDIRECT.replace(':', "%3A").replace('/', "%2F")
    );
    let location = consent(&h, &authorize, "allow").await;
    assert!(location.starts_with(REDIRECT));
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
    assert_eq!(
        query_param(&location, "realmId").as_deref(),
        Some(h.realm.as_str())
    );
    let code = query_param(&location, "code").unwrap();

    let (status, tokens) = intuit_token(
        &h,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["x_refresh_token_expires_in"], 8_726_400);
    let id_token = tokens["id_token"]
        .as_str()
        .expect("openid scope adds an id_token");
    assert_id_token_verifies(&h, id_token).await;
    let (status, replay) = intuit_token(
        &h,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(
        (status, replay["error"].as_str()),
        (400, Some("invalid_grant")),
        "codes are single use"
    );

    let access = tokens["access_token"].as_str().unwrap();
    let userinfo: Value = h
        .http
        .get(format!("{}/v1/openid_connect/userinfo", urls.intuit_oauth))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        userinfo["email"].is_string(),
        "openid tokens read userinfo: {userinfo}"
    );
    let api = h
        .http
        .get(h.qbo("preferences"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.status(),
        200,
        "the issued token works on the QBO API for the consented realm"
    );

    let first_refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (_, rotated) = intuit_token(
        &h,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first_refresh),
        ],
    )
    .await;
    let second_refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(
        first_refresh, second_refresh,
        "refresh rotates the refresh token"
    );
    h.clock.advance(Duration::hours(23));
    let (status, _) = intuit_token(
        &h,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first_refresh),
        ],
    )
    .await;
    assert_eq!(status, 200, "the superseded token still works within 24 h");
    h.clock.advance(Duration::hours(2));
    let (status, dead) = intuit_token(
        &h,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first_refresh),
        ],
    )
    .await;
    assert_eq!(
        (status, dead["error"].as_str()),
        (400, Some("invalid_grant")),
        "and dies after 24 h"
    );

    let response = h
        .http
        .post(format!("{}/oauth2/v1/tokens/bearer", urls.intuit_oauth))
        .basic_auth("sandbox-intuit-client", Some("sandbox-intuit-secret"))
        .header("x-include-refresh-token-hard-expires-in", "true")
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", second_refresh.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let (status, latest) = common::split(response).await;
    assert_eq!(status, 200, "{latest}");
    assert!(latest["x_refresh_token_hard_expires_in"].as_i64().unwrap() > 150_000_000);

    let revoke = h
        .http
        .post(format!("{}/v2/oauth2/tokens/revoke", urls.intuit_oauth))
        .basic_auth("sandbox-intuit-client", Some("sandbox-intuit-secret"))
        .json(&serde_json::json!({"token": latest["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    let (status, _) = intuit_token(
        &h,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", latest["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 400);
    let api = h
        .http
        .get(h.qbo("preferences"))
        .bearer_auth(latest["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401, "revoking ends the whole grant");
}

#[tokio::test]
async fn intuit_rejects_bad_clients_refusals_and_serves_discovery() {
    let h = Harness::start(0).await;
    let urls = h.sandbox.urls();
    let response = h
        .http
        .post(format!("{}/oauth2/v1/tokens/bearer", urls.intuit_oauth))
        .basic_auth("sandbox-intuit-client", Some("wrong"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    let (status, body) = common::split(response).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let authorize = format!(
        "{}/connect/oauth2?client_id=sandbox-intuit-client&response_type=code&scope=com.intuit.quickbooks.accounting&redirect_uri={REDIRECT}&state=s1",
        urls.intuit_oauth
    );
    let location = consent(&h, &authorize, "deny").await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied")
    );
    let discovery: Value = h
        .http
        .get(format!(
            "{}/.well-known/openid_sandbox_configuration/",
            urls.intuit_oauth
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["token_endpoint"],
        format!("{}/oauth2/v1/tokens/bearer", urls.intuit_oauth)
    );
    assert_eq!(discovery["response_types_supported"][0], "code");
}

async fn zoho_token(h: &Harness, form: &[(&str, &str)]) -> Value {
    let url = format!("{}/oauth/v2/token", h.sandbox.urls().zoho_accounts);
    let mut full: Vec<(&str, &str)> = vec![
        ("client_id", "1000.SANDBOXZOHOCLIENT"),
        ("client_secret", "sandbox-zoho-secret"),
    ];
    full.extend_from_slice(form);
    let response = h.http.post(url).form(&full).send().await.unwrap();
    assert_eq!(
        response.status(),
        200,
        "Zoho answers token calls with HTTP 200, errors included"
    );
    response.json().await.unwrap()
}

async fn zoho_grant(h: &Harness) -> Value {
    let authorize = format!(
        "{}/oauth/v2/auth?scope=ZohoCRM.modules.ALL,ZohoCRM.settings.ALL&client_id=1000.SANDBOXZOHOCLIENT&response_type=code&access_type=offline&prompt=consent&redirect_uri={REDIRECT}&state=st",
        h.sandbox.urls().zoho_accounts
    );
    let location = consent(h, &authorize, "allow").await;
    assert_eq!(
        query_param(&location, "accounts-server").as_deref(),
        Some(h.sandbox.urls().zoho_accounts.as_str())
    );
    assert_eq!(query_param(&location, "location").as_deref(), Some("us"));
    let code = query_param(&location, "code").unwrap();
    zoho_token(
        h,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await
}

#[tokio::test]
async fn zoho_code_flow_refresh_without_rotation_and_revoke() {
    let h = Harness::start(1).await;
    let tokens = zoho_grant(&h).await;
    assert_eq!(tokens["api_domain"], h.sandbox.urls().zoho_api.as_str());
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let api = h
        .http
        .get(format!(
            "{}/crm/v8/Accounts?fields=Account_Name",
            tokens["api_domain"].as_str().unwrap()
        ))
        .header(
            "authorization",
            format!(
                "Zoho-oauthtoken {}",
                tokens["access_token"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);

    let refreshed = zoho_token(
        &h,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert!(refreshed["access_token"].is_string());
    assert!(
        refreshed.get("refresh_token").is_none(),
        "Zoho refresh tokens do not rotate"
    );
    for _ in 0..8 {
        zoho_token(
            &h,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
    }
    let limited = zoho_token(
        &h,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        limited["error"], "Access Denied",
        "10 access tokens per refresh token per 10 minutes"
    );
    h.clock.advance(Duration::minutes(11));
    assert!(
        zoho_token(
            &h,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]
        )
        .await["access_token"]
            .is_string()
    );

    let revoke = h
        .http
        .post(format!(
            "{}/oauth/v2/token/revoke?token={refresh}",
            h.sandbox.urls().zoho_accounts
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    let after = zoho_token(
        &h,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(after["error"], "invalid_code");
}

#[tokio::test]
async fn the_twenty_first_zoho_refresh_token_revokes_the_oldest() {
    let h = Harness::start(0).await;
    let first = zoho_grant(&h).await;
    let oldest = first["refresh_token"].as_str().unwrap().to_owned();
    let oldest_access = first["access_token"].as_str().unwrap().to_owned();
    let mut latest = Value::Null;
    for _ in 0..20 {
        latest = zoho_grant(&h).await;
    }
    let dead = zoho_token(
        &h,
        &[("grant_type", "refresh_token"), ("refresh_token", &oldest)],
    )
    .await;
    assert_eq!(dead["error"], "invalid_code");
    let api = h
        .http
        .get(h.zoho("Accounts?fields=Account_Name"))
        .header("authorization", format!("Zoho-oauthtoken {oldest_access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.status(),
        401,
        "the evicted token's access tokens die with it"
    );
    let alive = zoho_token(
        &h,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", latest["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert!(alive["access_token"].is_string());
    let wrong = zoho_token(
        &h,
        &[
            ("grant_type", "authorization_code"),
            ("code", "nope"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(wrong["error"], "invalid_code");
}

#[tokio::test]
async fn auto_consent_redirects_without_a_page() {
    let h = Harness::with(|c| c.auto_consent = true).await;
    let response = h
        .http
        .get(format!("{}/connect/oauth2?client_id=sandbox-intuit-client&response_type=code&scope=com.intuit.quickbooks.accounting&redirect_uri={REDIRECT}&state=auto", h.sandbox.urls().intuit_oauth))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(query_param(&location, "state").as_deref(), Some("auto"));
    assert!(query_param(&location, "code").is_some());
    let response = h
        .http
        .get(format!("{}/oauth/v2/auth?scope=ZohoCRM.modules.ALL&client_id=1000.SANDBOXZOHOCLIENT&response_type=code&access_type=offline&redirect_uri={REDIRECT}&state=z", h.sandbox.urls().zoho_accounts))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert!(
        h.sandbox
            .urls()
            .to_string()
            .contains(&h.sandbox.urls().qbo_api)
    );
}

/// GETs a consent page; returns its HTML after the sanity check.
async fn consent_html(h: &Harness, authorize_url: &str) -> String {
    let page = h.http.get(authorize_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    common::assert_sane_html(&html);
    html
}

#[tokio::test]
async fn the_intuit_consent_page_names_the_app_the_company_and_the_scopes_in_plain_words() {
    let h = Harness::start(1).await;
    let authorize = format!(
        "{}/connect/oauth2?client_id=sandbox-intuit-client&response_type=code&scope=com.intuit.quickbooks.accounting%20openid&redirect_uri={}&state=s%26t",
        h.sandbox.urls().intuit_oauth,
        REDIRECT.replace(':', "%3A").replace('/', "%2F")
    );
    let html = consent_html(&h, &authorize).await;
    let text = common::page_text(&html);
    for expected in [
        "Intuit",
        "Simulated Intuit sign-in (sandbox)",
        "Connect to QuickBooks Online",
        "zqsync is asking for access",
        "QuickBooks company Sandbox Company 9341453050298464",
        "QuickBooks Online Plus · Company ID 9341453050298464",
        "zqsync will be able to:",
        "Read and change your QuickBooks accounting data: customers, vendors, products and services, invoices",
        "com.intuit.quickbooks.accounting",
        "Confirm who you are (your Intuit user id) openid",
        "Either way you go back to 127.0.0.1:9",
        "Deny Accept",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    // The form carries the request through, escaped (state is `s&t`).
    assert!(html.contains("<input type=\"hidden\" name=\"state\" value=\"s&amp;t\">"));

    // Accept and Deny work as before.
    let accepted = consent(&h, &authorize, "allow").await;
    assert!(accepted.starts_with(REDIRECT), "{accepted}");
    assert!(query_param(&accepted, "code").is_some());
    assert_eq!(
        query_param(&accepted, "realmId").as_deref(),
        Some("9341453050298464")
    );
    assert_eq!(query_param(&accepted, "state").as_deref(), Some("s%26t"));
    let denied = consent(&h, &authorize, "deny").await;
    assert_eq!(
        query_param(&denied, "error").as_deref(),
        Some("access_denied")
    );
    assert!(query_param(&denied, "code").is_none());
}

#[tokio::test]
async fn the_zoho_consent_page_names_the_org_and_the_scopes_in_plain_words() {
    let h = Harness::with(|c| {
        c.records_per_module = 0;
        c.zoho_location = "eu".to_owned();
        c.app_name = "Acme Sync".to_owned();
    })
    .await;
    let authorize = format!(
        "{}/oauth/v2/auth?scope=ZohoCRM.modules.ALL,ZohoCRM.settings.fields.READ,ZohoCRM.settings.modules.READ,ZohoCRM.users.READ,ZohoCRM.org.READ&client_id=1000.SANDBOXZOHOCLIENT&response_type=code&access_type=offline&prompt=consent&redirect_uri={REDIRECT}&state=st",
        h.sandbox.urls().zoho_accounts
    );
    let html = consent_html(&h, &authorize).await;
    let text = common::page_text(&html);
    for expected in [
        "Zoho Accounts",
        "Simulated Zoho Accounts (sandbox)",
        "Allow access to your Zoho CRM data",
        "Acme Sync is asking for access",
        "Zoho CRM organization Sandbox Org",
        "Zoho CRM Professional edition · EU data centre",
        "View, create, edit and delete records in every CRM module ZohoCRM.modules.ALL",
        "View the fields of each module ZohoCRM.settings.fields.READ",
        "View the list of modules ZohoCRM.settings.modules.READ",
        "View the CRM's users ZohoCRM.users.READ",
        "View your organization's details ZohoCRM.org.READ",
        "Signed in as Sandbox Admin (admin@sandbox.example)",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    let accepted = consent(&h, &authorize, "allow").await;
    assert!(query_param(&accepted, "code").is_some(), "{accepted}");
    assert_eq!(query_param(&accepted, "location").as_deref(), Some("eu"));
    let denied = consent(&h, &authorize, "deny").await;
    assert_eq!(
        query_param(&denied, "error").as_deref(),
        Some("access_denied")
    );
}

/// Checks an id_token as an OpenID client does: RS256 signature against the discovery's
/// `jwks_uri` key named by `kid`, issuer, audience (an array) and realm.
async fn assert_id_token_verifies(h: &Harness, id_token: &str) {
    use base64::Engine;
    let b64 = |part: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .expect("base64url")
    };
    let base = h.sandbox.urls().intuit_oauth;
    let discovery: Value = h
        .http
        .get(format!("{base}/.well-known/openid_configuration/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwks: Value = h
        .http
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let parts: Vec<&str> = id_token.split('.').collect();
    assert_eq!(parts.len(), 3, "{id_token}");
    let header: Value = serde_json::from_slice(&b64(parts[0])).unwrap();
    let claims: Value = serde_json::from_slice(&b64(parts[1])).unwrap();
    assert_eq!(header["alg"], "RS256");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the kid is in the JWKS");
    let public = ring::signature::RsaPublicKeyComponents {
        n: b64(key["n"].as_str().unwrap()),
        e: b64(key["e"].as_str().unwrap()),
    };
    public
        .verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &b64(parts[2]),
        )
        .expect("the signature verifies");
    assert_eq!(claims["iss"], discovery["issuer"]);
    assert_eq!(claims["aud"], serde_json::json!(["sandbox-intuit-client"]));
    assert_eq!(claims["realmid"], h.realm.as_str());
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
}
