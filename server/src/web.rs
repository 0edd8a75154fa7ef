//! The HTTP router: Leptos pages and server functions behind the session and same-origin
//! middleware; health, metrics and static files beside them.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use app::error::AppError;
use app::ssr::{ClientAddr, RequestSession, ServerCtx, clear_session_cookie, session_token};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRef, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use engine::sessions::Lookup;
use http_body_util::BodyExt as _;
use leptos::nonce::Nonce;
use leptos::prelude::*;
use leptos::server_fn::error::{SERVER_FN_ERROR_HEADER, ServerFnUrlError};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::services::ServeDir;

use crate::{Settings, export, oauth};

const STYLESHEET: &str = include_str!("../../style/zqsync.css");

/// Axum state: Leptos needs its options; everything else travels in [`ServerCtx`].
#[derive(Clone, FromRef)]
pub(crate) struct WebState {
    leptos_options: LeptosOptions,
    pub(crate) ctx: ServerCtx,
    /// `scheme://host:port` of the public URL, accepted as an `Origin`.
    public_origin: String,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`ZQSYNC_TRUSTED_PROXIES`).
    trusted_proxies: Arc<[IpAddr]>,
}

/// What every answer says about how browsers may treat it (issue 23).
#[derive(Debug, Clone, Copy)]
struct HeaderPolicy {
    /// `Strict-Transport-Security`: only when the public URL is https.
    hsts: bool,
}

/// The largest Stripe event body accepted (axum's default limit, stated): events carry whole
/// objects, and Stripe does not document a maximum.
const STRIPE_WEBHOOK_MAX_BYTES: usize = 2 * 1024 * 1024;

pub(crate) fn router(settings: &Settings, ctx: ServerCtx, addr: SocketAddr) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name("frontend")
        .site_root(settings.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let public_origin = settings
        .public_url
        .as_deref()
        .map_or_else(|| format!("http://{addr}"), origin_of);
    let state = WebState {
        leptos_options: leptos_options.clone(),
        ctx: ctx.clone(),
        public_origin,
        trusted_proxies: settings.trusted_proxies.clone().into(),
    };

    let policy = HeaderPolicy {
        hsts: settings
            .public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://")),
    };

    let routes = generate_route_list(app::App);
    let pages_and_functions = Router::new()
        .route("/connect/{provider}", get(oauth::connect))
        .route(oauth::ZOHO_CALLBACK, get(oauth::zoho_callback))
        .route(oauth::INTUIT_CALLBACK, get(oauth::intuit_callback))
        .route("/logs/export.csv", get(export::export_logs))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let ctx = ctx.clone();
                move || provide_request_context(&ctx)
            },
            move || app::shell(leptos_options.clone()),
        )
        .layer(middleware::from_fn(only_our_form_errors))
        .layer(middleware::from_fn_with_state(state.clone(), sessions))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            same_origin_only,
        ))
        .layer(middleware::from_fn(api_answers));

    let pkg_dir = settings.site_root.join("pkg");
    Router::new()
        .route("/healthz", get(healthz))
        // Stripe calls this from its servers: no session, no same-origin check; the signature
        // is the authentication.
        .route(
            "/webhooks/stripe",
            post(stripe_webhook).layer(DefaultBodyLimit::max(STRIPE_WEBHOOK_MAX_BYTES)),
        )
        .route("/metrics", get(metrics_text))
        .route("/style/zqsync.css", get(stylesheet))
        .nest_service("/pkg", ServeDir::new(pkg_dir).precompressed_gzip())
        .merge(pages_and_functions)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            WebState,
            _,
        >(move || provide_request_context(&ctx), app::shell))
        .layer(middleware::from_fn_with_state(policy, security_headers))
        .layer(middleware::from_fn(record_metrics))
        .with_state(state)
}

/// What pages and server functions find in their Leptos context: the server's state, and the
/// CSP nonce [`security_headers`] minted for this request (it replaces the one leptos_axum
/// makes up, which no header would name), so the hydration scripts carry the nonce the
/// `Content-Security-Policy` header allows.
fn provide_request_context(ctx: &ServerCtx) {
    provide_context(ctx.clone());
    if let Some(nonce) = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Nonce>().cloned())
    {
        provide_context(nonce);
    }
}

