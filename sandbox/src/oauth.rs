//! Zoho accounts and Intuit OAuth 2.0 servers: consent pages, code exchange, refresh (Intuit rotates
//! with a 24 h grace; Zoho never rotates but caps a client at 20 refresh tokens), revoke, discovery.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::pages::Page;
use crate::util::{
    form_value, header, html_escape, html_response, json_response, parse_form, percent_encode,
    random_digits, random_token, redirect,
};
use crate::{Service, Shared, lock};

const INTUIT_ACCESS_TTL_SECS: i64 = 3600;
const INTUIT_REFRESH_TTL_SECS: i64 = 8_726_400;
const INTUIT_ROTATION_GRACE_HOURS: i64 = 24;
const INTUIT_HARD_CAP_DAYS: i64 = 5 * 365;
const ZOHO_ACCESS_TTL_SECS: i64 = 3600;
const ZOHO_MAX_REFRESH_TOKENS: usize = 20;
const ZOHO_MAX_ACTIVE_ACCESS: usize = 15;
const ZOHO_MAX_ACCESS_PER_WINDOW: usize = 10;

#[derive(Debug)]
struct AuthCode {
    client_id: String,
    redirect_uri: String,
    realm_id: String,
    scope: String,
    offline: bool,
    expires_at: DateTime<Utc>,
}

#[derive(Debug)]
struct IntuitGrant {
    realm_id: String,
    created: DateTime<Utc>,
    revoked: bool,
    scope: String,
}

#[derive(Debug)]
struct IntuitAccess {
    grant: u64,
    expires_at: DateTime<Utc>,
}

#[derive(Debug)]
struct IntuitRefresh {
    grant: u64,
    expires_at: DateTime<Utc>,
    /// When a newer refresh token replaced this one; it keeps working for the grace period.
    superseded_at: Option<DateTime<Utc>>,
}

#[derive(Debug)]
struct ZohoAccess {
    refresh: Option<String>,
    /// Granted scopes (comma-separated as Zoho writes them); `None` = minted by the control API, all scopes.
    scope: Option<String>,
    issued: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

#[derive(Debug)]
struct ZohoRefresh {
    token: String,
    scope: String,
    client_id: String,
    mints: Vec<DateTime<Utc>>,
}

/// Why an API call's token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Expired,
    Invalid,
}

#[derive(Debug, Default)]
pub struct Store {
    intuit_codes: HashMap<String, AuthCode>,
    intuit_grants: HashMap<u64, IntuitGrant>,
    intuit_access: HashMap<String, IntuitAccess>,
    intuit_refresh: HashMap<String, IntuitRefresh>,
    next_grant: u64,
    zoho_codes: HashMap<String, AuthCode>,
    zoho_access: HashMap<String, ZohoAccess>,
    /// Oldest first, so the 21st token for a client evicts the front.
    zoho_refresh: Vec<ZohoRefresh>,
}

impl Store {
    fn new_intuit_grant(&mut self, realm_id: &str, scope: &str, now: DateTime<Utc>) -> u64 {
        self.next_grant += 1;
        let grant = IntuitGrant {
            realm_id: realm_id.to_owned(),
            created: now,
            revoked: false,
            scope: scope.to_owned(),
        };
        self.intuit_grants.insert(self.next_grant, grant);
        self.next_grant
    }

    fn intuit_access_for(&mut self, grant: u64, now: DateTime<Utc>) -> String {
        let token = format!(
            "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..{}",
            random_token(160)
        );
        self.intuit_access.insert(
            token.clone(),
            IntuitAccess {
                grant,
                expires_at: now + Duration::seconds(INTUIT_ACCESS_TTL_SECS),
            },
        );
        token
    }

    fn intuit_refresh_for(&mut self, grant: u64, now: DateTime<Utc>) -> String {
        let token = format!(
            "RT1-{}-H0-{}{}",
            random_digits(2),
            now.timestamp(),
            random_token(20).to_lowercase()
        );
        let refresh = IntuitRefresh {
            grant,
            expires_at: now + Duration::seconds(INTUIT_REFRESH_TTL_SECS),
            superseded_at: None,
        };
        self.intuit_refresh.insert(token.clone(), refresh);
        token
    }

    pub fn mint_intuit_access(&mut self, realm_id: &str, now: DateTime<Utc>) -> String {
        let grant = self.new_intuit_grant(realm_id, "com.intuit.quickbooks.accounting", now);
        self.intuit_access_for(grant, now)
    }

