//! The two remote systems as a sync run sees them: exactly the calls a run makes, and nothing
//! of how they travel. [`QboClient`] and [`ZohoClient`] are the one real implementation each
//! (HTTP; the sandbox-backed tests drive those), and a unit test can hand a run an in-memory
//! fake instead.
//!
//! The methods return boxed futures so that a run can hold the clients as `Arc<dyn …>`: the
//! run's direction hooks take the run by reference and its batches are sent from tasks of
//! their own, so a generic client parameter would have to be threaded through every hook,
//! while one allocation per remote call is nothing beside the call itself.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::qbo::{BatchItem, BatchOutcome, Changes};
use super::zoho::{PageCursor, RecordPage, WriteResults};
use super::{BoxFuture, ConnectorError, QboClient, ZohoClient};

/// What a remote call comes to.
pub type ApiFuture<'a, T> = BoxFuture<'a, Result<T, ConnectorError>>;

/// QuickBooks Online, as a sync run uses it.
pub trait QboApi: Send + Sync + 'static {
    /// The records of `entity` named `name`, inactive ones included (see
    /// [`QboClient::find_by_name`]).
    fn find_by_name<'a>(&'a self, entity: &'a str, name: &'a str) -> ApiFuture<'a, Vec<Value>>;

    /// One record by id; [`ConnectorError::NotFound`] when it does not exist.
    fn read<'a>(&'a self, entity: &'a str, id: &'a str) -> ApiFuture<'a, Value>;

    /// A sparse update of `changes` at `sync_token`; QBO's answer (the record as saved).
    fn sparse_update<'a>(
        &'a self,
        entity: &'a str,
        id: &'a str,
        sync_token: &'a str,
        changes: &'a Map<String, Value>,
        request_id: Option<&'a str>,
    ) -> ApiFuture<'a, Value>;

    /// One batch call (≤30 items); one outcome per item, matched by `bid`. `request_id` makes a
    /// create batch idempotent.
    fn batch<'a>(
        &'a self,
        items: &'a [BatchItem],
        request_id: Option<&'a str>,
    ) -> ApiFuture<'a, Vec<BatchOutcome>>;

    /// The records of `entities` changed in `since..now`, each once (the newest version).
    fn changes_since<'a>(
        &'a self,
        entities: &'a [&'a str],
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> ApiFuture<'a, Changes>;

    /// The records of `entity` updated since `since`, by query (backfills: older than CDC's
    /// look-back).
    fn updated_since_by_query<'a>(
        &'a self,
        entity: &'a str,
        since: DateTime<Utc>,
    ) -> ApiFuture<'a, Vec<Value>>;
}

/// Zoho CRM, as a sync run uses it.
pub trait ZohoApi: Send + Sync + 'static {
    /// One record by id; [`ConnectorError::NotFound`] when it does not exist.
    fn get<'a>(&'a self, module: &'a str, id: &'a str) -> ApiFuture<'a, Value>;

    /// One page of `module`'s records modified since `since` (oldest first), with `fields`.
    fn list_page_of<'a>(
        &'a self,
        module: &'a str,
        fields: &'a [&'a str],
        since: Option<DateTime<Utc>>,
        cursor: &'a PageCursor,
        per_page: usize,
    ) -> ApiFuture<'a, RecordPage>;

    /// How many records of `module` were modified since `since`.
    fn count_modified_since<'a>(
        &'a self,
        module: &'a str,
        since: DateTime<Utc>,
    ) -> ApiFuture<'a, u64>;

    /// The records of `module` whose `field` is one of `values`.
    fn find_by_values<'a>(
        &'a self,
        module: &'a str,
        field: &'a str,
        values: &'a [&'a str],
    ) -> ApiFuture<'a, Vec<Value>>;

    /// Creates records; one result per record, in order.
    fn insert<'a>(&'a self, module: &'a str, records: &'a [Value]) -> ApiFuture<'a, WriteResults>;

    /// Updates records (each carries its `id`); one result per record, in order.
    fn update<'a>(&'a self, module: &'a str, records: &'a [Value]) -> ApiFuture<'a, WriteResults>;

    /// Creates or updates records by the unique `duplicate_check_fields`.
    fn upsert<'a>(
        &'a self,
        module: &'a str,
        records: &'a [Value],
        duplicate_check_fields: &'a [&'a str],
    ) -> ApiFuture<'a, WriteResults>;
}

