//! Retry, Re-create and Unlink on log rows (engine::sync::retries) against a real database:
//! SQLite by default, PostgreSQL with `ZQSYNC_TEST_DATABASE=postgres` and
//! `ZQSYNC_TEST_POSTGRES_URL` (scripts/test runs both).

use std::sync::Arc;

use chrono::{DateTime, Duration};
use domain::pairs::{Flow, ModulePair};
use engine::sync::{LogAction, RetryError, RetryQueued, RetryStore, Scheduler};
use engine::{Clock, Db, ManualClock};
use test_support::FreshDatabase;

const TENANT_A: &str = "0195f3a0-0000-7000-8000-0000000000aa";
const TENANT_B: &str = "0195f3a0-0000-7000-8000-0000000000bb";

struct World {
    db: Db,
    clock: Arc<ManualClock>,
    retries: RetryStore,
    scheduler: Scheduler,
    database: FreshDatabase,
}

/// A log row as the engine writes it: Zoho → QBO, an Error offering Retry, unless told
/// otherwise.
struct Row<'a> {
    id: &'a str,
    pair: ModulePair,
    flow: Flow,
    zoho_id: Option<&'a str>,
    qbo_id: Option<&'a str>,
    status: &'a str,
    action: Option<&'a str>,
}

impl<'a> Row<'a> {
    fn retry(id: &'a str, pair: ModulePair) -> Self {
        Row {
            id,
            pair,
            flow: Flow::ZohoToQbo,
            zoho_id: None,
            qbo_id: None,
            status: "error",
            action: Some("retry"),
        }
    }

    /// An Error row offering Re-create (the counterpart was deleted).
    fn recreate(id: &'a str, pair: ModulePair) -> Self {
        Row {
            action: Some("recreate"),
            ..Self::retry(id, pair)
        }
    }

    /// A Synced row: no action to offer.
    fn synced(id: &'a str, pair: ModulePair) -> Self {
        Row {
            status: "synced",
            action: None,
            ..Self::retry(id, pair)
        }
    }

    fn flow(self, flow: Flow) -> Self {
        Row { flow, ..self }
    }

    fn zoho(self, zoho_id: &'a str) -> Self {
        Row {
            zoho_id: Some(zoho_id),
            ..self
        }
    }

    fn qbo(self, qbo_id: &'a str) -> Self {
        Row {
            qbo_id: Some(qbo_id),
            ..self
        }
    }
}

impl World {
    async fn start() -> World {
        let database = test_support::fresh_database().await;
        let db = Db::connect(&database.url).await.expect("database");
        db.migrate().await.expect("migrations");
        for (tenant, name) in [(TENANT_A, "Tenant A"), (TENANT_B, "Tenant B")] {
            engine::with_pool!(&db, pool => {
                sqlx::query("INSERT INTO tenants (id, company_name, plan, created_at) VALUES ($1, $2, 'freemium', 0)")
                    .bind(tenant)
                    .bind(name)
                    .execute(pool)
                    .await
                    .expect("tenant");
            });
        }
        let start = DateTime::from_timestamp(1_893_456_000, 0).expect("a valid time");
        let clock = Arc::new(ManualClock::new(start));
        let scheduler = Scheduler::new(db.clone(), clock.clone());
        let retries = RetryStore::new(db.clone(), clock.clone(), scheduler.clone());
        World {
            db,
            clock,
            retries,
            scheduler,
            database,
        }
    }

    async fn stop(self) {
        self.db.close().await;
        self.database.drop_it().await;
    }

    /// Stores `row` for `tenant`.
    async fn log_row(&self, tenant: &str, row: Row<'_>) {
        let now = self.clock.now_millis();
        engine::with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO sync_log (id, tenant_id, seq, pair, flow, zoho_id, qbo_id, record_name, status, \
                 message, action, details, created_at, resolved_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'Zylker', $8, 'something happened', $9, '{}', $10, NULL)",
            )
            .bind(row.id)
            .bind(tenant)
            .bind(now * 1000)
            .bind(row.pair.key())
            .bind(row.flow.key())
            .bind(row.zoho_id)
            .bind(row.qbo_id)
            .bind(row.status)
            .bind(row.action)
            .bind(now)
            .execute(pool)
            .await
            .expect("insert a log row");
        });
    }

    async fn link(&self, tenant: &str, pair: ModulePair, zoho_id: &str, qbo_id: &str) {
        engine::with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO sync_links (tenant_id, pair, zoho_id, qbo_id, zoho_hash, qbo_hash, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'h', 'h', 0, 0)",
            )
            .bind(tenant)
            .bind(pair.key())
            .bind(zoho_id)
            .bind(qbo_id)
            .execute(pool)
            .await
            .expect("insert a link");
        });
    }

    async fn links(&self, tenant: &str) -> Vec<(String, String)> {
        engine::with_pool!(&self.db, pool => {
            sqlx::query_as("SELECT zoho_id, qbo_id FROM sync_links WHERE tenant_id = $1 ORDER BY zoho_id")
                .bind(tenant)
                .fetch_all(pool)
                .await
                .expect("links")
        })
    }

    async fn resolved_at(&self, id: &str) -> Option<i64> {
        let (at,): (Option<i64>,) = engine::with_pool!(&self.db, pool => {
            sqlx::query_as("SELECT resolved_at FROM sync_log WHERE id = $1")
                .bind(id)
                .fetch_one(pool)
                .await
                .expect("a log row")
        });
        at
    }
}

