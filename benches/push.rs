//! The push benchmark: the fleet with PlanetScale's webhooks pushing deploy request changes for
//! half of the databases, next to the same fleet without push. Reproduces the push table of
//! BENCHMARKS.md:
//!
//!     cargo bench --bench push                        # N = 200, 20 minutes watched in 60 s
//!     cargo bench --bench push -- --sizes 100,400 --scale 20 --seconds 60
//!
//! Time is scaled as in the fleet benchmark: intervals and the budget's window are divided by
//! `--scale`, and poll-bound latencies are reported unscaled (measured × scale). A push is not
//! scaled: PlanetScale's delivery, the receiver, the poll it causes and the webhook out run at
//! real speed, so the push latency is reported as measured.
//!
//! Every database has an open deploy request. Now and then one changes state; on a database
//! with push, the benchmark then posts PlanetScale's signed `deploy_request.*` delivery to
//! pswatch's receiver, as PlanetScale would. Now and then a finished workflow appears on a
//! database (workflows are never pushed). Latency is from the simulator's change to the
//! webhook's arrival.

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
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use simulator::{SimDeployRequest, SimWebhook, SimWorkflow, Simulator, World};

const INTERVAL: f64 = 30.0;
const ACTIVE_INTERVAL: f64 = 5.0;
const BUDGET: f64 = 480.0;
const PUBLIC_URL: &str = "https://pswatch.example.com/planetscale";
const SECRET: &str = "bench-webhook-secret";

fn options() -> Options {
    Options::parse(Options {
        sizes: vec![200],
        scale: 20.0,
        seconds: 60.0,
    })
}

fn name(index: usize) -> String {
    format!("db{index:04}")
}

fn pushes(index: usize) -> bool {
    index % 2 == 0
}

/// What changed, keyed by (database, what, state): when, and whether its database pushes.
type Changes = Arc<Mutex<HashMap<(String, String, String), (Instant, Kind)>>>;
/// What arrived at the webhook receiver: the same keys, when.
type Seen = Arc<Mutex<Vec<((String, String, String), Instant)>>>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A deploy request change on a database that pushes.
    Pushed,
    /// A deploy request change on a database that does not.
    Polled,
    /// A new (finished) workflow, never pushed.
    Workflow,
}

async fn receive(State(seen): State<Seen>, body: Bytes) -> StatusCode {
    if let Ok(body) = serde_json::from_slice::<Value>(&body) {
        let data = &body["data"];
        let what = match (
            data["workflow"]["number"].as_u64(),
            data["deploy_request"]["number"].as_u64(),
        ) {
            (Some(number), _) => format!("wf{number}"),
            (None, Some(number)) => format!("dr{number}"),
            _ => return StatusCode::NO_CONTENT,
        };
        if let (Some(database), Some(state)) = (data["database"].as_str(), data["state"].as_str()) {
            lock(&seen).push((
                (database.to_owned(), what, state.to_owned()),
                Instant::now(),
            ));
        }
    }
    StatusCode::NO_CONTENT
}

async fn webhook_receiver(seen: Seen) -> String {
    serve_on_loopback(Router::new().fallback(receive).with_state(seen)).await
}

/// PlanetScale's delivery about `database`'s deploy request, now in `state`, signed.
async fn deliver(client: &reqwest::Client, receiver: &str, database: &str, state: &str) {
    // The event's name matters little: any deploy_request.* delivery makes pswatch poll.
    let body = serde_json::to_vec(&json!({
        "timestamp": time::OffsetDateTime::now_utc().unix_timestamp(),
        "event": "deploy_request.opened",
        "organization": "acme",
        "database": database,
        "resource": {"number": 1, "deployment_state": state},
    }))
    .expect("json");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(&body);
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let _ = client
        .post(receiver)
        .header("X-PlanetScale-Signature", signature)
        .body(body)
        .send()
        .await;
}

struct Figures {
    requests_per_minute: f64,
    requests_per_poll: f64,
    pushed: Vec<f64>,
    polled: Vec<f64>,
    workflows: Vec<f64>,
}

