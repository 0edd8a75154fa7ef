//! The simulated Zoho CRM's record page (`/crm/tab/{module}/{id}` on the API host), where the
//! Logs page's Module Key links: labels from the field metadata, values as the CRM shows them,
//! lookups by name, line items, 404s in the same style. (The consent pages are tested in
//! `oauth.rs`, the Checkout stand-in in `stripe.rs`.)

use crate::common;

use chrono::{DateTime, FixedOffset};
use common::{Harness, assert_sane_html, page_text};
use serde_json::Value;

/// `12300.0` → `$12,300.00`, as the page writes currencies.
fn dollars(amount: f64) -> String {
    let cents = format!("{:.2}", amount.abs());
    let (whole, fraction) = cents.split_once('.').unwrap();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if amount < 0.0 { "-" } else { "" };
    format!("{sign}${grouped}.{fraction}")
}

/// `2026-05-05T01:59:00-07:00` → `May 5, 2026 01:59 AM` (the org's time zone, as Zoho shows it).
fn shown_time(zoho_time: &str) -> String {
    let pacific = FixedOffset::west_opt(7 * 3600).unwrap();
    DateTime::parse_from_rfc3339(zoho_time)
        .unwrap()
        .with_timezone(&pacific)
        .format("%b %-d, %Y %I:%M %p")
        .to_string()
}

/// The label and the text of the value of the row for `api_name` (`data-field`).
fn row(html: &str, api_name: &str) -> Option<(String, String)> {
    let start = html.find(&format!("data-field=\"{api_name}\""))?;
    let rest = &html[start..];
    let end = rest.find("</div>")?;
    let row = &rest[..end];
    let label = row.split("<dt>").nth(1)?.split("</dt>").next()?;
    let value = row.split("<dd>").nth(1)?.split("</dd>").next()?;
    Some((page_text(label), page_text(value)))
}

async fn records(h: &Harness, module: &str) -> Vec<Value> {
    let url = format!("{}/_sandbox/zoho/{module}", h.sandbox.urls().zoho_api);
    let body: Value = h.http.get(url).send().await.unwrap().json().await.unwrap();
    body["records"].as_array().unwrap().clone()
}

/// GETs a record page; returns (status, HTML) after the sanity check.
async fn open(h: &Harness, path: &str) -> (u16, String) {
    let response = h
        .http
        .get(format!("{}{path}", h.sandbox.urls().zoho_api))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let html = response.text().await.unwrap();
    assert_sane_html(&html);
    (status, html)
}

#[tokio::test]
async fn an_account_page_shows_its_fields_by_label_and_who_made_it() {
    let h = Harness::start(3).await;
    let account = records(&h, "Accounts").await.remove(0);
    let id = account["id"].as_str().unwrap();
    let name = account["Account_Name"].as_str().unwrap();

    let (status, html) = open(&h, &format!("/crm/tab/Accounts/{id}")).await;
    assert_eq!(status, 200);
    let text = page_text(&html);
    assert!(text.contains("Simulated Zoho CRM (sandbox)"), "{text}");
    assert!(
        html.contains(&format!(
            "<title>Accounts: {name} · Zoho CRM (sandbox)</title>"
        )),
        "module and name in the title"
    );
    assert!(html.contains(&format!("<h1>{name}</h1>")), "{html}");
    assert!(text.contains("Accounts › Account"), "{text}");

    // Every field with a value, labelled from the metadata and written as the CRM writes it.
    let text_field = |field: &str| account[field].as_str().unwrap().to_owned();
    for (api_name, label, value) in [
        ("Account_Name", "Account Name", text_field("Account_Name")),
        (
            "Account_Number",
            "Account Number",
            text_field("Account_Number"),
        ),
        ("Phone", "Phone", text_field("Phone")),
        ("Account_Type", "Account Type", text_field("Account_Type")),
        ("Industry", "Industry", text_field("Industry")),
        ("Billing_City", "Billing City", text_field("Billing_City")),
        (
            "Billing_Country",
            "Billing Country",
            text_field("Billing_Country"),
        ),
        (
            "Credit_Limit",
            "Credit Limit",
            dollars(account["Credit_Limit"].as_f64().unwrap()),
        ),
        ("id", "Record Id", id.to_owned()),
        ("Owner", "Owner", "Sandbox Admin".to_owned()),
        ("Created_By", "Created By", "Sandbox Admin".to_owned()),
        (
            "Created_Time",
            "Created Time",
            shown_time(account["Created_Time"].as_str().unwrap()),
        ),
        (
            "Modified_Time",
            "Modified Time",
            shown_time(account["Modified_Time"].as_str().unwrap()),
        ),
    ] {
        assert_eq!(
            row(&html, api_name),
            Some((label.to_owned(), value)),
            "row {api_name}"
        );
    }
    // The head says who owns it and when it was made and changed.
    let created = shown_time(account["Created_Time"].as_str().unwrap());
    assert!(
        text.contains(&format!("Owner Sandbox Admin Created {created} Modified")),
        "{text}"
    );
    // Unset fields are not rows; they are listed by label under a disclosure.
    assert_eq!(row(&html, "Website"), None);
    assert!(text.contains("Fields without a value"), "{text}");
    assert!(text.contains("Website"), "{text}");
    // No `$…` system flags or raw JSON on the page.
    assert!(!text.contains("$approval"), "{text}");
    assert!(!text.contains("{\""), "{text}");
}

