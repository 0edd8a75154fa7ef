//! Deterministic demo data: the same seed always yields the same Zoho org, QBO company and Stripe
//! catalog. `records_per_module` scales every module/entity (benchmarks use up to 100,000).

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::{SandboxConfig, ZohoSeed, qbo, stripe, zoho};

pub struct World {
    pub qbo: qbo::Store,
    pub zoho: zoho::Store,
    pub stripe: stripe::Store,
}

const FIRST: &[&str] = &[
    "Amy", "Bill", "Cathy", "Dylan", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi",
    "Luca", "Maya", "Nils", "Olga", "Priya",
];
const LAST: &[&str] = &[
    "Bird", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ivanova", "Jensen", "Khan",
    "Lopez", "Moreau", "Novak", "Okafor", "Park",
];
const COMPANY_A: &[&str] = &[
    "Cool",
    "Sunny",
    "Red Rock",
    "Blue Sky",
    "Green Leaf",
    "Summit",
    "Harbor",
    "Maple",
    "Pine",
    "Golden",
];
const COMPANY_B: &[&str] = &[
    "Cars",
    "Gardens",
    "Diving",
    "Builders",
    "Bakery",
    "Consulting",
    "Pools",
    "Landscaping",
    "Supplies",
    "Traders",
];
const PRODUCTS: &[&str] = &[
    "Rock Fountain",
    "Garden Hose",
    "Sprinkler Head",
    "Pump",
    "Soil Bag",
    "Trimming",
    "Design Hours",
    "Installation",
    "Lighting Kit",
    "Pavers",
];
const CITIES: &[&str] = &[
    "Bayshore",
    "Palo Alto",
    "Sunnyvale",
    "Middlefield",
    "Tucson",
    "Miami",
    "Seattle",
    "Denver",
];

/// Seed writes go through the API's validation; one failing is a bug in the seed, worth a warning.
fn seeded<T, E: std::fmt::Debug>(result: Result<T, E>) {
    if let Err(error) = result {
        tracing::warn!(?error, "a seeded record was rejected");
    }
}

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// When record `i` of `n` was created: spread over the last `n` minutes, oldest first.
fn stamp(now: DateTime<Utc>, i: usize, n: usize) -> DateTime<Utc> {
    now - Duration::minutes(i64::try_from(n - i).unwrap_or(0))
}

pub fn seed(config: &SandboxConfig, now: DateTime<Utc>) -> World {
    let mut rng = StdRng::seed_from_u64(config.seed);
    if let Some(plan) = &config.zoho_seed {
        return World {
            qbo: seed_qbo(config, &mut rng, 0, now),
            zoho: seed_zoho_plan(config, &mut rng, plan, now),
            stripe: seed_stripe(config, now),
        };
    }
    let n = config.records_per_module;
    let qbo = seed_qbo(config, &mut rng, n, now);
    let shared = shared_item_names(&qbo, config, n);
    World {
        qbo,
        zoho: seed_zoho(config, &mut rng, n, now, &shared),
        stripe: seed_stripe(config, now),
    }
}

