//! The sync tests' world: one tenant connected to both simulated systems through the real OAuth
//! flow (auto consent), on a plan that allows every pair, the engine ready to run it; and the
//! steps and read-backs the scenarios share.

use std::ops::Deref;

use domain::mapping::Mapping;
use domain::pairs::{Direction, ModulePair, SyncDirections};
use domain::settings::{AccountRef, ConflictPolicy, SyncSettings};
use engine::connections::Provider;
use engine::connectors::zoho::Written;
use engine::connectors::{QboClient, ZohoClient};
use engine::sync::run::{Engine, FaultHook};
use engine::sync::store::Link;
use engine::sync::{LogEntry, LogQuery, RunOutcome, RunReport, SyncStores};
use sandbox::SandboxConfig;
use serde_json::{Value, json};

use super::{World, unpaced};

pub const TENANT: &str = "0195f3a0-0000-7000-8000-0000000000c1";

/// A sandbox, a database and one connected tenant, with the engine ready to run it.
pub struct SyncWorld {
    world: World,
    pub stores: SyncStores,
    pub engine: Engine,
}

impl Deref for SyncWorld {
    type Target = World;

    fn deref(&self) -> &World {
        &self.world
    }
}

impl SyncWorld {
    /// `records` demo records per module in the sandbox; the tenant is on Professional Annual.
    pub async fn start(records: usize) -> SyncWorld {
        Self::start_with(SandboxConfig {
            records_per_module: records,
            ..SandboxConfig::default()
        })
        .await
    }

    pub async fn start_with(mut config: SandboxConfig) -> SyncWorld {
        config.auto_consent = true;
        let world = World::start_with(config, unpaced()).await;
        world
            .add_tenant(TENANT, "Sync Test", "professional_annual")
            .await;
        engine::with_pool!(&world.db, pool => {
            sqlx::query("INSERT INTO billing_accounts (tenant_id, status, updated_at) VALUES ($1, 'active', 0)")
                .bind(TENANT)
                .execute(pool)
                .await
                .expect("billing");
            sqlx::query("INSERT INTO integration_settings (tenant_id, active, updated_at) VALUES ($1, TRUE, 0)")
                .bind(TENANT)
                .execute(pool)
                .await
                .expect("active");
        });
        let world = SyncWorld {
            stores: SyncStores::new(world.db.clone(), world.clock.clone()),
            engine: Engine::new(
                world.db.clone(),
                world.clock.clone(),
                world.connections.clone(),
            ),
            world,
        };
        world.connect().await;
        world
    }

    /// `records` demo records per module, and only the given pairs on, each in its direction.
    pub async fn with_pairs(records: usize, pairs: &[(ModulePair, Direction)]) -> SyncWorld {
        let world = Self::start(records).await;
        world.set_directions(pairs).await;
        world
    }

    async fn callback(&self, provider: Provider) -> Vec<(String, String)> {
        let url = self
            .connections
            .authorization_url(TENANT, provider)
            .await
            .expect("authorize URL");
        sandbox::auto_consent(&url).await.expect("auto consent")
    }

    async fn connect(&self) {
        let callback = self.callback(Provider::Qbo).await;
        self.complete_qbo(TENANT, &callback).await;
        let callback = self.callback(Provider::Zoho).await;
        self.complete_zoho(TENANT, &callback).await;
    }

    /// Only the given pairs on, each in its direction.
    pub async fn set_directions(&self, pairs: &[(ModulePair, Direction)]) {
        let mut directions = SyncDirections::default();
        for pair in ModulePair::ALL {
            directions.set(pair, Direction::Disabled);
        }
        for (pair, direction) in pairs {
            directions.set(*pair, *direction);
        }
        self.stores
            .config
            .save_directions(TENANT, &directions)
            .await
            .expect("directions");
    }

    pub async fn qbo(&self) -> QboClient {
        self.connections
            .qbo_client(TENANT)
            .await
            .expect("qbo client")
    }

    pub async fn zoho(&self) -> ZohoClient {
        self.connections
            .zoho_client(TENANT)
            .await
            .expect("zoho client")
    }

    /// One QBO record, read through our client.
    pub async fn qbo_record(&self, entity: &str, id: &str) -> Value {
        self.qbo()
            .await
            .read(entity, id)
            .await
            .unwrap_or_else(|e| panic!("QBO {entity} {id}: {e}"))
    }

    /// One Zoho record, read through our client.
    pub async fn zoho_record(&self, module: &str, id: &str) -> Value {
        self.zoho()
            .await
            .get(module, id)
            .await
            .unwrap_or_else(|e| panic!("Zoho {module} {id}: {e}"))
    }

    /// A person creates one Zoho record.
    pub async fn insert_zoho(&self, module: &str, record: Value) -> Written {
        self.zoho()
            .await
            .insert(module, &[record])
            .await
            .expect("insert")[0]
            .clone()
            .expect("created")
    }

    /// A person edits one Zoho record (`changes` holds its `id`).
    pub async fn edit_zoho(&self, module: &str, changes: Value) -> Written {
        self.zoho()
            .await
            .update(module, &[changes])
            .await
            .expect("edit")[0]
            .clone()
            .expect("edited")
    }

    /// A person edits one QBO record: a sparse update with its current SyncToken; QBO's answer.
    pub async fn edit_qbo(&self, entity: &str, id: &str, changes: Value) -> Value {
        let qbo = self.qbo().await;
        let current = qbo.read(entity, id).await.expect("read");
        let changes = changes.as_object().cloned().expect("changes are an object");
        qbo.sparse_update(
            entity,
            id,
            current["SyncToken"].as_str().expect("token"),
            &changes,
            None,
        )
        .await
        .expect("qbo edit")
    }