/// The one layer that sets the security headers of every answer (pages, server functions,
/// redirects, errors, static files):
///
/// - `Content-Security-Policy`: scripts only from us and the inline hydration script carrying
///   this request's nonce (no `'unsafe-inline'`), WebAssembly compilation
///   (`'wasm-unsafe-eval'`), styles only from `/style/zqsync.css` (no inline styles), fetches
///   to us, forms posting to us, no plugins, no `<base>`, and no framing by anyone.
/// - `X-Frame-Options: DENY` for browsers that predate `frame-ancestors`.
/// - `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin` (OAuth callback URLs
///   carry codes; no other site learns our URLs), `Cross-Origin-Opener-Policy: same-origin`.
/// - `Cache-Control: no-store` on everything but `/pkg` and `/style`: pages and answers hold
///   tenant data and must not stay in shared or back-button caches.
/// - `Strict-Transport-Security` when the public URL is https.
async fn security_headers(
    State(policy): State<HeaderPolicy>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = Nonce::new();
    let cacheable = is_static_asset(request.uri().path());
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(&nonce)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !cacheable {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if policy.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
         form-action 'self'; object-src 'none'; frame-ancestors 'none'"
    )
}

/// The WebAssembly bundle and the stylesheet: the same for everyone, cached as they say.
fn is_static_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path.starts_with("/style/")
}

/// The largest request body each server function accepts: a log-in or sign-up form is a few
/// hundred bytes, most settings forms a few kilobytes; only a whole mapping or filter set
/// may be larger.
fn body_limit(path: &str) -> usize {
    match path {
        "/api/login"
        | "/api/signup"
        | "/api/logout"
        | "/api/forgot_password"
        | "/api/reset_password"
        | "/api/reset_link"
        | "/api/auth_page" => 8 * 1024,
        "/api/save_mapping" | "/api/save_filters" => 256 * 1024,
        _ => 32 * 1024,
    }
}

/// Server functions' answers, for all of them at once (issue 14):
///
/// - the request body is read here within [`body_limit`]: larger is 413, unreadable is 400;
/// - an error answer gets the status of its [`AppError`] variant (server functions answer
///   every error with 500 otherwise): 400 invalid input, 401, 409, 413, 429, and 500 only
///   for our faults;
/// - every refusal (4xx) is logged at info with the path, status and kind, never the message
///   (it may echo input). Our faults were logged with detail where they happened.
async fn api_answers(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if !path.starts_with("/api/") {
        return next.run(request).await;
    }
    let response = match read_body(request, body_limit(&path)).await {
        Ok(request) => {
            let response = next.run(request).await;
            settle_error(response, &path).await
        }
        Err(error) => error_response(&error),
    };
    let status = response.status();
    if status.is_client_error() {
        tracing::info!(path, status = status.as_u16(), "refused a request");
    }
    response
}

/// The request with its body read into memory, or the error for a body that is too large or
/// cannot be read.
async fn read_body(request: Request, limit: usize) -> Result<Request, AppError> {
    let too_large = || {
        AppError::TooLarge(format!(
            "This request is too large for zqsync (at most {} KB). Shorten what you entered and try again.",
            limit / 1024
        ))
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let (parts, body) = request.into_parts();
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(Request::from_parts(parts, Body::from(collected.to_bytes()))),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(_) => Err(AppError::unreadable("the request body was cut off")),
    }
}

