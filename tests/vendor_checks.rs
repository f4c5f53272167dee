//! Every Slack message, Teams card and Google Chat message pswatch renders, checked by the
//! vendors' own libraries: Slack's slack-sdk validates the Block Kit blocks, Microsoft's
//! Adaptive Cards SDK parses and validates the cards, Google's Chat client library reads the
//! messages as the Chat API defines them (`bash tests/tools/install` sets them up).

use diff_engine::testing::{
    deploy_request, deploy_request_state_changed, operation, operation_errors_changed,
    operation_state_changed, workflow, workflow_errors_changed, workflow_state_changed,
};
use diff_engine::{DeployState, Event, OperationPhase, OperationState, Severity, WorkflowState};
use notifier::render;
use notifier::vendor_check::{adaptive_card_problems, google_chat_problems, slack_problems};
use serde_json::Value;

/// Events of every type, with the awkward parts real data brings: long error text, markup in
/// names, lint errors, revert operations, missing fields.
fn events() -> Vec<Event> {
    let long = "Duplicate entry 'A-1' for key 'idx_ref' <&> ".repeat(200);
    vec![
        workflow_state_changed(
            Some(WorkflowState::SwitchedPrimaries),
            workflow(3)
                .name("move <customers> & *orders*")
                .state(WorkflowState::Cutover)
                .keyspaces("commerce", "customers")
                .actor("Ada Lovelace")
                .build(),
        )
        .build(),
        workflow_state_changed(
            None,
            workflow(4)
                .state(WorkflowState::Error)
                .errors(&long)
                .build(),
        )
        .severity(Severity::Critical)
        .build(),
        workflow_errors_changed(
            Some("lag"),
            workflow(4).state(WorkflowState::Running).build(),
        )
        .build(),
        deploy_request_state_changed(
            Some(DeployState::Pending),
            deploy_request(7)
                .state(DeployState::Error)
                .lint_error(
                    "NO_UNIQUE_KEY",
                    "commerce",
                    "audit_log",
                    "table \"audit_log\" has no unique key",
                )
                .check_errors("schema checks failed")
                .build(),
        )
        .severity(Severity::Critical)
        .build(),
        operation_state_changed(
            7,
            OperationPhase::Deploy,
            Some(OperationState::InProgress),
            operation("op1", "orders")
                .state(OperationState::Error)
                .ddl("ALTER TABLE `orders` ADD UNIQUE KEY `idx_ref` (`ref`)")
                .deploy_errors(&long, Some("https://planetscale.com/docs/errors"))
                .build(),
        )
        .severity(Severity::Critical)
        .build(),
        operation_errors_changed(
            7,
            OperationPhase::Revert,
            None,
            operation("rv1", "orders")
                .keyspace(None)
                .revert_errors("Lock wait timeout exceeded")
                .build(),
        )
        .severity(Severity::Critical)
        .build(),
        diff_engine::testing::awaiting_cutover(
            deploy_request(8).state(DeployState::PendingCutover).build(),
            time::OffsetDateTime::now_utc() - time::Duration::hours(3),
            3,
        )
        .build(),
        diff_engine::testing::cutover_expiring(
            deploy_request(8).state(DeployState::PendingCutover).build(),
        )
        .build(),
        diff_engine::testing::queue_paused(
            deploy_request(9)
                .state(DeployState::Queued)
                .queue_paused(true, Some("paused <by> *ops* & co"))
                .build(),
        )
        .build(),
        diff_engine::testing::operation_stalled(
            8,
            time::OffsetDateTime::now_utc() - time::Duration::hours(1),
            operation("op2", "users")
                .state(OperationState::InProgress)
                .progress(12.5)
                .build(),
        )
        .build(),
        Event {
            id: "evt_backup".into(),
            kind: diff_engine::EventKind::BackupStateChanged {
                previous_state: Some("running".into()),
                state: "failed".into(),
                recovers: false,
                backup: diff_engine::Backup {
                    id: "bk1".into(),
                    name: "2026.11.23 <09:00> & *nightly*".into(),
                    branch: "main".into(),
                    state: "failed".into(),
                    size: Some(52_428_800),
                    started_at: Some("2026-11-23T09:00:00.000Z".into()),
                    completed_at: Some("2026-11-23T09:12:30.000Z".into()),
                },
            },
            organization: "acme".into(),
            database: "commerce".into(),
            severity: Severity::Critical,
            observed_at: time::OffsetDateTime::now_utc(),
        },
        Event {
            id: "evt_maintenance".into(),
            kind: diff_engine::EventKind::MaintenanceScheduled {
                previous_window: Some("2026-11-27T02:00:00.000Z".into()),
                schedule: diff_engine::MaintenanceSchedule {
                    id: "ms1".into(),
                    name: "Vitess <upgrade> & *more*".into(),
                    next_window_datetime: Some("2026-11-28T02:00:00.000Z".into()),
                    last_window_datetime: None,
                    duration_hours: Some(4),
                    required: true,
                    deadline_at: Some("2026-12-05T00:00:00.000Z".into()),
                    pending_vitess_version: Some("22.0".into()),
                    pending_mysql_version: None,
                },
            },
            organization: "acme".into(),
            database: "commerce".into(),
            severity: Severity::Warning,
            observed_at: time::OffsetDateTime::now_utc(),
        },
        Event {
            id: "evt_recommendation".into(),
            kind: diff_engine::EventKind::SchemaRecommendationOpened {
                recommendation: diff_engine::SchemaRecommendation {
                    id: "sr-1".into(),
                    number: 1,
                    title: "Add index on <orders> & *customers*".into(),
                    table_name: Some("orders".into()),
                    keyspace: Some("commerce".into()),
                    ddl_statement: Some(
                        "ALTER TABLE `orders` ADD INDEX `idx_customer` (`customer_id`)".into(),
                    ),
                    recommendation_type: Some("new_index".into()),
                    state: "open".into(),
                    html_url: Some(
                        "https://app.planetscale.com/acme/commerce/insights/recommendations/1"
                            .into(),
                    ),
                },
            },
            organization: "acme".into(),
            database: "commerce".into(),
            severity: Severity::Info,
            observed_at: time::OffsetDateTime::now_utc(),
        },
        Event {
            id: "evt_resize".into(),
            kind: diff_engine::EventKind::ResizeStateChanged {
                previous_state: Some("resizing".into()),
                state: "canceled".into(),
                resize: diff_engine::Resize {
                    id: "rs1".into(),
                    branch: "main <&>".into(),
                    keyspace: Some("commerce".into()),
                    state: "canceled".into(),
                    previous_cluster_name: Some("PS_10".into()),
                    cluster_name: Some("PS_20".into()),
                    previous_replicas: Some(2),
                    replicas: Some(3),
                    previous_maximum_storage_bytes: None,
                    maximum_storage_bytes: None,
                    started_at: None,
                    completed_at: None,
                },
            },
            organization: "acme".into(),
            database: "commerce".into(),
            severity: Severity::Warning,
            observed_at: time::OffsetDateTime::now_utc(),
        },
        Event::from_planetscale(
            "acme",
            "commerce",
            diff_engine::PlanetScaleEvent::parse("cluster.storage").expect("known"),
            1_763_899_200,
            serde_json::json!({"id": "c1", "name": "main <&> *prod*", "storage_percentage": 93.4,
                "html_url": "https://app.planetscale.com/acme/commerce/main"}),
            time::OffsetDateTime::now_utc(),
        ),
    ]
}

