//! The pace at which the pages ask for the run status again (the summary card, Settings →
//! Schedule).

use leptos::prelude::*;

/// A counter that a status resource tracks: it moves every 2 seconds while `busy` says a run is
/// going, asked for or due, and every 15 seconds otherwise (a timer run can start any time).
/// Browser only: effects do not run on the server.
pub fn use_status_ticker(busy: Signal<bool>) -> ReadSignal<u32> {
    const BUSY: std::time::Duration = std::time::Duration::from_secs(2);
    const IDLE: std::time::Duration = std::time::Duration::from_secs(15);
    let (tick, set_tick) = signal(0u32);
    Effect::new(move |_| {
        // Re-armed after every tick, and at once when the pace changes.
        tick.track();
        let pace = if busy.get() { BUSY } else { IDLE };
        let handle =
            set_timeout_with_handle(move || set_tick.update(|t| *t = t.wrapping_add(1)), pace).ok();
        on_cleanup(move || {
            if let Some(handle) = handle {
                handle.clear();
            }
        });
    });
    tick
}
