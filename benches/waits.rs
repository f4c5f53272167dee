//! CI waiting on pswatch, against the simulator. Reproduces the "Waiting on pswatch" section of
//! BENCHMARKS.md:
//!
//!     cargo bench --bench waits
//!
//! One database with 20 deploy requests deploying is watched by a running pswatch (active
//! polls every 500 ms). The requests PlanetScale sees are counted for 20 s with nobody waiting,
//! then for 20 s with 20 `pswatch wait` processes waiting on the 20 deploy requests. Then 100
//! times one of 19 deploy requests moves to its next state (the 20th stays deploying, so the
//! database stays active) while a wait for that state is under way:
//! how long after the poll that saw the state the wait answered (the answer's `observed_at`,
//! the poll's time, to the answer's arrival).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use simulator::{SimDeployRequest, Simulator, World};
use time::OffsetDateTime;

const REQUESTS: u64 = 20;
const WINDOW: Duration = Duration::from_secs(20);
const TRANSITIONS: usize = 100;
const ADMIN: &str = "admin-token-for-the-benchmark-0123456789";
const READ: &str = "read-token-for-the-benchmark-0123456789";

#[tokio::main]
async fn main() {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    for number in 1..=REQUESTS {
        database
            .deploy_requests
            .push(SimDeployRequest::new(number, "in_progress").with_operation(
                &format!("op-{number}"),
                "orders",
                "in_progress",
            ));
    }
    let simulator = Simulator::start(world, Some("tok-id:tok".into()))
        .await
        .expect("simulator");
    let directory = tempfile::tempdir().expect("tempdir");
    let port = common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = directory.path().join("pswatch.toml");
    std::fs::write(
        &config,
        format!(
            "[planetscale]\napi_url = \"{api}\"\nservice_token_id = \"tok-id\"\nservice_token = \"tok\"\n\
             [poll]\ninterval = \"10m\"\nactive_interval = \"500ms\"\nwaiting_interval = \"10m\"\n\
             [state]\npath = \"{state}\"\n\
             [admin]\nlisten = \"127.0.0.1:{port}\"\ntoken = \"{ADMIN}\"\nread_tokens = [\"{READ}\"]\n\
             [[watch]]\norganization = \"acme\"\ndatabases = [\"commerce\"]\n\
             [[channels]]\nname = \"null\"\ntype = \"console\"\n[[routes]]\nchannels = [\"null\"]\n",
            api = simulator.api_url(),
            state = directory.path().join("state").display(),
        ),
    )
    .expect("config");
    let pswatch = env!("CARGO_BIN_EXE_pswatch");
    let mut service = Command::new(pswatch)
        .args(["run", "-c"])
        .arg(&config)
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pswatch run");
    let client = reqwest::Client::new();
    let first = format!("{base}/api/deploy-requests/acme/commerce/1");
    for _ in 0..100 {
        let answered = client.get(&first).bearer_auth(READ).send().await;
        if answered.is_ok_and(|response| response.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let before = simulator.requests();
    tokio::time::sleep(WINDOW).await;
    let alone = simulator.requests() - before;
    let waiters: Vec<Child> = (1..=REQUESTS)
        .map(|number| {
            Command::new(pswatch)
                .args([
                    "wait",
                    "acme/commerce",
                    "deploy-request",
                    &number.to_string(),
                ])
                .args(["--until", "complete", "--timeout", "5m", "--url", &base])
                .env("PSWATCH_TOKEN", READ)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("pswatch wait")
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = simulator.requests();
    tokio::time::sleep(WINDOW).await;
    let waited = simulator.requests() - before;
    for mut waiter in waiters {
        let _ = waiter.kill();
        let _ = waiter.wait();
    }

    // Each transition: a wait for the next state, under way before the state comes.
    let states = [
        "pending_cutover",
        "in_progress_cutover",
        "complete_pending_revert",
        "complete",
    ];
    let mut latencies = Vec::new();
    // Deploy request #20 stays deploying, so that the database stays active (polled every
    // 500 ms) whatever the others wait for; the others move.
    let moving = REQUESTS - 1;
    for round in 0..TRANSITIONS {
        let number = (round as u64 % moving) + 1;
        let state = states[round / moving as usize % states.len()];
        let url =
            format!("{base}/api/deploy-requests/acme/commerce/{number}?until={state}&timeout=60s");
        let waiting = tokio::spawn({
            let (client, url) = (client.clone(), url.clone());
            async move {
                let answer: serde_json::Value = client
                    .get(&url)
                    .bearer_auth(READ)
                    .send()
                    .await
                    .expect("answered")
                    .json()
                    .await
                    .expect("json");
                (OffsetDateTime::now_utc(), answer)
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        simulator.update(|world| {
            world
                .database_mut("acme", "commerce")
                .deploy_request_mut(number)
                .expect("deploy request")
                .deployment_state = state.into();
        });
        let (answered, answer) = waiting.await.expect("join");
        assert_eq!(answer["reached"], true, "round {round}: {answer}");
        let observed = OffsetDateTime::parse(
            answer["observed_at"].as_str().expect("observed_at"),
            &time::format_description::well_known::Rfc3339,
        )
        .expect("rfc3339");
        latencies.push((answered - observed).as_seconds_f64() * 1000.0);
    }
    let _ = service.kill();
    let _ = service.wait();

    println!("requests PlanetScale saw in {} s:", WINDOW.as_secs());
    println!();
    println!("| waiting | requests | requests/min |");
    println!("|---|---|---|");
    let per_minute = |count: u64| count as f64 * 60.0 / WINDOW.as_secs_f64();
    println!("| nobody | {alone} | {:.0} |", per_minute(alone));
    println!(
        "| 20 `pswatch wait` processes | {waited} | {:.0} |",
        per_minute(waited)
    );
    println!();
    println!(
        "{TRANSITIONS} waits, from the poll that saw the state to the answer: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        common::percentile(&latencies, 0.50),
        common::percentile(&latencies, 0.99),
        latencies.iter().copied().fold(0.0, f64::max),
    );
}
