//! Scenario tests of the sync engine against the sandbox — the basics of one direction: records
//! reach the other side once, updates are sparse, filters and static values, cursors, the plan
//! gate, and which directions may be saved. Real HTTP between our clients and the simulated
//! Zoho CRM and QuickBooks Online, a real database (SQLite, or PostgreSQL with
//! ZQSYNC_TEST_DATABASE=postgres), the engine run end to end.

use crate::support::{SyncWorld, TENANT, assert_each_once, by_name};
use chrono::Duration;
use domain::filters::{Combinator, Condition, FilterRow, FilterSet, PairFilters};
use domain::log::LogStatus;
use domain::mapping::MappingSource;
use domain::pairs::{Direction, Flow, ModulePair, SyncDirections};
use serde_json::json;

const ACCOUNTS_TO_QBO: [(ModulePair, Direction); 1] =
    [(ModulePair::AccountsCustomers, Direction::ZohoToQbo)];

#[tokio::test]
async fn zoho_records_reach_qbo_once_and_a_second_run_writes_nothing() {
    let world = SyncWorld::with_pairs(
        3,
        &[
            (ModulePair::AccountsCustomers, Direction::ZohoToQbo),
            (ModulePair::ProductsItems, Direction::ZohoToQbo),
        ],
    )
    .await;
    world.inventory_settings().await;
    let accounts = world.zoho_records("Accounts").await;
    assert_eq!(accounts.len(), 3);

    let first = world.run().await;
    let problems: Vec<_> = world
        .logs(ModulePair::ProductsItems)
        .await
        .into_iter()
        .filter_map(|r| r.message)
        .collect();
    assert_eq!(first.stats.synced, 6, "{first:?} {problems:?}");
    let customers = world.qbo_records("Customer").await;
    assert_each_once(&accounts, "Account_Name", &customers, "DisplayName", "QBO");
    let items = world.qbo_records("Item").await;
    let product = &world.zoho_records("Products").await[0];
    let item = by_name(
        &items,
        "Name",
        product["Product_Name"].as_str().expect("name"),
    )[0];
    assert_eq!(item["Type"], "Inventory");
    assert_eq!(item["TrackQtyOnHand"], true);
    assert_eq!(world.links().await.len(), 6);
    let rows = world.logs(ModulePair::AccountsCustomers).await;
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r.status == LogStatus::Synced && r.qbo_id.is_some() && r.zoho_id.is_some())
    );
    assert!(
        rows[0].details.written.get("DisplayName").is_some(),
        "details keep the payload"
    );

    let writes = world.qbo_write_count().await;
    world.advance(Duration::minutes(15));
    let second = world.run().await;
    assert_eq!(second.stats.synced, 0, "{second:?}");
    assert_eq!(
        world.qbo_write_count().await,
        writes,
        "nothing written again"
    );
    world.finish().await;
}

#[tokio::test]
async fn an_update_in_zoho_is_a_sparse_update_in_qbo_with_before_and_after() {
    let world = SyncWorld::with_pairs(2, &ACCOUNTS_TO_QBO).await;
    world.run().await;
    let account = world.zoho_records("Accounts").await[0].clone();
    let id = account["id"].as_str().expect("id");
    world.advance(Duration::minutes(5));
    world
        .edit_zoho("Accounts", json!({"id": id, "Phone": "+1-555-000-1234"}))
        .await;
    world.advance(Duration::minutes(5));
    let summary = world.run().await;
    assert_eq!(summary.stats.synced, 1);
    let link = world.link_of_zoho(id).await;
    let customer = world.qbo_record("Customer", &link.qbo_id).await;
    assert_eq!(
        customer["PrimaryPhone"]["FreeFormNumber"],
        "+1-555-000-1234"
    );
    assert_eq!(
        by_name(
            &world.qbo_records("Customer").await,
            "DisplayName",
            account["Account_Name"].as_str().unwrap()
        )
        .len(),
        1
    );
    let row = &world.logs(ModulePair::AccountsCustomers).await[0];
    assert_eq!(row.status, LogStatus::Synced);
    let change = row
        .details
        .changes
        .iter()
        .find(|c| c.field.contains("PrimaryPhone"))
        .expect("phone change");
    assert_eq!(change.after, json!("+1-555-000-1234"));
    world.finish().await;
}

#[tokio::test]
async fn a_record_failing_the_filters_is_not_valid_and_not_written() {
    let world = SyncWorld::with_pairs(3, &ACCOUNTS_TO_QBO).await;
    let mut filters = PairFilters::default();
    *filters.get_mut(Flow::ZohoToQbo) = FilterSet::new(
        Combinator::And,
        vec![FilterRow::new(
            "Account_Name",
            Condition::Contains,
            "no such name",
        )],
    );
    world
        .stores
        .config
        .save_filters(TENANT, ModulePair::AccountsCustomers, &filters)
        .await
        .expect("filters");
    let before = world.qbo_records("Customer").await.len();
    let summary = world.run().await;
    assert_eq!(summary.stats.not_valid, 3);
    assert_eq!(
        world.qbo_records("Customer").await.len(),
        before,
        "nothing written"
    );
    let rows = world.logs(ModulePair::AccountsCustomers).await;
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter().all(|r| r.status == LogStatus::NotValid
            && r.message
                .as_deref()
                .is_some_and(|m| m.contains("Account_Name") || m.contains("Account Name"))),
        "{rows:?}"
    );
    // Later runs re-read from a second before the cursor but log nothing twice.
    world.advance(Duration::minutes(15));
    world.run().await;
    world.advance(Duration::minutes(15));
    world.run().await;
    assert_eq!(
        world.logs(ModulePair::AccountsCustomers).await.len(),
        3,
        "no repeated rows"
    );
    world.finish().await;
}

