//! OAuth 2.0 authorization-code flows for Zoho accounts and Intuit, on the `oauth2` crate.
//!
//! The crate builds the consent URLs (with `state` and, when asked, PKCE) and the token
//! requests, and reads the token answers. Its HTTP goes through [`TokenEndpoint`]: our `Http`
//! (reqwest 0.13) with our timeouts and retries. What the providers do beyond RFC 6749 is
//! handled here:
//! - Zoho answers token errors with HTTP 200 and an `error` member, which the crate reports as
//!   an unreadable token answer; the body it hands back is read as the error it is.
//! - Zoho's token URL belongs to the data centre named by the callback, so a Zoho client is
//!   built per call from the allow-listed centre.
//! - Both providers add fields to the token answer ([`ProviderTokenFields`]), and Intuit sends
//!   its refresh token's 5-year cap only when a request header asks for it.
//! - Revocation bypasses the crate: its RFC 7009 requests refuse a non-`https` URL (the
//!   simulators serve plain `http`) and are form-encoded, where Intuit documents a JSON body
//!   and Zoho answers failures with HTTP 200. Those two requests go through `TokenEndpoint` too.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use oauth2::url::form_urlencoded;
pub use oauth2::{AccessToken, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RefreshToken};
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, EndpointNotSet,
    EndpointSet, ExtraTokenFields, HttpRequest, HttpResponse, RedirectUrl, RequestTokenError,
    Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::error::{Api, ConnectorError, Remote};
use super::http::{Http, retry_after, transport_error};
use super::{BoxFuture, Connectors, Endpoints};

/// The scopes zqsync asks Zoho for (comma-separated in the authorize URL).
pub const ZOHO_SCOPES: &[&str] = &[
    "ZohoCRM.modules.ALL",
    "ZohoCRM.settings.fields.READ",
    "ZohoCRM.settings.modules.READ",
    "ZohoCRM.users.READ",
    "ZohoCRM.org.READ",
];
/// The Accounting API scope is all zqsync needs from Intuit.
pub const INTUIT_SCOPES: &[&str] = &["com.intuit.quickbooks.accounting"];

/// Random bytes in a `state` (base64url in the URL).
const STATE_BYTES: u32 = 32;

/// One registered OAuth app: its credentials and the redirect URI registered with it.
#[derive(Clone)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
}

impl std::fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

/// A Zoho data centre: its accounts (OAuth) server and its API domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZohoDataCentre {
    pub location: String,
    pub accounts_server: String,
    pub api_domain: String,
}

/// What the providers add to a token answer. Lifetimes read as numbers or numeric strings; an
/// unreadable one counts as absent rather than failing the whole answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderTokenFields {
    /// Zoho: where this org's API lives.
    pub api_domain: Option<String>,
    /// Zoho's older answers: the lifetime in seconds, next to an `expires_in` in milliseconds.
    #[serde(deserialize_with = "seconds")]
    pub expires_in_sec: Option<i64>,
    /// Intuit's rolling refresh-token lifetime.
    #[serde(deserialize_with = "seconds")]
    pub x_refresh_token_expires_in: Option<i64>,
    /// Intuit's absolute (5-year) refresh-token cap, when asked for.
    #[serde(deserialize_with = "seconds")]
    pub x_refresh_token_hard_expires_in: Option<i64>,
}

impl ExtraTokenFields for ProviderTokenFields {}

fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(value
        .as_ref()
        .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok())))
}

/// A token endpoint's answer as the crate reads it, with the providers' fields.
pub type ProviderTokenResponse = StandardTokenResponse<ProviderTokenFields, BasicTokenType>;

/// An `oauth2` client reading [`ProviderTokenResponse`]s; the typestates say whether the
/// authorize and token URLs are set.
type ProviderClient<HasAuthUrl = EndpointNotSet, HasTokenUrl = EndpointNotSet> = oauth2::Client<
    BasicErrorResponse,
    ProviderTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    HasAuthUrl,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    HasTokenUrl,
