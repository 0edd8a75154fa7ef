//! The frame around every page after log-in: left navigation, the user menu at the top right,
//! and the banner area for sandbox mode and connection problems.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_location;

use crate::api::auth::{AccountView, LogOut, current_account, with_next};
use crate::error::AppError;
use crate::session::idle::{IdleWatch, Phase, SessionWatch};

const NAV: [(&str, &str); 4] = [
    ("/", "QuickBooks Mapping"),
    ("/logs", "Logs"),
    ("/filters", "Filters"),
    ("/settings", "Settings"),
];

/// Bumped by a page that changed what the top bar shows (the plan), to reload it.
#[derive(Debug, Clone, Copy)]
pub struct AccountRefresh(pub RwSignal<u32>);

#[component]
pub fn Shell() -> impl IntoView {
    let location = use_location();
    // Re-checked on every navigation: an idle-expired session is noticed on the next click,
    // not only on the next full page load.
    let refresh = AccountRefresh(RwSignal::new(0));
    provide_context(refresh);
    let account = Resource::new(
        move || (location.pathname.get(), refresh.0.get()),
        |_| current_account(),
    );
    // Where to come back to after logging in again.
    let here = move || {
        format!(
            "{}{}",
            location.pathname.get_untracked(),
            location.search.get_untracked()
        )
    };

    // The session watch, for the pages too (drafts, a Submit after the session ended).
    let watch = SessionWatch::new();
    provide_context(watch);

    view! {
        <IdleWatch watch />
        <ShellWatch account watch />
        <div class="app">
            <aside class="sidenav" aria-label="Main">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"zq"</span>
                    <span class="brand-name">"zqsync"</span>
                </a>
                <nav>
                    <ul>
                        {NAV
                            .into_iter()
                            .map(|(href, label)| {
                                view! {
                                    <li>
                                        <A href=href exact=true>
                                            {label}
                                        </A>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </nav>
                <p class="sidenav-foot">"Zoho CRM ⇄ QuickBooks Online"</p>
            </aside>
            <div class="main">
                <Transition fallback=|| view! { <header class="topbar" /> }>
                    // Awaited inside `Suspend`, not read with `.get()`: the reactive read
                    // pattern lets a server-rendered page stall now and then (leptos#4578).
                    {move || Suspend::new(async move {
                        match account.await {
                            Ok(account) => view! { <TopBar account /> }.into_any(),
                            Err(AppError::NotLoggedIn) => {
                                view! { <Redirect path=with_next("/login?expired=1", &here()) /> }
                                    .into_any()
                            }
                            Err(error) => {
                                view! {
                                    <header class="topbar" />
                                    <div class="banner banner-error" role="alert">
                                        {error.to_string()}
                                    </div>
                                }
                                    .into_any()
                            }
                        }
                    })}
                </Transition>
                <main class="content" id="content">
                    <Outlet />
                </main>
            </div>
        </div>
    }
}

/// Keeps the session watch informed: whose drafts (the account), and activity during the
/// warning (the account is read again on every navigation, a request that counts as activity:
/// once it is answered, the warning may be over).
#[component]
fn ShellWatch(
    account: Resource<Result<AccountView, AppError>>,
    watch: SessionWatch,
) -> impl IntoView {
    Effect::new(move |_| {
        if let Some(Ok(account)) = account.get() {
            watch.scope.set(Some(account.draft_scope));
            if watch.phase.get_untracked() == Phase::Warning {
                watch.check_now();
            }
        }
    });
}

#[component]
fn TopBar(account: AccountView) -> impl IntoView {
    let logout = ServerAction::<LogOut>::new();
    let scope = account.draft_scope.clone();
    // Logging out on purpose leaves nothing of the user's edits in this browser.
    let forget_drafts = move |_| crate::session::drafts::forget(Some(&scope));
    let (menu_open, set_menu_open) = signal(false);
    let initial = account
        .company_name
        .chars()
        .next()
        .unwrap_or('?')
        .to_uppercase()
        .to_string();
    let sandbox = account.sandbox_mode;
    let billing_notice = account.billing_notice.clone();
    let reconnect = account.needs_reconnect.clone();
    // A click anywhere outside the open menu closes it, as menus do.
    let menu = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let handle = window_event_listener(leptos::ev::click, move |ev| {
            if !menu_open.get_untracked() {
                return;
            }
            let inside = menu.get_untracked().is_some_and(|menu| {
                ev.target()
                    .and_then(|t| {
                        leptos::wasm_bindgen::JsCast::dyn_into::<leptos::web_sys::Node>(t).ok()
                    })
                    .is_some_and(|node| menu.contains(Some(&node)))
            });
            if !inside {
                set_menu_open.set(false);
            }
        });
        on_cleanup(move || handle.remove());
    });

    view! {
        <header class="topbar">
            <div class="topbar-company">
                <span class="company-name">{account.company_name.clone()}</span>
                <span class="plan-chip">{plan_label(&account.plan)}</span>
            </div>
            <div
                class="user-menu"
                node_ref=menu
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        set_menu_open.set(false);
                    }
                }
            >
                <button
                    type="button"
                    class="user-menu-button"
                    aria-haspopup="menu"
                    aria-expanded=move || menu_open.get().to_string()
                    on:click=move |_| set_menu_open.update(|open| *open = !*open)
                >
                    <span class="avatar" aria-hidden="true">{initial}</span>
                    <span class="user-email">{account.email.clone()}</span>
                    <span class="caret" aria-hidden="true">"▾"</span>
                </button>
                <div class="user-menu-list" role="menu" hidden=move || !menu_open.get()>
                    <A href="/plan" on:click=move |_| set_menu_open.set(false)>
                        "Change Plan"
                    </A>
                    <A href="/quickbooks" on:click=move |_| set_menu_open.set(false)>
                        "QuickBooks Online"
                    </A>
                    <Show when=move || sandbox>
                        <A href="/outbox" on:click=move |_| set_menu_open.set(false)>
                            "Outbox"
                        </A>
                    </Show>
                    <A href="/help" on:click=move |_| set_menu_open.set(false)>
                        "Help"
                    </A>
                    <ActionForm action=logout>
                        <button
                            type="submit"
                            class="menu-item-button"
                            role="menuitem"
                            on:click=forget_drafts
                        >
                            "Logout"
                        </button>
                    </ActionForm>
                </div>
            </div>
        </header>
        <div class="banners">
            {reconnect
                .into_iter()
                .map(|notice| {
                    view! {
                        <div class="banner banner-danger" role="alert">
                            <strong>{format!("{} is disconnected.", notice.name)}</strong>
                            " Its sign-in stopped working, so syncing is paused. "
                            <a href=notice.reconnect_href rel="external">
                                {format!("Reconnect {}", notice.name)}
                            </a>
                        </div>
                    }
                })
                .collect_view()}
            <Show when=move || sandbox>
                <div class="banner banner-info" role="status">
                    <strong>"Sandbox mode."</strong>
                    " Zoho CRM, QuickBooks Online and Stripe are simulated on this server with demo data; nothing reaches the real services."
                </div>
            </Show>
            {billing_notice
                .map(|text| {
                    view! {
                        <div class="banner banner-warn" role="alert" id="billing-banner">
                            {text}
                            " "
                            <A href="/plan">"Change Plan"</A>
                        </div>
                    }
                })}
        </div>
    }
}

pub fn plan_label(plan: &str) -> &'static str {
    match plan {
        "freemium" => "Freemium",
        "standard_monthly" => "Standard · monthly",
        "standard_annual" => "Standard · annual",
        "professional_monthly" => "Professional · monthly",
        "professional_annual" => "Professional · annual",
        _ => "Unknown plan",
    }
}
