//! A moment shown in the user's local time and locale. The server cannot know the browser's
//! time zone, so it renders UTC (marked as such); once the page is interactive the browser
//! rewrites the text in local time and keeps UTC in the tooltip.

use leptos::prelude::*;

/// Formats Unix milliseconds for the pages (UTC; the pages say so).
pub fn format_time(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

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

#[cfg(test)]
mod tests {
    use super::format_time;

    #[test]
    fn times_format_as_utc_dates() {
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_time(1_893_456_000_000), "2030-01-01 00:00 UTC");
        assert_eq!(
            format_time(951_782_400_000 + 3_723_000),
            "2000-02-29 01:02 UTC"
        );
    }
}
