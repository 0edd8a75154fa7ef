//! Scenario tests of the sync engine against the sandbox — when things go wrong: a deleted
//! counterpart is reported and can be re-created, a stale SyncToken is re-read, a crash between
//! the remote write and the local commit neither duplicates nor skips (either direction), and
//! page commits made at the same time all land.

use std::sync::Arc;

use crate::support::{SyncWorld, TENANT, assert_each_once};
use chrono::Duration;
use domain::log::LogStatus;
use domain::pairs::{Direction, Flow, ModulePair};
use engine::sync::RunOutcome;
use engine::sync::run::FaultPoint;
use serde_json::{Value, json};

const ACCOUNTS_TO_QBO: [(ModulePair, Direction); 1] =
    [(ModulePair::AccountsCustomers, Direction::ZohoToQbo)];

#[tokio::test]
async fn a_deleted_qbo_counterpart_is_reported_and_can_be_recreated() {
    let world = SyncWorld::with_pairs(1, &ACCOUNTS_TO_QBO).await;
    world.run().await;
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
        .edit_zoho(
            "Accounts",
            json!({"id": link.zoho_id, "Phone": "+1-555-999-0000"}),
        )
        .await;
    world.advance(Duration::minutes(5));
    world.run().await;
    let row = world.logs(ModulePair::AccountsCustomers).await.remove(0);
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
    world.run().await;
    let links = world.links().await;
    let rows = world.logs(ModulePair::AccountsCustomers).await;
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
    let customer = world.qbo_record("Customer", &relinked.qbo_id).await;
    assert_eq!(customer["Active"], true);
    world.finish().await;
}

#[tokio::test]
async fn a_stale_sync_token_is_re_read_and_re_applied() {
    let world = SyncWorld::with_pairs(1, &ACCOUNTS_TO_QBO).await;
    world.run().await;
    let link = world.links().await.remove(0);
    // Someone edits the customer in QBO: our stored SyncToken is now stale.
    world
        .edit_qbo(
            "Customer",
            &link.qbo_id,
            json!({"CompanyName": "Edited in QBO"}),
        )
        .await;
    world.advance(Duration::minutes(5));
    world
        .edit_zoho(
            "Accounts",
            json!({"id": link.zoho_id, "Phone": "+1-555-444-5555"}),
        )
        .await;
    world.advance(Duration::minutes(5));
    let summary = world.run().await;
    assert_eq!(summary.stats.synced, 1, "{summary:?}");
    let customer = world.qbo_record("Customer", &link.qbo_id).await;
    assert_eq!(
        customer["PrimaryPhone"]["FreeFormNumber"],
        "+1-555-444-5555"
    );
    world.finish().await;
}

/// A run that crashes right after its remote write in `flow`, before storing anything.
async fn crash_after_remote_write(world: &SyncWorld, flow: Flow) {
    let crashed = world
        .run_with_hook(Arc::new(move |point| {
            point == FaultPoint::AfterRemoteWrite { flow }
        }))
        .await;
    assert_eq!(crashed.outcome, RunOutcome::Failed);
    assert!(world.links().await.is_empty(), "nothing committed");
}

#[tokio::test]
async fn a_crash_between_the_remote_write_and_the_commit_neither_duplicates_nor_skips() {
    let world = SyncWorld::with_pairs(5, &ACCOUNTS_TO_QBO).await;
    crash_after_remote_write(&world, Flow::ZohoToQbo).await;
    world.run().await;
    let customers = world.qbo_records("Customer").await;
    let accounts = world.zoho_records("Accounts").await;
    assert_each_once(&accounts, "Account_Name", &customers, "DisplayName", "QBO");
    assert_eq!(world.links().await.len(), 5, "none skipped");
    world.finish().await;
}

#[tokio::test]
async fn a_crash_after_a_zoho_write_neither_duplicates_nor_skips() {
    let world =
        SyncWorld::with_pairs(4, &[(ModulePair::AccountsCustomers, Direction::QboToZoho)]).await;
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
    crash_after_remote_write(&world, Flow::QboToZoho).await;
    let after_crash = world.zoho_records("Accounts").await.len();
    assert!(
        after_crash > accounts_before,
        "the crashed run did write to Zoho"
    );
    world.run().await;
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
    assert_each_once(&customers, "DisplayName", &accounts, "Account_Name", "Zoho");
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
                        zoho_id: format!("z-{writer}-{page}-{n}").into(),
                        qbo_id: format!("q-{writer}-{page}-{n}").into(),
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
