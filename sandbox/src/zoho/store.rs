//! The org's records and their bookkeeping: ids and numbers, the recycle bin, page tokens, the
//! concurrency and credit counters, watch channels, and a per-module index of record times.

use std::collections::{BTreeMap, HashMap, VecDeque};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::meta::{self, ModuleDef};
use super::notifications::Channel;
use super::{owner_ref, parse_time, zoho_time};
use crate::ZohoEdition;

#[derive(Debug)]
pub(super) struct PageCursor {
    pub(super) module: String,
    pub(super) offset: usize,
    pub(super) expires_at: DateTime<Utc>,
}

#[derive(Debug)]
pub struct Store {
    pub modules: Vec<ModuleDef>,
    pub(super) records: HashMap<&'static str, BTreeMap<u64, Value>>,
    pub(super) deleted: HashMap<&'static str, Vec<Value>>,
    next_id: u64,
    pub(super) next_number: u64,
    pub(super) page_tokens: HashMap<String, PageCursor>,
    pub(super) in_flight: usize,
    pub(super) credits: VecDeque<DateTime<Utc>>,
    pub(super) channels: Vec<Channel>,
    /// Notifications waiting to be POSTed: (notify_url, body).
    pub(super) outbox: Vec<(String, Value)>,
    /// Per module, every record's id with its parsed created and modified times, built on the
    /// first list call and dropped by any write to the module: listing pages of a large
    /// module must not re-parse every timestamp on every page.
    time_index: HashMap<&'static str, Vec<IndexedTimes>>,
}

/// A record's place in the list order (see `Store::time_index`).
#[derive(Debug, Clone, Copy)]
pub(super) struct IndexedTimes {
    pub(super) id: u64,
    pub(super) created: Option<i64>,
    pub(super) modified: Option<i64>,
}

impl Store {
    pub fn new(edition: ZohoEdition) -> Self {
        Self {
            modules: meta::modules(edition),
            records: HashMap::new(),
            deleted: HashMap::new(),
            next_id: 5_725_767_000_001_000_000,
            next_number: 1,
            page_tokens: HashMap::new(),
            in_flight: 0,
            credits: VecDeque::new(),
            channels: Vec::new(),
            outbox: Vec::new(),
            time_index: HashMap::new(),
        }
    }

    /// The parsed times of every record of `module`, in id order (cached until the module
    /// changes).
    pub(super) fn times(&mut self, module: &'static str) -> &[IndexedTimes] {
        let records = &self.records;
        self.time_index.entry(module).or_insert_with(|| {
            let millis = |r: &Value, field: &str| {
                r[field]
                    .as_str()
                    .and_then(parse_time)
                    .map(|t| t.timestamp_millis())
            };
            records
                .get(module)
                .into_iter()
                .flatten()
                .map(|(id, r)| IndexedTimes {
                    id: *id,
                    created: millis(r, "Created_Time"),
                    modified: millis(r, "Modified_Time"),
                })
                .collect()
        })
    }

    /// Called by every write to a module's records.
    pub(super) fn changed_records(&mut self, module: &'static str) {
        self.time_index.remove(module);
    }

    pub fn module(&self, name: &str) -> Option<&ModuleDef> {
        self.modules
            .iter()
            .find(|m| m.api_name.eq_ignore_ascii_case(name))
    }

    pub(super) fn record_module(&self, name: &str) -> Option<ModuleDef> {
        self.module(name).filter(|m| !m.subform).cloned()
    }

    pub fn records(&self, module: &'static str) -> impl Iterator<Item = &Value> {
        self.records
            .get(module)
            .into_iter()
            .flat_map(BTreeMap::values)
    }

    pub(super) fn get(&self, module: &'static str, id: &str) -> Option<&Value> {
        self.records.get(module)?.get(&id.parse::<u64>().ok()?)
    }

    pub(super) fn allocate_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    pub(super) fn save(&mut self, module: &'static str, record: Map<String, Value>) -> Value {
        let id = record
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or_default();
        let value = Value::Object(record);
        self.changed_records(module);
        self.records
            .entry(module)
            .or_default()
            .insert(id, value.clone());
        value
    }

    /// Inserts a record through the same validation as the API (used by the seed).
    pub fn insert_trusted(
        &mut self,
        module_name: &str,
        input: &Value,
        now: DateTime<Utc>,
    ) -> Result<Value, Value> {
        let module = self
            .record_module(module_name)
            .ok_or_else(|| json!({"code": "INVALID_MODULE"}))?;
        let record = self.build_checked(
            &module,
            input.as_object().unwrap_or(&Map::new()),
            0,
            None,
            now,
            false,
        )?;
        Ok(self.save(module.api_name, record))
    }

    pub(super) fn delete(&mut self, module: &ModuleDef, id: &str, now: DateTime<Utc>) -> bool {
        let Some(removed) = id
            .parse::<u64>()
            .ok()
            .and_then(|key| self.records.get_mut(module.api_name)?.remove(&key))
        else {
            return false;
        };
        self.changed_records(module.api_name);
        self.deleted.entry(module.api_name).or_default().push(json!({
            "deleted_by": owner_ref(), "id": id, "display_name": removed[module.display_field].clone(),
            "type": "recycle", "created_by": owner_ref(), "deleted_time": zoho_time(now)
        }));
        true
    }
}
