//! Scenario tests of the sync engine against the sandbox: real HTTP between our clients and the
//! simulated Zoho CRM and QuickBooks Online, a real database (SQLite, or PostgreSQL with
//! ZQSYNC_TEST_DATABASE=postgres), the engine run end to end.

use crate::support::{SyncWorld, TENANT};
use chrono::Duration;
use domain::filters::{Combinator, Condition, FilterRow, FilterSet, PairFilters};
use domain::log::LogStatus;
use domain::mapping::MappingSource;
use domain::pairs::{Direction, Flow, ModulePair, SyncDirections};
use domain::settings::{AccountRef, ConflictPolicy, SyncSettings};
use engine::sync::run::FaultPoint;
use engine::sync::{LogQuery, RunOutcome};
use serde_json::{Value, json};

/// Only the given pairs on, each in its direction.
async fn directions(world: &SyncWorld, pairs: &[(ModulePair, Direction)]) {
    let mut directions = SyncDirections::default();
    for pair in ModulePair::ALL {
        directions.set(pair, Direction::Disabled);
    }
    for (pair, direction) in pairs {
        directions.set(*pair, *direction);
    }
    world
        .stores
        .config
        .save_directions(TENANT, &directions)
        .await
        .expect("directions");
}

/// Invoices Zoho → QBO with the pairs of their customers and products, and Inventory Settings
/// (new products need them), so an invoice's dependencies can be synced first.
async fn invoices_with_their_dependencies(world: &SyncWorld) {
    directions(
        world,
        &[
            (ModulePair::AccountsCustomers, Direction::ZohoToQbo),
            (ModulePair::ProductsItems, Direction::ZohoToQbo),
            (ModulePair::InvoicesInvoices, Direction::ZohoToQbo),
        ],
    )
    .await;
    inventory_settings(world).await;
}

/// Inventory Settings from the sandbox company's accounts.
async fn inventory_settings(world: &SyncWorld) {
    let qbo = world.qbo().await;
    let accounts = qbo.query("SELECT * FROM Account").await.expect("accounts");
    let find = |name: &str| {
        let row = accounts
            .iter()
            .find(|a| a["Name"] == name)
            .unwrap_or_else(|| panic!("account {name}"));
        Some(AccountRef {
            id: row["Id"].as_str().expect("id").to_owned(),
            name: name.to_owned(),
        })
    };
    let mut settings = world
        .stores
        .config
        .settings(TENANT)
        .await
        .expect("settings");
    settings.inventory.income_account = find("Sales of Product Income");
    settings.inventory.expense_account = find("Cost of Goods Sold");
    settings.inventory.asset_account = find("Inventory Asset");
    world
        .stores
        .config
        .save_settings(TENANT, &settings)
        .await
        .expect("save");
}

async fn set_policy(world: &SyncWorld, policy: ConflictPolicy) {
    let mut settings: SyncSettings = world
        .stores
        .config
        .settings(TENANT)
        .await
        .expect("settings");
    settings.conflict_policy = policy;
    world
        .stores
        .config
        .save_settings(TENANT, &settings)
        .await
        .expect("save");
}

async fn run(world: &SyncWorld) -> engine::sync::RunReport {
    let summary = world.engine.run_tenant(TENANT).await;
    assert_eq!(
        summary.outcome,
        RunOutcome::Ok,
        "run: {:?}",
        summary.message
    );
    summary
}

async fn logs(world: &SyncWorld, pair: ModulePair) -> Vec<engine::sync::LogEntry> {
    world
        .stores
        .logs
        .list(
            TENANT,
            &LogQuery {
                pair: Some(pair),
                per_page: 200,
                ..LogQuery::default()
            },
        )
        .await
        .expect("logs")
        .rows
}

/// QBO writes (POSTs to the company API) the sandbox saw so far.
async fn qbo_write_count(world: &SyncWorld) -> usize {
    let writes = world
        .control(reqwest::Method::GET, "writes?service=qbo_api", None)
        .await;
    writes["writes"].as_array().map_or(0, |w| {
        w.iter()
            .filter(|w| {
                w["path"]
                    .as_str()
                    .is_some_and(|p| p.contains("/v3/company/"))
            })
            .count()
    })
}

fn by_name<'a>(records: &'a [Value], key: &str, name: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r[key] == name).collect()
}

#[tokio::test]
async fn zoho_records_reach_qbo_once_and_a_second_run_writes_nothing() {
    let world = SyncWorld::start(3).await;
    directions(
        &world,
        &[
            (ModulePair::AccountsCustomers, Direction::ZohoToQbo),
            (ModulePair::ProductsItems, Direction::ZohoToQbo),
        ],
    )
    .await;
    inventory_settings(&world).await;
    let accounts = world.zoho_records("Accounts").await;
    assert_eq!(accounts.len(), 3);

    let first = run(&world).await;
    let problems: Vec<_> = logs(&world, ModulePair::ProductsItems)
        .await
        .into_iter()
        .filter_map(|r| r.message)
        .collect();
    assert_eq!(first.stats.synced, 6, "{first:?} {problems:?}");
    let customers = world.qbo_records("Customer").await;
    for account in &accounts {
        let name = account["Account_Name"].as_str().expect("name");
        assert_eq!(
            by_name(&customers, "DisplayName", name).len(),
            1,
            "{name} once in QBO"
        );
    }
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
    let rows = logs(&world, ModulePair::AccountsCustomers).await;
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r.status == LogStatus::Synced && r.qbo_id.is_some() && r.zoho_id.is_some())
    );
    assert!(
        rows[0].details.written.get("DisplayName").is_some(),
        "details keep the payload"
    );

    let writes = qbo_write_count(&world).await;
    world.advance(Duration::minutes(15));
    let second = run(&world).await;
    assert_eq!(second.stats.synced, 0, "{second:?}");
    assert_eq!(
        qbo_write_count(&world).await,
        writes,
        "nothing written again"
    );
    world.finish().await;
}

