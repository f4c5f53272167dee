//! GitHub's commit statuses, played by wiremock: the head of the deploy request's branch is
//! looked up and its status set; a missing ref is left alone; a refused token and a spent rate
//! limit get their verdicts, never showing the token. Every request pswatch sends is checked
//! against GitHub's own OpenAPI description (`@octokit/openapi`).

use std::time::Duration;

use diff_engine::testing::{
    deploy_request, deploy_request_state_changed, workflow, workflow_state_changed,
};
use diff_engine::{DeployState, Event, WorkflowState};
use notifier::{Channel, ChannelKind, GitHubChannel, Memos, Notifier, Secret, Verdict};
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Every request `server` received, as GitHub's OpenAPI description knows it: below the API's
/// root, with its query, headers and body; fails the test on any GitHub would refuse.
async fn check_against_github(server: &MockServer) {
    let requests: Vec<Value> = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|request| {
            let path = request
                .url
                .path()
                .strip_prefix("/api/v3")
                .expect("below the API's root")
                .to_owned();
            let query: serde_json::Map<String, Value> = request
                .url
                .query_pairs()
                .map(|(key, value)| (key.into_owned(), Value::String(value.into_owned())))
                .collect();
            let headers: serde_json::Map<String, Value> = request
                .headers
                .iter()
                .filter_map(|(name, value)| {
                    Some((
                        name.as_str().to_owned(),
                        Value::String(value.to_str().ok()?.to_owned()),
                    ))
                })
                .collect();
            let body = if request.body.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&request.body).expect("a JSON body")
            };
            json!({"method": request.method.as_str(), "path": path, "query": query,
                   "headers": headers, "body": body})
        })
        .collect();
    assert!(!requests.is_empty());
    let problems = notifier::vendor_check::github_problems(&requests);
    assert!(
        problems.is_empty(),
        "GitHub's description refuses: {problems:#?}"
    );
}

const TOKEN: &str = "github_pat_11AAAAAAA0123456789_s3cr3t";
const SHA: &str = "6dcb09b5b57875f334f61aebed695e2e4193db5e";

fn notifier(server: &MockServer) -> Notifier {
    let mut channel = Channel::new(
        "github",
        ChannelKind::GitHub(GitHubChannel {
            token: Secret::new(TOKEN),
            repository: "acme/shop".into(),
            api_url: format!("{}/api/v3", server.uri()).parse().expect("url"),
            git_ref: "{branch}".into(),
            context: "planetscale/{database}".into(),
            comments: true,
        }),
    );
    channel.min_interval = Duration::ZERO;
    Notifier::new(&[channel]).expect("notifier")
}

fn deploy(state: DeployState, branch: &str) -> Event {
    let mut request = deploy_request(7).state(state).build();
    request.branch = Some(branch.into());
    request.into_branch = Some("main".into());
    request.html_url = Some("https://app.planetscale.com/acme/commerce/deploy-requests/7".into());
    deploy_request_state_changed(Some(DeployState::Queued), request)
        .id("evt_7")
        .build()
}

async fn statuses(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|request| request.method.as_str() == "POST")
        .map(|request| serde_json::from_slice(&request.body).expect("json"))
        .collect()
}

#[tokio::test]
async fn a_deploy_request_sets_the_status_of_its_branch_s_head() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/acme/shop/commits/add-index"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("accept", "application/vnd.github+json"))
        .and(header("x-github-api-version", "2022-11-28"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sha": SHA})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/v3/repos/acme/shop/statuses/{SHA}")))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"id": 1, "state": "success"})),
        )
        .mount(&server)
        .await;
    // A branch with a slash is one segment of the path.
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/acme/shop/commits/feature%2Fx"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sha": SHA})))
        .mount(&server)
        .await;
    // No pull request is open for these refs: statuses only.
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/acme/shop/pulls"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let notifier = notifier(&server);
    let mut memos = Memos::new();
    for (state, branch) in [
        (DeployState::InProgress, "add-index"),
        (DeployState::Complete, "add-index"),
        (DeployState::CompleteError, "feature/x"),
    ] {
        notifier
            .deliver("github", &[deploy(state, branch)], &mut memos)
            .await
            .expect("delivered");
    }
    // A workflow sets nothing.
    let moved =
        workflow_state_changed(None, workflow(3).state(WorkflowState::Running).build()).build();
    notifier
        .deliver("github", &[moved], &mut memos)
        .await
        .expect("nothing to do");
    check_against_github(&server).await;
    let sent = statuses(&server).await;
    let states: Vec<&str> = sent
        .iter()
        .filter_map(|body| body["state"].as_str())
        .collect();
    assert_eq!(states, ["pending", "success", "failure"]);
    assert_eq!(sent[1]["context"], "planetscale/commerce");
    assert_eq!(
        sent[1]["description"],
        "Deploy request #7 into main: complete"
    );
    assert_eq!(
        sent[1]["target_url"],
        "https://app.planetscale.com/acme/commerce/deploy-requests/7"
    );
}

