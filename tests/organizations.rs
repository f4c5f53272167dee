//! Several organizations, each read with its own service token: a `[[watch]]` that names
//! `service_token_id` and `service_token` reads its organization with that token (the simulator
//! accepts only it there) and spends its own budget, shown as its own line of `/api/status` and
//! under its own `token` label in the metrics; a token that PlanetScale refuses is named with
//! where it is configured, and no secret reaches the log.

mod support;

use serde_json::Value;
use simulator::{SimWorkflow, World};
use support::fleet::Fleet;
use support::{get, Service};

const EU_TOKEN: &str = "pscale_tkn_eu_5ecr3t_0123456789";
const LABS_TOKEN: &str = "pscale_tkn_labs_wr0ng_0123456789";

fn world() -> World {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "running"));
    world
        .database_mut("acme-eu", "shop")
        .workflows
        .push(SimWorkflow::new(5, "move-orders", "running"));
    world
        .database_mut("acme-labs", "lab")
        .workflows
        .push(SimWorkflow::new(7, "move-tests", "running"));
    world
}

#[tokio::test(flavor = "multi_thread")]
async fn each_organization_is_read_with_its_own_token_and_budget() {
    let fleet = Fleet::start(world()).await;
    fleet
        .simulator
        .set_organization_token("acme-eu", &format!("eu-id:{EU_TOKEN}"));
    fleet
        .simulator
        .set_organization_token("acme-labs", "labs-id:the-right-one");
    let config = fleet.write(
        fleet
            .config("200ms")
            .watch("acme", &["commerce"])
            .watch("acme-eu", &["shop"])
            .watch_with("service_token_id", "eu-id")
            .watch_with("service_token", "${EU_TOKEN}")
            .watch_with("requests_per_minute", 120)
            .watch("acme-labs", &["lab"])
            .watch_with("service_token_id", "labs-id")
            .watch_with("service_token", "${LABS_TOKEN}"),
    );
    let checked = support::pswatch(
        &["check"],
        &config,
        &[
            ("EU_TOKEN", EU_TOKEN.into()),
            ("LABS_TOKEN", LABS_TOKEN.into()),
        ],
    );
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{said}");
    for line in [
        "service token planetscale (tok-id): 480 requests a minute for acme\n",
        "service token acme-eu (eu-id): 120 requests a minute for acme-eu\n",
        "service token acme-labs (labs-id): 480 requests a minute for acme-labs\n",
    ] {
        assert!(said.contains(line), "{said}");
    }
    assert!(!said.contains(EU_TOKEN), "{said}");
    let service = Service::start(
        &config,
        &[
            ("EU_TOKEN", EU_TOKEN.into()),
            ("LABS_TOKEN", LABS_TOKEN.into()),
        ],
        fleet.directory.path(),
    );
    for target in ["acme/commerce", "acme-eu/shop"] {
        service
            .logged(&format!("baseline recorded target_db={target}"))
            .await;
    }
    fleet.simulator.update(|world| {
        for (organization, database, number) in [("acme", "commerce", 3), ("acme-eu", "shop", 5)] {
            world
                .database_mut(organization, database)
                .workflow_mut(number)
                .expect("workflow")
                .state = "switched_primaries".into();
        }
    });
    let delivered = fleet.wait_for("workflow.state_changed", 2).await;
    let mut databases: Vec<&str> = delivered
        .iter()
        .filter_map(|body| body["data"]["database"].as_str())
        .collect();
    databases.sort_unstable();
    assert_eq!(databases, ["commerce", "shop"]);
    assert!(fleet.simulator.requests_with_token("eu-id") > 0);
    assert!(fleet.simulator.requests_with_token("tok-id") > 0);

    // The refused token is named with where it is set; the poll keeps failing, alone.
    let refused = "labs-id (set in [[watch]] of organization \"acme-labs\")";
    service.logged(refused).await;

    let admin = service.admin_url().await;
    let (status, body) = get(&format!("{admin}/api/status")).await;
    assert_eq!(status, 200, "{body}");
    let status: Value = serde_json::from_str(&body).expect("json");
    let budgets = status["budgets"].as_array().expect("budgets");
    let line = |token: &str| {
        budgets
            .iter()
            .find(|line| line["token"] == token)
            .unwrap_or_else(|| panic!("no budget line for {token}: {budgets:#?}"))
    };
    assert_eq!(line("planetscale")["limit"], 480);
    assert_eq!(
        line("planetscale")["organizations"],
        serde_json::json!(["acme"])
    );
    assert_eq!(line("acme-eu")["limit"], 120);
    assert_eq!(
        line("acme-eu")["organizations"],
        serde_json::json!(["acme-eu"])
    );
    assert!(line("acme-eu")["used"].as_u64().expect("used") > 0);
    assert_eq!(line("acme-labs")["limit"], 480);
    assert_eq!(status["budget"]["token"], "planetscale");
    let (_, metrics) = get(&format!("{admin}/metrics")).await;
    assert!(
        metrics.contains("pswatch_api_budget_limit{token=\"acme-eu\"} 120"),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with("pswatch_api_requests_total{")
                && line.contains("token=\"acme-eu\"")),
        "{metrics}"
    );
    let logs = service.stderr();
    for secret in [EU_TOKEN, LABS_TOKEN, "the-right-one"] {
        assert!(!logs.contains(secret), "a token in the log");
        assert!(!body.contains(secret), "a token in the status");
        assert!(!metrics.contains(secret), "a token in the metrics");
    }
}

