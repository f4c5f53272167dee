//! A digest: what happened in the watched databases over a period, and what waits for a
//! person, as the `pswatch.digest` event carries it.

use time::OffsetDateTime;

/// One `[[digests]]` entry's summary of a period.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    /// The digest's name, as configured.
    pub name: String,
    /// The period it covers: after `period_start`, up to and including `period_end`.
    pub period_start: OffsetDateTime,
    /// When the period ended: the digest's scheduled time.
    pub period_end: OffsetDateTime,
    /// The IANA time zone its times are scheduled and shown in.
    pub timezone: String,
    /// Per database with something to say, in name order.
    pub databases: Vec<DatabaseDigest>,
    /// Deliveries given up and not yet retried or dropped, of every channel.
    pub dead_letters: u64,
}

/// What one database's workflows and deploy requests did, and what of them waits.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseDigest {
    /// The organization.
    pub organization: String,
    /// The database.
    pub database: String,
    /// Workflows and deploy requests that completed in the period.
    pub completed: Vec<DigestItem>,
    /// Workflows, deploy requests and their operations that failed in the period, with their
    /// errors.
    pub failed: Vec<DigestItem>,
    /// Workflows and deploy requests that wait for a person now.
    pub waiting: Vec<DigestItem>,
}

impl DatabaseDigest {
    /// Whether there is nothing to say of it.
    pub fn is_empty(&self) -> bool {
        self.completed.is_empty() && self.failed.is_empty() && self.waiting.is_empty()
    }
}

/// A workflow, deploy request or operation in a digest.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestItem {
    /// What it is, e.g. `workflow #3 move-customers`, `deploy request #7 table orders`.
    pub resource: String,
    /// Its state.
    pub state: String,
    /// When it reached that state (completed, failed), or since when it has been waiting;
    /// `None` when not known (it has waited since before pswatch's records of it).
    pub since: Option<OffsetDateTime>,
    /// Its error text, for a failure.
    pub errors: Option<String>,
    /// Its page in the PlanetScale dashboard.
    pub url: Option<String>,
}

impl Digest {
    /// How many completed, failed and waiting items it lists, over every database.
    pub fn counts(&self) -> (usize, usize, usize) {
        self.databases
            .iter()
            .fold((0, 0, 0), |(c, f, w), database| {
                (
                    c + database.completed.len(),
                    f + database.failed.len(),
                    w + database.waiting.len(),
                )
            })
    }

    /// Whether it has nothing to say: nothing completed, failed or waits, and no dead letter.
    pub fn is_empty(&self) -> bool {
        self.dead_letters == 0 && self.databases.iter().all(DatabaseDigest::is_empty)
    }
}
