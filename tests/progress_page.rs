//! Progress on the status page, in a real browser (Playwright for Python driving Debian's
//! chromium, set up by `tests/tools/install`): a workflow's journey as a row of its phases with
//! the times the API gave, the current one marked in text and colour; a deploy request's tables
//! as progress bars with their percentage and ETA; a resize and a backup under way. A screenshot
//! is kept in `target/test-artifacts/progress.png` (the one in `docs/operations.md`).

mod support;

use std::path::Path;

use simulator::{SimBackup, SimDeployRequest, SimOperation, SimResize, SimWorkflow, World};
use support::fleet::Fleet;
use support::Service;

const TOKEN: &str = "progress-page-admin-token-0123456789";

fn world() -> World {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    database
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "switched_replicas"));
    let mut request = SimDeployRequest::new(9, "in_progress");
    let mut orders = SimOperation::new("op-orders", "orders", "in_progress");
    orders.progress = 42.5;
    orders.eta_seconds = Some(754);
    request.operations.push(orders);
    request
        .operations
        .push(SimOperation::new("op-customers", "customers", "complete"));
    request
        .operations
        .push(SimOperation::new("op-items", "items", "pending"));
    database.deploy_requests.push(request);
    let mut resize = SimResize::new("rs1", "main", None);
    resize.state = "resizing".into();
    database.resizes.push(resize);
    let mut backup = SimBackup::new("bk2", "main");
    backup.state = "running".into();
    database.backups.push(backup);
    world
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_draws_phases_progress_bars_and_what_is_under_way() {
    let fleet = Fleet::start(world()).await;
    let config = fleet.write(
        fleet
            .config("200ms")
            .set("admin.token", "${TEST_ADMIN_TOKEN}")
            .watch("acme", &["commerce"])
            .watch_with(
                "resources",
                vec!["workflows", "deploy_requests", "backups", "resizes"],
            ),
    );
    let service = Service::start(
        &config,
        &[("TEST_ADMIN_TOKEN", TOKEN.into())],
        fleet.directory.path(),
    );
    service.logged("baseline recorded").await;
    let base = service.admin_url().await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let artifacts = root.join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts directory");
    let screenshot = artifacts.join("progress.png");
    let output = support::browser_script(
        "progress_page.py",
        vec![base, TOKEN.into(), screenshot.display().to_string()],
    )
    .await;
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains("OK"),
        "{}\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        service.stderr()
    );
    assert!(screenshot.is_file(), "the screenshot is kept");
}
