//! Per-tenant sync configuration: Sync Direction, the other settings, field mappings, the
//! discovered ("mappable") fields and filters. Each is one JSON document of a domain type; a
//! tenant that never saved one gets the built-in default.

use std::sync::Arc;

use domain::fields::FieldCatalogue;
use domain::filters::PairFilters;
use domain::mapping::{Mapping, default_mapping};
use domain::pairs::{ModulePair, SyncDirections};
use domain::settings::SyncSettings;

use crate::clock::Clock;
use crate::db::Db;
use crate::with_pool;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("storage error: {0}")]
    Storage(#[from] sqlx::Error),
    #[error("a stored {what} could not be read: {source}")]
    Corrupt {
        what: &'static str,
        source: serde_json::Error,
    },
}

#[derive(Debug, Clone)]
pub struct SyncConfigStore {
    db: Db,
    clock: Arc<dyn Clock>,
}

fn decode<T: serde::de::DeserializeOwned>(
    what: &'static str,
    text: &str,
) -> Result<T, ConfigError> {
    serde_json::from_str(text).map_err(|source| ConfigError::Corrupt { what, source })
}

fn encode<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain types serialise")
}

impl SyncConfigStore {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    async fn row(&self, tenant_id: &str) -> Result<Option<(String, String)>, ConfigError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as("SELECT directions, settings FROM sync_config WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_optional(pool)
                .await?
        }))
    }

    pub async fn directions(&self, tenant_id: &str) -> Result<SyncDirections, ConfigError> {
        match self.row(tenant_id).await? {
            Some((directions, _)) => decode("sync direction", &directions),
            None => Ok(SyncDirections::default()),
        }
    }

    pub async fn settings(&self, tenant_id: &str) -> Result<SyncSettings, ConfigError> {
        match self.row(tenant_id).await? {
            Some((_, settings)) => decode("sync settings", &settings),
            None => Ok(SyncSettings::default()),
        }
    }

    pub async fn save_directions(
        &self,
        tenant_id: &str,
        directions: &SyncDirections,
    ) -> Result<(), ConfigError> {
        let settings = self.settings(tenant_id).await?;
        self.save_row(tenant_id, directions, &settings).await
    }

    pub async fn save_settings(
        &self,
        tenant_id: &str,
        settings: &SyncSettings,
    ) -> Result<(), ConfigError> {
        let directions = self.directions(tenant_id).await?;
        self.save_row(tenant_id, &directions, settings).await
    }

    async fn save_row(
        &self,
        tenant_id: &str,
        directions: &SyncDirections,
        settings: &SyncSettings,
    ) -> Result<(), ConfigError> {
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO sync_config (tenant_id, directions, settings, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id) DO UPDATE SET directions = excluded.directions, \
                 settings = excluded.settings, updated_at = excluded.updated_at",
            )
            .bind(tenant_id)
            .bind(encode(directions))
            .bind(encode(settings))
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The pair's mapping for the QBO entity it currently targets; the built-in default when
    /// none was saved. The second value says whether it is the default.
    pub async fn mapping(
        &self,
        tenant_id: &str,
        pair: ModulePair,
    ) -> Result<(Mapping, bool), ConfigError> {
        let target = self.directions(tenant_id).await?.sales_orders;
        let entity = pair.qbo_entity(target).name();
        let row: Option<(String,)> = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT mapping FROM field_mappings WHERE tenant_id = $1 AND pair = $2 AND qbo_entity = $3",
            )
            .bind(tenant_id)
            .bind(pair.key())
            .bind(entity)
            .fetch_optional(pool)
            .await?
        });
        match row {
            Some((text,)) => Ok((decode("field mapping", &text)?, false)),
            None => Ok((default_mapping(pair, target), true)),
        }
    }

    /// Saves a mapping the caller has validated (domain::mapping::validate).
    pub async fn save_mapping(
        &self,
        tenant_id: &str,
        pair: ModulePair,
        mapping: &Mapping,
    ) -> Result<(), ConfigError> {
        let target = self.directions(tenant_id).await?.sales_orders;
        let entity = pair.qbo_entity(target).name();
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO field_mappings (tenant_id, pair, qbo_entity, mapping, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, pair, qbo_entity) DO UPDATE \
                 SET mapping = excluded.mapping, updated_at = excluded.updated_at",
            )
            .bind(tenant_id)
            .bind(pair.key())
            .bind(entity)
            .bind(encode(mapping))
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Reset Default Mapping: forgets the saved mapping, so the built-in default applies.
    pub async fn reset_mapping(
        &self,
        tenant_id: &str,
        pair: ModulePair,
    ) -> Result<(), ConfigError> {
        let target = self.directions(tenant_id).await?.sales_orders;
        with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM field_mappings WHERE tenant_id = $1 AND pair = $2 AND qbo_entity = $3")
                .bind(tenant_id)
                .bind(pair.key())
                .bind(pair.qbo_entity(target).name())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The fields of both systems for `pair`: the last "Sync Mappable Fields" result, or the
    /// standard catalogue when fields were never synced (the second value is then `false`).
    pub async fn catalogue(
        &self,
        tenant_id: &str,
        pair: ModulePair,
    ) -> Result<(FieldCatalogue, bool), ConfigError> {
        let target = self.directions(tenant_id).await?.sales_orders;
        let row: Option<(String,)> = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT catalogue FROM field_catalogues WHERE tenant_id = $1 AND pair = $2 AND qbo_entity = $3",
            )
            .bind(tenant_id)
            .bind(pair.key())
            .bind(pair.qbo_entity(target).name())
            .fetch_optional(pool)
            .await?
        });
        match row {
            Some((text,)) => Ok((decode("field list", &text)?, true)),
            None => Ok((FieldCatalogue::standard(pair, target), false)),
        }
    }

    pub async fn save_catalogue(
        &self,
        tenant_id: &str,
        pair: ModulePair,
        catalogue: &FieldCatalogue,
    ) -> Result<(), ConfigError> {
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO field_catalogues (tenant_id, pair, qbo_entity, catalogue, refreshed_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, pair, qbo_entity) DO UPDATE \
                 SET catalogue = excluded.catalogue, refreshed_at = excluded.refreshed_at",
            )
            .bind(tenant_id)
            .bind(pair.key())
            .bind(catalogue.qbo_entity.name())
            .bind(encode(catalogue))
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn filters(
        &self,
        tenant_id: &str,
        pair: ModulePair,
    ) -> Result<PairFilters, ConfigError> {
        let row: Option<(String,)> = with_pool!(&self.db, pool => {
            sqlx::query_as("SELECT filters FROM sync_filters WHERE tenant_id = $1 AND pair = $2")
                .bind(tenant_id)
                .bind(pair.key())
                .fetch_optional(pool)
                .await?
        });
        match row {
            Some((text,)) => decode("filters", &text),
            None => Ok(PairFilters::default()),
        }
    }

    /// Saves filters the caller has validated (FilterSet::validate_for).
    pub async fn save_filters(
        &self,
        tenant_id: &str,
        pair: ModulePair,
        filters: &PairFilters,
    ) -> Result<(), ConfigError> {
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO sync_filters (tenant_id, pair, filters, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, pair) DO UPDATE SET filters = excluded.filters, updated_at = excluded.updated_at",
            )
            .bind(tenant_id)
            .bind(pair.key())
            .bind(encode(filters))
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
