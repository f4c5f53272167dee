//! A database's branches, their backups, changes and keyspace resizes, its schema
//! recommendations and maintenance schedules: what watching the slower kinds reads. Items that
//! cannot be read are left out with a warning; the rest are used.

use diff_engine::{Backup, MaintenanceSchedule, Resize, SchemaRecommendation, Target};

use crate::api::{self, Branch, DecodeError};
use crate::{Client, PollError};

impl Client {
    /// Every item of the list at `path` below `target`'s database, read with `convert` (a 404
    /// asks the organization, as every database list does); one that cannot be read is left
    /// out with a warning naming `what`.
    pub(crate) async fn database_list<T>(
        &self,
        target: &Target,
        path: &[&str],
        what: &str,
        convert: impl Fn(&serde_json::Value) -> Result<T, DecodeError> + Copy,
    ) -> Result<Vec<T>, PollError> {
        let mut segments = vec![
            "organizations",
            target.organization.as_str(),
            "databases",
            target.database.as_str(),
        ];
        segments.extend_from_slice(path);
        let url = self.url(&segments);
        let listed = self.list_of_database(target, url, &[], convert).await?;
        for item in &listed.unreadable {
            tracing::warn!(target_db = %target, what, problem = %item.problem,
                "an item in the API's answer cannot be read; it is left out");
        }
        Ok(listed.items)
    }

    /// The branches of `target` (`GET …/databases/{db}/branches`).
    pub async fn list_branches(&self, target: &Target) -> Result<Vec<Branch>, PollError> {
        self.database_list(target, &["branches"], "branch", api::branch)
            .await
    }

    /// The backups of `branch` of `target` (`GET …/branches/{branch}/backups`).
    pub async fn list_backups(
        &self,
        target: &Target,
        branch: &str,
    ) -> Result<Vec<Backup>, PollError> {
        let backups = self
            .database_list(
                target,
                &["branches", branch, "backups"],
                "backup",
                api::backup,
            )
            .await?;
        Ok(backups
            .into_iter()
            .map(|backup| Backup {
                branch: branch.to_owned(),
                ..backup
            })
            .collect())
    }

    /// The names of `target`'s production branches, whose backups and resizes are watched.
    pub async fn production_branches(&self, target: &Target) -> Result<Vec<String>, PollError> {
        Ok(self
            .list_branches(target)
            .await?
            .into_iter()
            .filter(|branch| branch.production)
            .map(|branch| branch.name)
            .collect())
    }

    /// The slower kinds of `target`'s `production` branches, each when asked for: their
    /// backups, and their changes with their keyspaces' resizes.
    pub async fn observe_slow(
        &self,
        target: &Target,
        production: &[String],
        backups: bool,
        resizes: bool,
    ) -> Result<(Option<Vec<Backup>>, Option<Vec<Resize>>), PollError> {
        let mut read_backups = backups.then(Vec::new);
        let mut read_resizes = resizes.then(Vec::new);
        for branch in production {
            if let Some(backups) = &mut read_backups {
                backups.extend(self.list_backups(target, branch).await?);
            }
            if let Some(resizes) = &mut read_resizes {
                resizes.extend(self.list_resizes(target, branch).await?);
            }
        }
        Ok((read_backups, read_resizes))
    }

    /// The database's schema recommendations (`GET …/schema-recommendations`).
    pub async fn list_schema_recommendations(
        &self,
        target: &Target,
    ) -> Result<Vec<SchemaRecommendation>, PollError> {
        self.database_list(
            target,
            &["schema-recommendations"],
            "schema recommendation",
            api::recommendation,
        )
        .await
    }

    /// The database's maintenance schedules (`GET …/maintenance-schedules`).
    pub async fn list_maintenance_schedules(
        &self,
        target: &Target,
    ) -> Result<Vec<MaintenanceSchedule>, PollError> {
        self.database_list(
            target,
            &["maintenance-schedules"],
            "maintenance schedule",
            api::maintenance,
        )
        .await
    }

    /// A branch's own changes and its keyspaces' resizes.
    async fn list_resizes(&self, target: &Target, branch: &str) -> Result<Vec<Resize>, PollError> {
        let changes = self
            .database_list(
                target,
                &["branches", branch, "changes"],
                "branch change",
                api::resize,
            )
            .await?;
        let mut resizes: Vec<Resize> = changes
            .into_iter()
            .map(|resize| Resize {
                branch: branch.to_owned(),
                ..resize
            })
            .collect();
        let keyspaces = self
            .database_list(
                target,
                &["branches", branch, "keyspaces"],
                "keyspace",
                api::keyspace,
            )
            .await?;
        for keyspace in keyspaces {
            let path = ["branches", branch, "keyspaces", &keyspace, "resizes"];
            let listed = self
                .database_list(target, &path, "keyspace resize", api::resize)
                .await?;
            resizes.extend(listed.into_iter().map(|resize| Resize {
                branch: branch.to_owned(),
                keyspace: Some(keyspace.clone()),
                ..resize
            }));
        }
        Ok(resizes)
    }
}
