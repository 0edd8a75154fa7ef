//! Outbox (sandbox mode, user menu): the emails zqsync sent this account, newest first. In
//! sandbox mode no mail leaves the server, so this is where a person reads them.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::billing::{OutboxEntry, outbox};

#[component]
pub fn OutboxPage() -> impl IntoView {
    let emails = Resource::new(|| (), |()| outbox());
    view! {
        <Title text="Outbox" />
        <div class="page-header">
            <h1>"Outbox"</h1>
            <p class="lead">
                "Emails zqsync sent to this account. Sandbox mode only: nothing leaves this server."
            </p>
        </div>
        <Transition fallback=|| view! { <p class="lead">"Loading emails…"</p> }>
            // Awaited inside `Suspend`, not read with `.get()` (see the shell: leptos#4578).
            {move || Suspend::new(async move {
                match emails.await {
                        Ok(list) if list.is_empty() => {
                            view! {
                                <section class="card empty-state">
                                    <div class="empty-icon" aria-hidden="true">"✉"</div>
                                    <h2>"No emails yet"</h2>
                                    <p>
                                        "Plan changes send emails here (one when a plan is cancelled, one when a plan starts), and so does a password reset."
                                    </p>
                                    <p>
                                        <a href="/plan">"Go to Change Plan"</a>
                                    </p>
                                </section>
                            }
                                .into_any()
                        }
                        Ok(list) => {
                            view! {
                                <div class="outbox">
                                    {list
                                        .into_iter()
                                        .map(|email| view! { <EmailCard email /> })
                                        .collect_view()}
                                </div>
                            }
                                .into_any()
                        }
                        Err(error) => {
                            view! { <p class="form-error" role="alert">{error.to_string()}</p> }
                                .into_any()
                        }
                    }
            })}
        </Transition>
    }
}

#[component]
fn EmailCard(email: OutboxEntry) -> impl IntoView {
    let failed = email.delivery != "sent";
    view! {
        <article class="card email" data-kind=email.kind>
            <header class="email-head">
                <h2 class="email-subject">{email.subject}</h2>
                <span class="email-meta">
                    "To " {email.recipient} " · " {email.sent_at}
                    {failed.then(|| view! { <span class="email-failed">" · not delivered"</span> })}
                </span>
            </header>
            <pre class="email-body">{email_body(email.body, email.link)}</pre>
        </article>
    }
}

/// The body as text, with a link to this server in it (a password reset link) clickable.
fn email_body(body: String, link: Option<String>) -> AnyView {
    let Some(link) = link else {
        return body.into_any();
    };
    let Some((before, after)) = body.split_once(link.as_str()) else {
        return body.into_any();
    };
    let (before, after) = (before.to_owned(), after.to_owned());
    let href = link.clone();
    view! {
        {before}
        <a href=href>{link}</a>
        {after}
    }
    .into_any()
}
