//! The service's long-lived handles, made once and kept across reloads, each with one job; a
//! part is given only those it uses, so its signature says what it may touch:
//!
//! - [`Outbox`]: the one writer of deliveries, which wakes their workers;
//! - [`Board`]: what the admin server and the status page read (status, push, replicas,
//!   budgets, the admin token);
//! - [`store::Leadership`]: who does the leader's work;
//! - [`StoreHealth`]: whether the store writes;
//! - [`Metrics`];
//! - the [`Store`] itself, for what is read and the writes that are not deliveries.

use std::sync::Arc;

use store::{Leadership, Store};

use crate::config::Config;
use crate::service::board::{Board, FingerprintKey};
use crate::service::health::StoreHealth;
use crate::service::metrics::Metrics;
use crate::service::outbox::Outbox;

/// How long a statement, a connection or a wait for one may take in a PostgreSQL store.
const DATABASE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// The most connections one pswatch opens to a PostgreSQL store.
const DATABASE_POOL: usize = 8;

/// Opens the state store `config` names (its directory, or its PostgreSQL database): the one
/// way the service and the commands open it.
pub(crate) async fn open_store(config: &Config) -> anyhow::Result<Store> {
    use anyhow::Context as _;
    match &config.state_database {
        Some(database) => Store::connect(&store::PostgresOptions {
            url: database.url.expose().to_owned(),
            schema: database.schema.clone(),
            pool_size: DATABASE_POOL,
            timeout: DATABASE_TIMEOUT,
        })
        .await
        .with_context(|| format!("connecting to {}", config.state_description())),
        None => {
            Store::open(&config.state_path).context("opening the state store set by state.path")
        }
    }
}

/// Every long-lived handle: what the service and the commands that poll hold, to give each
/// part its own.
#[derive(Clone)]
pub(crate) struct Handles {
    pub(crate) store: Store,
    pub(crate) outbox: Outbox,
    pub(crate) board: Arc<Board>,
    pub(crate) leadership: Leadership,
    pub(crate) health: Arc<StoreHealth>,
    pub(crate) metrics: Arc<Metrics>,
}

impl Handles {
    /// The handles over `store`, the board showing `config`.
    pub(crate) async fn new(store: Store, config: &Config) -> anyhow::Result<Self> {
        let fingerprints = FingerprintKey::new(store.fingerprint_key().await?);
        let metrics = Arc::new(Metrics::new());
        let health = Arc::new(StoreHealth::new(
            metrics.store_writable.clone(),
            store.is_embedded(),
        ));
        let board = Arc::new(Board::new(fingerprints));
        board.show(config);
        Ok(Self {
            outbox: Outbox::new(store.clone()),
            leadership: store.leadership(),
            store,
            board,
            health,
            metrics,
        })
    }
}
