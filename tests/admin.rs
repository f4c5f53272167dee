//! The admin server of a running pswatch: health, readiness, Prometheus metrics (checked with a
//! Prometheus text-format parser) and the JSON status.

mod support;

use std::time::Duration;

use serde_json::Value;
use simulator::{Fault, SimWorkflow, Simulator, World};
use support::config::ConfigBuilder;
use support::fleet::Fleet;
use support::{eventually, Service};

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("request");
    (
        response.status().as_u16(),
        response.text().await.expect("body"),
    )
}

fn sample<'a>(
    samples: &'a [prometheus_parse::Sample],
    metric: &str,
    labels: &[(&str, &str)],
) -> Option<&'a prometheus_parse::Sample> {
    samples.iter().find(|sample| {
        sample.metric == metric
            && labels
                .iter()
                .all(|(name, value)| sample.labels.get(name) == Some(*value))
    })
}

fn value(sample: Option<&prometheus_parse::Sample>) -> f64 {
    match sample.map(|sample| &sample.value) {
        Some(
            prometheus_parse::Value::Counter(value)
            | prometheus_parse::Value::Gauge(value)
            | prometheus_parse::Value::Untyped(value),
        ) => *value,
        other => panic!("no such sample: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn health_readiness_metrics_and_status() {
    let mut world = World::default();
    for database in ["commerce", "users"] {
        world
            .database_mut("acme", database)
            .workflows
            .push(SimWorkflow::new(1, format!("move-{database}"), "running"));
    }
    // An item that cannot be read is counted, and costs nothing else.
    world
        .database_mut("acme", "commerce")
        .odd_workflow_items
        .push(serde_json::json!({"id": "w9", "number": "nine", "state": "running"}));
    let fleet = Fleet::start(world).await;
    let (simulator, receiver) = (&fleet.simulator, &fleet.receiver);
    let config = fleet.write(fleet.config("300ms").watch("acme", &[]));
    let mut service = Service::start(&config, &[], fleet.directory.path());
    assert!(
        service
            .wait_for_log("admin server listening", Duration::from_secs(10))
            .await,
        "{}",
        service.stderr()
    );
    let logs = service.stderr();
    let address = logs
        .lines()
        .find(|line| line.contains("admin server listening"))
        .and_then(|line| line.split("address=").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("address")
        .to_owned();
    let base = format!("http://{address}");

    assert_eq!(get(&format!("{base}/healthz")).await, (200, "ok\n".into()));
    assert!(
        service
            .wait_for_log(
                "baseline recorded target_db=acme/users",
                Duration::from_secs(10)
            )
            .await
    );
    assert_eq!(get(&format!("{base}/readyz")).await.0, 200);
    // Without the receiver, push is not shown.
    let (_, body) = get(&format!("{base}/api/status")).await;
    let shown: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(shown["push"], serde_json::json!({}));
    // `pswatch health`, as a container's health check runs it.
    let health = |args: Vec<String>| async move {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_pswatch"))
                .args(&args)
                .output()
                .expect("run pswatch")
        })
        .await
        .expect("join")
    };
    let ready = health(vec!["health".into(), "--url".into(), base.clone()]).await;
    assert!(ready.status.success(), "{ready:?}");
    assert!(String::from_utf8_lossy(&ready.stdout).contains("HTTP 200"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let down = health(vec![
        "health".into(),
        "--url".into(),
        format!("http://127.0.0.1:{port}"),
    ])
    .await;
    assert_eq!(down.status.code(), Some(1), "{down:?}");

    simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(1)
            .expect("workflow")
            .state = "cutover".into();
    });
    assert!(
        receiver
            .wait_until(Duration::from_secs(10), |requests| !requests.is_empty())
            .await
    );
    // The delivery is counted once the receiver's answer is in.
    let metrics_url = format!("{base}/metrics");
    let (status, text) = eventually(Duration::from_secs(5), || async {
        let (status, text) = get(&metrics_url).await;
        text.contains("pswatch_deliveries_total{channel=\"audit\",outcome=\"delivered\"} 1")
            .then_some((status, text))
    })
    .await
    .unwrap_or_else(|| panic!("no delivery counted: {}", service.stderr()));
    assert_eq!(status, 200);
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|line| Ok(line.to_owned())))
        .expect("Prometheus text format");
    let samples = &scrape.samples;
    assert!(
        value(sample(
            samples,
            "pswatch_polls_total",
            &[("target", "acme/commerce"), ("outcome", "ok")]
        )) >= 2.0
    );
    assert!(
        value(sample(
            samples,
            "pswatch_api_requests_total",
            &[
                ("token", "planetscale"),
                ("endpoint", "workflows"),
                ("status", "200")
            ]
        )) >= 2.0
    );
    assert!(
        value(sample(
            samples,
            "pswatch_api_requests_total",
            &[("endpoint", "databases"), ("status", "200")]
        )) >= 1.0
    );
    assert_eq!(
        value(sample(
            samples,
            "pswatch_events_total",
            &[("type", "workflow.state_changed")]
        )),
        1.0
    );
    assert_eq!(
        value(sample(
            samples,
            "pswatch_deliveries_total",
            &[("channel", "audit"), ("outcome", "delivered")]
        )),
        1.0
    );
    assert_eq!(
        value(sample(
            samples,
            "pswatch_api_budget_limit",
            &[("token", "planetscale")]
        )),
        480.0
    );
    assert!(
        value(sample(
            samples,
            "pswatch_api_anomalies_total",
            &[("target", "acme/commerce"), ("kind", "unreadable_item")]
        )) >= 1.0
    );
    assert!(
        value(sample(
            samples,
            "pswatch_api_budget_used",
            &[("token", "planetscale")]
        )) >= 4.0
    );
    assert_eq!(value(sample(samples, "pswatch_outbox_pending", &[])), 0.0);
    assert_eq!(value(sample(samples, "pswatch_dead_letters", &[])), 0.0);
    assert!(
        value(sample(
            samples,
            "pswatch_last_successful_poll_timestamp_seconds",
            &[("target", "acme/users")]
        )) > 1.7e9
    );
    match sample(
        samples,
        "pswatch_detection_to_delivery_seconds",
        &[("channel", "audit")],
    )
    .map(|sample| &sample.value)
    {
        Some(prometheus_parse::Value::Histogram(buckets)) => {
            assert!(
                buckets.iter().any(|bucket| bucket.count >= 1.0),
                "{buckets:?}"
            );
        }
        other => panic!("no latency histogram: {other:?}"),
    }
    assert!(
        scrape.docs.contains_key("pswatch_outbox_pending"),
        "HELP text present"
    );

    let (status, text) = get(&format!("{base}/api/status")).await;
    assert_eq!(status, 200);
    let status: Value = serde_json::from_str(&text).expect("json");
    let targets = status["targets"].as_array().expect("targets");
    let users = targets
        .iter()
        .find(|target| target["target"] == "acme/users")
        .expect("users");
    // A running workflow waits for someone to switch traffic: polled at waiting_interval.
    assert_eq!(users["active"], false);
    assert_eq!(users["motion"], "waiting");
    assert_eq!(users["in_motion"]["workflows"][0]["state"], "running");
    assert_eq!(users["in_motion"]["workflows"][0]["motion"], "waiting");
    assert!(users["last_success"].is_string() && users["next_poll"].is_string());
    assert_eq!(status["budget"]["limit"], 480);
    assert_eq!(status["outbox"]["pending"], 0);

    // A token the API refuses makes the service not ready, and says why.
    simulator.set_fault(
        "users",
        Some(Fault::Status {
            status: 401,
            retry_after: None,
        }),
    );
    let readyz = format!("{base}/readyz");
    let body = eventually(Duration::from_secs(5), || async {
        let (ready, body) = get(&readyz).await;
        (ready == 503).then_some(body)
    })
    .await
    .unwrap_or_else(|| panic!("still ready: {}", service.stderr()));
    assert!(
        body.contains("acme/users: the API refuses the service token"),
        "{body}"
    );
    // The receiver can still record PlanetScale's deliveries: ready for its Service.
    assert_eq!(
        get(&format!("{base}/readyz/receiver")).await,
        (200, "ready to receive\n".to_owned())
    );

    let stopped = service.terminate(Duration::from_secs(25)).await;
    assert!(
        stopped.is_some_and(|status| status.success()),
        "{}",
        service.stderr()
    );
}

