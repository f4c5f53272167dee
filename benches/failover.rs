//! Failover: two `pswatch run` replicas on a throwaway PostgreSQL, the leader killed with
//! SIGKILL ten times (a new replica started after each kill, so two are always up), a
//! transition made at each kill. For each kill: how long until the standby leads, and until the
//! transition is delivered. Reproduces the "failover" table of BENCHMARKS.md:
//!
//!     cargo bench --bench failover
//!     cargo bench --bench failover -- --kills 5 --lease 2s
//!
//! The replicas poll every 200 ms; the lease is 2 s unless `--lease` says otherwise.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Router;
use simulator::{SimWorkflow, Simulator, World};
use store::testing::TestDatabase;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const STATES: [&str; 2] = ["switched_primaries", "running"];

/// A replica, its log in a file.
struct Replica {
    child: Child,
    log: PathBuf,
}

impl Replica {
    fn start(config: &Path, name: &str, logs: &Path) -> Self {
        let log = logs.join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_pswatch"))
            .args(["run", "-c"])
            .arg(config)
            .env("PSWATCH_REPLICA", name)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("start pswatch run");
        Self { child, log }
    }

    fn leads(&self) -> bool {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .contains("this replica leads")
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Counts the webhook deliveries of workflow transitions, by the state they report.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<String>>>);

async fn receive(State(received): State<Received>, body: Bytes) -> StatusCode {
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(&body) {
        if body["type"] == "workflow.state_changed" {
            let state = body["data"]["state"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            common::lock(&received.0).push(state);
        }
    }
    StatusCode::NO_CONTENT
}

async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done() {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

#[tokio::main]
async fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let option = |name: &str| {
        arguments
            .iter()
            .position(|argument| argument == name)
            .and_then(|index| arguments.get(index + 1))
            .cloned()
    };
    let kills: usize = option("--kills")
        .and_then(|kills| kills.parse().ok())
        .unwrap_or(10);
    let lease = option("--lease").unwrap_or_else(|| "2s".into());
    let database = TestDatabase::start();
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "running"));
    let simulator = Simulator::start(world, Some("tok-id:tok".into()))
        .await
        .expect("simulator");
    let received = Received::default();
    let receiver =
        common::serve_on_loopback(Router::new().fallback(receive).with_state(received.clone()))
            .await;
    let directory = tempfile::tempdir().expect("tempdir");
    let config = directory.path().join("pswatch.toml");
    std::fs::write(
        &config,
        format!(
            "[planetscale]\napi_url = \"{api}\"\nservice_token_id = \"tok-id\"\nservice_token = \"tok\"\n\
             [state]\nurl = \"{url}\"\nschema = \"failover\"\nlease = \"{lease}\"\n\
             [poll]\ninterval = \"200ms\"\nactive_interval = \"200ms\"\nwaiting_interval = \"200ms\"\n\
             [admin]\nenabled = false\n\
             [[watch]]\norganization = \"acme\"\ndatabases = [\"commerce\"]\n\
             [[channels]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"{receiver}/hook\"\nsecret = \"{SECRET}\"\n\
             [[routes]]\nchannels = [\"hook\"]\n",
            api = simulator.api_url(),
            url = database.url(),
        ),
    )
    .expect("config");
    let logs = directory.path();
    let started = AtomicUsize::new(0);
    let start = || {
        let number = started.fetch_add(1, Ordering::Relaxed);
        Replica::start(&config, &format!("replica-{number}"), logs)
    };
    let mut replicas = vec![start(), start()];
    wait_until(Duration::from_secs(30), || {
        replicas.iter().any(Replica::leads)
    })
    .await
    .expect("a leader");
    // The baseline, then one transition delivered before the first kill.
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!("{kills} SIGKILLs of the leader, lease {lease}, polls every 200 ms");
    println!("| kill | standby leads after s | transition delivered after s |");
    println!("|---|---|---|");
    let (mut takeovers, mut deliveries) = (Vec::new(), Vec::new());
    for kill in 0..kills {
        let leader = replicas
            .iter()
            .position(|replica| replica.leads())
            .expect("a leader");
        let before = common::lock(&received.0).len();
        let killed_at = Instant::now();
        drop(replicas.remove(leader));
        let state = STATES[kill % 2];
        simulator.update(|world| {
            world
                .database_mut("acme", "commerce")
                .workflow_mut(3)
                .expect("workflow")
                .state = state.into();
        });
        replicas.push(start());
        // Either standby may take over: the one that was waiting or the one just started.
        let takeover = wait_until(Duration::from_secs(60), || {
            replicas.iter().any(Replica::leads)
        })
        .await
        .expect("a takeover");
        wait_until(Duration::from_secs(60), || {
            common::lock(&received.0).len() > before
        })
        .await
        .expect("the transition delivered");
        let delivered = killed_at.elapsed();
        takeovers.push(takeover.as_secs_f64());
        deliveries.push(delivered.as_secs_f64());
        println!(
            "| {} | {:.2} | {:.2} |",
            kill + 1,
            takeover.as_secs_f64(),
            delivered.as_secs_f64()
        );
        // Let the new standby settle before the next kill.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    takeovers.sort_by(f64::total_cmp);
    deliveries.sort_by(f64::total_cmp);
    println!(
        "| median | {:.2} | {:.2} |",
        common::percentile(&takeovers, 0.5),
        common::percentile(&deliveries, 0.5)
    );
    println!(
        "| worst | {:.2} | {:.2} |",
        takeovers.last().copied().unwrap_or_default(),
        deliveries.last().copied().unwrap_or_default()
    );
    let received = common::lock(&received.0).clone();
    let expected = kills;
    println!(
        "transitions delivered: {} for {expected} made ({} repeated)",
        received.len(),
        received.len().saturating_sub(expected)
    );
}