>;

type TokenClient = ProviderClient<EndpointNotSet, EndpointSet>;

type TokenAnswer =
    Result<ProviderTokenResponse, RequestTokenError<ConnectorError, BasicErrorResponse>>;

/// What a token endpoint handed out. The tokens are the crate's secret types, whose `Debug`
/// shows no secret.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: AccessToken,
    pub expires_in_secs: i64,
    /// Intuit: every answer (maybe rotated); Zoho: only on the code exchange.
    pub refresh_token: Option<RefreshToken>,
    /// Intuit's rolling refresh-token lifetime.
    pub refresh_expires_in_secs: Option<i64>,
    /// Intuit's absolute (5-year) cap, when asked for.
    pub refresh_hard_expires_in_secs: Option<i64>,
    /// Zoho: where this org's API lives.
    pub api_domain: Option<String>,
}

impl From<ProviderTokenResponse> for TokenSet {
    fn from(answer: ProviderTokenResponse) -> Self {
        let extra = answer.extra_fields().clone();
        let expires_in = answer
            .expires_in()
            .and_then(|lifetime| i64::try_from(lifetime.as_secs()).ok());
        Self {
            access_token: answer.access_token().clone(),
            // When Zoho sends `expires_in_sec`, its `expires_in` is in milliseconds.
            expires_in_secs: extra.expires_in_sec.or(expires_in).unwrap_or(3600),
            refresh_token: answer.refresh_token().cloned(),
            refresh_expires_in_secs: extra.x_refresh_token_expires_in,
            refresh_hard_expires_in_secs: extra.x_refresh_token_hard_expires_in,
            api_domain: extra.api_domain,
        }
    }
}

fn misconfigured(api: Api, what: &str, error: &dyn std::fmt::Display) -> ConnectorError {
    ConnectorError::unexpected(api, None, format!("invalid {what}: {error}"))
}

impl OAuthApp {
    /// The crate's client for this app. Zoho takes the credentials in the form body, Intuit
    /// in a Basic header.
    fn client(&self, api: Api, auth_type: AuthType) -> Result<ProviderClient, ConnectorError> {
        let redirect = RedirectUrl::new(self.redirect_uri.clone())
            .map_err(|error| misconfigured(api, "redirect URI", &error))?;
        Ok(ProviderClient::new(ClientId::new(self.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.client_secret.clone()))
            .set_auth_type(auth_type)
            .set_redirect_uri(redirect))
    }

    /// Intuit's `Authorization: Basic` for the request the crate does not build (revoke).
    fn basic_credentials(&self) -> String {
        let pair = format!("{}:{}", self.client_id, self.client_secret);
        format!("Basic {}", STANDARD.encode(pair))
    }
}

/// The `oauth2` crate's HTTP client: our `Http`, with its timeout on every attempt and retries
/// of transient failures only (a refused grant is final). It remembers the last answer's
/// status, which the crate's errors drop and ours carry.
struct TokenEndpoint {
    http: Arc<Http>,
    api: Api,
    /// Headers the crate has no way to add to its requests.
    extra_headers: &'static [(&'static str, &'static str)],
    /// 0 until an answer arrives.
    last_status: AtomicU16,
}

impl TokenEndpoint {
    fn new(http: &Arc<Http>, api: Api) -> Self {
        Self {
            http: http.clone(),
            api,
            extra_headers: &[],
            last_status: AtomicU16::new(0),
        }
    }