async fn run(databases: usize, options: &Options, push: bool) -> Figures {
    let scale = options.scale;
    let mut world = World::default();
    for index in 0..databases {
        let database = world.database_mut("acme", &name(index));
        database
            .deploy_requests
            .push(SimDeployRequest::new(1, "ready"));
        if push && pushes(index) {
            let mut webhook = SimWebhook::new(PUBLIC_URL, SECRET, poller::DEPLOY_REQUEST_EVENTS);
            webhook.last_sent_success = Some(true);
            database.webhooks.push(webhook);
        }
    }
    let simulator = Simulator::start(world, Some("tok-id:tok".into()))
        .await
        .expect("simulator");
    let window = Duration::from_secs_f64(60.0 / scale);
    simulator.set_rate_limit(Some((600, window)));
    let seen: Seen = Arc::default();
    let changes: Changes = Arc::default();
    let url = webhook_receiver(Arc::clone(&seen)).await;
    let directory = tempfile::tempdir().expect("tempdir");
    let port = common::free_port();
    let receiver = if push {
        format!("[receiver]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"{PUBLIC_URL}\"\n")
    } else {
        String::new()
    };
    let config = directory.path().join("pswatch.toml");
    std::fs::write(
        &config,
        format!(
            "[planetscale]\napi_url = \"{api}\"\nservice_token_id = \"tok-id\"\nservice_token = \"tok\"\nbudget_window = \"{window}ms\"\n\
             [state]\npath = \"{state}\"\n[poll]\ninterval = \"{interval}ms\"\nactive_interval = \"{active}ms\"\n[admin]\nenabled = false\n\
             [log]\nlevel = \"warn\"\n{receiver}[[watch]]\norganization = \"acme\"\n\
             [[channels]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"{url}/hook\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
             [[routes]]\nchannels = [\"hook\"]\nevents = [\"workflow.*\", \"deploy_request.*\"]\n",
            api = simulator.api_url(),
            window = window.as_millis(),
            state = directory.path().join("state").display(),
            interval = (INTERVAL * 1000.0 / scale).round(),
            active = (ACTIVE_INTERVAL * 1000.0 / scale).round(),
        ),
    )
    .expect("config");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pswatch"))
        .args(["run", "-c"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pswatch");
    // Baselines first.
    tokio::time::sleep(Duration::from_secs_f64(options.seconds * 0.15)).await;
    let client = reqwest::Client::new();
    let receiver_url = format!("http://127.0.0.1:{port}/planetscale");
    let mut random = fastrand::Rng::with_seed(databases as u64);
    let mut workflows = 0u64;
    let mut states: HashMap<usize, &str> = HashMap::new();
    // One deploy request change per (unscaled) minute for every 20 databases, one new workflow
    // per minute for every 100.
    let per_second = scale * (databases as f64 / 20.0 + databases as f64 / 100.0) / 60.0;
    let play_until = options.seconds * 0.85;
    while started.elapsed().as_secs_f64() < play_until {
        let wait = -random.f64().max(1e-9).ln() / per_second;
        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        let index = random.usize(0..databases);
        let now = Instant::now();
        if random.f64() < 5.0 / 6.0 {
            // Between two states that do not deploy, so the database stays idle and what is
            // measured is how soon an idle database's deploy request change is seen.
            let state = match states.get(&index) {
                Some(&"no_changes") => "ready",
                _ => "no_changes",
            };
            states.insert(index, state);
            simulator.update(|world| {
                if let Some(request) = world
                    .database_mut("acme", &name(index))
                    .deploy_request_mut(1)
                {
                    request.deployment_state = state.into();
                }
            });
            let kind = if push && pushes(index) {
                Kind::Pushed
            } else {
                Kind::Polled
            };
            lock(&changes).insert((name(index), "dr1".into(), state.into()), (now, kind));
            if kind == Kind::Pushed {
                deliver(&client, &receiver_url, &name(index), state).await;
            }
        } else {
            workflows += 1;
            let number = 100 + workflows;
            simulator.update(|world| {
                world
                    .database_mut("acme", &name(index))
                    .workflows
                    .push(SimWorkflow::new(
                        number,
                        format!("move-{number}"),
                        "completed",
                    ));
            });
            lock(&changes).insert(
                (name(index), format!("wf{number}"), "completed".into()),
                (now, Kind::Workflow),
            );
        }
    }
    let left = Duration::from_secs_f64(options.seconds).saturating_sub(started.elapsed());
    tokio::time::sleep(left).await;
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();

    let elapsed = started.elapsed().as_secs_f64();
    let polls = simulator.requests_to("workflows").max(1) as f64;
    let requests = simulator.request_log().len() as f64;
    let mut first: HashMap<(String, String, String), Instant> = HashMap::new();
    for (key, at) in lock(&seen).iter() {
        first.entry(key.clone()).or_insert(*at);
    }
    let changes = lock(&changes);
    let (mut pushed, mut polled, mut new_workflows) = (Vec::new(), Vec::new(), Vec::new());
    for (key, noticed) in first {
        if let Some((changed, kind)) = changes.get(&key) {
            let latency = noticed.saturating_duration_since(*changed).as_secs_f64();
            match kind {
                Kind::Pushed => pushed.push(latency),
                Kind::Polled => polled.push(latency * scale),
                Kind::Workflow => new_workflows.push(latency * scale),
            }
        }
    }
    Figures {
        requests_per_minute: requests / (elapsed / window.as_secs_f64()),
        requests_per_poll: requests / polls,
        pushed,
        polled,
        workflows: new_workflows,
    }
}

#[tokio::main]
async fn main() {
    let options = options();
    println!(
        "push benchmark: scale {}x ({} s of wall time = {:.0} min watched per run), interval {INTERVAL} s, active_interval {ACTIVE_INTERVAL} s, budget {BUDGET} requests/min",
        options.scale,
        options.seconds,
        options.seconds * options.scale / 60.0
    );
    println!();
    println!("| N | push | requests/min | requests per poll | deploy request, pushed: p50 / p99 (s, real time) | deploy request, polled: p50 / p99 (s) | new workflow: p50 / p99 (s) | idle bound (s) |");
    println!("|---|---|---|---|---|---|---|---|");
    let cell = |values: &[f64]| {
        if values.is_empty() {
            "–".to_owned()
        } else {
            format!(
                "{:.2} / {:.2} ({})",
                percentile(values, 0.5),
                percentile(values, 0.99),
                values.len()
            )
        }
    };
    for &databases in &options.sizes {
        for push in [true, false] {
            let figures = run(databases, &options, push).await;
            let bound = (databases as f64 * 2.0 * 60.0 / BUDGET).max(INTERVAL);
            println!(
                "| {databases} | {} | {:.0} | {:.2} | {} | {} | {} | {bound:.0} |",
                if push {
                    "half of the databases"
                } else {
                    "none"
                },
                figures.requests_per_minute,
                figures.requests_per_poll,
                cell(&figures.pushed),
                cell(&figures.polled),
                cell(&figures.workflows),
            );
        }
    }
}
