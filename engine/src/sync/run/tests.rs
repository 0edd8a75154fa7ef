//! A run's stages without HTTP: the tenant's run driven through [`QboApi`] and [`ZohoApi`] by
//! small in-memory fakes, on a fresh database. The sandbox-backed tests (`tests/it/sync_*`)
//! remain the main tests; these pin what the run decides from what the APIs answer.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use domain::log::LogStatus;
use domain::pairs::{Direction, ModulePair, SyncDirections};
use serde_json::{Map, Value, json};

use crate::clock::{Clock, ManualClock};
use crate::connections::ConnectionStore;
use crate::connectors::error::{Api, Remote};
use crate::connectors::qbo::{BatchItem, BatchOperation, BatchOutcome, Changes};
use crate::connectors::zoho::{PageCursor, RecordPage, WriteResults, Written};
use crate::connectors::{
    ApiFuture, ConnectorConfig, ConnectorError, Connectors, Endpoints, QboApi, ZohoApi,
};
use crate::db::Db;
use crate::sync::config::SyncConfigStore;
use crate::sync::log::{LogAction, LogEntry, LogQuery, LogStore};
use crate::sync::run::Engine;
use crate::sync::schedule::RunOutcome;
use crate::vault::Vault;

const TENANT: &str = "0195f3a0-0000-7000-8000-0000000000f1";

/// QuickBooks Online in memory: records by id, the batches it was sent, and names that are
/// taken by an inactive record (QBO refuses a new record with such a name as a duplicate).
#[derive(Default)]
struct FakeQbo {
    records: Mutex<BTreeMap<String, Value>>,
    batches: Mutex<Vec<Vec<(BatchOperation, Value)>>>,
    taken_names: Vec<String>,
}

impl FakeQbo {
    fn answer(&self, item: &BatchItem) -> Result<Value, ConnectorError> {
        let mut records = self.records.lock().expect("records");
        match item.operation {
            BatchOperation::Create => {
                let name = item.body["DisplayName"].as_str().unwrap_or_default();
                if self.taken_names.iter().any(|taken| taken == name) {
                    return Err(ConnectorError::Duplicate {
                        existing_id: None,
                        remote: Remote::new(
                            Api::Qbo,
                            Some(400),
                            None,
                            "Duplicate Name Exists Error".to_owned(),
                            format!("Another customer is already named '{name}'."),
                        ),
                    });
                }
                let id = (records.len() + 1).to_string();
                let mut saved = item.body.clone();
                saved["Id"] = json!(id);
                saved["SyncToken"] = json!("0");
                saved["Active"] = json!(true);
                records.insert(id, saved.clone());
                Ok(saved)
            }
            BatchOperation::Update => {
                let id = item.body["Id"].as_str().unwrap_or_default();
                let saved = records.get_mut(id).expect("an update of a record we hold");
                let token: u64 = saved["SyncToken"]
                    .as_str()
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0);
                for (key, value) in item.body.as_object().into_iter().flatten() {
                    if key != "sparse" {
                        saved[key] = value.clone();
                    }
                }
                saved["SyncToken"] = json!((token + 1).to_string());
                Ok(saved.clone())
            }
            _ => unreachable!("a run sends creates and updates only"),
        }
    }

    fn sent(&self) -> Vec<Vec<(BatchOperation, Value)>> {
        self.batches.lock().expect("batches").clone()
    }
}

