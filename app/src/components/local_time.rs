//! A point in time shown in the reader's own time zone. The server cannot know that zone, so
//! the first render (and the page before hydration) says the time in UTC; once the browser
//! runs the app it rewrites the text in local time.

use leptos::prelude::*;

use crate::connections::format_time;

/// `2030-01-01T00:00Z` for the `datetime` attribute.
fn iso_minutes(millis: i64) -> String {
    let utc = format_time(millis); // "2030-01-01 00:00 UTC"
    format!("{}T{}Z", &utc[..10], &utc[11..16])
}

#[cfg(feature = "hydrate")]
fn local_text(millis: i64) -> Option<String> {
    use leptos::wasm_bindgen::JsValue;
    use leptos::web_sys::js_sys::{Date, Object, Reflect};
    #[allow(clippy::cast_precision_loss)] // milliseconds of this era fit an f64 exactly
    let date = Date::new(&JsValue::from_f64(millis as f64));
    let options = Object::new();
    Reflect::set(&options, &"dateStyle".into(), &"medium".into()).ok()?;
    Reflect::set(&options, &"timeStyle".into(), &"short".into()).ok()?;
    date.to_locale_string("default", &options).as_string()
}

#[cfg(not(feature = "hydrate"))]
fn local_text(_millis: i64) -> Option<String> {
    None
}

#[component]
pub fn LocalTime(millis: i64) -> impl IntoView {
    let (local, set_local) = signal(None::<String>);
    // Effects run in the browser only, after hydration, so the first render matches the server's.
    Effect::new(move |_| set_local.set(local_text(millis)));
    let utc = format_time(millis);
    let title = utc.clone();
    view! {
        <time datetime=iso_minutes(millis) title=title class="local-time">
            {move || local.get().unwrap_or_else(|| utc.clone())}
        </time>
    }
}

#[cfg(test)]
mod tests {
    use super::iso_minutes;

    #[test]
    fn datetime_attribute_is_iso() {
        assert_eq!(iso_minutes(1_893_456_000_000), "2030-01-01T00:00Z");
    }
}
