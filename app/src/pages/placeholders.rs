//! Pages whose content arrives with later work (logs, help). Until then each shows its heading
//! and an honest empty state that says what will be here and where to go meanwhile; no control
//! on them pretends to work.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn PageHeader(title: &'static str, lead: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="page-header">
            <h1>{title}</h1>
            <p class="lead">{lead}</p>
        </div>
    }
}

#[component]
fn EmptyState(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="card empty-state">
            <div class="empty-icon" aria-hidden="true">"⇄"</div>
            <h2>{title}</h2>
            {children()}
        </section>
    }
}

#[component]
pub fn ChangePlanPage() -> impl IntoView {
    view! {
        <PageHeader title="Change Plan" lead="Compare plans and move between them." />
        <EmptyState title="You are on the Freemium plan">
            <p>"Freemium syncs Accounts ⇄ Customers and Products ⇄ Items at no cost."</p>
        </EmptyState>
    }
}

#[component]
pub fn HelpPage() -> impl IntoView {
    view! {
        <PageHeader title="Help" lead="How zqsync keeps Zoho CRM and QuickBooks Online in step." />
        <section class="card prose">
            <h2>"How it works"</h2>
            <ol>
                <li>"Connect Zoho CRM (Settings → Connections) and QuickBooks Online (user menu → QuickBooks Online)."</li>
                <li>"Choose, per module, which way records flow (Settings → Sync Direction)."</li>
                <li>"Check the field mapping of each module (QuickBooks Mapping) and, if you wish, add filters."</li>
                <li>"zqsync then copies new and changed records on a schedule, and whenever you press Sync now. Every record it touches is listed under Logs with its outcome."</li>
            </ol>
            <h2>"Good to know"</h2>
            <ul>
                <li>"Accounts and Products are the essential modules: quotes, orders and invoices need their customers and items synced first."</li>
                <li>"Sessions end after 10 minutes without activity; log in again to continue."</li>
                <li>"In sandbox mode the remote systems are simulated, so you can try everything safely."</li>
            </ul>
            <h2>"Support"</h2>
            <p>
                "Write to " <a href="mailto:support@zqsync.example">"support@zqsync.example"</a>
                " with the Module Key of any log entry you have a question about."
            </p>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <div class="auth-page">
            <div class="auth-card">
                <h1>"Page not found"</h1>
                <p>"There is no page at this address."</p>
                <p>
                    <a href="/" class="button button-primary">"Back to zqsync"</a>
                </p>
            </div>
        </div>
    }
}
