//! The API budget at scale: 300 databases, 10 of them in motion, against the simulator, with
//! time scaled tenfold (`budget_window = "6s"` stands for the minute, the intervals a tenth of
//! their defaults). No window holds more requests than the budget, the databases in motion are
//! served before the idle ones, and the service says that the idle ones are stretched. How soon
//! each kind of change is seen is measured by the fleet benchmark, not here. Bounded: about
//! ten seconds.

mod support;

use std::time::{Duration, Instant};

use simulator::{SimWorkflow, Simulator, World};
use support::config::ConfigBuilder;
use support::Service;

const DATABASES: usize = 300;
const IN_MOTION: usize = 10;
const BUDGET: usize = 480;
/// The budget's window: a minute, scaled.
const WINDOW: Duration = Duration::from_secs(6);

#[tokio::test(flavor = "multi_thread")]
async fn three_hundred_databases_stay_within_the_budget_and_the_active_ones_go_first() {
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
    let config = ConfigBuilder::new(&simulator.api_url(), &directory.path().join("state"))
        .set("planetscale.budget_window", "6s")
        .set("poll.interval", "3s")
        .set("poll.active_interval", "500ms")
        .watch("acme", &[])
        .channel("stdout", "console", &[])
        .route(&["stdout"])
        .write(&directory.path().join("pswatch.toml"));
    let started = Instant::now();
    let mut service = Service::start(&config, &[], directory.path());
    // A window and a quarter.
    tokio::time::sleep(Duration::from_millis(7_500)).await;
    let stopped = service.terminate(Duration::from_secs(25)).await;
    assert!(
        stopped.is_some_and(|status| status.success()),
        "{}",
        service.stderr()
    );
    let log = simulator.request_log();

    // No window over more than the budget, the first one included.
    let times: Vec<Duration> = log
        .iter()
        .map(|(at, _)| at.saturating_duration_since(started))
        .collect();
    let mut busiest = 0;
    for (index, start) in times.iter().enumerate() {
        let in_window = times[index..]
            .iter()
            .take_while(|at| **at < *start + WINDOW)
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

    // The databases in motion are served first: each was polled more often than any idle one.
    let polls_of = |index: usize| {
        let name = format!("db{index:03}");
        log.iter().filter(|(_, database)| *database == name).count() / 2
    };
    let fewest_active = (0..IN_MOTION).map(polls_of).min().unwrap_or(0);
    let most_idle = (IN_MOTION..DATABASES).map(polls_of).max().unwrap_or(0);
    assert!(
        fewest_active > most_idle,
        "an active database was polled {fewest_active} times, an idle one {most_idle}"
    );
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
