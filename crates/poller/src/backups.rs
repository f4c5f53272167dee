//! A database's branches, their backups, changes and keyspace resizes: what watching backups
//! and resizes reads. Items that cannot be read are left out with a warning; the rest are used.

use diff_engine::{Backup, Resize, SchemaRecommendation, Target};

use crate::api::{self, Branch};
use crate::{Client, PollError};

impl Client {
    /// The branches of `target` (`GET …/databases/{db}/branches`).
    pub async fn list_branches(&self, target: &Target) -> Result<Vec<Branch>, PollError> {
        let url = self.url(&[
            "organizations",
            &target.organization,
            "databases",
            &target.database,
            "branches",
        ]);
        let listed = self.get_all(url, &[], api::branch).await?;
        for item in &listed.unreadable {
            tracing::warn!(target_db = %target, problem = %item.problem,
                "a branch in the API's answer cannot be read; it is left out");
        }
        Ok(listed.items)
    }

    /// The backups of `branch` of `target` (`GET …/branches/{branch}/backups`).
    pub async fn list_backups(
        &self,
        target: &Target,
        branch: &str,
    ) -> Result<Vec<Backup>, PollError> {
        let url = self.url(&[
            "organizations",
            &target.organization,
            "databases",
            &target.database,
            "branches",
            branch,
            "backups",
        ]);
        let listed = self.get_all(url, &[], api::backup).await?;
        for item in &listed.unreadable {
            tracing::warn!(target_db = %target, branch, problem = %item.problem,
                "a backup in the API's answer cannot be read; it is left out");
        }
        Ok(listed
            .items
            .into_iter()
            .map(|backup| Backup {
                branch: branch.to_owned(),
                ..backup
            })
            .collect())
    }

    /// The slower kinds of `target`'s production branches, each when asked for: their backups,
    /// and their changes with their keyspaces' resizes. The branches are listed once.
    pub async fn observe_slow(
        &self,
        target: &Target,
        backups: bool,
        resizes: bool,
    ) -> Result<(Option<Vec<Backup>>, Option<Vec<Resize>>), PollError> {
        let mut read_backups = backups.then(Vec::new);
        let mut read_resizes = resizes.then(Vec::new);
        for branch in self.list_branches(target).await? {
            if !branch.production {
                continue;
            }
            if let Some(backups) = &mut read_backups {
                backups.extend(self.list_backups(target, &branch.name).await?);
            }
            if let Some(resizes) = &mut read_resizes {
                resizes.extend(self.list_resizes(target, &branch.name).await?);
            }
        }
        Ok((read_backups, read_resizes))
    }

    /// The database's schema recommendations (`GET …/schema-recommendations`).
    pub async fn list_schema_recommendations(
        &self,
        target: &Target,
    ) -> Result<Vec<SchemaRecommendation>, PollError> {
        let url = self.url(&[
            "organizations",
            &target.organization,
            "databases",
            &target.database,
            "schema-recommendations",
        ]);
        let listed = self.get_all(url, &[], api::recommendation).await?;
        for item in &listed.unreadable {
            tracing::warn!(target_db = %target, problem = %item.problem,
                "a schema recommendation in the API's answer cannot be read; it is left out");
        }
        Ok(listed.items)
    }

    /// The database's maintenance schedules (`GET …/maintenance-schedules`).
    pub async fn list_maintenance_schedules(
        &self,
        target: &Target,
    ) -> Result<Vec<diff_engine::MaintenanceSchedule>, PollError> {
        let url = self.url(&[
            "organizations",
            &target.organization,
            "databases",
            &target.database,
            "maintenance-schedules",
        ]);
        let listed = self.get_all(url, &[], api::maintenance).await?;
        for item in &listed.unreadable {
            tracing::warn!(target_db = %target, problem = %item.problem,
                "a maintenance schedule in the API's answer cannot be read; it is left out");
        }
        Ok(listed.items)
    }

    /// A branch's own changes and its keyspaces' resizes.
    async fn list_resizes(&self, target: &Target, branch: &str) -> Result<Vec<Resize>, PollError> {
        let path = |rest: &[&str]| {
            let mut segments = vec![
                "organizations",
                target.organization.as_str(),
                "databases",
                target.database.as_str(),
                "branches",
                branch,
            ];
            segments.extend_from_slice(rest);
            self.url(&segments)
        };
        let warn = |what: &str, listed: &[api::UnreadableItem]| {
            for item in listed {
                tracing::warn!(target_db = %target, branch, what, problem = %item.problem,
                    "an item in the API's answer cannot be read; it is left out");
            }
        };
        let changes = self.get_all(path(&["changes"]), &[], api::resize).await?;
        warn("branch change", &changes.unreadable);
        let mut resizes: Vec<Resize> = changes
            .items
            .into_iter()
            .map(|resize| Resize {
                branch: branch.to_owned(),
                ..resize
            })
            .collect();
        let keyspaces = self
            .get_all(path(&["keyspaces"]), &[], api::keyspace)
            .await?;
        warn("keyspace", &keyspaces.unreadable);
        for keyspace in keyspaces.items {
            let listed = self
                .get_all(path(&["keyspaces", &keyspace, "resizes"]), &[], api::resize)
                .await?;
            warn("keyspace resize", &listed.unreadable);
            resizes.extend(listed.items.into_iter().map(|resize| Resize {
                branch: branch.to_owned(),
                keyspace: Some(keyspace.clone()),
                ..resize
            }));
        }
        Ok(resizes)
    }
}