    fn status(&self) -> Option<u16> {
        match self.last_status.load(Ordering::Relaxed) {
            0 => None,
            status => Some(status),
        }
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, ConnectorError> {
        let api = self.api;
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        let once = || async {
            let mut builder = self
                .http
                .client
                .request(parts.method.clone(), url.as_str())
                .headers(parts.headers.clone())
                .timeout(self.http.config.timeout)
                .body(body.clone());
            for (name, value) in self.extra_headers {
                builder = builder.header(*name, *value);
            }
            let response = builder
                .send()
                .await
                .map_err(|error| transport_error(api, &error))?;
            let status = response.status();
            self.last_status.store(status.as_u16(), Ordering::Relaxed);
            let headers = response.headers().clone();
            let content = response
                .bytes()
                .await
                .map_err(|error| transport_error(api, &error))?;
            if status.as_u16() == 429 {
                let wait = retry_after(&headers).unwrap_or_else(|| self.http.rate_limit_wait(api));
                return Err(ConnectorError::rate_limited(api, wait, None, String::new()));
            }
            if status.is_server_error() {
                return Err(ConnectorError::transient(
                    api,
                    Some(status.as_u16()),
                    format!("token endpoint answered HTTP {}", status.as_u16()),
                ));
            }
            let mut answer = HttpResponse::new(content.to_vec());
            *answer.status_mut() = status;
            *answer.headers_mut() = headers;
            Ok(answer)
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.http.config.min_backoff)
            .with_max_delay(self.http.config.max_backoff)
            .with_max_times(self.http.config.max_retries);
        once.retry(backoff)
            .when(|error: &ConnectorError| matches!(error, ConnectorError::Transient { .. }))
            .await
    }

    /// The crate's outcome as our token set or our error, mapped as the providers mean it.
    fn token_set(&self, answer: TokenAnswer) -> Result<TokenSet, ConnectorError> {
        let (api, status) = (self.api, self.status());
        match answer {
            Ok(answer) => Ok(TokenSet::from(answer)),
            Err(RequestTokenError::Request(error)) => Err(error),
            Err(RequestTokenError::ServerResponse(refusal)) => Err(oauth_error(
                api,
                status,
                refusal.error().as_ref(),
                refusal.error_description().map_or("", String::as_str),
            )),
            // Zoho's HTTP 200 `{"error": …}` arrives here, as does a 200 that is no token answer.
            Err(RequestTokenError::Parse(error, body)) => {
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if status == Some(200) && body.get("error").is_none() {
                    let detail = if body.get("access_token").is_none() {
                        "token answer without access_token".to_owned()
                    } else {
                        // The path only: serde's message could quote a token.
                        format!("unreadable token answer at {}", error.path())
                    };
                    Err(ConnectorError::unexpected(api, status, detail))
                } else {
                    Err(oauth_error_in(api, status, &body))
                }
            }
            // An empty or non-JSON answer, or a request the crate could not build.
            Err(RequestTokenError::Other(detail)) => match status {
                Some(code) if code != 200 => Err(oauth_error_in(api, status, &Value::Null)),
                _ => Err(ConnectorError::unexpected(api, status, detail)),
            },
        }
    }

    /// Sends a revocation request (built here, not by the crate: see the module's comment).
    /// Revoked means HTTP 200 without an `error` member, Zoho's way of failing.
    async fn revoke(
        &self,
        url: &str,
        content_type: &str,
        authorization: Option<String>,
        body: Vec<u8>,
    ) -> Result<(), ConnectorError> {
        let mut request = oauth2::http::Request::post(url)
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, content_type);
        if let Some(credentials) = authorization {
            request = request.header(AUTHORIZATION, credentials);
        }
        let request = request
            .body(body)
            .map_err(|error| misconfigured(self.api, "revocation request", &error))?;
        let answer = self.send(request).await?;
        let body: Value = serde_json::from_slice(answer.body()).unwrap_or(Value::Null);
        if answer.status().as_u16() != 200 || body.get("error").is_some() {
            return Err(oauth_error_in(self.api, self.status(), &body));
        }
        Ok(())
    }
}