fn seed_qbo(config: &SandboxConfig, rng: &mut StdRng, n: usize, now: DateTime<Utc>) -> qbo::Store {
    let mut store = qbo::Store::default();
    let realm = store.realm(&config.realm_id, now);
    // The seed is the company's history, not news for the webhook.
    realm.record_notices = false;
    let income = realm
        .find_id("Account", "Sales of Product Income")
        .unwrap_or(0)
        .to_string();
    let services = realm
        .find_id("Account", "Services")
        .unwrap_or(0)
        .to_string();
    let cogs = realm
        .find_id("Account", "Cost of Goods Sold")
        .unwrap_or(0)
        .to_string();
    let asset = realm
        .find_id("Account", "Inventory Asset")
        .unwrap_or(0)
        .to_string();
    let mut customers = Vec::new();
    let mut vendors = Vec::new();
    let mut items = Vec::new();
    for i in 0..n {
        let at = stamp(now, i, n);
        let (first, last) = (pick(rng, FIRST), pick(rng, LAST));
        let city = pick(rng, CITIES);
        let address = json!({"Line1": format!("{} Main St.", rng.random_range(1..9999)), "City": city, "CountrySubDivisionCode": "CA", "PostalCode": format!("9{:04}", rng.random_range(0..9999))});
        let customer = json!({
            "DisplayName": format!("{first} {last} {}", i + 1), "GivenName": first, "FamilyName": last,
            "CompanyName": format!("{} {}", pick(rng, COMPANY_A), pick(rng, COMPANY_B)),
            "PrimaryEmailAddr": {"Address": format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase(), i + 1)},
            "PrimaryPhone": {"FreeFormNumber": format!("(555) {:03}-{:04}", rng.random_range(100..999), rng.random_range(0..9999))},
            "BillAddr": address, "ShipAddr": address,
        });
        if let Ok(row) = realm.execute("Customer", qbo::Op::Create, customer, at) {
            customers.push(row["Id"].as_str().unwrap_or_default().to_owned());
        }
        let vendor = json!({"DisplayName": format!("{} {} Supply {}", pick(rng, COMPANY_A), pick(rng, COMPANY_B), i + 1), "CompanyName": pick(rng, COMPANY_B)});
        if let Ok(row) = realm.execute("Vendor", qbo::Op::Create, vendor, at) {
            vendors.push(row["Id"].as_str().unwrap_or_default().to_owned());
        }
        let name = format!("{} {}", pick(rng, PRODUCTS), i + 1);
        let price = f64::from(rng.random_range(500..50_000u32)) / 100.0;
        let item = match i % 3 {
            0 => {
                json!({"Name": name, "Type": "Inventory", "Sku": format!("SKU-{:05}", i + 1), "UnitPrice": price, "PurchaseCost": (price * 0.6 * 100.0).round() / 100.0,
                        "TrackQtyOnHand": true, "QtyOnHand": rng.random_range(0..200), "InvStartDate": "2026-01-01",
                        "IncomeAccountRef": {"value": income}, "ExpenseAccountRef": {"value": cogs}, "AssetAccountRef": {"value": asset}})
            }
            1 => {
                json!({"Name": name, "Type": "Service", "UnitPrice": price, "IncomeAccountRef": {"value": services}})
            }
            _ => {
                json!({"Name": name, "Type": "NonInventory", "Sku": format!("SKU-{:05}", i + 1), "UnitPrice": price, "IncomeAccountRef": {"value": income}})
            }
        };
        if let Ok(row) = realm.execute("Item", qbo::Op::Create, item, at) {
            items.push((row["Id"].as_str().unwrap_or_default().to_owned(), price));
        }
    }
    if customers.is_empty() || items.is_empty() {
        realm.record_notices = true;
        return store;
    }
    for i in 0..n {
        let at = stamp(now, i, n);
        let lines: Vec<Value> = (0..rng.random_range(1..4))
            .map(|_| {
                let (item, price) = &items[rng.random_range(0..items.len())];
                let qty = rng.random_range(1..10);
                json!({"DetailType": "SalesItemLineDetail", "Amount": (price * f64::from(qty) * 100.0).round() / 100.0,
                       "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": qty, "UnitPrice": price}})
            })
            .collect();
        let customer = &customers[rng.random_range(0..customers.len())];
        let body = json!({"CustomerRef": {"value": customer}, "Line": lines, "CustomField": [{"DefinitionId": "1", "Name": "Crew #", "Type": "StringType", "StringValue": format!("{}", rng.random_range(1..20))}]});
        seeded(realm.execute("Invoice", qbo::Op::Create, body.clone(), at));
        seeded(realm.execute("Estimate", qbo::Op::Create, body, at));
        let vendor = &vendors[rng.random_range(0..vendors.len())];
        let (item, price) = &items[rng.random_range(0..items.len())];
        let po = json!({"VendorRef": {"value": vendor}, "Line": [{"DetailType": "ItemBasedExpenseLineDetail", "Amount": price * 5.0,
                        "ItemBasedExpenseLineDetail": {"ItemRef": {"value": item}, "Qty": 5, "UnitPrice": price}}]});
        seeded(realm.execute("PurchaseOrder", qbo::Op::Create, po, at));
    }
    realm.record_notices = true;
    store
}

