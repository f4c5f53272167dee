//! The poller and the diff over PlanetScale's own response shapes (see `fixtures/README.md`):
//! each test serves fixtures through a wiremock server, poll after poll, and checks the events
//! the diff makes of them and the requests it took.

use std::time::Duration;

use diff_engine::{diff, DiffOptions, Event, EventKind, Target, TargetState};
use poller::{Client, ClientConfig, ServiceToken};
use serde_json::{json, Value};
use time::macros::datetime;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DB: &str = "/v1/organizations/acme/databases/commerce";

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn list(data: Vec<Value>) -> Value {
    json!({"type": "list", "current_page": 1, "per_page": 100, "next_page": null,
           "next_page_url": null, "prev_page": null, "prev_page_url": null,
           "total_count": data.len(), "total_pages": 1, "data": data})
}

/// What the API serves in one poll.
struct Poll {
    workflows: Value,
    open: Value,
    /// Deploy requests served by number.
    by_number: Vec<Value>,
}

impl Poll {
    fn open(requests: &[&str]) -> Self {
        Self {
            workflows: list(Vec::new()),
            open: list(requests.iter().map(|name| fixture(name)).collect()),
            by_number: Vec::new(),
        }
    }

    fn closed(request: &str) -> Self {
        Self {
            workflows: list(Vec::new()),
            open: list(Vec::new()),
            by_number: vec![fixture(request)],
        }
    }
}

/// Polls in order from `state`; returns each poll's events (one line each), the requests it
/// took, and the last state.
async fn run(
    state: Option<TargetState>,
    polls: Vec<Poll>,
    options: DiffOptions<'_>,
) -> (Vec<Vec<String>>, Vec<Vec<String>>, TargetState) {
    let server = MockServer::start().await;
    let mut config = ClientConfig::new(
        format!("{}/v1", server.uri()).parse().expect("url"),
        ServiceToken::new("tok-id", "s3cr3t-token"),
        std::sync::Arc::new(poller::Budget::per_minute(600)),
    );
    config.timeout = Duration::from_secs(2);
    let client = Client::new(config).expect("client");
    let target = Target::new("acme", "commerce");
    let mut state = state;
    let mut events = Vec::new();
    let mut requests = Vec::new();
    for poll in polls {
        server.reset().await;
        Mock::given(method("GET"))
            .and(path(format!("{DB}/workflows")))
            .respond_with(ResponseTemplate::new(200).set_body_json(&poll.workflows))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{DB}/deploy-requests")))
            .and(query_param("state", "open"))
            .respond_with(ResponseTemplate::new(200).set_body_json(&poll.open))
            .mount(&server)
            .await;
        for request in &poll.by_number {
            Mock::given(method("GET"))
                .and(path(format!("{DB}/deploy-requests/{}", request["number"])))
                .respond_with(ResponseTemplate::new(200).set_body_json(request))
                .mount(&server)
                .await;
        }
        let observation = client
            .observe(&target, state.as_ref())
            .await
            .expect("observes");
        let result = diff(
            &target,
            state.as_ref(),
            &observation,
            datetime!(2026-11-23 12:00 UTC),
            options,
        );
        events.push(result.events.iter().map(describe).collect());
        let received = server.received_requests().await.unwrap_or_default();
        requests.push(
            received
                .iter()
                .map(|request| request.url.path().trim_start_matches(DB).to_owned())
                .collect(),
        );
        state = Some(result.next);
    }
    (events, requests, state.unwrap_or_default())
}

/// `type resource previous->state severity [phase] | errors`
fn describe(event: &Event) -> String {
    let resource = match &event.kind {
        EventKind::WorkflowStateChanged { workflow, .. }
        | EventKind::WorkflowErrorsChanged { workflow, .. } => format!("wf{}", workflow.number),
        EventKind::PlanetScale { event, .. } => event.as_str().to_owned(),
        kind => match (kind.operation(), kind.phase(), kind.deploy_request_number()) {
            (Some(operation), Some(phase), Some(number)) => format!(
                "dr{number}/{}({phase})",
                operation.table_name.as_deref().unwrap_or("?")
            ),
            (_, _, Some(number)) => format!("dr{number}"),
            _ => "?".to_owned(),
        },
    };
    let mut line = format!(
        "{} {resource} {}->{} {}",
        event.type_name(),
        event.kind.previous_state().unwrap_or("null"),
        event.kind.state(),
        event.severity
    );
    if let Some(errors) = event.kind.errors() {
        line.push_str(&format!(" | {}", errors.replace('\n', " / ")));
    }
    line
}

fn baseline() -> Option<TargetState> {
    Some(TargetState::default())
}