#[tokio::test]
async fn an_update_in_zoho_is_a_sparse_update_in_qbo_with_before_and_after() {
    let world = SyncWorld::start(2).await;
    directions(
        &world,
        &[(ModulePair::AccountsCustomers, Direction::ZohoToQbo)],
    )
    .await;
    run(&world).await;
    let account = world.zoho_records("Accounts").await[0].clone();
    let id = account["id"].as_str().expect("id");
    world.advance(Duration::minutes(5));
    let zoho = world.zoho().await;
    zoho.update("Accounts", &[json!({"id": id, "Phone": "+1-555-000-1234"})])
        .await
        .expect("user edit")[0]
        .as_ref()
        .expect("edited");
    world.advance(Duration::minutes(5));
    let summary = run(&world).await;
    assert_eq!(summary.stats.synced, 1);
    let link = world
        .links()
        .await
        .into_iter()
        .find(|l| l.zoho_id == id)
        .expect("link");
    let customer = world
        .qbo()
        .await
        .read("Customer", &link.qbo_id)
        .await
        .expect("customer");
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
    let row = &logs(&world, ModulePair::AccountsCustomers).await[0];
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
    let world = SyncWorld::start(3).await;
    directions(
        &world,
        &[(ModulePair::AccountsCustomers, Direction::ZohoToQbo)],
    )
    .await;
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
    let summary = run(&world).await;
    assert_eq!(summary.stats.not_valid, 3);
    assert_eq!(
        world.qbo_records("Customer").await.len(),
        before,
        "nothing written"
    );
    let rows = logs(&world, ModulePair::AccountsCustomers).await;
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
    run(&world).await;
    world.advance(Duration::minutes(15));
    run(&world).await;
    assert_eq!(
        logs(&world, ModulePair::AccountsCustomers).await.len(),
        3,
        "no repeated rows"
    );
    world.finish().await;
}

#[tokio::test]
async fn a_static_value_is_written_to_qbo() {
    let world = SyncWorld::start(1).await;
    directions(
        &world,
        &[(ModulePair::AccountsCustomers, Direction::ZohoToQbo)],
    )
    .await;
    let (mut mapping, _) = world
        .stores
        .config
        .mapping(TENANT, ModulePair::AccountsCustomers)
        .await
        .expect("mapping");
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
    world
        .stores
        .config
        .save_mapping(TENANT, ModulePair::AccountsCustomers, &mapping)
        .await
        .expect("save");
    run(&world).await;
    let link = world.links().await.remove(0);
    let customer = world
        .qbo()
        .await
        .read("Customer", &link.qbo_id)
        .await
        .expect("customer");
    assert_eq!(customer["Notes"], "Synced by zqsync");
    let terms = world
        .qbo()
        .await
        .query("SELECT * FROM Term")
        .await
        .expect("terms");
    let net30 = terms
        .iter()
        .find(|t| t["Name"] == "Net 30")
        .expect("Net 30 term");
    assert_eq!(customer["SalesTermRef"]["value"], net30["Id"]);
    world.finish().await;
}

/// An invoice whose account changed before the sync window: the engine syncs the account first.
#[tokio::test]
async fn a_missing_dependency_is_synced_first_when_its_pair_runs() {
    let world = SyncWorld::start(0).await;
    invoices_with_their_dependencies(&world).await;
    let zoho = world.zoho().await;
    let account = zoho
        .insert("Accounts", &[json!({"Account_Name": "Old Customer Ltd"})])
        .await
        .expect("insert")[0]
        .clone()
        .expect("ok")
        .id;
    let product = zoho
        .insert(
            "Products",
            &[json!({"Product_Name": "Old Widget", "Product_Code": "OW-1", "Unit_Price": 12.5})],
        )
        .await
        .expect("insert")[0]
        .clone()
        .expect("ok")
        .id;
    world.advance(Duration::days(3));
    zoho.insert(
        "Invoices",
        &[json!({"Subject": "INV-1", "Account_Name": {"id": account}, "Invoiced_Items": [{"Product_Name": {"id": product}, "Quantity": 2, "List_Price": 12.5}]})],
    )
    .await
    .expect("invoice")[0]
        .as_ref()
        .expect("ok");
    run(&world).await;
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
    let invoice = world
        .qbo()
        .await
        .read("Invoice", &invoice_link.qbo_id)
        .await
        .expect("invoice");
    let customer_link = links.iter().find(|l| l.zoho_id == account).unwrap();
    assert_eq!(invoice["CustomerRef"]["value"], json!(customer_link.qbo_id));
    world.finish().await;
}