/// Server functions answer an error with 500 and the error as JSON, marked by the
/// `serverfnerror` header: this gives it the status of its variant. A form posted without
/// JavaScript is redirected back to its page instead, with the error in the URL: there the
/// error becomes its fixed text ([`AppError::for_url`]), the only kind pages accept.
async fn settle_error(response: Response, path: &str) -> Response {
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    if !(is_error || status.is_redirection())
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(collected) = http_body_util::Limited::new(body, 64 * 1024)
        .collect()
        .await
    else {
        tracing::error!("could not read a server function's error answer");
        return error_response(&AppError::Internal);
    };
    let bytes = collected.to_bytes();
    let Ok(error) = serde_json::from_slice::<AppError>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if status.is_redirection() {
        let location = parts
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Some(mut location) = location.filter(|l| l.contains("__err=")) {
            ServerFnUrlError::<AppError>::strip_error_info(&mut location);
            let fixed = ServerFnUrlError::new(path, error.for_url())
                .to_url(&location)
                .map(|url| url.to_string())
                .unwrap_or(location);
            if let Ok(value) = HeaderValue::from_str(&fixed) {
                parts.headers.insert(header::LOCATION, value);
            }
        }
    } else if let Ok(status) = StatusCode::from_u16(error.status()) {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Pages accept a form error in their URL (`?__path=…&__err=…`, how Leptos brings a form
/// posted without JavaScript back with its error) only in its fixed form: anything else —
/// someone else's words for our red alert — is dropped by a redirect to the same page
/// without it.
async fn only_our_form_errors(request: Request, next: Next) -> Response {
    let Some(query) = request.uri().query().filter(|q| q.contains("__err")) else {
        return next.run(request).await;
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let genuine = pairs
        .iter()
        .find(|(key, _)| key == "__err")
        .map(|(_, value)| ServerFnUrlError::<AppError>::decode_err(value))
        .is_some_and(|error| error == error.for_url());
    if genuine {
        return next.run(request).await;
    }
    tracing::info!(
        path = request.uri().path(),
        "dropped a form error from a page URL"
    );
    let rest: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(key, _)| key != "__err" && key != "__path")
        .collect();
    let clean = if rest.is_empty() {
        request.uri().path().to_owned()
    } else {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(rest)
            .finish();
        format!("{}?{query}", request.uri().path())
    };
    Redirect::to(&clean).into_response()
}

/// An `AppError` as a JSON answer with its status, as the browser's server-function client
/// reads it.
fn error_response(error: &AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(error).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Resolves the session cookie once per request, stores the outcome for server functions,
/// and sends page requests to the right side of the log-in wall.
async fn sessions(State(state): State<WebState>, mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookies| session_token(cookies).map(str::to_owned));
    let has_token = token.is_some();
    let session = match token {
        None => RequestSession::None,
        Some(token) => {
            match if app::is_passive_endpoint(request.uri().path()) {
                state.ctx.sessions.resolve_passive(&token).await
            } else {
                state.ctx.sessions.resolve(&token).await
            } {
                Ok(Lookup::Active(session)) => RequestSession::Active { session, token },
                Ok(Lookup::Expired) => RequestSession::Expired,
                Ok(Lookup::Unknown) => RequestSession::None,
                Err(error) => {
                    tracing::error!(%error, "session lookup failed");
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "zqsync cannot reach its database; try again shortly.",
                    )
                        .into_response();
                }
            }
        }
    };
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let addr = client_ip(peer.ip(), request.headers(), &state.trusted_proxies);
        request
            .extensions_mut()
            .insert(ClientAddr(addr.to_string()));
    }
    request.extensions_mut().insert(session.clone());

    // A token we no longer know (expired, logged out elsewhere): drop it from the browser too.
    let dead_token = has_token && !matches!(session, RequestSession::Active { .. });
    let mut response = if let Some(location) = page_redirect(&request, &session) {
        Redirect::to(&location).into_response()
    } else if needs_session(&request) && !matches!(session, RequestSession::Active { .. }) {
        // Server functions check the session themselves too; this wall means one that forgot
        // still cannot run for a stranger.
        error_response(&AppError::NotLoggedIn)
    } else {
        next.run(request).await
    };
    // Not when the answer sets a session cookie itself (a log-in gives a fresh one): the
    // browser applies Set-Cookie headers in order, so a clearing one after it would log the
    // person straight out again.
    if dead_token && !sets_session_cookie(&response) {
        response.headers_mut().append(
            header::SET_COOKIE,
            clear_session_cookie(state.ctx.cookie_secure),
        );
    }
    response
}

fn sets_session_cookie(response: &Response) -> bool {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|cookie| {
            cookie
                .split_once('=')
                .is_some_and(|(name, _)| name.trim() == app::ssr::SESSION_COOKIE)
        })
}