/// By demo record number, the name of the QBO item that has a SKU (`SKU-0000n`): the Zoho
/// product with that code is the same product, so it gets the same name (a business whose two
/// systems already know an item calls it one thing; codes alike under other names are what a
/// real first sync refuses, and the demo should not start with that).
fn shared_item_names(qbo: &qbo::Store, config: &SandboxConfig, n: usize) -> Vec<Option<String>> {
    let mut names = vec![None; n];
    if let Some(realm) = qbo.realms.get(&config.realm_id) {
        for item in realm.rows("Item") {
            let index = item["Sku"]
                .as_str()
                .and_then(|sku| sku.strip_prefix("SKU-"))
                .and_then(|number| number.parse::<usize>().ok())
                .and_then(|number| number.checked_sub(1));
            if let (Some(index), Some(name)) = (index, item["Name"].as_str())
                && index < n
            {
                names[index] = Some(name.to_owned());
            }
        }
    }
    names
}

fn seed_zoho(
    config: &SandboxConfig,
    rng: &mut StdRng,
    n: usize,
    now: DateTime<Utc>,
    shared_names: &[Option<String>],
) -> zoho::Store {
    let mut store = zoho::Store::new(config.zoho_edition);
    let inventory = store.module("Products").is_some();
    let mut accounts = Vec::new();
    let mut vendors = Vec::new();
    let mut products = Vec::new();
    for i in 0..n {
        let at = stamp(now, i, n);
        let company = format!(
            "{} {} {}",
            pick(rng, COMPANY_A),
            pick(rng, COMPANY_B),
            i + 1
        );
        let account = account_input(rng, &company, i);
        if let Ok(row) = store.insert_trusted("Accounts", &account, at) {
            accounts.push(row["id"].as_str().unwrap_or_default().to_owned());
        }
        let (first, last) = (pick(rng, FIRST), pick(rng, LAST));
        let contact = json!({"First_Name": first, "Last_Name": last, "Email": format!("{}.{}{}@example.org", first.to_lowercase(), last.to_lowercase(), i + 1),
            "Account_Name": accounts.last().map(|id| json!({"id": id})).unwrap_or(Value::Null), "Mailing_City": pick(rng, CITIES)});
        seeded(store.insert_trusted("Contacts", &contact, at));
        let lead = json!({"First_Name": first, "Last_Name": last, "Company": company, "Lead_Status": "Not Contacted"});
        seeded(store.insert_trusted("Leads", &lead, at));
        if inventory {
            let vendor = json!({"Vendor_Name": format!("{} {} Supply {}", pick(rng, COMPANY_A), pick(rng, COMPANY_B), i + 1), "Email": format!("orders{}@supply.example", i + 1)});
            if let Ok(row) = store.insert_trusted("Vendors", &vendor, at) {
                vendors.push(row["id"].as_str().unwrap_or_default().to_owned());
            }
            let mut product = product_input(rng, i);
            if let Some(Some(name)) = shared_names.get(i) {
                product["Product_Name"] = json!(name);
            }
            if let Ok(row) = store.insert_trusted("Products", &product, at) {
                products.push((
                    row["id"].as_str().unwrap_or_default().to_owned(),
                    row["Unit_Price"].as_f64().unwrap_or(0.0),
                ));
            }
        }
    }
    if products.is_empty() || accounts.is_empty() {
        return store;
    }
    for i in 0..n {
        let at = stamp(now, i, n);
        let mut lines = || -> Vec<Value> {
            (0..rng.random_range(1..4))
                .map(|_| {
                    let (id, price) = &products[rng.random_range(0..products.len())];
                    json!({"Product_Name": {"id": id}, "Quantity": f64::from(rng.random_range(1..10u32)), "List_Price": price})
                })
                .collect()
        };
        let (quoted, ordered, invoiced, purchased) = (lines(), lines(), lines(), lines());
        let account = json!({"id": accounts[rng.random_range(0..accounts.len())]});
        seeded(store.insert_trusted("Quotes", &json!({"Subject": format!("Quote {}", i + 1), "Account_Name": account, "Quote_Stage": "Draft", "Quoted_Items": quoted}), at));
        seeded(store.insert_trusted("Sales_Orders", &json!({"Subject": format!("Order {}", i + 1), "Account_Name": account, "Status": "Created", "Ordered_Items": ordered}), at));
        seeded(store.insert_trusted("Invoices", &json!({"Subject": format!("Invoice {}", i + 1), "Account_Name": account, "Status": "Created", "Invoiced_Items": invoiced}), at));
        let vendor = json!({"id": vendors[rng.random_range(0..vendors.len())]});
        seeded(store.insert_trusted("Purchase_Orders", &json!({"Subject": format!("PO {}", i + 1), "Vendor_Name": vendor, "Status": "Created", "Purchase_Items": purchased}), at));
    }
    store
}