impl<'c> AsyncHttpClient<'c> for TokenEndpoint {
    type Error = ConnectorError;
    type Future = BoxFuture<'c, Result<HttpResponse, ConnectorError>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// Turns an OAuth error answer into our error: a dead grant means reconnect.
fn oauth_error(api: Api, status: Option<u16>, code: &str, description: &str) -> ConnectorError {
    let raw = format!("{code}: {description}");
    let code = code.to_owned();
    match code.as_str() {
        "invalid_grant" | "invalid_code" | "invalid_token" | "access_denied" => {
            ConnectorError::needs_reconnect(api, status, Some(code), raw)
        }
        // Zoho: more than 10 access tokens per refresh token in 10 minutes.
        "Access Denied" => {
            ConnectorError::rate_limited(api, Duration::from_secs(60), Some(code), raw)
        }
        _ => ConnectorError::Unexpected {
            remote: Remote::new(
                api,
                status,
                Some(code),
                raw,
                "zqsync's connection settings were refused by the sign-in service. Please contact support.".to_owned(),
            ),
        },
    }
}

/// [`oauth_error`] for a JSON error body (`error`, `error_description`).
fn oauth_error_in(api: Api, status: Option<u16>, body: &Value) -> ConnectorError {
    let text = |key: &str| body.get(key).and_then(Value::as_str);
    oauth_error(
        api,
        status,
        text("error").unwrap_or("unknown"),
        text("error_description").unwrap_or_default(),
    )
}

fn new_state() -> CsrfToken {
    CsrfToken::new_random_len(STATE_BYTES)
}

/// Zoho accounts OAuth, across data centres.
#[derive(Debug, Clone)]
pub struct ZohoOAuth {
    http: Arc<Http>,
    endpoints: Arc<Endpoints>,
    app: OAuthApp,
}

impl ZohoOAuth {
    pub fn new(connectors: &Connectors, app: OAuthApp) -> Self {
        Self {
            http: connectors.http().clone(),
            endpoints: Arc::new(connectors.endpoints().clone()),
            app,
        }
    }

    /// The consent page and its fresh `state`. Zoho sends the user on to their own data
    /// centre and tells us which in the callback. `access_type=offline` gets a refresh token;
    /// `prompt=consent` makes a reconnect issue a fresh one. Zoho documents no PKCE for
    /// server-based clients, so `state` alone protects the callback.
    pub fn authorization_url(&self) -> Result<(String, CsrfToken), ConnectorError> {
        let api = Api::ZohoOAuth;
        let auth_url = AuthUrl::new(format!(
            "{}/oauth/v2/auth",
            self.endpoints.zoho_default_accounts
        ))
        .map_err(|error| misconfigured(api, "Zoho authorize URL", &error))?;
        let client = self
            .app
            .client(api, AuthType::RequestBody)?
            .set_auth_uri(auth_url);
        let (url, state) = client
            .authorize_url(new_state)
            // Zoho separates scopes with commas, the crate with spaces: one scope of them all.
            .add_scope(Scope::new(ZOHO_SCOPES.join(",")))
            .add_extra_param("access_type", "offline")
            .add_extra_param("prompt", "consent")
            .url();
        Ok((url.into(), state))
    }

    /// The data centre of an `accounts-server` from a callback, if it is on the allow-list
    /// (otherwise a forged callback could send our client secret anywhere).
    pub fn data_centre(&self, accounts_server: &str) -> Result<ZohoDataCentre, ConnectorError> {
        let wanted = accounts_server.trim_end_matches('/');
        self.endpoints
            .zoho_data_centres
            .iter()
            .find(|dc| dc.accounts_server == wanted)
            .cloned()
            .ok_or_else(|| ConnectorError::Unexpected {
                remote: Remote::new(
                    Api::ZohoOAuth,
                    None,
                    None,
                    format!("accounts server not on the allow-list: {wanted}"),
                    "Zoho sent the sign-in back from an unknown Zoho data centre. Try connecting again; contact support if it repeats.".to_owned(),
                ),
            })
    }

    /// The crate's client for one (allow-listed) data centre's token URL.
    fn token_client(&self, dc: &ZohoDataCentre) -> Result<TokenClient, ConnectorError> {
        let api = Api::ZohoOAuth;
        let token_url = TokenUrl::new(format!("{}/oauth/v2/token", dc.accounts_server))
            .map_err(|error| misconfigured(api, "Zoho token URL", &error))?;
        Ok(self
            .app
            .client(api, AuthType::RequestBody)?
            .set_token_uri(token_url))
    }

