//! PlanetScale's webhooks make pswatch instant: a signed `deploy_request.*` delivery makes the
//! service poll that database at once, while the poll interval is ten minutes; forged, stale,
//! replayed, malformed and oversized deliveries change nothing; the receiver answers within
//! PlanetScale's 2 seconds while every channel fails, and serves nothing but `POST /planetscale`.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use simulator::{SimDeployRequest, SimWebhook, SimWorkflow, Simulator, World};
use support::config::ConfigBuilder;
use support::fleet::{free_port, Fleet};
use support::{eventually, get, Service};

const SECRET: &str = "ps-webhook-s3cret-for-tests";

fn sign(body: &[u8], secret: &str) -> String {
    support::planetscale_signature(body, secret)
}

fn delivery(database: &str, event: &str, timestamp: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "timestamp": timestamp,
        "event": event,
        "organization": "acme",
        "database": database,
        "resource": {"id": "dr5", "type": "DeployRequest", "number": 5, "deployment_state": "queued"},
    }))
    .expect("json")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_delivery_polls_at_once_and_nothing_else_does() {
    let mut world = World::default();
    for database in ["commerce", "users"] {
        world
            .database_mut("acme", database)
            .deploy_requests
            .push(SimDeployRequest::new(5, "pending"));
    }
    let fleet = Fleet::start(world).await;
    let (simulator, hooks) = (&fleet.simulator, &fleet.receiver);
    let port = free_port();
    let config = fleet.write(
        fleet
            .config("600s")
            .with("retry_schedule", vec!["100ms"])
            .set("receiver.listen", format!("127.0.0.1:{port}"))
            .set(
                "receiver.public_url",
                "https://pswatch.example.com/planetscale",
            )
            .set("receiver.secrets", vec!["other-webhook-secret", SECRET])
            .watch("acme", &["commerce", "users"]),
    );
    let mut service = Service::start(&config, &[], fleet.directory.path());
    let url = format!("http://127.0.0.1:{port}/planetscale");
    // PlanetScale waits 2 seconds for an answer; so does this client.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    // The first database's baseline; the second's is due half an interval (five minutes)
    // later, long after this test.
    let baselines = eventually(Duration::from_secs(15), || async {
        (simulator.requests_for("commerce") >= 2 && simulator.requests_to("webhooks") >= 2)
            .then_some(())
    })
    .await;
    assert!(baselines.is_some(), "{}", service.stderr());
    let users_before = simulator.requests_for("users");
    let webhook_reads_before = simulator.requests_to("webhooks");

    // Every channel fails meanwhile: the receiver answers all the same.
    hooks.set_status(503);
    let post = |body: Vec<u8>, signature: Option<String>| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let mut request = client.post(&url).body(body);
            if let Some(signature) = signature {
                request = request.header("X-PlanetScale-Signature", signature);
            }
            let response = request.send().await.expect("answered within 2 s");
            (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            )
        }
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // Refused, about the other database: none of them may poll it.
    let forged = delivery("users", "deploy_request.queued", now);
    assert_eq!(post(forged.clone(), None).await.0, 401);
    assert_eq!(
        post(forged.clone(), Some(sign(&forged, "guess"))).await.0,
        401
    );
    let mut tampered = forged.clone();
    tampered.extend_from_slice(b" ");
    assert_eq!(post(tampered, Some(sign(&forged, SECRET))).await.0, 401);
    let stale = delivery("users", "deploy_request.queued", now - 11 * 60);
    assert_eq!(post(stale.clone(), Some(sign(&stale, SECRET))).await.0, 400);
    let future = delivery("users", "deploy_request.queued", now + 11 * 60);
    assert_eq!(
        post(future.clone(), Some(sign(&future, SECRET))).await.0,
        400
    );
    // Timestamps so far off that `timestamp - now` would wrap around: stale, never "now".
    for far_off in [i64::MIN, i64::MIN + 1, now.wrapping_add(i64::MIN), i64::MAX] {
        let odd = delivery("users", "deploy_request.queued", far_off);
        assert_eq!(
            post(odd.clone(), Some(sign(&odd, SECRET))).await.0,
            400,
            "{far_off}"
        );
    }
    let malformed = br#"{"event": "deploy_request.queued"}"#.to_vec();
    let (status, text) = post(malformed.clone(), Some(sign(&malformed, SECRET))).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("timestamp"), "{text}");
    let huge = vec![b' '; 1024 * 1024 + 1];
    assert_eq!(post(huge.clone(), Some(sign(&huge, SECRET))).await.0, 413);
    // Nothing of the admin API is served here.
    for path in ["/healthz", "/metrics", "/api/status", "/planetscale"] {
        let status = client
            .get(format!("http://127.0.0.1:{port}{path}"))
            .send()
            .await
            .expect("answered")
            .status()
            .as_u16();
        assert!(matches!(status, 404 | 405), "{path}: {status}");
    }

    // A flood of unsigned requests is refused apart: 401, then 429 past its own rate, and it
    // leaves PlanetScale's signed deliveries their whole rate.
    let mut flood = Vec::new();
    for index in 0..300 {
        let body = delivery("users", "deploy_request.queued", now + index);
        flood.push(post(body, None).await.0);
    }
    assert!(
        flood.iter().all(|status| matches!(status, 401 | 429)),
        "{flood:?}"
    );
    assert!(
        flood.contains(&429),
        "unsigned refusals are limited: {flood:?}"
    );

    // The deploy request moves; PlanetScale says so, twice (a retry).
    simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .deploy_request_mut(5)
            .expect("#5")
            .deployment_state = "queued".into();
    });
    let signed = delivery("commerce", "deploy_request.queued", now);
    let signature = sign(&signed, SECRET);
    assert_eq!(
        post(signed.clone(), Some(signature.clone())).await,
        (200, "received\n".into())
    );
    assert_eq!(
        post(signed, Some(signature)).await,
        (200, "already received\n".into())
    );
    hooks.set_status(200);
    // Reported within seconds, though the next scheduled poll is ten minutes away.
    let delivered = eventually(Duration::from_secs(10), || async {
        fleet
            .deliveries()
            .into_iter()
            .find(|body| body["data"]["state"] == "queued")
    })
    .await;
    assert!(delivered.is_some(), "{}", service.stderr());
    // The forgeries about `users` made pswatch read its webhooks once (a secret it did not
    // know might have signed them), and never poll it.
    let webhook_reads = simulator.requests_to("webhooks") - webhook_reads_before;
    assert_eq!(webhook_reads, 1);
    assert_eq!(
        simulator.requests_for("users") - users_before,
        webhook_reads,
        "a refused delivery polled the database"
    );
    let stopped = service.terminate(Duration::from_secs(25)).await;
    assert!(stopped.is_some_and(|status| status.success()));
    let logs = service.stderr();
    assert!(!logs.contains(SECRET), "the secret is logged");
    // Refusals are logged once a minute, however many there are.
    assert_eq!(
        logs.matches("a webhook delivery was refused").count(),
        1,
        "{logs}"
    );
}