#[tokio::test]
async fn retry_queues_the_source_record_and_requests_a_run() {
    let world = World::start().await;
    let accounts = ModulePair::AccountsCustomers;
    world
        .log_row(TENANT_A, Row::retry("log-1", accounts).zoho("111"))
        .await;
    world
        .log_row(
            TENANT_A,
            Row::retry("log-2", ModulePair::ProductsItems)
                .flow(Flow::QboToZoho)
                .zoho("222")
                .qbo("9"),
        )
        .await;
    assert!(!world.scheduler.status(TENANT_A).await.unwrap().requested);

    let queued = world
        .retries
        .request_retry(&TENANT_A.into(), "log-1")
        .await
        .unwrap();
    assert_eq!(
        queued,
        RetryQueued {
            pair: accounts,
            flow: Flow::ZohoToQbo,
            source_id: "111".into(),
            kind: LogAction::Retry,
        }
    );
    assert!(
        world.scheduler.status(TENANT_A).await.unwrap().requested,
        "Retry asks for a run now"
    );
    assert!(!world.scheduler.status(TENANT_B).await.unwrap().requested);

    // QuickBooks → Zoho: the source is the QBO record.
    world.clock.advance(Duration::seconds(1));
    let queued = world
        .retries
        .request_retry(&TENANT_A.into(), "log-2")
        .await
        .unwrap();
    assert_eq!(queued.source_id, "9");
    // Asking twice keeps one entry.
    world.clock.advance(Duration::seconds(1));
    world
        .retries
        .request_retry(&TENANT_A.into(), "log-1")
        .await
        .unwrap();
    let pending = world.retries.pending(TENANT_A).await.unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|r| (r.pair, r.source_id.as_str()))
            .collect::<Vec<_>>(),
        vec![(ModulePair::ProductsItems, "9"), (accounts, "111")],
        "oldest request first, one entry per record"
    );
    assert!(world.retries.pending(TENANT_B).await.unwrap().is_empty());
    world.stop().await;
}

#[tokio::test]
async fn only_open_rows_with_an_action_can_be_retried() {
    let world = World::start().await;
    let accounts = ModulePair::AccountsCustomers;
    world
        .log_row(TENANT_A, Row::synced("synced", accounts).zoho("1").qbo("2"))
        .await;
    world.log_row(TENANT_A, Row::retry("no-id", accounts)).await;
    world
        .log_row(TENANT_A, Row::retry("open", accounts).zoho("5"))
        .await;

    let err = world
        .retries
        .request_retry(&TENANT_A.into(), "synced")
        .await
        .unwrap_err();
    assert!(matches!(err, RetryError::NothingToRetry), "{err}");
    assert!(err.is_user_error());
    let err = world
        .retries
        .request_retry(&TENANT_A.into(), "missing")
        .await
        .unwrap_err();
    assert!(matches!(err, RetryError::NotFound));
    assert!(err.to_string().contains("Reload the Logs page"));
    let err = world
        .retries
        .request_retry(&TENANT_A.into(), "no-id")
        .await
        .unwrap_err();
    assert!(matches!(err, RetryError::NoRecordId));
    // Another tenant's row does not exist for this one.
    let err = world
        .retries
        .request_retry(&TENANT_B.into(), "open")
        .await
        .unwrap_err();
    assert!(matches!(err, RetryError::NotFound));
    assert!(!world.scheduler.status(TENANT_B).await.unwrap().requested);
    assert!(
        world.retries.pending(TENANT_A).await.unwrap().is_empty(),
        "nothing queued by refusals"
    );

    // Once a run dealt with the record, the row no longer offers Retry.
    world
        .retries
        .request_retry(&TENANT_A.into(), "open")
        .await
        .unwrap();
    world.clock.advance(Duration::seconds(30));
    world
        .retries
        .done(TENANT_A, accounts, Flow::ZohoToQbo, "5")
        .await
        .unwrap();
    assert!(world.retries.pending(TENANT_A).await.unwrap().is_empty());
    assert_eq!(
        world.resolved_at("open").await,
        Some(world.clock.now_millis())
    );
    assert_eq!(
        world.resolved_at("synced").await,
        None,
        "rows without an action stay as they are"
    );
    let err = world
        .retries
        .request_retry(&TENANT_A.into(), "open")
        .await
        .unwrap_err();
    assert!(matches!(err, RetryError::AlreadyResolved));
    world.stop().await;
}