    /// Exchanges the callback's code at the callback's data centre. The token response's
    /// `api_domain` must be that data centre's.
    pub async fn exchange_code(
        &self,
        accounts_server: &str,
        code: &str,
    ) -> Result<(ZohoDataCentre, TokenSet), ConnectorError> {
        let dc = self.data_centre(accounts_server)?;
        let client = self.token_client(&dc)?;
        let endpoint = TokenEndpoint::new(&self.http, Api::ZohoOAuth);
        let answer = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .request_async(&endpoint)
            .await;
        let tokens = in_data_centre(&dc, endpoint.token_set(answer)?)?;
        if tokens.refresh_token.is_none() {
            return Err(ConnectorError::unexpected(
                Api::ZohoOAuth,
                Some(200),
                "no refresh token in the code exchange".to_owned(),
            ));
        }
        Ok((dc, tokens))
    }

    /// A new access token (Zoho refresh tokens do not rotate).
    pub async fn refresh(
        &self,
        accounts_server: &str,
        refresh_token: &str,
    ) -> Result<TokenSet, ConnectorError> {
        let dc = self.data_centre(accounts_server)?;
        let client = self.token_client(&dc)?;
        let endpoint = TokenEndpoint::new(&self.http, Api::ZohoOAuth);
        let refresh_token = RefreshToken::new(refresh_token.to_owned());
        let answer = client
            .exchange_refresh_token(&refresh_token)
            .request_async(&endpoint)
            .await;
        in_data_centre(&dc, endpoint.token_set(answer)?)
    }

    /// Revokes a refresh token (and its access tokens).
    pub async fn revoke(
        &self,
        accounts_server: &str,
        refresh_token: &str,
    ) -> Result<(), ConnectorError> {
        let dc = self.data_centre(accounts_server)?;
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("token", refresh_token)
            .finish();
        TokenEndpoint::new(&self.http, Api::ZohoOAuth)
            .revoke(
                &format!("{}/oauth/v2/token/revoke", dc.accounts_server),
                "application/x-www-form-urlencoded",
                None,
                form.into_bytes(),
            )
            .await
    }
}

/// A Zoho token set whose `api_domain` belongs to `dc` (filled in when Zoho leaves it out).
fn in_data_centre(dc: &ZohoDataCentre, tokens: TokenSet) -> Result<TokenSet, ConnectorError> {
    match tokens
        .api_domain
        .as_deref()
        .map(|d| d.trim_end_matches('/'))
    {
        Some(domain) if domain == dc.api_domain => Ok(tokens),
        None => Ok(TokenSet {
            api_domain: Some(dc.api_domain.clone()),
            ..tokens
        }),
        Some(other) => Err(ConnectorError::unexpected(
            Api::ZohoOAuth,
            Some(200),
            format!(
                "api_domain {other} does not belong to data centre {}",
                dc.location
            ),
        )),
    }
}

/// Intuit OAuth (one set of URLs for development and production keys).
#[derive(Debug, Clone)]
pub struct IntuitOAuth {
    http: Arc<Http>,
    endpoints: Arc<Endpoints>,
    app: OAuthApp,
}

impl IntuitOAuth {
    pub fn new(connectors: &Connectors, app: OAuthApp) -> Self {
        Self {
            http: connectors.http().clone(),
            endpoints: Arc::new(connectors.endpoints().clone()),
            app,
        }
    }

