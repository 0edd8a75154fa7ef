//! Scenario tests of the sync engine against the sandbox — products and items, whose SKU /
//! product code and name are unique keys on both sides: a record with the key of an unlinked
//! one is linked only when the names agree, a linked record is never taken over by another
//! with its key, and an adopted item keeps its stock.

use crate::support::{SyncWorld, by_name};
use chrono::Duration;
use domain::log::LogStatus;
use domain::pairs::{Direction, ModulePair};
use serde_json::{Value, json};

#[tokio::test]
async fn an_item_whose_sku_zoho_already_has_is_linked_only_when_the_names_agree() {
    let world =
        SyncWorld::with_pairs(6, &[(ModulePair::ProductsItems, Direction::QboToZoho)]).await;
    // The demo data has the same SKUs on both sides (SKU-00001 …) under the same names. One
    // Zoho product is renamed: another product under a code the item has. (Inventory items:
    // the other types are not synced to Zoho by default.)
    let items = world.qbo_records("Item").await;
    let before = world.zoho_records("Products").await;
    let shared: Vec<(&Value, &Value)> = before
        .iter()
        .filter_map(|p| {
            items
                .iter()
                .find(|i| i["Sku"] == p["Product_Code"] && i["Type"] == "Inventory")
                .map(|i| (p, i))
        })
        .collect();
    assert!(shared.len() >= 2, "the demo data shares SKUs");
    let (same_product, same_item) = shared[0];
    assert_eq!(same_product["Product_Name"], same_item["Name"]);
    let (other_product, other_item) = shared[1];
    world
        .zoho()
        .await
        .update(
            "Products",
            &[json!({"id": other_product["id"], "Product_Name": "Another Thing"})],
        )
        .await
        .expect("rename");
    let other_product = &json!({"id": other_product["id"], "Product_Name": "Another Thing", "Unit_Price": other_product["Unit_Price"]});
    world.advance(Duration::minutes(5));
    world.run().await;

    let links = world.links().await;
    let linked_to = |item: &Value| {
        links
            .iter()
            .find(|l| l.qbo_id == item["Id"].as_str().unwrap())
            .map(|l| l.zoho_id.clone())
    };
    assert_eq!(
        linked_to(same_item).as_deref(),
        same_product["id"].as_str(),
        "the same product: linked, not duplicated"
    );
    assert_eq!(
        linked_to(other_item),
        None,
        "another product: not taken over"
    );
    let untouched = world
        .zoho_record("Products", other_product["id"].as_str().unwrap())
        .await;
    assert_eq!(untouched["Product_Name"], other_product["Product_Name"]);
    assert_eq!(untouched["Unit_Price"], other_product["Unit_Price"]);
    let rows = world.logs(ModulePair::ProductsItems).await;
    let refused = rows
        .iter()
        .find(|r| r.qbo_id.as_deref() == other_item["Id"].as_str())
        .expect("a row for the other item");
    assert_eq!(refused.status, LogStatus::Error);
    assert!(
        refused
            .message
            .as_deref()
            .is_some_and(|m| m.contains("another name")
                && m.contains(other_product["Product_Name"].as_str().unwrap())),
        "{:?}",
        refused.message
    );
    // No product code twice.
    let products = world.zoho_records("Products").await;
    let mut codes: Vec<&str> = products
        .iter()
        .filter_map(|p| p["Product_Code"].as_str())
        .collect();
    let total = codes.len();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), total, "no product code twice");
    world.finish().await;
}

