//! What the state metrics cost a scrape, against the simulator. Reproduces the "Scraping the
//! state metrics" section of BENCHMARKS.md:
//!
//!     cargo bench --bench scrape
//!
//! 25 databases with 50 deploy requests each deploying (two tables each): 1,250 resources. Once
//! pswatch has seen them all (its first polls are spread over `interval`, 30 s here), it is
//! scraped 200 times, once with `[metrics] max_resources = 0` (no state
//! metrics), once with the default 1,000 (250 left out and counted) and once with 2,000 (all of
//! them): the scrape's time (p50, p99), its size, its series, and pswatch's resident memory.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use simulator::{SimDeployRequest, Simulator, World};

const DATABASES: usize = 25;
const PER_DATABASE: u64 = 50;
const SCRAPES: usize = 200;

/// The resident memory of process `pid`, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

async fn run(simulator: &Simulator, max_resources: usize) {
    let directory = tempfile::tempdir().expect("tempdir");
    let port = common::free_port();
    let config = directory.path().join("pswatch.toml");
    let databases: Vec<String> = (0..DATABASES)
        .map(|index| format!("\"db{index}\""))
        .collect();
    std::fs::write(
        &config,
        format!(
            "[planetscale]\napi_url = \"{api}\"\nservice_token_id = \"tok-id\"\nservice_token = \"tok\"\n\
             [poll]\ninterval = \"30s\"\nactive_interval = \"30s\"\nwaiting_interval = \"30s\"\n\
             [state]\npath = \"{state}\"\n\
             [admin]\nlisten = \"127.0.0.1:{port}\"\n\
             [metrics]\nmax_resources = {max_resources}\n\
             [[watch]]\norganization = \"acme\"\ndatabases = [{databases}]\n\
             [[channels]]\nname = \"null\"\ntype = \"console\"\n[[routes]]\nchannels = [\"null\"]\n",
            api = simulator.api_url(),
            state = directory.path().join("state").display(),
            databases = databases.join(", "),
        ),
    )
    .expect("config");
    let mut service = Command::new(env!("CARGO_BIN_EXE_pswatch"))
        .args(["run", "-c"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(directory.path().join("pswatch.log")).expect("log"))
        .spawn()
        .expect("pswatch run");
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/metrics");
    let total = DATABASES as u64 * PER_DATABASE;
    let shown = total.min(max_resources as u64);
    // Every resource seen: shown or counted as left out.
    let started = Instant::now();
    let mut text;
    loop {
        text = String::new();
        if let Ok(response) = client.get(&url).send().await {
            text = response.text().await.unwrap_or_default();
            let resources = text
                .lines()
                .filter(|line| line.starts_with("pswatch_resource_state_since_timestamp_seconds{"))
                .count() as u64;
            let dropped: u64 = text
                .lines()
                .find_map(|line| line.strip_prefix("pswatch_metrics_resources_dropped "))
                .and_then(|count| count.parse().ok())
                .unwrap_or(0);
            if resources == shown && resources + dropped == total {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "pswatch did not see every resource in 5 minutes: {}\n{}",
            text.lines()
                .filter(|line| line.starts_with("pswatch_metrics_resources_dropped"))
                .collect::<String>(),
            std::fs::read_to_string(directory.path().join("pswatch.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let seen_after = started.elapsed();
    let mut times = Vec::with_capacity(SCRAPES);
    let mut bytes = 0;
    for _ in 0..SCRAPES {
        let start = Instant::now();
        let body = client
            .get(&url)
            .send()
            .await
            .expect("scrape")
            .bytes()
            .await
            .expect("body");
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        bytes = body.len();
    }
    let series = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .count();
    let dropped = text
        .lines()
        .find_map(|line| line.strip_prefix("pswatch_metrics_resources_dropped "))
        .unwrap_or("?")
        .to_owned();
    println!(
        "max_resources {max_resources:>5}: shown {shown:>5}, dropped {dropped:>4}, {series:>5} series, {:>7.1} KiB, scrape p50 {:.2} ms p99 {:.2} ms, RSS {:.1} MiB (all seen after {:.0} s)",
        bytes as f64 / 1024.0,
        common::percentile(&times, 0.50),
        common::percentile(&times, 0.99),
        rss_mib(service.id()),
        seen_after.as_secs_f64(),
    );
    let _ = service.kill();
    let _ = service.wait();
}

#[tokio::main]
async fn main() {
    let mut world = World::default();
    for index in 0..DATABASES {
        let database = world.database_mut("acme", &format!("db{index}"));
        for number in 1..=PER_DATABASE {
            database.deploy_requests.push(
                SimDeployRequest::new(number, "in_progress")
                    .with_operation(&format!("op-{number}-a"), "orders", "in_progress")
                    .with_operation(&format!("op-{number}-b"), "customers", "pending"),
            );
        }
    }
    let simulator = Simulator::start(world, Some("tok-id:tok".into()))
        .await
        .expect("simulator");
    for max_resources in [0, 1_000, 2_000] {
        run(&simulator, max_resources).await;
    }
}
