//! References between records: a payload's customers, products, vendors and terms resolved
//! through the links (one lookup per pair); those not linked yet are named so the page loop
//! syncs them first (`flow::decide_page`).

#[allow(clippy::wildcard_imports)] // the run's shared types and helpers
use super::*;

use super::flow::Resolved;

impl TenantRun<'_> {
    /// Resolves a payload's references from `known` (the page's links): customers, products,
    /// vendors by their links, terms by name in QBO. With `defer`, references not linked yet
    /// whose pairs run this way are returned to be synced first.
    pub(super) async fn resolve(
        &mut self,
        flow: Flow,
        mapped: &mut MappedRecord,
        known: &mut HashMap<(ModulePair, String), String>,
        defer: bool,
    ) -> Result<Resolved, RunError> {
        if defer {
            let syncable: Vec<(ModulePair, String)> = mapped
                .references
                .iter()
                .filter_map(|r| Some((r.linked_pair?, r.source_id.clone()?)))
                .filter(|key| !known.contains_key(key) && self.runs_that_way(key.0, flow))
                .collect();
            if !syncable.is_empty() {
                return Ok(Resolved::Waits(syncable));
            }
        }
        // Terms are looked up by name, once a run.
        if flow == Flow::ZohoToQbo {
            for reference in &mapped.references {
                if reference.linked_pair.is_none()
                    && let Some(name) = &reference.name
                    && !self.terms.contains_key(name)
                {
                    let id = self.lookup_qbo_term(name).await?;
                    self.terms.insert(name.clone(), id);
                }
            }
        }
        let terms = &self.terms;
        let result = mapped.resolve(|r| match (r.linked_pair, &r.source_id) {
            (Some(p), Some(id)) => known.get(&(p, id.clone())).cloned(),
            _ if flow == Flow::ZohoToQbo => r
                .name
                .as_ref()
                .and_then(|n| terms.get(n).cloned().flatten()),
            _ => None,
        });
        Ok(match result {
            Ok(()) => Resolved::Done,
            Err(unresolved) => Resolved::Missing(unresolved.to_string()),
        })
    }

    /// Whether records of `pair` are synced in `flow` by this run.
    fn runs_that_way(&self, pair: ModulePair, flow: Flow) -> bool {
        self.runnable.contains(&pair)
            && self
                .pairs
                .get(&pair)
                .is_some_and(|s| s.direction.includes(flow))
    }

    /// The linked counterparts of payloads' references: (pair, source id) → target id, from
    /// `known` where it has them, else from the links (one lookup per pair).
    pub(super) async fn reference_ids<'m>(
        &self,
        mapped: impl Iterator<Item = &'m MappedRecord>,
        flow: Flow,
        known: &HashMap<(ModulePair, String), String>,
    ) -> Result<HashMap<(ModulePair, String), String>, RunError> {
        let mut out = HashMap::new();
        let mut wanted: BTreeMap<ModulePair, Vec<String>> = BTreeMap::new();
        for r in mapped.flat_map(|m| m.references.iter()) {
            if let (Some(p), Some(id)) = (r.linked_pair, &r.source_id) {
                let key = (p, id.clone());
                if let Some(target) = known.get(&key) {
                    out.insert(key, target.clone());
                } else if !out.contains_key(&key) {
                    wanted.entry(p).or_default().push(id.clone());
                }
            }
        }
        for (p, mut ids) in wanted {
            ids.sort();
            ids.dedup();
            let linked = self
                .store()
                .linked_ids(&self.tenant_id, p, flow == Flow::ZohoToQbo, &ids)
                .await?;
            out.extend(linked.into_iter().map(|(id, target)| ((p, id), target)));
        }
        Ok(out)
    }

    pub(super) async fn lookup_qbo_term(&self, name: &str) -> Result<Option<String>, RunError> {
        let rows = self
            .qbo
            .find_by_name("Term", name)
            .await
            .map_err(RunError::Remote)?;
        Ok(rows.first().and_then(|r| text(r.get("Id"))))
    }
}