#[tokio::test]
async fn a_missing_ref_is_left_alone_and_refusals_get_their_verdicts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/acme/shop/commits/gone"))
        .respond_with(
            ResponseTemplate::new(422)
                .set_body_json(json!({"message": "No commit found for SHA: gone"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/acme/shop/commits/refused"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"message": format!("Bad credentials {TOKEN}")})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/acme/shop/commits/forbidden"))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(
                json!({"message": "Resource not accessible by personal access token"}),
            ),
        )
        .mount(&server)
        .await;
    let reset = time::OffsetDateTime::now_utc().unix_timestamp() + 30;
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/acme/shop/commits/limited"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                .set_body_json(json!({"message": "API rate limit exceeded"})),
        )
        .mount(&server)
        .await;
    let notifier = notifier(&server);
    let mut memos = Memos::new();
    // Twice: no status, no failure (the warning is logged once).
    for _ in 0..2 {
        notifier
            .deliver(
                "github",
                &[deploy(DeployState::InProgress, "gone")],
                &mut memos,
            )
            .await
            .expect("left alone");
    }
    assert!(statuses(&server).await.is_empty());
    for (branch, verdict) in [
        ("refused", Verdict::Permanent),
        ("forbidden", Verdict::Permanent),
        ("limited", Verdict::Transient),
    ] {
        let error = notifier
            .deliver(
                "github",
                &[deploy(DeployState::InProgress, branch)],
                &mut memos,
            )
            .await
            .expect_err("refused");
        assert_eq!(error.verdict, verdict, "{branch}: {error}");
        let text = error.to_string();
        assert!(!text.contains(TOKEN), "{text}");
        if branch == "limited" {
            let wait = error.retry_after.expect("the rate limit's reset");
            assert!(
                wait <= Duration::from_secs(31) && wait >= Duration::from_secs(1),
                "{wait:?}"
            );
        }
        if branch == "forbidden" {
            assert!(text.contains("Resource not accessible"), "{text}");
        }
    }
}

#[tokio::test]
async fn a_test_sets_a_status_on_the_default_branch() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/acme/shop"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"default_branch": "main"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/acme/shop/commits/main"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sha": SHA})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/v3/repos/acme/shop/statuses/{SHA}")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
        .mount(&server)
        .await;
    notifier(&server)
        .deliver_test("github")
        .await
        .expect("tested");
    // On a named ref (`pswatch test-notify --ref`): that ref's head; one GitHub cannot
    // resolve is a failure of the test, naming it.
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/acme/shop/commits/release"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sha": SHA})))
        .mount(&server)
        .await;
    notifier(&server)
        .deliver_test_at("github", Some("release"))
        .await
        .expect("tested on a ref");
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/acme/shop/commits/nowhere"))
        .respond_with(
            ResponseTemplate::new(422)
                .set_body_json(json!({"message": "No commit found for SHA: nowhere"})),
        )
        .mount(&server)
        .await;
    let error = notifier(&server)
        .deliver_test_at("github", Some("nowhere"))
        .await
        .expect_err("no such ref");
    assert!(error.to_string().contains("no ref \"nowhere\""), "{error}");
    check_against_github(&server).await;
    let sent = statuses(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["context"], "pswatch/test");
    assert_eq!(sent[0]["state"], "success");
}

/// Mounts, on `server`, the head of `add-index`, its statuses and its open pull request #12.
async fn with_pull_request(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/acme/shop/commits/add-index"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sha": SHA})))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/v3/repos/acme/shop/statuses/{SHA}")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/acme/shop/pulls"))
        .and(wiremock::matchers::query_param("head", "acme:add-index"))
        .and(wiremock::matchers::query_param("state", "open"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"number": 12}])))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_pull_request_keeps_one_comment_edited_in_place() {
    let server = MockServer::start().await;
    with_pull_request(&server).await;
    Mock::given(method("POST"))
        .and(path("/api/v3/repos/acme/shop/issues/12/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 555})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/api/v3/repos/acme/shop/issues/comments/555"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 555})))
        .mount(&server)
        .await;
    let sender = notifier(&server);
    let mut memos = Memos::new();
    for state in [
        DeployState::Queued,
        DeployState::InProgress,
        DeployState::Complete,
    ] {
        sender
            .deliver("github", &[deploy(state, "add-index")], &mut memos)
            .await
            .expect("delivered");
    }
    check_against_github(&server).await;
    let requests = server.received_requests().await.unwrap_or_default();
    let of = |verb: &str, tail: &str| {
        requests
            .iter()
            .filter(|request| request.method.as_str() == verb && request.url.path().ends_with(tail))
            .count()
    };
    assert_eq!(
        of("POST", "/issues/12/comments"),
        1,
        "one comment, never a second"
    );
    assert_eq!(of("PATCH", "/issues/comments/555"), 2, "edited in place");
    let key = notifier::ResourceKey::parse("acme/commerce/deploy_request/7").expect("key");
    assert_eq!(
        memos.get(&key).and_then(|memo| memo.github_comment),
        Some(555)
    );
    let last: Value = requests
        .iter()
        .rev()
        .find(|request| request.method.as_str() == "PATCH")
        .map(|request| serde_json::from_slice(&request.body).expect("json"))
        .expect("an edit");
    let text = last["body"].as_str().expect("text");
    assert!(
        text.starts_with("✅ **PlanetScale [deploy request #7]"),
        "{text}"
    );
    assert!(text.contains("`complete`"), "{text}");

    // A comment someone deleted is written again, and the new one kept.
    let server = MockServer::start().await;
    with_pull_request(&server).await;
    Mock::given(method("PATCH"))
        .and(path("/api/v3/repos/acme/shop/issues/comments/555"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v3/repos/acme/shop/issues/12/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 556})))
        .mount(&server)
        .await;
    notifier(&server)
        .deliver(
            "github",
            &[deploy(DeployState::Complete, "add-index")],
            &mut memos,
        )
        .await
        .expect("delivered");
    check_against_github(&server).await;
    assert_eq!(
        memos.get(&key).and_then(|memo| memo.github_comment),
        Some(556)
    );
}
