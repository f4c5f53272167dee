//! A database's branches, their backups, changes and keyspace resizes, its schema
//! recommendations and maintenance schedules: what watching the slower kinds reads. Items that
//! cannot be read are left out with a warning; the rest are used.

use diff_engine::{Backup, MaintenanceSchedule, Resize, SchemaRecommendation, Target};

use crate::api::{self, Branch, DecodeError};
use crate::{Client, PollError};

/// A reading of one of the slower kinds: the items that could be read, and whether some item,
/// branch or keyspace could not be (then what is remembered and missing here is kept).
#[derive(Debug, Clone, PartialEq)]
pub struct Read<T> {
    /// What was read.
    pub items: Vec<T>,
    /// Whether part of it could not be read.
    pub partial: bool,
}

impl<T> Read<T> {
    /// Nothing read yet; `partial` when part is known to be missing already.
    fn empty(partial: bool) -> Self {
        Self {
            items: Vec::new(),
            partial,
        }
    }

    /// Adds `listed`, the reading of one branch or keyspace, its items through `item`. One that
    /// costs only itself (see [`costs_only_itself`]) is told to `skipped` and makes this reading
    /// partial; any other failure is this reading's.
    fn take<U>(
        &mut self,
        listed: Result<Read<U>, PollError>,
        item: impl FnMut(U) -> T,
        skipped: impl FnOnce(&PollError),
    ) -> Result<(), PollError> {
        match listed {
            Ok(listed) => {
                self.partial |= listed.partial;
                self.items.extend(listed.items.into_iter().map(item));
                Ok(())
            }
            Err(error) if costs_only_itself(&error) => {
                skipped(&error);
                self.partial = true;
                Ok(())
            }
            Err(error) => Err(error),
        }
    }
}

/// What the slower kinds of one database's production branches read this time, each when
/// asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct SlowRead {
    /// Their backups.
    pub backups: Option<Read<Backup>>,
    /// Their changes and their keyspaces' resizes.
    pub resizes: Option<Read<Resize>>,
}

