//! Templates through the binary: `check` names a broken one with its line and column,
//! `template preview` prints what channels would send, and a running service sends a
//! template's text, or, when a template fails on a real event, the built-in text, logging and
//! counting the failure.

mod support;

use std::time::Duration;

use serde_json::Value;
use simulator::{SimWorkflow, World};
use support::fleet::{Fleet, HOOKS};
use support::{eventually, pswatch, Service};

const TOKEN: &str = "templates-admin-token-0123456789abcdef";

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn check_names_a_broken_template_and_preview_prints_what_channels_send() {
    let fleet = Fleet::start(World::default()).await;
    let broken = fleet.write(
        fleet
            .config("1s")
            .watch("acme", &[])
            .template(
                "mine",
                &["workflow.*"],
                Some("{{ event.resource }}"),
                Some("first line\n  {{ event.database }\n"),
            )
            .template("loose", &[], None, Some("{{ event.workflow.name }}"))
            .with("templates", vec!["mine", "missing"]),
    );
    let checked = pswatch(&["check"], &broken, &[]);
    let said = text(&checked);
    assert_eq!(checked.status.code(), Some(1), "{said}");
    assert!(
        said.contains("templates[0].text: template \"mine\", text, line 2, column"),
        "{said}"
    );
    assert!(said.contains("syntax error"), "{said}");
    assert!(
        said.contains("templates[1].text: template \"loose\", text, line 1, column"),
        "{said}"
    );
    assert!(
        said.contains("(rendering a sample deploy_request.state_changed event)"),
        "{said}"
    );
    assert!(
        said.contains("channels[0].templates[1]: \"missing\" is not the name of a template"),
        "{said}"
    );

    let fixed = fleet.write(
        fleet
            .config("1s")
            .watch("acme", &[])
            .template(
                "mine",
                &["workflow.*"],
                Some("{{ event.resource }} is {{ event.to }}"),
                Some("Moved from {{ event.from }} by {{ event.workflow.actor }}"),
            )
            .with("templates", vec!["mine"]),
    );
    let checked = pswatch(&["check"], &fixed, &[]);
    assert!(checked.status.success(), "{}", text(&checked));
    let previewed = pswatch(&["template", "preview", "--template", "mine"], &fixed, &[]);
    let said = text(&previewed);
    assert!(previewed.status.success(), "{said}");
    assert!(
        said.contains("template mine, rendered for a sample workflow.state_changed event"),
        "{said}"
    );
    assert!(
        said.contains("title: workflow #3 move-customers is cutover"),
        "{said}"
    );
    assert!(said.contains("== channel audit (webhook) =="), "{said}");
    assert!(
        said.contains("\"text\": \"Moved from switched_primaries by Ada Lovelace\""),
        "{said}"
    );
    let refused = pswatch(
        &[
            "template",
            "preview",
            "--template",
            "mine",
            "--event",
            "deploy_request.state_changed",
        ],
        &fixed,
        &[],
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("does not apply to \"deploy_request.state_changed\""),
        "{}",
        text(&refused)
    );
}

/// A template that renders for the sample but fails on a real event (a division by zero for
/// workflow #5): the receiver still gets the event, with the built-in text, and the failure is
/// logged and counted. Another channel's template that works puts its text in the body.
#[tokio::test(flavor = "multi_thread")]
async fn a_template_that_fails_at_run_time_gives_way_to_the_built_in_text() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(5, "move-orders", "copying"));
    let fleet = Fleet::start(world).await;
    let hook = format!("{}{HOOKS}", fleet.receiver.url);
    let config = fleet.write(
        fleet
            .config("200ms")
            .set("admin.listen", "127.0.0.1:0")
            .set("admin.token", "${TEST_ADMIN_TOKEN}")
            .watch("acme", &["commerce"])
            .template(
                "fragile",
                &["workflow.*"],
                Some("{{ 100 // (event.workflow.number - 5) }}"),
                None,
            )
            .template(
                "sturdy",
                &["workflow.*"],
                Some("{{ event.workflow.name }} → {{ event.to }}"),
                Some("from {{ event.from }}"),
            )
            .with("templates", vec!["fragile"])
            .webhook("sturdy", &format!("{hook}/sturdy"))
            .with("templates", vec!["sturdy"])
            .route(&["sturdy"])
            // A digest keeps the journal of polls' events, which --from-store reads.
            .digest("evening", &["sturdy"], "23:59"),
    );
    let checked = pswatch(&["check"], &config, &[("TEST_ADMIN_TOKEN", TOKEN.into())]);
    assert!(checked.status.success(), "{}", text(&checked));
    let mut service = Service::start(
        &config,
        &[("TEST_ADMIN_TOKEN", TOKEN.into())],
        fleet.directory.path(),
    );
    service.logged("baseline recorded").await;
    fleet.simulator.update(|world| {
        world.database_mut("acme", "commerce").workflows[0].state = "running".into();
    });
    // Both channels send the same event, with the same webhook-id: counted per path here.
    let bodies = |path: &str| -> Vec<Value> {
        fleet
            .receiver
            .requests()
            .iter()
            .filter(|request| request.path == path && request.status == 200)
            .map(|request| serde_json::from_slice(&request.body).expect("json"))
            .collect()
    };
    let arrived = eventually(Duration::from_secs(20), || {
        let (fragile, sturdy) = (bodies(HOOKS), bodies(&format!("{HOOKS}/sturdy")));
        std::future::ready((!fragile.is_empty() && !sturdy.is_empty()).then_some((fragile, sturdy)))
    })
    .await;
    let (fragile, sturdy) =
        arrived.unwrap_or_else(|| panic!("not delivered: {}", service.stderr()));
    assert_eq!(fragile[0]["type"], "workflow.state_changed");
    assert!(
        fragile[0].get("title").is_none() && fragile[0].get("text").is_none(),
        "the built-in body: {:#}",
        fragile[0]
    );
    assert_eq!(sturdy[0]["title"], "move-orders → running");
    assert_eq!(sturdy[0]["text"], "from copying");
    assert!(
        service
            .wait_for_log(
                "a template failed; the built-in text is sent instead",
                Duration::from_secs(5)
            )
            .await
    );
    let log = service.stderr();
    assert!(
        log.contains("template \"fragile\", title, line 1, column 4 (rendering a workflow.state_changed event)"),
        "{log}"
    );
    let base = service.admin_url().await;
    let metrics = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("pswatch_template_errors_total{template=\"fragile\"} 1"),
        "{metrics}"
    );

    // Once the service has stopped, a preview can take the real event from the store (kept in
    // the journal: its deliveries are done) instead of a sample.
    service.terminate(Duration::from_secs(20)).await;
    let env = [("TEST_ADMIN_TOKEN", TOKEN.to_owned())];
    let previewed = pswatch(
        &[
            "template",
            "preview",
            "--template",
            "sturdy",
            "--from-store",
        ],
        &config,
        &env,
    );
    let said = text(&previewed);
    assert!(previewed.status.success(), "{said}");
    assert!(
        said.contains("rendered for the latest workflow.state_changed event in the store"),
        "{said}"
    );
    assert!(said.contains("title: move-orders → running"), "{said}");
    let none = pswatch(
        &[
            "template",
            "preview",
            "--template",
            "fragile",
            "--event",
            "workflow.errors_changed",
            "--from-store",
        ],
        &config,
        &env,
    );
    assert!(
        text(&none).contains("the store holds no workflow.errors_changed event"),
        "{}",
        text(&none)
    );
}
