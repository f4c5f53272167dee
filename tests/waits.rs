//! CI waits on pswatch: the admin API answers a watched deploy request or workflow as pswatch
//! last saw it, asks for a poll of what it has not seen yet, and waits for a state.

mod support;

use std::time::Duration;

use serde_json::Value;
use simulator::{SimDeployRequest, SimWorkflow, World};
use support::fleet::Fleet;
use support::Service;

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(90))
        .send()
        .await
        .expect("request");
    (
        response.status().as_u16(),
        response.text().await.expect("body"),
    )
}

async fn json(url: &str) -> Value {
    let (status, body) = get(url).await;
    assert_eq!(status, 200, "{url}: {body}");
    serde_json::from_str(&body).expect("json")
}

/// The admin server's base URL, from the service's log.
async fn admin_base(service: &mut Service) -> String {
    assert!(
        service
            .wait_for_log("admin server listening", Duration::from_secs(10))
            .await,
        "{}",
        service.stderr()
    );
    let address = service
        .stderr()
        .lines()
        .find(|line| line.contains("admin server listening"))
        .and_then(|line| line.split("address=").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("address")
        .to_owned();
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_and_waits_answer_from_what_pswatch_saw() {
    let mut world = World::default();
    let commerce = world.database_mut("acme", "commerce");
    commerce
        .deploy_requests
        .push(SimDeployRequest::new(7, "in_progress").with_operation(
            "op-1",
            "orders",
            "in_progress",
        ));
    commerce
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "running"));
    world.database_mut("acme", "users");
    let fleet = Fleet::start(world).await;
    // What moves is polled every half second; the rest every ten minutes, so that what a read
    // of an idle database sees comes from the poll it asks for.
    let config = fleet.write(
        fleet
            .config("10m")
            .set("poll.active_interval", "500ms")
            .watch("acme", &["commerce", "users"]),
    );
    let mut service = Service::start(&config, &[], fleet.directory.path());
    let base = admin_base(&mut service).await;
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
    let request = format!("{base}/api/deploy-requests/acme/commerce/7");
    let seen = support::eventually(Duration::from_secs(10), || async {
        let (status, body) = get(&request).await;
        (status == 200).then(|| serde_json::from_str::<Value>(&body).expect("json"))
    })
    .await
    .expect("deploy request #7 is read");
    assert_eq!(seen["kind"], "deploy_request");
    assert_eq!(seen["number"], 7);
    assert_eq!(seen["state"], "open");
    assert_eq!(seen["deployment_state"], "in_progress");
    assert_eq!(seen["branch"], "change");
    assert_eq!(seen["into_branch"], "main");
    assert_eq!(seen["operations"][0]["table"], "orders");
    assert_eq!(seen["operations"][0]["phase"], "deploy");
    assert_eq!(seen["operations"][0]["progress_percentage"], 37.5);
    assert_eq!(seen["operations"][0]["eta_seconds"], 600);
    assert!(seen["observed_at"].as_str().is_some(), "{seen}");
    assert!(seen.get("reached").is_none(), "{seen}");
    let workflow = json(&format!("{base}/api/workflows/acme/commerce/3")).await;
    assert_eq!(workflow["state"], "running");
    assert_eq!(workflow["name"], "move-customers");

    // What cannot be answered says why.
    let (status, body) = get(&format!("{base}/api/deploy-requests/acme/other/1")).await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("acme/other is not among the databases pswatch watches"),
        "{body}"
    );
    let (status, body) = get(&format!("{base}/api/deploy-requests/acme/commerce/seven")).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = get(&format!("{request}?until=completed")).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("\"completed\"") && body.contains("complete_pending_revert"),
        "{body}"
    );
    let (status, body) = get(&format!("{request}?until=complete&timeout=16m")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("15m"), "{body}");
    let (status, body) = get(&format!("{request}?until=complete&timeout=soon")).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = get(&format!("{base}/api/deploy-requests/acme/commerce/99")).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("saw no deploy request #99"), "{body}");

    // A deploy request opened a moment ago in a database polled every ten minutes: the read
    // asks for its poll and answers once it has read it.
    fleet.simulator.update(|world| {
        world
            .database_mut("acme", "users")
            .deploy_requests
            .push(SimDeployRequest::new(2, "ready"));
    });
    let asked = std::time::Instant::now();
    let opened = json(&format!("{base}/api/deploy-requests/acme/users/2")).await;
    assert_eq!(opened["deployment_state"], "ready");
    assert!(
        asked.elapsed() < Duration::from_secs(15),
        "{:?}",
        asked.elapsed()
    );
    // Once seen, reads and waits ask PlanetScale nothing: the idle database sees no request.
    let users = fleet.simulator.requests_for("users");
    for _ in 0..10 {
        json(&format!("{base}/api/deploy-requests/acme/users/2")).await;
    }
    let waited = json(&format!(
        "{base}/api/deploy-requests/acme/users/2?until=complete&timeout=1s"
    ))
    .await;
    assert_eq!(waited["reached"], false);
    assert_eq!(fleet.simulator.requests_for("users"), users);

    // A wait answers when the state comes, and tells whether it came.
    let waiting = tokio::spawn({
        let url = format!("{request}?until=complete,complete_pending_revert&timeout=60s");
        async move { json(&url).await }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !waiting.is_finished(),
        "the wait answered before the state came"
    );
    fleet.simulator.update(|world| {
        let request = world
            .database_mut("acme", "commerce")
            .deploy_request_mut(7)
            .expect("#7");
        request.deployment_state = "complete_pending_revert".into();
        request.operation_mut("orders").expect("orders").state = "complete".into();
    });
    let reached = tokio::time::timeout(Duration::from_secs(20), waiting)
        .await
        .expect("the wait answers once the state comes")
        .expect("join");
    assert_eq!(reached["reached"], true, "{reached}");
    assert_eq!(reached["deployment_state"], "complete_pending_revert");
    assert_eq!(
        reached["last_event"]["type"], "deploy_request.state_changed",
        "{reached}"
    );
    // One already there answers at once; one that does not come answers at its timeout.
    let at_once = std::time::Instant::now();
    let there = json(&format!(
        "{request}?until=complete_pending_revert&timeout=10m"
    ))
    .await;
    assert_eq!(there["reached"], true);
    assert!(at_once.elapsed() < Duration::from_secs(2));
    let late = std::time::Instant::now();
    let timed_out = json(&format!("{request}?until=complete_revert&timeout=1s")).await;
    assert_eq!(timed_out["reached"], false);
    assert_eq!(timed_out["deployment_state"], "complete_pending_revert");
    assert!(late.elapsed() >= Duration::from_secs(1));
    drop(service);
}

