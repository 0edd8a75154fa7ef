//! The HTTP layer every connector call goes through: QBO's per-realm request and batch limits
//! paced before sending (`pacing`), Zoho's per-tenant rate (governor), a concurrency cap per
//! realm/org (tokio `Semaphore`), a timeout on every call, retries with exponential backoff that
//! honour `Retry-After` (backon), and one token refresh on a 401.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultKeyedRateLimiter, Quota};
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::sync::Semaphore;

use super::error::{Api, ConnectorError};
use super::pacing::Pacer;
use super::{ResilienceConfig, TokenSource};

/// One answer that was not an error: status, headers and body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self, api: Api) -> Result<Value, ConnectorError> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|error| {
            ConnectorError::unexpected(api, Some(self.status), format!("unreadable JSON: {error}"))
        })
    }
}

/// Where a call goes and whose budgets it spends.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub api: Api,
    /// Rate-limit key: the tenant.
    pub tenant_id: String,
    /// Concurrency key: the QBO realm or the Zoho org (the tenant's connection).
    pub account: String,
}

type Classify = fn(u16, &Value, &str, Duration) -> ConnectorError;

/// Shared by every client of one process: the HTTP connection pool and the budgets.
#[derive(Debug)]
pub(crate) struct Http {
    pub client: reqwest::Client,
    pub config: ResilienceConfig,
    /// Per QBO realm.
    pacers: Mutex<HashMap<String, Arc<Pacer>>>,
    zoho_limiter: Option<DefaultKeyedRateLimiter<String>>,
    semaphores: Mutex<HashMap<(Api, String), Arc<Semaphore>>>,
}

fn quota(per_second: NonZeroU32) -> Quota {
    Quota::per_second(per_second).allow_burst(per_second)
}

impl Http {
    pub fn new(client: reqwest::Client, config: ResilienceConfig) -> Self {
        Self {
            client,
            pacers: Mutex::new(HashMap::new()),
            zoho_limiter: config
                .zoho_requests_per_second
                .map(|rate| DefaultKeyedRateLimiter::keyed(quota(rate))),
            semaphores: Mutex::new(HashMap::new()),
            config,
        }
    }

    fn semaphore(&self, target: &Target) -> Arc<Semaphore> {
        let permits = match target.api {
            Api::Qbo | Api::IntuitOAuth => self.config.qbo_max_concurrent,
            Api::Zoho | Api::ZohoOAuth => self.config.zoho_max_concurrent,
        };
        self.semaphores
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((target.api, target.account.clone()))
            .or_insert_with(|| Arc::new(Semaphore::new(permits.max(1))))
            .clone()
    }

    fn pacer(&self, realm: &str) -> Arc<Pacer> {
        let limit = |n: Option<NonZeroU32>| n.map(|n| n.get() as usize);
        self.pacers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(realm.to_owned())
            .or_insert_with(|| {
                Arc::new(Pacer::new(
                    limit(self.config.qbo_requests_per_minute),
                    limit(self.config.qbo_batches_per_minute),
                    self.config.minute,
                ))
            })
            .clone()
    }

    /// The pause when a 429 carries no `Retry-After`: Intuit documents 60 s; Zoho nothing.
    pub fn rate_limit_wait(&self, api: Api) -> Duration {
        match api {
            Api::Qbo | Api::IntuitOAuth => self.config.qbo_rate_limit_wait,
            Api::Zoho | Api::ZohoOAuth => self.config.zoho_rate_limit_wait,
        }
    }

