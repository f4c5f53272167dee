//! The API budget at scale: 300 databases, 10 of them in motion, against the simulator for
//! a little over a minute. No 60-second window holds more requests than the budget, the
//! databases in motion are polled at their interval, and the service says that the idle ones
//! are stretched. Bounded: about 75 seconds.

mod support;

use std::time::{Duration, Instant};

use simulator::{SimWorkflow, Simulator, World};
use support::Service;

const DATABASES: usize = 300;
const IN_MOTION: usize = 10;
const BUDGET: usize = 480;

#[tokio::test(flavor = "multi_thread")]
async fn three_hundred_databases_stay_within_the_budget_and_the_active_ones_keep_their_interval() {
    let mut world = World::default();
    for index in 0..DATABASES {
        let database = world.database_mut("acme", &format!("db{index:03}"));
        // Copying moves on its own (a running workflow waits for a person, and is polled as
        // idle ones are).
        let state = if index < IN_MOTION {
            "copying"
        } else {
            "completed"
        };
        database
            .workflows
            .push(SimWorkflow::new(1, format!("move-{index}"), state));
    }
    let simulator = Simulator::start(world, Some("tok-id:tok".into()))
        .await
        .expect("simulator");
    let directory = tempfile::tempdir().expect("tempdir");
    let config = directory.path().join("pswatch.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[planetscale]
api_url = "{api}"
service_token_id = "tok-id"
service_token = "tok"
[state]
path = "{state}"
[poll]
interval = "30s"
active_interval = "5s"
[admin]
listen = "127.0.0.1:0"

[[watch]]
organization = "acme"
[[channels]]
name = "stdout"
type = "console"
[[routes]]
channels = ["stdout"]
"#,
            api = simulator.api_url(),
            state = directory.path().join("state").display(),
        ),
    )
    .expect("config");
    let started = Instant::now();
    let mut service = Service::start(&config, &[], directory.path());
    tokio::time::sleep(Duration::from_secs(72)).await;
    let stopped = service.terminate(Duration::from_secs(25)).await;
    assert!(
        stopped.is_some_and(|status| status.success()),
        "{}",
        service.stderr()
    );
    let log = simulator.request_log();

    // No 60-second window over more than the budget, the first minute included.
    let times: Vec<Duration> = log
        .iter()
        .map(|(at, _)| at.saturating_duration_since(started))
        .collect();
    let mut busiest = 0;
    for (index, start) in times.iter().enumerate() {
        let in_window = times[index..]
            .iter()
            .take_while(|at| **at < *start + Duration::from_secs(60))
            .count();
        busiest = busiest.max(in_window);
    }
    assert!(
        busiest <= BUDGET,
        "{busiest} requests in one minute; the budget is {BUDGET}"
    );
    assert!(
        busiest >= BUDGET * 8 / 10,
        "only {busiest} requests in the busiest minute: the budget is not used"
    );

    // The databases in motion: a poll (two requests) every 5 s, after their first poll.
    for index in 0..IN_MOTION {
        let name = format!("db{index:03}");
        let mut polls: Vec<Duration> = Vec::new();
        for (at, database) in &log {
            let at = at.saturating_duration_since(started);
            if *database == name
                && polls
                    .last()
                    .is_none_or(|last| at - *last > Duration::from_secs(1))
            {
                polls.push(at);
            }
        }
        let gaps: Vec<f64> = polls
            .windows(2)
            .map(|pair| (pair[1] - pair[0]).as_secs_f64())
            .collect();
        assert!(
            gaps.len() >= 10,
            "{name} was polled {} times: {polls:?}",
            polls.len()
        );
        let worst = gaps.iter().copied().fold(0.0, f64::max);
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        assert!(
            mean < 6.0 && worst < 8.0,
            "{name}: mean gap {mean:.2} s, worst {worst:.2} s: {gaps:?}"
        );
    }

    // The idle ones are stretched, and the service said so, once.
    let logs = service.stderr();
    let notes = logs
        .matches("the budget (planetscale.requests_per_minute) is 480")
        .count();
    assert_eq!(notes, 1, "{logs}");
    let idle_polled = (IN_MOTION..DATABASES)
        .filter(|index| {
            log.iter()
                .any(|(_, database)| *database == format!("db{index:03}"))
        })
        .count();
    eprintln!(
        "busiest minute: {busiest} requests (budget {BUDGET}); {} requests in {:.0} s; idle databases polled at least once: {idle_polled} of {}",
        log.len(),
        started.elapsed().as_secs_f64(),
        DATABASES - IN_MOTION
    );
}