    /// The realm the token is bound to, if it is current.
    pub fn check_intuit_access(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<String, TokenProblem> {
        let access = self.intuit_access.get(token).ok_or(TokenProblem::Invalid)?;
        let grant = self
            .intuit_grants
            .get(&access.grant)
            .ok_or(TokenProblem::Invalid)?;
        if grant.revoked {
            return Err(TokenProblem::Invalid);
        }
        if now >= access.expires_at {
            return Err(TokenProblem::Expired);
        }
        Ok(grant.realm_id.clone())
    }

    pub fn mint_zoho_access(&mut self, now: DateTime<Utc>) -> String {
        self.mint_zoho_scoped(now, None)
    }

    fn mint_zoho_scoped(&mut self, now: DateTime<Utc>, scope: Option<String>) -> String {
        let token = zoho_token();
        self.zoho_access.insert(
            token.clone(),
            ZohoAccess {
                refresh: None,
                scope,
                issued: now,
                expires_at: now + Duration::seconds(ZOHO_ACCESS_TTL_SECS),
            },
        );
        token
    }

    /// The token's scopes (`None` = unrestricted) if it is current.
    pub fn check_zoho_access(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, TokenProblem> {
        let access = self.zoho_access.get(token).ok_or(TokenProblem::Invalid)?;
        if now >= access.expires_at {
            Err(TokenProblem::Expired)
        } else {
            Ok(access.scope.clone())
        }
    }

    pub fn expire_access_tokens(&mut self, service: Service, now: DateTime<Utc>) {
        let past = now - Duration::seconds(1);
        match service {
            Service::QboApi | Service::IntuitOauth => self
                .intuit_access
                .values_mut()
                .for_each(|a| a.expires_at = past),
            _ => self
                .zoho_access
                .values_mut()
                .for_each(|a| a.expires_at = past),
        }
    }

    pub fn revoke_all(&mut self, service: Service) {
        match service {
            Service::QboApi | Service::IntuitOauth => self
                .intuit_grants
                .values_mut()
                .for_each(|g| g.revoked = true),
            _ => {
                self.zoho_access.clear();
                self.zoho_refresh.clear();
            }
        }
    }

    fn zoho_issue_access(
        &mut self,
        refresh: &str,
        now: DateTime<Utc>,
    ) -> Result<String, &'static str> {
        let Some(entry) = self.zoho_refresh.iter_mut().find(|r| r.token == refresh) else {
            return Err("invalid_code");
        };
        entry.mints.retain(|t| now - *t < Duration::minutes(10));
        if entry.mints.len() >= ZOHO_MAX_ACCESS_PER_WINDOW {
            return Err("Access Denied");
        }
        entry.mints.push(now);
        let scope = entry.scope.clone();
        let mut active: Vec<(String, DateTime<Utc>)> = self
            .zoho_access
            .iter()
            .filter(|(_, a)| a.refresh.as_deref() == Some(refresh) && a.expires_at > now)
            .map(|(t, a)| (t.clone(), a.issued))
            .collect();
        active.sort_by_key(|(_, issued)| *issued);
        // The 16th active access token invalidates the oldest.
        while active.len() >= ZOHO_MAX_ACTIVE_ACCESS {
            let (oldest, _) = active.remove(0);
            self.zoho_access.remove(&oldest);
        }
        let token = zoho_token();
        let access = ZohoAccess {
            refresh: Some(refresh.to_owned()),
            scope: Some(scope),
            issued: now,
            expires_at: now + Duration::seconds(ZOHO_ACCESS_TTL_SECS),
        };
        self.zoho_access.insert(token.clone(), access);
        Ok(token)
    }

    fn zoho_revoke_refresh(&mut self, refresh: &str) -> bool {
        let before = self.zoho_refresh.len();
        self.zoho_refresh.retain(|r| r.token != refresh);
        self.zoho_access
            .retain(|_, a| a.refresh.as_deref() != Some(refresh));
        before != self.zoho_refresh.len()
    }
}

fn zoho_token() -> String {
    format!(
        "1000.{}.{}",
        random_token(32).to_lowercase(),
        random_token(32).to_lowercase()
    )
}

fn query_form(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(parse_form).unwrap_or_default()
}

/// What a consent page asks for and on whose behalf.
struct Consent<'a> {
    /// The provider's product, in the top bar: "Intuit" / "Zoho Accounts".
    brand: &'a str,
    marker: &'a str,
    heading: String,
    /// What is being connected: ("QuickBooks company", "Sandbox Company 9341…").
    target: (&'a str, String),
    /// A line under the target (edition, data centre).
    target_detail: String,
    signed_in: &'a str,
    scopes: Vec<(String, String)>,
    action: &'a str,
}

const CONSENT_CSS: &str = r#"
main{max-width:560px}
.consent h1{font-size:1.35rem;margin-bottom:4px}
.consent .lead{margin:0 0 18px;color:var(--muted)}
.target{border:1px solid var(--border);border-radius:8px;background:var(--surface-muted);
padding:12px 14px;margin:0 0 18px}
.target dt{font-size:.8rem;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.target dd{margin:2px 0 0;font-weight:620;font-size:1.02rem}
.target dd.detail{font-weight:400;font-size:.86rem;color:var(--muted)}
.scopes{margin:8px 0 18px;padding:0;list-style:none;border-top:1px solid var(--border)}
.scopes li{padding:9px 0 9px 26px;border-bottom:1px solid var(--border);position:relative}
.scopes li::before{content:"✓";position:absolute;left:4px;color:var(--ok);font-weight:700}
.scopes code{display:block;color:var(--muted);font-size:.78rem;overflow-wrap:anywhere}
.who{font-size:.88rem;color:var(--muted);margin:0 0 6px}
.actions{display:flex;justify-content:flex-end;gap:10px;margin-top:20px}
"#;

fn consent_page(app: &str, consent: &Consent<'_>, fields: &[(String, String)]) -> Response {
    let hidden: String = fields
        .iter()
        .filter(|(k, _)| k != "decision")
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                html_escape(k),
                html_escape(v)
            )
        })
        .collect();
    let scopes: String = consent
        .scopes
        .iter()
        .map(|(plain, raw)| {
            format!(
                "<li>{}<code>{}</code></li>\n",
                html_escape(plain),
                html_escape(raw)
            )
        })
        .collect();
    let scopes = if scopes.is_empty() {
        "<li>No data beyond knowing that you said yes.</li>".to_owned()
    } else {
        scopes
    };
    let back_to = form_value(fields, "redirect_uri")
        .and_then(|uri| {
            let rest = uri.split_once("://")?.1;
            Some(rest.split(['/', '?', '#']).next()?.to_owned())
        })
        .filter(|host| !host.is_empty())
        .map(|host| {
            format!(
                "<p class=\"who\">Either way you go back to <strong>{}</strong>.</p>\n",
                html_escape(&host)
            )
        })
        .unwrap_or_default();
    let (target_label, target_name) = &consent.target;
    let main = format!(
        "<section class=\"card consent\">\n<h1>{heading}</h1>\n\
         <p class=\"lead\"><strong>{app}</strong> is asking for access. Only accept if you trust it.</p>\n\
         <dl class=\"target\"><dt>{target_label}</dt><dd id=\"consent-target\">{target_name}</dd>\
         <dd class=\"detail\">{target_detail}</dd></dl>\n\
         <h2 class=\"who\">{app} will be able to:</h2>\n<ul class=\"scopes\" id=\"consent-scopes\">\n{scopes}</ul>\n\
         <p class=\"who\">Signed in as {signed_in}.</p>\n{back_to}\
         <form method=\"post\" action=\"{action}\">\n{hidden}<div class=\"actions\">\
         <button type=\"submit\" class=\"button\" id=\"deny\" name=\"decision\" value=\"deny\">Deny</button>\
         <button type=\"submit\" class=\"button button-primary\" id=\"approve\" name=\"decision\" value=\"allow\">Accept</button>\
         </div>\n</form>\n</section>",
        heading = html_escape(&consent.heading),
        app = html_escape(app),
        target_label = html_escape(target_label),
        target_name = html_escape(target_name),
        target_detail = html_escape(&consent.target_detail),
        signed_in = html_escape(consent.signed_in),
        action = html_escape(consent.action),
    );
    Page {
        title: format!("{} · {} (sandbox)", consent.heading, consent.brand),
        brand: consent.brand,
        context: None,
        marker: consent.marker,
        css: CONSENT_CSS,
        main,
    }
    .respond(StatusCode::OK)
}

