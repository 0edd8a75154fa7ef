//! Logging (text or JSON) and the Prometheus recorder.
//!
//! Rule: no token, password, cookie or email address in a log line. Request logs carry the
//! method, the path without its query string (OAuth callbacks carry codes there), the status
//! and the latency.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the global subscriber. `RUST_LOG` overrides the default filter.
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        // The target too, so that audit events (`zqsync::audit`) can be routed.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_target(true)
            .try_init(),
    };
    // Tests start several servers in one process: the first subscriber wins.
    let _ = result;
}

/// The process-wide metrics recorder (metrics' macros need a global one), created on first use.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder is installed, in which case ours just stays empty.
        let _ = metrics::set_global_recorder(recorder);
        metrics::gauge!("zqsync_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        handle
    })
}
