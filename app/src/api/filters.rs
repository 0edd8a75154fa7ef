//! Server functions of the Filters page (SPEC §5): a pair's filters in both directions, Submit
//! (each row checked against the fields of the direction's source system; nothing saved while
//! a row is wrong) and Remove All Filters.

use domain::fields::FieldCatalogue;
use domain::filters::PairFilters;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::api::mapping::PairOption;
use crate::error::AppError;

/// Everything the Filters page shows for one pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiltersPageData {
    pub pairs: Vec<PairOption>,
    pub pair: Option<String>,
    /// The directions records of this pair flow in (`Flow::key`), Zoho → QuickBooks first.
    pub flows: Vec<String>,
    /// Field choices: Zoho fields filter Zoho → QuickBooks, QBO fields the other way.
    pub catalogue: Option<FieldCatalogue>,
    pub filters: PairFilters,
}

/// A problem with one row of one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterRowIssue {
    /// `Flow::key` of the direction.
    pub flow: String,
    /// 0-based row index.
    pub row: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveFiltersResult {
    pub saved: bool,
    pub errors: Vec<FilterRowIssue>,
}

#[server(endpoint = "filters_page")]
pub async fn get_filters(pair: Option<String>) -> Result<FiltersPageData, AppError> {
    use crate::api::mapping::pairs::{options, reachable_pair, selectable_pairs};
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let tenant = session.tenant_id.as_str();
    let (directions, pairs) = selectable_pairs(&ctx, tenant).await?;
    let chosen = match pair.filter(|p| !p.is_empty()) {
        Some(key) => Some(reachable_pair(&ctx, tenant, &key).await?.0),
        None => pairs.first().copied(),
    };
    let options = options(&directions, &pairs);
    let Some(chosen) = chosen else {
        return Ok(FiltersPageData {
            pairs: options,
            pair: None,
            flows: Vec::new(),
            catalogue: None,
            filters: PairFilters::default(),
        });
    };
    let config = &ctx.sync.config;
    let (catalogue, _) = config
        .catalogue(tenant, chosen)
        .await
        .map_err(|e| internal(&e))?;
    let filters = config
        .filters(tenant, chosen)
        .await
        .map_err(|e| internal(&e))?;
    Ok(FiltersPageData {
        pairs: options,
        pair: Some(chosen.key().to_owned()),
        flows: directions
            .get(chosen)
            .flows()
            .into_iter()
            .map(|f| f.key().to_owned())
            .collect(),
        catalogue: Some(catalogue),
        filters,
    })
}

/// Submit: saves both directions' filters when every row is valid, else nothing.
#[server(endpoint = "save_filters", input = Json)]
pub async fn save_filters(
    pair: String,
    filters: PairFilters,
) -> Result<SaveFiltersResult, AppError> {
    use domain::filters::FilterField;
    use domain::pairs::Flow;

    use crate::api::mapping::pairs::reachable_pair;
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let tenant = session.tenant_id.as_str();
    let (pair, _) = reachable_pair(&ctx, tenant, &pair).await?;
    let config = &ctx.sync.config;
    let (catalogue, _) = config
        .catalogue(tenant, pair)
        .await
        .map_err(|e| internal(&e))?;
    let mut errors = Vec::new();
    for flow in [Flow::ZohoToQbo, Flow::QboToZoho] {
        let fields = FilterField::for_flow(&catalogue, flow);
        if let Err(rows) = filters.get(flow).validate_for(&fields) {
            errors.extend(rows.into_iter().map(|e| FilterRowIssue {
                flow: flow.key().to_owned(),
                row: e.row,
                message: e.message,
            }));
        }
    }
    let saved = errors.is_empty();
    if saved {
        config
            .save_filters(tenant, pair, &filters)
            .await
            .map_err(|e| internal(&e))?;
    }
    Ok(SaveFiltersResult { saved, errors })
}

/// Remove All Filters: both directions of the pair sync every record again.
#[server(endpoint = "remove_all_filters")]
pub async fn remove_all_filters(pair: String) -> Result<(), AppError> {
    use crate::api::mapping::pairs::reachable_pair;
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let (pair, _) = reachable_pair(&ctx, &session.tenant_id, &pair).await?;
    ctx.sync
        .config
        .save_filters(&session.tenant_id, pair, &PairFilters::default())
        .await
        .map_err(|e| internal(&e))
}
