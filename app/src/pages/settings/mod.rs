//! Settings: one page, five tabs — Connections, Sync Direction, Sync Historical Data, Inventory
//! Settings, Schedule. The open tab lives in the URL (`?tab=direction`), so a reload or a shared
//! link keeps it, and the tabs are plain links that work before hydration. After hydration the
//! tab strip follows the ARIA tabs pattern: arrow keys, Home and End move between tabs.

mod connections;
mod direction;
mod history;
mod inventory;
mod schedule;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use connections::ConnectionsTab;
use direction::DirectionTab;
use history::HistoryTab;
use inventory::InventoryTab;
use schedule::ScheduleTab;

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
