//! Log-in and sign-up: centred cards outside the app shell. Both are plain forms posting to
//! server functions, so they work before the WebAssembly has loaded too.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::auth::{LogIn, SignUp};
use crate::error::AppError;

#[component]
fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="auth-page">
            <div class="auth-card">
                <div class="auth-brand">
                    <span class="brand-mark" aria-hidden="true">"zq"</span>
                    <span class="brand-name">"zqsync"</span>
                </div>
                <h1>{title}</h1>
                {children()}
            </div>
            <p class="auth-tagline">"Keep Zoho CRM and QuickBooks Online in step."</p>
        </div>
    }
}

#[component]
fn FormError(error: Signal<Option<AppError>>) -> impl IntoView {
    view! {
        <Show when=move || error.get().is_some()>
            <p class="form-error" role="alert">
                {move || error.get().map(|e| e.to_string())}
            </p>
        </Show>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<LogIn>::new();
    let query = use_query_map();
    let expired = move || query.read().get("expired").is_some();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = Signal::derive(move || login.value().get().and_then(Result::err));

    view! {
        <AuthCard title="Log in">
            <Show when=expired>
                <p class="notice" role="status">
                    "Your session ended because it was idle. Log in again to continue."
                </p>
            </Show>
            <ActionForm action=login attr:class="form">
                <input type="hidden" name="next" value=next />
                <label>
                    <span>"Email"</span>
                    <input type="email" name="email" required autocomplete="username" autofocus />
                </label>
                <label>
                    <span>"Password"</span>
                    <input type="password" name="password" required autocomplete="current-password" />
                </label>
                <FormError error />
                <button type="submit" class="button button-primary" disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Logging in…" } else { "Log in" }}
                </button>
            </ActionForm>
            <p class="auth-switch">
                "New to zqsync? " <A href="/signup">"Create an account"</A>
            </p>
        </AuthCard>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let signup = ServerAction::<SignUp>::new();
    let error = Signal::derive(move || signup.value().get().and_then(Result::err));
    let (show_password, set_show_password) = signal(false);

    view! {
        <AuthCard title="Create your account">
            <p class="auth-lead">"Start on the free plan: accounts and products sync at no cost."</p>
            <ActionForm action=signup attr:class="form">
                <label>
                    <span>"Company name"</span>
                    <input type="text" name="company_name" required autocomplete="organization" autofocus />
                </label>
                <label>
                    <span>"Work email"</span>
                    <input type="email" name="email" required autocomplete="email" />
                </label>
                <label>
                    <span>"Password"</span>
                    <span class="input-with-action">
                        <input
                            type=move || if show_password.get() { "text" } else { "password" }
                            name="password"
                            required
                            minlength="10"
                            autocomplete="new-password"
                        />
                        <button
                            type="button"
                            class="input-action"
                            aria-pressed=move || show_password.get().to_string()
                            on:click=move |_| set_show_password.update(|shown| *shown = !*shown)
                        >
                            {move || if show_password.get() { "Hide" } else { "Show" }}
                        </button>
                    </span>
                    <small class="hint">"At least 10 characters."</small>
                </label>
                <FormError error />
                <button type="submit" class="button button-primary" disabled=move || signup.pending().get()>
                    {move || if signup.pending().get() { "Creating your account…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p class="auth-switch">
                "Already have an account? " <A href="/login">"Log in"</A>
            </p>
        </AuthCard>
    }
}
