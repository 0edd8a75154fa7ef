//! The zqsync user interface: the app shell, pages and server functions. With feature `ssr` it
//! renders on the server and its server functions call the engine; with `hydrate` it runs in
//! the browser.

pub mod api;
pub mod components;
pub mod error;
pub mod pages;
pub mod session;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::shell::Shell;
use crate::pages::{auth_pages, help, not_found, outbox, plan, quickbooks, settings};

/// Bumped with the stylesheet so browsers never keep a stale copy.
pub const STYLESHEET_PATH: &str = "/style/zqsync.css?v=9";

/// Server functions a page calls on its own (status polls, the session's time left): the
/// server resolves their session without counting them as the user's activity.
pub fn is_passive_endpoint(path: &str) -> bool {
    api::run_status::PASSIVE_ENDPOINTS.contains(&path)
        || api::session::PASSIVE_ENDPOINTS.contains(&path)
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="stylesheet" href=STYLESHEET_PATH />
                <link rel="icon" href="data:," />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Lets end-to-end tests (and curious people) see that the page is interactive.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Title formatter=|page: String| format!("{page} · zqsync") />
        <Router>
            <Routes fallback=not_found::NotFound>
                <Route path=path!("/login") view=auth_pages::LoginPage />
                <Route path=path!("/signup") view=auth_pages::SignupPage />
                <Route path=path!("/forgot-password") view=auth_pages::ForgotPasswordPage />
                <Route path=path!("/reset-password") view=auth_pages::ResetPasswordPage />
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("") view=pages::mapping::MappingPage />
                    // Whole pages at once (not streamed), so the filters, the table and a `?details=`
                    // link work even where scripts do not run.
                    <Route path=path!("logs") view=pages::logs::LogsPage ssr=SsrMode::Async />
                    <Route path=path!("filters") view=pages::filters::FiltersPage />
                    <Route path=path!("settings") view=settings::SettingsPage />
                    <Route path=path!("plan") view=plan::ChangePlanPage />
                    <Route path=path!("outbox") view=outbox::OutboxPage />
                    <Route path=path!("quickbooks") view=quickbooks::QuickBooksPage />
                    <Route path=path!("help") view=help::HelpPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
