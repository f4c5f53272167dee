//! A failing PlanetScale API never fakes events: for each fault, one database of two fails
//! while both change; the other is still watched and alerted, the failing one reports nothing,
//! its errors name it (or, when only its items cannot be read, they are set aside and its
//! remembered state kept), and once it recovers its change is reported from the state seen
//! before the fault.

mod support;

use std::time::Duration;

use serde_json::Value;
use simulator::{Fault, SimWorkflow, Simulator, World};
use support::fleet::Fleet;
use support::receiver::Receiver;
use support::{eventually, Service};

fn world() -> World {
    let mut world = World::default();
    for database in ["broken", "healthy"] {
        world
            .database_mut("acme", database)
            .workflows
            .push(SimWorkflow::new(1, format!("move-{database}"), "running"));
    }
    world
}

fn cut_over(simulator: &Simulator, database: &str) {
    simulator.update(|world| {
        world
            .database_mut("acme", database)
            .workflow_mut(1)
            .expect("workflow")
            .state = "cutover".into();
    });
}

/// `database previous->state` of each accepted webhook.
fn delivered(receiver: &Receiver) -> Vec<String> {
    receiver
        .accepted("/hooks")
        .iter()
        .map(|request| {
            let body: Value = serde_json::from_slice(&request.body).expect("json");
            format!(
                "{} {}->{}",
                body["data"]["database"].as_str().expect("database"),
                body["data"]["previous_state"].as_str().unwrap_or("null"),
                body["data"]["state"].as_str().expect("state")
            )
        })
        .collect()
}

/// What a fault does to the failing database's polls.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The poll fails, and is retried with backoff.
    PollFails,
    /// The response is read, but its items cannot be: they are set aside, the poll succeeds.
    ItemsSetAside,
}

impl Outcome {
    /// What a log line says for the failing database.
    fn says(self, line: &str) -> bool {
        line.contains("target_db=acme/broken")
            && match self {
                Self::PollFails => line.contains("poll failed"),
                Self::ItemsSetAside => line.contains("cannot be read"),
            }
    }
}

/// Waits until the service has logged what `outcome` says `times` times.
async fn service_logged(
    service: &Service,
    outcome: Outcome,
    times: usize,
    timeout: Duration,
) -> bool {
    eventually(timeout, || {
        let logged = service
            .stderr()
            .lines()
            .filter(|line| outcome.says(line))
            .count();
        std::future::ready((logged >= times).then_some(()))
    })
    .await
    .is_some()
}