    /// The consent page and its fresh `state`. With `pkce` the S256 challenge is sent too;
    /// Intuit documents PKCE only for public clients, so the connection flow passes `None`
    /// and relies on `state`.
    pub fn authorization_url(
        &self,
        pkce: Option<PkceCodeChallenge>,
    ) -> Result<(String, CsrfToken), ConnectorError> {
        let api = Api::IntuitOAuth;
        let auth_url = AuthUrl::new(self.endpoints.intuit_authorize.clone())
            .map_err(|error| misconfigured(api, "Intuit authorize URL", &error))?;
        let client = self
            .app
            .client(api, AuthType::BasicAuth)?
            .set_auth_uri(auth_url);
        let mut request = client
            .authorize_url(new_state)
            .add_scopes(INTUIT_SCOPES.iter().map(|s| Scope::new((*s).to_owned())));
        if let Some(challenge) = pkce {
            request = request.set_pkce_challenge(challenge);
        }
        let (url, state) = request.url();
        Ok((url.into(), state))
    }

    fn token_client(&self) -> Result<TokenClient, ConnectorError> {
        let api = Api::IntuitOAuth;
        let token_url = TokenUrl::new(self.endpoints.intuit_token.clone())
            .map_err(|error| misconfigured(api, "Intuit token URL", &error))?;
        Ok(self
            .app
            .client(api, AuthType::BasicAuth)?
            .set_token_uri(token_url))
    }

    /// Token calls ask for the refresh token's absolute expiry, which Intuit sends only then.
    fn endpoint(&self) -> TokenEndpoint {
        TokenEndpoint {
            extra_headers: &[("x-include-refresh-token-hard-expires-in", "true")],
            ..TokenEndpoint::new(&self.http, Api::IntuitOAuth)
        }
    }

    pub async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: Option<PkceCodeVerifier>,
    ) -> Result<TokenSet, ConnectorError> {
        let client = self.token_client()?;
        let mut request = client.exchange_code(AuthorizationCode::new(code.to_owned()));
        if let Some(verifier) = pkce_verifier {
            request = request.set_pkce_verifier(verifier);
        }
        let endpoint = self.endpoint();
        let answer = request.request_async(&endpoint).await;
        with_refresh_token(endpoint.token_set(answer)?)
    }

    /// A new access token and, maybe, a rotated refresh token: the caller must store the new
    /// refresh token before using the access token (the old one dies 24 h later).
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenSet, ConnectorError> {
        let client = self.token_client()?;
        let refresh_token = RefreshToken::new(refresh_token.to_owned());
        let endpoint = self.endpoint();
        let answer = client
            .exchange_refresh_token(&refresh_token)
            .request_async(&endpoint)
            .await;
        with_refresh_token(endpoint.token_set(answer)?)
    }

    /// Revokes the grant (refresh or access token).
    pub async fn revoke(&self, token: &str) -> Result<(), ConnectorError> {
        let body = serde_json::to_vec(&serde_json::json!({ "token": token }))
            .map_err(|error| misconfigured(Api::IntuitOAuth, "revocation body", &error))?;
        TokenEndpoint::new(&self.http, Api::IntuitOAuth)
            .revoke(
                &self.endpoints.intuit_revoke,
                "application/json",
                Some(self.app.basic_credentials()),
                body,
            )
            .await
    }
}

