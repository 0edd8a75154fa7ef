//! The frame of the few pages a person sees on the simulated hosts: the Zoho CRM record page, the
//! OAuth consent pages and the Checkout stand-in. They are on other origins than the app, so
//! each carries its own small stylesheet (the app's colours and type, from `style/zqsync.css`),
//! no script and no external asset, and says plainly that it is a simulation.

use std::fmt::Write;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::util::html_escape;

/// The app's palette and type, and the pieces every sandbox page uses.
const BASE_CSS: &str = r#"
:root{--bg:#f4f6fa;--surface:#fff;--surface-muted:#f8fafc;--border:#e3e8ef;--border-strong:#cdd5df;
--text:#1b2433;--muted:#5b6778;--accent:#2f6bff;--accent-strong:#1f54d6;--accent-soft:#e8efff;
--nav:#101a2e;--nav-text:#c6cfdd;--ok:#14804a;--ok-soft:#e3f5eb;--error:#c4302b;--error-soft:#fdeceb;
--warn:#a15c00;--warn-soft:#fff4e0;--radius:10px;
--shadow:0 1px 2px rgba(16,26,46,.06),0 4px 16px rgba(16,26,46,.05);
--font:"Inter","Segoe UI",system-ui,-apple-system,"Helvetica Neue",Arial,sans-serif}
*,*::before,*::after{box-sizing:border-box}
html,body{margin:0;background:var(--bg);color:var(--text);font-family:var(--font);font-size:15px;
line-height:1.5;-webkit-font-smoothing:antialiased}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
h1,h2,h3{line-height:1.25;margin:0 0 .5rem}h1{font-size:1.6rem;font-weight:650}
h2{font-size:1.15rem;font-weight:620}h3{font-size:1rem;font-weight:620}
:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.bar{display:flex;align-items:center;gap:14px;padding:12px 28px;background:var(--nav);color:#fff}
.brand{font-weight:700;font-size:1.05rem}.bar .context{color:var(--nav-text);font-size:.9rem}
.marker{margin-left:auto;padding:3px 11px;border-radius:999px;background:var(--warn-soft);
color:var(--warn);font-size:.8rem;font-weight:650;white-space:nowrap}
main{margin:32px auto;padding:0 20px}
.card{background:var(--surface);border:1px solid var(--border);border-radius:var(--radius);
box-shadow:var(--shadow);padding:24px}
.card+.card{margin-top:16px}
.muted{color:var(--muted)}.small{font-size:.86rem}
.button{display:inline-flex;align-items:center;justify-content:center;border-radius:8px;
padding:9px 18px;font:inherit;font-weight:600;border:1px solid var(--border-strong);
background:var(--surface);color:var(--text);cursor:pointer}
.button:hover{border-color:var(--muted)}
.button-primary{background:var(--accent);border-color:var(--accent);color:#fff}
.button-primary:hover{background:var(--accent-strong);border-color:var(--accent-strong)}
.badge{display:inline-flex;font-size:.75rem;font-weight:650;padding:2px 9px;border-radius:999px;
background:var(--accent-soft);color:var(--accent-strong);white-space:nowrap}
.alert{border-radius:var(--radius);padding:10px 14px;margin-bottom:16px;font-size:.92rem;
background:var(--error-soft);border:1px solid #f5c2bf;color:var(--error)}
footer{max-width:760px;margin:0 auto 32px;padding:0 20px;text-align:center;color:var(--muted);
font-size:.82rem}
"#;

/// One page: `brand` names the simulated product in the top bar (with an optional `context`
/// beside it), `marker` is the sandbox pill, `css` adds the page's own rules and `main` is the
/// already escaped content of `<main>`.
pub struct Page<'a> {
    pub title: String,
    pub brand: &'a str,
    pub context: Option<&'a str>,
    pub marker: &'a str,
    pub css: &'a str,
    pub main: String,
}

impl Page<'_> {
    pub fn render(&self) -> String {
        let mut html = String::with_capacity(self.main.len() + BASE_CSS.len() + 1024);
        let _ = write!(
            html,
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"robots\" content=\"noindex\">\n\
             <link rel=\"icon\" href=\"data:,\">\n<title>{title}</title>\n\
             <style>{BASE_CSS}{css}</style>\n</head>\n<body>\n\
             <header class=\"bar\"><span class=\"brand\">{brand}</span>",
            title = html_escape(&self.title),
            css = self.css,
            brand = html_escape(self.brand),
        );
        if let Some(context) = self.context {
            let _ = write!(
                html,
                "<span class=\"context\">{}</span>",
                html_escape(context)
            );
        }
        let _ = write!(
            html,
            "<span class=\"marker\" id=\"sandbox-marker\">{marker}</span></header>\n\
             <main>\n{main}\n</main>\n\
             <footer>Served by the zqsync sandbox on this machine: the data is demo data and \
             nothing here reaches the real service.</footer>\n</body>\n</html>\n",
            marker = html_escape(self.marker),
            main = self.main,
        );
        html
    }

    pub fn respond(&self, status: StatusCode) -> Response {
        (
            status,
            [
                (axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (axum::http::header::CACHE_CONTROL, "no-store"),
            ],
            self.render(),
        )
            .into_response()
    }
}

/// `1234.5` → `1,234.50`.
pub fn money(amount: f64) -> String {
    let negative = amount < 0.0;
    #[allow(clippy::cast_possible_truncation)]
    let cents = (amount.abs() * 100.0).round() as i64;
    let mut whole = (cents / 100).to_string();
    let mut grouped = String::new();
    while whole.len() > 3 {
        let tail = whole.split_off(whole.len() - 3);
        grouped = format!(",{tail}{grouped}");
    }
    format!(
        "{}{whole}{grouped}.{:02}",
        if negative { "-" } else { "" },
        cents % 100
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands_and_keeps_cents() {
        assert_eq!(money(0.0), "0.00");
        assert_eq!(money(29.0), "29.00");
        assert_eq!(money(1234.5), "1,234.50");
        assert_eq!(money(1_234_567.891), "1,234,567.89");
        assert_eq!(money(-50.25), "-50.25");
    }

    #[test]
    fn the_frame_escapes_what_it_is_given() {
        let page = Page {
            title: "<A & B>".to_owned(),
            brand: "Zoho \"CRM\"",
            context: Some("x<y"),
            marker: "Simulated",
            css: "",
            main: "<p>ok</p>".to_owned(),
        }
        .render();
        assert!(page.starts_with("<!doctype html>"));
        assert!(page.contains("<title>&lt;A &amp; B&gt;</title>"));
        assert!(page.contains("Zoho &quot;CRM&quot;"));
        assert!(page.contains("x&lt;y"));
        assert!(page.contains("<main>\n<p>ok</p>\n</main>"));
        assert!(!page.contains("<script"));
    }
}
