//! What the simulated API services and the control API share: each service's own error
//! envelope for an injected fault or a tripped limit, the slow answer a fault asks for, and
//! the delivery of what a request queued (webhooks, notifications) once it is answered.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Value, json};

use crate::util::{json_response, qbo_time};
use crate::{Service, Shared};

/// A slow response to serve from inside the service's concurrency accounting: the control
/// API's `slow` fault puts it on the request; the service's guard sleeps it off while it holds
/// a concurrency slot ([`hold_if_slow`]).
#[derive(Debug, Clone, Copy)]
pub struct Delay(pub std::time::Duration);

/// Sleeps off the [`Delay`] a `slow` fault put on the request, if any. (The future does not
/// borrow the request, whose body is not `Sync`.)
pub fn hold_if_slow(request: &Request) -> impl Future<Output = ()> + Send + use<> {
    let delay = request.extensions().get::<Delay>().map(|d| d.0);
    async move {
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
    }
}

/// The service's own error envelope for an injected or limit-triggered failure.
pub fn error_body(shared: &Shared, service: Service, status: StatusCode) -> Value {
    let time = qbo_time(shared.now());
    match (service, status.as_u16()) {
        (Service::QboApi, 429) => json!({"Fault": {"Error": [{
            "Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
            "Detail": "The request limit was reached.  Try again later", "code": "3001"}], "type": "SERVICE"}, "time": time}),
        (Service::QboApi, _) => json!({"Fault": {"Error": [{
            "Message": "An application error has occurred while processing your request",
            "Detail": "System Failure Error: simulated failure", "code": "10000"}], "type": "SystemFault"}, "time": time}),
        (Service::ZohoApi, 429) => {
            json!({"code": "RATE_LIMIT_EXCEEDED", "message": "Too many requests. Please try again later.", "status": "error"})
        }
        (Service::ZohoApi, _) => {
            json!({"code": "INTERNAL_ERROR", "details": {}, "message": "Internal Server Error", "status": "error"})
        }
        (Service::StripeApi, 429) => {
            json!({"error": {"type": "invalid_request_error", "code": "rate_limit",
            "message": "Too many requests hit the API too quickly."}})
        }
        (Service::StripeApi, _) => {
            json!({"error": {"type": "api_error", "message": "Something went wrong on Stripe's end."}})
        }
        (_, 429) => json!({"error": "too_many_requests"}),
        _ => json!({"error": "server_error"}),
    }
}

/// An answer with `status` in the service's own error envelope.
pub fn error_response(shared: &Shared, service: Service, status: StatusCode) -> Response {
    json_response(status, &error_body(shared, service, status))
}

/// Sends what a service queued for delivery (webhooks, watch notifications).
pub type Deliver = fn(&Arc<Shared>);

/// Middleware: once a request is answered, `deliver` sends what it queued.
pub async fn deliver_after(
    State((shared, deliver)): State<(Arc<Shared>, Deliver)>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    deliver(&shared);
    response
}