/// The deploy request of PlanetScale's webhook examples, poll after poll: every step is
/// reported once, the operation whose id changed is the same operation, the revert's operation
/// is reported with its phase, and not one request goes to `…/operations`.
#[tokio::test]
async fn a_deploy_request_life_from_the_webhook_examples() {
    let (events, requests, state) = run(
        baseline(),
        vec![
            Poll::open(&["deploy_request_webhook_opened"]),
            Poll::open(&["deploy_request_webhook_queued"]),
            Poll::open(&["deploy_request_webhook_in_progress"]),
            Poll::open(&["deploy_request_webhook_pending_cutover"]),
            Poll::open(&["deploy_request_webhook_schema_applied"]),
            Poll::open(&["deploy_request_webhook_reverted"]),
            Poll::closed("deploy_request_webhook_closed"),
        ],
        DiffOptions::default(),
    )
    .await;
    assert_eq!(
        events,
        [
            vec!["deploy_request.state_changed dr5 null->pending info"],
            vec!["deploy_request.state_changed dr5 pending->queued info"],
            vec!["deploy_request.state_changed dr5 queued->in_progress info"],
            vec![
                "deploy_operation.state_changed dr5/Persons(deploy) pending->in_progress info",
                "deploy_request.state_changed dr5 in_progress->pending_cutover info",
            ],
            // krosesxjzl1p is wo1m619ufrpc under its new id: a transition, not a new operation.
            vec![
                "deploy_operation.state_changed dr5/Persons(deploy) in_progress->complete info",
                "deploy_request.state_changed dr5 pending_cutover->complete_pending_revert info",
            ],
            vec![
                "deploy_operation.state_changed dr5/Persons(revert) submit->complete info",
                "deploy_request.state_changed dr5 complete_pending_revert->in_progress_revert info",
            ],
            vec!["deploy_request.state_changed dr5 in_progress_revert->complete_revert warning"],
        ]
    );
    let per_poll: Vec<usize> = requests.iter().map(Vec::len).collect();
    // The poll that sees it queued also reads the deploy queue for its place.
    assert_eq!(per_poll, [2, 3, 2, 2, 2, 2, 3], "{requests:?}");
    assert!(
        requests
            .iter()
            .flatten()
            .all(|path| !path.ends_with("/operations")),
        "{requests:?}"
    );
    assert!(state.deploy_requests.is_empty(), "closed: forgotten");
}

/// The pending_cutover example waits for a click (auto_cutover false), and its
/// `deployment_state` is reported, not `deployment.state`.
#[tokio::test]
async fn pending_cutover_without_auto_cutover_waits() {
    let (events, _, state) = run(
        baseline(),
        vec![Poll::open(&["deploy_request_webhook_pending_cutover"])],
        DiffOptions::default(),
    )
    .await;
    assert_eq!(
        events[0],
        [
            "deploy_request.state_changed dr5 null->pending_cutover info",
            "deploy_operation.state_changed dr5/Persons(deploy) null->in_progress info",
        ]
    );
    assert_eq!(state.motion(), diff_engine::Motion::Waiting);
}

/// An instant deploy finishes between two polls: the failing table is reported with its error
/// from the state it was last seen in, with no `…/operations` request.
#[tokio::test]
async fn an_instant_deploy_that_failed_between_two_polls() {
    let (events, requests, _) = run(
        baseline(),
        vec![
            Poll::open(&["deploy_request_instant_ready"]),
            Poll::open(&["deploy_request_instant_complete_error"]),
        ],
        DiffOptions::default(),
    )
    .await;
    assert_eq!(
        events[1],
        [
            "deploy_operation.state_changed dr5/Persons(deploy) pending->error critical | Column 'Address' is referenced by view `PersonsByCity`",
            "deploy_operation.state_changed dr5/Invoices(deploy) pending->complete info",
            "deploy_request.state_changed dr5 ready->complete_error critical",
        ]
    );
    assert_eq!(requests[1].len(), 2, "{requests:?}");
}

/// The same instant deploy, already closed by the next poll: fetched once by number, which
/// carries its operations.
#[tokio::test]
async fn an_instant_deploy_closed_between_two_polls() {
    let mut closed = fixture("deploy_request_instant_complete_error");
    closed["state"] = json!("closed");
    let (events, requests, _) = run(
        baseline(),
        vec![
            Poll::open(&["deploy_request_instant_ready"]),
            Poll {
                workflows: list(Vec::new()),
                open: list(Vec::new()),
                by_number: vec![closed],
            },
        ],
        DiffOptions::default(),
    )
    .await;
    assert_eq!(events[1].len(), 3, "{events:?}");
    assert!(events[1][0].contains("pending->error critical | Column 'Address'"));
    assert_eq!(
        requests[1],
        ["/workflows", "/deploy-requests", "/deploy-requests/5"]
    );
}

/// Validation failed: the event carries the lint error's description.
#[tokio::test]
async fn a_deploy_request_that_failed_validation_says_why() {
    let mut pending = fixture("deploy_request_webhook_errored");
    pending["deployment_state"] = json!("pending");
    pending["deployment"]["state"] = json!("pending");
    pending["deployment"]["lint_errors"] = json!([]);
    let (events, _, _) = run(
        baseline(),
        vec![
            Poll {
                workflows: list(Vec::new()),
                open: list(vec![pending]),
                by_number: Vec::new(),
            },
            Poll::open(&["deploy_request_webhook_errored"]),
        ],
        DiffOptions::default(),
    )
    .await;
    assert_eq!(
        events[1],
        ["deploy_request.state_changed dr1 pending->error critical | table \"Persons\" has no unique key: all tables must have at least one unique, not-null key without using text / blob columns or partial indexes. (NO_UNIQUE_KEY)"]
    );
}