#[test]
fn slack_messages_pass_slack_sdk() {
    let events = events();
    let now = time::OffsetDateTime::now_utc();
    let mut messages: Vec<Value> = events
        .iter()
        .map(|event| render::slack_message(std::slice::from_ref(event), notifier::Words::none()))
        .collect();
    let many: Vec<Event> = std::iter::repeat_n(events.clone(), 12).flatten().collect();
    messages.push(render::slack_message(&events, notifier::Words::none()));
    messages.push(render::slack_message(&many, notifier::Words::none()));
    messages.push(render::test_slack("ops", now));
    for event in &events {
        messages.push(render::slack_thread_head(
            std::slice::from_ref(event),
            Some("in_progress"),
            notifier::Words::none(),
        ));
    }
    messages.push(render::slack_thread_head(
        &events[3..],
        None,
        notifier::Words::none(),
    ));
    // A workflow's journey with its times (one the API wrote oddly), and a running table's
    // bar with its ETA.
    let mut journeyed = events[0].clone();
    if let diff_engine::EventKind::WorkflowStateChanged { workflow, .. } = &mut journeyed.kind {
        workflow.times.started_at = Some("2026-11-23T08:00:00.000Z".into());
        workflow.times.data_copy_completed_at = Some("<not a time> & *bold*".into());
    }
    let mut running = events
        .iter()
        .find(|event| event.type_name() == "deploy_operation.stalled")
        .expect("a stalled operation")
        .clone();
    if let diff_engine::EventKind::DeployOperationStalled { operation, .. } = &mut running.kind {
        operation.eta_seconds = Some(754);
    }
    for event in [journeyed, running] {
        messages.push(render::slack_thread_head(
            std::slice::from_ref(&event),
            Some("in_progress"),
            notifier::Words::none(),
        ));
    }
    let problems = slack_problems(&messages);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn teams_cards_pass_the_adaptive_cards_sdk() {
    let events = events();
    let mut cards: Vec<Value> = events
        .iter()
        .map(|event| render::teams_message(std::slice::from_ref(event), notifier::Words::none()))
        .collect();
    let many: Vec<Event> = std::iter::repeat_n(events.clone(), 4).flatten().collect();
    cards.push(render::teams_message(&events, notifier::Words::none()));
    cards.push(render::teams_message(&many, notifier::Words::none()));
    cards.push(render::test_teams("ops", time::OffsetDateTime::now_utc()));
    let problems = adaptive_card_problems(&cards);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn google_chat_messages_pass_google_s_chat_library() {
    let mut messages: Vec<Value> = events()
        .iter()
        .map(|event| render::google_chat_message(event, notifier::Words::none()))
        .collect();
    messages.push(render::test_google_chat(
        "ops",
        time::OffsetDateTime::now_utc(),
    ));
    let problems = google_chat_problems(&messages);
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The checkers are not rubber stamps: they find what is wrong.
#[test]
fn the_checkers_refuse_broken_messages() {
    let long_section = serde_json::json!({"text": "x", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "x".repeat(3001)}},
        {"type": "no_such_block"},
    ]});
    let problems = slack_problems(&[long_section]);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("3000"), "{problems:?}");
    let broken_card = serde_json::json!({"type": "AdaptiveCard", "version": "1.4", "body": [
        {"type": "Container", "style": "loud"},
    ], "actions": [{"type": "Action.OpenUrl", "title": "Open"}]});
    let problems = adaptive_card_problems(&[broken_card]);
    assert_eq!(problems.len(), 2, "{problems:?}");
    let broken_chat = [
        serde_json::json!({"cardsV2": [{"cardId": "c", "card": {"sections": [
            {"widgets": [{"decoratedText": {"text": "x", "wrapText": "yes"}}]},
        ]}}]}),
        serde_json::json!({"cardsV2": [{"cardId": "c", "card": {"header": {"title": "x"},
            "sections": [{"widgets": [{"textParagraph": {"text": "x"}, "noSuchWidget": {}}]}]}}]}),
        serde_json::json!({"thread": {"threadKey": "k"}}),
    ];
    let problems = google_chat_problems(&broken_chat);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems[0].starts_with("1: ") && problems[0].contains("wrapText"),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("2: ") && problems[1].contains("noSuchWidget"),
        "{problems:?}"
    );
    assert!(
        problems[2].starts_with("3: neither text nor cardsV2"),
        "{problems:?}"
    );
}

