//! What most end-to-end tests start from: a simulated PlanetScale organization, a webhook
//! receiver, a temporary directory for the state and the configuration, and a configuration
//! that polls fast and delivers every event to the receiver.

use std::path::PathBuf;

use serde_json::Value;
use simulator::{Simulator, World};

use super::config::ConfigBuilder;
use super::receiver::Receiver;

/// The path the receiver takes webhook deliveries on.
pub const HOOKS: &str = "/hooks";

/// A simulator serving a world, a receiver and a temporary directory, alive as long as this.
pub struct Fleet {
    pub simulator: Simulator,
    pub receiver: Receiver,
    pub directory: tempfile::TempDir,
}

impl Fleet {
    /// Starts the simulator on `world` (service token `tok-id:tok`, as [`ConfigBuilder`]
    /// configures) and the receiver.
    pub async fn start(world: World) -> Self {
        let simulator = Simulator::start(world, Some("tok-id:tok".into()))
            .await
            .expect("simulator");
        Self {
            simulator,
            receiver: Receiver::start().await,
            directory: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// A configuration against the simulator, its state in the directory, polling every
    /// `interval` (idle, active and waiting), every event going to webhook channel `audit` at
    /// the receiver's [`HOOKS`]. It watches nothing yet.
    pub fn config(&self, interval: &str) -> ConfigBuilder {
        ConfigBuilder::new(&self.simulator.api_url(), &self.state())
            .set("poll.interval", interval)
            .set("poll.active_interval", interval)
            .set("poll.waiting_interval", interval)
            .webhook("audit", &format!("{}{HOOKS}", self.receiver.url))
            .route(&["audit"])
    }

    /// Writes `config` to `pswatch.toml` in the directory and gives its path.
    pub fn write(&self, config: ConfigBuilder) -> PathBuf {
        config.write(&self.directory.path().join("pswatch.toml"))
    }

    /// The state directory the configuration names.
    pub fn state(&self) -> PathBuf {
        self.directory.path().join("state")
    }

    /// The webhook bodies the receiver accepted, as JSON, oldest first.
    pub fn deliveries(&self) -> Vec<Value> {
        self.receiver
            .accepted(HOOKS)
            .iter()
            .map(|request| serde_json::from_slice(&request.body).expect("a JSON body"))
            .collect()
    }

    /// The webhook bodies of event type `kind` the receiver accepted, oldest first.
    pub fn deliveries_of(&self, kind: &str) -> Vec<Value> {
        self.deliveries()
            .into_iter()
            .filter(|body| body["type"] == kind)
            .collect()
    }

    /// Waits (up to 30 s) until the receiver has accepted `count` bodies of event type `kind`,
    /// and gives those it has; fails the test, naming what is missing, when they do not come.
    pub async fn wait_for(&self, kind: &str, count: usize) -> Vec<Value> {
        let arrived = super::eventually(std::time::Duration::from_secs(30), || {
            let of_kind = self.deliveries_of(kind);
            std::future::ready((of_kind.len() >= count).then_some(of_kind))
        })
        .await;
        arrived.unwrap_or_else(|| {
            panic!(
                "{count} {kind} not delivered in 30 s; delivered: {:#?}",
                self.deliveries()
            )
        })
    }
}

/// A loopback port nothing listens on now, for a server a test must name in its configuration
/// before it starts (the CLI finds the admin server through it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port()
}
