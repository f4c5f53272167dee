//! Connections that never end cannot stop pswatch: the webhook receiver and the admin server
//! close a connection whose request headers do not arrive within 5 and 10 seconds (a client
//! that opens and waits, or one that sends a byte at a time), and serve a bounded number at
//! once, a bounded number per client address, so idle clients never take every descriptor nor
//! the slots PlanetScale's deliveries need; the admin server answers meanwhile.

mod support;

use std::time::Duration;

use simulator::World;
use support::fleet::{free_port, Fleet};
use support::{get, Service};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Opens `count` connections to `address` that send the start of a request and then wait;
/// gives back, for each, whether the server closed it within `within`.
async fn idle_clients(address: String, count: usize, within: Duration) -> Vec<bool> {
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..count {
        let address = address.clone();
        clients.spawn(async move {
            let Ok(mut stream) = TcpStream::connect(&address).await else {
                return false;
            };
            let _ = stream
                .write_all(b"POST /planetscale HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .await;
            let mut buffer = [0u8; 1024];
            let closed = async {
                loop {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                }
            };
            tokio::time::timeout(within, closed).await.is_ok()
        });
    }
    let mut closed = Vec::new();
    while let Some(result) = clients.join_next().await {
        closed.push(result.unwrap_or(false));
    }
    closed
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_and_slow_connections_are_closed_and_bounded() {
    let fleet = Fleet::start(World::default()).await;
    let port = free_port();
    let config = fleet.write(
        fleet
            .config("600s")
            .set("receiver.listen", format!("127.0.0.1:{port}"))
            .set("receiver.secrets", vec!["a-secret-for-the-connection-test"])
            .watch("acme", &["commerce"]),
    );
    let service = Service::start(&config, &[], fleet.directory.path());
    let admin = service.admin_url().await;
    assert!(
        service
            .wait_for_log("webhook receiver listening", Duration::from_secs(15))
            .await
    );
    let receiver = format!("127.0.0.1:{port}");
    let admin_address = admin.trim_start_matches("http://").to_owned();

    // More idle clients than the receiver serves at once; those past the limit wait to be
    // accepted, then time out in turn.
    let flood = tokio::spawn(idle_clients(receiver.clone(), 300, Duration::from_secs(40)));
    // A client that sends its headers a byte a second never finishes them in time.
    let slow = tokio::spawn(async move {
        let mut stream = TcpStream::connect(&receiver).await.expect("connect");
        let started = std::time::Instant::now();
        for byte in b"POST /planetscale HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            if started.elapsed() > Duration::from_secs(40) {
                return false;
            }
        }
        let mut buffer = [0u8; 64];
        matches!(
            tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer)).await,
            Ok(Ok(0) | Err(_))
        ) || started.elapsed() < Duration::from_secs(40)
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The admin server is apart, and answers while the receiver is flooded.
    let (status, _) = get(&format!("{admin}/healthz")).await;
    assert_eq!(status, 200);
    // Idle clients of the admin server are closed too.
    let admin_idle = idle_clients(admin_address, 80, Duration::from_secs(40)).await;
    assert!(admin_idle.iter().all(|closed| *closed), "{admin_idle:?}");
    let closed = flood.await.expect("join");
    assert_eq!(closed.len(), 300);
    assert!(
        closed.iter().all(|closed| *closed),
        "{} of 300 idle connections were never closed",
        closed.iter().filter(|closed| !**closed).count()
    );
    assert!(
        slow.await.expect("join"),
        "a slow client kept its connection"
    );
    // And the service serves as before.
    let (status, _) = get(&format!("{admin}/healthz")).await;
    assert_eq!(status, 200);
}

/// Opens connections from `from` to `to` that send the start of a request and never finish
/// it, one every few milliseconds, for `during`; keeps them all open until then.
async fn slow_client(from: std::net::IpAddr, to: std::net::SocketAddr, during: Duration) -> usize {
    let started = std::time::Instant::now();
    let mut open = Vec::new();
    let mut opened = 0;
    while started.elapsed() < during && opened < 5_000 {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        if socket.bind(std::net::SocketAddr::new(from, 0)).is_ok() {
            if let Ok(Ok(mut stream)) =
                tokio::time::timeout(Duration::from_millis(200), socket.connect(to)).await
            {
                let _ = stream
                    .write_all(b"POST /planetscale HTTP/1.1\r\nHost: x\r\n")
                    .await;
                open.push(stream);
                opened += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    opened
}

/// Two clients that keep opening connections and never finish their headers do not starve
/// PlanetScale: its signed deliveries, from another address, are answered within the 2 s it
/// waits, at least 17 of 18.
#[tokio::test(flavor = "multi_thread")]
async fn slow_clients_do_not_starve_planetscale() {
    const SECRET: &str = "a-secret-for-the-slow-clients-test";
    let fleet = Fleet::start(World::default()).await;
    let port = free_port();
    let config = fleet.write(
        fleet
            .config("600s")
            .set("receiver.listen", format!("127.0.0.1:{port}"))
            .set("receiver.secrets", vec![SECRET])
            .watch("acme", &["commerce"]),
    );
    let service = Service::start(&config, &[], fleet.directory.path());
    assert!(
        service
            .wait_for_log("webhook receiver listening", Duration::from_secs(15))
            .await
    );
    let to: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    let during = Duration::from_secs(8);
    let attackers: Vec<_> = ["127.0.0.2", "127.0.0.3"]
        .into_iter()
        .map(|from| tokio::spawn(slow_client(from.parse().expect("ip"), to, during)))
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let mut answered = 0;
    for index in 0..18 {
        let body = serde_json::to_vec(&serde_json::json!({
            "timestamp": time::OffsetDateTime::now_utc().unix_timestamp(),
            "event": "branch.ready",
            "organization": "acme",
            "database": "commerce",
            "resource": {"id": format!("br-{index}"), "type": "Branch", "name": format!("b-{index}"), "state": "ready"},
        }))
        .expect("json");
        let sent = client
            .post(format!("http://{to}/planetscale"))
            .header(
                "X-PlanetScale-Signature",
                support::planetscale_signature(&body, SECRET),
            )
            .body(body)
            .send()
            .await;
        if sent.is_ok_and(|answer| answer.status().is_success()) {
            answered += 1;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let mut opened = 0;
    for attacker in attackers {
        opened += attacker.await.expect("join");
    }
    assert!(
        opened > 100,
        "the slow clients opened only {opened} connections"
    );
    assert!(
        answered >= 17,
        "{answered} of 18 deliveries answered within 2 s"
    );
}