/// Templates fill text only: with a team's template on every type (markup, long text, values
/// with `<`, `&` and `*`), the Block Kit messages and the cards stay valid.
#[test]
fn templated_messages_stay_valid() {
    let templates = std::sync::Arc::new(
        notifier::Templates::compile(&[notifier::TemplateSource {
            name: "ours".into(),
            events: Vec::new(),
            title: Some("{{ event.type }} · {{ event.resource }} {{ 'long ' * 100 }}".into()),
            text: Some(
                "*{{ event.headline }}*\n{% for fact in event.facts %}• {{ fact.label }}: {{ fact.value }}\n{% endfor %}\
                 {% if event.errors %}```{{ event.errors }}```{% endif %}\n<{{ event.dashboard_url }}|Open> {{ 'x' * 5000 }}"
                    .into(),
            ),
        }])
        .expect("compiles"),
    );
    let channel = notifier::ChannelTemplates::new(templates, &["ours".into()]);
    // A template's text is kept by event id, and real ids differ from event to event.
    let events: Vec<Event> = events()
        .into_iter()
        .enumerate()
        .map(|(index, mut event)| {
            event.id = format!("evt_{index}");
            event
        })
        .collect();
    let words = |flavor| {
        channel.words(&events, flavor, &mut |error| {
            panic!("the template failed: {error}")
        })
    };
    let (slack, plain) = (
        words(notifier::Flavor::Slack),
        words(notifier::Flavor::Plain),
    );
    assert!(!slack.is_empty() && !plain.is_empty());
    let mut messages: Vec<Value> = events
        .iter()
        .map(|event| render::slack_message(std::slice::from_ref(event), &slack))
        .collect();
    messages.push(render::slack_message(&events, &slack));
    for event in &events {
        messages.push(render::slack_thread_head(
            std::slice::from_ref(event),
            Some("in_progress"),
            &slack,
        ));
    }
    let problems = slack_problems(&messages);
    assert!(problems.is_empty(), "{problems:#?}");
    let mut cards: Vec<Value> = events
        .iter()
        .map(|event| render::teams_message(std::slice::from_ref(event), &plain))
        .collect();
    cards.push(render::teams_message(&events, &plain));
    let problems = adaptive_card_problems(&cards);
    assert!(problems.is_empty(), "{problems:#?}");
    let chat: Vec<Value> = events
        .iter()
        .map(|event| render::google_chat_message(event, &plain))
        .collect();
    let problems = google_chat_problems(&chat);
    assert!(problems.is_empty(), "{problems:#?}");
    // The template's text is what they show.
    let first = serde_json::to_string(&messages[0]).expect("json");
    assert!(
        first.contains("workflow.state_changed · workflow #3"),
        "{first}"
    );
    assert!(
        first.contains("move &lt;customers&gt; &amp; *orders*"),
        "{first}"
    );
}

