//! Proactive pacing of QBO calls per realm: at most N requests and M batch calls in any
//! rate-limit minute, so QBO never has to answer 429 (whose documented remedy is a full
//! minute's pause). QBO counts calls as they arrive; we cannot see that moment, but a call has
//! certainly arrived by the time its answer is back. So each call occupies its slot from the
//! moment it is sent until one window after its answer came back: whatever the network delay,
//! two calls of the same slot never arrive within one window. A full window still lets a
//! burst through at once (the best schedule under a sliding window), rather than spacing
//! calls evenly as a token bucket would.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// One sliding-window limit.
#[derive(Debug)]
struct Window {
    limit: usize,
    span: Duration,
    /// When the answers of recent calls came back, oldest first.
    answered: VecDeque<Instant>,
    in_flight: usize,
}

/// What a caller has to wait for before a slot is free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Free,
    /// The oldest answered call leaves the window then.
    Until(Instant),
    /// Every slot is taken by a call still in flight.
    Answer,
}

impl Window {
    fn new(limit: usize, span: Duration) -> Self {
        Self {
            limit: limit.max(1),
            span,
            answered: VecDeque::new(),
            in_flight: 0,
        }
    }

    fn wait(&mut self, now: Instant) -> Wait {
        while self
            .answered
            .front()
            .is_some_and(|at| *at + self.span <= now)
        {
            self.answered.pop_front();
        }
        if self.answered.len() + self.in_flight < self.limit {
            Wait::Free
        } else if let Some(oldest) = self.answered.front() {
            Wait::Until(*oldest + self.span)
        } else {
            Wait::Answer
        }
    }

    fn answered(&mut self, at: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.answered.push_back(at);
    }
}

#[derive(Debug)]
struct Windows {
    requests: Option<Window>,
    batches: Option<Window>,
}

/// The pacing of one realm.
#[derive(Debug)]
pub(crate) struct Pacer {
    windows: Mutex<Windows>,
    answered: Notify,
}

/// A call's slots; dropping it (when the answer is in) starts their window.
#[derive(Debug)]
pub(crate) struct Slot {
    pacer: Arc<Pacer>,
    batch: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let now = Instant::now();
        {
            let mut windows = self.pacer.lock();
            if let Some(window) = windows.requests.as_mut() {
                window.answered(now);
            }
            if self.batch
                && let Some(window) = windows.batches.as_mut()
            {
                window.answered(now);
            }
        }
        self.pacer.answered.notify_waiters();
    }
}

impl Pacer {
    pub fn new(requests: Option<usize>, batches: Option<usize>, span: Duration) -> Self {
        Self {
            windows: Mutex::new(Windows {
                requests: requests.map(|n| Window::new(n, span)),
                batches: batches.map(|n| Window::new(n, span)),
            }),
            answered: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Windows> {
        self.windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes a request slot (and a batch slot for a batch call), waiting until they are free.
    pub async fn slot(self: &Arc<Self>, batch: bool) -> Slot {
        loop {
            // Registered before looking, so an answer arriving in between still wakes us.
            let answered = self.answered.notified();
            let wait = {
                let mut windows = self.lock();
                let now = Instant::now();
                let request_wait = windows
                    .requests
                    .as_mut()
                    .map_or(Wait::Free, |w| w.wait(now));
                let batch_wait = match windows.batches.as_mut() {
                    Some(w) if batch => w.wait(now),
                    _ => Wait::Free,
                };
                match (request_wait, batch_wait) {
                    (Wait::Free, Wait::Free) => {
                        if let Some(w) = windows.requests.as_mut() {
                            w.in_flight += 1;
                        }
                        if batch && let Some(w) = windows.batches.as_mut() {
                            w.in_flight += 1;
                        }
                        return Slot {
                            pacer: self.clone(),
                            batch,
                        };
                    }
                    (Wait::Until(a), Wait::Until(b)) => Wait::Until(a.max(b)),
                    (Wait::Until(at), Wait::Free) | (Wait::Free, Wait::Until(at)) => {
                        Wait::Until(at)
                    }
                    _ => Wait::Answer,
                }
            };
            match wait {
                Wait::Until(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = answered => {}
                    }
                }
                _ => answered.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_window_frees_one_span_after_the_oldest_answer() {
        let start = Instant::now();
        let span = Duration::from_secs(60);
        let mut window = Window::new(2, span);
        assert_eq!(window.wait(start), Wait::Free);
        window.in_flight += 1;
        assert_eq!(window.wait(start), Wait::Free);
        window.in_flight += 1;
        // Both in flight: nothing frees until an answer is in.
        assert_eq!(window.wait(start), Wait::Answer);
        let first = start + Duration::from_secs(1);
        window.answered(first);
        assert_eq!(window.wait(first), Wait::Until(first + span));
        window.answered(first + Duration::from_secs(2));
        assert_eq!(
            window.wait(first + span - Duration::from_millis(1)),
            Wait::Until(first + span)
        );
        assert_eq!(window.wait(first + span), Wait::Free);
    }

    #[tokio::test]
    async fn a_burst_up_to_the_limit_passes_and_the_next_batch_waits_for_the_window() {
        let pacer = Arc::new(Pacer::new(Some(10), Some(3), Duration::from_secs(60)));
        let soon = Duration::from_secs(5);
        for _ in 0..3 {
            let slot = tokio::time::timeout(soon, pacer.slot(true)).await;
            drop(slot.expect("within the batch limit: no wait"));
        }
        // Plain requests still have room while the batch window is full.
        for _ in 0..5 {
            let slot = tokio::time::timeout(soon, pacer.slot(false)).await;
            drop(slot.expect("within the request limit: no wait"));
        }
        let fourth = tokio::time::timeout(Duration::from_millis(20), pacer.slot(true)).await;
        assert!(fourth.is_err(), "the fourth batch waits a minute");
        let ninth_and_tenth = tokio::time::timeout(Duration::from_millis(20), async {
            let _held = pacer.slot(false).await;
            pacer.slot(false).await
        })
        .await;
        assert!(ninth_and_tenth.is_ok(), "the ninth and tenth requests pass");
        let eleventh = tokio::time::timeout(Duration::from_millis(20), pacer.slot(false)).await;
        assert!(eleventh.is_err(), "the eleventh request waits");
    }
}