async fn check(name: &'static str, fault: Fault, outcome: Outcome) {
    let fleet = Fleet::start(world()).await;
    let (simulator, receiver) = (&fleet.simulator, &fleet.receiver);
    let config = fleet.write(
        fleet
            .config("300ms")
            .set("planetscale.timeout", "1s")
            .watch("acme", &["broken", "healthy"]),
    );
    let service = Service::start(&config, &[], fleet.directory.path());
    for database in ["broken", "healthy"] {
        let line = format!("baseline recorded target_db=acme/{database}");
        assert!(
            service.wait_for_log(&line, Duration::from_secs(10)).await,
            "{name}: {}",
            service.stderr()
        );
    }

    simulator.set_fault("broken", Some(fault));
    let requests_before = simulator.requests_for("broken");
    cut_over(simulator, "broken");
    cut_over(simulator, "healthy");
    // A 429 pauses every request for a while (the rate limit is the organization's), so the
    // healthy database may wait for the pause to end.
    let healthy = receiver
        .wait_until(Duration::from_secs(30), |_| {
            delivered(receiver).contains(&"healthy running->cutover".to_string())
        })
        .await;
    assert!(
        healthy,
        "{name}: the healthy database was not alerted:\n{}",
        service.stderr()
    );
    // Let the faulty one fail twice: a timing-out poll takes its retries first. (How far apart
    // its polls are, the scheduler's tests pin.)
    let failed = service_logged(&service, outcome, 2, Duration::from_secs(30)).await;
    assert!(
        failed,
        "{name}: no failure logged for acme/broken:\n{}",
        service.stderr()
    );
    assert_eq!(
        delivered(receiver),
        ["healthy running->cutover"],
        "{name}: a failing poll emitted events"
    );
    let logs = service.stderr();
    let failures = logs.lines().filter(|line| outcome.says(line)).count();
    assert!(
        failures >= 1,
        "{name}: no failure logged for acme/broken:\n{logs}"
    );
    assert!(
        logs.contains("/organizations/acme/databases/broken/"),
        "{name}: the error does not name the resource:\n{logs}"
    );
    let requests = simulator.requests_for("broken") - requests_before;

    simulator.set_fault("broken", None);
    let recovered = receiver
        .wait_until(Duration::from_secs(30), |_| {
            delivered(receiver).contains(&"broken running->cutover".to_string())
        })
        .await;
    assert!(
        recovered,
        "{name}: no alert after recovery:\n{}",
        service.stderr()
    );
    assert_eq!(
        delivered(receiver).len(),
        2,
        "{name}: {:?}",
        delivered(receiver)
    );
    eprintln!("{name}: {failures} failed polls, {requests} requests to the failing database");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_api_never_fakes_events() {
    let status = |status: u16, retry_after: Option<&str>| Fault::Status {
        status,
        retry_after: retry_after.map(str::to_owned),
    };
    use Outcome::{ItemsSetAside, PollFails};
    let faults = [
        ("401", status(401, None), PollFails),
        ("403", status(403, None), PollFails),
        (
            "404 (database deleted or hidden)",
            status(404, None),
            PollFails,
        ),
        ("429 with Retry-After", status(429, Some("1")), PollFails),
        ("429 without Retry-After", status(429, None), PollFails),
        ("500", status(500, None), PollFails),
        ("502", status(502, None), PollFails),
        ("503", status(503, None), PollFails),
        ("timeout", Fault::Delay(Duration::from_secs(3)), PollFails),
        (
            "truncated body",
            Fault::Body(r#"{"type":"list","data":[{"id":"wf-1","number":1,"state":"runn"#.into()),
            PollFails,
        ),
        (
            "HTML instead of JSON",
            Fault::Body("<html><body>502 Bad Gateway</body></html>".into()),
            PollFails,
        ),
        (
            "wrong field types",
            Fault::Body(r#"{"type":"list","data":[{"id":1,"number":"one","state":5}]}"#.into()),
            ItemsSetAside,
        ),
        ("empty body", Fault::Body(String::new()), PollFails),
        ("pagination that never ends", Fault::EndlessPages, PollFails),
    ];
    // A few at a time: each runs a pswatch process, and a loaded machine makes timeouts lie.
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(4));
    let mut checks = tokio::task::JoinSet::new();
    for (name, fault, outcome) in faults {
        let permits = std::sync::Arc::clone(&permits);
        checks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore");
            check(name, fault, outcome).await;
        });
    }
    while let Some(result) = checks.join_next().await {
        if let Err(error) = result {
            std::panic::resume_unwind(error.into_panic());
        }
    }
}

/// Listing an organization's databases runs beside the polls: while one organization's list
/// takes half a minute, a database in motion elsewhere is polled and its change delivered.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_organization_listing_holds_up_no_poll() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(1, "move-orders", "running"));
    world.database_mut("slowpoke", "warehouse");
    let fleet = Fleet::start(world).await;
    let config = fleet.write(
        fleet
            .config("300ms")
            .set("planetscale.timeout", "60s")
            .watch("acme", &["commerce"])
            .watch("slowpoke", &[]),
    );
    let service = Service::start(&config, &[], fleet.directory.path());
    assert!(
        service
            .wait_for_log(
                "baseline recorded target_db=acme/commerce",
                Duration::from_secs(15)
            )
            .await,
        "{}",
        service.stderr()
    );
    // From now on the organization's list takes 30 s; a reload lists it again at once.
    fleet
        .simulator
        .set_listing_fault("slowpoke", Some(Fault::Delay(Duration::from_secs(30))));
    let reloaded = std::process::Command::new("kill")
        .args(["-HUP", &service.id().to_string()])
        .status()
        .expect("kill");
    assert!(reloaded.success());
    assert!(
        service
            .wait_for_log("configuration reloaded", Duration::from_secs(10))
            .await
    );
    cut_over(&fleet.simulator, "commerce");
    let delivered = eventually(Duration::from_secs(10), || {
        std::future::ready(
            fleet
                .deliveries()
                .into_iter()
                .find(|body| body["data"]["state"] == "cutover"),
        )
    })
    .await;
    assert!(
        delivered.is_some(),
        "the change waited for the listing: {}",
        service.stderr()
    );
}
