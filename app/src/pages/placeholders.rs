//! Pages whose content arrives with later work (mapping, logs, filters, settings, plans, the
//! QuickBooks connection). Until then each shows its heading and an honest empty state that
//! says what will be here and where to go meanwhile; no control on them pretends to work.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

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
pub fn MappingPage() -> impl IntoView {
    view! {
        <PageHeader
            title="QuickBooks Mapping"
            lead="Choose which Zoho CRM field fills each QuickBooks Online field, per module."
        />
        <EmptyState title="No modules to map yet">
            <p>
                "Field mapping becomes available once Zoho CRM and QuickBooks Online are both connected. "
                "Each enabled module pair then lists its QuickBooks fields with a sensible default mapping."
            </p>
            <p>
                <A href="/settings">"Go to Settings"</A>
                " · "
                <A href="/help">"How zqsync works"</A>
            </p>
        </EmptyState>
    }
}

#[component]
pub fn FiltersPage() -> impl IntoView {
    view! {
        <PageHeader
            title="Filters"
            lead="Decide which records are copied, per module and direction."
        />
        <EmptyState title="No filters">
            <p>"Without filters, every new or changed record of an enabled module is synced."</p>
        </EmptyState>
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
