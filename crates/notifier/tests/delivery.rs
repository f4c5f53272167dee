//! Delivery to Slack and webhook receivers played by wiremock.

use std::time::Duration;

use diff_engine::testing::{workflow, workflow_state_changed};
use diff_engine::{Event, WorkflowState};
use notifier::{
    Channel, ChannelKind, Memos, Notifier, Secret, SlackChannel, Verdict, WebhookSecret,
};
use serde_json::Value;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn event() -> Event {
    workflow_state_changed(
        Some(WorkflowState::SwitchedPrimaries),
        workflow(3).id("wf1").state(WorkflowState::Cutover).build(),
    )
    .id("evt_5f1c")
    .build()
}

fn notifier(server: &MockServer) -> Notifier {
    Notifier::new(&[
        Channel::new(
            "ops-slack",
            ChannelKind::Slack(SlackChannel::Webhook {
                webhook_url: Secret::new(format!("{}/services/T000/B000/XXXXSECRET", server.uri())),
            }),
        ),
        Channel::new(
            "audit",
            ChannelKind::Webhook(notifier::WebhookChannel {
                url: notifier::SecretUrl::new(
                    format!("{}/hooks/pswatch?token=h00ks3cret", server.uri())
                        .parse()
                        .expect("url"),
                ),
                secret: WebhookSecret::parse(SECRET).expect("secret"),
            }),
        ),
    ])
    .expect("notifier")
}

#[tokio::test]
async fn webhooks_carry_standard_headers_and_a_verifiable_signature() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/pswatch"))
        .and(header("content-type", "application/json"))
        .and(header("webhook-id", "evt_5f1c"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    notifier(&server)
        .deliver("audit", &[event()], &mut Memos::new())
        .await
        .expect("delivered");

    let requests = server.received_requests().await.expect("recorded");
    let request = &requests[0];
    let verifier = standardwebhooks::Webhook::new(SECRET).expect("verifier");
    let mut headers = reqwest::header::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let value = request
            .headers
            .get(name)
            .expect(name)
            .to_str()
            .expect("ascii");
        headers.insert(name, value.parse().expect("header"));
    }
    verifier
        .verify(&request.body, &headers)
        .expect("signature verifies");
    let body: Value = serde_json::from_slice(&request.body).expect("json");
    assert_eq!(body["type"], "workflow.state_changed");
    assert_eq!(body["timestamp"], "2026-11-23T12:00:00Z");
    assert_eq!(body["data"]["id"], "evt_5f1c");
    assert_eq!(body["data"]["previous_state"], "switched_primaries");
    assert_eq!(body["data"]["state"], "cutover");
}

#[tokio::test]
async fn slack_gets_blocks_and_a_fallback_text() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T000/B000/XXXXSECRET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    notifier(&server)
        .deliver("ops-slack", &[event()], &mut Memos::new())
        .await
        .expect("delivered");
    let requests = server.received_requests().await.expect("recorded");
    let body: Value = serde_json::from_slice(&requests[0].body).expect("json");
    assert!(body["text"]
        .as_str()
        .expect("text")
        .contains("switched_primaries -&gt; cutover"));
    assert_eq!(body["blocks"][0]["type"], "header");
}

#[tokio::test]
async fn failures_get_a_verdict_and_never_show_the_slack_url() {
    let cases = [
        (503, Verdict::Transient),
        (429, Verdict::Transient),
        (400, Verdict::Permanent),
        (404, Verdict::Permanent),
        (410, Verdict::Gone),
    ];
    for (status, verdict) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).insert_header("retry-after", "7"))
            .expect(2)
            .mount(&server)
            .await;
        let notifier = notifier(&server);
        for channel in ["ops-slack", "audit"] {
            let error = notifier
                .deliver(channel, &[event()], &mut Memos::new())
                .await
                .expect_err("fails");
            assert_eq!(error.verdict, verdict, "{status} {channel}");
            assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
            let text = error.to_string();
            assert!(text.contains(&format!("HTTP {status}")), "{text}");
            assert!(text.contains(channel), "{text}");
            assert!(!text.contains("XXXXSECRET"), "{text}");
            assert!(!text.contains("h00ks3cret"), "{text}");
            assert!(!format!("{error:?}").contains("h00ks3cret"), "{error:?}");
        }
        // Nor does any channel's Debug output.
        let channels = format!("{:?}", notifier.channel("audit"));
        assert!(!channels.contains("h00ks3cret"), "{channels}");
    }
}

#[tokio::test]
async fn an_unreachable_receiver_is_transient_and_secret_free() {
    // Bind and drop a listener to find a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let notifier = Notifier::new(&[Channel::new(
        "ops-slack",
        ChannelKind::Slack(SlackChannel::Webhook {
            webhook_url: Secret::new(format!(
                "http://127.0.0.1:{port}/services/T000/B000/XXXXSECRET"
            )),
        }),
    )])
    .expect("notifier");
    let error = notifier
        .deliver("ops-slack", &[event()], &mut Memos::new())
        .await
        .expect_err("fails");
    assert_eq!(error.verdict, Verdict::Transient);
    assert!(!error.to_string().contains("XXXXSECRET"), "{error}");
}

/// A Slack stand-in that answers 429 to a message less than a second after the previous one.
struct RateLimitedSlack {
    last: std::sync::Mutex<Option<std::time::Instant>>,
}