#[tokio::test]
async fn done_resolves_only_that_records_rows_and_new_rows_stay_open() {
    let world = World::start().await;
    let accounts = ModulePair::AccountsCustomers;
    world
        .log_row(TENANT_A, Row::retry("a-old", accounts).zoho("7"))
        .await;
    world
        .log_row(
            TENANT_A,
            Row::retry("a-other-flow", accounts)
                .flow(Flow::QboToZoho)
                .zoho("7")
                .qbo("70"),
        )
        .await;
    world
        .log_row(TENANT_A, Row::retry("b-record", accounts).zoho("8"))
        .await;
    world
        .retries
        .request_retry(&TENANT_A.into(), "a-old")
        .await
        .unwrap();
    world
        .retries
        .request_retry(&TENANT_A.into(), "b-record")
        .await
        .unwrap();

    world
        .retries
        .done(TENANT_A, accounts, Flow::ZohoToQbo, "7")
        .await
        .unwrap();
    // The run then stores the record's new outcome, an Error again: it offers Retry.
    world
        .log_row(TENANT_A, Row::retry("a-new", accounts).zoho("7"))
        .await;

    assert!(world.resolved_at("a-old").await.is_some());
    assert_eq!(world.resolved_at("a-other-flow").await, None);
    assert_eq!(world.resolved_at("b-record").await, None);
    assert_eq!(world.resolved_at("a-new").await, None);
    let pending = world.retries.pending(TENANT_A).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].source_id, "8");
    world
        .retries
        .request_retry(&TENANT_A.into(), "a-new")
        .await
        .unwrap();
    world.stop().await;
}

#[tokio::test]
async fn recreate_and_unlink_a_deleted_counterpart() {
    let world = World::start().await;
    let accounts = ModulePair::AccountsCustomers;
    world.link(TENANT_A, accounts, "100", "58").await;
    world.link(TENANT_A, accounts, "101", "59").await;
    world.link(TENANT_B, accounts, "100", "58").await;
    world
        .log_row(
            TENANT_A,
            Row::recreate("deleted", accounts).zoho("100").qbo("58"),
        )
        .await;
    world
        .log_row(
            TENANT_A,
            Row::retry("plain", accounts).zoho("101").qbo("59"),
        )
        .await;

    // Re-create goes through the queue with its own kind.
    let queued = world
        .retries
        .request_retry(&TENANT_A.into(), "deleted")
        .await
        .unwrap();
    assert_eq!(queued.kind, LogAction::Recreate);
    assert_eq!(
        world.retries.pending(TENANT_A).await.unwrap()[0].kind,
        LogAction::Recreate
    );

    // Unlink only where the counterpart was deleted.
    let err = world
        .retries
        .unlink(&TENANT_A.into(), "plain")
        .await
        .unwrap_err();
    assert!(matches!(err, RetryError::NotUnlinkable), "{err}");
    let err = world
        .retries
        .unlink(&TENANT_B.into(), "deleted")
        .await
        .unwrap_err();
    assert!(matches!(err, RetryError::NotFound));

    world.clock.advance(Duration::minutes(1));
    world
        .retries
        .unlink(&TENANT_A.into(), "deleted")
        .await
        .unwrap();
    assert_eq!(
        world.links(TENANT_A).await,
        vec![("101".to_owned(), "59".to_owned())]
    );
    assert_eq!(
        world.links(TENANT_B).await.len(),
        1,
        "another tenant's link stays"
    );
    assert_eq!(
        world.resolved_at("deleted").await,
        Some(world.clock.now_millis())
    );
    assert!(
        world.retries.pending(TENANT_A).await.unwrap().is_empty(),
        "the queued Re-create is dropped"
    );
    let err = world
        .retries
        .unlink(&TENANT_A.into(), "deleted")
        .await
        .unwrap_err();
    assert!(matches!(err, RetryError::AlreadyResolved));
    world.stop().await;
}

#[tokio::test]
async fn unlink_from_quickbooks_side_without_a_zoho_id() {
    let world = World::start().await;
    let items = ModulePair::ProductsItems;
    world.link(TENANT_A, items, "300", "30").await;
    world
        .log_row(
            TENANT_A,
            Row::recreate("zoho-gone", items)
                .flow(Flow::QboToZoho)
                .qbo("30"),
        )
        .await;
    world
        .retries
        .unlink(&TENANT_A.into(), "zoho-gone")
        .await
        .unwrap();
    assert!(
        world.links(TENANT_A).await.is_empty(),
        "found by the QuickBooks id"
    );
    assert!(world.resolved_at("zoho-gone").await.is_some());
    world.stop().await;
}
