//! Settings. Connections now; sync direction, historical data, inventory and schedule join it
//! with the sync engine.

use leptos::prelude::*;
use leptos_meta::Title;

use super::connection_card::{CallbackNotice, ConnectionCard};
use crate::connections::{ConnectionCheck, Disconnect, connections};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let disconnect = ServerAction::<Disconnect>::new();
    let check = ServerAction::<ConnectionCheck>::new();
    // Refetched after a disconnect and after a check (which records the verified time or a
    // needed reconnect).
    let state = Resource::new(
        move || (disconnect.version().get(), check.version().get()),
        |_| connections(),
    );

    view! {
        <Title text="Settings" />
        <div class="page-header">
            <h1>"Settings"</h1>
            <p class="lead">"Connections, sync direction, historical data, inventory and schedule."</p>
        </div>
        <nav class="tabs" aria-label="Settings sections">
            <a href="/settings" class="tab tab-active" aria-current="page">"Connections"</a>
        </nav>
        <CallbackNotice />
        <Transition fallback=|| view! { <p class="muted">"Loading connections…"</p> }>
            {move || {
                state
                    .get()
                    .map(|result| match result {
                        Ok(view) => {
                            view! {
                                <div class="connection-grid">
                                    <ConnectionCard view=view.zoho disconnect check />
                                    <ConnectionCard view=view.qbo disconnect check />
                                </div>
                            }
                                .into_any()
                        }
                        Err(error) => {
                            view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()
                        }
                    })
            }}
        </Transition>
    }
}