/// Intuit scopes in plain words, each with the scope itself.
fn intuit_scopes(scope: &str) -> Vec<(String, String)> {
    scope
        .split([' ', '+', ','])
        .filter(|s| !s.is_empty())
        .map(|raw| {
            let plain = match raw {
                "com.intuit.quickbooks.accounting" => {
                    "Read and change your QuickBooks accounting data: customers, vendors, products and services, invoices, estimates, purchase orders and other transactions"
                }
                "com.intuit.quickbooks.payment" => "Take payments with QuickBooks Payments",
                "openid" => "Confirm who you are (your Intuit user id)",
                "profile" => "See your name",
                "email" => "See your email address",
                "phone" => "See your phone number",
                "address" => "See your address",
                other => other,
            };
            (plain.to_owned(), raw.to_owned())
        })
        .collect()
}

/// Zoho scopes (`ZohoCRM.modules.ALL`, `ZohoCRM.settings.fields.READ`, …) in plain words.
fn zoho_scopes(scope: &str) -> Vec<(String, String)> {
    scope
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(|raw| {
            (
                zoho_scope_words(raw).unwrap_or_else(|| raw.to_owned()),
                raw.to_owned(),
            )
        })
        .collect()
}

fn zoho_scope_words(raw: &str) -> Option<String> {
    let parts: Vec<&str> = raw.split('.').collect();
    let (service, rest) = parts.split_first()?;
    if !service.eq_ignore_ascii_case("ZohoCRM") {
        return None;
    }
    let (operation, middle) = rest.split_last()?;
    let operation = operation.to_ascii_uppercase();
    let verbs = match operation.as_str() {
        "READ" => "View",
        "CREATE" => "Create",
        "UPDATE" => "Edit",
        "DELETE" => "Delete",
        "WRITE" => "Create and edit",
        "ALL" => "View, create, edit and delete",
        _ => return None,
    };
    let area = middle.first().map(|a| a.to_ascii_lowercase());
    let detail = middle.get(1).map(|d| d.to_ascii_lowercase());
    Some(match (area.as_deref(), detail.as_deref()) {
        (Some("modules"), None) => format!("{verbs} records in every CRM module"),
        (Some("modules"), Some(module)) => {
            let module = match module {
                "salesorders" | "sales_orders" => "Sales Orders",
                "purchaseorders" | "purchase_orders" => "Purchase Orders",
                "accounts" => "Accounts",
                "contacts" => "Contacts",
                "leads" => "Leads",
                "deals" => "Deals",
                "products" => "Products",
                "quotes" => "Quotes",
                "invoices" => "Invoices",
                "vendors" => "Vendors",
                other => other,
            };
            format!("{verbs} {module} records")
        }
        (Some("settings"), None) => format!("{verbs} the CRM's settings"),
        (Some("settings"), Some("fields")) => format!("{verbs} the fields of each module"),
        (Some("settings"), Some("modules")) => format!("{verbs} the list of modules"),
        (Some("settings"), Some("layouts")) => format!("{verbs} the layouts of each module"),
        (Some("settings"), Some(what)) => format!("{verbs} the CRM's {what} settings"),
        (Some("users"), _) => format!("{verbs} the CRM's users"),
        (Some("org"), _) => format!("{verbs} your organization's details"),
        (Some("coql"), _) => format!("{verbs} records with COQL queries"),
        (Some("notifications"), _) => format!("{verbs} notifications of record changes"),
        (Some("bulk"), _) => format!("{verbs} records in bulk"),
        (Some(other), _) => format!("{verbs} {other}"),
        (None, _) => return None,
    })
}