impl QboApi for QboClient {
    fn find_by_name<'a>(&'a self, entity: &'a str, name: &'a str) -> ApiFuture<'a, Vec<Value>> {
        Box::pin(QboClient::find_by_name(self, entity, name))
    }

    fn read<'a>(&'a self, entity: &'a str, id: &'a str) -> ApiFuture<'a, Value> {
        Box::pin(QboClient::read(self, entity, id))
    }

    fn sparse_update<'a>(
        &'a self,
        entity: &'a str,
        id: &'a str,
        sync_token: &'a str,
        changes: &'a Map<String, Value>,
        request_id: Option<&'a str>,
    ) -> ApiFuture<'a, Value> {
        Box::pin(QboClient::sparse_update(
            self, entity, id, sync_token, changes, request_id,
        ))
    }

    fn batch<'a>(
        &'a self,
        items: &'a [BatchItem],
        request_id: Option<&'a str>,
    ) -> ApiFuture<'a, Vec<BatchOutcome>> {
        Box::pin(QboClient::batch(self, items, request_id))
    }

    fn changes_since<'a>(
        &'a self,
        entities: &'a [&'a str],
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> ApiFuture<'a, Changes> {
        Box::pin(QboClient::changes_since(self, entities, since, now))
    }

    fn updated_since_by_query<'a>(
        &'a self,
        entity: &'a str,
        since: DateTime<Utc>,
    ) -> ApiFuture<'a, Vec<Value>> {
        Box::pin(QboClient::updated_since_by_query(self, entity, since))
    }
}

impl ZohoApi for ZohoClient {
    fn get<'a>(&'a self, module: &'a str, id: &'a str) -> ApiFuture<'a, Value> {
        Box::pin(ZohoClient::get(self, module, id))
    }

    fn list_page_of<'a>(
        &'a self,
        module: &'a str,
        fields: &'a [&'a str],
        since: Option<DateTime<Utc>>,
        cursor: &'a PageCursor,
        per_page: usize,
    ) -> ApiFuture<'a, RecordPage> {
        Box::pin(ZohoClient::list_page_of(
            self, module, fields, since, cursor, per_page,
        ))
    }

    fn count_modified_since<'a>(
        &'a self,
        module: &'a str,
        since: DateTime<Utc>,
    ) -> ApiFuture<'a, u64> {
        Box::pin(ZohoClient::count_modified_since(self, module, since))
    }

    fn find_by_values<'a>(
        &'a self,
        module: &'a str,
        field: &'a str,
        values: &'a [&'a str],
    ) -> ApiFuture<'a, Vec<Value>> {
        Box::pin(ZohoClient::find_by_values(self, module, field, values))
    }

    fn insert<'a>(&'a self, module: &'a str, records: &'a [Value]) -> ApiFuture<'a, WriteResults> {
        Box::pin(ZohoClient::insert(self, module, records))
    }

    fn update<'a>(&'a self, module: &'a str, records: &'a [Value]) -> ApiFuture<'a, WriteResults> {
        Box::pin(ZohoClient::update(self, module, records))
    }

    fn upsert<'a>(
        &'a self,
        module: &'a str,
        records: &'a [Value],
        duplicate_check_fields: &'a [&'a str],
    ) -> ApiFuture<'a, WriteResults> {
        Box::pin(ZohoClient::upsert(
            self,
            module,
            records,
            duplicate_check_fields,
        ))
    }
}
