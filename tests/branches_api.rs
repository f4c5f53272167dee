//! The API client reads a database's branches and their backups from the simulator, which
//! serves them in PlanetScale's specification's shapes (what watching backups and resizes
//! builds on).

use std::sync::Arc;
use std::time::Duration;

use diff_engine::Target;
use poller::{Budget, Client, ClientConfig, PollError, ServiceToken};
use simulator::{SimBackup, SimBranch, Simulator, World};

/// The simulator serving `world`, and a client of it.
async fn serve(world: World) -> (Simulator, Client) {
    let simulator = Simulator::start(world, Some("tok-id:tok".into()))
        .await
        .expect("simulator");
    let client = Client::new(ClientConfig::new(
        simulator.api_url().parse().expect("url"),
        ServiceToken::new("tok-id", "tok"),
        Arc::new(Budget::new(480, Duration::from_secs(60))),
    ))
    .expect("client");
    (simulator, client)
}

#[tokio::test]
async fn branches_and_backups_come_from_the_api() {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    database.branches.push(SimBranch::new("add-orders", false));
    let mut failed = SimBackup::new("bk1", "main");
    failed.state = "failed".into();
    failed.size = 4096;
    failed.started_at = Some("2026-11-23T09:00:00.000Z".into());
    database.backups.push(failed);
    database.backups.push(SimBackup::new("bk2", "main"));
    database.backups.push(SimBackup::new("bk3", "add-orders"));
    world.database_mut("acme", "pg").kind = "postgresql".into();
    let (_simulator, client) = serve(world).await;
    let target = Target::new("acme", "commerce");
    let branches = client.list_branches(&target).await.expect("branches").items;
    let names: Vec<(&str, bool)> = branches
        .iter()
        .map(|branch| (branch.name.as_str(), branch.production))
        .collect();
    assert_eq!(names, [("main", true), ("add-orders", false)]);
    let backups = client
        .list_backups(&target, "main")
        .await
        .expect("backups")
        .items;
    let states: Vec<(&str, &str)> = backups
        .iter()
        .map(|backup| (backup.id.as_str(), backup.state.as_str()))
        .collect();
    assert_eq!(states, [("bk1", "failed"), ("bk2", "pending")]);
    assert_eq!(backups[0].size, Some(4096));
    assert_eq!(
        backups[0].started_at.as_deref(),
        Some("2026-11-23T09:00:00.000Z")
    );
    // A PostgreSQL database has branches too.
    let pg = client
        .list_branches(&Target::new("acme", "pg"))
        .await
        .expect("branches");
    assert_eq!(pg.items[0].kind.as_deref(), Some("postgresql"));
    // A branch that does not exist: 404, named.
    let missing = client.list_backups(&target, "nope").await;
    assert!(
        matches!(missing, Err(PollError::NotFound { .. })),
        "{missing:?}"
    );
}

/// Branch names the specification allows (any string) are put into paths percent-encoded: a
/// branch named with a line break, a tab or a slash is asked for as itself, not as something
/// else. `.` and `..` can be in no URL path: those branches alone go unread, the reading says
/// it is partial, and every other branch's backups are read.
#[tokio::test]
async fn odd_branch_names_are_asked_for_as_themselves_and_cost_only_their_own_reading() {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    let odd = [
        "line\r\nbreak",
        "tab\there",
        "a/b",
        "%2e%2e",
        "..",
        ".",
        "ü ?#",
    ];
    for name in odd {
        database.branches.push(SimBranch::new(name, true));
        database
            .backups
            .push(SimBackup::new(&format!("bk-{}", name.escape_debug()), name));
    }
    database.backups.push(SimBackup::new("bk-main", "main"));
    let (_simulator, client) = serve(world).await;
    let target = Target::new("acme", "commerce");
    let production = client.production_branches(&target).await.expect("branches");
    assert_eq!(production.items.len(), odd.len() + 1);
    let read = client
        .observe_slow(&target, &production, true, true)
        .await
        .expect("read");
    let backups = read.backups.expect("backups");
    let mut branches: Vec<&str> = backups
        .items
        .iter()
        .map(|backup| backup.branch.as_str())
        .collect();
    branches.sort_unstable();
    assert_eq!(
        branches,
        [
            "%2e%2e",
            "a/b",
            "line\r\nbreak",
            "main",
            "tab\there",
            "ü ?#"
        ]
    );
    assert!(backups.partial, "`.` and `..` were not read");
    assert!(read.resizes.expect("resizes").partial);
    for error in [".", "..", ""] {
        let refused = client.list_backups(&target, error).await;
        assert!(
            matches!(refused, Err(PollError::Unaddressable { .. })),
            "{refused:?}"
        );
    }
}

/// An organization with a database per customer: 20,000 databases are listed whole, 200 pages
/// of 100 (past the 50 pages a database's own lists may take).
#[tokio::test]
async fn an_organization_of_twenty_thousand_databases_is_listed_whole() {
    let mut world = World::default();
    for number in 0..20_000 {
        world.database_mut("acme", &format!("customer-{number:05}"));
    }
    let (_simulator, client) = serve(world).await;
    let client = client.for_poll(poller::Priority::High);
    let databases = client.list_databases("acme").await.expect("listed");
    assert_eq!(databases.len(), 20_000);
    assert_eq!(client.poll_requests(), 200);
    assert_eq!(poller::DATABASE_PAGE_CAP, 1_000, "the documented bound");
}