/// The client's address: the peer's, unless the peer is a trusted reverse proxy; then the
/// `X-Forwarded-For` entries are read from the right (each proxy appends the address it saw),
/// passing over trusted proxies, and the first other address is the client. Entries left of it
/// are the client's own claims and are never believed; without trusted proxies the header is
/// ignored, so nobody can pick the address their log-in failures count against.
fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.contains(&ip.to_canonical());
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for entry in forwarded.iter().rev() {
        let Ok(ip) = entry.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client.to_canonical()
}

/// Server functions anyone may call: the ones that start or end a session, the log-in page's
/// extras (the sandbox's demo login) and the password reset.
pub const PUBLIC_SERVER_FUNCTIONS: [&str; 7] = [
    "/api/signup",
    "/api/login",
    "/api/logout",
    "/api/auth_page",
    "/api/forgot_password",
    "/api/reset_link",
    "/api/reset_password",
];

fn needs_session(request: &Request) -> bool {
    let path = request.uri().path();
    path.starts_with("/api/") && !PUBLIC_SERVER_FUNCTIONS.contains(&path)
}

/// Pages need a session, except the log-in and sign-up pages, which need none (and send a
/// logged-in person home), and the password reset pages, open to both (a reset link may be
/// opened in a browser that is logged in).
fn page_redirect(request: &Request, session: &RequestSession) -> Option<String> {
    if request.method() != Method::GET || request.uri().path().starts_with("/api/") {
        return None;
    }
    let path = request.uri().path();
    if matches!(
        path,
        app::api::auth::FORGOT_PAGE | app::api::auth::RESET_PAGE
    ) {
        return None;
    }
    let public = matches!(path, "/login" | "/signup");
    // The page with its query (`/?pair=items_products`): after log-in, the same view.
    let wanted = request.uri().path_and_query().map_or(path, |p| p.as_str());
    match (session, public) {
        (RequestSession::Active { .. }, true) => Some("/".to_owned()),
        (RequestSession::Active { .. }, false) | (_, true) => None,
        (RequestSession::Expired, false) => Some(login_url(wanted, true)),
        (RequestSession::None, false) => Some(login_url(wanted, false)),
    }
}

/// The log-in page for someone who asked for `wanted` (a path with its query) without a live
/// session: `expired=1` says why, `next` where to go after logging in.
fn login_url(wanted: &str, expired: bool) -> String {
    let mut query = Vec::new();
    if expired {
        query.push("expired=1".to_owned());
    }
    if wanted != "/" {
        query.push(format!("next={}", percent_encode(wanted)));
    }
    if query.is_empty() {
        "/login".to_owned()
    } else {
        format!("/login?{}", query.join("&"))
    }
}

