//! Scenario tests of the sync engine against the sandbox — bi-directional pairs: each side's
//! records reach the other once, our own writes coming back are not written again, conflicts
//! follow the policy and keep the losing version, and a person's edit in the same second as our
//! write is not taken for our echo.

use crate::support::{SyncWorld, assert_each_once};
use std::sync::Arc;

use chrono::Duration;
use domain::log::LogStatus;
use domain::pairs::{Direction, Flow, ModulePair};
use domain::settings::ConflictPolicy;
use sandbox::SandboxConfig;
use serde_json::{Value, json};

const ACCOUNTS_BOTH_WAYS: [(ModulePair, Direction); 1] =
    [(ModulePair::AccountsCustomers, Direction::Bidirectional)];

#[tokio::test]
async fn qbo_records_reach_zoho_and_bidirectional_echoes_do_not_ping_pong() {
    let world = SyncWorld::with_pairs(2, &ACCOUNTS_BOTH_WAYS).await;
    world.run().await;
    let customers = world.qbo_records("Customer").await;
    let accounts = world.zoho_records("Accounts").await;
    // Each side's records are now on the other side, once.
    let active: Vec<Value> = customers
        .iter()
        .filter(|c| c["Active"] != false)
        .cloned()
        .collect();
    assert_each_once(&active, "DisplayName", &accounts, "Account_Name", "Zoho");
    assert_each_once(&accounts, "Account_Name", &customers, "DisplayName", "QBO");
    // One change, two runs: written once.
    world.advance(Duration::minutes(5));
    let id = accounts[0]["id"].as_str().unwrap();
    world
        .edit_zoho("Accounts", json!({"id": id, "Phone": "+1-555-222-3333"}))
        .await;
    world.advance(Duration::minutes(5));
    let writes = world.qbo_write_count().await;
    let first = world.run().await;
    assert_eq!(first.stats.synced, 1, "{first:?}");
    world.advance(Duration::minutes(15));
    let second = world.run().await;
    assert_eq!(second.stats.synced, 0, "{second:?}");
    world.advance(Duration::minutes(15));
    let third = world.run().await;
    assert_eq!(third.stats.synced, 0, "{third:?}");
    assert_eq!(
        world.qbo_write_count().await,
        writes + 1,
        "one QBO write for one change"
    );
    world.finish().await;
}