impl QboApi for FakeQbo {
    fn find_by_name<'a>(&'a self, entity: &'a str, name: &'a str) -> ApiFuture<'a, Vec<Value>> {
        let found = if entity == "Customer" && self.taken_names.iter().any(|n| n == name) {
            vec![json!({"Id": "900", "DisplayName": name, "Active": false, "SyncToken": "3"})]
        } else {
            Vec::new()
        };
        Box::pin(async move { Ok(found) })
    }

    fn read<'a>(&'a self, _entity: &'a str, id: &'a str) -> ApiFuture<'a, Value> {
        let record = self.records.lock().expect("records").get(id).cloned();
        Box::pin(async move {
            record.ok_or_else(|| ConnectorError::NotFound {
                remote: Remote::local(
                    Api::Qbo,
                    Some(400),
                    "Object Not Found".into(),
                    "The record no longer exists.".into(),
                ),
            })
        })
    }

    fn sparse_update<'a>(
        &'a self,
        entity: &'a str,
        id: &'a str,
        sync_token: &'a str,
        changes: &'a Map<String, Value>,
        _request_id: Option<&'a str>,
    ) -> ApiFuture<'a, Value> {
        let mut body = Value::Object(changes.clone());
        body["Id"] = json!(id);
        body["SyncToken"] = json!(sync_token);
        let item = BatchItem {
            bid: "u0".to_owned(),
            operation: BatchOperation::Update,
            entity: entity.to_owned(),
            body,
        };
        let answer = self.answer(&item);
        Box::pin(async move { answer })
    }

    fn batch<'a>(
        &'a self,
        items: &'a [BatchItem],
        _request_id: Option<&'a str>,
    ) -> ApiFuture<'a, Vec<BatchOutcome>> {
        self.batches.lock().expect("batches").push(
            items
                .iter()
                .map(|i| (i.operation, i.body.clone()))
                .collect(),
        );
        let outcomes = items
            .iter()
            .map(|item| BatchOutcome {
                bid: item.bid.clone(),
                result: self.answer(item),
            })
            .collect();
        Box::pin(async move { Ok(outcomes) })
    }

    fn changes_since<'a>(
        &'a self,
        _entities: &'a [&'a str],
        _since: DateTime<Utc>,
        _now: DateTime<Utc>,
    ) -> ApiFuture<'a, Changes> {
        // Nothing changes on the QuickBooks side in these tests.
        Box::pin(async { Ok(Changes::default()) })
    }

    fn updated_since_by_query<'a>(
        &'a self,
        _entity: &'a str,
        _since: DateTime<Utc>,
    ) -> ApiFuture<'a, Vec<Value>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// Zoho CRM in memory: one module's records, listed by modified time in one page.
#[derive(Default)]
struct FakeZoho {
    records: Mutex<Vec<Value>>,
}

impl FakeZoho {
    fn modified_since(&self, since: Option<DateTime<Utc>>) -> Vec<Value> {
        let mut records: Vec<Value> = self
            .records
            .lock()
            .expect("records")
            .iter()
            .filter(|r| {
                let at = r["Modified_Time"]
                    .as_str()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
                since.is_none_or(|since| at.is_some_and(|at| at >= since))
            })
            .cloned()
            .collect();
        records.sort_by_key(|r| r["Modified_Time"].as_str().unwrap_or_default().to_owned());
        records
    }

    /// A person's edit: new values and a new modified time.
    fn edit(&self, id: &str, changes: &Value, at: DateTime<Utc>) {
        let mut records = self.records.lock().expect("records");
        let record = records
            .iter_mut()
            .find(|r| r["id"] == id)
            .expect("a record we hold");
        for (key, value) in changes.as_object().into_iter().flatten() {
            record[key] = value.clone();
        }
        record["Modified_Time"] = json!(zoho_time(at));
    }

    fn write(&self, records: &[Value]) -> WriteResults {
        let mut held = self.records.lock().expect("records");
        records
            .iter()
            .map(|record| {
                let id = record["id"]
                    .as_str()
                    .map_or_else(|| format!("z{}", held.len() + 1), str::to_owned);
                let mut saved = record.clone();
                saved["id"] = json!(id);
                held.retain(|r| r["id"] != id);
                held.push(saved);
                Ok(Written {
                    id,
                    action: None,
                    modified_time: None,
                })
            })
            .collect()
    }
}