#[tokio::test]
async fn a_missing_dependency_of_a_disabled_pair_is_an_error_naming_it() {
    let world = SyncWorld::start(0).await;
    directions(
        &world,
        &[(ModulePair::InvoicesInvoices, Direction::ZohoToQbo)],
    )
    .await;
    let zoho = world.zoho().await;
    let account = zoho
        .insert("Accounts", &[json!({"Account_Name": "Unsynced Co"})])
        .await
        .expect("insert")[0]
        .clone()
        .expect("ok")
        .id;
    let product = zoho
        .insert(
            "Products",
            &[json!({"Product_Name": "Widget", "Product_Code": "W-9", "Unit_Price": 3})],
        )
        .await
        .expect("insert")[0]
        .clone()
        .expect("ok")
        .id;
    zoho.insert(
        "Invoices",
        &[json!({"Subject": "INV-9", "Account_Name": {"id": account}, "Invoiced_Items": [{"Product_Name": {"id": product}, "Quantity": 1, "List_Price": 3}]})],
    )
    .await
    .expect("invoice");
    let summary = run(&world).await;
    assert_eq!(summary.stats.errors, 1);
    let row = &logs(&world, ModulePair::InvoicesInvoices).await[0];
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
    let world = SyncWorld::start(1).await;
    directions(&world, &[(ModulePair::ProductsItems, Direction::ZohoToQbo)]).await;
    let items_before = world.qbo_records("Item").await.len();
    run(&world).await;
    assert_eq!(world.qbo_records("Item").await.len(), items_before);
    let row = &logs(&world, ModulePair::ProductsItems).await[0];
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

#[tokio::test]
async fn qbo_records_reach_zoho_and_bidirectional_echoes_do_not_ping_pong() {
    let world = SyncWorld::start(2).await;
    directions(
        &world,
        &[(ModulePair::AccountsCustomers, Direction::Bidirectional)],
    )
    .await;
    run(&world).await;
    let customers = world.qbo_records("Customer").await;
    let accounts = world.zoho_records("Accounts").await;
    // Each side's records are now on the other side, once.
    for customer in customers.iter().filter(|c| c["Active"] != false) {
        let name = customer["DisplayName"].as_str().unwrap();
        assert_eq!(
            by_name(&accounts, "Account_Name", name).len(),
            1,
            "{name} in Zoho once"
        );
    }
    for account in &accounts {
        let name = account["Account_Name"].as_str().unwrap();
        assert_eq!(
            by_name(&customers, "DisplayName", name).len(),
            1,
            "{name} in QBO once"
        );
    }
    // One change, two runs: written once.
    world.advance(Duration::minutes(5));
    let id = accounts[0]["id"].as_str().unwrap();
    world
        .zoho()
        .await
        .update("Accounts", &[json!({"id": id, "Phone": "+1-555-222-3333"})])
        .await
        .expect("edit");
    world.advance(Duration::minutes(5));
    let writes = qbo_write_count(&world).await;
    let first = run(&world).await;
    assert_eq!(first.stats.synced, 1, "{first:?}");
    world.advance(Duration::minutes(15));
    let second = run(&world).await;
    assert_eq!(second.stats.synced, 0, "{second:?}");
    world.advance(Duration::minutes(15));
    let third = run(&world).await;
    assert_eq!(third.stats.synced, 0, "{third:?}");
    assert_eq!(
        qbo_write_count(&world).await,
        writes + 1,
        "one QBO write for one change"
    );
    world.finish().await;
}

async fn conflict(
    policy: ConflictPolicy,
    qbo_later: bool,
) -> (String, String, Vec<engine::sync::LogEntry>) {
    let world = SyncWorld::start(1).await;
    directions(
        &world,
        &[(ModulePair::AccountsCustomers, Direction::Bidirectional)],
    )
    .await;
    set_policy(&world, policy).await;
    run(&world).await;
    let link = world.links().await.remove(0);
    let qbo = world.qbo().await;
    let zoho = world.zoho().await;
    world.advance(Duration::minutes(5));
    let edit_qbo = async {
        let current = qbo.read("Customer", &link.qbo_id).await.expect("read");
        let mut changes = serde_json::Map::new();
        changes.insert(
            "PrimaryPhone".into(),
            json!({"FreeFormNumber": "QBO-PHONE"}),
        );
        qbo.sparse_update(
            "Customer",
            &link.qbo_id,
            current["SyncToken"].as_str().unwrap(),
            &changes,
            None,
        )
        .await
        .expect("qbo edit");
    };
    let edit_zoho = async {
        zoho.update(
            "Accounts",
            &[json!({"id": link.zoho_id, "Phone": "ZOHO-PHONE"})],
        )
        .await
        .expect("zoho edit");
    };
    if qbo_later {
        edit_zoho.await;
        world.advance(Duration::minutes(1));
        edit_qbo.await;
    } else {
        edit_qbo.await;
        world.advance(Duration::minutes(1));
        edit_zoho.await;
    }
    world.advance(Duration::minutes(5));
    run(&world).await;
    world.advance(Duration::minutes(15));
    run(&world).await;
    let customer = qbo.read("Customer", &link.qbo_id).await.expect("read");
    let account = zoho.get("Accounts", &link.zoho_id).await.expect("get");
    let rows = logs(&world, ModulePair::AccountsCustomers).await;
    let out = (
        customer["PrimaryPhone"]["FreeFormNumber"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        account["Phone"].as_str().unwrap_or_default().to_owned(),
        rows,
    );
    world.finish().await;
    out
}

#[tokio::test]
async fn conflicts_follow_the_policy_and_keep_the_losing_version() {
    let (qbo, zoho, rows) = conflict(ConflictPolicy::QboWins, false).await;
    assert_eq!((qbo.as_str(), zoho.as_str()), ("QBO-PHONE", "QBO-PHONE"));
    let lost = rows
        .iter()
        .find(|r| r.details.conflict.is_some())
        .expect("conflict logged");
    assert_eq!(
        lost.details.conflict.as_ref().unwrap().losing_version["Phone"],
        "ZOHO-PHONE"
    );

    let (qbo, zoho, rows) = conflict(ConflictPolicy::ZohoWins, true).await;
    assert_eq!((qbo.as_str(), zoho.as_str()), ("ZOHO-PHONE", "ZOHO-PHONE"));
    let lost = rows
        .iter()
        .find(|r| r.details.conflict.is_some())
        .expect("conflict logged");
    assert_eq!(
        lost.details.conflict.as_ref().unwrap().losing_version["PrimaryPhone"]["FreeFormNumber"],
        "QBO-PHONE"
    );

    let (qbo, zoho, _) = conflict(ConflictPolicy::NewestWins, true).await;
    assert_eq!(
        (qbo.as_str(), zoho.as_str()),
        ("QBO-PHONE", "QBO-PHONE"),
        "QBO edited last"
    );
    let (qbo, zoho, _) = conflict(ConflictPolicy::NewestWins, false).await;
    assert_eq!(
        (qbo.as_str(), zoho.as_str()),
        ("ZOHO-PHONE", "ZOHO-PHONE"),
        "Zoho edited last"
    );
}

#[tokio::test]
async fn a_deleted_qbo_counterpart_is_reported_and_can_be_recreated() {
    let world = SyncWorld::start(1).await;
    directions(
        &world,
        &[(ModulePair::AccountsCustomers, Direction::ZohoToQbo)],
    )
    .await;
    run(&world).await;
    let link = world.links().await.remove(0);
    world
        .control(
            reqwest::Method::DELETE,
            &format!("qbo/{}/Customer/{}", world.realm, link.qbo_id),
            None,
        )
        .await;
    world.advance(Duration::minutes(5));
    world
        .zoho()
        .await
        .update(
            "Accounts",
            &[json!({"id": link.zoho_id, "Phone": "+1-555-999-0000"})],
        )
        .await
        .expect("edit");
    world.advance(Duration::minutes(5));
    run(&world).await;
    let row = logs(&world, ModulePair::AccountsCustomers).await.remove(0);
    assert_eq!(row.status, LogStatus::Error);
    assert!(
        row.message
            .as_deref()
            .unwrap_or_default()
            .contains("deleted"),
        "{row:?}"
    );
    assert_eq!(row.action, Some(engine::sync::LogAction::Recreate));
    // Re-create from the log row.
    engine::with_pool!(&world.db, pool => {
        sqlx::query("INSERT INTO sync_retries (tenant_id, pair, flow, source_id, kind, requested_at) VALUES ($1, 'accounts_customers', 'zoho_to_qbo', $2, 'recreate', 0)")
            .bind(TENANT)
            .bind(&link.zoho_id)
            .execute(pool)
            .await
            .expect("retry");
    });
    run(&world).await;
    let links = world.links().await;
    let rows = logs(&world, ModulePair::AccountsCustomers).await;
    assert_eq!(
        links.len(),
        1,
        "{:?}",
        rows.iter()
            .map(|r| (&r.status, &r.message))
            .collect::<Vec<_>>()
    );
    let relinked = links[0].clone();
    assert_ne!(relinked.qbo_id, link.qbo_id, "a new QBO customer");
    let customer = world
        .qbo()
        .await
        .read("Customer", &relinked.qbo_id)
        .await
        .expect("new customer");
    assert_eq!(customer["Active"], true);
    world.finish().await;
}

#[tokio::test]
async fn a_stale_sync_token_is_re_read_and_re_applied() {
    let world = SyncWorld::start(1).await;
    directions(
        &world,
        &[(ModulePair::AccountsCustomers, Direction::ZohoToQbo)],
    )
    .await;
    run(&world).await;
    let link = world.links().await.remove(0);
    let qbo = world.qbo().await;
    // Someone edits the customer in QBO: our stored SyncToken is now stale.
    let current = qbo.read("Customer", &link.qbo_id).await.expect("read");
    let mut changes = serde_json::Map::new();
    changes.insert("CompanyName".into(), json!("Edited in QBO"));
    qbo.sparse_update(
        "Customer",
        &link.qbo_id,
        current["SyncToken"].as_str().unwrap(),
        &changes,
        None,
    )
    .await
    .expect("edit");
    world.advance(Duration::minutes(5));
    world
        .zoho()
        .await
        .update(
            "Accounts",
            &[json!({"id": link.zoho_id, "Phone": "+1-555-444-5555"})],
        )
        .await
        .expect("edit");
    world.advance(Duration::minutes(5));
    let summary = run(&world).await;
    assert_eq!(summary.stats.synced, 1, "{summary:?}");
    let customer = qbo.read("Customer", &link.qbo_id).await.expect("read");
    assert_eq!(
        customer["PrimaryPhone"]["FreeFormNumber"],
        "+1-555-444-5555"
    );
    world.finish().await;
}

#[tokio::test]
async fn a_crash_between_the_remote_write_and_the_commit_neither_duplicates_nor_skips() {
    let world = SyncWorld::start(5).await;
    directions(
        &world,
        &[(ModulePair::AccountsCustomers, Direction::ZohoToQbo)],
    )
    .await;
    let crashing = world
        .engine
        .clone()
        .with_fault_hook(std::sync::Arc::new(|point| {
            matches!(point, FaultPoint::AfterRemoteWrite { .. })
        }));
    let crashed = crashing.run_tenant(TENANT).await;
    assert_eq!(crashed.outcome, RunOutcome::Failed);
    assert!(world.links().await.is_empty(), "nothing committed");
    run(&world).await;
    let customers = world.qbo_records("Customer").await;
    for account in world.zoho_records("Accounts").await {
        let name = account["Account_Name"].as_str().unwrap();
        assert_eq!(
            by_name(&customers, "DisplayName", name).len(),
            1,
            "{name} exactly once"
        );
    }
    assert_eq!(world.links().await.len(), 5, "none skipped");
    world.finish().await;
}

/// Zoho accounts in the order a walk reads them: by modified time, then id.
fn in_walk_order(mut accounts: Vec<Value>) -> Vec<Value> {
    accounts.sort_by_key(|a| {
        (
            a["Modified_Time"].as_str().unwrap_or_default().to_owned(),
            a["id"]
                .as_str()
                .unwrap_or_default()
                .parse::<u64>()
                .unwrap_or(0),
        )
    });
    accounts
}

#[tokio::test]
async fn records_changed_or_deleted_behind_a_walk_neither_push_others_out_nor_lose_the_change() {
    // 400 accounts: pages of 180, so three pages.
    let world = SyncWorld::start(400).await;
    directions(
        &world,
        &[(ModulePair::AccountsCustomers, Direction::ZohoToQbo)],
    )
    .await;
    let accounts = in_walk_order(world.zoho_records("Accounts").await);
    assert_eq!(accounts.len(), 400);
    let id = |i: usize| accounts[i]["id"].as_str().expect("id").to_owned();
    // Behind the walk: one record of page 1 edited and one deleted once page 1 is read (with
    // offsets, two records would slide back over the boundary unread); one record of page 2
    // edited once page 2 is read, while page 2's writes are in flight.
    let (edited_early, deleted, edited_late) = (id(2), id(4), id(250));
    let editor = world.sandbox.zoho_editor();
    let hook_ids = (edited_early.clone(), deleted.clone(), edited_late.clone());
    let phone = |n: u32| json!(format!("+1-555-000-{n:04}"));
    let edits: engine::sync::run::FaultHook = std::sync::Arc::new(move |point| {
        let phone_of = |n: u32| {
            let mut changes = serde_json::Map::new();
            changes.insert("Phone".into(), json!(format!("+1-555-000-{n:04}")));
            changes
        };
        match point {
            FaultPoint::ZohoPageRead { page: 1, .. } => {
                assert!(editor.touch("Accounts", &hook_ids.0, phone_of(1)).is_some());
                assert!(editor.delete("Accounts", &hook_ids.1));
            }
            FaultPoint::ZohoPageRead { page: 2, .. } => {
                assert!(editor.touch("Accounts", &hook_ids.2, phone_of(2)).is_some());
            }
            _ => {}
        }
        false
    });
    let summary = world
        .engine
        .clone()
        .with_fault_hook(edits)
        .run_tenant(TENANT)
        .await;
    assert_eq!(summary.outcome, RunOutcome::Ok, "{:?}", summary.message);
    let customers = world.qbo_records("Customer").await;
    for account in &accounts {
        let name = account["Account_Name"].as_str().expect("name");
        assert_eq!(
            by_name(&customers, "DisplayName", name).len(),
            1,
            "{name} exactly once"
        );
    }
    let links = world.links().await;
    assert_eq!(
        links.len(),
        400,
        "every account linked once, the deleted one too"
    );
    for (zoho_id, n) in [(&edited_early, 1), (&edited_late, 2)] {
        let link = links
            .iter()
            .find(|l| &l.zoho_id == zoho_id)
            .expect("linked");
        let customer = customers
            .iter()
            .find(|c| c["Id"] == json!(link.qbo_id))
            .expect("customer");
        assert_eq!(
            customer["PrimaryPhone"]["FreeFormNumber"],
            phone(n),
            "the edit made behind the walk reached QuickBooks"
        );
    }
    // Nothing is left over for the next run.
    world.advance(Duration::minutes(5));
    let again = run(&world).await;
    assert_eq!(again.stats.synced, 0, "{again:?}");
    world.finish().await;
}

#[tokio::test]
async fn an_invoice_edited_while_its_page_is_written_is_updated_not_created_twice() {
    // 400 invoices (pages of 180: three pages) of a few customers and products.
    let world = SyncWorld::start_with(sandbox::SandboxConfig {
        records_per_module: 0,
        zoho_seed: Some(sandbox::ZohoSeed {
            accounts: 10,
            products: 10,
            invoices: 400,
            lines_per_invoice: 1,
            newest_age: Duration::hours(1),
        }),
        ..sandbox::SandboxConfig::default()
    })
    .await;
    invoices_with_their_dependencies(&world).await;
    let invoices = in_walk_order(world.zoho_records("Invoices").await);
    // On page 2 of 3; once page 2 is read it is edited, so it comes again on page 3 while
    // page 2's batches are still being written.
    let edited = invoices[250]["id"].as_str().expect("id").to_owned();
    let editor = world.sandbox.zoho_editor();
    let hook_id = edited.clone();
    let edit: engine::sync::run::FaultHook = std::sync::Arc::new(move |point| {
        if point
            == (FaultPoint::ZohoPageRead {
                pair: ModulePair::InvoicesInvoices,
                page: 2,
            })
        {
            let mut changes = serde_json::Map::new();
            changes.insert("Terms_and_Conditions".into(), json!("Edited mid-walk"));
            assert!(editor.touch("Invoices", &hook_id, changes).is_some());
        }
        false
    });
    let summary = world
        .engine
        .clone()
        .with_fault_hook(edit)
        .run_tenant(TENANT)
        .await;
    assert_eq!(summary.outcome, RunOutcome::Ok, "{:?}", summary.message);
    let written = world.qbo_records("Invoice").await;
    let links: Vec<_> = world
        .links()
        .await
        .into_iter()
        .filter(|l| l.pair == ModulePair::InvoicesInvoices)
        .collect();
    assert_eq!(links.len(), invoices.len(), "every invoice linked once");
    let ours = written
        .iter()
        .filter(|i| links.iter().any(|l| i["Id"] == json!(l.qbo_id)))
        .count();
    assert_eq!(
        written.len(),
        ours,
        "no invoice in QuickBooks without its link"
    );
    assert_eq!(written.len(), invoices.len(), "no invoice created twice");
    let link = links.iter().find(|l| l.zoho_id == edited).expect("linked");
    let invoice = written
        .iter()
        .find(|i| i["Id"] == json!(link.qbo_id))
        .expect("invoice");
    assert_eq!(invoice["CustomerMemo"]["value"], "Edited mid-walk");
    world.finish().await;
}

#[tokio::test]
async fn a_pair_outside_the_plan_never_runs() {
    let world = SyncWorld::start(2).await;
    directions(
        &world,
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
    run(&world).await;
    assert_eq!(
        world.qbo_records("Invoice").await.len(),
        invoices_before,
        "no invoice written"
    );
    assert!(
        logs(&world, ModulePair::InvoicesInvoices).await.is_empty(),
        "the gated pair was not even read"
    );
    assert_eq!(
        logs(&world, ModulePair::AccountsCustomers).await.len(),
        2,
        "the essential pair ran"
    );
    world.finish().await;
}

#[tokio::test]
async fn a_historical_backfill_walks_old_records_with_progress() {
    let world = SyncWorld::start(0).await;
    directions(
        &world,
        &[(ModulePair::AccountsCustomers, Direction::ZohoToQbo)],
    )
    .await;
    // With the customer's Notes left unmapped, the engine stamps the Zoho id there.
    let (mut mapping, _) = world
        .stores
        .config
        .mapping(TENANT, ModulePair::AccountsCustomers)
        .await
        .expect("mapping");
    mapping.clear("Notes");
    world
        .stores
        .config
        .save_mapping(TENANT, ModulePair::AccountsCustomers, &mapping)
        .await
        .expect("save");
    let zoho = world.zoho().await;
    let rows: Vec<Value> = (0..250)
        .map(|i| json!({"Account_Name": format!("Old Account {i:03}")}))
        .collect();
    for chunk in rows.chunks(100) {
        zoho.insert("Accounts", chunk).await.expect("insert");
    }
    world.advance(Duration::days(40));
    // Live runs only look back a day: the old accounts are not picked up.
    run(&world).await;
    assert!(world.links().await.is_empty());
    let since = (world.clock_now() - Duration::days(60))
        .format("%Y-%m-%d")
        .to_string();
    let plans = domain::settings::BackfillRequest::check_all(
        &[domain::settings::BackfillRequest {
            pair: ModulePair::AccountsCustomers,
            since,
        }],
        domain::plans::Plan::ProfessionalAnnual,
        &world
            .stores
            .config
            .directions(TENANT)
            .await
            .expect("directions"),
        &world.clock_now().format("%Y-%m-%d").to_string(),
    )
    .expect("allowed");
    world
        .stores
        .backfills
        .queue(TENANT, &plans)
        .await
        .expect("queue");
    let mut runs = 0;
    loop {
        let summary = run(&world).await;
        runs += 1;
        if !summary.more_work || runs > 10 {
            break;
        }
    }
    assert_eq!(world.links().await.len(), 250, "every old account synced");
    let progress = world
        .stores
        .backfills
        .progress(TENANT)
        .await
        .expect("progress");
    assert_eq!(progress.len(), 1);
    assert_eq!(progress[0].status, engine::sync::BackfillStatus::Done);
    assert_eq!(progress[0].done, 250);
    assert_eq!(progress[0].estimated_total, Some(250));
    let customers = world.qbo_records("Customer").await;
    assert_eq!(
        customers
            .iter()
            .filter(|c| c["DisplayName"]
                .as_str()
                .is_some_and(|n| n.starts_with("Old Account")))
            .count(),
        250
    );
    // The QBO record carries the Zoho id, so links can be rebuilt.
    let link = world.links().await.remove(0);
    let customer = world
        .qbo()
        .await
        .read("Customer", &link.qbo_id)
        .await
        .expect("customer");
    assert_eq!(
        customer["Notes"],
        json!(format!("Zoho CRM Accounts {}", link.zoho_id))
    );
    world.finish().await;
}

#[tokio::test]
async fn a_crash_after_a_zoho_write_neither_duplicates_nor_skips() {
    let world = SyncWorld::start(4).await;
    directions(
        &world,
        &[(ModulePair::AccountsCustomers, Direction::QboToZoho)],
    )
    .await;
    // The org's fields include the unique QBO Id field (as "Sync Mappable Fields" finds it):
    // creates then upsert on it.
    let (mut catalogue, _) = world
        .stores
        .config
        .catalogue(TENANT, ModulePair::AccountsCustomers)
        .await
        .expect("catalogue");
    catalogue.zoho.push(
        domain::fields::ZohoField::from_metadata(&json!({"api_name": "QBO_Id", "field_label": "QBO Id", "data_type": "text", "custom_field": true}))
            .expect("field"),
    );
    world
        .stores
        .config
        .save_catalogue(TENANT, ModulePair::AccountsCustomers, &catalogue)
        .await
        .expect("save");
    let accounts_before = world.zoho_records("Accounts").await.len();
    let crashing = world
        .engine
        .clone()
        .with_fault_hook(std::sync::Arc::new(|point| {
            matches!(
                point,
                FaultPoint::AfterRemoteWrite {
                    flow: Flow::QboToZoho
                }
            )
        }));
    assert_eq!(
        crashing.run_tenant(TENANT).await.outcome,
        RunOutcome::Failed
    );
    assert!(world.links().await.is_empty(), "nothing committed");
    let after_crash = world.zoho_records("Accounts").await.len();
    assert!(
        after_crash > accounts_before,
        "the crashed run did write to Zoho"
    );
    run(&world).await;
    let accounts = world.zoho_records("Accounts").await;
    assert_eq!(accounts.len(), after_crash, "no second copy in Zoho");
    let customers: Vec<Value> = world
        .qbo_records("Customer")
        .await
        .into_iter()
        .filter(|c| c["Active"] != false)
        .collect();
    assert_eq!(
        world.links().await.len(),
        customers.len(),
        "every customer linked"
    );
    for customer in &customers {
        let name = customer["DisplayName"].as_str().unwrap();
        assert_eq!(
            by_name(&accounts, "Account_Name", name).len(),
            1,
            "{name} once in Zoho"
        );
    }
    world.finish().await;
}

#[tokio::test]
async fn an_item_whose_sku_zoho_already_has_is_linked_only_when_the_names_agree() {
    let world = SyncWorld::start(6).await;
    directions(&world, &[(ModulePair::ProductsItems, Direction::QboToZoho)]).await;
    // The demo data has the same SKUs on both sides (SKU-00001 …) under the same names. One
    // Zoho product is renamed: another product under a code the item has. (Inventory items:
    // the other types are not synced to Zoho by default.)
    let items = world.qbo_records("Item").await;
    let zoho = world.zoho().await;
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
    zoho.update(
        "Products",
        &[json!({"id": other_product["id"], "Product_Name": "Another Thing"})],
    )
    .await
    .expect("rename");
    let other_product = &json!({"id": other_product["id"], "Product_Name": "Another Thing", "Unit_Price": other_product["Unit_Price"]});
    world.advance(Duration::minutes(5));
    run(&world).await;

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
    let untouched = zoho
        .get("Products", other_product["id"].as_str().unwrap())
        .await
        .expect("product");
    assert_eq!(untouched["Product_Name"], other_product["Product_Name"]);
    assert_eq!(untouched["Unit_Price"], other_product["Unit_Price"]);
    let rows = logs(&world, ModulePair::ProductsItems).await;
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
async fn a_run_after_the_cursor_moved_reads_only_newer_records() {
    let world = SyncWorld::start(3).await;
    directions(
        &world,
        &[(ModulePair::AccountsCustomers, Direction::ZohoToQbo)],
    )
    .await;
    let first = run(&world).await;
    assert_eq!(first.stats.read, 3, "{first:?}");
    world.advance(Duration::minutes(15));
    // The cursor is the newest record's time in milliseconds: only the record of the cursor's
    // own second comes back (the one-second overlap), not the older ones.
    let second = run(&world).await;
    assert!(second.stats.read <= 1, "{second:?}");
    assert_eq!(second.stats.synced, 0, "{second:?}");
    world.finish().await;
}

/// Page commits of runs going on at once (other tenants, or a run's background commit and a
/// dependency's) all land. On SQLite a transaction that reads before it writes could not
/// take the write lock once another had committed meanwhile (SQLITE_BUSY_SNAPSHOT, returned
/// at once, no waiting): the run failed with "a problem on our side".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn page_commits_made_at_the_same_time_all_land() {
    use engine::sync::store::{Link, PageCommit};
    let world = SyncWorld::start(0).await;
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let store = world.engine.store().clone();
        tasks.push(tokio::spawn(async move {
            for page in 0..15 {
                let links = (0..20)
                    .map(|n| Link {
                        pair: ModulePair::AccountsCustomers,
                        zoho_id: format!("z-{writer}-{page}-{n}"),
                        qbo_id: format!("q-{writer}-{page}-{n}"),
                        zoho_hash: "h".to_owned(),
                        qbo_hash: "h".to_owned(),
                        qbo_sync_token: Some("0".to_owned()),
                        zoho_modified: None,
                        qbo_modified: None,
                        display_name: Some(format!("Account {writer}-{page}-{n}")),
                        last_written: Some(json!({"DisplayName": "x"})),
                    })
                    .collect();
                store
                    .commit(
                        TENANT,
                        PageCommit {
                            links,
                            ..PageCommit::default()
                        },
                    )
                    .await
                    .expect("a page commit lands while others are being made");
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    assert_eq!(world.links().await.len(), 8 * 15 * 20);
    world.finish().await;
}

/// The link of a record, found by its Zoho id.
async fn link_of_zoho(world: &SyncWorld, zoho_id: &str) -> engine::sync::store::Link {
    world
        .links()
        .await
        .into_iter()
        .find(|l| l.zoho_id == zoho_id)
        .unwrap_or_else(|| panic!("a link for Zoho record {zoho_id}"))
}

#[tokio::test]
async fn a_qbo_edit_in_the_same_second_as_our_write_reaches_zoho() {
    let world = SyncWorld::start(2).await;
    directions(
        &world,
        &[(ModulePair::AccountsCustomers, Direction::Bidirectional)],
    )
    .await;
    run(&world).await;
    let account = world.zoho_records("Accounts").await[0].clone();
    let zoho_id = account["id"].as_str().expect("id").to_owned();
    // A Zoho edit is written to QBO…
    world.advance(Duration::minutes(5));
    let zoho = world.zoho().await;
    zoho.update(
        "Accounts",
        &[json!({"id": zoho_id, "Phone": "+1-555-010-0001"})],
    )
    .await
    .expect("edit");
    world.advance(Duration::minutes(5));
    assert_eq!(run(&world).await.stats.synced, 1);
    // …and a person edits that customer in QBO within the same second (the clock has not
    // moved): the same LastUpdatedTime, a new SyncToken.
    let qbo = world.qbo().await;
    let link = link_of_zoho(&world, &zoho_id).await;
    let ours = qbo.read("Customer", &link.qbo_id).await.expect("read");
    let mut edit = serde_json::Map::new();
    edit.insert(
        "PrimaryPhone".into(),
        json!({"FreeFormNumber": "+1-555-010-0002"}),
    );
    let theirs = qbo
        .sparse_update(
            "Customer",
            &link.qbo_id,
            ours["SyncToken"].as_str().expect("token"),
            &edit,
            None,
        )
        .await
        .expect("person's edit");
    assert_eq!(
        theirs["MetaData"]["LastUpdatedTime"], ours["MetaData"]["LastUpdatedTime"],
        "the same second"
    );
    world.advance(Duration::minutes(5));
    let summary = run(&world).await;
    assert_eq!(summary.stats.synced, 1, "the person's edit: {summary:?}");
    let account = zoho.get("Accounts", &zoho_id).await.expect("account");
    assert_eq!(account["Phone"], "+1-555-010-0002", "not lost");
    let rows = logs(&world, ModulePair::AccountsCustomers).await;
    assert!(
        rows.iter().any(|r| r.flow == Flow::QboToZoho
            && r.status == LogStatus::Synced
            && r.qbo_id.as_deref() == Some(link.qbo_id.as_str())),
        "the change has its log row"
    );
    // And then it settles: nothing more to write either way.
    world.advance(Duration::minutes(15));
    assert_eq!(run(&world).await.stats.synced, 0);
    world.finish().await;
}

#[tokio::test]
async fn a_zoho_edit_in_the_same_second_as_our_write_reaches_qbo() {
    let world = SyncWorld::start(2).await;
    directions(
        &world,
        &[(ModulePair::AccountsCustomers, Direction::Bidirectional)],
    )
    .await;
    run(&world).await;
    let account = world.zoho_records("Accounts").await[0].clone();
    let zoho_id = account["id"].as_str().expect("id").to_owned();
    let link = link_of_zoho(&world, &zoho_id).await;
    // A QBO edit is written to Zoho…
    world.advance(Duration::minutes(5));
    let qbo = world.qbo().await;
    let customer = qbo.read("Customer", &link.qbo_id).await.expect("read");
    let mut edit = serde_json::Map::new();
    edit.insert(
        "PrimaryPhone".into(),
        json!({"FreeFormNumber": "+1-555-020-0001"}),
    );
    qbo.sparse_update(
        "Customer",
        &link.qbo_id,
        customer["SyncToken"].as_str().expect("token"),
        &edit,
        None,
    )
    .await
    .expect("edit");
    world.advance(Duration::minutes(5));
    assert_eq!(run(&world).await.stats.synced, 1);
    // …and a person edits that account in Zoho within the same second.
    let zoho = world.zoho().await;
    let ours = zoho.get("Accounts", &zoho_id).await.expect("account");
    assert_eq!(ours["Phone"], "+1-555-020-0001");
    let theirs = zoho
        .update(
            "Accounts",
            &[json!({"id": zoho_id, "Phone": "+1-555-020-0002"})],
        )
        .await
        .expect("person's edit")[0]
        .clone()
        .expect("edited");
    assert_eq!(
        theirs.modified_time.as_deref(),
        ours["Modified_Time"].as_str(),
        "the same second"
    );
    world.advance(Duration::minutes(5));
    let summary = run(&world).await;
    assert_eq!(summary.stats.synced, 1, "the person's edit: {summary:?}");
    let customer = qbo.read("Customer", &link.qbo_id).await.expect("read");
    assert_eq!(
        customer["PrimaryPhone"]["FreeFormNumber"], "+1-555-020-0002",
        "not lost"
    );
    world.advance(Duration::minutes(15));
    assert_eq!(run(&world).await.stats.synced, 0, "settled");
    world.finish().await;
}

/// A QBO item of the sandbox company, for tests that need one with a given name and SKU.
async fn create_item(world: &SyncWorld, name: &str, sku: &str, qty: u32) -> Value {
    let qbo = world.qbo().await;
    let accounts = qbo.query("SELECT * FROM Account").await.expect("accounts");
    let id_of = |name: &str| {
        accounts
            .iter()
            .find(|a| a["Name"] == name)
            .and_then(|a| a["Id"].as_str())
            .unwrap_or_else(|| panic!("account {name}"))
            .to_owned()
    };
    qbo.create(
        "Item",
        &json!({"Name": name, "Type": "Inventory", "Sku": sku, "UnitPrice": 12.5,
            "TrackQtyOnHand": true, "QtyOnHand": qty, "InvStartDate": "2026-01-01",
            "IncomeAccountRef": {"value": id_of("Sales of Product Income")},
            "ExpenseAccountRef": {"value": id_of("Cost of Goods Sold")},
            "AssetAccountRef": {"value": id_of("Inventory Asset")}}),
        &format!("test-item-{sku}-{name}"),
    )
    .await
    .expect("item")
}

#[tokio::test]
async fn a_sku_or_name_of_a_linked_product_never_takes_it_over() {
    let world = SyncWorld::start(1).await;
    directions(
        &world,
        &[(ModulePair::ProductsItems, Direction::Bidirectional)],
    )
    .await;
    inventory_settings(&world).await;
    let zoho = world.zoho().await;
    let product = zoho
        .insert(
            "Products",
            &[json!({"Product_Name": "Rock Widget", "Product_Code": "RW-1", "Unit_Price": 10.0, "Qty_in_Stock": 5.0})],
        )
        .await
        .expect("insert")[0]
        .clone()
        .expect("created");
    world.advance(Duration::minutes(5));
    run(&world).await;
    let linked = link_of_zoho(&world, &product.id).await;
    let first_item = world
        .qbo()
        .await
        .read("Item", &linked.qbo_id)
        .await
        .expect("item");
    assert_eq!(first_item["Sku"], "RW-1");

    // QBO → Zoho: another item with the product's code.
    world.advance(Duration::minutes(5));
    let other = create_item(&world, "Other Widget", "RW-1", 3).await;
    let other_id = other["Id"].as_str().expect("id").to_owned();
    world.advance(Duration::minutes(5));
    run(&world).await;
    let after = zoho.get("Products", &product.id).await.expect("product");
    assert_eq!(after["Product_Name"], "Rock Widget", "not overwritten");
    assert_eq!(after["Unit_Price"], 10.0);
    assert_eq!(
        link_of_zoho(&world, &product.id).await.qbo_id,
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
    let rows = logs(&world, ModulePair::ProductsItems).await;
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
    let twin = zoho
        .insert(
            "Products",
            &[json!({"Product_Name": first_item["Name"], "Product_Code": "RW-2", "Unit_Price": 99.0})],
        )
        .await
        .expect("insert")[0]
        .clone()
        .expect("created");
    world.advance(Duration::minutes(5));
    run(&world).await;
    let item = world
        .qbo()
        .await
        .read("Item", &linked.qbo_id)
        .await
        .expect("item");
    assert_eq!(item["Sku"], "RW-1", "the linked item is not overwritten");
    assert_eq!(item["UnitPrice"], first_item["UnitPrice"]);
    assert_eq!(
        link_of_zoho(&world, &product.id).await.qbo_id,
        linked.qbo_id
    );
    let rows = logs(&world, ModulePair::ProductsItems).await;
    let refused = rows
        .iter()
        .find(|r| r.zoho_id.as_deref() == Some(twin.id.as_str()))
        .expect("a row for the twin");
    assert_eq!(refused.status, LogStatus::Error);
    let message = refused.message.as_deref().unwrap_or_default();
    assert!(
        message.contains(&linked.qbo_id) && message.contains(&product.id),
        "{message}"
    );
    world.finish().await;
}

#[tokio::test]
async fn an_adopted_item_keeps_its_stock_and_the_log_says_so() {
    let world = SyncWorld::start(1).await;
    directions(&world, &[(ModulePair::ProductsItems, Direction::ZohoToQbo)]).await;
    inventory_settings(&world).await;
    let item = create_item(&world, "Pavers 77", "PV-77", 190).await;
    let zoho = world.zoho().await;
    let product = zoho
        .insert(
            "Products",
            &[json!({"Product_Name": "Pavers 77", "Product_Code": "PV-77", "Unit_Price": 14.0, "Qty_in_Stock": 91.0})],
        )
        .await
        .expect("insert")[0]
        .clone()
        .expect("created");
    world.advance(Duration::minutes(5));
    run(&world).await;
    let link = link_of_zoho(&world, &product.id).await;
    assert_eq!(link.qbo_id, item["Id"].as_str().unwrap(), "adopted by name");
    let held = world
        .qbo()
        .await
        .read("Item", &link.qbo_id)
        .await
        .expect("item");
    assert_eq!(held["QtyOnHand"], 190, "QuickBooks keeps its stock");
    assert_eq!(held["UnitPrice"], 14.0, "the other fields are updated");
    // The log and the link say what was written, and only that.
    let row = logs(&world, ModulePair::ProductsItems)
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
