//! The card over the table of a module pair that is off: review its mapping, then turn it on
//! from here.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::Busy;
use crate::api::mapping::{PageNotice, TurnOnOffer, turn_on_pair};

/// "… is off" with "Review done: turn on" (disabled while edits are unsaved); turning on
/// reloads the page's data with the server's message.
pub(super) fn off_pair_card(
    offer: &TurnOnOffer,
    pair: String,
    busy: RwSignal<Busy>,
    status: RwSignal<Option<(bool, String)>>,
    flash: RwSignal<Vec<PageNotice>>,
    version: RwSignal<u32>,
    dirty: Memo<bool>,
) -> impl IntoView {
    let busy_now = move || busy.get() != Busy::Idle;
    let turn_on = move |_| {
        let pair = pair.clone();
        busy.set(Busy::TurningOn);
        status.set(None);
        spawn_local(async move {
            match turn_on_pair(pair).await {
                Ok(message) => {
                    flash.set(vec![PageNotice::info(message)]);
                    version.update(|v| *v += 1);
                }
                Err(error) => {
                    status.set(Some((false, error.to_string())));
                    busy.set(Busy::Idle);
                }
            }
        });
    };
    view! {
        <section class="card turn-on-card" aria-label="This module is off">
            <div>
                <h2>{format!("{} is off", offer.pair_label)}</h2>
                <p>
                    "Nothing of this module is synced yet. Review its mapping below (Submit saves it), then turn it on: records created or changed from then on are copied "
                    {format!("({}).", offer.direction)}
                </p>
            </div>
            <div class="turn-on-actions">
                <button
                    type="button"
                    class="button button-primary"
                    on:click=turn_on
                    disabled=move || busy_now() || dirty.get()
                >
                    {move || if busy.get() == Busy::TurningOn { "Turning on…" } else { "Review done: turn on" }}
                </button>
                <Show when=move || dirty.get()>
                    <span class="muted small">"Submit or reset your changes first."</span>
                </Show>
            </div>
        </section>
    }
}
