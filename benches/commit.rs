//! The latency of a poll's commit (the next state and two outbox entries, written and made
//! durable together), sled next to PostgreSQL on loopback, and of completing a delivered entry.
//! Reproduces the "committing a poll" table of BENCHMARKS.md:
//!
//!     cargo bench --bench commit
//!     cargo bench --bench commit -- --commits 5000
//!
//! PostgreSQL is a throwaway server (`store::testing::TestDatabase`, with `fsync` off like
//! every test server: the numbers are the client's and the server's work, not the disk's), or
//! `PSWATCH_TEST_DATABASE_URL`.

use std::time::{Duration, Instant};

use diff_engine::testing::{workflow, workflow_state_changed};
use diff_engine::{Target, TargetState, WorkflowState};
use store::testing::TestDatabase;
use store::{NewDelivery, Store};
use time::OffsetDateTime;

fn deliveries(round: usize) -> Vec<NewDelivery> {
    ["slack", "hook"]
        .iter()
        .map(|channel| NewDelivery {
            channel: (*channel).into(),
            event: workflow_state_changed(
                Some(WorkflowState::Running),
                workflow(3).state(WorkflowState::Cutover).build(),
            )
            .id(format!("evt_{round:08}_{channel}"))
            .build(),
        })
        .collect()
}

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// The commit and completion latencies of `commits` rounds on `store`.
async fn measure(store: &Store, commits: usize) -> (Vec<Duration>, Vec<Duration>) {
    let target = Target::new("acme", "commerce");
    let state = TargetState::default();
    let (mut commit, mut complete) = (Vec::new(), Vec::new());
    for round in 0..commits {
        let started = Instant::now();
        let entries = store
            .commit_poll(
                &target,
                &state,
                deliveries(round),
                OffsetDateTime::now_utc(),
            )
            .await
            .expect("commit");
        commit.push(started.elapsed());
        let started = Instant::now();
        store
            .complete("slack", &[entries[0].id])
            .await
            .expect("complete");
        complete.push(started.elapsed());
        store
            .complete("hook", &[entries[1].id])
            .await
            .expect("complete");
    }
    commit.sort();
    complete.sort();
    (commit, complete)
}

#[tokio::main]
async fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let commits: usize = arguments
        .iter()
        .position(|argument| argument == "--commits")
        .and_then(|index| arguments.get(index + 1))
        .and_then(|count| count.parse().ok())
        .unwrap_or(2_000);
    let directory = tempfile::tempdir().expect("tempdir");
    let sled = Store::open(&directory.path().join("state")).expect("open");
    let database = TestDatabase::start();
    let postgres = Store::connect(&database.options("commit"))
        .await
        .expect("connect");
    println!("{commits} commits of a state and two outbox entries, each then completed");
    println!("| store | commit p50 ms | commit p99 ms | complete p50 ms | complete p99 ms |");
    println!("|---|---|---|---|---|");
    for (name, store) in [("sled", &sled), ("PostgreSQL", &postgres)] {
        let (commit, complete) = measure(store, commits).await;
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {:.2} |",
            percentile(&commit, 0.5),
            percentile(&commit, 0.99),
            percentile(&complete, 0.5),
            percentile(&complete, 0.99)
        );
    }
}