#[tokio::test]
async fn a_sku_or_name_of_a_linked_product_never_takes_it_over() {
    let world =
        SyncWorld::with_pairs(1, &[(ModulePair::ProductsItems, Direction::Bidirectional)]).await;
    world.inventory_settings().await;
    let product = world
        .insert_zoho(
            "Products",
            json!({"Product_Name": "Rock Widget", "Product_Code": "RW-1", "Unit_Price": 10.0, "Qty_in_Stock": 5.0}),
        )
        .await;
    world.advance(Duration::minutes(5));
    world.run().await;
    let linked = world.link_of_zoho(&product.id).await;
    let first_item = world.qbo_record("Item", &linked.qbo_id).await;
    assert_eq!(first_item["Sku"], "RW-1");

    // QBO → Zoho: another item with the product's code.
    world.advance(Duration::minutes(5));
    let other = world.create_item("Other Widget", "RW-1", 3).await;
    let other_id = other["Id"].as_str().expect("id").to_owned();
    world.advance(Duration::minutes(5));
    world.run().await;
    let after = world.zoho_record("Products", &product.id).await;
    assert_eq!(after["Product_Name"], "Rock Widget", "not overwritten");
    assert_eq!(after["Unit_Price"], 10.0);
    assert_eq!(
        world.link_of_zoho(&product.id).await.qbo_id,
        linked.qbo_id,
        "the link is not re-pointed"
    );
    assert!(
        !world.links().await.iter().any(|l| l.qbo_id == other_id),
        "the other item is not linked to anything"
    );
    assert!(
        by_name(
            &world.zoho_records("Products").await,
            "Product_Name",
            "Other Widget"
        )
        .is_empty()
    );
    let rows = world.logs(ModulePair::ProductsItems).await;
    let refused = rows
        .iter()
        .find(|r| r.qbo_id.as_deref() == Some(other_id.as_str()))
        .expect("a row for the other item");
    assert_eq!(refused.status, LogStatus::Error);
    let message = refused.message.as_deref().unwrap_or_default();
    for part in [
        "Other Widget",
        "Rock Widget",
        "RW-1",
        linked.qbo_id.as_str(),
    ] {
        assert!(message.contains(part), "{part} named in: {message}");
    }
    assert_eq!(refused.action, Some(engine::sync::LogAction::Retry));

    // Zoho → QBO: another product with the linked item's name.
    world.advance(Duration::minutes(5));
    let twin = world
        .insert_zoho(
            "Products",
            json!({"Product_Name": first_item["Name"], "Product_Code": "RW-2", "Unit_Price": 99.0}),
        )
        .await;
    world.advance(Duration::minutes(5));
    world.run().await;
    let item = world.qbo_record("Item", &linked.qbo_id).await;
    assert_eq!(item["Sku"], "RW-1", "the linked item is not overwritten");
    assert_eq!(item["UnitPrice"], first_item["UnitPrice"]);
    assert_eq!(world.link_of_zoho(&product.id).await.qbo_id, linked.qbo_id);
    let rows = world.logs(ModulePair::ProductsItems).await;
    let refused = rows
        .iter()
        .find(|r| r.zoho_id.as_deref() == Some(twin.id.as_str()))
        .expect("a row for the twin");
    assert_eq!(refused.status, LogStatus::Error);
    let message = refused.message.as_deref().unwrap_or_default();
    assert!(
        message.contains(linked.qbo_id.as_str()) && message.contains(&product.id),
        "{message}"
    );
    world.finish().await;
}

#[tokio::test]
async fn an_adopted_item_keeps_its_stock_and_the_log_says_so() {
    let world =
        SyncWorld::with_pairs(1, &[(ModulePair::ProductsItems, Direction::ZohoToQbo)]).await;
    world.inventory_settings().await;
    let item = world.create_item("Pavers 77", "PV-77", 190).await;
    let product = world
        .insert_zoho(
            "Products",
            json!({"Product_Name": "Pavers 77", "Product_Code": "PV-77", "Unit_Price": 14.0, "Qty_in_Stock": 91.0}),
        )
        .await;
    world.advance(Duration::minutes(5));
    world.run().await;
    let link = world.link_of_zoho(&product.id).await;
    assert_eq!(link.qbo_id, item["Id"].as_str().unwrap(), "adopted by name");
    let held = world.qbo_record("Item", &link.qbo_id).await;
    assert_eq!(held["QtyOnHand"], 190, "QuickBooks keeps its stock");
    assert_eq!(held["UnitPrice"], 14.0, "the other fields are updated");
    // The log and the link say what was written, and only that.
    let row = world
        .logs(ModulePair::ProductsItems)
        .await
        .into_iter()
        .find(|r| r.zoho_id.as_deref() == Some(product.id.as_str()))
        .expect("row");
    assert_eq!(row.status, LogStatus::Synced);
    assert_eq!(
        row.details.written.get("QtyOnHand"),
        None,
        "{:?}",
        row.details.written
    );
    assert_eq!(row.details.written["UnitPrice"], 14.0);
    assert!(row.details.left_out.contains(&"QtyOnHand".to_owned()));
    assert!(
        row.details.notes.iter().any(|n| n.contains("QtyOnHand")),
        "{:?}",
        row.details.notes
    );
    let written = link.last_written.expect("last written");
    assert_eq!(written.get("QtyOnHand"), None);
    assert_eq!(written["UnitPrice"], 14.0);
    world.finish().await;
}