/// A read token reads the API and the metrics, and is refused every other endpoint; wrong
/// tokens count against the same per-client limit as the admin token's.
#[tokio::test(flavor = "multi_thread")]
async fn read_tokens_read_and_are_refused_every_write() {
    const TOKEN: &str = "admin-token-for-the-tests-0123456789";
    const READ: &str = "read-token-for-the-ci-jobs-0123456789";
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .deploy_requests
        .push(SimDeployRequest::new(7, "in_progress"));
    let fleet = Fleet::start(world).await;
    let config = fleet.write(
        fleet
            .config("500ms")
            .set("admin.token", "${TEST_ADMIN_TOKEN}")
            .set("admin.read_tokens", vec!["${TEST_READ_TOKEN}".to_owned()])
            .watch("acme", &["commerce"]),
    );
    let service = Service::start(
        &config,
        &[
            ("TEST_ADMIN_TOKEN", TOKEN.into()),
            ("TEST_READ_TOKEN", READ.into()),
        ],
        fleet.directory.path(),
    );
    let base = service.admin_url().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let code = |request: reqwest::RequestBuilder| async move {
        request.send().await.expect("answered").status().as_u16()
    };
    let request = format!("{base}/api/deploy-requests/acme/commerce/7");
    let read = support::eventually(Duration::from_secs(10), || async {
        (code(client.get(&request).bearer_auth(READ)).await == 200).then_some(())
    })
    .await;
    assert!(read.is_some(), "a read token reads a deploy request");
    for path in [
        "/api/status",
        "/metrics",
        "/api/silences",
        "/api/workflows/acme/commerce/1",
    ] {
        let got = code(client.get(format!("{base}{path}")).bearer_auth(READ)).await;
        assert!(got == 200 || got == 404, "{path}: {got}");
        assert_ne!(got, 403, "{path}");
    }
    let silence = serde_json::json!({"database": "acme/commerce", "for": "1h", "comment": "ci"});
    let writes = [
        client.post(format!("{base}/api/silences")).json(&silence),
        client
            .post(format!("{base}/api/silences/sil_0/expire"))
            .json(&serde_json::json!({})),
        client
            .post(format!("{base}/api/dead-letters/1/retry"))
            .json(&serde_json::json!({})),
        client
            .post(format!("{base}/api/dead-letters/1/drop"))
            .json(&serde_json::json!({})),
        client.post(format!("{base}/logout")),
        client.get(format!("{base}/")),
        client.get(format!("{base}/status.js")),
    ];
    for write in writes {
        let write = write.bearer_auth(READ).build().expect("request");
        let what = format!("{} {}", write.method(), write.url().path());
        let got = client
            .execute(write)
            .await
            .expect("answered")
            .status()
            .as_u16();
        assert_eq!(got, 403, "{what}");
    }
    // The same writes with the admin token go through (or say what is wrong with them).
    let added = client
        .post(format!("{base}/api/silences"))
        .json(&silence)
        .bearer_auth(TOKEN);
    assert_eq!(code(added).await, 201);
    // No browser signs in with a read token.
    let login = client
        .post(format!("{base}/login"))
        .form(&[("token", READ)]);
    let got = code(login).await;
    assert_eq!(got, 401);
    // Wrong read tokens are limited per client, like wrong admin tokens.
    let mut limited = false;
    for _ in 0..12 {
        let got = code(
            client
                .get(&request)
                .bearer_auth("read-token-for-the-ci-jobs-012345678"),
        )
        .await;
        limited |= got == 429;
    }
    assert!(limited, "wrong tokens are limited per client");
}