    pub async fn links(&self) -> Vec<Link> {
        self.engine.store().all_links(TENANT).await.expect("links")
    }

    /// The link of a record, found by its Zoho id.
    pub async fn link_of_zoho(&self, zoho_id: &str) -> Link {
        self.links()
            .await
            .into_iter()
            .find(|l| l.zoho_id == zoho_id)
            .unwrap_or_else(|| panic!("a link for Zoho record {zoho_id}"))
    }

    /// Runs the tenant once and asserts the run went well.
    pub async fn run(&self) -> RunReport {
        let summary = self.engine.run_tenant(&TENANT.into()).await;
        assert_eq!(
            summary.outcome,
            RunOutcome::Ok,
            "run: {:?}",
            summary.message
        );
        summary
    }

    /// Runs the tenant once with `hook` at the engine's fault points; the run's report, however
    /// it went.
    pub async fn run_with_hook(&self, hook: FaultHook) -> RunReport {
        self.engine
            .clone()
            .with_fault_hook(hook)
            .run_tenant(&TENANT.into())
            .await
    }

    /// The log rows of `pair`, newest first.
    pub async fn logs(&self, pair: ModulePair) -> Vec<LogEntry> {
        self.stores
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
    pub async fn qbo_write_count(&self) -> usize {
        self.write_paths("qbo_api")
            .await
            .iter()
            .filter(|p| p.contains("/v3/company/"))
            .count()
    }

    /// Every QBO record of an entity (inactive included), through the sandbox's read-back.
    pub async fn qbo_records(&self, entity: &str) -> Vec<Value> {
        self.read_back(&format!("qbo/{}/{entity}", self.realm))
            .await
    }

    pub async fn zoho_records(&self, module: &str) -> Vec<Value> {
        self.read_back(&format!("zoho/{module}")).await
    }

    async fn read_back(&self, path: &str) -> Vec<Value> {
        let base = if path.starts_with("zoho/") {
            self.sandbox.urls().zoho_api
        } else {
            self.sandbox.urls().qbo_api
        };
        let answer: Value = self
            .http
            .get(format!("{base}/_sandbox/{path}"))
            .send()
            .await
            .expect("read-back")
            .json()
            .await
            .expect("json");
        rows(answer)
    }

    /// Inventory Settings from the sandbox company's accounts.
    pub async fn inventory_settings(&self) {
        let qbo = self.qbo().await;
        let accounts = qbo.accounts().await.expect("accounts");
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
        self.change_settings(|settings| {
            settings.inventory.income_account = find("Sales of Product Income");
            settings.inventory.expense_account = find("Cost of Goods Sold");
            settings.inventory.asset_account = find("Inventory Asset");
        })
        .await;
    }

    /// Invoices Zoho → QBO with the pairs of their customers and products, and Inventory
    /// Settings (new products need them), so an invoice's dependencies can be synced first.
    pub async fn invoices_with_their_dependencies(&self) {
        self.set_directions(&[
            (ModulePair::AccountsCustomers, Direction::ZohoToQbo),
            (ModulePair::ProductsItems, Direction::ZohoToQbo),
            (ModulePair::InvoicesInvoices, Direction::ZohoToQbo),
        ])
        .await;
        self.inventory_settings().await;
    }

    pub async fn set_policy(&self, policy: ConflictPolicy) {
        self.change_settings(|settings| settings.conflict_policy = policy)
            .await;
    }

    /// Reads the tenant's settings, applies `change`, saves them.
    pub async fn change_settings(&self, change: impl FnOnce(&mut SyncSettings)) {
        let mut settings = self.stores.config.settings(TENANT).await.expect("settings");
        change(&mut settings);
        self.stores
            .config
            .save_settings(TENANT, &settings)
            .await
            .expect("save settings");
    }

    /// Reads the mapping of `pair`, applies `change`, saves it.
    pub async fn change_mapping(&self, pair: ModulePair, change: impl FnOnce(&mut Mapping)) {
        let (mut mapping, _) = self
            .stores
            .config
            .mapping(TENANT, pair)
            .await
            .expect("mapping");
        change(&mut mapping);
        self.stores
            .config
            .save_mapping(TENANT, pair, &mapping)
            .await
            .expect("save mapping");
    }

    /// A QBO inventory item of the sandbox company, for tests that need one with a given name
    /// and SKU.
    pub async fn create_item(&self, name: &str, sku: &str, qty: u32) -> Value {
        let qbo = self.qbo().await;
        let accounts = qbo.accounts().await.expect("accounts");
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

    pub async fn finish(self) {
        self.world.finish().await;
    }
}

/// The records whose `key` is `name`.
pub fn by_name<'a>(records: &'a [Value], key: &str, name: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r[key] == name).collect()
}

/// Each record's `key` (a name) stands exactly once under `other_key` among `others` (the
/// other system's records, `there` names it).
pub fn assert_each_once(
    records: &[Value],
    key: &str,
    others: &[Value],
    other_key: &str,
    there: &str,
) {
    for record in records {
        let name = record[key].as_str().expect("name");
        assert_eq!(
            by_name(others, other_key, name).len(),
            1,
            "{name} exactly once in {there}"
        );
    }
}

/// Zoho records in the order a walk reads them: by modified time, then id.
pub fn in_walk_order(mut records: Vec<Value>) -> Vec<Value> {
    records.sort_by_key(|a| {
        (
            a["Modified_Time"].as_str().unwrap_or_default().to_owned(),
            a["id"]
                .as_str()
                .unwrap_or_default()
                .parse::<u64>()
                .unwrap_or(0),
        )
    });
    records
}

fn rows(answer: Value) -> Vec<Value> {
    match answer {
        Value::Array(rows) => rows,
        Value::Object(map) => map
            .into_iter()
            .find_map(|(_, v)| v.as_array().cloned())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}
