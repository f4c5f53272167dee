//! Which databases a configuration watches: those `[[watch]]` names, and those the
//! organizations watched with `["*"]` list, listed at the same time, with what is known of
//! which are PostgreSQL ones.

use std::collections::{BTreeMap, BTreeSet};

use diff_engine::Target;
use poller::{Client, PollError};

use crate::config::Config;
use crate::service::clients::Clients;

/// How often organizations watched with `["*"]` are listed again for new databases.
pub(crate) const DISCOVERY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

/// Which databases a configuration watches: the one listing `once`, `once --dry-run` and the
/// service share. It remembers, per organization, which databases named in `[[watch]]` are
/// PostgreSQL ones.
#[derive(Debug, Default)]
pub(crate) struct Watched {
    postgres: std::sync::Mutex<BTreeMap<String, BTreeSet<String>>>,
    /// PostgreSQL databases watched for what they have (backups), named or discovered: never
    /// asked for workflows or deploy requests.
    postgres_watched: std::sync::Mutex<BTreeSet<Target>>,
}

impl Watched {
    /// The targets of `config`: the databases named in `[[watch]]` (less the PostgreSQL ones),
    /// and every MySQL database of an organization watched with `["*"]`, listed through the
    /// API. An organization that cannot be listed is given back with its error, and the others
    /// are listed all the same.
    pub(crate) async fn targets(
        &self,
        config: &Config,
        clients: &Clients,
    ) -> (Vec<Target>, Vec<(String, PollError)>) {
        self.targets_as_listed(config, clients, |_, _| {}).await
    }

    /// [`Watched::targets`], the organizations listed at the same time: `listed` is told of
    /// each organization's targets as soon as they are known, so a slow organization delays no
    /// other's.
    pub(crate) async fn targets_as_listed(
        &self,
        config: &Config,
        clients: &Clients,
        mut listed: impl FnMut(&str, &[Target]),
    ) -> (Vec<Target>, Vec<(String, PollError)>) {
        use futures_util::stream::StreamExt as _;
        let organizations: BTreeSet<&str> = config
            .watches
            .iter()
            .map(|watch| watch.organization.as_str())
            .collect();
        let mut listings: futures_util::stream::FuturesUnordered<_> = organizations
            .into_iter()
            .map(|organization| async move {
                let read = self
                    .organization_targets(config, clients.of(organization), organization)
                    .await;
                (organization, read)
            })
            .collect();
        let mut targets = Vec::new();
        let mut failures = Vec::new();
        while let Some((organization, read)) = listings.next().await {
            match read {
                Ok((listed_here, postgres)) => {
                    {
                        let mut watched = self
                            .postgres_watched
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner());
                        watched.retain(|target| target.organization != organization);
                        watched.extend(postgres);
                    }
                    listed(organization, &listed_here);
                    targets.extend(listed_here);
                }
                Err(error) => failures.push((organization.to_owned(), error)),
            }
        }
        (targets, failures)
    }

    /// The databases the `[[watch]]` entries of `organization` name, and those it lists for
    /// one watched with `["*"]`: the targets, and the PostgreSQL ones among them.
    async fn organization_targets(
        &self,
        config: &Config,
        client: &Client,
        organization: &str,
    ) -> Result<(Vec<Target>, Vec<Target>), PollError> {
        let mut targets = Vec::new();
        let mut postgres_watched = Vec::new();
        for watch in config
            .watches
            .iter()
            .filter(|watch| watch.organization == organization)
        {
            // What a PostgreSQL database has: its backups (no workflows or deploy requests).
            let resources = &watch.resources;
            let postgres_too = resources.backups || resources.resizes || resources.maintenance;
            match &watch.databases {
                Some(databases) => {
                    let postgres = self.postgres_databases(config, client, organization).await;
                    for database in databases {
                        let target = Target::new(organization, database.as_str());
                        if postgres.contains(database) {
                            if !postgres_too {
                                continue;
                            }
                            postgres_watched.push(target.clone());
                        }
                        targets.push(target);
                    }
                }
                None => {
                    for database in client.list_databases(organization).await? {
                        let target = Target::new(organization, database.name.as_str());
                        if !database.is_mysql() {
                            if !postgres_too {
                                continue;
                            }
                            postgres_watched.push(target.clone());
                        }
                        targets.push(target);
                    }
                }
            }
        }
        Ok((targets, postgres_watched))
    }

    /// The databases `[[watch]]` names, known without asking the API: polled from the start,
    /// before any listing ends (one found to be a PostgreSQL database then is polled for what
    /// it has, or no longer, from the listing on).
    pub(crate) fn named(config: &Config) -> Vec<Target> {
        config
            .watches
            .iter()
            .flat_map(|watch| {
                watch
                    .databases
                    .iter()
                    .flatten()
                    .map(|database| Target::new(watch.organization.as_str(), database.as_str()))
            })
            .collect()
    }

    /// Whether `target` is a PostgreSQL database watched for its backups: it is never asked
    /// for workflows or deploy requests.
    pub(crate) fn is_postgres(&self, target: &Target) -> bool {
        self.postgres_watched
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(target)
    }

    /// Which databases named in `organization`'s `[[watch]]` are PostgreSQL ones, which have no
    /// workflows or deploy requests: asked once (one list of the organization's databases),
    /// each reported once and then skipped. When the list cannot be read (a token with access to
    /// the named databases only, say), every named database is watched.
    async fn postgres_databases(
        &self,
        config: &Config,
        client: &Client,
        organization: &str,
    ) -> BTreeSet<String> {
        let known = self
            .postgres
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(organization)
            .cloned();
        if let Some(known) = known {
            return known;
        }
        let named: BTreeSet<&str> = config
            .watches
            .iter()
            .filter(|watch| watch.organization == organization)
            .flat_map(|watch| watch.databases.iter().flatten().map(String::as_str))
            .collect();
        let postgres: BTreeSet<String> = match client.list_databases(organization).await {
            Ok(databases) => databases
                .into_iter()
                .filter(|database| !database.is_mysql() && named.contains(database.name.as_str()))
                .map(|database| {
                    let backups = config.watches.iter().any(|watch| {
                        watch.organization == organization
                            && (watch.resources.backups
                                || watch.resources.resizes
                                || watch.resources.maintenance)
                    });
                    let target = Target::new(organization, database.name.as_str());
                    if backups {
                        tracing::info!(target_db = %target, kind = %database.kind,
                            "a PostgreSQL database: its backups, resizes or maintenance are watched as its watch asks, and no workflows or deploy requests asked of it");
                    } else {
                        tracing::warn!(target_db = %target, kind = %database.kind,
                            "a PostgreSQL database has no workflows or deploy requests; it is not watched (remove it from [[watch]] databases, or watch its backups with resources = [\"backups\"])");
                    }
                    database.name
                })
                .collect(),
            Err(error) => {
                tracing::info!(organization, %error, "cannot list the organization's databases to tell their kinds; every database named in [[watch]] is watched");
                BTreeSet::new()
            }
        };
        self.postgres
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(organization.to_owned(), postgres.clone());
        postgres
    }
}
