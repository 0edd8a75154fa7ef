//! "Sync Mappable Fields" (SPEC §4): re-reads what fields exist on both sides of a module pair
//! and stores them as the pair's catalogue. Zoho answers with its field metadata; QBO has no
//! metadata API, so its standard fields come from `domain::fields` and its custom fields are
//! discovered from company preferences (the sales-form fields of estimates and invoices) and
//! from records in use.

use std::sync::Arc;

use domain::fields::{FieldCatalogue, QboField, ZohoField};
use domain::log::Notice;
use domain::pairs::{ModulePair, QboEntity, ZohoModule};
use serde_json::{Value, json};

use crate::connections::{ConnectionError, ConnectionStore, Provider};
use crate::connectors::qbo::{LegacyCustomField, QboClient, custom_fields_in_use};
use crate::connectors::zoho;
use crate::connectors::{Api, ConnectorError};
use crate::sync::config::{ConfigError, SyncConfigStore};

/// How many recent QBO records are looked at for custom fields in use: enough to find the
/// fields a company fills in, cheap enough for one click.
const RECENT_RECORDS: usize = 50;

/// A catalogue just read from both systems, with the first-run situations it revealed.
#[derive(Debug, Clone, PartialEq)]
pub struct Refreshed {
    pub catalogue: FieldCatalogue,
    /// SPEC §9 situations worth telling the user about (e.g. no inventory item in QuickBooks).
    pub notices: Vec<Notice>,
}

/// Why the fields could not be read. Every message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("Connect {} first (Settings → Connections), then click Sync Mappable Fields again.", .0.display_name())]
    NotConnected(Provider),
    #[error("{} needs to be reconnected: reconnect it in Settings → Connections, then click Sync Mappable Fields again.", .0.display_name())]
    NeedsReconnect(Provider),
    /// The org has no such module (Zoho's free edition has no Products, Quotes, …).
    #[error("{}", missing_module_message(*.0))]
    ZohoModuleMissing(ZohoModule),
    /// Zoho CRM or QuickBooks refused or failed; the message is the connector's plain one.
    #[error("{0}")]
    Remote(ConnectorError),
    #[error(transparent)]
    Connection(ConnectionError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl RefreshError {
    /// Whether the message is for the user (as opposed to a fault on our side).
    pub fn is_user_error(&self) -> bool {
        match self {
            Self::Connection(error) => error.is_user_error(),
            Self::Config(_) => false,
            Self::Remote(ConnectorError::Unexpected { .. }) => false,
            _ => true,
        }
    }
}

fn missing_module_message(module: ZohoModule) -> String {
    if module == ZohoModule::Accounts || module == ZohoModule::Contacts {
        format!(
            "Your Zoho CRM has no {} module that zqsync may use. Check the module in Zoho CRM (Setup → Modules) and the connection in Settings → Connections, then click Sync Mappable Fields again.",
            module.label()
        )
    } else {
        Notice::ZohoWithoutProducts.message().to_owned()
    }
}

impl From<ConnectionError> for RefreshError {
    fn from(error: ConnectionError) -> Self {
        match error {
            ConnectionError::NotConnected(provider) => Self::NotConnected(provider),
            ConnectionError::NeedsReconnect(provider) => Self::NeedsReconnect(provider),
            ConnectionError::Remote(remote) => Self::from(remote),
            other => Self::Connection(other),
        }
    }
}

impl From<ConnectorError> for RefreshError {
    fn from(error: ConnectorError) -> Self {
        match &error {
            ConnectorError::NeedsReconnect { remote } => Self::NeedsReconnect(match remote.api {
                Api::Qbo | Api::IntuitOAuth => Provider::Qbo,
                Api::Zoho | Api::ZohoOAuth => Provider::Zoho,
            }),
            _ => Self::Remote(error),
        }
    }
}

/// Reads the fields of `pair` from Zoho CRM and QuickBooks Online for the tenant and saves
/// them as the pair's catalogue (what the mapping and filter pages offer). Nothing is saved
/// when either system cannot be read.
pub async fn refresh_catalogue(
    connections: &Arc<ConnectionStore>,
    config: &SyncConfigStore,
    tenant_id: &str,
    pair: ModulePair,
) -> Result<Refreshed, RefreshError> {
    // Both clients first: a missing connection is reported before any remote call.
    let zoho = connections.zoho_client(tenant_id).await?;
    let qbo = connections.qbo_client(tenant_id).await?;
    let target = config.directions(tenant_id).await?.sales_orders;
    let mut catalogue = FieldCatalogue::standard(pair, target);

    let module = pair.zoho_module();
    let zoho_fields = match zoho.fields(module.api_name()).await {
        Ok(fields) => fields,
        Err(error) if error.is_unknown_module() => {
            return Err(RefreshError::ZohoModuleMissing(module));
        }
        Err(error) => return Err(error.into()),
    };
    catalogue.set_zoho_fields(
        zoho_fields
            .iter()
            .filter_map(|field| ZohoField::from_metadata(&metadata_json(field)))
            .collect(),
    );

    let entity = catalogue.qbo_entity;
    let mut custom = Vec::new();
    if matches!(entity, QboEntity::Estimate | QboEntity::Invoice) {
        // The legacy sales-form fields belong to sales transactions only.
        custom.extend(qbo.preferences().await?.custom_fields);
    }
    let recent = recent_records(&qbo, entity).await?;
    custom.extend(custom_fields_in_use(&recent));
    catalogue.add_qbo_custom_fields(
        custom
            .iter()
            .map(
                |LegacyCustomField {
                     definition_id,
                     name,
                 }| QboField::custom(definition_id, name),
            )
            .collect(),
    );

    let mut notices = Vec::new();
    if pair == ModulePair::ProductsItems && !has_inventory_item(&qbo).await? {
        notices.push(Notice::InventoryItemRequired);
    }
    config.save_catalogue(tenant_id, pair, &catalogue).await?;
    Ok(Refreshed { catalogue, notices })
}

/// The metadata entry `domain::fields::ZohoField::from_metadata` reads, rebuilt from the
/// connector's typed entry (which keeps only what zqsync uses).
fn metadata_json(field: &zoho::ZohoField) -> Value {
    json!({
        "api_name": field.api_name,
        "field_label": field.field_label,
        "display_label": field.display_label,
        "data_type": field.data_type,
        "custom_field": field.custom_field,
        "read_only": field.read_only,
        "field_read_only": field.field_read_only,
        "system_mandatory": field.system_mandatory,
        "pick_list_values": field
            .pick_list_values
            .iter()
            .map(|v| json!({"display_value": v.display_value, "actual_value": v.actual_value}))
            .collect::<Vec<_>>(),
        "lookup": field.lookup,
    })
}

async fn recent_records(qbo: &QboClient, entity: QboEntity) -> Result<Vec<Value>, RefreshError> {
    Ok(qbo.recently_changed(entity.name(), RECENT_RECORDS).await?)
}

async fn has_inventory_item(qbo: &QboClient) -> Result<bool, RefreshError> {
    Ok(qbo.has_inventory_item().await?)
}