fn with_params(base: &str, params: &[(&str, &str)]) -> String {
    let joined: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}", joined.join("&"))
}

// ---------------------------------------------------------------- Intuit

pub fn intuit_router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/connect/oauth2", get(intuit_authorize))
        .route("/connect/oauth2/consent", post(intuit_consent))
        .route("/oauth2/v1/tokens/bearer", post(intuit_token))
        .route("/v2/oauth2/tokens/revoke", post(intuit_revoke))
        .route("/v1/openid_connect/userinfo", get(intuit_userinfo))
        .route("/op/v1/jwks", get(intuit_jwks))
        .route("/.well-known/openid_configuration", get(intuit_discovery))
        .route("/.well-known/openid_configuration/", get(intuit_discovery))
        .route(
            "/.well-known/openid_sandbox_configuration",
            get(intuit_discovery),
        )
        .route(
            "/.well-known/openid_sandbox_configuration/",
            get(intuit_discovery),
        )
        .route("/.well-known/openid-configuration", get(intuit_discovery))
}

async fn intuit_authorize(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let form = query_form(raw.as_deref());
    if form_value(&form, "client_id").as_deref() != Some(shared.config.intuit_client_id.as_str()) {
        return json_response(StatusCode::BAD_REQUEST, &json!({"error": "invalid_client"}));
    }
    if form_value(&form, "response_type").as_deref() != Some("code")
        || form_value(&form, "redirect_uri").is_none()
    {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_request"}),
        );
    }
    if shared.config.auto_consent {
        let mut form = form;
        form.push(("decision".to_owned(), "allow".to_owned()));
        return intuit_decide(&shared, &form);
    }
    let realm = shared.config.realm_id.clone();
    let (company, offering) = {
        let qbo = lock(&shared.qbo);
        let info = qbo.realms.get(&realm).map(|r| r.company_info.clone());
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let company = text(info.as_ref().map(|i| &i["CompanyName"]));
        let offering = info.as_ref().and_then(|i| {
            i["NameValue"]
                .as_array()?
                .iter()
                .find(|nv| nv["Name"] == "OfferingSku")
                .and_then(|nv| nv["Value"].as_str().map(str::to_owned))
        });
        (company, offering)
    };
    let scope = form_value(&form, "scope").unwrap_or_default();
    let consent = Consent {
        brand: "Intuit",
        marker: "Simulated Intuit sign-in (sandbox)",
        heading: "Connect to QuickBooks Online".to_owned(),
        target: (
            "QuickBooks company",
            company.unwrap_or_else(|| format!("Sandbox Company {realm}")),
        ),
        target_detail: format!(
            "{} · Company ID {realm}",
            offering.as_deref().unwrap_or("QuickBooks Online")
        ),
        signed_in: "Sandbox Owner (owner@sandbox.example)",
        scopes: intuit_scopes(&scope),
        action: "/connect/oauth2/consent",
    };
    consent_page(&shared.config.app_name, &consent, &form)
}