const PUBLIC_URL: &str = "https://pswatch.example.com/planetscale";

/// Secrets come from PlanetScale's webhook list (read at start, and on demand for a database
/// whose secret is not known yet, at most once a minute), and a database with healthy push
/// lists its deploy requests on a tenth of its idle polls, workflows on every one.
#[tokio::test(flavor = "multi_thread")]
async fn secrets_come_from_planetscale_and_healthy_push_makes_idle_polls_cheaper() {
    let mut world = World::default();
    let commerce = world.database_mut("acme", "commerce");
    commerce
        .workflows
        .push(SimWorkflow::new(1, "move-customers", "completed"));
    let mut webhook = SimWebhook::new(
        PUBLIC_URL,
        "secret-from-the-api",
        poller::DEPLOY_REQUEST_EVENTS,
    );
    webhook.last_sent_success = Some(true);
    commerce.webhooks.push(webhook);
    world.database_mut("acme", "users");
    let fleet = Fleet::start(world).await;
    let simulator = &fleet.simulator;
    let port = free_port();
    let config = fleet.write(
        fleet
            .config("600s")
            .set("receiver.listen", format!("127.0.0.1:{port}"))
            .set("receiver.public_url", PUBLIC_URL)
            .watch("acme", &["commerce", "users"]),
    );
    let mut service = Service::start(&config, &[], fleet.directory.path());
    let url = format!("http://127.0.0.1:{port}/planetscale");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let read = eventually(Duration::from_secs(15), || async {
        (simulator.requests_to("webhooks") >= 2).then_some(())
    })
    .await;
    assert!(
        read.is_some(),
        "the webhooks are read at start: {}",
        service.stderr()
    );
    let admin = service.admin_url().await;
    let status = eventually(Duration::from_secs(10), || async {
        let (_, body) = get(&format!("{admin}/api/status")).await;
        let status: Value = serde_json::from_str(&body).ok()?;
        (status["push"]["acme/commerce"]["healthy"] == true).then_some(status)
    })
    .await
    .expect("push is healthy for commerce");
    assert_eq!(status["push"]["acme/users"]["healthy"], false);
    let (_, metrics) = get(&format!("{admin}/metrics")).await;
    assert!(
        metrics.contains("pswatch_push_healthy{target=\"acme/commerce\"} 1"),
        "{metrics}"
    );

    let post = |body: Vec<u8>, secret: &str| {
        let request = client
            .post(&url)
            .header("X-PlanetScale-Signature", sign(&body, secret))
            .body(body);
        async move {
            request
                .send()
                .await
                .expect("answered within 2 s")
                .status()
                .as_u16()
        }
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // Signed with the secret the API gave: accepted, though none is configured.
    assert_eq!(
        post(
            delivery("commerce", "webhook.test", now),
            "secret-from-the-api"
        )
        .await,
        200
    );
    // A webhook added to another database after the start: its first delivery reads the
    // list again; a forgery right after does not (at most once a minute).
    simulator.update(|world| {
        world
            .database_mut("acme", "users")
            .webhooks
            .push(SimWebhook::new(
                PUBLIC_URL,
                "users-new-secret",
                &["webhook.test"],
            ));
    });
    let reads = simulator.requests_to("webhooks");
    assert_eq!(
        post(delivery("users", "webhook.test", now), "users-new-secret").await,
        200
    );
    assert_eq!(simulator.requests_to("webhooks"), reads + 1);
    assert_eq!(
        post(delivery("users", "webhook.test", now + 1), "a-guess").await,
        401
    );
    assert_eq!(simulator.requests_to("webhooks"), reads + 1);
    // An unwatched database never makes pswatch read anything.
    assert_eq!(
        post(delivery("elsewhere", "webhook.test", now), "a-guess").await,
        401
    );
    assert_eq!(simulator.requests_to("webhooks"), reads + 1);
    // PlanetScale's own events are routed as planetscale.<event>, a repeat acted on once.
    let branch = |event: &str, timestamp: i64| {
        serde_json::to_vec(&json!({
            "timestamp": timestamp,
            "event": event,
            "organization": "acme",
            "database": "commerce",
            "resource": {"id": "br-main", "type": "Branch", "name": "main", "state": "ready",
                         "production": true, "html_url": "https://app.planetscale.com/acme/commerce/main"},
        }))
        .expect("json")
    };
    let ready = branch("branch.ready", now);
    assert_eq!(post(ready.clone(), "secret-from-the-api").await, 200);
    assert_eq!(post(ready, "secret-from-the-api").await, 200);
    assert_eq!(
        post(branch("branch.out_of_memory", now), "secret-from-the-api").await,
        200
    );
    let routed = eventually(Duration::from_secs(10), || async {
        let bodies = fleet.deliveries();
        (bodies
            .iter()
            .any(|body| body["type"] == "planetscale.branch.out_of_memory"))
        .then_some(bodies)
    })
    .await
    .expect("the PlanetScale events are delivered");
    let of =
        |kind: &str| -> Vec<&Value> { routed.iter().filter(|body| body["type"] == kind).collect() };
    let ready = of("planetscale.branch.ready");
    assert_eq!(ready.len(), 1, "{routed:#?}");
    assert_eq!(ready[0]["data"]["type"], "planetscale.branch.ready");
    assert_eq!(ready[0]["data"]["event"], "branch.ready");
    assert_eq!(ready[0]["data"]["organization"], "acme");
    assert_eq!(ready[0]["data"]["database"], "commerce");
    assert_eq!(ready[0]["data"]["severity"], "info");
    assert_eq!(ready[0]["data"]["resource"]["name"], "main");
    assert!(ready[0]["data"]["id"]
        .as_str()
        .expect("id")
        .starts_with("evt_"));
    assert_eq!(
        of("planetscale.branch.out_of_memory")[0]["data"]["severity"],
        "critical"
    );
    assert_eq!(of("planetscale.webhook.test").len(), 2, "{routed:#?}");

    let stopped = service.terminate(Duration::from_secs(25)).await;
    assert!(stopped.is_some_and(|status| status.success()));
    let logs = service.stderr();
    for secret in ["secret-from-the-api", "users-new-secret"] {
        assert!(!logs.contains(secret), "a secret is logged: {logs}");
    }
}

/// Idle polls of a database with healthy push list deploy requests every tenth time.
#[tokio::test(flavor = "multi_thread")]
async fn idle_polls_with_healthy_push_list_deploy_requests_on_a_tenth_of_them() {
    let mut world = World::default();
    let commerce = world.database_mut("acme", "commerce");
    commerce
        .workflows
        .push(SimWorkflow::new(1, "move-customers", "completed"));
    let mut webhook = SimWebhook::new(PUBLIC_URL, "s3cret", poller::DEPLOY_REQUEST_EVENTS);
    webhook.last_sent_success = Some(true);
    commerce.webhooks.push(webhook);
    let fleet = Fleet::start(world).await;
    let simulator = &fleet.simulator;
    let config = fleet.write(
        fleet
            .config("50ms")
            .set("receiver.listen", format!("127.0.0.1:{}", free_port()))
            .set("receiver.public_url", PUBLIC_URL)
            .watch("acme", &["commerce"]),
    );
    let mut service = Service::start(&config, &[], fleet.directory.path());
    let polled = eventually(Duration::from_secs(30), || async {
        (simulator.requests_to("workflows") >= 41).then_some(())
    })
    .await;
    let stopped = service.terminate(Duration::from_secs(25)).await;
    assert!(polled.is_some(), "{}", service.stderr());
    assert!(stopped.is_some_and(|status| status.success()));
    let workflows = simulator.requests_to("workflows");
    let deploy_requests = simulator.requests_to("deploy_requests");
    // The baseline and the polls before the webhook list was read list both; after that, one
    // idle poll in ten.
    assert!(
        deploy_requests <= workflows / 10 + 3,
        "{deploy_requests} deploy request lists for {workflows} polls"
    );
    assert!(
        deploy_requests >= workflows / 10,
        "the safety net still lists them"
    );
}

/// `pswatch planetscale-webhooks list|install`: what points at `public_url`, and creating what
/// is missing, with a clear word when the token may not.
#[tokio::test(flavor = "multi_thread")]
async fn planetscale_webhooks_are_listed_and_the_missing_ones_installed() {
    let mut world = World::default();
    let mut webhook = SimWebhook::new(PUBLIC_URL, "s3cret", poller::DEPLOY_REQUEST_EVENTS);
    webhook.last_sent_success = Some(true);
    world
        .database_mut("acme", "commerce")
        .webhooks
        .push(webhook);
    world.database_mut("acme", "users");
    world.database_mut("acme", "billing").webhooks_read_only = true;
    let simulator = Simulator::start(world, Some("tok-id:tok".into()))
        .await
        .expect("simulator");
    let directory = tempfile::tempdir().expect("tempdir");
    let builder = ConfigBuilder::new(&simulator.api_url(), &directory.path().join("state"))
        .watch("acme", &[])
        .channel("stdout", "console", &[])
        .route(&["stdout"]);
    let without = builder.write(&directory.path().join("without.toml"));
    let config = builder
        .set("receiver.listen", "127.0.0.1:0")
        .set("receiver.public_url", PUBLIC_URL)
        .write(&directory.path().join("pswatch.toml"));
    let run = |args: &'static [&'static str], config: std::path::PathBuf| async move {
        tokio::task::spawn_blocking(move || support::pswatch(args, &config, &[]))
            .await
            .expect("join")
    };
    let output = run(&["planetscale-webhooks", "list"], without).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("public_url"));

    let output = run(&["planetscale-webhooks", "list"], config.clone()).await;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("acme/commerce: push ready"), "{text}");
    assert!(text.contains("acme/users: no webhook points at"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");

    let output = run(&["planetscale-webhooks", "install"], config.clone()).await;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("acme/commerce: a webhook to"), "{text}");
    assert!(text.contains("acme/users: created webhook"), "{text}");
    assert!(
        text.contains("acme/billing: PlanetScale refused to create the webhook")
            && text.contains("write_database"),
        "{text}"
    );
    let created = simulator.update(|world| world.database_mut("acme", "users").webhooks[0].clone());
    assert_eq!(created.url, PUBLIC_URL);
    for event in poller::DEPLOY_REQUEST_EVENTS.iter().chain(&[
        "branch.ready",
        "cluster.storage",
        "webhook.test",
    ]) {
        assert!(created.events.iter().any(|known| known == event), "{event}");
    }

    let output = run(&["planetscale-webhooks", "list"], config).await;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(text.contains("acme/users: push ready"), "{text}");
    assert!(text.contains("acme/billing: no webhook"), "{text}");
}