impl wiremock::Respond for RateLimitedSlack {
    fn respond(&self, _request: &wiremock::Request) -> ResponseTemplate {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = std::time::Instant::now();
        let too_soon =
            last.is_some_and(|last| now.duration_since(last) < Duration::from_millis(990));
        *last = Some(now);
        if too_soon {
            ResponseTemplate::new(429).insert_header("retry-after", "1")
        } else {
            ResponseTemplate::new(200).set_body_string("ok")
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_thirty_reaches_slack_without_a_single_429() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(RateLimitedSlack {
            last: std::sync::Mutex::new(None),
        })
        .expect(30)
        .mount(&server)
        .await;
    let url = format!("{}/services/T000/B000/XXXXSECRET", server.uri());
    // Two channels on the same webhook URL share Slack's limit.
    let notifier = std::sync::Arc::new(
        Notifier::new(&[
            Channel::new(
                "ops-slack",
                ChannelKind::Slack(SlackChannel::Webhook {
                    webhook_url: Secret::new(url.clone()),
                }),
            ),
            Channel::new(
                "dba-slack",
                ChannelKind::Slack(SlackChannel::Webhook {
                    webhook_url: Secret::new(url),
                }),
            ),
        ])
        .expect("notifier"),
    );
    let mut burst = tokio::task::JoinSet::new();
    for number in 0..30 {
        let notifier = std::sync::Arc::clone(&notifier);
        let channel = if number % 2 == 0 {
            "ops-slack"
        } else {
            "dba-slack"
        };
        burst.spawn(async move {
            notifier
                .deliver(channel, &[event()], &mut Memos::new())
                .await
        });
    }
    // A 429 would have come back as a failed delivery.
    while let Some(result) = burst.join_next().await {
        result.expect("join").expect("no 429, no failure");
    }
    assert_eq!(
        server.received_requests().await.expect("recorded").len(),
        30
    );
}

/// A receiver that answers 307 or 308 (a moved Discord or Google Chat webhook, or a hostile
/// one) is a permanent failure: no channel follows it, so the alert never reaches the other
/// host and the webhook's URL, token and all, never goes there in a `Referer`.
#[tokio::test]
async fn no_channel_follows_a_redirect_or_sends_its_url_along() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&elsewhere)
        .await;
    for status in [301, 302, 303, 307, 308] {
        let receiver = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("location", format!("{}/stolen", elsewhere.uri()).as_str()),
            )
            .mount(&receiver)
            .await;
        let base: url::Url = receiver.uri().parse().expect("url");
        let secret_url = |path: &str| notifier::SecretUrl::new(base.join(path).expect("url"));
        let pagerduty = notifier::PagerDutyChannel {
            routing_key: Secret::new("R0UTINGKEYSECRET"),
            api_url: base.clone(),
            page_on_warning: true,
            change_events: false,
        };
        let channels = [
            Channel::new(
                "discord",
                ChannelKind::Discord(notifier::DiscordChannel {
                    webhook_url: secret_url("/api/webhooks/1/D1sc0rdT0ken"),
                }),
            ),
            Channel::new(
                "google-chat",
                ChannelKind::GoogleChat(notifier::GoogleChatChannel {
                    webhook_url: secret_url("/v1/spaces/AAA/messages?key=k&token=Ch4tT0ken"),
                }),
            ),
            Channel::new(
                "teams",
                ChannelKind::Teams(notifier::TeamsChannel {
                    webhook_url: secret_url("/workflows/abc?sig=T3amsS1g"),
                }),
            ),
            Channel::new(
                "ops-slack",
                ChannelKind::Slack(SlackChannel::Webhook {
                    webhook_url: Secret::new(format!(
                        "{}/services/T0/B0/XXXXSECRET",
                        receiver.uri()
                    )),
                }),
            ),
            Channel::new("pager", ChannelKind::PagerDuty(pagerduty)),
            Channel::new(
                "audit",
                ChannelKind::Webhook(notifier::WebhookChannel {
                    url: secret_url("/hooks?token=h00ks3cret"),
                    secret: WebhookSecret::parse(SECRET).expect("secret"),
                }),
            ),
        ];
        let names: Vec<String> = channels
            .iter()
            .map(|channel| channel.name.clone())
            .collect();
        let notifier = Notifier::new(&channels).expect("notifier");
        // An error: PagerDuty is sent only what pages.
        let critical = workflow_state_changed(
            Some(WorkflowState::Running),
            workflow(3).id("wf1").state(WorkflowState::Error).build(),
        )
        .id("evt_5f1d")
        .severity(diff_engine::Severity::Critical)
        .build();
        for name in &names {
            let error = notifier
                .deliver(name, std::slice::from_ref(&critical), &mut Memos::new())
                .await
                .expect_err(&format!("{status} to {name} is no delivery"));
            assert_eq!(
                error.verdict,
                Verdict::Permanent,
                "{status} {name}: {error}"
            );
        }
        let asked = receiver.received_requests().await.expect("recorded");
        assert_eq!(asked.len(), names.len(), "{status}: one request a channel");
    }
    let stolen = elsewhere.received_requests().await.expect("recorded");
    assert!(
        stolen.is_empty(),
        "{} requests followed a redirect",
        stolen.len()
    );
}
