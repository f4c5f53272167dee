//! A database's branches and their backups: what watching backups and resizes reads. Items
//! that cannot be read are left out with a warning; the rest are used.

use diff_engine::Target;

use crate::api::{self, Backup, Branch};
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
        Ok(listed.items)
    }
}
