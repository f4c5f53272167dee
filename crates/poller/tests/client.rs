//! The client against a wiremock stand-in of the API.

use std::time::Duration;

use diff_engine::{DeployState, OperationState, Target, TargetState, WorkflowState};
use poller::{Client, ClientConfig, PollError, ServiceToken};
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DB: &str = "/v1/organizations/acme/databases/commerce";

fn client(server: &MockServer) -> Client {
    let mut config = ClientConfig::new(
        format!("{}/v1", server.uri()).parse().expect("url"),
        ServiceToken::new("tok-id", "s3cr3t-token"),
        std::sync::Arc::new(poller::Budget::per_minute(600)),
    );
    config.timeout = Duration::from_millis(500);
    config.retry_base_delay = Duration::from_millis(10);
    config.page_cap = 5;
    Client::new(config).expect("client")
}

fn list(data: Value, next_page: Option<u64>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "type": "list", "current_page": 1, "next_page": next_page,
        "next_page_url": null, "prev_page": null, "prev_page_url": null, "data": data,
    }))
}

fn workflow(number: u64, state: &str) -> Value {
    json!({"id": format!("wf{number}"), "number": number, "name": format!("move-{number}"), "state": state,
           "undocumented": {"nested": true}, "cutover_at": null})
}

fn target() -> Target {
    Target::new("acme", "commerce")
}

async fn empty_deploy_requests(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(format!("{DB}/deploy-requests")))
        .respond_with(list(json!([]), None))
        .mount(server)
        .await;
}

#[tokio::test]
async fn sends_the_service_token_and_follows_pages() {
    let server = MockServer::start().await;
    for (page, next) in [("1", Some(2)), ("2", Some(3)), ("3", None)] {
        let number: u64 = page.parse().expect("number");
        Mock::given(method("GET"))
            .and(path(format!("{DB}/workflows")))
            .and(header("authorization", "tok-id:s3cr3t-token"))
            .and(query_param("per_page", "100"))
            .and(query_param("page", page))
            .respond_with(list(json!([workflow(number, "running")]), next))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(format!("{DB}/deploy-requests")))
        .and(query_param("state", "open"))
        .and(header("authorization", "tok-id:s3cr3t-token"))
        .respond_with(list(json!([]), None))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let observation = client.observe(&target(), None).await.expect("observes");
    let numbers: Vec<u64> = observation.workflows.iter().map(|w| w.number).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(client.requests_sent(), 4);
}

#[tokio::test]
async fn retries_server_errors_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/workflows")))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/workflows")))
        .respond_with(list(json!([workflow(1, "copying")]), None))
        .expect(1)
        .mount(&server)
        .await;
    empty_deploy_requests(&server).await;
    let observation = client(&server)
        .observe(&target(), None)
        .await
        .expect("observes");
    assert_eq!(observation.workflows[0].state, WorkflowState::Copying);
}

/// A 429 with `Retry-After` (whole seconds or a fraction) is retried within the poll, once the
/// wait is over (the wait itself is `retry_delay`'s unit test), and the budget slows down.
#[tokio::test]
async fn retries_a_429_with_retry_after() {
    for retry_after in ["1", "0.5"] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(format!("{DB}/workflows")))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", retry_after))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{DB}/workflows")))
            .respond_with(list(json!([]), None))
            .expect(1)
            .mount(&server)
            .await;
        empty_deploy_requests(&server).await;
        let client = client(&server);
        client.observe(&target(), None).await.expect("observes");
        assert!(
            client.budget().usage().throttled,
            "Retry-After {retry_after}"
        );
    }
}

#[tokio::test]
async fn retries_timeouts_and_gives_up_after_the_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/workflows")))
        .respond_with(list(json!([]), None).set_delay(Duration::from_secs(2)))
        .expect(4)
        .mount(&server)
        .await;
    let error = client(&server)
        .observe(&target(), None)
        .await
        .expect_err("times out");
    assert!(matches!(error, PollError::Timeout { .. }), "{error}");
    assert!(error
        .to_string()
        .contains("/organizations/acme/databases/commerce/workflows"));
}