/// Edits one linked customer's phone on both sides (QBO last when `qbo_later`), runs twice
/// under `policy`, and returns the phone each side ends with and the pair's log rows.
async fn conflict(
    policy: ConflictPolicy,
    qbo_later: bool,
) -> (String, String, Vec<engine::sync::LogEntry>) {
    let world = SyncWorld::with_pairs(1, &ACCOUNTS_BOTH_WAYS).await;
    world.set_policy(policy).await;
    world.run().await;
    let link = world.links().await.remove(0);
    world.advance(Duration::minutes(5));
    let edit_qbo = async {
        world
            .edit_qbo(
                "Customer",
                &link.qbo_id,
                json!({"PrimaryPhone": {"FreeFormNumber": "QBO-PHONE"}}),
            )
            .await;
    };
    let edit_zoho = async {
        world
            .edit_zoho(
                "Accounts",
                json!({"id": link.zoho_id, "Phone": "ZOHO-PHONE"}),
            )
            .await;
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
    world.run().await;
    world.advance(Duration::minutes(15));
    world.run().await;
    let customer = world.qbo_record("Customer", &link.qbo_id).await;
    let account = world.zoho_record("Accounts", &link.zoho_id).await;
    let rows = world.logs(ModulePair::AccountsCustomers).await;
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

/// Both ways for Accounts ↔ Customers, with the simulators' clock standing still between
/// `advance` calls: a person's edit then lands in the same second as our write however long the
/// run took (on the wall clock, a run on a loaded machine once crossed a second boundary).
async fn still_clock_world() -> SyncWorld {
    let world = SyncWorld::start_with(SandboxConfig {
        records_per_module: 2,
        clock: Arc::new(sandbox::ManualClock::starting_now()),
        ..SandboxConfig::default()
    })
    .await;
    world.set_directions(&ACCOUNTS_BOTH_WAYS).await;
    world
}

#[tokio::test]
async fn a_qbo_edit_in_the_same_second_as_our_write_reaches_zoho() {
    let world = still_clock_world().await;
    world.run().await;
    let account = world.zoho_records("Accounts").await[0].clone();
    let zoho_id = account["id"].as_str().expect("id").to_owned();
    // A Zoho edit is written to QBO…
    world.advance(Duration::minutes(5));
    world
        .edit_zoho(
            "Accounts",
            json!({"id": zoho_id, "Phone": "+1-555-010-0001"}),
        )
        .await;
    world.advance(Duration::minutes(5));
    assert_eq!(world.run().await.stats.synced, 1);
    // …and a person edits that customer in QBO within the same second (the clock has not
    // moved): the same LastUpdatedTime, a new SyncToken.
    let link = world.link_of_zoho(&zoho_id).await;
    let ours = world.qbo_record("Customer", &link.qbo_id).await;
    let theirs = world
        .edit_qbo(
            "Customer",
            &link.qbo_id,
            json!({"PrimaryPhone": {"FreeFormNumber": "+1-555-010-0002"}}),
        )
        .await;
    assert_eq!(
        theirs["MetaData"]["LastUpdatedTime"], ours["MetaData"]["LastUpdatedTime"],
        "the same second"
    );
    world.advance(Duration::minutes(5));
    let summary = world.run().await;
    assert_eq!(summary.stats.synced, 1, "the person's edit: {summary:?}");
    let account = world.zoho_record("Accounts", &zoho_id).await;
    assert_eq!(account["Phone"], "+1-555-010-0002", "not lost");
    let rows = world.logs(ModulePair::AccountsCustomers).await;
    assert!(
        rows.iter().any(|r| r.flow == Flow::QboToZoho
            && r.status == LogStatus::Synced
            && r.qbo_id.as_deref() == Some(link.qbo_id.as_str())),
        "the change has its log row"
    );
    // And then it settles: nothing more to write either way.
    world.advance(Duration::minutes(15));
    assert_eq!(world.run().await.stats.synced, 0);
    world.finish().await;
}

#[tokio::test]
async fn a_zoho_edit_in_the_same_second_as_our_write_reaches_qbo() {
    let world = still_clock_world().await;
    world.run().await;
    let account = world.zoho_records("Accounts").await[0].clone();
    let zoho_id = account["id"].as_str().expect("id").to_owned();
    let link = world.link_of_zoho(&zoho_id).await;
    // A QBO edit is written to Zoho…
    world.advance(Duration::minutes(5));
    world
        .edit_qbo(
            "Customer",
            &link.qbo_id,
            json!({"PrimaryPhone": {"FreeFormNumber": "+1-555-020-0001"}}),
        )
        .await;
    world.advance(Duration::minutes(5));
    assert_eq!(world.run().await.stats.synced, 1);
    // …and a person edits that account in Zoho within the same second.
    let ours = world.zoho_record("Accounts", &zoho_id).await;
    assert_eq!(ours["Phone"], "+1-555-020-0001");
    let theirs = world
        .edit_zoho(
            "Accounts",
            json!({"id": zoho_id, "Phone": "+1-555-020-0002"}),
        )
        .await;
    assert_eq!(
        theirs.modified_time.as_deref(),
        ours["Modified_Time"].as_str(),
        "the same second"
    );
    world.advance(Duration::minutes(5));
    let summary = world.run().await;
    assert_eq!(summary.stats.synced, 1, "the person's edit: {summary:?}");
    let customer = world.qbo_record("Customer", &link.qbo_id).await;
    assert_eq!(
        customer["PrimaryPhone"]["FreeFormNumber"], "+1-555-020-0002",
        "not lost"
    );
    world.advance(Duration::minutes(15));
    assert_eq!(world.run().await.stats.synced, 0, "settled");
    world.finish().await;
}