impl ZohoApi for FakeZoho {
    fn get<'a>(&'a self, _module: &'a str, id: &'a str) -> ApiFuture<'a, Value> {
        let record = self
            .records
            .lock()
            .expect("records")
            .iter()
            .find(|r| r["id"] == id)
            .cloned();
        Box::pin(async move {
            record.ok_or_else(|| ConnectorError::NotFound {
                remote: Remote::local(
                    Api::Zoho,
                    Some(204),
                    String::new(),
                    "The record no longer exists.".into(),
                ),
            })
        })
    }

    fn list_page_of<'a>(
        &'a self,
        _module: &'a str,
        _fields: &'a [&'a str],
        since: Option<DateTime<Utc>>,
        _cursor: &'a PageCursor,
        _per_page: usize,
    ) -> ApiFuture<'a, RecordPage> {
        let records = self.modified_since(since);
        Box::pin(async move {
            Ok(RecordPage {
                records,
                next: None,
            })
        })
    }

    fn count_modified_since<'a>(
        &'a self,
        _module: &'a str,
        since: DateTime<Utc>,
    ) -> ApiFuture<'a, u64> {
        let count = self.modified_since(Some(since)).len() as u64;
        Box::pin(async move { Ok(count) })
    }

    fn find_by_values<'a>(
        &'a self,
        _module: &'a str,
        field: &'a str,
        values: &'a [&'a str],
    ) -> ApiFuture<'a, Vec<Value>> {
        let found = self
            .records
            .lock()
            .expect("records")
            .iter()
            .filter(|r| r[field].as_str().is_some_and(|v| values.contains(&v)))
            .cloned()
            .collect();
        Box::pin(async move { Ok(found) })
    }

    fn insert<'a>(&'a self, _module: &'a str, records: &'a [Value]) -> ApiFuture<'a, WriteResults> {
        let results = self.write(records);
        Box::pin(async move { Ok(results) })
    }

    fn update<'a>(&'a self, _module: &'a str, records: &'a [Value]) -> ApiFuture<'a, WriteResults> {
        let results = self.write(records);
        Box::pin(async move { Ok(results) })
    }

    fn upsert<'a>(
        &'a self,
        _module: &'a str,
        records: &'a [Value],
        _duplicate_check_fields: &'a [&'a str],
    ) -> ApiFuture<'a, WriteResults> {
        let results = self.write(records);
        Box::pin(async move { Ok(results) })
    }
}

/// Zoho's modified-time format.
fn zoho_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A fresh database with one Freemium tenant syncing Accounts → Customers, and an engine over
/// it whose connection store is never asked (the fakes are handed to the run).
struct Bench {
    engine: Engine,
    clock: Arc<ManualClock>,
    logs: LogStore,
    db: Db,
    database: test_support::FreshDatabase,
}

impl Bench {
    async fn start() -> Bench {
        let database = test_support::fresh_database().await;
        let db = Db::connect(&database.url).await.expect("database");
        db.migrate().await.expect("migrations");
        crate::with_pool!(&db, pool => {
            sqlx::query("INSERT INTO tenants (id, company_name, plan, created_at) VALUES ($1, 'Fake Co', 'freemium', 0)")
                .bind(TENANT)
                .execute(pool)
                .await
                .expect("tenant");
        });
        let start = DateTime::from_timestamp(1_800_000_000, 0).expect("a valid instant");
        let clock = Arc::new(ManualClock::new(start));
        let mut directions = SyncDirections::default();
        for pair in ModulePair::ALL {
            directions.set(pair, Direction::Disabled);
        }
        directions.set(ModulePair::AccountsCustomers, Direction::ZohoToQbo);
        SyncConfigStore::new(db.clone(), clock.clone())
            .save_directions(TENANT, &directions)
            .await
            .expect("directions");
        let unused = "http://127.0.0.1:9";
        let connectors = Connectors::new(ConnectorConfig::new(Endpoints::sandbox(
            unused, unused, unused, unused,
        )))
        .expect("connectors");
        let connections = Arc::new(ConnectionStore::new(
            db.clone(),
            Arc::new(Vault::new(1, &[7; 32]).expect("vault")),
            clock.clone(),
            connectors,
            None,
            None,
        ));
        Bench {
            engine: Engine::new(db.clone(), clock.clone(), connections),
            logs: LogStore::new(db.clone()),
            clock,
            db,
            database,
        }
    }

    /// A Zoho account as listed, modified `ago` before now.
    fn account(&self, id: &str, name: &str, ago: Duration) -> Value {
        json!({"id": id, "Account_Name": name, "Modified_Time": zoho_time(self.clock.now() - ago)})
    }

    async fn logs(&self) -> Vec<LogEntry> {
        self.logs
            .list(
                TENANT,
                &LogQuery {
                    pair: Some(ModulePair::AccountsCustomers),
                    per_page: 50,
                    ..LogQuery::default()
                },
            )
            .await
            .expect("logs")
            .rows
    }

    async fn finish(self) {
        self.db.close().await;
        self.database.drop_it().await;
    }
}