/// Runs `pswatch wait ARGS` with `PSWATCH_TOKEN=token` in the background.
fn wait_process(arguments: &[&str], token: &str) -> tokio::task::JoinHandle<std::process::Output> {
    let arguments: Vec<String> = arguments
        .iter()
        .map(|argument| (*argument).to_owned())
        .collect();
    let token = token.to_owned();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pswatch"))
            .arg("wait")
            .args(&arguments)
            .env("PSWATCH_TOKEN", token)
            .output()
            .expect("run pswatch wait")
    })
}

fn described(output: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

const ADMIN: &str = "admin-token-for-the-tests-0123456789";
const READ: &str = "read-token-for-the-ci-jobs-0123456789";

/// A fleet whose commerce database has deploy requests #7 and #8 deploying and workflow #3
/// running, and the configuration of a pswatch whose admin server listens on `port`.
async fn waited_fleet(port: u16) -> (Fleet, std::path::PathBuf) {
    // Port 0: any free port, which the service's log names.
    let mut world = World::default();
    let commerce = world.database_mut("acme", "commerce");
    for number in [7, 8] {
        commerce
            .deploy_requests
            .push(SimDeployRequest::new(number, "in_progress").with_operation(
                &format!("op-{number}"),
                "orders",
                "in_progress",
            ));
    }
    commerce
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "running"));
    let fleet = Fleet::start(world).await;
    let config = fleet.write(
        fleet
            .config("300ms")
            .set("admin.listen", format!("127.0.0.1:{port}"))
            .set("admin.token", ADMIN)
            .set("admin.read_tokens", vec![READ.to_owned()])
            .watch("acme", &["commerce"]),
    );
    (fleet, config)
}

/// The service of `config`, once it recorded its baseline.
async fn started(fleet: &Fleet, config: &std::path::Path) -> Service {
    let service = Service::start(config, &[], fleet.directory.path());
    assert!(
        service
            .wait_for_log("baseline recorded", Duration::from_secs(15))
            .await,
        "{}",
        service.stderr()
    );
    service
}

