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
