//! Change notifications: after each request (and each control-API change) the changes it made
//! are POSTed to the configured endpoint, signed with `intuit-signature`, as CloudEvents or in
//! the legacy `eventNotifications` format.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Notice;
use crate::{Shared, lock};

/// Sends queued change notices (from API calls or control-API changes) in the background.
pub(super) fn flush_webhooks(shared: &Arc<Shared>) {
    let notices: Vec<(String, Notice)> = {
        let mut store = lock(&shared.qbo);
        store
            .realms
            .iter_mut()
            .flat_map(|(realm, r)| {
                std::mem::take(&mut r.notices)
                    .into_iter()
                    .map(|n| (realm.clone(), n))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let Some(url) = shared.config.qbo_webhook_url.clone() else {
        return;
    };
    if notices.is_empty() {
        return;
    }
    let body = match shared.config.qbo_webhook_format {
        crate::QboWebhookFormat::CloudEvents => cloud_events(&notices),
        crate::QboWebhookFormat::Legacy => legacy_notifications(&notices),
    }
    .to_string();
    use base64::Engine;
    let signature = base64::engine::general_purpose::STANDARD.encode(crate::util::hmac_sha256(
        shared.config.qbo_webhook_verifier_token.as_bytes(),
        body.as_bytes(),
    ));
    let http = shared.http.clone();
    tokio::spawn(async move {
        for attempt in 0..3u32 {
            let sent = http
                .post(&url)
                .header("content-type", "application/json")
                .header("intuit-signature", &signature)
                .body(body.clone())
                .send()
                .await;
            if sent.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200 * 2u64.pow(attempt))).await;
        }
        tracing::warn!(%url, "QBO webhook delivery gave up");
    });
}

fn cloud_events(notices: &[(String, Notice)]) -> Value {
    let events: Vec<Value> = notices
        .iter()
        .map(|(realm, n)| {
            let verb = match n.operation {
                "Create" => "created",
                "Delete" => "deleted",
                "Void" => "voided",
                _ => "updated",
            };
            let hex = crate::util::random_token(32).to_lowercase().chars().map(|c| if c.is_ascii_hexdigit() { c } else { 'a' }).collect::<String>();
            json!({
                "specversion": "1.0",
                "id": format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32]),
                "source": "intuit.sandbox",
                "type": format!("qbo.{}.{verb}.v1", n.entity.to_lowercase()),
                "datacontenttype": "application/json",
                "time": n.at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                "intuitentityid": n.id,
                "intuitaccountid": realm,
                "data": {},
            })
        })
        .collect();
    Value::Array(events)
}

fn legacy_notifications(notices: &[(String, Notice)]) -> Value {
    let mut realms: Vec<&String> = notices.iter().map(|(r, _)| r).collect();
    realms.dedup();
    let notifications: Vec<Value> = realms
        .into_iter()
        .map(|realm| {
            let entities: Vec<Value> = notices
                .iter()
                .filter(|(r, _)| r == realm)
                .map(|(_, n)| {
                    let stamp = n.at.with_timezone(&crate::util::pacific()).format("%Y-%m-%dT%H:%M:%S%z").to_string();
                    json!({"name": n.entity, "id": n.id, "operation": n.operation, "lastUpdated": stamp})
                })
                .collect();
            json!({"realmId": realm, "dataChangeEvent": {"entities": entities}})
        })
        .collect();
    json!({"eventNotifications": notifications})
}
