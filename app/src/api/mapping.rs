//! Server functions of the QuickBooks Mapping page (SPEC §4): the page's data for one module
//! pair, Submit (validate, then save only when valid), Reset Default Mapping and Sync Mappable
//! Fields. Every function works on the session's tenant, and only on pairs that are switched
//! on in Sync Direction and included in the plan.

use domain::fields::FieldCatalogue;
use domain::mapping::{Mapping, MappingIssue};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One entry of the module selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairOption {
    /// `domain::pairs::ModulePair::key`.
    pub key: String,
    pub label: String,
    /// The pair's direction, e.g. "Zoho → QuickBooks", or "off" for a pair to review.
    pub direction: String,
    /// Switched on in Sync Direction. An off pair the plan includes can be reviewed and
    /// turned on from its mapping page.
    pub on: bool,
}

/// An off pair's mapping page offers to turn it on, in this direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnOnOffer {
    pub pair_label: String,
    /// e.g. "Zoho → QuickBooks".
    pub direction: String,
}

/// A first-run or FAQ situation (SPEC §9) shown above the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageNotice {
    /// `info` (a hint) or `warn` (something blocks syncing).
    pub level: String,
    pub message: String,
}

impl PageNotice {
    pub fn info(message: impl Into<String>) -> Self {
        Self {
            level: "info".to_owned(),
            message: message.into(),
        }
    }

    pub fn warn(message: impl Into<String>) -> Self {
        Self {
            level: "warn".to_owned(),
            message: message.into(),
        }
    }
}

/// Everything the mapping page shows for one pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingPageData {
    /// The enabled pairs the plan includes, in sync order. Empty: nothing to map yet.
    pub pairs: Vec<PairOption>,
    /// The chosen pair's key (the first enabled pair unless one was asked for).
    pub pair: Option<String>,
    /// The pair's fields: QBO (standard and custom) and Zoho.
    pub catalogue: Option<FieldCatalogue>,
    /// The saved mapping, or the built-in default.
    pub mapping: Mapping,
    pub is_default: bool,
    /// Whether Sync Mappable Fields ever ran for this pair.
    pub fields_synced: bool,
    pub notices: Vec<PageNotice>,
    /// The pair is off: review its mapping, then turn it on.
    pub off: Option<TurnOnOffer>,
    /// Both systems are connected; until then the page asks to connect them instead of showing
    /// a table of fields neither system has confirmed.
    pub both_connected: bool,
}

/// What Submit did: saved (with warnings) or refused (with errors per QBO field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveMappingResult {
    pub saved: bool,
    pub errors: Vec<MappingIssue>,
    pub warnings: Vec<MappingIssue>,
}

/// What Sync Mappable Fields found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncFieldsResult {
    pub qbo_fields: usize,
    pub zoho_fields: usize,
    pub notices: Vec<PageNotice>,
}

#[cfg(feature = "ssr")]
pub(crate) mod pairs {
    use domain::pairs::{Direction, ModulePair, SyncDirections};

    use super::PairOption;
    use crate::api::billing::UPGRADE_HINT;
    use crate::error::AppError;
    use crate::ssr::{ServerCtx, internal};

    /// The pairs the module selectors offer: the plan's pairs, switched on or off (an off pair
    /// is reviewed before it is turned on), in sync order, the ones switched on first.
    pub async fn selectable_pairs(
        ctx: &ServerCtx,
        tenant_id: &str,
    ) -> Result<(SyncDirections, Vec<ModulePair>), AppError> {
        let directions = ctx
            .sync
            .config
            .directions(tenant_id)
            .await
            .map_err(|e| internal(&e))?;
        let entitlements = engine::billing::entitlements(&ctx.db, tenant_id)
            .await
            .map_err(|e| internal(&e))?;
        let (mut on, off): (Vec<ModulePair>, Vec<ModulePair>) = ModulePair::ALL
            .into_iter()
            .filter(|p| entitlements.effective.allows(*p))
            .partition(|p| directions.get(*p).is_enabled());
        on.extend(off);
        Ok((directions, on))
    }