/// Whether a failed reading of one branch or keyspace costs only that reading: what it names
/// cannot be read (gone, refused, unreadable, not addressable). A failure of the API or the
/// token stops the whole reading, which is tried again next time.
fn costs_only_itself(error: &PollError) -> bool {
    !error.is_transient() && !error.is_auth_failure()
}

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
    ) -> Result<Read<T>, PollError> {
        let mut segments = vec![
            "organizations",
            target.organization.as_str(),
            "databases",
            target.database.as_str(),
        ];
        segments.extend_from_slice(path);
        let url = self.url(&segments)?;
        let listed = self
            .list_of_database(target, url.clone(), &[], convert)
            .await?;
        for item in &listed.unreadable {
            let item = crate::unreadable(&url, item);
            tracing::warn!(target_db = %target, what, item = %item.what, problem = %item.problem,
                "an item in the API's answer cannot be read; it is left out");
        }
        Ok(Read {
            partial: !listed.unreadable.is_empty(),
            items: listed.items,
        })
    }

    /// The branches of `target` (`GET …/databases/{db}/branches`).
    pub async fn list_branches(&self, target: &Target) -> Result<Read<Branch>, PollError> {
        self.database_list(target, &["branches"], "branch", api::branch)
            .await
    }

    /// The backups of `branch` of `target` (`GET …/branches/{branch}/backups`).
    pub async fn list_backups(
        &self,
        target: &Target,
        branch: &str,
    ) -> Result<Read<Backup>, PollError> {
        let backups = self
            .database_list(
                target,
                &["branches", branch, "backups"],
                "backup",
                api::backup,
            )
            .await?;
        Ok(Read {
            items: backups
                .items
                .into_iter()
                .map(|backup| Backup {
                    branch: branch.to_owned(),
                    ..backup
                })
                .collect(),
            partial: backups.partial,
        })
    }

    /// The names of `target`'s production branches, whose backups and resizes are watched;
    /// partial when a branch could not be read (it may be one of them).
    pub async fn production_branches(&self, target: &Target) -> Result<Read<String>, PollError> {
        let branches = self.list_branches(target).await?;
        Ok(Read {
            items: branches
                .items
                .into_iter()
                .filter(|branch| branch.production)
                .map(|branch| branch.name)
                .collect(),
            partial: branches.partial,
        })
    }

    /// The slower kinds of `target`'s `production` branches, each when asked for: their
    /// backups, and their changes with their keyspaces' resizes. A branch or keyspace that
    /// cannot be read (a name no URL can carry, one gone since it was listed, an answer that
    /// cannot be read) costs only its own reading, which is then partial; a failure of the API
    /// or the token fails the whole reading.
    pub async fn observe_slow(
        &self,
        target: &Target,
        production: &Read<String>,
        backups: bool,
        resizes: bool,
    ) -> Result<SlowRead, PollError> {
        let mut read = SlowRead {
            backups: backups.then(|| Read::empty(production.partial)),
            resizes: resizes.then(|| Read::empty(production.partial)),
        };
        for branch in &production.items {
            if let Some(backups) = &mut read.backups {
                let listed = self.list_backups(target, branch).await;
                backups.take(
                    listed,
                    |backup| backup,
                    |error| {
                        tracing::warn!(target_db = %target, branch = %branch.escape_debug(), %error,
                        "the branch's backups cannot be read; what is known of them is kept");
                    },
                )?;
            }
            if let Some(resizes) = &mut read.resizes {
                let listed = self.list_resizes(target, branch).await;
                resizes.take(listed, |resize| resize, |_| {})?;
            }
        }
        Ok(read)
    }

    /// The database's schema recommendations (`GET …/schema-recommendations`).
    pub async fn list_schema_recommendations(
        &self,
        target: &Target,
    ) -> Result<Read<SchemaRecommendation>, PollError> {
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
    ) -> Result<Read<MaintenanceSchedule>, PollError> {
        self.database_list(
            target,
            &["maintenance-schedules"],
            "maintenance schedule",
            api::maintenance,
        )
        .await
    }

    /// A branch's own changes and its keyspaces' resizes. The branch's changes, its keyspaces
    /// or one keyspace's resizes that cannot be read cost only their own reading.
    async fn list_resizes(&self, target: &Target, branch: &str) -> Result<Read<Resize>, PollError> {
        let skipped = |what: &str, error: &PollError| {
            tracing::warn!(target_db = %target, branch = %branch.escape_debug(), what, %error,
                "cannot be read; what is known of it is kept");
        };
        let of_branch = |resize: Resize| Resize {
            branch: branch.to_owned(),
            ..resize
        };
        let mut read = Read::empty(false);
        let changes = self
            .database_list(
                target,
                &["branches", branch, "changes"],
                "branch change",
                api::resize,
            )
            .await;
        read.take(changes, of_branch, |error| {
            skipped("the branch's changes", error);
        })?;
        let mut keyspaces = Read::empty(false);
        let listed = self
            .database_list(
                target,
                &["branches", branch, "keyspaces"],
                "keyspace",
                api::keyspace,
            )
            .await;
        keyspaces.take(
            listed,
            |keyspace| keyspace,
            |error| {
                skipped("the branch's keyspaces", error);
            },
        )?;
        read.partial |= keyspaces.partial;
        for keyspace in keyspaces.items {
            let path = ["branches", branch, "keyspaces", &keyspace, "resizes"];
            let listed = self
                .database_list(target, &path, "keyspace resize", api::resize)
                .await;
            let in_keyspace = |resize: Resize| Resize {
                keyspace: Some(keyspace.clone()),
                ..of_branch(resize)
            };
            read.take(listed, in_keyspace, |error| {
                skipped(
                    &format!("keyspace {}'s resizes", keyspace.escape_debug()),
                    error,
                );
            })?;
        }
        Ok(read)
    }
}