/// With `[admin] token`, everything but /healthz and /readyz needs it: a Bearer header for
/// tools, or the session cookie a browser gets from the login form.
#[tokio::test(flavor = "multi_thread")]
async fn the_admin_token_guards_everything_but_health_and_readiness() {
    const TOKEN: &str = "admin-token-for-the-tests-0123456789";
    let simulator = Simulator::start(World::default(), Some("tok-id:tok".into()))
        .await
        .expect("simulator");
    let directory = tempfile::tempdir().expect("tempdir");
    let config = ConfigBuilder::new(&simulator.api_url(), &directory.path().join("state"))
        .set("admin.token", "${TEST_ADMIN_TOKEN}")
        .watch("acme", &[])
        .channel("stdout", "console", &[])
        .route(&["stdout"])
        .write(&directory.path().join("pswatch.toml"));
    let mut service = Service::start(
        &config,
        &[("TEST_ADMIN_TOKEN", TOKEN.into())],
        directory.path(),
    );
    let base = service.admin_url().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let status = |request: reqwest::RequestBuilder| async move {
        let response = request.send().await.expect("answered");
        let code = response.status().as_u16();
        let headers = response.headers().clone();
        (code, headers, response.text().await.unwrap_or_default())
    };
    assert_eq!(status(client.get(format!("{base}/healthz"))).await.0, 200);
    let ready = eventually(Duration::from_secs(10), || async {
        (status(client.get(format!("{base}/readyz"))).await.0 == 200).then_some(())
    })
    .await;
    assert!(ready.is_some());
    for path in ["/api/status", "/metrics"] {
        let (code, headers, _) = status(client.get(format!("{base}{path}"))).await;
        assert_eq!(code, 401, "{path}");
        assert_eq!(headers["www-authenticate"], "Bearer");
        let wrong = client
            .get(format!("{base}{path}"))
            .bearer_auth("admin-token-for-the-tests-012345678");
        assert_eq!(status(wrong).await.0, 401, "{path}");
        let right = client.get(format!("{base}{path}")).bearer_auth(TOKEN);
        assert_eq!(status(right).await.0, 200, "{path}");
    }
    // A browser is shown the login form, signs in, and gets an HttpOnly, SameSite=Strict cookie.
    let (code, _, page) = status(
        client
            .get(format!("{base}/api/status"))
            .header("accept", "text/html"),
    )
    .await;
    assert_eq!(code, 401);
    assert!(
        page.contains("<form method=\"post\" action=\"/login\">"),
        "{page}"
    );
    let (code, _, _) = status(
        client
            .post(format!("{base}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("token=wrong"),
    )
    .await;
    assert_eq!(code, 401);
    let (code, headers, _) = status(
        client
            .post(format!("{base}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={TOKEN}")),
    )
    .await;
    assert_eq!(code, 303);
    let cookie = headers["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().expect("pair").to_owned();
    let (code, _, body) = status(
        client
            .get(format!("{base}/api/status"))
            .header("cookie", &session),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    // Signing out ends the session.
    let (code, _, _) = status(
        client
            .post(format!("{base}/logout"))
            .header("cookie", &session),
    )
    .await;
    assert_eq!(code, 303);
    let (code, _, _) = status(
        client
            .get(format!("{base}/api/status"))
            .header("cookie", &session),
    )
    .await;
    assert_eq!(code, 401);
    // The login form may not be framed and no answer's type is guessed.
    let (_, headers, _) = status(client.get(format!("{base}/login"))).await;
    let policy = headers["content-security-policy"].to_str().expect("ascii");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let (_, headers, _) = status(client.get(format!("{base}/healthz"))).await;
    assert_eq!(headers["x-content-type-options"], "nosniff");
    // Guessing the token costs the guesser its address for a minute, bearer and form alike;
    // the owner, from another address, is not locked out.
    let mut guessed = Vec::new();
    for index in 0..30 {
        let guess = client
            .get(format!("{base}/api/status"))
            .bearer_auth(format!("guess-{index}"));
        guessed.push(status(guess).await.0);
    }
    assert!(
        guessed.iter().filter(|code| **code == 429).count() >= 15,
        "{guessed:?}"
    );
    let right = client.get(format!("{base}/api/status")).bearer_auth(TOKEN);
    assert_eq!(status(right).await.0, 429, "the guesser's address waits");
    let form = client
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={TOKEN}"));
    assert_eq!(status(form).await.0, 429);
    let owner = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .expect("client");
    let right = owner.get(format!("{base}/api/status")).bearer_auth(TOKEN);
    assert_eq!(status(right).await.0, 200, "the owner elsewhere is served");
    let stopped = service.terminate(Duration::from_secs(25)).await;
    assert!(stopped.is_some_and(|status| status.success()));
    assert!(!service.stderr().contains(TOKEN), "the token is logged");
}

/// Dead letters are listed in the status with their last error, and put back or dropped by a
/// POST; one put back is delivered without waiting for a poll.
#[tokio::test(flavor = "multi_thread")]
async fn dead_letters_are_listed_retried_and_dropped_through_the_api() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(1, "move-a", "copying"));
    let fleet = Fleet::start(world).await;
    let (simulator, receiver) = (&fleet.simulator, &fleet.receiver);
    receiver.set_status(400);
    let config = fleet.write(fleet.config("200ms").watch("acme", &["commerce"]));
    let mut service = Service::start(&config, &[], fleet.directory.path());
    let base = service.admin_url().await;
    // The changes come after the baseline, or the baseline would take them in silently.
    assert!(
        service
            .wait_for_log("baseline recorded", Duration::from_secs(10))
            .await,
        "{}",
        service.stderr()
    );
    for state in ["running", "cutover"] {
        let before = receiver.requests().len();
        simulator.update(|world| {
            world
                .database_mut("acme", "commerce")
                .workflow_mut(1)
                .expect("#1")
                .state = state.into();
        });
        let refused = eventually(Duration::from_secs(10), || async {
            (receiver.requests().len() > before).then_some(())
        })
        .await;
        assert!(refused.is_some(), "{}", service.stderr());
    }
    let dead = eventually(Duration::from_secs(10), || async {
        let (_, body) = get(&format!("{base}/api/status")).await;
        let status: Value = serde_json::from_str(&body).ok()?;
        let dead = status["outbox"]["dead"].as_array()?.clone();
        (dead.len() == 2).then_some(dead)
    })
    .await
    .expect("two dead letters");
    assert_eq!(dead[0]["channel"], "audit");
    assert!(dead[0]["last_error"]
        .as_str()
        .expect("error")
        .contains("HTTP 400"));
    assert!(dead[0]["headline"]
        .as_str()
        .expect("headline")
        .contains("copying -> running"));
    let (first, second) = (
        dead[0]["id"].as_u64().expect("id"),
        dead[1]["id"].as_u64().expect("id"),
    );

    receiver.set_status(200);
    let client = reqwest::Client::new();
    let post = |path: String| {
        let client = client.clone();
        async move {
            client
                .post(path)
                .header("content-type", "application/json")
                .send()
                .await
                .expect("answered")
                .status()
                .as_u16()
        }
    };
    // The API takes JSON only: a form or plain text, which any page can send, is refused.
    let plain = client
        .post(format!("{base}/api/dead-letters/{first}/retry"))
        .header("content-type", "text/plain")
        .send()
        .await
        .expect("answered");
    assert_eq!(plain.status().as_u16(), 415);
    // A page that rebinds its name to this address still sends its name: refused.
    let rebound = client
        .post(format!("{base}/api/silences"))
        .header("host", "evil.example:9184")
        .header("content-type", "application/json")
        .body(r#"{"comment": "x", "for": "1000y"}"#)
        .send()
        .await
        .expect("answered");
    assert_eq!(rebound.status().as_u16(), 421);
    let rebound = client
        .get(format!("{base}/api/status"))
        .header("host", "evil.example")
        .send()
        .await
        .expect("answered");
    assert_eq!(rebound.status().as_u16(), 421);
    assert_eq!(
        post(format!("{base}/api/dead-letters/{first}/retry")).await,
        200
    );
    let delivered = eventually(Duration::from_secs(10), || async {
        (receiver.accepted("/hooks").len() == 1).then_some(())
    })
    .await;
    assert!(
        delivered.is_some(),
        "the retried letter is delivered: {}",
        service.stderr()
    );
    assert_eq!(
        post(format!("{base}/api/dead-letters/{second}/drop")).await,
        200
    );
    assert_eq!(
        post(format!("{base}/api/dead-letters/{second}/drop")).await,
        404
    );
    assert_eq!(
        post(format!("{base}/api/dead-letters/999999/retry")).await,
        404
    );
    // Another site's page cannot make a browser do it.
    let forged = client
        .post(format!("{base}/api/dead-letters/{first}/drop"))
        .header("origin", "https://evil.example.com")
        .header("content-type", "application/json")
        .send()
        .await
        .expect("answered");
    assert_eq!(forged.status().as_u16(), 403);
    let (_, body) = get(&format!("{base}/api/status")).await;
    let status: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(status["outbox"]["dead"].as_array().expect("dead").len(), 0);
    let stopped = service.terminate(Duration::from_secs(25)).await;
    assert!(stopped.is_some_and(|status| status.success()));
    assert_eq!(
        receiver.accepted("/hooks").len(),
        1,
        "the dropped one was never sent"
    );
}