#[tokio::test]
async fn a_contact_shows_its_account_by_name_with_a_link_to_it() {
    let h = Harness::start(3).await;
    let contact = records(&h, "Contacts").await.remove(0);
    let id = contact["id"].as_str().unwrap();
    let account_id = contact["Account_Name"]["id"].as_str().unwrap();
    let account_name = contact["Account_Name"]["name"].as_str().unwrap();
    let full_name = format!(
        "{} {}",
        contact["First_Name"].as_str().unwrap(),
        contact["Last_Name"].as_str().unwrap()
    );

    let (status, html) = open(&h, &format!("/crm/tab/Contacts/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("<h1>{full_name}</h1>")), "{html}");
    assert_eq!(
        row(&html, "Account_Name"),
        Some(("Account Name".to_owned(), account_name.to_owned()))
    );
    assert!(
        html.contains(&format!(
            "<a href=\"/crm/tab/Accounts/{account_id}\">{account_name}</a>"
        )),
        "the lookup links to the account's page"
    );
    let email = contact["Email"].as_str().unwrap();
    assert!(html.contains(&format!("<a href=\"mailto:{email}\">{email}</a>")));
}

#[tokio::test]
async fn a_product_page_shows_code_price_stock_and_flags() {
    let h = Harness::start(3).await;
    let product = records(&h, "Products").await.remove(0);
    let id = product["id"].as_str().unwrap();

    let (status, html) = open(&h, &format!("/crm/tab/Products/{id}")).await;
    assert_eq!(status, 200);
    let name = product["Product_Name"].as_str().unwrap();
    assert!(html.contains(&format!("<h1>{name}</h1>")), "{html}");
    let stock = product["Qty_in_Stock"].as_f64().unwrap();
    for (api_name, label, value) in [
        ("Product_Name", "Product Name", name.to_owned()),
        (
            "Product_Code",
            "Product Code",
            product["Product_Code"].as_str().unwrap().to_owned(),
        ),
        (
            "Unit_Price",
            "Unit Price",
            dollars(product["Unit_Price"].as_f64().unwrap()),
        ),
        ("Qty_in_Stock", "Qty in Stock", format!("{stock:.0}")),
        ("Taxable", "Taxable", "Yes".to_owned()),
        ("Product_Active", "Product Active", "Yes".to_owned()),
        (
            "Product_Category",
            "Product Category",
            product["Product_Category"].as_str().unwrap().to_owned(),
        ),
    ] {
        assert_eq!(
            row(&html, api_name),
            Some((label.to_owned(), value)),
            "row {api_name}"
        );
    }
}

#[tokio::test]
async fn an_invoice_page_shows_its_line_items_and_totals() {
    let h = Harness::start(3).await;
    let invoice = records(&h, "Invoices").await.remove(0);
    let id = invoice["id"].as_str().unwrap();
    let lines = invoice["Invoiced_Items"].as_array().unwrap();
    assert!(!lines.is_empty(), "seeded invoices have lines");
    let products = records(&h, "Products").await;

    let (status, html) = open(&h, &format!("/crm/tab/Invoices/{id}")).await;
    assert_eq!(status, 200);
    let subject = invoice["Subject"].as_str().unwrap();
    assert!(html.contains(&format!("<h1>{subject}</h1>")), "{html}");
    assert!(html.contains(&format!(
        "<title>Invoices: {subject} · Zoho CRM (sandbox)</title>"
    )));
    assert_eq!(
        row(&html, "Account_Name").map(|(label, _)| label),
        Some("Account Name".to_owned())
    );
    assert_eq!(
        row(&html, "Status"),
        Some(("Status".to_owned(), "Created".to_owned()))
    );

    // The line items: a table with the subform's labels, one row per line, products by name.
    let table = html
        .split("<table class=\"lines\">")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    let head = page_text(table.split("</thead>").next().unwrap());
    assert_eq!(
        head,
        "# Product Name Quantity List Price Discount Total Net Total"
    );
    assert!(page_text(&html).contains("Invoiced Items"));
    let body_rows: Vec<&str> = table.split("<tr>").skip(2).collect();
    assert_eq!(body_rows.len(), lines.len());
    for (line, shown) in lines.iter().zip(&body_rows) {
        let product_id = line["Product_Name"]["id"].as_str().unwrap();
        let product = products.iter().find(|p| p["id"] == product_id).unwrap();
        let quantity = line["Quantity"].as_f64().unwrap();
        let expected = format!(
            "{} {} {quantity:.0} {} {} {}",
            line["Sequence_Number"],
            product["Product_Name"].as_str().unwrap(),
            dollars(line["List_Price"].as_f64().unwrap()),
            dollars(line["Total"].as_f64().unwrap()),
            dollars(line["Net_Total"].as_f64().unwrap()),
        );
        assert_eq!(page_text(shown), expected);
        assert!(shown.contains(&format!("href=\"/crm/tab/Products/{product_id}\"")));
    }
    // The totals under the table.
    assert_eq!(
        row(&html, "Sub_Total"),
        Some((
            "Sub Total".to_owned(),
            dollars(invoice["Sub_Total"].as_f64().unwrap())
        ))
    );
    assert_eq!(
        row(&html, "Grand_Total"),
        Some((
            "Grand Total".to_owned(),
            dollars(invoice["Grand_Total"].as_f64().unwrap())
        ))
    );
}

#[tokio::test]
async fn modules_are_found_by_web_tab_name_and_api_name() {
    let h = Harness::start(2).await;
    let order = records(&h, "Sales_Orders").await.remove(0);
    let id = order["id"].as_str().unwrap();
    for module in ["SalesOrders", "Sales_Orders", "salesorders"] {
        let (status, html) = open(&h, &format!("/crm/tab/{module}/{id}")).await;
        assert_eq!(status, 200, "{module}");
        assert!(page_text(&html).contains("Sales Orders › Sales Order"));
        assert!(page_text(&html).contains("Ordered Items"));
    }
    let po = records(&h, "Purchase_Orders").await.remove(0);
    let vendor = po["Vendor_Name"]["name"].as_str().unwrap();
    let (status, html) = open(
        &h,
        &format!("/crm/tab/PurchaseOrders/{}", po["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        row(&html, "Vendor_Name"),
        Some(("Vendor Name".to_owned(), vendor.to_owned()))
    );
}

#[tokio::test]
async fn unknown_records_and_modules_get_a_404_page_in_the_same_style() {
    let h = Harness::start(2).await;
    let account = records(&h, "Accounts").await.remove(0);
    let id = account["id"].as_str().unwrap().to_owned();

    let (status, html) = open(&h, "/crm/tab/Accounts/5725767000009999999").await;
    assert_eq!(status, 404);
    let text = page_text(&html);
    assert!(text.contains("Record not found"), "{text}");
    assert!(
        text.contains("Accounts has no record with the id 5725767000009999999"),
        "{text}"
    );
    assert!(text.contains("Simulated Zoho CRM (sandbox)"), "{text}");

    let (status, html) = open(&h, "/crm/tab/Accounts/not-an-id").await;
    assert_eq!(status, 404);
    assert!(page_text(&html).contains("Record not found"));

    for module in ["Deals", "Invoiced_Items", "Nope"] {
        let (status, html) = open(&h, &format!("/crm/tab/{module}/{id}")).await;
        assert_eq!(status, 404, "{module}");
        let text = page_text(&html);
        assert!(text.contains(&format!("No module “{module}”")), "{text}");
        assert!(
            text.contains("Its modules are Leads, Accounts, Contacts"),
            "{text}"
        );
    }

    // A deleted record says so.
    let deleted = h
        .http
        .delete(format!(
            "{}/_sandbox/zoho/Accounts/{id}",
            h.sandbox.urls().zoho_api
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let (status, html) = open(&h, &format!("/crm/tab/Accounts/{id}")).await;
    assert_eq!(status, 404);
    let text = page_text(&html);
    assert!(text.contains("was deleted on May 5, 2026"), "{text}");
    assert!(text.contains("recycle bin"), "{text}");
}

#[tokio::test]
async fn the_page_needs_no_token_and_leaves_api_faults_for_the_api() {
    let h = Harness::start(1).await;
    let zoho_api = h.sandbox.urls().zoho_api;
    let account = records(&h, "Accounts").await.remove(0);
    let id = account["id"].as_str().unwrap();
    let fault = h
        .http
        .post(format!("{zoho_api}/_sandbox/faults"))
        .json(&serde_json::json!({"service": "zoho_api", "kind": "server_error", "count": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(fault.status(), 200);
    // A browser: no Authorization header.
    let (status, _) = open(&h, &format!("/crm/tab/Accounts/{id}")).await;
    assert_eq!(status, 200);
    // The fault is still there for the API call it was meant for.
    let (status, _) = h
        .zoho_call(reqwest::Method::GET, &format!("Accounts/{id}"), None)
        .await;
    assert_eq!(status, 500);
    let (status, _) = h
        .zoho_call(reqwest::Method::GET, &format!("Accounts/{id}"), None)
        .await;
    assert_eq!(status, 200);
}

#[test]
fn the_html_sanity_check_catches_broken_pages() {
    let good = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
        <meta name=\"viewport\" content=\"width=device-width\"><title>T</title></head>\
        <body><h1>Hi &amp; bye</h1><form method=\"post\" action=\"/x\"><label for=\"a\">A</label>\
        <input id=\"a\" name=\"a\"><button type=\"submit\">Go</button></form></body></html>";
    assert_sane_html(good);
    for (broken, why) in [
        (good.replace("<!doctype html>", ""), "no doctype"),
        (good.replace("</h1>", ""), "an unclosed element"),
        (good.replace("</form>", "</div></form>"), "a stray end tag"),
        (
            good.replace("lang=\"en\"", "lang=en"),
            "an unquoted attribute",
        ),
        (good.replace("Hi &amp; bye", "Hi & bye"), "a raw ampersand"),
        (good.replace("Hi &amp; bye", "a > b"), "a raw >"),
        (good.replace("<h1>", "<h1 id=\"a\">"), "a duplicate id"),
        (
            good.replace("</body>", "<script>x()</script></body>"),
            "a script",
        ),
        (
            good.replace("<h1>", "<h1 onclick=\"x()\">"),
            "an event handler",
        ),
        (
            good.replace("<label for=\"a\">A</label>", ""),
            "an unlabelled input",
        ),
        (
            good.replace("action=\"/x\"", "action=\"https://evil.example/x\""),
            "a form to another host",
        ),
        (
            good.replace(
                "</head>",
                "<link rel=\"stylesheet\" href=\"https://cdn.example/a.css\"></head>",
            ),
            "an external stylesheet",
        ),
        (good.replace("<title>T</title>", ""), "no title"),
        (
            good.replace("Go</button>", "</button>"),
            "a button without text",
        ),
    ] {
        let caught = std::panic::catch_unwind(|| assert_sane_html(&broken));
        assert!(caught.is_err(), "not caught: {why}");
    }
}
