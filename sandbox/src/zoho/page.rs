//! `GET /crm/tab/{module}/{id}`: the record's page as a person sees it in Zoho CRM's web UI,
//! where the Logs page's Module Key links. Real Zoho serves it on the CRM host of the data centre
//! (`https://crm.zoho.com/crm/tab/Accounts/{id}`, web tab names such as `SalesOrders`); the
//! sandbox serves it on its API host, under the same path, and takes the module's API name
//! (`Sales_Orders`) as well. Field labels and types come from the org's field metadata.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate};
use serde_json::Value;

use super::meta::{FieldDef, ModuleDef};
use super::{Store, parse_time};
use crate::pages::{Page, money};
use crate::util::{html_escape, pacific};
use crate::{Shared, lock};

const BRAND: &str = "Zoho CRM";
const MARKER: &str = "Simulated Zoho CRM (sandbox)";
/// The simulated org, as the top bar names it.
const ORG: &str = "Sandbox Org";
/// Shown in the top bar; the system information section shows who created and changed it.
const SYSTEM_FIELDS: [&str; 5] = [
    "Owner",
    "Created_Time",
    "Created_By",
    "Modified_Time",
    "Modified_By",
];
/// Shown under the line items, as Zoho does.
const TOTAL_FIELDS: [&str; 4] = ["Sub_Total", "Discount", "Adjustment", "Grand_Total"];

const CSS: &str = r#"
main{max-width:1080px}
.crumbs{margin:0 0 4px;font-size:.86rem;color:var(--muted)}
.record-head h1{margin:0 0 6px}
.record-head .facts{margin:0;display:flex;flex-wrap:wrap;gap:4px 18px;font-size:.88rem;color:var(--muted)}
.record-head .facts strong{color:var(--text);font-weight:600}
.fields{margin:0;display:grid;grid-template-columns:repeat(2,minmax(0,1fr));column-gap:40px}
.fields div{display:grid;grid-template-columns:minmax(120px,40%) 1fr;gap:12px;align-items:baseline;padding:8px 0;
border-bottom:1px solid var(--border)}
.fields div.wide{grid-column:1/-1;grid-template-columns:minmax(120px,20%) 1fr}
.fields dt{color:var(--muted);font-size:.9rem}
.fields dd{margin:0;overflow-wrap:anywhere;white-space:pre-wrap}
details{margin-top:14px;font-size:.88rem;color:var(--muted)}
summary{cursor:pointer}
.lines{width:100%;border-collapse:collapse;font-size:.9rem}
.lines th,.lines td{text-align:left;padding:8px 10px;border-bottom:1px solid var(--border);vertical-align:top}
.lines thead th{background:var(--surface-muted);color:var(--muted);font-weight:600;font-size:.84rem}
.lines .num{text-align:right;white-space:nowrap}
.lines .note{display:block;color:var(--muted);font-size:.82rem}
.totals{margin:12px 0 0 auto;max-width:340px;font-size:.92rem}
.totals div{display:flex;justify-content:space-between;padding:4px 10px}
.totals dt{color:var(--muted)}.totals dd{margin:0;white-space:nowrap}
.totals .grand{border-top:1px solid var(--border-strong);margin-top:4px;padding-top:8px;font-weight:650}
.totals .grand dt{color:var(--text)}
.missing{max-width:640px;margin:0 auto;text-align:center;padding:40px 28px}
.missing p{color:var(--muted);margin:.5rem 0}
@media (max-width:760px){.fields{grid-template-columns:1fr}}
"#;

/// The path segment of a module in record URLs: Zoho's web tabs drop the underscores of the
/// API name (`Sales_Orders` → `SalesOrders`).
pub fn tab_name(api_name: &str) -> String {
    api_name.replace('_', "")
}

fn find_module<'a>(store: &'a Store, name: &str) -> Option<&'a ModuleDef> {
    store.modules.iter().find(|m| {
        !m.subform
            && (m.api_name.eq_ignore_ascii_case(name)
                || tab_name(m.api_name).eq_ignore_ascii_case(name))
    })
}

fn plural(module: &ModuleDef) -> String {
    module.api_name.replace('_', " ")
}