#[tokio::test]
async fn a_static_value_is_written_to_qbo() {
    let world = SyncWorld::with_pairs(1, &ACCOUNTS_TO_QBO).await;
    world
        .change_mapping(ModulePair::AccountsCustomers, |mapping| {
            mapping.set(
                "Notes",
                MappingSource::Static {
                    value: "Synced by zqsync".to_owned(),
                },
            );
            mapping.set(
                "SalesTermRef",
                MappingSource::Static {
                    value: "Net 30".to_owned(),
                },
            );
        })
        .await;
    world.run().await;
    let link = world.links().await.remove(0);
    let customer = world.qbo_record("Customer", &link.qbo_id).await;
    assert_eq!(customer["Notes"], "Synced by zqsync");
    let terms = world
        .qbo()
        .await
        .find_by_name("Term", "Net 30")
        .await
        .expect("terms");
    let net30 = terms
        .iter()
        .find(|t| t["Name"] == "Net 30")
        .expect("Net 30 term");
    assert_eq!(customer["SalesTermRef"]["value"], net30["Id"]);
    world.finish().await;
}

#[tokio::test]
async fn a_run_after_the_cursor_moved_reads_only_newer_records() {
    let world = SyncWorld::with_pairs(3, &ACCOUNTS_TO_QBO).await;
    let first = world.run().await;
    assert_eq!(first.stats.read, 3, "{first:?}");
    world.advance(Duration::minutes(15));
    // The cursor is the newest record's time in milliseconds: only the record of the cursor's
    // own second comes back (the one-second overlap), not the older ones.
    let second = world.run().await;
    assert!(second.stats.read <= 1, "{second:?}");
    assert_eq!(second.stats.synced, 0, "{second:?}");
    world.finish().await;
}

#[tokio::test]
async fn a_pair_outside_the_plan_never_runs() {
    let world = SyncWorld::with_pairs(
        2,
        &[
            (ModulePair::AccountsCustomers, Direction::ZohoToQbo),
            (ModulePair::InvoicesInvoices, Direction::ZohoToQbo),
        ],
    )
    .await;
    // Back to Freemium: Invoices keep their direction but are not in the plan.
    engine::with_pool!(&world.db, pool => {
        sqlx::query("UPDATE tenants SET plan = 'freemium' WHERE id = $1").bind(TENANT).execute(pool).await.expect("plan");
        sqlx::query("UPDATE billing_accounts SET status = 'canceled' WHERE tenant_id = $1").bind(TENANT).execute(pool).await.expect("status");
    });
    let invoices_before = world.qbo_records("Invoice").await.len();
    world.run().await;
    assert_eq!(
        world.qbo_records("Invoice").await.len(),
        invoices_before,
        "no invoice written"
    );
    assert!(
        world.logs(ModulePair::InvoicesInvoices).await.is_empty(),
        "the gated pair was not even read"
    );
    assert_eq!(
        world.logs(ModulePair::AccountsCustomers).await.len(),
        2,
        "the essential pair ran"
    );
    world.finish().await;
}

#[tokio::test]
async fn directions_that_would_bill_twice_are_refused_and_new_flows_start_now() {
    let world = SyncWorld::start(1).await;
    let mut directions = SyncDirections::default();
    directions.set(ModulePair::SalesOrders, Direction::ZohoToQbo);
    directions.set(ModulePair::InvoicesInvoices, Direction::ZohoToQbo);
    let refused = world
        .stores
        .save_directions(TENANT, &directions)
        .await
        .expect_err("both would write QuickBooks invoices");
    assert!(refused.to_string().contains("billed twice"), "{refused}");
    assert_eq!(
        world
            .stores
            .config
            .directions(TENANT)
            .await
            .expect("directions"),
        SyncDirections::default(),
        "nothing saved"
    );
    directions.sales_orders = domain::pairs::SalesOrderTarget::Estimate;
    world
        .stores
        .save_directions(TENANT, &directions)
        .await
        .expect("saved");
    // The flows switched on start now: the invoices already in Zoho are not copied unasked.
    let store = world.stores.links.clone();
    let cursor = store
        .cursor(TENANT, ModulePair::InvoicesInvoices, Flow::ZohoToQbo)
        .await
        .expect("cursor")
        .expect("started");
    assert_eq!(cursor.at, world.clock_now().timestamp_millis());
    assert!(
        store
            .cursor(TENANT, ModulePair::AccountsCustomers, Flow::ZohoToQbo)
            .await
            .expect("cursor")
            .is_none(),
        "pairs that were on already keep their cursors"
    );
    world.finish().await;
}