async fn intuit_consent(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    intuit_decide(&shared, &parse_form(&String::from_utf8_lossy(&body)))
}

/// What the consent page's buttons do: redirect back with a code (or `error=access_denied`).
fn intuit_decide(shared: &Shared, form: &[(String, String)]) -> Response {
    let form = form.to_vec();
    let redirect_uri = form_value(&form, "redirect_uri").unwrap_or_default();
    let state = form_value(&form, "state").unwrap_or_default();
    if form_value(&form, "decision").as_deref() != Some("allow") {
        return redirect(&with_params(
            &redirect_uri,
            &[("error", "access_denied"), ("state", &state)],
        ));
    }
    let code = format!("AB1{}", random_token(40));
    let realm_id = shared.config.realm_id.clone();
    let auth = AuthCode {
        client_id: form_value(&form, "client_id").unwrap_or_default(),
        redirect_uri: redirect_uri.clone(),
        realm_id: realm_id.clone(),
        scope: form_value(&form, "scope").unwrap_or_default(),
        offline: true,
        expires_at: shared.now() + Duration::minutes(10),
    };
    lock(&shared.oauth).intuit_codes.insert(code.clone(), auth);
    redirect(&with_params(
        &redirect_uri,
        &[("code", &code), ("state", &state), ("realmId", &realm_id)],
    ))
}

/// Client credentials from HTTP Basic or from the body (`client_secret_basic` / `client_secret_post`).
fn client_credentials(headers: &HeaderMap, form: &[(String, String)]) -> Option<(String, String)> {
    if let Some(basic) = header(headers, "authorization").and_then(|h| h.strip_prefix("Basic ")) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        return Some((id.to_owned(), secret.to_owned()));
    }
    Some((
        form_value(form, "client_id")?,
        form_value(form, "client_secret")?,
    ))
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({"error_description": description, "error": error}),
    )
}

async fn intuit_token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&String::from_utf8_lossy(&body));
    let config = &shared.config;
    match client_credentials(&headers, &form) {
        Some((id, secret))
            if id == config.intuit_client_id && secret == config.intuit_client_secret => {}
        _ => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed",
            );
        }
    }
    let now = shared.now();
    let hard_expiry = header(&headers, "x-include-refresh-token-hard-expires-in")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut store = lock(&shared.oauth);
    let grant = match form_value(&form, "grant_type").as_deref() {
        Some("authorization_code") => {
            let code = form_value(&form, "code").unwrap_or_default();
            // Codes are single use: remove before checking, so a replay fails too.
            let Some(auth) = store.intuit_codes.remove(&code) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Token invalid");
            };
            if auth.expires_at <= now || auth.client_id != config.intuit_client_id {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Token invalid");
            }
            if form_value(&form, "redirect_uri").as_deref() != Some(auth.redirect_uri.as_str()) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "redirect_uri mismatch",
                );
            }
            store.new_intuit_grant(&auth.realm_id, &auth.scope, now)
        }
        Some("refresh_token") => {
            let presented = form_value(&form, "refresh_token").unwrap_or_default();
            let Some(refresh) = store.intuit_refresh.get(&presented) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Token invalid");
            };
            let grant_id = refresh.grant;
            let in_grace = refresh
                .superseded_at
                .is_none_or(|at| now < at + Duration::hours(INTUIT_ROTATION_GRACE_HOURS));
            let grant = store.intuit_grants.get(&grant_id);
            let alive = grant.is_some_and(|g| {
                !g.revoked && now < g.created + Duration::days(INTUIT_HARD_CAP_DAYS)
            });
            if refresh.expires_at <= now || !in_grace || !alive {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Token invalid");
            }
            // Rotation: every live refresh token of the grant is superseded by the new one.
            for other in store
                .intuit_refresh
                .values_mut()
                .filter(|r| r.grant == grant_id)
            {
                other.superseded_at.get_or_insert(now);
            }
            grant_id
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Unsupported grant type",
            );
        }
    };
    let access = store.intuit_access_for(grant, now);
    let refresh = store.intuit_refresh_for(grant, now);
    let Some(grant_row) = store.intuit_grants.get(&grant) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Token invalid");
    };
    let mut body = json!({
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": INTUIT_ACCESS_TTL_SECS,
        "x_refresh_token_expires_in": INTUIT_REFRESH_TTL_SECS,
    });
    if grant_row.scope.split([' ', '+']).any(|s| s == "openid") {
        body["id_token"] = json!(intuit_id_token(
            &shared.urls.intuit_oauth,
            &config.intuit_client_id,
            &grant_row.realm_id,
            now
        ));
    }
    if hard_expiry {
        let left = (grant_row.created + Duration::days(INTUIT_HARD_CAP_DAYS) - now).num_seconds();
        body["x_refresh_token_hard_expires_in"] = json!(left);
    }
    json_response(StatusCode::OK, &body)
}

