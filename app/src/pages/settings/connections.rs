//! Settings → Connections: the Zoho CRM and QuickBooks Online cards, with the OAuth callbacks'
//! notice.

use leptos::prelude::*;

use crate::api::connections::{ConnectionCheck, Disconnect, connections};
use crate::components::connection_card::{CallbackNotice, ConnectionCard};

#[component]
pub fn ConnectionsTab() -> impl IntoView {
    let disconnect = ServerAction::<Disconnect>::new();
    let check = ServerAction::<ConnectionCheck>::new();
    // Refetched after a disconnect and after a check (which records the verified time or a
    // needed reconnect).
    let state = Resource::new(
        move || (disconnect.version().get(), check.version().get()),
        |_| connections(),
    );
    view! {
        <CallbackNotice provider="zoho" system="Zoho CRM" />
        <Transition fallback=|| view! { <p class="muted">"Loading connections…"</p> }>
            // Awaited inside `Suspend`, not read with `.get()` (see the shell: leptos#4578).
            {move || Suspend::new(async move {
                match state.await {
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
                    }
            })}
        </Transition>
    }
}
