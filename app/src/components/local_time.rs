//! A moment shown in the user's local time and locale. The server cannot know the browser's
//! time zone, so it renders UTC (marked as such); once the page is interactive the browser
//! rewrites the text in local time and keeps UTC in the tooltip.

use leptos::prelude::*;

use crate::connections::format_time;

/// A moment in the browser's time zone and the user's locale ("Dec 7, 2026, 4:25 PM" in the
/// US, "7 Dec 2026, 16:25" in the UK): one format for every time the app shows. On the server
/// (which cannot know either) it is `YYYY-MM-DD HH:MM UTC`.
pub fn local_text(millis: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsValue;
        use leptos::web_sys::js_sys::{Date, Object, Reflect};
        #[allow(clippy::cast_precision_loss)]
        // millis since 1970 fit an f64 exactly until year 287396
        let date = Date::new(&JsValue::from_f64(millis as f64));
        let options = Object::new();
        let _ = Reflect::set(&options, &"dateStyle".into(), &"medium".into());
        let _ = Reflect::set(&options, &"timeStyle".into(), &"short".into());
        String::from(date.to_locale_string("default", &options))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        format_time(millis)
    }
}

#[component]
pub fn LocalTime(millis: i64) -> impl IntoView {
    let (hydrated, set_hydrated) = signal(false);
    // Effects run in the browser only, after hydration: the first render matches the server's.
    Effect::new(move |_| set_hydrated.set(true));
    let utc = format_time(millis);
    let datetime = utc.replace(" UTC", "Z");
    let title = utc.clone();
    view! {
        <time datetime=datetime title=title>
            {move || if hydrated.get() { local_text(millis) } else { utc.clone() }}
        </time>
    }
}
