//! The "Get started" checklist on the home page: numbered steps, each ticked from the tenant's
//! real state, with the link that does it; gone once every step was done.

use leptos::prelude::*;

use crate::api::onboarding::{ConfirmGetStartedStep, GetStartedView, StepView, get_started};

#[component]
pub fn GetStarted() -> impl IntoView {
    let confirm = ServerAction::<ConfirmGetStartedStep>::new();
    let view = Resource::new(move || confirm.version().get(), |_| get_started());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                view.await
                    .ok()
                    .filter(|v| !v.steps.is_empty())
                    .map(|v| view! { <Checklist view=v confirm /> })
            })}
        </Transition>
    }
}

#[component]
fn Checklist(view: GetStartedView, confirm: ServerAction<ConfirmGetStartedStep>) -> impl IntoView {
    let done = view.done_count();
    let total = view.steps.len();
    if done == total {
        // The last step was just done: say so this once; the list does not come back.
        return view! {
            <section class="card get-started get-started-done" aria-labelledby="get-started-title">
                <h2 id="get-started-title">"Get started"</h2>
                <p role="status">
                    "All set: both systems are connected and the integration is active. zqsync syncs on its schedule; the Logs page shows every record it copies. This list will not show again."
                </p>
            </section>
        }
        .into_any();
    }
    // The first step not done yet is the one to do now.
    let next = view.steps.iter().position(|s| !s.done);
    view! {
        <section class="card get-started" aria-labelledby="get-started-title">
            <header class="get-started-head">
                <h2 id="get-started-title">"Get started"</h2>
                <span class="muted small" id="get-started-progress">
                    {format!("{done} of {total} done")}
                </span>
            </header>
            <ol class="get-started-steps">
                {view
                    .steps
                    .into_iter()
                    .enumerate()
                    .map(|(i, step)| {
                        view! { <Step step number=i + 1 current=next == Some(i) confirm /> }
                    })
                    .collect_view()}
            </ol>
        </section>
    }
    .into_any()
}

#[component]
fn Step(
    step: StepView,
    number: usize,
    current: bool,
    confirm: ServerAction<ConfirmGetStartedStep>,
) -> impl IntoView {
    let key = step.key.clone();
    view! {
        <li
            class="get-started-step"
            class:step-done=step.done
            class:step-current=current
            data-step=step.key.clone()
            data-done=step.done.to_string()
        >
            <span class="step-marker" aria-hidden="true">
                {if step.done { "✓".to_owned() } else { number.to_string() }}
            </span>
            <div class="step-text">
                <strong>{step.title}</strong>
                <span class="visually-hidden">{if step.done { " (done)" } else { " (to do)" }}</span>
                <span class="muted small block">{step.detail}</span>
            </div>
            {(!step.done)
                .then(|| {
                    view! {
                        <div class="step-actions">
                            <a
                                class="button button-small"
                                class:button-primary=current
                                href=step.href
                            >
                                {step.action}
                            </a>
                            {step
                                .confirm
                                .map(|label| {
                                    let key = key.clone();
                                    view! {
                                        <button
                                            type="button"
                                            class="button button-small button-quiet"
                                            disabled=move || confirm.pending().get()
                                            on:click=move |_| {
                                                confirm.dispatch(ConfirmGetStartedStep { step: key.clone() });
                                            }
                                        >
                                            {label}
                                        </button>
                                    }
                                })}
                        </div>
                    }
                })}
        </li>
    }
}
