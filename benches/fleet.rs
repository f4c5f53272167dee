//! The fleet benchmark: pswatch against the simulator with N databases, next to a naive poller in
//! the same run. Reproduces the tables of BENCHMARKS.md:
//!
//!     cargo bench --bench fleet                      # N = 100, 500, 2000; an hour in 45 s each
//!     cargo bench --bench fleet -- --sizes 500 --scale 60 --seconds 60
//!     cargo bench --bench fleet -- --sizes 500 --slower-kinds   # with and without the slower kinds
//!
//! Time is scaled by `--scale` (default 80, with `--seconds` 45 a run): intervals and the
//! budget's window are divided by it, so an hour of watching takes 45 seconds, and every latency
//! is reported in unscaled time (measured × scale). PlanetScale's limit (600 requests a minute, scaled) is played by the
//! simulator, which answers 429 above it.
//!
//! Each database has an open deploy request that is not deploying. Ten are *active*: a
//! MoveTables workflow moves through its states at random moments; out of `pending` and
//! `copying` it moves on its own (*active* latency), out of `running` … `cutover` it waits for a
//! person, and pswatch polls it at `waiting_interval` (*waiting* latency). The others are *idle*;
//! now and then a workflow that already ran its course appears on one of them (so it stays
//! idle). Latency is measured from the simulator's change to the webhook's arrival (pswatch) or
//! to the naive poller noticing it (it delivers nothing).

mod common;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Router;
use common::{lock, percentile, serve_on_loopback, Options};
use serde_json::Value;
use simulator::{SimDeployRequest, SimWorkflow, Simulator, World};

const INTERVAL: f64 = 30.0;
const ACTIVE_INTERVAL: f64 = 5.0;
/// `[poll] slow_interval`'s default, in unscaled seconds.
const SLOW_INTERVAL: f64 = 300.0;
/// What the watch asks for with `--slower-kinds`.
const SLOWER_RESOURCES: &str = "resources = [\"workflows\", \"deploy_requests\", \"backups\", \"resizes\", \"maintenance\", \"schema_recommendations\"]\n";
const BUDGET: f64 = 480.0;
const PLANETSCALE_LIMIT: usize = 600;
const STATES: [&str; 7] = [
    "copying",
    "running",
    "switched_replicas",
    "switched_primaries",
    "cutover",
    "completed",
    "completed",
];

fn options() -> Options {
    Options::parse(Options {
        sizes: vec![100, 500, 2000],
        scale: 80.0,
        seconds: 45.0,
    })
}

/// What changed in the simulator, and when.
#[derive(Default)]
struct Changes {
    /// (database, workflow number, state) -> when it was set, and what kind of change it was.
    at: HashMap<(String, u64, String), (Instant, Kind)>,
}

/// Which latency a change counts towards.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Out of a state that moves on its own (`pending`, `copying`): the database is active.
    Active,
    /// Out of a state that waits for a person (`running` … `cutover`): polled at
    /// `waiting_interval`.
    Waiting,
    /// A new workflow on an idle database.
    Idle,
}

/// The state a workflow leaves when it takes step `step` of [`STATES`].
fn leaves(step: usize) -> &'static str {
    step.checked_sub(1)
        .map_or("pending", |previous| STATES[previous])
}

fn world(databases: usize) -> World {
    let mut world = World::default();
    for index in 0..databases {
        let database = world.database_mut("acme", &name(index));
        database
            .deploy_requests
            .push(SimDeployRequest::new(1, "ready").with_operation(
                &format!("op-{index}"),
                "orders",
                "pending",
            ));
        if is_active(index) {
            database.workflows.push(workflow(1, "pending"));
        }
    }
    world
}

fn name(index: usize) -> String {
    format!("db{index:04}")
}

/// How many databases have a workflow in motion, whatever N: their polls alone take half of
/// the default budget (10 × 2 requests every 5 s = 240 a minute).
const ACTIVE: usize = 10;

fn is_active(index: usize) -> bool {
    index < ACTIVE
}

fn workflow(number: u64, state: &str) -> SimWorkflow {
    SimWorkflow::new(number, format!("move-{number}"), state)
}