#[test]
fn check_refuses_half_a_token_and_two_secrets_for_one_id() {
    let directory = tempfile::tempdir().expect("tempdir");
    let config = support::config::ConfigBuilder::new(
        "http://127.0.0.1:9/v1",
        &directory.path().join("state"),
    )
    .watch("acme", &[])
    .watch("acme-eu", &[])
    .watch_with("service_token_id", "eu-id")
    .watch("acme-labs", &[])
    .watch_with("requests_per_minute", 100)
    .watch("acme-dev", &[])
    .watch_with("service_token_id", "tok-id")
    .watch_with("service_token", "another-secret")
    .write(&directory.path().join("pswatch.toml"));
    let output = support::pswatch(&["check"], &config, &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("watch[1].service_token: is missing"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "watch[2].requests_per_minute: is the budget of the watch's own service token"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("watch[3].service_token: differs from the token of planetscale"),
        "{stderr}"
    );
    assert!(!stderr.contains("another-secret"), "{stderr}");
}

/// An organization whose database listing is slow holds up no other: the databases named in
/// `[[watch]]` are polled from the start, and another organization watched with `["*"]` is
/// listed, and its databases polled, while the slow listing still runs.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_listing_holds_up_no_other_organization() {
    let fleet = Fleet::start(world()).await;
    fleet.simulator.set_listing_fault(
        "acme-labs",
        Some(simulator::Fault::Delay(std::time::Duration::from_secs(20))),
    );
    let config = fleet.write(
        fleet
            .config("200ms")
            .watch("acme", &["commerce"])
            .watch("acme-eu", &[])
            .watch("acme-labs", &[]),
    );
    let service = Service::start(&config, &[], fleet.directory.path());
    for database in ["acme/commerce", "acme-eu/shop"] {
        let polled = support::eventually(std::time::Duration::from_secs(8), || {
            std::future::ready(
                service
                    .stderr()
                    .lines()
                    .any(|line| line.contains("baseline recorded") && line.contains(database))
                    .then_some(()),
            )
        })
        .await;
        assert!(
            polled.is_some(),
            "{database} waited for acme-labs' listing: {}",
            service.stderr()
        );
    }
    assert!(
        !service.stderr().contains("acme-labs/lab"),
        "the slow listing had not ended: {}",
        service.stderr()
    );
}