#[tokio::test]
async fn a_page_of_new_zoho_accounts_is_created_and_a_changed_one_is_a_sparse_update() {
    let bench = Bench::start().await;
    let qbo = Arc::new(FakeQbo::default());
    let zoho = Arc::new(FakeZoho::default());
    *zoho.records.lock().expect("records") = vec![
        bench.account("z1", "Acme", Duration::hours(3)),
        bench.account("z2", "Globex", Duration::hours(2)),
        bench.account("z3", "Initech", Duration::hours(1)),
    ];

    let first = bench
        .engine
        .run_tenant_with(TENANT, qbo.clone(), zoho.clone())
        .await;
    assert_eq!(first.outcome, RunOutcome::Ok, "{:?}", first.message);
    assert_eq!(first.stats.synced, 3, "{first:?}");
    let sent = qbo.sent();
    assert_eq!(sent.len(), 1, "one batch for one page");
    assert!(sent[0].iter().all(|(op, _)| *op == BatchOperation::Create));
    let names: Vec<&str> = sent[0]
        .iter()
        .filter_map(|(_, body)| body["DisplayName"].as_str())
        .collect();
    assert_eq!(names, ["Acme", "Globex", "Initech"], "oldest first");
    let links = bench.engine.store().all_links(TENANT).await.expect("links");
    assert_eq!(links.len(), 3);
    let globex = links.iter().find(|l| l.zoho_id == "z2").expect("linked");

    // Globex gets a phone number: one update, of that field only, at the stored SyncToken.
    bench.clock.advance(Duration::minutes(15));
    zoho.edit(
        "z2",
        &json!({"Phone": "+1-555-000-0002"}),
        bench.clock.now(),
    );
    bench.clock.advance(Duration::minutes(1));
    let second = bench
        .engine
        .run_tenant_with(TENANT, qbo.clone(), zoho.clone())
        .await;
    assert_eq!(second.outcome, RunOutcome::Ok, "{:?}", second.message);
    assert_eq!(second.stats.synced, 1, "{second:?}");
    let sent = qbo.sent();
    assert_eq!(sent.len(), 2);
    let [(operation, body)] = sent[1].as_slice() else {
        panic!("one item in the update batch: {:?}", sent[1]);
    };
    assert_eq!(*operation, BatchOperation::Update);
    assert_eq!(body["Id"], json!(globex.qbo_id));
    assert_eq!(body["SyncToken"], "0");
    assert_eq!(body["sparse"], true);
    assert_eq!(body["PrimaryPhone"]["FreeFormNumber"], "+1-555-000-0002");
    let mut fields: Vec<&str> = body
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["Id", "PrimaryPhone", "SyncToken", "sparse"],
        "only what changed since the last write"
    );
    bench.finish().await;
}

#[tokio::test]
async fn a_duplicate_name_is_an_error_row_offering_retry_and_the_others_are_written() {
    let bench = Bench::start().await;
    let qbo = Arc::new(FakeQbo {
        taken_names: vec!["Taken Name".to_owned()],
        ..FakeQbo::default()
    });
    let zoho = Arc::new(FakeZoho::default());
    *zoho.records.lock().expect("records") = vec![
        bench.account("z1", "Acme", Duration::hours(2)),
        bench.account("z2", "Taken Name", Duration::hours(1)),
    ];

    let report = bench
        .engine
        .run_tenant_with(TENANT, qbo.clone(), zoho.clone())
        .await;
    assert_eq!(report.outcome, RunOutcome::Ok, "{:?}", report.message);
    assert_eq!(
        (report.stats.synced, report.stats.errors),
        (1, 1),
        "{report:?}"
    );
    let links = bench.engine.store().all_links(TENANT).await.expect("links");
    assert_eq!(
        links.iter().map(|l| l.zoho_id.as_str()).collect::<Vec<_>>(),
        ["z1"],
        "no link for the refused record"
    );
    let rows = bench.logs().await;
    let refused = rows
        .iter()
        .find(|r| r.zoho_id.as_deref() == Some("z2"))
        .expect("a row for the refused record");
    assert_eq!(refused.status, LogStatus::Error);
    assert_eq!(refused.action, Some(LogAction::Retry));
    assert_eq!(
        refused.message.as_deref(),
        Some("Another customer is already named 'Taken Name'.")
    );
    assert_eq!(
        refused.details.written["DisplayName"], "Taken Name",
        "the row shows what the write tried"
    );
    let synced = rows
        .iter()
        .find(|r| r.zoho_id.as_deref() == Some("z1"))
        .expect("a row for Acme");
    assert_eq!(synced.status, LogStatus::Synced);
    bench.finish().await;
}