async fn intuit_revoke(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let config = &shared.config;
    match client_credentials(&headers, &[]) {
        Some((id, secret))
            if id == config.intuit_client_id && secret == config.intuit_client_secret => {}
        _ => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed",
            );
        }
    }
    let token = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["token"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut store = lock(&shared.oauth);
    let grant = store
        .intuit_refresh
        .get(&token)
        .map(|r| r.grant)
        .or_else(|| store.intuit_access.get(&token).map(|a| a.grant));
    match grant.and_then(|g| store.intuit_grants.get_mut(&g)) {
        Some(grant) => {
            grant.revoked = true;
            json_response(StatusCode::OK, &json!({}))
        }
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Token not found",
        ),
    }
}

/// OpenID userinfo for tokens granted with the `openid` scope.
async fn intuit_userinfo(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let now = shared.now();
    let store = lock(&shared.oauth);
    let grant = crate::util::bearer(&headers, "Bearer")
        .and_then(|token| {
            store
                .intuit_access
                .get(&token)
                .filter(|a| a.expires_at > now)
                .map(|a| a.grant)
        })
        .and_then(|grant| store.intuit_grants.get(&grant))
        .filter(|grant| !grant.revoked);
    match grant {
        Some(grant) if grant.scope.split([' ', '+']).any(|s| s == "openid") => json_response(
            StatusCode::OK,
            &json!({"sub": intuit_user_id(&grant.realm_id), "email": "owner@sandbox.example", "emailVerified": true,
                    "givenName": "Sandbox", "familyName": "Owner"}),
        ),
        Some(_) => json_response(
            StatusCode::FORBIDDEN,
            &json!({"error": "insufficient_scope"}),
        ),
        None => json_response(StatusCode::UNAUTHORIZED, &json!({"error": "invalid_token"})),
    }
}

/// The key the simulated Intuit signs id_tokens with (RS256, PKCS#8 DER). It was generated for
/// the simulator and is public on purpose: it guards nothing, and clients such as intuit-oauth
/// verify id_tokens against its public half at `/op/v1/jwks` as they do against Intuit's.
const ID_TOKEN_KEY_PKCS8: &[u8] = include_bytes!("intuit_id_token_key.pk8");
const ID_TOKEN_KEY_ID: &str = "sandbox-id-token-key-1";

fn id_token_key() -> &'static ring::signature::RsaKeyPair {
    static KEY: std::sync::OnceLock<ring::signature::RsaKeyPair> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        ring::signature::RsaKeyPair::from_pkcs8(ID_TOKEN_KEY_PKCS8)
            .expect("the embedded id_token key is an RSA PKCS#8 key")
    })
}

fn base64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An OpenID Connect id_token as Intuit issues it: a JWT signed RS256 with the claims the
/// discovery document lists (`aud` is an array; intuit-oauth reads `aud[0]`).
fn intuit_id_token(base: &str, client_id: &str, realm_id: &str, now: DateTime<Utc>) -> String {
    let header = json!({"kid": ID_TOKEN_KEY_ID, "alg": "RS256"});
    let claims = json!({
        "sub": intuit_user_id(realm_id), "aud": [client_id], "realmid": realm_id,
        "auth_time": now.timestamp(), "iss": format!("{base}/op/v1"),
        "exp": (now + Duration::seconds(INTUIT_ACCESS_TTL_SECS)).timestamp(), "iat": now.timestamp(),
    });
    let signing_input = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    );
    let key = id_token_key();
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .expect("RSA signing with a valid key");
    format!("{signing_input}.{}", base64url(&signature))
}