/// Plays random changes for `seconds`: active workflows step through their states, and new
/// workflows appear on idle databases.
async fn play(
    simulator: &Simulator,
    databases: usize,
    seconds: f64,
    scale: f64,
    changes: Arc<Mutex<Changes>>,
) {
    let mut random = fastrand::Rng::with_seed(databases as u64);
    let start = Instant::now();
    let mut steps: HashMap<usize, usize> = HashMap::new();
    let mut new_workflows = 0;
    // About one change per active database every 3 (unscaled) minutes, and one new workflow on
    // an idle database per (unscaled) minute for every 100 databases.
    let active = ACTIVE.min(databases);
    let changes_per_second = scale * (active as f64 / 180.0 + databases as f64 / 100.0 / 60.0);
    while start.elapsed().as_secs_f64() < seconds * 0.8 {
        let wait = -random.f64().max(1e-9).ln() / changes_per_second;
        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        let now = Instant::now();
        if random.f64()
            < active as f64 / 180.0 / (active as f64 / 180.0 + databases as f64 / 6000.0)
        {
            let index = random.usize(0..active);
            let step = steps.entry(index).or_default();
            let Some(state) = STATES.get(*step) else {
                continue;
            };
            *step += 1;
            simulator.update(|world| {
                if let Some(workflow) = world.database_mut("acme", &name(index)).workflow_mut(1) {
                    workflow.state = (*state).into();
                }
            });
            let kind = if matches!(leaves(*step - 1), "pending" | "copying") {
                Kind::Active
            } else {
                Kind::Waiting
            };
            // The last step repeats `completed`, which is no change: the first time counts.
            lock(&changes)
                .at
                .entry((name(index), 1, (*state).into()))
                .or_insert((now, kind));
        } else {
            let index = loop {
                let index = random.usize(0..databases);
                if !is_active(index) {
                    break index;
                }
            };
            new_workflows += 1;
            let number = 100 + new_workflows;
            simulator.update(|world| {
                world
                    .database_mut("acme", &name(index))
                    .workflows
                    // A workflow that ran its course between two polls: the database stays
                    // idle, so what is measured is how soon an idle database's change is seen.
                    .push(workflow(number, "completed"))
            });
            lock(&changes)
                .at
                .insert((name(index), number, "completed".into()), (now, Kind::Idle));
        }
    }
}

/// Detections: (database, workflow number, state, when noticed).
type Seen = Arc<Mutex<Vec<(String, u64, String, Instant)>>>;

async fn receive(State(seen): State<Seen>, body: Bytes) -> StatusCode {
    if let Ok(body) = serde_json::from_slice::<Value>(&body) {
        let data = &body["data"];
        if let (Some(database), Some(number), Some(state)) = (
            data["database"].as_str(),
            data["workflow"]["number"].as_u64(),
            data["state"].as_str(),
        ) {
            lock(&seen).push((
                database.to_owned(),
                number,
                state.to_owned(),
                Instant::now(),
            ));
        }
    }
    StatusCode::NO_CONTENT
}

async fn receiver(seen: Seen) -> String {
    serve_on_loopback(Router::new().fallback(receive).with_state(seen)).await
}

/// The naive poller: every database every `interval`, all deploy requests' operations every
/// time, no budget, no adaptive intervals; it notices changes by comparing states.
async fn naive(api: String, databases: usize, interval: Duration, seconds: f64, seen: Seen) {
    let client = reqwest::Client::new();
    let known: Arc<Mutex<HashMap<(String, u64), String>>> = Arc::default();
    let start = Instant::now();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(16));
    let mut round = 0u32;
    while start.elapsed().as_secs_f64() < seconds {
        let round_start = Instant::now();
        let mut polls = tokio::task::JoinSet::new();
        for index in 0..databases {
            let (client, api, known, seen, semaphore) = (
                client.clone(),
                api.clone(),
                Arc::clone(&known),
                Arc::clone(&seen),
                Arc::clone(&semaphore),
            );
            let first = round == 0;
            polls.spawn(async move {
                let _permit = semaphore.acquire_owned().await;
                let base = format!("{api}/organizations/acme/databases/{}", name(index));
                let get = |url: String| {
                    let client = client.clone();
                    async move {
                        let response = client
                            .get(url)
                            .header("authorization", "tok-id:tok")
                            .send()
                            .await
                            .ok()?;
                        response.json::<Value>().await.ok()
                    }
                };
                if let Some(page) = get(format!("{base}/workflows?per_page=100")).await {
                    for workflow in page["data"].as_array().into_iter().flatten() {
                        let (Some(number), Some(state)) =
                            (workflow["number"].as_u64(), workflow["state"].as_str())
                        else {
                            continue;
                        };
                        let previous = lock(&known).insert((name(index), number), state.to_owned());
                        if !first && previous.as_deref() != Some(state) {
                            lock(&seen).push((
                                name(index),
                                number,
                                state.to_owned(),
                                Instant::now(),
                            ));
                        }
                    }
                }
                if let Some(page) = get(format!("{base}/deploy-requests?per_page=100")).await {
                    for request in page["data"].as_array().into_iter().flatten() {
                        if let Some(number) = request["number"].as_u64() {
                            let _ = get(format!(
                                "{base}/deploy-requests/{number}/operations?per_page=100"
                            ))
                            .await;
                        }
                    }
                }
            });
        }
        while polls.join_next().await.is_some() {}
        round += 1;
        tokio::time::sleep(interval.saturating_sub(round_start.elapsed())).await;
    }
}

