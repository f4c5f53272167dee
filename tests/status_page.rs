//! The status page in a real browser (Playwright for Python driving Debian's chromium, set up
//! by `tests/tools/install`): behind the admin token, it shows a watched workflow, follows the
//! simulator's change without a reload, and its Retry button puts a dead letter back in the
//! outbox, which is then delivered; its Expire button ends a silence; its form adds one (and
//! says why it refuses a wrong one). A screenshot is kept in `target/test-artifacts`.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use simulator::{SimWorkflow, World};
use support::fleet::Fleet;
use support::{eventually, Service};

const TOKEN: &str = "status-page-admin-token-0123456789";

#[tokio::test(flavor = "multi_thread")]
async fn the_page_follows_the_fleet_and_its_buttons_act() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(1, "move-a", "copying"));
    let fleet = Fleet::start(world).await;
    let (simulator, receiver) = (&fleet.simulator, &fleet.receiver);
    // The receiver refuses for good at first: the change becomes a dead letter.
    receiver.set_status(400);
    let config = fleet.write(
        fleet
            .config("200ms")
            .set("admin.token", "${TEST_ADMIN_TOKEN}")
            .watch("acme", &["commerce"]),
    );
    let mut service = Service::start(
        &config,
        &[("TEST_ADMIN_TOKEN", TOKEN.into())],
        fleet.directory.path(),
    );
    let base = service.admin_url().await;

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let artifacts = root.join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts directory");
    let screenshot = artifacts.join("status-page.png");
    let python = std::env::var_os("PSWATCH_TEST_PYTHON")
        .map_or_else(|| root.join(".test-tools/venv/bin/python"), Into::into);
    let mut browser = Command::new(&python)
        .arg(root.join("tests/tools/status_page.py"))
        .args([&base, TOKEN])
        .arg(&screenshot)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run {} ({error}); run `bash tests/tools/install` once",
                python.display()
            )
        });
    let mut to_browser = browser.stdin.take().expect("stdin");
    let (lines_sender, lines) = std::sync::mpsc::channel::<String>();
    let stdout = browser.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_sender.send(line);
        }
    });
    let next_line = || {
        lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| String::from("(the browser said nothing)"))
    };
    let first = tokio::task::block_in_place(next_line);
    if first != "SEEN copying" {
        let output = browser.wait_with_output().expect("browser");
        panic!(
            "{first}\n{}\n{}",
            String::from_utf8_lossy(&output.stderr),
            service.stderr()
        );
    }
    simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(1)
            .expect("#1")
            .state = "running".into();
    });
    writeln!(to_browser, "moved").expect("tell the browser");
    let second = tokio::task::block_in_place(next_line);
    assert_eq!(second, "SEEN running", "{}", service.stderr());
    receiver.set_status(200);
    // A silence for the page to show and expire.
    let added = reqwest::Client::new()
        .post(format!("{base}/api/silences"))
        .bearer_auth(TOKEN)
        .json(
            &serde_json::json!({"database": "acme/commerce", "for": "30d",
            "comment": "planned cutover"}),
        )
        .send()
        .await
        .expect("silence added");
    assert_eq!(added.status(), 201);
    writeln!(to_browser, "retry").expect("tell the browser");
    let third = tokio::task::block_in_place(next_line);
    assert!(third.starts_with("CLICKED dead letter"), "{third}");
    let fourth = tokio::task::block_in_place(next_line);
    assert!(fourth.starts_with("EXPIRED Silence sil_"), "{fourth}");
    let fifth = tokio::task::block_in_place(next_line);
    assert!(fifth.starts_with("ADDED Silence sil_"), "{fifth}");
    let silences: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/silences"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("silences")
        .json()
        .await
        .expect("json");
    let silences = silences["silences"].as_array().expect("silences");
    assert_eq!(silences.len(), 2, "{silences:#?}");
    let expired = silences
        .iter()
        .find(|silence| silence["comment"] == "planned cutover")
        .expect("the silence the API added");
    assert_eq!(expired["status"], "expired");
    // The page's silence is what its form said, for 30 minutes from when it was added.
    let added = silences
        .iter()
        .find(|silence| silence["comment"] == "cutover of move-a, from the page")
        .expect("the silence the page added");
    assert_eq!(added["status"], "active", "{added:#}");
    assert_eq!(added["database"], "acme/commerce");
    assert_eq!(added["events"], serde_json::json!(["workflow.*"]));
    let instant = |field: &str| {
        time::OffsetDateTime::parse(
            added[field].as_str().expect(field),
            &time::format_description::well_known::Rfc3339,
        )
        .expect(field)
    };
    assert_eq!(
        instant("ends_at") - instant("starts_at"),
        time::Duration::minutes(30)
    );
    let output = tokio::task::spawn_blocking(move || browser.wait_with_output())
        .await
        .expect("join")
        .expect("browser");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The retried letter reaches the receiver.
    let delivered = eventually(Duration::from_secs(10), || async {
        (!receiver.accepted("/hooks").is_empty()).then_some(())
    })
    .await;
    assert!(delivered.is_some(), "{}", service.stderr());
    assert!(screenshot.is_file(), "the screenshot is kept");
    let stopped = service.terminate(Duration::from_secs(25)).await;
    assert!(stopped.is_some_and(|status| status.success()));
}