    pub fn options(directions: &SyncDirections, pairs: &[ModulePair]) -> Vec<PairOption> {
        pairs
            .iter()
            .map(|pair| {
                let direction = directions.get(*pair);
                PairOption {
                    key: pair.key().to_owned(),
                    label: pair.label().to_owned(),
                    direction: if direction.is_enabled() {
                        direction.label().to_owned()
                    } else {
                        "off".to_owned()
                    },
                    on: direction.is_enabled(),
                }
            })
            .collect()
    }

    /// The direction a pair's mapping is checked against: its own, or for an off pair the
    /// one it is offered with.
    pub fn review_direction(pair: ModulePair, directions: &SyncDirections) -> Direction {
        match directions.get(pair) {
            Direction::Disabled => pair.suggested_direction(),
            direction => direction,
        }
    }

    /// The pair a request names, refused with what to do when it is not in the plan.
    pub async fn reachable_pair(
        ctx: &ServerCtx,
        tenant_id: &str,
        key: &str,
    ) -> Result<(ModulePair, SyncDirections), AppError> {
        let pair = ModulePair::from_key(key).map_err(|_| {
            AppError::Invalid(format!(
                "There is no module pair called {key:?}. Choose a module from the list."
            ))
        })?;
        let directions = ctx
            .sync
            .config
            .directions(tenant_id)
            .await
            .map_err(|e| internal(&e))?;
        let entitlements = engine::billing::entitlements(&ctx.db, tenant_id)
            .await
            .map_err(|e| internal(&e))?;
        entitlements
            .check_pair(pair)
            .map_err(|e| AppError::Invalid(format!("{e} {UPGRADE_HINT}")))?;
        Ok((pair, directions))
    }
}

#[server(endpoint = "mapping_page")]
pub async fn get_mapping_page(pair: Option<String>) -> Result<MappingPageData, AppError> {
    use domain::log::Notice;
    use domain::pairs::ModulePair;

    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let tenant = session.tenant_id.as_str();
    let (directions, pairs) = pairs::selectable_pairs(&ctx, tenant).await?;
    let options = pairs::options(&directions, &pairs);
    let both_connected = crate::api::onboarding::steps::both_connected(&ctx, tenant).await?;
    let chosen = match pair.filter(|p| !p.is_empty()) {
        Some(key) => Some(pairs::reachable_pair(&ctx, tenant, &key).await?.0),
        None => pairs.first().copied(),
    };
    let Some(chosen) = chosen else {
        return Ok(MappingPageData {
            pairs: options,
            pair: None,
            catalogue: None,
            mapping: Mapping::default(),
            is_default: true,
            fields_synced: false,
            notices: Vec::new(),
            off: None,
            both_connected,
        });
    };
    let config = &ctx.sync.config;
    let (catalogue, fields_synced) = config
        .catalogue(tenant, chosen)
        .await
        .map_err(|e| internal(&e))?;
    let (mapping, is_default) = config
        .mapping(tenant, chosen)
        .await
        .map_err(|e| internal(&e))?;
    let mut notices = Vec::new();
    if catalogue.zoho.is_empty() || catalogue.qbo.is_empty() {
        notices.push(PageNotice::warn(Notice::NoMappableFields.message()));
    } else if !fields_synced {
        notices.push(PageNotice::info(
            "These are the standard fields. Click Sync Mappable Fields to read your own fields from Zoho CRM and QuickBooks (custom fields included).",
        ));
    }
    if chosen == ModulePair::ProductsItems
        && directions
            .get(chosen)
            .includes(domain::pairs::Flow::ZohoToQbo)
    {
        let settings = config.settings(tenant).await.map_err(|e| internal(&e))?;
        if settings.inventory.income_account.is_none()
            || settings.inventory.expense_account.is_none()
            || settings.inventory.asset_account.is_none()
        {
            notices.push(PageNotice::warn(Notice::InventorySettingsMissing.message()));
        }
    }
    let off = (!directions.get(chosen).is_enabled()).then(|| TurnOnOffer {
        pair_label: chosen.label().to_owned(),
        direction: chosen.suggested_direction().label().to_owned(),
    });
    Ok(MappingPageData {
        pairs: options,
        pair: Some(chosen.key().to_owned()),
        catalogue: Some(catalogue),
        mapping,
        is_default,
        fields_synced,
        notices,
        off,
        both_connected,
    })
}

