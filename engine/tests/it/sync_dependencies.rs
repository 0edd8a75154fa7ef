//! Scenario tests of the sync engine against the sandbox — what a record refers to: an
//! invoice's customer and products are synced first when their pairs run, named in an Error
//! row when they do not, and new items wait for Inventory Settings.

use crate::support::SyncWorld;
use chrono::Duration;
use domain::log::LogStatus;
use domain::pairs::{Direction, ModulePair};
use serde_json::{Value, json};

/// A Zoho account and product, made now, with these values; their ids.
async fn account_and_product(
    world: &SyncWorld,
    account: Value,
    product: Value,
) -> (String, String) {
    let account = world.insert_zoho("Accounts", account).await.id;
    let product = world.insert_zoho("Products", product).await.id;
    (account, product)
}

/// An invoice whose account changed before the sync window: the engine syncs the account first.
#[tokio::test]
async fn a_missing_dependency_is_synced_first_when_its_pair_runs() {
    let world = SyncWorld::start(0).await;
    world.invoices_with_their_dependencies().await;
    let (account, product) = account_and_product(
        &world,
        json!({"Account_Name": "Old Customer Ltd"}),
        json!({"Product_Name": "Old Widget", "Product_Code": "OW-1", "Unit_Price": 12.5}),
    )
    .await;
    world.advance(Duration::days(3));
    world
        .insert_zoho(
            "Invoices",
            json!({"Subject": "INV-1", "Account_Name": {"id": account}, "Invoiced_Items": [{"Product_Name": {"id": product}, "Quantity": 2, "List_Price": 12.5}]}),
        )
        .await;
    world.run().await;
    let links = world.links().await;
    assert!(
        links
            .iter()
            .any(|l| l.pair == ModulePair::AccountsCustomers && l.zoho_id == account),
        "account synced first"
    );
    assert!(
        links
            .iter()
            .any(|l| l.pair == ModulePair::ProductsItems && l.zoho_id == product),
        "product synced first"
    );
    let invoice_link = links
        .iter()
        .find(|l| l.pair == ModulePair::InvoicesInvoices)
        .expect("invoice linked");
    let invoice = world.qbo_record("Invoice", &invoice_link.qbo_id).await;
    let customer_link = links.iter().find(|l| l.zoho_id == account).unwrap();
    assert_eq!(invoice["CustomerRef"]["value"], json!(customer_link.qbo_id));
    world.finish().await;
}

#[tokio::test]
async fn a_missing_dependency_of_a_disabled_pair_is_an_error_naming_it() {
    let world =
        SyncWorld::with_pairs(0, &[(ModulePair::InvoicesInvoices, Direction::ZohoToQbo)]).await;
    let (account, product) = account_and_product(
        &world,
        json!({"Account_Name": "Unsynced Co"}),
        json!({"Product_Name": "Widget", "Product_Code": "W-9", "Unit_Price": 3}),
    )
    .await;
    world
        .insert_zoho(
            "Invoices",
            json!({"Subject": "INV-9", "Account_Name": {"id": account}, "Invoiced_Items": [{"Product_Name": {"id": product}, "Quantity": 1, "List_Price": 3}]}),
        )
        .await;
    let summary = world.run().await;
    assert_eq!(summary.stats.errors, 1);
    let row = &world.logs(ModulePair::InvoicesInvoices).await[0];
    assert_eq!(row.status, LogStatus::Error);
    let message = row.message.as_deref().unwrap_or_default();
    assert!(
        message.contains(&account) && message.contains("not synced to QuickBooks"),
        "{message}"
    );
    assert!(
        message.contains("line 1") && message.contains("Widget"),
        "names the line's product: {message}"
    );
    assert_eq!(row.action, Some(engine::sync::LogAction::Retry));
    world.finish().await;
}

#[tokio::test]
async fn missing_inventory_settings_stop_new_items_with_a_message_naming_them() {
    let world =
        SyncWorld::with_pairs(1, &[(ModulePair::ProductsItems, Direction::ZohoToQbo)]).await;
    let items_before = world.qbo_records("Item").await.len();
    world.run().await;
    assert_eq!(world.qbo_records("Item").await.len(), items_before);
    let row = &world.logs(ModulePair::ProductsItems).await[0];
    assert_eq!(row.status, LogStatus::Error);
    assert!(
        row.message
            .as_deref()
            .unwrap_or_default()
            .contains("Inventory Settings"),
        "{row:?}"
    );
    world.finish().await;
}