pub async fn record_page(
    State(shared): State<Arc<Shared>>,
    Path((module_name, id)): Path<(String, String)>,
) -> Response {
    let store = lock(&shared.zoho);
    let Some(module) = find_module(&store, &module_name) else {
        let known: Vec<String> = store
            .modules
            .iter()
            .filter(|m| !m.subform)
            .map(plural)
            .collect();
        return not_found(
            &format!("No module “{module_name}”"),
            &format!(
                "This org has no module called “{module_name}”. Its modules are {}.",
                known.join(", ")
            ),
        );
    };
    let record = id
        .parse::<u64>()
        .ok()
        .and_then(|key| store.records.get(module.api_name)?.get(&key));
    let Some(record) = record else {
        let deleted = store
            .deleted
            .get(module.api_name)
            .and_then(|rows| rows.iter().rev().find(|r| r["id"] == id.as_str()));
        let detail = match deleted {
            Some(row) => format!(
                "The {} record {id} was deleted on {} and is in the recycle bin.",
                module.singular,
                datetime_text(row["deleted_time"].as_str().unwrap_or_default())
            ),
            None => format!(
                "{} has no record with the id {id}. It may have been deleted, or the link is wrong.",
                plural(module)
            ),
        };
        return not_found("Record not found", &detail);
    };
    render(&store, module, record).respond(StatusCode::OK)
}

fn not_found(heading: &str, detail: &str) -> Response {
    Page {
        title: format!("{heading} · Zoho CRM (sandbox)"),
        brand: BRAND,
        context: Some(ORG),
        marker: MARKER,
        css: CSS,
        main: format!(
            "<section class=\"card missing\">\n<h1>{}</h1>\n<p>{}</p>\n</section>",
            html_escape(heading),
            html_escape(detail)
        ),
    }
    .respond(StatusCode::NOT_FOUND)
}

