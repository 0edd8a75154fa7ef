//! Log-in, sign-up and the password reset: centred cards outside the app shell. All are plain
//! forms posting to server functions, so they work before the WebAssembly has loaded too.
//! Log-in and sign-up carry `next` (where the user was going) through to the server, which
//! follows it only to a path on this site (`auth::safe_next`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{
    FORGOT_PAGE, LogIn, RequestPasswordReset, ResetLinkCheck, ResetPassword, SignUp,
    auth_page_info, reset_link_status, with_next,
};
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
    let was_reset = move || query.read().get("reset").is_some();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = Signal::derive(move || login.value().get().and_then(Result::err));
    let info = OnceResource::new(auth_page_info());
    // Drafts kept when a session ended are offered back on their page after logging in.
    let (drafts_kept, set_drafts_kept) = signal(false);
    Effect::new(move |_| set_drafts_kept.set(crate::session::drafts::any_kept()));
    let email_input = NodeRef::<leptos::html::Input>::new();
    let password_input = NodeRef::<leptos::html::Input>::new();

    view! {
        <AuthCard title="Log in">
            <Show when=expired>
                <p class="notice" role="status">
                    "Your session ended because it was idle. Log in again to continue."
                    <Show when=move || drafts_kept.get()>
                        " Your unsaved changes are kept in this browser and offered back after you log in."
                    </Show>
                </p>
            </Show>
            <Show when=was_reset>
                <p class="notice notice-ok" role="status">
                    "Your password is changed, and every session of your account has ended. Log in with your new password."
                </p>
            </Show>
            <Suspense>
                // Awaited inside `Suspend` (see the shell): no `.get()` under a Suspense.
                {move || Suspend::new(async move {
                    info.await
                        .ok()
                        .and_then(|info| info.demo_login)
                        .map(|(email, password)| {
                            let fill_email = email.clone();
                            let fill_password = password.clone();
                            let fill = move |_| {
                                if let (Some(e), Some(p)) = (email_input.get(), password_input.get()) {
                                    e.set_value(&fill_email);
                                    p.set_value(&fill_password);
                                }
                            };
                            view! {
                                <aside class="demo-login" aria-label="Sandbox demo login">
                                    <p>
                                        <strong>"Sandbox mode."</strong>
                                        " Look around with the demo login: "
                                        <code>{email}</code>
                                        " / "
                                        <code>{password}</code>
                                    </p>
                                    <button type="button" class="link-button" on:click=fill>
                                        "Fill in the demo login"
                                    </button>
                                </aside>
                            }
                        })
                })}
            </Suspense>
            <ActionForm action=login attr:class="form">
                <input type="hidden" name="next" value=next />
                <label>
                    <span>"Email"</span>
                    <input
                        type="email"
                        name="email"
                        required
                        autocomplete="username"
                        autofocus
                        node_ref=email_input
                    />
                </label>
                <label>
                    <span>"Password"</span>
                    <input
                        type="password"
                        name="password"
                        required
                        autocomplete="current-password"
                        node_ref=password_input
                    />
                </label>
                <p class="forgot-link">
                    <a href=FORGOT_PAGE>"Forgot your password?"</a>
                </p>
                <FormError error />
                <button type="submit" class="button button-primary" disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Logging in…" } else { "Log in" }}
                </button>
            </ActionForm>
            <p class="auth-switch">
                "New to zqsync? " <A href=move || with_next("/signup", &next())>"Create an account"</A>
            </p>
        </AuthCard>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let signup = ServerAction::<SignUp>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = Signal::derive(move || signup.value().get().and_then(Result::err));
    let (show_password, set_show_password) = signal(false);

    view! {
        <AuthCard title="Create your account">
            <p class="auth-lead">"Start on the free plan: accounts and products sync at no cost."</p>
            <ActionForm action=signup attr:class="form">
                <input type="hidden" name="next" value=next />
                <label>
                    <span>"Company name"</span>
                    <input type="text" name="company_name" required autocomplete="organization" autofocus />
                </label>
                <label>
                    <span>"Work email"</span>
                    <input type="email" name="email" required autocomplete="email" />
                </label>
                <NewPassword show_password set_show_password />
                <FormError error />
                <button type="submit" class="button button-primary" disabled=move || signup.pending().get()>
                    {move || if signup.pending().get() { "Creating your account…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p class="auth-switch">
                "Already have an account? " <A href=move || with_next("/login", &next())>"Log in"</A>
            </p>
        </AuthCard>
    }
}

/// A new password with its Show/Hide toggle and the rule: the same at sign-up and at a reset.
#[component]
fn NewPassword(
    show_password: ReadSignal<bool>,
    set_show_password: WriteSignal<bool>,
) -> impl IntoView {
    view! {
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
    }
}

/// "Forgot your password?": asks for the email and always gives the same answer, whether or
/// not an account has it.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let request = ServerAction::<RequestPasswordReset>::new();
    let query = use_query_map();
    let sent = move || query.read().get("sent").is_some();
    let error = Signal::derive(move || request.value().get().and_then(Result::err));

    view! {
        <AuthCard title="Reset your password">
            <Show
                when=sent
                fallback=move || {
                    view! {
                        <p class="auth-lead">
                            "Enter the email you log in with. We send you a link to choose a new password."
                        </p>
                        <ActionForm action=request attr:class="form">
                            <label>
                                <span>"Email"</span>
                                <input type="email" name="email" required autocomplete="username" autofocus />
                            </label>
                            <FormError error />
                            <button
                                type="submit"
                                class="button button-primary"
                                disabled=move || request.pending().get()
                            >
                                {move || if request.pending().get() { "Sending…" } else { "Send the link" }}
                            </button>
                        </ActionForm>
                    }
                }
            >
                <p class="notice notice-ok" role="status">
                    "If an account exists for that email, we sent a link to choose a new password. It works once, for 30 minutes; look in your spam folder too if it does not arrive."
                </p>
                <p class="auth-lead">
                    "Nothing came? " <a href=FORGOT_PAGE>"Send another link"</a>
                </p>
            </Show>
            <p class="auth-switch">
                <A href="/login">"Back to log in"</A>
            </p>
        </AuthCard>
    }
}

/// The page a reset link opens: a new password, if the link still works.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let status = Resource::new(token, |token| async move {
        if token.is_empty() {
            Ok(ResetLinkCheck::Invalid)
        } else {
            reset_link_status(token).await
        }
    });
    let error = Signal::derive(move || reset.value().get().and_then(Result::err));
    let (show_password, set_show_password) = signal(false);

    view! {
        <AuthCard title="Choose a new password">
            <Suspense fallback=|| view! { <p class="auth-lead">"Checking your link…"</p> }>
                // Awaited inside `Suspend`, not read with `.get()` (see the shell: leptos#4578).
                {move || Suspend::new(async move {
                    match status.await {
                            Ok(ResetLinkCheck::Valid) => {
                                view! {
                                    <p class="auth-lead">
                                        "Setting a new password logs you out everywhere, including other browsers."
                                    </p>
                                    <ActionForm action=reset attr:class="form">
                                        <input type="hidden" name="token" value=token />
                                        <NewPassword show_password set_show_password />
                                        <FormError error />
                                        <button
                                            type="submit"
                                            class="button button-primary"
                                            disabled=move || reset.pending().get()
                                        >
                                            {move || {
                                                if reset.pending().get() { "Saving…" } else { "Set new password" }
                                            }}
                                        </button>
                                    </ActionForm>
                                }
                                    .into_any()
                            }
                            Ok(state) => {
                                let why = if state == ResetLinkCheck::Expired {
                                    "This link is older than 30 minutes, so it no longer works."
                                } else {
                                    "This link does not work: it was used already, or it is not complete (copy the whole link from the email)."
                                };
                                view! {
                                    <p class="form-error" role="alert">{why}</p>
                                    <p class="auth-next">
                                        <a href=FORGOT_PAGE>"Ask for a new link"</a>
                                    </p>
                                }
                                    .into_any()
                            }
                            Err(error) => {
                                view! { <p class="form-error" role="alert">{error.to_string()}</p> }
                                    .into_any()
                            }
                        }
                })}
            </Suspense>
            <p class="auth-switch">
                <A href="/login">"Back to log in"</A>
            </p>
        </AuthCard>
    }
}
