//! Draining an outbox backlog: N pending deliveries for one webhook channel, sent by
//! `pswatch once` to a local receiver. Reproduces the "draining a backlog" table of
//! BENCHMARKS.md:
//!
//!     cargo bench --bench drain
//!     cargo bench --bench drain -- --sizes 1000,5000
//!     cargo bench --bench drain -- --store postgres   (a throwaway PostgreSQL server)
//!
//! The backlog is written straight into a state directory with the `store` crate (as a receiver
//! that was down for a while leaves it), then `pswatch once` delivers every due entry. Each
//! delivery is one signed POST, and the entries the receiver took are removed from the store in
//! batches of up to 32, so the time per entry
//! should not grow with the backlog.

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Router;
use diff_engine::{Event, EventKind, Severity, Target, TargetState, Workflow, WorkflowState};
use simulator::{Simulator, World};
use store::testing::TestDatabase;
use store::{NewDelivery, Store};
use time::OffsetDateTime;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn event(number: usize) -> Event {
    let workflow = Workflow {
        id: format!("wf-{number}"),
        number: number as u64,
        name: format!("move-{number}"),
        state: WorkflowState::Cutover,
        workflow_errors: None,
        source_keyspace: Some("commerce".into()),
        target_keyspace: Some("customers".into()),
        branch: Some("main".into()),
        actor: Some("Ada Lovelace".into()),
        actor_id: None,
        cutover_by: None,
        updated_at: None,
        times: diff_engine::WorkflowTimes::default(),
    };
    Event {
        id: format!("evt_{number:032x}"),
        kind: EventKind::WorkflowStateChanged {
            previous_state: Some(WorkflowState::SwitchedPrimaries),
            state: WorkflowState::Cutover,
            workflow,
        },
        organization: "acme".into(),
        database: "commerce".into(),
        severity: Severity::Info,
        observed_at: OffsetDateTime::now_utc(),
    }
}

/// Writes `entries` pending deliveries for channel `hook`, a hundred a poll.
async fn backlog(store: &Store, entries: usize) {
    let target = Target::new("acme", "commerce");
    let mut written = 0;
    while written < entries {
        let deliveries: Vec<NewDelivery> = (written..entries.min(written + 100))
            .map(|number| NewDelivery {
                channel: "hook".into(),
                event: event(number),
            })
            .collect();
        written += deliveries.len();
        store
            .commit_poll(
                &target,
                &TargetState::default(),
                deliveries,
                OffsetDateTime::now_utc(),
            )
            .await
            .expect("commit");
    }
    store.flush().await.expect("flush");
}

async fn receive(State(received): State<Arc<AtomicU64>>) -> StatusCode {
    received.fetch_add(1, Ordering::Relaxed);
    StatusCode::NO_CONTENT
}

/// Seconds `pswatch once` took to deliver a backlog of `entries`, and how many arrived, with the
/// store in a directory or, given `database`, in PostgreSQL.
async fn drain(entries: usize, database: Option<&TestDatabase>) -> (f64, u64) {
    let mut world = World::default();
    world.database_mut("acme", "commerce");
    let simulator = Simulator::start(world, Some("tok-id:tok".into()))
        .await
        .expect("simulator");
    let received = Arc::new(AtomicU64::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let receiver = format!("http://{}", listener.local_addr().expect("address"));
    let app = Router::new()
        .fallback(receive)
        .with_state(Arc::clone(&received));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let directory = tempfile::tempdir().expect("tempdir");
    let state_path = directory.path().join("state");
    let state = match database {
        Some(database) => {
            let schema = format!("drain_{entries}");
            let store = Store::connect(&database.options(&schema))
                .await
                .expect("connect");
            backlog(&store, entries).await;
            format!("url = \"{}\"\nschema = \"{schema}\"", database.url())
        }
        None => {
            let store = Store::open(&state_path).expect("open the store");
            backlog(&store, entries).await;
            format!("path = \"{}\"", state_path.display())
        }
    };
    let config = directory.path().join("pswatch.toml");
    std::fs::write(
        &config,
        format!(
            "[planetscale]\napi_url = \"{api}\"\nservice_token_id = \"tok-id\"\nservice_token = \"tok\"\n\
             [state]\n{state}\n[log]\nlevel = \"warn\"\n\
             [[watch]]\norganization = \"acme\"\ndatabases = [\"commerce\"]\n\
             [[channels]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"{receiver}/hook\"\nsecret = \"{SECRET}\"\n\
             [[routes]]\nchannels = [\"hook\"]\n",
            api = simulator.api_url(),
        ),
    )
    .expect("config");
    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_pswatch"))
            .args(["once", "-c"])
            .arg(&config)
            .output()
            .expect("run pswatch once")
    })
    .await
    .expect("join");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (seconds, received.load(Ordering::Relaxed))
}

#[tokio::main]
async fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> = arguments
        .iter()
        .position(|argument| argument == "--sizes")
        .and_then(|index| arguments.get(index + 1))
        .map_or_else(
            || vec![1_000, 5_000, 20_000],
            |sizes| {
                sizes
                    .split(',')
                    .filter_map(|size| size.parse().ok())
                    .collect()
            },
        );
    let postgres = arguments
        .iter()
        .position(|argument| argument == "--store")
        .and_then(|index| arguments.get(index + 1))
        .is_some_and(|store| store == "postgres");
    let database = postgres.then(TestDatabase::start);
    println!("store: {}", if postgres { "PostgreSQL" } else { "sled" });
    println!("| pending entries | delivered | seconds | entries/s | ms per entry |");
    println!("|---|---|---|---|---|");
    for entries in sizes {
        let (seconds, delivered) = drain(entries, database.as_ref()).await;
        println!(
            "| {entries} | {delivered} | {seconds:.1} | {:.0} | {:.2} |",
            delivered as f64 / seconds,
            seconds * 1000.0 / delivered.max(1) as f64
        );
    }
}