/// The record's name as Zoho shows it: the full name for people, else the display field.
fn record_name(module: &ModuleDef, record: &Value) -> String {
    let text = |field: &str| {
        record[field]
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let person = matches!(module.api_name, "Contacts" | "Leads");
    let name = if person {
        [text("First_Name"), text("Last_Name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        text(module.display_field).unwrap_or_default().to_owned()
    };
    if name.is_empty() {
        format!(
            "{} {}",
            module.singular,
            record["id"].as_str().unwrap_or_default()
        )
    } else {
        name
    }
}

fn render(store: &Store, module: &ModuleDef, record: &Value) -> Page<'static> {
    let name = record_name(module, record);
    let id = record["id"].as_str().unwrap_or_default();
    let mut main = String::new();

    // The head: where we are, the name, and who owns it.
    let facts: Vec<String> = [
        ("Owner", "Owner"),
        ("Created", "Created_Time"),
        ("Modified", "Modified_Time"),
    ]
    .iter()
    .filter_map(|(label, field)| {
        let def = module.fields.iter().find(|f| f.api_name == *field)?;
        let shown = value_html(store, def, &record[*field])?;
        Some(format!("<span>{label} <strong>{shown}</strong></span>"))
    })
    .collect();
    let _ = write!(
        main,
        "<section class=\"card record-head\">\n<p class=\"crumbs\">{plural} › {singular}</p>\n\
         <h1>{name}</h1>\n<p class=\"facts\">{facts}</p>\n</section>\n",
        plural = html_escape(&plural(module)),
        singular = html_escape(module.singular),
        name = html_escape(&name),
        facts = facts.join(""),
    );

    // The fields: every one with a value, labelled as the org's metadata labels it.
    let subform = module.fields.iter().find(|f| f.data_type == "subform");
    let is_shown_elsewhere = |f: &FieldDef| {
        SYSTEM_FIELDS.contains(&f.api_name)
            || f.data_type == "subform"
            || (subform.is_some() && TOTAL_FIELDS.contains(&f.api_name))
    };
    let mut rows = String::new();
    let mut empty = Vec::new();
    for field in module.fields.iter().filter(|f| !is_shown_elsewhere(f)) {
        match value_html(store, field, &record[field.api_name]) {
            Some(shown) => {
                let wide = if field.data_type == "textarea" {
                    " class=\"wide\""
                } else {
                    ""
                };
                let _ = writeln!(
                    rows,
                    "<div{wide} data-field=\"{api}\"><dt>{label}</dt><dd>{shown}</dd></div>",
                    api = html_escape(field.api_name),
                    label = html_escape(field.label),
                );
            }
            None if field.data_type != "profileimage" => empty.push(html_escape(field.label)),
            None => {}
        }
    }
    let _ = write!(
        main,
        "<section class=\"card\" aria-labelledby=\"info\">\n<h2 id=\"info\">{singular} Information</h2>\n\
         <dl class=\"fields\">\n{rows}</dl>\n",
        singular = html_escape(module.singular),
    );
    if !empty.is_empty() {
        let _ = writeln!(
            main,
            "<details><summary>Fields without a value ({})</summary><p>{}</p></details>",
            empty.len(),
            empty.join(", ")
        );
    }
    main.push_str("</section>\n");

    // Line items, with the totals under them.
    if let Some(items) = subform {
        main.push_str(&line_items(store, module, items, record));
    }

    // System information.
    let mut system = String::new();
    let _ = writeln!(
        system,
        "<div data-field=\"id\"><dt>Record Id</dt><dd>{}</dd></div>",
        html_escape(id)
    );
    for field in module
        .fields
        .iter()
        .filter(|f| SYSTEM_FIELDS.contains(&f.api_name))
    {
        if let Some(shown) = value_html(store, field, &record[field.api_name]) {
            let _ = writeln!(
                system,
                "<div data-field=\"{api}\"><dt>{label}</dt><dd>{shown}</dd></div>",
                api = html_escape(field.api_name),
                label = html_escape(field.label),
            );
        }
    }
    let _ = write!(
        main,
        "<section class=\"card\" aria-labelledby=\"system\">\n<h2 id=\"system\">System Information</h2>\n\
         <dl class=\"fields\">\n{system}</dl>\n</section>"
    );

    Page {
        title: format!("{}: {name} · Zoho CRM (sandbox)", plural(module)),
        brand: BRAND,
        context: Some(ORG),
        marker: MARKER,
        css: CSS,
        main,
    }
}

fn line_items(store: &Store, module: &ModuleDef, items: &FieldDef, record: &Value) -> String {
    let Some(sub) = items.related.and_then(|name| store.module(name)) else {
        return String::new();
    };
    let columns: Vec<&FieldDef> = sub
        .fields
        .iter()
        .filter(|f| !matches!(f.api_name, "Sequence_Number" | "Description"))
        .collect();
    let numeric = |f: &FieldDef| matches!(f.data_type, "currency" | "double" | "integer");
    let mut html = String::new();
    let _ = write!(
        html,
        "<section class=\"card\" aria-labelledby=\"items\">\n<h2 id=\"items\">{}</h2>\n\
         <table class=\"lines\">\n<thead><tr><th scope=\"col\">#</th>",
        html_escape(items.label)
    );
    for column in &columns {
        let class = if numeric(column) {
            " class=\"num\""
        } else {
            ""
        };
        let _ = write!(
            html,
            "<th scope=\"col\"{class}>{}</th>",
            html_escape(column.label)
        );
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    let rows = record[items.api_name]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (index, row) in rows.iter().enumerate() {
        let sequence = row["Sequence_Number"]
            .as_u64()
            .map_or_else(|| (index + 1).to_string(), |n| n.to_string());
        let _ = write!(html, "<tr><td>{sequence}</td>");
        for (position, column) in columns.iter().enumerate() {
            let shown = value_html(store, column, &row[column.api_name]).unwrap_or_default();
            let class = if numeric(column) {
                " class=\"num\""
            } else {
                ""
            };
            let note = match row["Description"].as_str().filter(|d| !d.is_empty()) {
                Some(text) if position == 0 => {
                    format!("<span class=\"note\">{}</span>", html_escape(text))
                }
                _ => String::new(),
            };
            let _ = write!(html, "<td{class}>{shown}{note}</td>");
        }
        html.push_str("</tr>\n");
    }
    if rows.is_empty() {
        let _ = writeln!(
            html,
            "<tr><td colspan=\"{}\" class=\"muted\">No line items.</td></tr>",
            columns.len() + 1
        );
    }
    html.push_str("</tbody>\n</table>\n<dl class=\"totals\">\n");
    for name in TOTAL_FIELDS {
        let Some(field) = module.fields.iter().find(|f| f.api_name == name) else {
            continue;
        };
        let value = &record[name];
        let shown = value_html(store, field, value).unwrap_or_else(|| format!("${}", money(0.0)));
        let class = if name == "Grand_Total" {
            " class=\"grand\""
        } else {
            ""
        };
        let _ = writeln!(
            html,
            "<div{class} data-field=\"{name}\"><dt>{}</dt><dd>{shown}</dd></div>",
            html_escape(field.label)
        );
    }
    html.push_str("</dl>\n</section>\n");
    html
}

/// `2026-05-05T02:00:00-07:00` → `May 5, 2026 02:00 AM` in the org's time zone.
fn datetime_text(text: &str) -> String {
    parse_time(text).map_or_else(
        || text.to_owned(),
        |t: DateTime<_>| {
            t.with_timezone(&pacific())
                .format("%b %-d, %Y %I:%M %p")
                .to_string()
        },
    )
}

/// A number without a pointless `.0`.
fn number_text(value: &Value) -> String {
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{n:.0}"),
        Some(n) => n.to_string(),
        None => value.to_string(),
    }
}

/// A field's value as escaped HTML; `None` when it has none.
fn value_html(store: &Store, field: &FieldDef, value: &Value) -> Option<String> {
    let text = value.as_str();
    match value {
        Value::Null => return None,
        Value::String(s) if s.trim().is_empty() || s == "-None-" => return None,
        Value::Array(items) if items.is_empty() => return None,
        _ => {}
    }
    let shown = match field.data_type {
        "lookup" => {
            let id = value["id"].as_str().or(text)?;
            let target = field.related.and_then(|t| store.module(t));
            let current = target.and_then(|t| {
                let row = store.get(t.api_name, id)?;
                Some(record_name(t, row))
            });
            let name = current
                .or_else(|| value["name"].as_str().map(str::to_owned))
                .unwrap_or_else(|| id.to_owned());
            match target {
                Some(t) => format!(
                    "<a href=\"/crm/tab/{}/{}\">{}</a>",
                    html_escape(&tab_name(t.api_name)),
                    html_escape(id),
                    html_escape(&name)
                ),
                None => html_escape(&name),
            }
        }
        "ownerlookup" => html_escape(value["name"].as_str().or(text)?),
        "currency" => format!("${}", money(value.as_f64()?)),
        "double" | "integer" | "percent" => {
            let number = number_text(value);
            if field.data_type == "percent" {
                format!("{number}%")
            } else {
                number
            }
        }
        "boolean" => match value.as_bool()? {
            true => "Yes".to_owned(),
            false => "No".to_owned(),
        },
        "date" => {
            let date = NaiveDate::parse_from_str(text?, "%Y-%m-%d").ok();
            html_escape(&date.map_or_else(
                || text.unwrap_or_default().to_owned(),
                |d| d.format("%b %-d, %Y").to_string(),
            ))
        }
        "datetime" => html_escape(&datetime_text(text?)),
        "email" => {
            let address = html_escape(text?);
            format!("<a href=\"mailto:{address}\">{address}</a>")
        }
        _ => match value {
            Value::String(s) => html_escape(s),
            Value::Array(items) => html_escape(
                &items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_owned)
                            .or_else(|| i["name"].as_str().map(str::to_owned))
                            .unwrap_or_else(|| i.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Value::Object(map) => html_escape(
                map.get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| value.to_string(), str::to_owned)
                    .as_str(),
            ),
            other => html_escape(&other.to_string()),
        },
    };
    Some(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_names_drop_underscores() {
        assert_eq!(tab_name("Sales_Orders"), "SalesOrders");
        assert_eq!(tab_name("Accounts"), "Accounts");
    }

    #[test]
    fn datetimes_show_in_the_org_time_zone() {
        assert_eq!(
            datetime_text("2026-05-05T16:30:00+00:00"),
            "May 5, 2026 09:30 AM"
        );
        assert_eq!(datetime_text("nonsense"), "nonsense");
    }

    #[test]
    fn numbers_drop_a_zero_fraction() {
        assert_eq!(number_text(&serde_json::json!(3.0)), "3");
        assert_eq!(number_text(&serde_json::json!(2.5)), "2.5");
    }
}