/// A revert that failed: the table and the reason come with it.
#[tokio::test]
async fn a_failed_revert_names_the_table_and_the_reason() {
    let (events, _, _) = run(
        baseline(),
        vec![
            Poll::open(&["deploy_request_webhook_schema_applied"]),
            Poll::open(&["deploy_request_revert_error"]),
        ],
        DiffOptions::default(),
    )
    .await;
    assert_eq!(
        events[1],
        [
            "deploy_operation.state_changed dr5/Persons(revert) submit->error critical | Table 'Persons' is locked by a running query; the revert was stopped",
            "deploy_request.state_changed dr5 complete_pending_revert->complete_revert_error critical",
        ]
    );
}

/// Odd items cost only themselves: the rest of each page is used, remembered resources behind
/// odd items keep their state (and are not fetched by number), and nothing is announced twice.
#[tokio::test]
async fn odd_items_cost_only_themselves() {
    let workflows = fixture("workflows_odd_items");
    let requests = fixture("deploy_requests_odd_items");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/workflows")))
        .respond_with(ResponseTemplate::new(200).set_body_json(&workflows))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/deploy-requests")))
        .respond_with(ResponseTemplate::new(200).set_body_json(&requests))
        .mount(&server)
        .await;
    let client = Client::new(ClientConfig::new(
        format!("{}/v1", server.uri()).parse().expect("url"),
        ServiceToken::new("tok-id", "s3cr3t-token"),
        std::sync::Arc::new(poller::Budget::per_minute(600)),
    ))
    .expect("client");
    let target = Target::new("acme", "commerce");
    // Remembered: workflow #7 and deploy request #8, whose items are now unreadable.
    let mut previous = TargetState::default();
    previous.workflows.insert(
        "arr4yst4t3wf".into(),
        diff_engine::SeenWorkflow {
            number: 7,
            name: "move-carts".into(),
            state: diff_engine::WorkflowState::Copying,
            workflow_errors: None,
            events: 1,
            times: Default::default(),
        },
    );
    previous.deploy_requests.insert(
        8,
        diff_engine::SeenDeployRequest {
            deployment_state: diff_engine::DeployState::Queued,
            auto_cutover: None,
            events: 1,
            operations: Default::default(),
            revert_operations: Default::default(),
            waiting: Default::default(),
            queue_position: None,
        },
    );
    let observation = client
        .observe(&target, Some(&previous))
        .await
        .expect("one odd item never costs the poll");
    let workflow_numbers: Vec<u64> = observation.workflows.iter().map(|w| w.number).collect();
    assert_eq!(workflow_numbers, [3, 4, 5]);
    assert_eq!(
        observation.workflows[1].workflow_errors.as_deref(),
        Some("vreplication: copy of orders stopped\nDuplicate entry '1042' for key 'PRIMARY'")
    );
    let request_numbers: Vec<u64> = observation
        .deploy_requests
        .iter()
        .map(|observed| observed.deploy_request.number)
        .collect();
    assert_eq!(request_numbers, [5, 6, 9]);
    let with_bad_operation = &observation.deploy_requests[2];
    assert!(with_bad_operation.operations_partial);
    assert_eq!(
        with_bad_operation.operations.as_ref().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        with_bad_operation.operations.as_ref().expect("operations")[0]
            .deploy_errors
            .as_deref(),
        Some("first line\nsecond line")
    );
    let unreadable: Vec<String> = observation
        .unreadable
        .iter()
        .map(|item| format!("{}: {}", item.what, item.problem))
        .collect();
    assert_eq!(
        unreadable,
        [
            format!("item 4 of {DB}/workflows (id n0numb3rw0rk): `number` is missing"),
            format!("item 5 of {DB}/workflows (id arr4yst4t3wf, number 7): `state` is a list, not a state"),
            "item 2 of deployment.deploy_operations of deploy request #9: `state` is an object, not a state".to_owned(),
            format!("item 2 of {DB}/deploy-requests (id nonumber0001): `number` is missing"),
            format!("item 4 of {DB}/deploy-requests (id arraytext003, number 8): `deployment_state` is a list, not a state"),
        ]
    );
    // Two list requests and the deploy queue (a request of the page is queued), nothing
    // fetched by number for the odd items' resources.
    let asked: Vec<String> = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|request| request.url.path().trim_start_matches(DB).to_owned())
        .collect();
    assert_eq!(asked, ["/workflows", "/deploy-requests", "/deploy-queue"]);
    let result = diff(
        &target,
        Some(&previous),
        &observation,
        datetime!(2026-11-23 12:00 UTC),
        DiffOptions::default(),
    );
    assert_eq!(
        result.next.workflows["arr4yst4t3wf"],
        previous.workflows["arr4yst4t3wf"]
    );
    assert_eq!(
        result.next.deploy_requests[&8],
        previous.deploy_requests[&8]
    );
    assert_eq!(
        result
            .anomalies
            .iter()
            .filter(|anomaly| anomaly.kind() == "unreadable_item")
            .count(),
        5
    );
}
