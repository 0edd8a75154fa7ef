//! A moment shown in the user's local time. The server cannot know the browser's time zone, so
//! it renders UTC (marked as such); once the page is interactive the browser rewrites the text
//! in local time and keeps UTC in the tooltip.

use leptos::prelude::*;

use crate::connections::format_time;

/// `YYYY-MM-DD HH:MM` in the browser's time zone (UTC with the suffix on the server).
pub fn local_text(millis: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsValue;
        use leptos::web_sys::js_sys::Date;
        #[allow(clippy::cast_precision_loss)]
        // millis since 1970 fit an f64 exactly until year 287396
        let date = Date::new(&JsValue::from_f64(millis as f64));
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            date.get_full_year(),
            date.get_month() + 1,
            date.get_date(),
            date.get_hours(),
            date.get_minutes()
        )
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