#[tokio::test]
async fn auth_and_missing_resources_are_reported_as_what_they_mean() {
    let cases = [
        (401, "rejected service token tok-id (HTTP 401)"),
        (403, "may not read"),
        (404, "does not exist, or service token tok-id cannot see it"),
        (
            422,
            "HTTP 422 for /v1/organizations/acme/databases/commerce/workflows: from the API",
        ),
    ];
    for (status, expected) in cases {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path_regex("/databases/commerce/"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(json!({"code": "x", "message": "from the API"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        // The organization answers: a 404 is the database's, not the token's.
        Mock::given(method("GET"))
            .and(path("/v1/organizations/acme"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"id": "o", "name": "acme"})),
            )
            .expect(u64::from(status == 404))
            .mount(&server)
            .await;
        let error = client(&server)
            .observe(&target(), None)
            .await
            .expect_err("fails");
        let text = error.to_string();
        assert!(text.contains(expected), "{status}: {text}");
        assert!(!text.contains("s3cr3t-token"), "{text}");
        assert!(!error.is_transient());
        assert_eq!(
            error.is_auth_failure(),
            matches!(status, 401 | 403),
            "{status}"
        );
    }
}

/// PlanetScale answers 404, not 401, on database paths for a bad token: when the organization
/// refuses too, the token is named as the problem.
#[tokio::test]
async fn a_404_that_the_organization_shares_is_a_token_problem() {
    for organization_status in [401, 403, 404] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(format!("{DB}/workflows")))
            .respond_with(
                ResponseTemplate::new(404)
                    .set_body_json(json!({"code": "not_found", "message": "Not Found"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/organizations/acme"))
            .respond_with(
                ResponseTemplate::new(organization_status)
                    .set_body_json(json!({"code": "unauthorized"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let error = client(&server)
            .observe(&target(), None)
            .await
            .expect_err("fails");
        assert!(
            matches!(error, PollError::TokenRejected { organization_status: status, .. } if status == organization_status),
            "{error}"
        );
        assert!(error.is_auth_failure());
        let text = error.to_string();
        assert!(
            text.contains("service token tok-id is wrong, expired or has no access to acme"),
            "{text}"
        );
        assert!(!text.contains("s3cr3t-token"), "{text}");
    }
}

#[tokio::test]
async fn an_error_page_that_is_not_json_is_quoted() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/workflows")))
        .respond_with(
            ResponseTemplate::new(418)
                .set_body_string("<html><body><h1>418</h1>\n  proxy says no</body></html>"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let error = client(&server)
        .observe(&target(), None)
        .await
        .expect_err("fails");
    assert!(
        error
            .to_string()
            .ends_with("HTTP 418 for /v1/organizations/acme/databases/commerce/workflows: <html><body><h1>418</h1> proxy says no</body></html>"),
        "{error}"
    );
}

#[tokio::test]
async fn a_pagination_that_never_ends_is_cut_off() {
    let server = MockServer::start().await;
    for page in 1..=5u64 {
        Mock::given(method("GET"))
            .and(path(format!("{DB}/workflows")))
            .and(query_param("page", page.to_string()))
            .respond_with(list(json!([workflow(page, "running")]), Some(page + 1)))
            .expect(1)
            .mount(&server)
            .await;
    }
    let error = client(&server)
        .observe(&target(), None)
        .await
        .expect_err("capped");
    assert!(
        matches!(error, PollError::TooManyPages { cap: 5, .. }),
        "{error}"
    );
}

/// A response without `deployment.deploy_operations` (an older or trimmed shape): the
/// operations come from `…/operations`, only while deploying and once after.
#[tokio::test]
async fn without_inline_operations_fetches_them_only_while_deploying() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/workflows")))
        .respond_with(list(json!([]), None))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/deploy-requests")))
        .respond_with(list(
            json!([
                {"id": "d7", "number": 7, "state": "open", "deployment_state": "in_progress", "html_url": "https://app/7"},
                {"id": "d8", "number": 8, "state": "open", "deployment_state": "ready"},
            ]),
            None,
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/deploy-requests/7/operations")))
        .respond_with(list(
            json!([{"id": "op1", "state": "error", "table_name": "orders", "deploy_errors": "Duplicate entry", "eta_seconds": 3}]),
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/deploy-requests/8/operations")))
        .respond_with(list(json!([]), None))
        .expect(0)
        .mount(&server)
        .await;
    // #5 was deploying and left the open list: fetched by number, with its final operations.
    Mock::given(method("GET"))
        .and(path(format!("{DB}/deploy-requests/5")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": "d5", "number": 5, "state": "closed", "deployment_state": "complete"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/deploy-requests/5/operations")))
        .respond_with(list(json!([{"id": "op9", "state": "complete"}]), None))
        .expect(1)
        .mount(&server)
        .await;
    // #4 is gone altogether.
    Mock::given(method("GET"))
        .and(path(format!("{DB}/deploy-requests/4")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"code": "not_found"})))
        .expect(1)
        .mount(&server)
        .await;

    let mut previous = TargetState::default();
    for (number, state) in [(4, DeployState::Ready), (5, DeployState::InProgress)] {
        previous.deploy_requests.insert(
            number,
            diff_engine::SeenDeployRequest {
                deployment_state: state,
                auto_cutover: None,
                events: 0,
                operations: Default::default(),
                revert_operations: Default::default(),
                waiting: Default::default(),
                queue_position: None,
            },
        );
    }
    let observation = client(&server)
        .observe(&target(), Some(&previous))
        .await
        .expect("observes");
    let summary: Vec<(u64, Option<usize>)> = observation
        .deploy_requests
        .iter()
        .map(|observed| {
            (
                observed.deploy_request.number,
                observed.operations.as_ref().map(Vec::len),
            )
        })
        .collect();
    assert_eq!(summary, [(7, Some(1)), (8, None), (5, Some(1))]);
    let operation = &observation.deploy_requests[0]
        .operations
        .as_ref()
        .expect("ops")[0];
    assert_eq!(operation.state, OperationState::Error);
    assert_eq!(operation.deploy_errors.as_deref(), Some("Duplicate entry"));
    assert_eq!(observation.vanished_deploy_requests, [4]);
}

#[tokio::test]
async fn a_malformed_body_fails_the_poll_with_a_clear_error() {
    for body in ["", "{\"data\": {\"id\": 1}}", "{\"truncated\": ["] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .expect(1)
            .mount(&server)
            .await;
        let error = client(&server)
            .observe(&target(), None)
            .await
            .expect_err("fails");
        assert!(matches!(error, PollError::Decode { .. }), "{body}: {error}");
        assert!(error.to_string().contains("/workflows"), "{error}");
    }
}

#[tokio::test]
async fn discovers_databases_with_their_kind() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/organizations/acme/databases"))
        .respond_with(list(
            json!([{"name": "commerce", "kind": "mysql", "state": "ready"},
                   {"name": "analytics", "kind": "postgresql"},
                   {"name": "legacy"}]),
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let databases = client(&server).list_databases("acme").await.expect("lists");
    let mysql: Vec<_> = databases
        .iter()
        .filter(|d| d.is_mysql())
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(mysql, ["commerce", "legacy"]);
}

#[test]
fn the_token_never_shows_in_debug_output() {
    let token = ServiceToken::new("tok-id", "s3cr3t-token");
    let text = format!("{token:?}");
    assert!(
        text.contains("tok-id") && !text.contains("s3cr3t"),
        "{text}"
    );
}

/// A remembered workflow the list misses is fetched by number before it is forgotten: found,
/// it is observed; gone (404), it is reported vanished; one that is over is not fetched.
#[tokio::test]
async fn a_workflow_missing_from_the_list_is_fetched_by_number() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/workflows")))
        .respond_with(list(json!([workflow(4, "copying")]), None))
        .expect(1)
        .mount(&server)
        .await;
    empty_deploy_requests(&server).await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/workflows/1")))
        .respond_with(ResponseTemplate::new(200).set_body_json(workflow(1, "switched_replicas")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/workflows/3")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"code": "not_found"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/workflows/2")))
        .respond_with(ResponseTemplate::new(200).set_body_json(workflow(2, "completed")))
        .expect(0)
        .mount(&server)
        .await;
    let mut previous = TargetState::default();
    for (number, state) in [
        (1, WorkflowState::Running),
        (2, WorkflowState::Completed),
        (3, WorkflowState::Running),
        (4, WorkflowState::Pending),
    ] {
        previous.workflows.insert(
            format!("wf{number}"),
            diff_engine::SeenWorkflow {
                number,
                name: format!("move-{number}"),
                state,
                workflow_errors: None,
                events: 1,
                times: Default::default(),
            },
        );
    }
    let observation = client(&server)
        .observe(&target(), Some(&previous))
        .await
        .expect("observes");
    let mut seen: Vec<(u64, String)> = observation
        .workflows
        .iter()
        .map(|workflow| (workflow.number, workflow.state.to_string()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [(1, "switched_replicas".into()), (4, "copying".into())]
    );
    assert_eq!(observation.vanished_workflows, ["wf3"]);
}

#[tokio::test]
async fn an_answer_larger_than_the_cap_is_an_error_not_a_memory_bill() {
    // Said up front, by its Content-Length.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{DB}/workflows")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b' '; poller::MAX_BODY + 1]))
        .mount(&server)
        .await;
    let error = client(&server)
        .observe(&target(), None)
        .await
        .expect_err("refused");
    assert!(matches!(error, PollError::TooLarge { .. }), "{error}");
    assert!(
        error.to_string().contains("larger than 8388608 bytes"),
        "{error}"
    );

    // Found out while reading a chunked answer that never says its length.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                // Up to 16 MiB, twice the cap; the client stops reading long before.
                for _ in 0..256 {
                    let framed =
                        [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                    if stream.write_all(&framed).await.is_err() {
                        return;
                    }
                }
                let _ = stream.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    let mut config = ClientConfig::new(
        format!("http://{address}/v1").parse().expect("url"),
        ServiceToken::new("tok-id", "s3cr3t-token"),
        std::sync::Arc::new(poller::Budget::per_minute(600)),
    );
    config.timeout = Duration::from_secs(10);
    let error = Client::new(config)
        .expect("client")
        .observe(&target(), None)
        .await
        .expect_err("refused");
    assert!(matches!(error, PollError::TooLarge { .. }), "{error}");
}

/// A server that ignores `page` and serves the same items under ever new `next_page` numbers
/// makes no progress: the listing stops at the second page, with the reason, instead of
/// reading the same page up to the cap.
#[tokio::test]
async fn a_pagination_that_repeats_its_items_is_stopped() {
    let server = MockServer::start().await;
    for page in 1..=5u64 {
        Mock::given(method("GET"))
            .and(path(format!("{DB}/workflows")))
            .and(query_param("page", page.to_string()))
            .respond_with(list(
                json!([workflow(1, "running"), workflow(2, "running")]),
                Some(page + 1),
            ))
            .mount(&server)
            .await;
    }
    let error = client(&server)
        .observe(&target(), None)
        .await
        .expect_err("no progress");
    assert!(
        error
            .to_string()
            .contains("page 2 lists only items of earlier pages"),
        "{error}"
    );
    let asked = server.received_requests().await.unwrap_or_default().len();
    assert_eq!(asked, 2, "stopped at the page that repeated");
}
