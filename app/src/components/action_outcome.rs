//! What a settings form's server action answered: the message under the form, and a counter
//! of its successes for the Resource that reloads after a save.

use leptos::prelude::*;

use crate::error::AppError;

/// What a settings form's server function answered: its error, or `ok_text` once it
/// succeeded.
#[component]
pub fn ActionOutcome<S>(action: ServerAction<S>, ok_text: &'static str) -> impl IntoView
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    move || {
        action.value().get().map(|result| match result {
            Ok(_) => view! { <p class="saved" role="status">{ok_text}</p> }.into_any(),
            Err(error) => {
                view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()
            }
        })
    }
}

/// A counter bumped whenever `action` succeeds, so a Resource keyed on it reloads after a save
/// but keeps the user's edits on the form after a refusal.
pub fn successes<S>(action: ServerAction<S>) -> RwSignal<u32>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let count = RwSignal::new(0u32);
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) {
            count.update(|n| *n += 1);
        }
    });
    count
}