struct Figures {
    requests_per_minute: f64,
    /// Readings of the production branches' backups (one per database and reading).
    backup_readings: u64,
    busiest_minute: usize,
    rate_limited: u64,
    active: Vec<f64>,
    waiting: Vec<f64>,
    idle: Vec<f64>,
    peak_rss_mb: Option<f64>,
    cpu_seconds: Option<f64>,
}

/// Peak RSS (MB) and CPU seconds of a process, from /proc.
fn footprint(pid: u32) -> (Option<f64>, Option<f64>) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of /proc/PID/stat, in clock ticks (100 a second).
    let cpu = match (fields.get(11), fields.get(12)) {
        (Some(user), Some(system)) => Some(
            (user.parse::<f64>().unwrap_or(0.0) + system.parse::<f64>().unwrap_or(0.0)) / 100.0,
        ),
        _ => None,
    };
    (rss, cpu)
}

/// `--slower-kinds`: compare pswatch with pswatch also watching every database's backups,
/// resizes, maintenance schedules and schema recommendations (at `slow_interval`, 5 minutes
/// scaled), instead of with the naive poller.
fn slower_kinds() -> bool {
    std::env::args().any(|argument| argument == "--slower-kinds")
}

async fn run(databases: usize, options: &Options, use_pswatch: bool, slower: bool) -> Figures {
    let scale = options.scale;
    let simulator = Simulator::start(world(databases), Some("tok-id:tok".into()))
        .await
        .expect("simulator");
    let window = Duration::from_secs_f64(60.0 / scale);
    simulator.set_rate_limit(Some((PLANETSCALE_LIMIT, window)));
    let seen: Seen = Arc::default();
    let changes: Arc<Mutex<Changes>> = Arc::default();
    let directory = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let mut child = None;
    if use_pswatch {
        let url = receiver(Arc::clone(&seen)).await;
        let config = directory.path().join("pswatch.toml");
        std::fs::write(
            &config,
            format!(
                "[planetscale]\napi_url = \"{api}\"\nservice_token_id = \"tok-id\"\nservice_token = \"tok\"\nbudget_window = \"{window}ms\"\n\
                 [state]\npath = \"{state}\"\n[poll]\ninterval = \"{interval}ms\"\nactive_interval = \"{active}ms\"\nslow_interval = \"{slow}ms\"\n[admin]\nenabled = false\n\
                 [log]\nlevel = \"warn\"\n[[watch]]\norganization = \"acme\"\n{resources}\
                 [[channels]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"{url}/hook\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
                 [[routes]]\nchannels = [\"hook\"]\nevents = [\"workflow.*\"]\n",
                api = simulator.api_url(),
                window = window.as_millis(),
                state = directory.path().join("state").display(),
                interval = (INTERVAL * 1000.0 / scale).round(),
                active = (ACTIVE_INTERVAL * 1000.0 / scale).round(),
                slow = (SLOW_INTERVAL * 1000.0 / scale).round(),
                resources = if slower {
                    SLOWER_RESOURCES
                } else {
                    ""
                },
            ),
        )
        .expect("config");
        child = Some(
            Command::new(env!("CARGO_BIN_EXE_pswatch"))
                .args(["run", "-c"])
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start pswatch"),
        );
    } else {
        let api = simulator.api_url();
        let seen = Arc::clone(&seen);
        let seconds = options.seconds;
        tokio::spawn(naive(
            api,
            databases,
            Duration::from_secs_f64(INTERVAL / scale),
            seconds,
            seen,
        ));
    }
    // Let the first polls record their baselines before anything changes.
    tokio::time::sleep(Duration::from_secs_f64(options.seconds * 0.1)).await;
    play(
        &simulator,
        databases,
        options.seconds * 0.9,
        scale,
        Arc::clone(&changes),
    )
    .await;
    let left = Duration::from_secs_f64(options.seconds).saturating_sub(started.elapsed());
    tokio::time::sleep(left).await;
    let (peak_rss_mb, cpu_seconds) = child
        .as_ref()
        .map_or((None, None), |child| footprint(child.id()));
    if let Some(mut child) = child {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let _ = child.wait();
    }

    let elapsed = started.elapsed().as_secs_f64();
    let log = simulator.request_log();
    let times: Vec<f64> = log
        .iter()
        .map(|(at, _)| at.saturating_duration_since(started).as_secs_f64())
        .collect();
    let window_seconds = window.as_secs_f64();
    let mut busiest = 0;
    for (index, start) in times.iter().enumerate() {
        busiest = busiest.max(
            times[index..]
                .iter()
                .take_while(|at| **at < start + window_seconds)
                .count(),
        );
    }
    let changes = lock(&changes);
    let mut active = Vec::new();
    let mut waiting = Vec::new();
    let mut idle = Vec::new();
    let mut first_seen: HashMap<(String, u64, String), Instant> = HashMap::new();
    for (database, number, state, at) in lock(&seen).iter() {
        first_seen
            .entry((database.clone(), *number, state.clone()))
            .or_insert(*at);
    }
    for (key, noticed) in first_seen {
        if let Some((changed, kind)) = changes.at.get(&key) {
            let latency = noticed.saturating_duration_since(*changed).as_secs_f64() * scale;
            match kind {
                Kind::Active => active.push(latency),
                Kind::Waiting => waiting.push(latency),
                Kind::Idle => idle.push(latency),
            }
        }
    }
    Figures {
        requests_per_minute: log.len() as f64 / (elapsed / window_seconds),
        backup_readings: simulator.requests_to("backups"),
        busiest_minute: busiest,
        rate_limited: simulator.rate_limited(),
        active,
        waiting,
        idle,
        peak_rss_mb,
        cpu_seconds,
    }
}

#[tokio::main]
async fn main() {
    let options = options();
    println!(
        "fleet benchmark: scale {}x ({} s of wall time = {:.0} min watched per run), interval {INTERVAL} s, active_interval {ACTIVE_INTERVAL} s, budget {BUDGET} requests/min, PlanetScale limit {PLANETSCALE_LIMIT}/min",
        options.scale,
        options.seconds,
        options.seconds * options.scale / 60.0
    );
    println!();
    println!("| N | poller | requests/min (budget {BUDGET}) | busiest minute | 429s | active p50/p95/p99 (s) | waiting p50/p95/p99 (s) | idle p50/p95/p99 (s) | idle bound (s) | peak RSS (MB) | CPU (s) |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let slower = slower_kinds();
    let runs: [(bool, bool, &str); 2] = if slower {
        [
            (true, false, "pswatch"),
            (true, true, "pswatch + slower kinds"),
        ]
    } else {
        [(true, false, "pswatch"), (false, false, "naive")]
    };
    for &databases in &options.sizes {
        let mut rows = Vec::new();
        for (use_pswatch, with_slower, label) in runs {
            let figures = run(databases, &options, use_pswatch, with_slower).await;
            // Two requests a poll (workflows, deploy requests) against what the budget leaves
            // the idle databases after the active ones.
            let active = ACTIVE.min(databases) as f64;
            let idle_budget = BUDGET - active * 2.0 * 60.0 / ACTIVE_INTERVAL;
            let bound = (databases as f64 - active) * 2.0 * 60.0 / idle_budget.max(1.0);
            let cell = |values: &[f64]| {
                format!(
                    "{:.1} / {:.1} / {:.1} ({})",
                    percentile(values, 0.5),
                    percentile(values, 0.95),
                    percentile(values, 0.99),
                    values.len()
                )
            };
            println!(
                "| {databases} | {} | {:.0} | {} | {} | {} | {} | {} | {:.0} | {} | {} |",
                label,
                figures.requests_per_minute,
                figures.busiest_minute,
                figures.rate_limited,
                cell(&figures.active),
                cell(&figures.waiting),
                cell(&figures.idle),
                bound.max(INTERVAL),
                figures
                    .peak_rss_mb
                    .map_or("-".into(), |rss| format!("{rss:.1}")),
                figures
                    .cpu_seconds
                    .map_or("-".into(), |cpu| format!("{cpu:.1}")),
            );
            rows.push(figures);
        }
        if slower {
            // How often each database's slower kinds were read, against every slow_interval.
            let watched_minutes = options.seconds * options.scale / 60.0;
            println!(
                "| {databases} | slower kinds read | {} readings of backups: every {:.1} min a database (slow_interval {:.0} min) | | | | | | | | |",
                rows[1].backup_readings,
                watched_minutes * databases as f64 / rows[1].backup_readings.max(1) as f64,
                SLOW_INTERVAL / 60.0,
            );
            continue;
        }
        let (pswatch, naive) = (&rows[0], &rows[1]);
        println!(
            "| {databases} | naive ÷ pswatch | {:.2}x | | {} vs {} | {:.2}x (p50) | {:.2}x (p50) | {:.2}x (p50) | | | |",
            naive.requests_per_minute / pswatch.requests_per_minute,
            naive.rate_limited,
            pswatch.rate_limited,
            percentile(&naive.active, 0.5) / percentile(&pswatch.active, 0.5),
            percentile(&naive.waiting, 0.5) / percentile(&pswatch.waiting, 0.5),
            percentile(&naive.idle, 0.5) / percentile(&pswatch.idle, 0.5),
        );
    }
}
