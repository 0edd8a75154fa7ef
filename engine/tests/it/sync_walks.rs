//! Scenario tests of the sync engine against the sandbox — walks over many pages: records
//! changed or deleted behind a walk, a record edited while its page is being written, and a
//! historical backfill taken a slice per run with its progress.

use std::sync::Arc;

use crate::support::{SyncWorld, TENANT, assert_each_once, in_walk_order};
use chrono::Duration;
use domain::pairs::{Direction, ModulePair};
use engine::sync::RunOutcome;
use engine::sync::run::{FaultHook, FaultPoint};
use serde_json::{Value, json};

/// Changes that set `Phone` to a number ending in `n`.
fn phone_change(n: u32) -> serde_json::Map<String, Value> {
    let mut changes = serde_json::Map::new();
    changes.insert("Phone".into(), json!(format!("+1-555-000-{n:04}")));
    changes
}

#[tokio::test]
async fn records_changed_or_deleted_behind_a_walk_neither_push_others_out_nor_lose_the_change() {
    // 400 accounts: pages of 180, so three pages.
    let world = SyncWorld::with_pairs(
        400,
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
    let edits: FaultHook = Arc::new(move |point| {
        match point {
            FaultPoint::ZohoPageRead { page: 1, .. } => {
                assert!(
                    editor
                        .touch("Accounts", &hook_ids.0, phone_change(1))
                        .is_some()
                );
                assert!(editor.delete("Accounts", &hook_ids.1));
            }
            FaultPoint::ZohoPageRead { page: 2, .. } => {
                assert!(
                    editor
                        .touch("Accounts", &hook_ids.2, phone_change(2))
                        .is_some()
                );
            }
            _ => {}
        }
        false
    });
    let summary = world.run_with_hook(edits).await;
    assert_eq!(summary.outcome, RunOutcome::Ok, "{:?}", summary.message);
    let customers = world.qbo_records("Customer").await;
    assert_each_once(&accounts, "Account_Name", &customers, "DisplayName", "QBO");
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
            phone_change(n)["Phone"],
            "the edit made behind the walk reached QuickBooks"
        );
    }
    // Nothing is left over for the next run.
    world.advance(Duration::minutes(5));
    let again = world.run().await;
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
    world.invoices_with_their_dependencies().await;
    let invoices = in_walk_order(world.zoho_records("Invoices").await);
    // On page 2 of 3; once page 2 is read it is edited, so it comes again on page 3 while
    // page 2's batches are still being written.
    let edited = invoices[250]["id"].as_str().expect("id").to_owned();
    let editor = world.sandbox.zoho_editor();
    let hook_id = edited.clone();
    let edit: FaultHook = Arc::new(move |point| {
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
    let summary = world.run_with_hook(edit).await;
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
async fn a_historical_backfill_walks_old_records_with_progress() {
    let world =
        SyncWorld::with_pairs(0, &[(ModulePair::AccountsCustomers, Direction::ZohoToQbo)]).await;
    // With the customer's Notes left unmapped, the engine stamps the Zoho id there.
    world
        .change_mapping(ModulePair::AccountsCustomers, |mapping| {
            mapping.clear("Notes");
        })
        .await;
    let zoho = world.zoho().await;
    let rows: Vec<Value> = (0..250)
        .map(|i| json!({"Account_Name": format!("Old Account {i:03}")}))
        .collect();
    for chunk in rows.chunks(100) {
        zoho.insert("Accounts", chunk).await.expect("insert");
    }
    world.advance(Duration::days(40));
    // Live runs only look back a day: the old accounts are not picked up.
    world.run().await;
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
        let summary = world.run().await;
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
    let customer = world.qbo_record("Customer", &link.qbo_id).await;
    assert_eq!(
        customer["Notes"],
        json!(format!("Zoho CRM Accounts {}", link.zoho_id))
    );
    world.finish().await;
}