/// "Turn on" on an off pair's mapping page: the pair runs from now on in its suggested
/// direction (records created or changed from now on; older ones only through a backfill).
/// Refused when the plan does not include it or it would conflict with another pair.
#[server(endpoint = "turn_on_pair")]
pub async fn turn_on_pair(pair: String) -> Result<String, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let tenant = session.tenant_id.as_str();
    let (pair, mut directions) = pairs::reachable_pair(&ctx, tenant, &pair).await?;
    if directions.get(pair).is_enabled() {
        return Ok(format!(
            "{} is already on ({}).",
            pair.label(),
            directions.get(pair).label()
        ));
    }
    let direction = pair.suggested_direction();
    directions.set(pair, direction);
    ctx.sync
        .save_directions(tenant, &directions)
        .await
        .map_err(crate::api::settings::directions::directions_error)?;
    Ok(format!(
        "{} is on ({}). Records created or changed from now on are copied; change the direction in Settings → Sync Direction.",
        pair.label(),
        direction.label()
    ))
}

/// Submit: checks the mapping against the pair's fields and direction; saves it only when
/// there are no errors (warnings are saved along).
#[server(endpoint = "save_mapping", input = Json)]
pub async fn save_mapping(pair: String, mapping: Mapping) -> Result<SaveMappingResult, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let tenant = session.tenant_id.as_str();
    let (pair, directions) = pairs::reachable_pair(&ctx, tenant, &pair).await?;
    let config = &ctx.sync.config;
    let (catalogue, _) = config
        .catalogue(tenant, pair)
        .await
        .map_err(|e| internal(&e))?;
    let report = domain::mapping::validate(
        &mapping,
        &catalogue,
        pairs::review_direction(pair, &directions),
    );
    let saved = report.is_ok();
    if saved {
        config
            .save_mapping(tenant, pair, &mapping)
            .await
            .map_err(|e| internal(&e))?;
        crate::api::onboarding::steps::confirm(
            &ctx,
            tenant,
            engine::onboarding::Confirmed::MappingReviewed,
        )
        .await;
    }
    Ok(SaveMappingResult {
        saved,
        errors: report.errors,
        warnings: report.warnings,
    })
}

/// Reset Default Mapping: forgets the saved mapping; the built-in default applies again.
#[server(endpoint = "reset_default_mapping")]
pub async fn reset_default_mapping(pair: String) -> Result<(), AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let (pair, _) = pairs::reachable_pair(&ctx, &session.tenant_id, &pair).await?;
    ctx.sync
        .config
        .reset_mapping(&session.tenant_id, pair)
        .await
        .map_err(|e| internal(&e))
}

/// Sync Mappable Fields: re-reads the pair's fields from Zoho CRM and QuickBooks.
#[server(endpoint = "sync_mappable_fields")]
pub async fn sync_mappable_fields(pair: String) -> Result<SyncFieldsResult, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let (pair, _) = pairs::reachable_pair(&ctx, &session.tenant_id, &pair).await?;
    let refreshed = engine::sync::refresh_catalogue(
        &ctx.connections,
        &ctx.sync.config,
        &session.tenant_id,
        pair,
    )
    .await
    .map_err(|e| {
        if e.is_user_error() {
            AppError::Invalid(e.to_string())
        } else {
            internal(&e)
        }
    })?;
    Ok(SyncFieldsResult {
        qbo_fields: refreshed.catalogue.qbo.len(),
        zoho_fields: refreshed.catalogue.zoho.len(),
        notices: refreshed
            .notices
            .into_iter()
            .map(|n| PageNotice::warn(n.message()))
            .collect(),
    })
}
