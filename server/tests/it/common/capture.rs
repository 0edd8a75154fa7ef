//! What the server logs during a test, and clients from several loopback addresses: for the
//! tests of throttling and of the audit trail.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

/// Collects what the server logs during a test (JSON lines). `#[tokio::test]` runs the server
/// on the test's own thread, so one global subscriber that writes each line to the emitting
/// thread's buffer keeps the tests apart. (Thread-local subscribers would do the same, but
/// tracing caches per-callsite interest across threads, and a test running in parallel can
/// leave an event switched off for them.)
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static SINK: std::cell::RefCell<Option<Captured>> = const { std::cell::RefCell::new(None) };
}

/// Writes to the buffer of the thread it runs on, if that thread captures.
struct ThreadSink;

impl std::io::Write for ThreadSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        SINK.with(|sink| {
            if let Some(captured) = &*sink.borrow() {
                captured
                    .0
                    .lock()
                    .expect("log buffer")
                    .extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops capturing when dropped.
pub struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        SINK.with(|sink| sink.borrow_mut().take());
    }
}

impl Captured {
    pub fn start() -> (Self, CaptureGuard) {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .json()
                .flatten_event(true)
                .with_max_level(tracing::Level::INFO)
                .with_writer(|| ThreadSink)
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        });
        let captured = Self::default();
        SINK.with(|sink| *sink.borrow_mut() = Some(captured.clone()));
        (captured, CaptureGuard)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }

    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    pub fn audit(&self) -> Vec<serde_json::Value> {
        self.lines()
            .into_iter()
            .filter(|line| line["target"] == "zqsync::audit")
            .collect()
    }
}

/// A browser-like client whose requests come from `127.0.0.{last}`: loopback has the whole
/// 127/8, so tests can play several client addresses against one server.
pub fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .build()
        .expect("build an HTTP client")
}
