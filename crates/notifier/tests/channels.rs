//! Slack's Web API, Microsoft Teams and PagerDuty, played by wiremock: what each is sent, how
//! threads and incidents carry from one delivery to the next, and what each answer means.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diff_engine::testing::{
    deploy_request, deploy_request_state_changed, operation, operation_state_changed, workflow,
    workflow_errors_changed, workflow_state_changed,
};
use diff_engine::{DeployState, Event, OperationPhase, OperationState, Severity, WorkflowState};
use notifier::{
    Channel, ChannelKind, Memos, Notifier, PagerDutyChannel, ResourceKey, Secret, SecretUrl,
    SlackApi, SlackChannel, Verdict,
};
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const BOT_TOKEN: &str = "xoxb-1111-2222-T0k3nS3cr3t";
const ROUTING_KEY: &str = "R0UT1NGK3Y0000000000000000000000";

fn moved(previous: WorkflowState, state: WorkflowState, id: &str, severity: Severity) -> Event {
    workflow_state_changed(
        Some(previous),
        workflow(3).name("move-customers").state(state).build(),
    )
    .id(id)
    .severity(severity)
    .build()
}

fn notifier(server: &MockServer) -> Notifier {
    let base: url::Url = server.uri().parse().expect("url");
    let mut slack = Channel::new(
        "slack",
        ChannelKind::Slack(SlackChannel::Api(SlackApi {
            bot_token: Secret::new(BOT_TOKEN),
            channel: "C0123456789".into(),
            api_url: base.join("/api").expect("url"),
            actions: None,
        })),
    );
    slack.min_interval = Duration::ZERO;
    let mut pagerduty = Channel::new(
        "pager",
        ChannelKind::PagerDuty(PagerDutyChannel {
            routing_key: Secret::new(ROUTING_KEY),
            api_url: base.clone(),
            page_on_warning: false,
            change_events: false,
        }),
    );
    pagerduty.min_interval = Duration::ZERO;
    let teams = Channel::new(
        "teams",
        ChannelKind::Teams(notifier::TeamsChannel {
            webhook_url: SecretUrl::new(
                base.join("/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=T3amsS1g")
                    .expect("url"),
            ),
        }),
    );
    Notifier::new(&[slack, pagerduty, teams]).expect("notifier")
}

/// Slack's Web API: every message gets the next `ts`.
struct SlackApiStandIn {
    next: AtomicU64,
}

impl wiremock::Respond for SlackApiStandIn {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let ts = if request.url.path().ends_with("chat.update") {
            body["ts"].as_str().unwrap_or_default().to_owned()
        } else {
            format!("1763899200.{:06}", self.next.fetch_add(1, Ordering::SeqCst))
        };
        ResponseTemplate::new(200)
            .set_body_json(json!({"ok": true, "channel": body["channel"], "ts": ts}))
    }
}