#[tokio::test(flavor = "multi_thread")]
async fn pswatch_wait_exits_by_how_the_wait_ended() {
    let (fleet, config) = waited_fleet(0).await;
    let mut service = started(&fleet, &config).await;
    let base = admin_base(&mut service).await;
    let reached = wait_process(
        &[
            "acme/commerce",
            "deploy-request",
            "7",
            "--until",
            "complete",
            "--timeout",
            "60s",
            "--url",
            &base,
        ],
        READ,
    );
    let failed = wait_process(
        &[
            "acme/commerce",
            "deploy-request",
            "8",
            "--until",
            "complete",
            "--timeout",
            "60s",
            "--url",
            &base,
        ],
        READ,
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!reached.is_finished() && !failed.is_finished());
    fleet.simulator.update(|world| {
        let commerce = world.database_mut("acme", "commerce");
        let seven = commerce.deploy_request_mut(7).expect("#7");
        seven.deployment_state = "complete".into();
        seven.operation_mut("orders").expect("orders").state = "complete".into();
        let eight = commerce.deploy_request_mut(8).expect("#8");
        eight.deployment_state = "complete_error".into();
    });
    let reached = reached.await.expect("join");
    assert_eq!(reached.status.code(), Some(0), "{}", described(&reached));
    let stdout = String::from_utf8_lossy(&reached.stdout);
    assert!(
        stdout.contains("acme/commerce deploy request #7: in_progress"),
        "{stdout}"
    );
    assert!(stdout.contains("  orders: in_progress 38 %"), "{stdout}");
    assert!(stdout.contains("reached complete"), "{stdout}");
    let failed = failed.await.expect("join");
    assert_eq!(failed.status.code(), Some(1), "{}", described(&failed));
    assert!(
        String::from_utf8_lossy(&failed.stdout).contains("complete_error cannot reach complete"),
        "{}",
        described(&failed)
    );
    // Nothing comes in time: 2.
    let timed_out = wait_process(
        &[
            "acme/commerce",
            "workflow",
            "3",
            "--until",
            "completed",
            "--timeout",
            "2s",
            "--url",
            &base,
        ],
        READ,
    )
    .await
    .expect("join");
    assert_eq!(
        timed_out.status.code(),
        Some(2),
        "{}",
        described(&timed_out)
    );
    // Refused, unreachable, or nothing to answer for: 3.
    let refused = wait_process(
        &[
            "acme/commerce",
            "workflow",
            "3",
            "--until",
            "completed",
            "--url",
            &base,
        ],
        "read-token-for-the-ci-jobs-012345678",
    )
    .await
    .expect("join");
    assert_eq!(refused.status.code(), Some(3), "{}", described(&refused));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("refuses the token"));
    let nobody = format!("http://127.0.0.1:{}", support::fleet::free_port());
    let unreachable = wait_process(
        &[
            "acme/commerce",
            "workflow",
            "3",
            "--until",
            "completed",
            "--reconnect-for",
            "1s",
            "--url",
            &nobody,
        ],
        READ,
    )
    .await
    .expect("join");
    assert_eq!(
        unreachable.status.code(),
        Some(3),
        "{}",
        described(&unreachable)
    );
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("cannot reach pswatch"));
    let unwatched = wait_process(
        &[
            "acme/other",
            "workflow",
            "3",
            "--until",
            "completed",
            "--url",
            &base,
        ],
        READ,
    )
    .await
    .expect("join");
    assert_eq!(
        unwatched.status.code(),
        Some(3),
        "{}",
        described(&unwatched)
    );
    let misspelled = wait_process(
        &[
            "acme/commerce",
            "deploy-request",
            "7",
            "--until",
            "completed",
            "--url",
            &base,
        ],
        READ,
    )
    .await
    .expect("join");
    assert_eq!(
        misspelled.status.code(),
        Some(3),
        "{}",
        described(&misspelled)
    );
    assert!(String::from_utf8_lossy(&misspelled.stderr).contains("complete_pending_revert"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_survives_a_restart_of_pswatch() {
    // A port of its own, the same after the restart; another test may take one between its
    // choice and pswatch's bind: then another.
    let mut tries = 0;
    let (fleet, config, mut service, port) = loop {
        tries += 1;
        let port = support::fleet::free_port();
        let (fleet, config) = waited_fleet(port).await;
        let service = Service::start(&config, &[], fleet.directory.path());
        if service
            .wait_for_log("baseline recorded", Duration::from_secs(15))
            .await
        {
            break (fleet, config, service, port);
        }
        assert!(
            tries < 5 && service.stderr().contains("Address already in use"),
            "{}",
            service.stderr()
        );
    };
    let base = format!("http://127.0.0.1:{port}");
    let waiting = wait_process(
        &[
            "acme/commerce",
            "deploy-request",
            "7",
            "--until",
            "complete",
            "--timeout",
            "90s",
            "--url",
            &base,
        ],
        READ,
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    service.kill();
    drop(service);
    // The deploy request completes while pswatch is down; the next pswatch sees it.
    fleet.simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .deploy_request_mut(7)
            .expect("#7")
            .deployment_state = "complete".into();
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!waiting.is_finished(), "the wait outlasts pswatch");
    let service = Service::start(&config, &[], fleet.directory.path());
    let waited = tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("the wait ends once pswatch is back")
        .expect("join");
    assert_eq!(
        waited.status.code(),
        Some(0),
        "{}\n{}",
        described(&waited),
        service.stderr()
    );
    assert!(String::from_utf8_lossy(&waited.stderr).contains("pswatch cannot answer now"));
}