    /// Sends a request built by `build` (given the client and an access token), with retries,
    /// the limits, and one refresh when the token is refused. Non-2xx answers become errors
    /// through `classify`, except the statuses in `pass` (e.g. Zoho's 204/304, 207, 400 with
    /// per-record results) which are returned for the caller to read.
    pub async fn call<F>(
        &self,
        target: &Target,
        tokens: &dyn TokenSource,
        pass: &[u16],
        classify: Classify,
        build: F,
    ) -> Result<Answer, ConnectorError>
    where
        F: Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder + Send + Sync,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.config.min_backoff)
            .with_max_delay(self.config.max_backoff)
            .with_max_times(self.config.max_retries)
            .with_jitter();
        let max_wait = self.config.max_rate_limit_wait;
        (|| self.call_once(target, tokens, pass, classify, &build))
            .retry(backoff)
            .when(|error| match error {
                ConnectorError::RateLimited { retry_after, .. } => *retry_after <= max_wait,
                other => other.is_retryable(),
            })
            .adjust(|error, planned| match (error, planned) {
                // Never earlier than the server asked for.
                (ConnectorError::RateLimited { retry_after, .. }, Some(planned)) => {
                    Some(planned.max(*retry_after))
                }
                (_, planned) => planned,
            })
            .notify(|error, after| {
                tracing::debug!(
                    api = target.api.as_str(),
                    retry_in_ms = after.as_millis() as u64,
                    status = error.remote().status,
                    "retrying a remote call"
                );
            })
            .await
    }

    async fn call_once<F>(
        &self,
        target: &Target,
        tokens: &dyn TokenSource,
        pass: &[u16],
        classify: Classify,
        build: &F,
    ) -> Result<Answer, ConnectorError>
    where
        F: Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder + Send + Sync,
    {
        let token = tokens.access_token(None).await?;
        let answer = self.send(target, build(&self.client, &token)).await?;
        let answer = if answer.status == 401 {
            // Refresh once (only if nobody else already did), then try again.
            let fresh = tokens.access_token(Some(&token)).await?;
            let again = self.send(target, build(&self.client, &fresh)).await?;
            if again.status == 401 {
                let body = serde_json::from_slice(&again.body).unwrap_or(Value::Null);
                let error = classify(401, &body, "", Duration::ZERO);
                if matches!(error, ConnectorError::Unauthorized { .. }) {
                    tokens.refused_after_refresh().await;
                    return Err(ConnectorError::needs_reconnect(
                        target.api,
                        Some(401),
                        error.remote().code.clone(),
                        "access token refused right after a refresh".to_owned(),
                    ));
                }
                return Err(error);
            }
            again
        } else {
            answer
        };
        if (200..300).contains(&answer.status) || pass.contains(&answer.status) {
            return Ok(answer);
        }
        let raw = String::from_utf8_lossy(&answer.body).into_owned();
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        let wait = retry_after(&answer.headers).unwrap_or_else(|| self.rate_limit_wait(target.api));
        Err(classify(answer.status, &body, &raw, wait))
    }

    /// One HTTP exchange inside the concurrency cap and the rate limit.
    async fn send(
        &self,
        target: &Target,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, ConnectorError> {
        let semaphore = self.semaphore(target);
        let _permit = semaphore.acquire_owned().await.map_err(|_| {
            ConnectorError::transient(target.api, None, "concurrency cap closed".to_owned())
        })?;
        let request = request
            .timeout(self.config.timeout)
            .build()
            .map_err(|error| transport_error(target.api, &error))?;
        // Held until the answer is read: QBO has certainly counted the call by then.
        let _slot = match target.api {
            Api::Qbo => {
                let batch = request.url().path().ends_with("/batch");
                Some(self.pacer(&target.account).slot(batch).await)
            }
            Api::Zoho | Api::ZohoOAuth => {
                if let Some(limiter) = &self.zoho_limiter {
                    limiter.until_key_ready(&target.tenant_id).await;
                }
                None
            }
            Api::IntuitOAuth => None,
        };
        let response = self
            .client
            .execute(request)
            .await
            .map_err(|error| transport_error(target.api, &error))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|error| transport_error(target.api, &error))?
            .to_vec();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// Timeouts and connection failures are transient; the URL is left out of the message.
pub(crate) fn transport_error(api: Api, error: &reqwest::Error) -> ConnectorError {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "transport error"
    };
    let detail = format!("{kind}: {}", DisplayWithoutUrl(error));
    ConnectorError::transient(api, None, detail)
}

struct DisplayWithoutUrl<'a>(&'a reqwest::Error);

impl std::fmt::Display for DisplayWithoutUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = self.0.to_string();
        if let Some(url) = self.0.url() {
            text = text.replace(url.as_str(), "<url>");
        }
        f.write_str(&text)
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", "7".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
    }
}