/// Intuit sends a refresh token with every answer; one without is no usable answer.
fn with_refresh_token(tokens: TokenSet) -> Result<TokenSet, ConnectorError> {
    if tokens.refresh_token.is_none() {
        return Err(ConnectorError::unexpected(
            Api::IntuitOAuth,
            Some(200),
            "token answer without refresh_token".to_owned(),
        ));
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::ConnectorConfig;

    fn connectors() -> Connectors {
        Connectors::new(ConnectorConfig::new(Endpoints::production())).expect("connectors")
    }

    fn app() -> OAuthApp {
        OAuthApp {
            client_id: "1000.CLIENT".to_owned(),
            client_secret: "s3cret".to_owned(),
            redirect_uri: "http://x/cb?a=1".to_owned(),
        }
    }

    fn query(url: &str) -> Vec<(String, String)> {
        oauth2::url::Url::parse(url)
            .expect("URL")
            .query_pairs()
            .into_owned()
            .collect()
    }

    fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn zoho_consent_url_has_comma_separated_scopes_offline_access_and_a_fresh_state() {
        let zoho = ZohoOAuth::new(&connectors(), app());
        let (url, state) = zoho.authorization_url().expect("URL");
        assert!(
            url.starts_with("https://accounts.zoho.com/oauth/v2/auth?"),
            "{url}"
        );
        assert!(url.contains("scope=ZohoCRM.modules.ALL%2CZohoCRM.settings.fields.READ"));
        assert!(
            url.contains("redirect_uri=http%3A%2F%2Fx%2Fcb%3Fa%3D1"),
            "{url}"
        );
        let pairs = query(&url);
        assert_eq!(param(&pairs, "state"), Some(state.secret().as_str()));
        assert_eq!(state.secret().len(), 43, "32 random bytes, base64url");
        assert_eq!(param(&pairs, "response_type"), Some("code"));
        assert_eq!(param(&pairs, "client_id"), Some("1000.CLIENT"));
        assert_eq!(param(&pairs, "access_type"), Some("offline"));
        assert_eq!(param(&pairs, "prompt"), Some("consent"));
        assert_eq!(param(&pairs, "code_challenge"), None);
        let (_, other) = zoho.authorization_url().expect("URL");
        assert_ne!(state.secret(), other.secret());
    }

    #[test]
    fn intuit_consent_url_carries_the_crates_pkce_challenge_when_asked() {
        let intuit = IntuitOAuth::new(&connectors(), app());
        let (url, _) = intuit.authorization_url(None).expect("URL");
        let pairs = query(&url);
        assert_eq!(
            param(&pairs, "scope"),
            Some("com.intuit.quickbooks.accounting")
        );
        assert_eq!(param(&pairs, "code_challenge"), None);
        // RFC 7636 appendix B.
        let verifier =
            PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_owned());
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        let (url, _) = intuit.authorization_url(Some(challenge)).expect("URL");
        let pairs = query(&url);
        assert_eq!(
            param(&pairs, "code_challenge"),
            Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        );
        assert_eq!(param(&pairs, "code_challenge_method"), Some("S256"));
    }

    fn token_set(answer: &Value) -> TokenSet {
        TokenSet::from(
            serde_json::from_value::<ProviderTokenResponse>(answer.clone()).expect("answer"),
        )
    }

    #[test]
    fn token_answers_keep_both_providers_fields_and_hide_the_tokens() {
        let zoho = serde_json::json!({"access_token": "1000.a.b", "refresh_token": "1000.c.d", "api_domain": "https://www.zohoapis.eu", "token_type": "Bearer", "expires_in": 3600});
        let set = token_set(&zoho);
        assert_eq!(set.api_domain.as_deref(), Some("https://www.zohoapis.eu"));
        assert_eq!(set.expires_in_secs, 3600);
        assert_eq!(set.access_token.secret(), "1000.a.b");
        assert!(!format!("{set:?}").contains("1000."), "{set:?}");
        let old_zoho = serde_json::json!({"access_token": "x", "token_type": "Bearer", "expires_in": 3_600_000, "expires_in_sec": "3600"});
        assert_eq!(token_set(&old_zoho).expires_in_secs, 3600);
        let intuit: Value = serde_json::from_str(include_str!(
            "../../../sandbox/tests/fixtures/qbo/intuit_oauth__token_response_hard_expiry.json"
        ))
        .expect("fixture");
        let set = token_set(&intuit);
        assert_eq!(
            set.refresh_token
                .as_ref()
                .map(RefreshToken::secret)
                .map(String::as_str),
            Some("RT1-39-H3-1785429816rcysb9dns1ofreknypnm")
        );
        assert_eq!(set.refresh_expires_in_secs, Some(8_726_400));
        assert_eq!(set.refresh_hard_expires_in_secs, Some(156_032_154));
        assert!(!format!("{set:?}").contains("RT1-"), "{set:?}");
    }
}