fn account_input(rng: &mut StdRng, company: &str, i: usize) -> Value {
    json!({"Account_Name": company, "Account_Number": format!("A-{:05}", i + 1), "Phone": format!("+1-555-{:03}-{:04}", rng.random_range(100..999), rng.random_range(0..9999)),
        "Account_Type": "Customer", "Industry": pick(rng, &["Construction", "Retail", "Services", "Technology"]), "Billing_City": pick(rng, CITIES), "Billing_Country": "USA",
        "Credit_Limit": f64::from(rng.random_range(10..500u32)) * 100.0})
}

fn product_input(rng: &mut StdRng, i: usize) -> Value {
    json!({"Product_Name": format!("{} {}", pick(rng, PRODUCTS), i + 1), "Product_Code": format!("SKU-{:05}", i + 1),
        "Unit_Price": f64::from(rng.random_range(500..50_000u32)) / 100.0, "Qty_in_Stock": f64::from(rng.random_range(0..200u32)), "Taxable": true, "Product_Active": true,
        "Product_Category": pick(rng, &["Hardware", "Software", "Service"])})
}

/// Only accounts, products and invoices, in the numbers asked (see [`ZohoSeed`]).
fn seed_zoho_plan(
    config: &SandboxConfig,
    rng: &mut StdRng,
    plan: &ZohoSeed,
    now: DateTime<Utc>,
) -> zoho::Store {
    let mut store = zoho::Store::new(config.zoho_edition);
    let total = plan.accounts + plan.products + plan.invoices;
    let newest = now - plan.newest_age;
    let mut order = 0usize;
    let mut next_stamp = || {
        order += 1;
        stamp(newest, order - 1, total)
    };
    let mut accounts = Vec::with_capacity(plan.accounts);
    for i in 0..plan.accounts {
        let company = format!(
            "{} {} {}",
            pick(rng, COMPANY_A),
            pick(rng, COMPANY_B),
            i + 1
        );
        let input = account_input(rng, &company, i);
        if let Ok(row) = store.insert_trusted("Accounts", &input, next_stamp()) {
            accounts.push(row["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    let mut products = Vec::with_capacity(plan.products);
    if store.module("Products").is_some() {
        for i in 0..plan.products {
            let input = product_input(rng, i);
            if let Ok(row) = store.insert_trusted("Products", &input, next_stamp()) {
                products.push((
                    row["id"].as_str().unwrap_or_default().to_owned(),
                    row["Unit_Price"].as_f64().unwrap_or(0.0),
                ));
            }
        }
    }
    if accounts.is_empty() || products.is_empty() {
        return store;
    }
    for i in 0..plan.invoices {
        let lines: Vec<Value> = (0..plan.lines_per_invoice)
            .map(|_| {
                let (id, price) = &products[rng.random_range(0..products.len())];
                json!({"Product_Name": {"id": id}, "Quantity": f64::from(rng.random_range(1..10u32)), "List_Price": price})
            })
            .collect();
        let account = json!({"id": accounts[rng.random_range(0..accounts.len())]});
        seeded(store.insert_trusted("Invoices", &json!({"Subject": format!("Invoice {}", i + 1), "Account_Name": account, "Status": "Created", "Invoiced_Items": lines}), next_stamp()));
    }
    store
}

fn seed_stripe(config: &SandboxConfig, now: DateTime<Utc>) -> stripe::Store {
    let mut store = stripe::Store::new(config.seed);
    for (plan, monthly) in [("Standard", 2900), ("Professional", 7900)] {
        let product = store.create_product(plan, json!({"plan": plan.to_lowercase()}), now);
        let id = product["id"].as_str().unwrap_or_default().to_owned();
        let key = plan.to_lowercase();
        store.create_price(
            &id,
            monthly,
            "usd",
            Some("month"),
            Some(&format!("{key}_monthly")),
            now,
        );
        store.create_price(
            &id,
            monthly * 10,
            "usd",
            Some("year"),
            Some(&format!("{key}_yearly")),
            now,
        );
    }
    store
}