async fn slack_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header(
            "authorization",
            format!("Bearer {BOT_TOKEN}").as_str(),
        ))
        .respond_with(SlackApiStandIn {
            next: AtomicU64::new(100),
        })
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer) -> Vec<(String, Value)> {
    server
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .map(|request| {
            (
                request.url.path().to_owned(),
                serde_json::from_slice(&request.body).expect("json"),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_resource_keeps_one_slack_thread_whose_first_message_follows_it() {
    let server = slack_server().await;
    let notifier = notifier(&server);
    let key = ResourceKey::parse("acme/commerce/workflow/3").expect("key");
    let mut memos = Memos::new();
    let steps = [
        moved(
            WorkflowState::Copying,
            WorkflowState::Running,
            "evt_1",
            Severity::Info,
        ),
        moved(
            WorkflowState::Running,
            WorkflowState::Error,
            "evt_2",
            Severity::Critical,
        ),
        moved(
            WorkflowState::Error,
            WorkflowState::Running,
            "evt_3",
            Severity::Info,
        ),
    ];
    for event in &steps {
        // Each delivery starts from what the last one kept, as across restarts.
        let mut next = Memos::new();
        if let Some(memo) = memos.get(&key) {
            next.load(key.clone(), memo.clone());
        }
        notifier
            .deliver("slack", std::slice::from_ref(event), &mut next)
            .await
            .expect("delivered");
        memos = next;
    }
    let sent = requests(&server).await;
    let paths: Vec<&str> = sent.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/api/chat.postMessage",
            "/api/chat.postMessage",
            "/api/chat.update",
            "/api/chat.postMessage",
            "/api/chat.update"
        ]
    );
    let first = &sent[0].1;
    assert_eq!(first["channel"], "C0123456789");
    assert!(first.get("thread_ts").is_none());
    assert!(first["text"]
        .as_str()
        .expect("text")
        .ends_with("workflow #3 move-customers: running"));
    // The error is a reply, broadcast to the channel; the recovery a quiet reply.
    assert_eq!(sent[1].1["thread_ts"], "1763899200.000100");
    assert_eq!(sent[1].1["reply_broadcast"], true);
    assert_eq!(sent[3].1["thread_ts"], "1763899200.000100");
    assert!(sent[3].1.get("reply_broadcast").is_none());
    // The first message is updated in place to the current state.
    for update in [&sent[2].1, &sent[4].1] {
        assert_eq!(update["ts"], "1763899200.000100");
        assert_eq!(update["channel"], "C0123456789");
    }
    assert!(sent[2].1["text"]
        .as_str()
        .expect("text")
        .ends_with(": error"));
    assert!(sent[4].1["text"]
        .as_str()
        .expect("text")
        .ends_with(": running"));
    let memo = memos.get(&key).expect("memo");
    let thread = memo.thread.as_ref().expect("thread");
    assert_eq!(thread.ts, "1763899200.000100");
    assert!(thread.head_current);
    assert_eq!(memo.last_event.as_deref(), Some("evt_3"));
}

#[tokio::test]
async fn one_message_per_resource_per_poll_operations_in_their_deploy_requests_thread() {
    let server = slack_server().await;
    let notifier = notifier(&server);
    let poll = [
        deploy_request_state_changed(
            Some(DeployState::Queued),
            deploy_request(7).state(DeployState::InProgress).build(),
        )
        .id("evt_a")
        .build(),
        moved(
            WorkflowState::Copying,
            WorkflowState::Running,
            "evt_b",
            Severity::Info,
        ),
        operation_state_changed(
            7,
            OperationPhase::Deploy,
            Some(OperationState::Queued),
            operation("op1", "orders")
                .state(OperationState::InProgress)
                .build(),
        )
        .id("evt_c")
        .build(),
    ];
    let mut memos = Memos::new();
    notifier
        .deliver("slack", &poll, &mut memos)
        .await
        .expect("delivered");
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    let request = &sent[0].1;
    assert!(request["text"]
        .as_str()
        .expect("text")
        .contains("deploy request #7: in_progress"));
    let request_blocks = request["blocks"].to_string();
    assert!(request_blocks.contains("table orders"), "{request_blocks}");
    assert_eq!(memos.changed().count(), 2);

    // The operation fails on the next poll: a reply in the deploy request's thread, whose
    // first message keeps the deploy request's state.
    let failed = operation_state_changed(
        7,
        OperationPhase::Deploy,
        Some(OperationState::InProgress),
        operation("op1", "orders")
            .state(OperationState::Error)
            .deploy_errors("Duplicate entry", None)
            .build(),
    )
    .id("evt_d")
    .severity(Severity::Critical)
    .build();
    notifier
        .deliver("slack", &[failed], &mut memos)
        .await
        .expect("delivered");
    let sent = requests(&server).await;
    assert_eq!(sent[2].1["thread_ts"], "1763899200.000100");
    assert_eq!(sent[2].1["reply_broadcast"], true);
    assert_eq!(sent[3].0, "/api/chat.update");
    let head = sent[3].1["blocks"].to_string();
    assert!(head.contains("is *in_progress*"), "{head}");
    assert!(head.contains("Duplicate entry"), "{head}");
}

/// Answers `ok: false` with `code` to `method`, `ok: true` with the next `ts` otherwise.
async fn slack_refusing(method_name: &str, status: u16, code: &str) -> MockServer {
    let server = MockServer::start().await;
    let mut refusal =
        ResponseTemplate::new(status).set_body_json(json!({"ok": false, "error": code}));
    if status == 429 {
        refusal = refusal.insert_header("retry-after", "30");
    }
    Mock::given(method("POST"))
        .and(path(format!("/api/{method_name}")))
        .respond_with(refusal)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(SlackApiStandIn {
            next: AtomicU64::new(100),
        })
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn slack_errors_get_their_verdict_and_name_the_error_never_the_token() {
    let cases = [
        (200, "ratelimited", Verdict::Transient),
        (429, "ratelimited", Verdict::Transient),
        (200, "internal_error", Verdict::Transient),
        (200, "fatal_error", Verdict::Transient),
        (200, "service_unavailable", Verdict::Transient),
        (200, "request_timeout", Verdict::Transient),
        (200, "invalid_auth", Verdict::Permanent),
        (200, "account_inactive", Verdict::Permanent),
        (200, "token_revoked", Verdict::Permanent),
        (200, "channel_not_found", Verdict::Permanent),
        (200, "not_in_channel", Verdict::Permanent),
        (200, "is_archived", Verdict::Permanent),
        (200, "msg_too_long", Verdict::Permanent),
        (200, "invalid_blocks", Verdict::Permanent),
    ];
    for (status, code, verdict) in cases {
        let server = slack_refusing("chat.postMessage", status, code).await;
        let event = moved(
            WorkflowState::Copying,
            WorkflowState::Running,
            "evt_1",
            Severity::Info,
        );
        let error = notifier(&server)
            .deliver("slack", &[event], &mut Memos::new())
            .await
            .expect_err("refused");
        assert_eq!(error.verdict, verdict, "{status} {code}");
        let text = error.to_string();
        if status == 429 {
            assert_eq!(error.retry_after, Some(Duration::from_secs(30)));
            assert!(text.contains("HTTP 429"), "{text}");
        } else {
            assert!(text.contains(code), "{text}");
        }
        assert!(text.contains("\"slack\""), "{text}");
        assert!(!text.contains("T0k3nS3cr3t"), "{text}");
    }
}

#[tokio::test]
async fn a_retry_after_a_failed_update_does_not_repeat_the_reply() {
    let server = slack_refusing("chat.update", 200, "ratelimited").await;
    let notifier = notifier(&server);
    let mut memos = Memos::new();
    let first = moved(
        WorkflowState::Copying,
        WorkflowState::Running,
        "evt_1",
        Severity::Info,
    );
    let second = moved(
        WorkflowState::Running,
        WorkflowState::Cutover,
        "evt_2",
        Severity::Info,
    );
    notifier
        .deliver("slack", &[first], &mut memos)
        .await
        .expect("delivered");
    let error = notifier
        .deliver("slack", std::slice::from_ref(&second), &mut memos)
        .await
        .expect_err("the update failed");
    assert!(error.is_transient());
    let key = ResourceKey::of(&second).expect("a workflow");
    let memo = memos.get(&key).expect("memo").clone();
    assert_eq!(
        memo.last_event.as_deref(),
        Some("evt_2"),
        "the reply went out"
    );
    assert!(!memo.thread.as_ref().expect("thread").head_current);
    // The retry only updates.
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(SlackApiStandIn {
            next: AtomicU64::new(200),
        })
        .mount(&server)
        .await;
    notifier
        .deliver("slack", &[second], &mut memos)
        .await
        .expect("delivered");
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "/api/chat.update");
    assert!(
        memos
            .get(&key)
            .expect("memo")
            .thread
            .as_ref()
            .expect("thread")
            .head_current
    );
}

#[tokio::test]
async fn a_first_message_that_cannot_be_updated_starts_a_new_thread_next_time() {
    let server = slack_refusing("chat.update", 200, "message_not_found").await;
    let notifier = notifier(&server);
    let mut memos = Memos::new();
    let first = moved(
        WorkflowState::Copying,
        WorkflowState::Running,
        "evt_1",
        Severity::Info,
    );
    let second = moved(
        WorkflowState::Running,
        WorkflowState::Cutover,
        "evt_2",
        Severity::Info,
    );
    let third = moved(
        WorkflowState::Cutover,
        WorkflowState::Completed,
        "evt_3",
        Severity::Info,
    );
    for event in [first, second, third] {
        notifier
            .deliver("slack", &[event], &mut memos)
            .await
            .expect("delivered: the reply went out");
    }
    let sent = requests(&server).await;
    let threads: Vec<Option<&str>> = sent
        .iter()
        .filter(|(path, _)| path.ends_with("postMessage"))
        .map(|(_, body)| body["thread_ts"].as_str())
        .collect();
    assert_eq!(threads, [None, Some("1763899200.000100"), None]);
}

/// PagerDuty's Events API: 202 with its answer.
async fn pagerduty_server(status: u16, body: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn an_error_triggers_one_incident_and_the_recovery_resolves_it() {
    let server = pagerduty_server(
        202,
        json!({"status": "success", "message": "Event processed", "dedup_key": "x"}),
    )
    .await;
    let notifier = notifier(&server);
    let mut memos = Memos::new();
    let lag = "vreplication: lag exceeds 30s";
    let steps = [
        moved(
            WorkflowState::Copying,
            WorkflowState::Running,
            "evt_1",
            Severity::Info,
        ),
        moved(
            WorkflowState::Running,
            WorkflowState::Error,
            "evt_2",
            Severity::Critical,
        ),
        workflow_errors_changed(
            None,
            workflow(3)
                .name("move-customers")
                .state(WorkflowState::Error)
                .errors(lag)
                .build(),
        )
        .id("evt_3")
        .severity(Severity::Critical)
        .build(),
        moved(
            WorkflowState::Error,
            WorkflowState::Running,
            "evt_4",
            Severity::Info,
        ),
        moved(
            WorkflowState::Running,
            WorkflowState::Completed,
            "evt_5",
            Severity::Info,
        ),
    ];
    for event in &steps {
        notifier
            .deliver("pager", std::slice::from_ref(event), &mut memos)
            .await
            .expect("delivered");
    }
    let sent = requests(&server).await;
    let actions: Vec<(&str, &str)> = sent
        .iter()
        .map(|(_, body)| {
            (
                body["event_action"].as_str().expect("action"),
                body["dedup_key"].as_str().expect("dedup_key"),
            )
        })
        .collect();
    let key = "pswatch/acme/commerce/workflow/3";
    assert_eq!(
        actions,
        [("trigger", key), ("trigger", key), ("resolve", key)]
    );
    let trigger = &sent[0].1;
    assert_eq!(trigger["routing_key"], ROUTING_KEY);
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["source"], "acme/commerce");
    assert_eq!(trigger["payload"]["class"], "workflow.state_changed");
    assert_eq!(
        trigger["payload"]["component"],
        "workflow #3 move-customers"
    );
    assert_eq!(trigger["payload"]["timestamp"], "2026-11-23T12:00:00Z");
    assert_eq!(
        trigger["payload"]["summary"],
        "acme/commerce workflow #3 move-customers: running -> error"
    );
    assert_eq!(
        trigger["links"][0]["href"],
        "https://app.planetscale.com/acme/commerce/workflows"
    );
    assert_eq!(sent[1].1["payload"]["custom_details"]["errors"], lag);
    assert_eq!(sent[2].1["routing_key"], ROUTING_KEY);
    assert!(memos
        .get(&ResourceKey::parse("acme/commerce/workflow/3").expect("key"))
        .expect("memo")
        .incident
        .is_none());
}

#[tokio::test]
async fn pagerduty_answers_get_their_verdict_and_never_show_the_routing_key() {
    let cases = [
        (400, Verdict::Permanent),
        (429, Verdict::Transient),
        (500, Verdict::Transient),
        (503, Verdict::Transient),
    ];
    for (status, verdict) in cases {
        let server = pagerduty_server(
            status,
            json!({"status": "invalid event", "message": "Event object is invalid", "errors": [format!("'routing_key' {ROUTING_KEY} is invalid")]}),
        )
        .await;
        let event = moved(
            WorkflowState::Running,
            WorkflowState::Error,
            "evt_2",
            Severity::Critical,
        );
        let mut memos = Memos::new();
        let error = notifier(&server)
            .deliver("pager", &[event], &mut memos)
            .await
            .expect_err("refused");
        assert_eq!(error.verdict, verdict, "{status}");
        let text = error.to_string();
        assert!(text.contains(&format!("HTTP {status}")), "{text}");
        assert!(!text.contains(ROUTING_KEY), "{text}");
        if status == 400 {
            assert!(
                text.contains("'routing_key' <redacted> is invalid"),
                "{text}"
            );
        }
        assert_eq!(memos.changed().count(), 0, "no incident is noted as open");
    }
}

#[tokio::test]
async fn teams_gets_an_adaptive_card_and_its_answers_a_verdict() {
    for (status, verdict) in [
        (202, None),
        (200, None),
        (429, Some(Verdict::Transient)),
        (502, Some(Verdict::Transient)),
        (400, Some(Verdict::Permanent)),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/workflows/abc/triggers/manual/paths/invoke"))
            .respond_with(ResponseTemplate::new(status))
            .mount(&server)
            .await;
        let event = moved(
            WorkflowState::Running,
            WorkflowState::Error,
            "evt_2",
            Severity::Critical,
        );
        let result = notifier(&server)
            .deliver("teams", &[event], &mut Memos::new())
            .await;
        assert_eq!(
            result.as_ref().err().map(|error| error.verdict),
            verdict,
            "{status}"
        );
        if let Err(error) = result {
            assert!(!error.to_string().contains("T3amsS1g"), "{error}");
        }
        let sent = requests(&server).await;
        let body = &sent[0].1;
        assert_eq!(body["type"], "message");
        let attachment = &body["attachments"][0];
        assert_eq!(
            attachment["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(attachment["content"]["type"], "AdaptiveCard");
        assert_eq!(attachment["content"]["version"], "1.4");
    }
}

#[tokio::test]
async fn test_messages_start_no_thread_and_leave_no_incident_open() {
    let server = slack_server().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(ResponseTemplate::new(202))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/workflows/abc/triggers/manual/paths/invoke"))
        .respond_with(ResponseTemplate::new(202))
        .with_priority(1)
        .mount(&server)
        .await;
    let notifier = Arc::new(notifier(&server));
    for channel in ["slack", "pager", "teams"] {
        notifier.deliver_test(channel).await.expect("test sent");
    }
    let sent = requests(&server).await;
    let pages: Vec<&str> = sent
        .iter()
        .filter(|(path, _)| path == "/v2/enqueue")
        .map(|(_, body)| body["event_action"].as_str().expect("action"))
        .collect();
    assert_eq!(pages, ["trigger", "resolve"]);
    assert!(sent.iter().any(|(path, _)| path == "/api/chat.postMessage"));
}

/// Change events: a deploy and a completion go to `/v2/change/enqueue` with the routing key,
/// and a delivery retried after the first went out does not put it on the timeline twice.
#[tokio::test]
async fn deploys_and_completions_become_change_events_once() {
    let server = MockServer::start().await;
    // The first change event is accepted; the second fails once, then is accepted.
    Mock::given(method("POST"))
        .and(path("/v2/change/enqueue"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"status": "success"})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/change/enqueue"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/change/enqueue"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"status": "success"})))
        .with_priority(3)
        .mount(&server)
        .await;
    let base: url::Url = server.uri().parse().expect("url");
    let mut channel = Channel::new(
        "pager",
        ChannelKind::PagerDuty(PagerDutyChannel {
            routing_key: Secret::new(ROUTING_KEY),
            api_url: base,
            page_on_warning: false,
            change_events: true,
        }),
    );
    channel.min_interval = Duration::ZERO;
    let notifier = Notifier::new(&[channel]).expect("notifier");
    let deployed = deploy_request_state_changed(
        Some(DeployState::InProgressCutover),
        deploy_request(7)
            .state(DeployState::CompletePendingRevert)
            .build(),
    )
    .id("evt_1")
    .build();
    let completed = deploy_request_state_changed(
        Some(DeployState::CompletePendingRevert),
        deploy_request(7).state(DeployState::Complete).build(),
    )
    .id("evt_2")
    .build();
    // Progress is no change event.
    let progress = deploy_request_state_changed(
        Some(DeployState::Queued),
        deploy_request(8).state(DeployState::InProgress).build(),
    )
    .id("evt_3")
    .build();
    let events = [deployed, completed, progress];
    let mut memos = Memos::new();
    let failed = notifier.deliver("pager", &events, &mut memos).await;
    assert!(failed.is_err(), "the second change event failed");
    notifier
        .deliver("pager", &events, &mut memos)
        .await
        .expect("the retry goes out");
    let sent = requests(&server).await;
    let summaries: Vec<&str> = sent
        .iter()
        .map(|(path, body)| {
            assert_eq!(path, "/v2/change/enqueue");
            assert_eq!(body["routing_key"], ROUTING_KEY);
            body["payload"]["summary"].as_str().expect("summary")
        })
        .collect();
    // evt_1 once, evt_2 twice (failed, then accepted).
    assert_eq!(
        summaries,
        [
            "acme/commerce deploy request #7 deployed",
            "acme/commerce deploy request #7 completed",
            "acme/commerce deploy request #7 completed",
        ]
    );
    let body = &sent[0].1;
    assert_eq!(body["payload"]["source"], "acme/commerce");
    assert_eq!(body["payload"]["custom_details"]["change"], "deployed");
    assert_eq!(
        body["payload"]["custom_details"]["state"],
        "complete_pending_revert"
    );
    assert!(body["links"][0]["href"]
        .as_str()
        .is_some_and(|href| href.starts_with("https://app.planetscale.com/acme/commerce/")));
    assert!(body.get("event_action").is_none() && body.get("dedup_key").is_none());
}