/// A delivery acted on is remembered across a restart: PlanetScale sending it again after
/// pswatch restarted does not alert twice.
#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_repeated_after_a_restart_is_acted_on_once() {
    let fleet = Fleet::start(World::default()).await;
    let port = free_port();
    let config = fleet.write(
        fleet
            .config("600s")
            .set("receiver.listen", format!("127.0.0.1:{port}"))
            .set("receiver.secrets", vec![SECRET])
            .watch("acme", &["commerce"]),
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let body = serde_json::to_vec(&json!({
        "timestamp": now,
        "event": "branch.ready",
        "organization": "acme",
        "database": "commerce",
        "resource": {"id": "br-main", "type": "Branch", "name": "main", "state": "ready"},
    }))
    .expect("json");
    let client = reqwest::Client::new();
    let post = || async {
        let response = client
            .post(format!("http://127.0.0.1:{port}/planetscale"))
            .header("X-PlanetScale-Signature", sign(&body, SECRET))
            .body(body.clone())
            .send()
            .await
            .expect("answered");
        response.text().await.expect("text")
    };
    for expected in ["received\n", "already received\n"] {
        let mut service = Service::start(&config, &[], fleet.directory.path());
        assert!(
            service
                .wait_for_log("webhook receiver listening", Duration::from_secs(15))
                .await,
            "{}",
            service.stderr()
        );
        assert_eq!(post().await, expected);
        fleet.wait_for("planetscale.branch.ready", 1).await;
        let stopped = service.terminate(Duration::from_secs(25)).await;
        assert!(stopped.is_some_and(|status| status.success()));
    }
    assert_eq!(fleet.deliveries_of("planetscale.branch.ready").len(), 1);
}
