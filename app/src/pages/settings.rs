//! Settings: one page, five tabs — Connections, Sync Direction, Sync Historical Data, Inventory
//! Settings, Schedule. The open tab lives in the URL (`?tab=direction`), so a reload or a shared
//! link keeps it, and the tabs are plain links that work before hydration. After hydration the
//! tab strip follows the ARIA tabs pattern: arrow keys, Home and End move between tabs.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::connection_card::{CallbackNotice, ConnectionCard};
use super::settings_direction::DirectionTab;
use super::settings_history::HistoryTab;
use super::settings_inventory::InventoryTab;
use super::settings_schedule::ScheduleTab;
use crate::api::connections::{ConnectionCheck, Disconnect, connections};
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Connections,
    Direction,
    History,
    Inventory,
    Schedule,
}

impl Tab {
    const ALL: [Tab; 5] = [
        Tab::Connections,
        Tab::Direction,
        Tab::History,
        Tab::Inventory,
        Tab::Schedule,
    ];

    fn key(self) -> &'static str {
        match self {
            Tab::Connections => "connections",
            Tab::Direction => "direction",
            Tab::History => "history",
            Tab::Inventory => "inventory",
            Tab::Schedule => "schedule",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Connections => "Connections",
            Tab::Direction => "Sync Direction",
            Tab::History => "Sync Historical Data",
            Tab::Inventory => "Inventory Settings",
            Tab::Schedule => "Schedule",
        }
    }

    fn href(self) -> String {
        format!("/settings?tab={}", self.key())
    }

    fn id(self) -> String {
        format!("tab-{}", self.key())
    }

    /// An unknown or missing `?tab=` opens Connections (where the OAuth callbacks return).
    fn from_query(key: Option<&str>) -> Tab {
        Tab::ALL
            .into_iter()
            .find(|t| Some(t.key()) == key)
            .unwrap_or(Tab::Connections)
    }
}

#[cfg(feature = "hydrate")]
fn focus_tab(tab: Tab) {
    use leptos::wasm_bindgen::JsCast;
    if let Some(element) = document().get_element_by_id(&tab.id())
        && let Ok(element) = element.dyn_into::<leptos::web_sys::HtmlElement>()
    {
        let _ = element.focus();
    }
}

#[cfg(not(feature = "hydrate"))]
fn focus_tab(_tab: Tab) {}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let query = use_query_map();
    let tab = Memo::new(move |_| Tab::from_query(query.read().get("tab").as_deref()));
    let navigate = use_navigate();
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let Some(index) = Tab::ALL.iter().position(|t| *t == tab.get_untracked()) else {
            return;
        };
        let last = Tab::ALL.len() - 1;
        let next = match ev.key().as_str() {
            "ArrowRight" => {
                if index == last {
                    0
                } else {
                    index + 1
                }
            }
            "ArrowLeft" => index.checked_sub(1).unwrap_or(last),
            "Home" => 0,
            "End" => last,
            _ => return,
        };
        ev.prevent_default();
        let target = Tab::ALL[next];
        navigate(&target.href(), Default::default());
        focus_tab(target);
    };

    view! {
        <Title text="Settings" />
        <div class="page-header">
            <h1>"Settings"</h1>
            <p class="lead">
                "Connections, sync direction, historical data, inventory accounts and the sync schedule."
            </p>
        </div>
        <div class="tabs" role="tablist" aria-label="Settings sections" on:keydown=on_keydown>
            {Tab::ALL
                .into_iter()
                .map(|t| {
                    let selected = move || tab.get() == t;
                    view! {
                        <a
                            href=t.href()
                            id=t.id()
                            role="tab"
                            class="tab"
                            class:tab-active=selected
                            aria-selected=move || selected().to_string()
                            aria-controls="settings-panel"
                            tabindex=move || if selected() { "0" } else { "-1" }
                        >
                            {t.label()}
                        </a>
                    }
                })
                .collect_view()}
        </div>
        <div
            class="tab-panel"
            id="settings-panel"
            role="tabpanel"
            aria-labelledby=move || tab.get().id()
        >
            {move || match tab.get() {
                Tab::Connections => view! { <ConnectionsTab /> }.into_any(),
                Tab::Direction => view! { <DirectionTab /> }.into_any(),
                Tab::History => view! { <HistoryTab /> }.into_any(),
                Tab::Inventory => view! { <InventoryTab /> }.into_any(),
                Tab::Schedule => view! { <ScheduleTab /> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn ConnectionsTab() -> impl IntoView {
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

/// What a settings form's server function answered: its error, or `ok_text` once it
/// succeeded.
#[component]
pub fn ActionOutcome<S>(action: ServerAction<S>, ok_text: &'static str) -> impl IntoView
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    move || {
        action.value().get().map(|result| match result {
            Ok(_) => view! { <p class="saved" role="status">{ok_text}</p> }.into_any(),
            Err(error) => {
                view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()
            }
        })
    }
}

/// A counter bumped whenever `action` succeeds, so a Resource keyed on it reloads after a save
/// but keeps the user's edits on the form after a refusal.
pub fn successes<S>(action: ServerAction<S>) -> RwSignal<u32>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let count = RwSignal::new(0u32);
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) {
            count.update(|n| *n += 1);
        }
    });
    count
}

/// A padlock, drawn rather than an emoji so it looks the same on every system.
#[component]
pub fn LockIcon() -> impl IntoView {
    view! {
        <svg class="icon-lock" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" focusable="false">
            <rect x="3" y="7" width="10" height="7.5" rx="1.5" fill="currentColor" />
            <path d="M5 7V5a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" stroke-width="1.6" />
        </svg>
    }
}
