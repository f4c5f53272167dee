//! A store that cannot write: with the state directory's disk full, a pushed event is refused
//! (503) and nothing is half written, and no later write is acknowledged: sled keeps the
//! error, so pswatch stops at once (saying so on `/healthz` and `/readyz` while it does) for
//! its supervisor to start it again; started again with room on the disk, the same delivery
//! sent again is delivered, once.
//!
//! The disk is a small tmpfs, which takes root to mount; elsewhere the test says so and passes.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::json;
use simulator::{SimWorkflow, World};
use support::fleet::{free_port, Fleet};
use support::{get, Service};

const SECRET: &str = "ps-webhook-s3cret-for-the-disk-test";

/// A tmpfs of `size` mounted at `path`, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(path).expect("mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .ok()?;
        mounted.status.success().then(|| Self(path.to_owned()))
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let path = self.0.join("filler");
        let mut file = std::fs::File::create(&path).expect("filler");
        for size in [64 * 1024, 4096, 1] {
            let block = vec![0u8; size];
            while file.write_all(&block).is_ok() {}
        }
        let _ = file.sync_all();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn signed(body: &[u8]) -> String {
    support::planetscale_signature(body, SECRET)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_refuses_loses_nothing_and_recovers_by_restart() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(1, "move-a", "running"));
    let fleet = Fleet::start(world).await;
    let Some(disk) = Tmpfs::mount(&fleet.directory.path().join("disk"), "32m") else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let port = free_port();
    let config = fleet.write(
        fleet
            .config("200ms")
            .set("state.path", disk.0.join("state").display().to_string())
            .set("receiver.listen", format!("127.0.0.1:{port}"))
            .set("receiver.secrets", vec![SECRET])
            .watch("acme", &["commerce"]),
    );
    let mut service = Service::start(&config, &[], fleet.directory.path());
    assert!(
        service
            .wait_for_log("baseline recorded", Duration::from_secs(15))
            .await,
        "{}",
        service.stderr()
    );
    let admin = service.admin_url().await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let delivery = |index: usize| {
        serde_json::to_vec(&json!({
            "timestamp": now,
            "event": "branch.ready",
            "organization": "acme",
            "database": "commerce",
            "resource": {"id": format!("br-{index}"), "type": "Branch", "name": format!("feature-{index}"), "state": "ready"},
        }))
        .expect("json")
    };
    let client = reqwest::Client::new();
    let post = |body: Vec<u8>| {
        client
            .post(format!("http://127.0.0.1:{port}/planetscale"))
            .header("X-PlanetScale-Signature", signed(&body))
            .body(body)
            .send()
    };

    // The disk fills up; PlanetScale's deliveries go on until one cannot be written.
    let filler = disk.fill();
    let mut refused = None;
    for index in 0..90 {
        let body = delivery(index);
        let status = post(body.clone())
            .await
            .unwrap_or_else(|error| panic!("{error}: {}", service.stderr()))
            .status()
            .as_u16();
        if status == 503 {
            refused = Some(body);
            break;
        }
        assert_eq!(status, 200, "{}", service.stderr());
    }
    let refused =
        refused.unwrap_or_else(|| panic!("no delivery was refused: {}", service.stderr()));
    // pswatch stops at once: what still answers says it is not ready.
    for path in ["/readyz", "/readyz/receiver", "/healthz"] {
        if let Ok(answer) = client.get(format!("{admin}{path}")).send().await {
            let status = answer.status().as_u16();
            let reasons = answer.text().await.unwrap_or_default();
            assert_eq!(status, 503, "{path}: {reasons}");
            assert!(reasons.contains("the state store"), "{path}: {reasons}");
        }
    }
    std::fs::remove_file(&filler).expect("room again");

    // With room again, the same delivery sent again is still refused (or finds pswatch gone):
    // after a failed write nothing is acknowledged, and sled's store is broken until pswatch
    // starts again. /healthz says it is about to stop.
    for _ in 0..3 {
        if let Ok(answer) = post(refused.clone()).await {
            let status = answer.status().as_u16();
            let text = answer.text().await.unwrap_or_default();
            assert_eq!(status, 503, "acknowledged after a failed write: {text}");
        }
    }

    // sled keeps its I/O error: pswatch stops at once, saying why, rather than fail for ever.
    let exited = service.exited(Duration::from_secs(15)).await;
    let stderr = service.stderr();
    assert!(exited.is_some_and(|status| !status.success()), "{stderr}");
    assert!(
        stderr.contains("pswatch stops so that its supervisor starts it again"),
        "{stderr}"
    );

    // Its supervisor starts it again; PlanetScale sends the refused delivery again.
    let service = Service::start(&config, &[], fleet.directory.path());
    assert!(
        service
            .wait_for_log("webhook receiver listening", Duration::from_secs(15))
            .await,
        "{}",
        service.stderr()
    );
    // sled may have put the refused delivery's batch on disk after all (its write went through
    // once there was room, though the flush that pswatch waited for had failed): then it is
    // already received and its entry is in the outbox; else it is received now. Either way it
    // is delivered, once.
    let answer = post(refused.clone()).await.expect("answered");
    assert_eq!(answer.status().as_u16(), 200);
    let text = answer.text().await.expect("text");
    assert!(
        matches!(text.as_str(), "received\n" | "already received\n"),
        "{text}"
    );
    let name: serde_json::Value = serde_json::from_slice(&refused).expect("json");
    let name = name["resource"]["name"].clone();
    let of_name = || {
        fleet
            .deliveries_of("planetscale.branch.ready")
            .into_iter()
            .filter(|body| body["data"]["resource"]["name"] == name)
            .count()
    };
    let delivered = support::eventually(Duration::from_secs(30), || {
        std::future::ready((of_name() > 0).then_some(()))
    })
    .await;
    assert!(delivered.is_some(), "{}", service.stderr());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(of_name(), 1, "delivered twice");
    let admin = service.admin_url().await;
    let (status, reasons) = get(&format!("{admin}/readyz")).await;
    assert_eq!(status, 200, "{reasons}");
}
