//! PlanetScale's webhooks make pswatch instant: a signed `deploy_request.*` delivery makes the
//! service poll that database at once, while the poll interval is ten minutes; forged, stale,
//! replayed, malformed and oversized deliveries change nothing; the receiver answers within
//! PlanetScale's 2 seconds while every channel fails, and serves nothing but `POST /planetscale`.

mod support;

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use simulator::{SimDeployRequest, Simulator, World};
use support::config::ConfigBuilder;
use support::receiver::Receiver;
use support::{eventually, Service};

const SECRET: &str = "ps-webhook-s3cret-for-tests";

fn sign(body: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
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

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
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
    let simulator = Simulator::start(world, None).await.expect("simulator");
    let hooks = Receiver::start().await;
    let directory = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let config = ConfigBuilder::new(&simulator.api_url(), &directory.path().join("state"))
        .set("poll.interval", "600s")
        .set("poll.active_interval", "600s")
        .set("poll.waiting_interval", "600s")
        .set("receiver.listen", format!("127.0.0.1:{port}"))
        .set(
            "receiver.public_url",
            "https://pswatch.example.com/planetscale",
        )
        .set("receiver.secrets", vec!["other-webhook-secret", SECRET])
        .watch("acme", &["commerce", "users"])
        .webhook("audit", &format!("{}/hooks", hooks.url))
        .with("retry_schedule", vec!["100ms"])
        .route(&["audit"])
        .write(&directory.path().join("pswatch.toml"));
    let mut service = Service::start(&config, &[], directory.path());
    let url = format!("http://127.0.0.1:{port}/planetscale");
    // PlanetScale waits 2 seconds for an answer; so does this client.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    // The first database's baseline; the second's is due half an interval (five minutes)
    // later, long after this test.
    let baselines = eventually(Duration::from_secs(15), || async {
        (simulator.requests_for("commerce") >= 2).then_some(())
    })
    .await;
    assert!(baselines.is_some(), "{}", service.stderr());
    let users_before = simulator.requests_for("users");

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
        hooks
            .accepted("/hooks")
            .iter()
            .map(|request| serde_json::from_slice::<Value>(&request.body).expect("json"))
            .find(|body| body["data"]["state"] == "queued")
    })
    .await;
    assert!(delivered.is_some(), "{}", service.stderr());
    assert_eq!(
        simulator.requests_for("users"),
        users_before,
        "a refused delivery polled the database"
    );
    let stopped = service.terminate(Duration::from_secs(25)).await;
    assert!(stopped.is_some_and(|status| status.success()));
    let logs = service.stderr();
    assert!(!logs.contains(SECRET), "the secret is logged");
    assert_eq!(
        logs.matches("a webhook delivery was refused").count(),
        7,
        "{logs}"
    );
}
