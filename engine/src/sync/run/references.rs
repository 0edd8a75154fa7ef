//! References between records: a payload's customers, products, vendors and terms resolved
//! through the links (one lookup per pair), and records not linked yet synced first.

#[allow(clippy::wildcard_imports)] // the run's shared types and helpers
use super::*;

impl TenantRun<'_> {
    /// The target ids of a payload's linked references (`known`: ids this page already
    /// resolved). A reference whose record is not linked yet is synced first when its pair runs
    /// in `flow`, a few levels deep at most; what that links is added to `known`.
    pub(super) async fn linked_references(
        &mut self,
        flow: Flow,
        mapped: &MappedRecord,
        depth: usize,
        known: &mut HashMap<(ModulePair, String), String>,
    ) -> Result<HashMap<(ModulePair, String), String>, RunError> {
        let mut ids = self
            .reference_ids(std::iter::once(mapped), flow == Flow::ZohoToQbo, known)
            .await?;
        let missing: Vec<(ModulePair, String)> = mapped
            .references
            .iter()
            .filter_map(|r| Some((r.linked_pair?, r.source_id.clone()?)))
            .filter(|key| !ids.contains_key(key))
            .collect();
        for (dep_pair, dep_id) in missing {
            let runs_that_way = self.runnable.contains(&dep_pair)
                && self
                    .pairs
                    .get(&dep_pair)
                    .is_some_and(|s| s.direction.includes(flow));
            if depth >= MAX_DEPENDENCY_DEPTH || !runs_that_way {
                continue;
            }
            let synced = match flow {
                Flow::ZohoToQbo => {
                    self.sync_zoho_dependency(dep_pair, &dep_id, depth + 1)
                        .await?
                }
                Flow::QboToZoho => {
                    self.sync_qbo_dependency(dep_pair, &dep_id, depth + 1)
                        .await?
                }
            };
            if let Some(target_id) = synced {
                known.insert((dep_pair, dep_id.clone()), target_id.clone());
                ids.insert((dep_pair, dep_id), target_id);
            }
        }
        Ok(ids)
    }

    /// Resolves the references of a Zoho → QBO payload (terms by name). `Ok(Err(message))`
    /// names what is missing.
    pub(super) async fn resolve_for_qbo(
        &mut self,
        mapped: &mut MappedRecord,
        depth: usize,
        known: &mut HashMap<(ModulePair, String), String>,
    ) -> Result<Result<(), String>, RunError> {
        let ids = self
            .linked_references(Flow::ZohoToQbo, mapped, depth, known)
            .await?;
        // Terms are looked up by name.
        for reference in mapped.references.clone() {
            if reference.linked_pair.is_none()
                && let Some(name) = &reference.name
                && !self.terms.contains_key(name)
            {
                let id = self.lookup_qbo_term(name).await?;
                self.terms.insert(name.clone(), id);
            }
        }
        let terms = self.terms.clone();
        let result = mapped.resolve(|r| match (r.linked_pair, &r.source_id) {
            (Some(p), Some(id)) => ids.get(&(p, id.clone())).cloned(),
            _ => r
                .name
                .as_ref()
                .and_then(|n| terms.get(n).cloned().flatten()),
        });
        Ok(result.map_err(|unresolved| unresolved.to_string()))
    }

    /// The linked counterparts of payloads' references: (pair, source id) → target id, from
    /// `known` where it has them, else from the links (one lookup per pair).
    pub(super) async fn reference_ids<'m>(
        &self,
        mapped: impl Iterator<Item = &'m MappedRecord>,
        zoho_source: bool,
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
                .linked_ids(&self.tenant_id, p, zoho_source, &ids)
                .await?;
            out.extend(linked.into_iter().map(|(id, target)| ((p, id), target)));
        }
        Ok(out)
    }

    pub(super) async fn lookup_qbo_term(&self, name: &str) -> Result<Option<String>, RunError> {
        let escaped = name.replace('\'', "\\'");
        let rows = self
            .qbo
            .query_page(
                &format!("SELECT * FROM Term WHERE Name = '{escaped}'"),
                1,
                10,
            )
            .await
            .map_err(RunError::Remote)?;
        Ok(rows.first().and_then(|r| text(r.get("Id"))))
    }

    /// Syncs one Zoho record of `pair` now (a dependency); returns its QBO id when linked.
    pub(super) fn sync_zoho_dependency<'a>(
        &'a mut self,
        pair: ModulePair,
        zoho_id: &'a str,
        depth: usize,
    ) -> BoxFut<'a, Result<Option<String>, RunError>> {
        Box::pin(async move {
            let module = pair.zoho_module().api_name();
            let record = match self.zoho.get(module, zoho_id).await {
                Ok(record) => record,
                Err(ConnectorError::NotFound { .. }) => return Ok(None),
                Err(error) => return Err(RunError::Remote(error)),
            };
            let decided = self
                .decide_zoho(pair, vec![record], &HashMap::new(), false, depth)
                .await?;
            let commit = self.write_qbo(pair, decided).await?;
            self.commit(commit).await?;
            let links = self
                .store()
                .links(&self.tenant_id, pair, true, &[zoho_id.to_owned()])
                .await?;
            Ok(links.get(zoho_id).map(|l| l.qbo_id.clone()))
        })
    }

    pub(super) async fn resolve_for_zoho(
        &mut self,
        mapped: &mut MappedRecord,
        depth: usize,
    ) -> Result<Result<(), String>, RunError> {
        let ids = self
            .linked_references(Flow::QboToZoho, mapped, depth, &mut HashMap::new())
            .await?;
        let result = mapped.resolve(|r| match (r.linked_pair, &r.source_id) {
            (Some(p), Some(id)) => ids.get(&(p, id.clone())).cloned(),
            _ => None,
        });
        Ok(result.map_err(|unresolved| unresolved.to_string()))
    }

    pub(super) fn sync_qbo_dependency<'a>(
        &'a mut self,
        pair: ModulePair,
        qbo_id: &'a str,
        depth: usize,
    ) -> BoxFut<'a, Result<Option<String>, RunError>> {
        Box::pin(async move {
            let entity = self.pairs[&pair].entity.name();
            let record = match self.qbo.read(entity, qbo_id).await {
                Ok(record) => record,
                Err(ConnectorError::NotFound { .. }) => return Ok(None),
                Err(error) => return Err(RunError::Remote(error)),
            };
            let decided = self.decide_qbo(pair, vec![record], false, depth).await?;
            let commit = self.write_zoho(pair, decided).await?;
            self.commit(commit).await?;
            let links = self
                .store()
                .links(&self.tenant_id, pair, false, &[qbo_id.to_owned()])
                .await?;
            Ok(links.get(qbo_id).map(|l| l.zoho_id.clone()))
        })
    }
}