/// The signed-in person's id, the same in id_tokens and userinfo.
fn intuit_user_id(realm_id: &str) -> String {
    format!("sandbox-user-{realm_id}")
}

/// `GET /op/v1/jwks`: the public half of the id_token key, as the discovery's `jwks_uri`.
async fn intuit_jwks() -> Response {
    let public: ring::rsa::PublicKeyComponents<Vec<u8>> = id_token_key().public().into();
    json_response(
        StatusCode::OK,
        &json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": ID_TOKEN_KEY_ID,
            "n": base64url(&public.n), "e": base64url(&public.e),
        }]}),
    )
}

async fn intuit_discovery(State(shared): State<Arc<Shared>>) -> Response {
    let base = &shared.urls.intuit_oauth;
    json_response(
        StatusCode::OK,
        &json!({
            "issuer": format!("{base}/op/v1"),
            "authorization_endpoint": format!("{base}/connect/oauth2"),
            "token_endpoint": format!("{base}/oauth2/v1/tokens/bearer"),
            "userinfo_endpoint": format!("{base}/v1/openid_connect/userinfo"),
            "revocation_endpoint": format!("{base}/v2/oauth2/tokens/revoke"),
            "jwks_uri": format!("{base}/op/v1/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "address", "phone"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        }),
    )
}

// ---------------------------------------------------------------- Zoho accounts

pub fn zoho_router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/oauth/v2/auth", get(zoho_authorize))
        .route("/oauth/v2/auth/consent", post(zoho_consent))
        .route("/oauth/v2/token", post(zoho_token_endpoint))
        .route("/oauth/v2/token/revoke", post(zoho_revoke))
}

async fn zoho_authorize(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let form = query_form(raw.as_deref());
    if form_value(&form, "client_id").as_deref() != Some(shared.config.zoho_client_id.as_str()) {
        return html_response("<!doctype html><p>Invalid Client</p>".to_owned());
    }
    if shared.config.auto_consent {
        let mut form = form;
        form.push(("decision".to_owned(), "allow".to_owned()));
        return zoho_decide(&shared, &form);
    }
    let scope = form_value(&form, "scope").unwrap_or_default();
    let edition = match shared.config.zoho_edition {
        crate::ZohoEdition::Free => "Free",
        crate::ZohoEdition::Professional => "Professional",
    };
    let consent = Consent {
        brand: "Zoho Accounts",
        marker: "Simulated Zoho Accounts (sandbox)",
        heading: "Allow access to your Zoho CRM data".to_owned(),
        target: ("Zoho CRM organization", "Sandbox Org".to_owned()),
        target_detail: format!(
            "Zoho CRM {edition} edition · {} data centre",
            shared.config.zoho_location.to_uppercase()
        ),
        signed_in: "Sandbox Admin (admin@sandbox.example)",
        scopes: zoho_scopes(&scope),
        action: "/oauth/v2/auth/consent",
    };
    consent_page(&shared.config.app_name, &consent, &form)
}

async fn zoho_consent(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    zoho_decide(&shared, &parse_form(&String::from_utf8_lossy(&body)))
}

fn zoho_decide(shared: &Shared, form: &[(String, String)]) -> Response {
    let form = form.to_vec();
    let redirect_uri = form_value(&form, "redirect_uri").unwrap_or_default();
    let state = form_value(&form, "state").unwrap_or_default();
    let accounts_server = shared.urls.zoho_accounts.clone();
    if form_value(&form, "decision").as_deref() != Some("allow") {
        return redirect(&with_params(
            &redirect_uri,
            &[("error", "access_denied"), ("state", &state)],
        ));
    }
    let code = format!(
        "1000.{}.{}",
        random_token(32).to_lowercase(),
        random_token(32).to_lowercase()
    );
    let auth = AuthCode {
        client_id: form_value(&form, "client_id").unwrap_or_default(),
        redirect_uri: redirect_uri.clone(),
        realm_id: String::new(),
        scope: form_value(&form, "scope").unwrap_or_default(),
        offline: form_value(&form, "access_type").as_deref() == Some("offline"),
        expires_at: shared.now() + Duration::minutes(3),
    };
    lock(&shared.oauth).zoho_codes.insert(code.clone(), auth);
    redirect(&with_params(
        &redirect_uri,
        &[
            ("state", &state),
            ("code", &code),
            ("location", &shared.config.zoho_location),
            ("accounts-server", &accounts_server),
        ],
    ))
}

/// Zoho reports token errors as HTTP 200 bodies.
fn zoho_error(error: &str) -> Response {
    json_response(StatusCode::OK, &json!({"error": error}))
}

async fn zoho_token_endpoint(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    // Zoho accepts the parameters in the query string or the form body.
    let mut form = query_form(raw.as_deref());
    form.extend(parse_form(&String::from_utf8_lossy(&body)));
    let config = &shared.config;
    if form_value(&form, "client_id").as_deref() != Some(config.zoho_client_id.as_str())
        || form_value(&form, "client_secret").as_deref() != Some(config.zoho_client_secret.as_str())
    {
        return zoho_error("invalid_client");
    }
    let now = shared.now();
    let api_domain = shared.urls.zoho_api.clone();
    let mut store = lock(&shared.oauth);
    match form_value(&form, "grant_type").as_deref() {
        Some("authorization_code") => {
            let code = form_value(&form, "code").unwrap_or_default();
            let Some(auth) = store.zoho_codes.remove(&code) else {
                return zoho_error("invalid_code");
            };
            if auth.expires_at <= now
                || form_value(&form, "redirect_uri").as_deref() != Some(auth.redirect_uri.as_str())
            {
                return zoho_error("invalid_code");
            }
            let mut body = json!({"api_domain": api_domain, "token_type": "Bearer", "expires_in": ZOHO_ACCESS_TTL_SECS});
            let access = if auth.offline {
                let refresh = zoho_token();
                store.zoho_refresh.push(ZohoRefresh {
                    token: refresh.clone(),
                    scope: auth.scope,
                    client_id: config.zoho_client_id.clone(),
                    mints: Vec::new(),
                });
                // The 21st refresh token for a client silently deletes the oldest and its access tokens.
                let client_tokens: Vec<String> = store
                    .zoho_refresh
                    .iter()
                    .filter(|r| r.client_id == config.zoho_client_id)
                    .map(|r| r.token.clone())
                    .collect();
                if client_tokens.len() > ZOHO_MAX_REFRESH_TOKENS {
                    store.zoho_revoke_refresh(&client_tokens[0]);
                }
                body["refresh_token"] = json!(refresh);
                match store.zoho_issue_access(&refresh, now) {
                    Ok(token) => token,
                    Err(error) => return zoho_error(error),
                }
            } else {
                store.mint_zoho_scoped(now, Some(auth.scope))
            };
            body["access_token"] = json!(access);
            json_response(StatusCode::OK, &body)
        }
        Some("refresh_token") => {
            let refresh = form_value(&form, "refresh_token").unwrap_or_default();
            match store.zoho_issue_access(&refresh, now) {
                Ok(access) => json_response(
                    StatusCode::OK,
                    &json!({"access_token": access, "api_domain": api_domain, "token_type": "Bearer", "expires_in": ZOHO_ACCESS_TTL_SECS}),
                ),
                Err("Access Denied") => json_response(
                    StatusCode::OK,
                    &json!({"error_description": "You have made too many requests continuously. Please try again after some time.",
                            "error": "Access Denied", "status": "failure"}),
                ),
                Err(error) => zoho_error(error),
            }
        }
        _ => zoho_error("unsupported_grant_type"),
    }
}

async fn zoho_revoke(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let mut form = query_form(raw.as_deref());
    form.extend(parse_form(&String::from_utf8_lossy(&body)));
    let token = form_value(&form, "token").unwrap_or_default();
    if lock(&shared.oauth).zoho_revoke_refresh(&token) {
        json_response(StatusCode::OK, &json!({"status": "success"}))
    } else {
        json_response(StatusCode::OK, &json!({"error": "invalid_token"}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_read_as_plain_words() {
        let zoho = zoho_scopes(
            "ZohoCRM.modules.ALL,ZohoCRM.settings.fields.READ,ZohoCRM.modules.salesorders.READ,ZohoCRM.users.READ,Other.thing",
        );
        let words: Vec<&str> = zoho.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(
            words,
            [
                "View, create, edit and delete records in every CRM module",
                "View the fields of each module",
                "View Sales Orders records",
                "View the CRM's users",
                "Other.thing",
            ]
        );
        assert_eq!(zoho[0].1, "ZohoCRM.modules.ALL");
        let intuit = intuit_scopes("com.intuit.quickbooks.accounting openid");
        assert!(
            intuit[0]
                .0
                .starts_with("Read and change your QuickBooks accounting data")
        );
        assert_eq!(intuit[1].0, "Confirm who you are (your Intuit user id)");
    }
}
