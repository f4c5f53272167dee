//! A database's branches and their backups: what watching backups and resizes reads. Items
//! that cannot be read are left out with a warning; the rest are used.

use diff_engine::{Backup, Target};

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

    /// The backups of every production branch of `target`: what watching backups reads, at
    /// the slower kinds' interval.
    pub async fn observe_backups(&self, target: &Target) -> Result<Vec<Backup>, PollError> {
        let mut backups = Vec::new();
        for branch in self.list_branches(target).await? {
            if branch.production {
                backups.extend(self.list_backups(target, &branch.name).await?);
            }
        }
        Ok(backups)
    }
}