/// A digest, in its built-in text and with a template, passes the vendors' checks.
#[test]
fn digests_pass_the_vendors_checks() {
    let mut digest = notifier::sample_event("pswatch.digest").expect("sample");
    // Many databases with long lists and markup in names.
    if let diff_engine::EventKind::Digest { digest: summary } = &mut digest.kind {
        let database = summary.databases[0].clone();
        summary.databases = (0..12)
            .map(|index| {
                let mut database = database.clone();
                database.database = format!("db-{index} <&> *x*");
                database.waiting = std::iter::repeat_n(database.waiting[0].clone(), 20).collect();
                database
            })
            .collect();
    }
    let events = std::slice::from_ref(&digest);
    let slack = notifier::with_digests(notifier::Words::default(), events, notifier::Flavor::Slack);
    let plain = notifier::with_digests(notifier::Words::default(), events, notifier::Flavor::Plain);
    let message = render::slack_message(events, &slack);
    let text = message.to_string();
    assert!(
        text.contains("Digest morning: 12 completed, 12 failed, 240 waiting, 1 dead letter"),
        "{text}"
    );
    assert!(
        text.contains("acme/db-11"),
        "every database is shown: {text}"
    );
    assert!(text.contains("db-0 &lt;&amp;&gt;"), "{text}");
    let problems = slack_problems(&[message]);
    assert!(problems.is_empty(), "{problems:#?}");
    let card = render::teams_message(events, &plain);
    let problems = adaptive_card_problems(&[card]);
    assert!(problems.is_empty(), "{problems:#?}");
    let chat = render::google_chat_message(&digest, &plain);
    let problems = google_chat_problems(&[chat]);
    assert!(problems.is_empty(), "{problems:#?}");
}