fn percent_encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Refuses state-changing requests made by other sites (CSRF): browsers send `Sec-Fetch-Site`
/// and `Origin` on cross-site requests, and SameSite=Lax cookies alone do not stop a
/// same-site-but-other-origin form post.
async fn same_origin_only(State(state): State<WebState>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let fetch_site_ok = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|site| matches!(site, "same-origin" | "none"));
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_ok = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|origin| {
            origin == state.public_origin
                || host.is_some_and(|host| {
                    origin
                        .strip_prefix("http://")
                        .or_else(|| origin.strip_prefix("https://"))
                        == Some(host)
                })
        });
    if fetch_site_ok && origin_ok {
        next.run(request).await
    } else {
        tracing::warn!(
            path = request.uri().path(),
            "refused a cross-origin request"
        );
        let body = serde_json::to_string(&AppError::Invalid(
            "This request came from another website and was refused. Open zqsync directly and try again."
                .to_owned(),
        ))
        .unwrap_or_default();
        (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let host = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{host}")
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status_code = response.status().as_u16();
    // The matched route, never the raw URI: query strings can carry OAuth codes.
    tracing::debug!(%method, %route, status = status_code, elapsed_ms = started.elapsed().as_millis(), "request");
    let status = status_code.to_string();
    metrics::counter!("zqsync_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("zqsync_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

async fn healthz(State(state): State<WebState>) -> Response {
    match state.ctx.db.ping().await {
        Ok(()) => {
            axum::Json(serde_json::json!({ "status": "ok", "database": "ok" })).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(
                    serde_json::json!({ "status": "unavailable", "database": "unreachable" }),
                ),
            )
                .into_response()
        }
    }
}

/// `POST /webhooks/stripe`: the raw body is verified against `Stripe-Signature` before
/// anything is parsed. 400 and no change for a bad signature; 500 (Stripe retries) when
/// processing failed; 200 otherwise, duplicates included.
async fn stripe_webhook(
    State(state): State<WebState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use engine::billing::WebhookError;
    let Some(billing) = &state.ctx.billing else {
        return (
            StatusCode::NOT_FOUND,
            "billing is not configured on this server",
        )
            .into_response();
    };
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // Stripe signs with its wall clock: compare with ours, not the injectable app clock.
    let now = chrono::Utc::now().timestamp();
    match billing.handle_webhook(signature, &body, now).await {
        Ok(outcome) => {
            tracing::debug!(?outcome, "Stripe webhook handled");
            axum::Json(serde_json::json!({ "received": true })).into_response()
        }
        Err(WebhookError::Signature(error)) => {
            tracing::warn!(%error, "refused a Stripe webhook");
            (StatusCode::BAD_REQUEST, "invalid Stripe-Signature").into_response()
        }
        Err(WebhookError::Body) => {
            tracing::warn!("refused a Stripe webhook whose body is not an event");
            (StatusCode::BAD_REQUEST, "not a Stripe event").into_response()
        }
        Err(WebhookError::Billing(error)) => {
            tracing::error!(%error, "Stripe webhook processing failed; Stripe will retry");
            (StatusCode::INTERNAL_SERVER_ERROR, "processing failed").into_response()
        }
    }
}

async fn metrics_text() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        crate::telemetry::prometheus().render(),
    )
        .into_response()
}

async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        Body::from(STYLESHEET),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_urls_keep_the_page_and_the_reason() {
        assert_eq!(login_url("/", false), "/login");
        assert_eq!(login_url("/", true), "/login?expired=1");
        assert_eq!(login_url("/logs", true), "/login?expired=1&next=/logs");
        assert_eq!(login_url("/a b", false), "/login?next=/a%20b");
        assert_eq!(
            login_url("/?pair=items_products", true),
            "/login?expired=1&next=/%3Fpair%3Ditems_products"
        );
    }

    #[test]
    fn the_client_address_comes_from_trusted_proxies_only() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("an address");
        let proxy = ip("10.0.0.2");
        let forwarded = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                "x-forwarded-for",
                HeaderValue::from_str(value).expect("value"),
            );
            headers
        };
        // No trusted proxies: the header is ignored.
        assert_eq!(client_ip(proxy, &forwarded("203.0.113.9"), &[]), proxy);
        // From a trusted proxy: the rightmost address it did not add itself.
        let trusted = [proxy, ip("10.0.0.3")];
        assert_eq!(
            client_ip(proxy, &forwarded("198.51.100.1, 203.0.113.9"), &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(proxy, &forwarded("203.0.113.9, 10.0.0.3"), &trusted),
            ip("203.0.113.9")
        );
        // A peer that is not a proxy cannot claim an address.
        assert_eq!(
            client_ip(ip("192.0.2.5"), &forwarded("203.0.113.9"), &trusted),
            ip("192.0.2.5")
        );
        // Garbage stops the walk at the last good hop.
        assert_eq!(client_ip(proxy, &forwarded("nonsense"), &trusted), proxy);
    }

    #[test]
    fn origins_drop_paths() {
        assert_eq!(
            origin_of("https://app.zqsync.example/x/y"),
            "https://app.zqsync.example"
        );
        assert_eq!(origin_of("http://127.0.0.1:3000"), "http://127.0.0.1:3000");
    }
}
