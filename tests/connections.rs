//! Connections that never end cannot stop pswatch: the webhook receiver and the admin server
//! close a connection whose request headers do not arrive within 10 seconds (a client that
//! opens and waits, or one that sends a byte at a time), and serve a bounded number at once,
//! so idle clients never take every descriptor; the admin server answers meanwhile.

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
