use super::*;
use crate::testing::{reminder_events, revert_and_validation_events, sample_events};
use crate::words::Words;
use diff_engine::{Event, EventKind};
use serde_json::Value;

#[test]
fn console_lines() {
    let lines: Vec<String> = sample_events()
        .iter()
        .map(|event| console_line(event, Words::none()))
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn slack_messages() {
    for event in sample_events() {
        insta::assert_json_snapshot!(
            format!("slack_{}", event.type_name().replace('.', "_")),
            slack_message(std::slice::from_ref(&event), Words::none())
        );
    }
}

#[test]
fn emails() {
    for event in sample_events() {
        let content = email(std::slice::from_ref(&event), Words::none());
        insta::assert_snapshot!(
            format!("email_{}", event.type_name().replace('.', "_")),
            format!(
                "Subject: {}\n\n{}\n---\n{}",
                content.subject, content.text, content.html
            )
        );
    }
}

#[test]
fn webhook_bodies() {
    let events = sample_events();
    let body: Value =
        serde_json::from_slice(&webhook_body(&events[0], Words::none())).expect("json");
    insta::assert_json_snapshot!(body);
}

#[test]
fn revert_and_validation_failures() {
    let events = revert_and_validation_events();
    for (event, name) in events.iter().zip(["revert_error", "validation_error"]) {
        insta::assert_json_snapshot!(
            format!("slack_{name}"),
            slack_message(std::slice::from_ref(event), Words::none())
        );
        let content = email(std::slice::from_ref(event), Words::none());
        insta::assert_snapshot!(
            format!("email_{name}"),
            format!(
                "Subject: {}\n\n{}\n---\n{}",
                content.subject, content.text, content.html
            )
        );
        let body: Value =
            serde_json::from_slice(&webhook_body(event, Words::none())).expect("json");
        insta::assert_json_snapshot!(format!("webhook_{name}"), body);
    }
    let lines: Vec<String> = events
        .iter()
        .map(|event| console_line(event, Words::none()))
        .collect();
    assert_eq!(
        lines,
        [
            "2026-11-23 12:00:00Z critical acme/commerce deploy request #7 revert of table orders: submit -> error | revert error: Lock wait timeout exceeded on `orders`",
            "2026-11-23 12:00:00Z critical acme/commerce deploy request #7: pending -> error | why validation failed: table \"audit_log\" has no unique key (NO_UNIQUE_KEY)",
        ]
    );
}

#[test]
fn the_subject_says_what_changed() {
    let events = sample_events();
    assert_eq!(
        email(&events[..1], Words::none()).subject,
        "[pswatch] acme/commerce workflow #3 move-customers: switched_primaries -> cutover"
    );
}

#[test]
fn long_errors_are_cut_within_slacks_limits() {
    let mut events = sample_events();
    let long = "x".repeat(10_000);
    for event in &mut events {
        if let EventKind::DeployOperationStateChanged { operation, .. } = &mut event.kind {
            operation.deploy_errors = Some(long.clone());
        }
    }
    let many: Vec<Event> = std::iter::repeat_n(events.clone(), 20).flatten().collect();
    for batch in [&events[..], &many[..]] {
        let message = slack_message(batch, Words::none());
        let blocks = message["blocks"].as_array().expect("blocks");
        assert!(blocks.len() <= SLACK_MAX_BLOCKS, "{} blocks", blocks.len());
        for block in blocks {
            if let Some(text) = block["text"]["text"].as_str() {
                assert!(
                    text.chars().count() <= SLACK_SECTION_LIMIT,
                    "{}",
                    text.len()
                );
            }
        }
        assert!(
            message["text"].as_str().expect("text").chars().count() <= SLACK_SECTION_LIMIT + 40
        );
    }
    let message = slack_message(&events, Words::none()).to_string();
    assert!(
        message.contains("[cut: 8500 more characters]"),
        "the cut is said"
    );
    assert!(slack_message(&many, Words::none())
        .to_string()
        .contains("more changes"));
}

#[test]
fn markup_in_api_text_is_escaped() {
    let mut events = sample_events();
    if let EventKind::WorkflowStateChanged { workflow, .. } = &mut events[0].kind {
        workflow.name = "<script>&".into();
    }
    let content = email(&events[..1], Words::none());
    assert!(content.html.contains("&lt;script&gt;&amp;"));
    assert!(!content.html.contains("<script>"));
    assert!(slack_message(&events[..1], Words::none())
        .to_string()
        .contains("&lt;script&gt;&amp;"));
}

/// Names from the API that are Slack control sequences (`<!channel>`, a link) are escaped in
/// every text field of a Slack message, the top-level `text` Slack notifies with included.
#[test]
fn no_slack_text_field_carries_a_control_sequence_from_the_api() {
    let hostile = "<!channel> <https://evil.example|x> & <@U0>";
    let mut events = sample_events();
    for event in &mut events {
        match &mut event.kind {
            EventKind::WorkflowStateChanged { workflow, .. } => workflow.name = hostile.into(),
            EventKind::DeployOperationStateChanged { operation, .. }
            | EventKind::DeployOperationErrorsChanged { operation, .. } => {
                operation.table_name = Some(hostile.into());
            }
            _ => {}
        }
    }
    fn strings(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(text) => out.push(text.clone()),
            Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
            // Slack shows `plain_text` as it is: no mention or link is read in it.
            Value::Object(fields) if fields.get("type") == Some(&Value::from("plain_text")) => {}
            Value::Object(fields) => fields.values().for_each(|item| strings(item, out)),
            _ => {}
        }
    }
    for event in &events {
        let one = std::slice::from_ref(event);
        for message in [
            slack_message(one, Words::none()),
            slack_thread_head(one, None, Words::none()),
        ] {
            let mut texts = Vec::new();
            strings(&message, &mut texts);
            for text in texts {
                assert!(
                    !text.contains("<!channel>") && !text.contains("<https://evil"),
                    "{}: {text}",
                    event.type_name()
                );
            }
        }
    }
}

#[test]
fn slack_thread_heads() {
    let events = sample_events();
    // A workflow's head, and a deploy request's head when only an operation changed.
    insta::assert_json_snapshot!(
        "slack_thread_head_workflow",
        slack_thread_head(&events[1..2], None, Words::none())
    );
    insta::assert_json_snapshot!(
        "slack_thread_head_operation",
        slack_thread_head(&events[3..4], Some("in_progress"), Words::none())
    );
    let unknown = slack_thread_head(&events[3..4], None, Words::none());
    assert_eq!(unknown["text"], "acme/commerce deploy request #7");
    let head = slack_thread_head(&events[2..5], Some("in_progress"), Words::none());
    assert!(
        head["text"]
            .as_str()
            .expect("text")
            .ends_with("deploy request #7: complete_error"),
        "the request's own event gives its state: {head}"
    );
}

/// The head of a workflow's thread shows its journey with the API's times (in the reader's time
/// zone, through Slack's date formatting); a deploy request's, its running tables as bars.
#[test]
fn slack_thread_heads_show_progress() {
    let events = sample_events();
    let mut workflow = events[0].clone();
    if let EventKind::WorkflowStateChanged {
        workflow, state, ..
    } = &mut workflow.kind
    {
        *state = diff_engine::WorkflowState::SwitchedReplicas;
        workflow.state = diff_engine::WorkflowState::SwitchedReplicas;
        workflow.times = diff_engine::WorkflowTimes {
            started_at: Some("2026-11-23T08:00:00.000Z".into()),
            data_copy_completed_at: Some("2026-11-23T09:30:00.000Z".into()),
            switch_replicas_at: Some("2026-11-23T11:00:00.000Z".into()),
            ..diff_engine::WorkflowTimes::default()
        };
    }
    let head = slack_thread_head(std::slice::from_ref(&workflow), None, Words::none());
    let text = head["blocks"][0]["text"]["text"].as_str().expect("text");
    assert!(
        text.contains(
            "*Progress:* :white_check_mark: Copying (<!date^1795420800^{date_short} {time}|2026-11-23 08:00 UTC>) → \
             :white_check_mark: Running (<!date^1795426200^{date_short} {time}|2026-11-23 09:30 UTC>) → \
             :arrow_forward: *Replicas switched* (now, since <!date^1795431600^{date_short} {time}|2026-11-23 11:00 UTC>) → \
             Primaries switched (not yet) → Cut over (not yet) → Completed (not yet)"
        ),
        "{text}"
    );
    let mut running = events[3].clone();
    if let EventKind::DeployOperationStateChanged {
        operation, state, ..
    } = &mut running.kind
    {
        *state = diff_engine::OperationState::InProgress;
        operation.state = diff_engine::OperationState::InProgress;
        operation.progress_percentage = Some(42.5);
        operation.eta_seconds = Some(754);
        operation.deploy_errors = None;
    }
    let head = slack_thread_head(
        std::slice::from_ref(&running),
        Some("in_progress"),
        Words::none(),
    );
    let text = head["blocks"][0]["text"]["text"].as_str().expect("text");
    assert!(text.contains("▓▓▓▓░░░░░░ 42 %, about 12m left"), "{text}");
}

#[test]
fn teams_cards() {
    for event in sample_events() {
        insta::assert_json_snapshot!(
            format!("teams_{}", event.type_name().replace('.', "_")),
            teams_message(std::slice::from_ref(&event), Words::none())
        );
    }
}

#[test]
fn teams_cards_stay_small() {
    let mut events = sample_events();
    for event in &mut events {
        if let EventKind::DeployOperationStateChanged { operation, .. } = &mut event.kind {
            operation.deploy_errors = Some("x".repeat(50_000));
        }
    }
    let many: Vec<Event> = std::iter::repeat_n(events, 20).flatten().collect();
    let card = teams_message(&many, Words::none());
    let size = card.to_string().len();
    assert!(size < 28_000, "{size} bytes");
    let body = card["attachments"][0]["content"]["body"]
        .as_array()
        .expect("body");
    assert_eq!(
        body.len(),
        TEAMS_MAX_EVENTS + 2,
        "title, events, and how many more"
    );
    assert!(card.to_string().contains("and 90 more changes"));
}

#[test]
fn pagerduty_events() {
    let events = sample_events();
    insta::assert_json_snapshot!(
        "pagerduty_trigger",
        pagerduty::trigger(&events[3], Words::none())
    );
    insta::assert_json_snapshot!("pagerduty_resolve", pagerduty::resolve(&events[2]));
    let long = crate::testing::workflow(diff_engine::WorkflowState::Error, None);
    let mut event = events[0].clone();
    if let EventKind::WorkflowStateChanged { workflow, .. } = &mut event.kind {
        *workflow = long;
        workflow.name = "n".repeat(2000);
    }
    let summary = pagerduty::trigger(&event, Words::none())["payload"]["summary"]
        .as_str()
        .expect("summary")
        .chars()
        .count();
    assert_eq!(summary, pagerduty::PAGERDUTY_SUMMARY_LIMIT);
}

/// One of PlanetScale's own events, as every channel renders it.
fn out_of_memory() -> Event {
    let event = diff_engine::PlanetScaleEvent::parse("branch.out_of_memory").expect("known");
    Event::from_planetscale(
        "acme",
        "commerce",
        event,
        1_763_899_200,
        serde_json::json!({
            "id": "br-main",
            "type": "Branch",
            "name": "main",
            "state": "ready",
            "production": true,
            "region": {"display_name": "AWS us-east-1"},
            "html_url": "https://app.planetscale.com/acme/commerce/main",
        }),
        time::macros::datetime!(2026-11-23 12:00 UTC),
    )
}

#[test]
fn planetscale_events_in_every_channel() {
    let event = out_of_memory();
    assert_eq!(headline(&event), "acme/commerce branch main: out of memory");
    assert_eq!(
        console_line(&event, Words::none()),
        "2026-11-23 12:00:00Z critical acme/commerce branch main: out of memory"
    );
    insta::assert_json_snapshot!(
        "slack_planetscale",
        slack_message(std::slice::from_ref(&event), Words::none())
    );
    insta::assert_json_snapshot!(
        "teams_planetscale",
        teams_message(std::slice::from_ref(&event), Words::none())
    );
    insta::assert_json_snapshot!(
        "pagerduty_planetscale",
        pagerduty::trigger(&event, Words::none())
    );
    let content = email(std::slice::from_ref(&event), Words::none());
    insta::assert_snapshot!(
        "email_planetscale",
        format!(
            "Subject: {}\n\n{}\n---\n{}",
            content.subject, content.text, content.html
        )
    );
    let body: Value = serde_json::from_slice(&webhook_body(&event, Words::none())).expect("json");
    insta::assert_json_snapshot!("webhook_planetscale", body);
    assert_eq!(
        pagerduty::dedup_key_of(&event),
        "pswatch/acme/commerce/planetscale.branch.out_of_memory/main"
    );
}

#[test]
fn reminders_and_stalls_in_every_channel() {
    let events = reminder_events();
    let headlines: Vec<String> = events.iter().map(headline).collect();
    assert_eq!(
        headlines,
        [
            "acme/commerce deploy request #7: waiting for its cutover for 2h 5m",
            "acme/commerce deploy request #7: cutover expiring soon: cut over or it must be deployed again",
            "acme/commerce deploy request #7: deploy queue paused: Deploys are paused for maintenance",
            "acme/commerce deploy request #7 table orders: stalled at 42% for 31m",
        ]
    );
    let lines: Vec<String> = events
        .iter()
        .map(|event| console_line(event, Words::none()))
        .collect();
    insta::assert_snapshot!("console_reminders", lines.join("\n"));
    for event in &events {
        let name = event.type_name().replace('.', "_");
        insta::assert_json_snapshot!(
            format!("slack_{name}"),
            slack_message(std::slice::from_ref(event), Words::none())
        );
        insta::assert_json_snapshot!(
            format!("teams_{name}"),
            teams_message(std::slice::from_ref(event), Words::none())
        );
        let body: Value =
            serde_json::from_slice(&webhook_body(event, Words::none())).expect("json");
        insta::assert_json_snapshot!(format!("webhook_{name}"), body);
        assert_eq!(body["type"], event.type_name());
        assert_eq!(body["data"]["state"], event.kind.state());
    }
    let content = email(&events, Words::none());
    insta::assert_snapshot!(
        "email_reminders",
        format!(
            "Subject: {}\n\n{}\n---\n{}",
            content.subject, content.text, content.html
        )
    );
    // The expiring cutover pages; a reminder does not resolve what it reminds of.
    let pages = pagerduty::plan(&events, false, false);
    assert_eq!(pages.len(), 1);
}

#[test]
fn text_from_the_api_cannot_act_on_a_terminal() {
    let hostile = "move\u{1b}]0;pwned\u{7}\u{1b}[2J\r\nforged line\u{9b}31m";
    let line = super::printable(hostile);
    assert_eq!(
        line,
        "move\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\r\\nforged line\\u{9b}31m"
    );
    assert!(!line.chars().any(char::is_control));
    let lines = super::printable_lines("one\n\ttwo\u{1b}[1m\n");
    assert_eq!(lines, "one\n\ttwo\\u{1b}[1m\n");
    assert!(matches!(
        super::printable("plain text"),
        std::borrow::Cow::Borrowed(_)
    ));
}

/// One template on every kind: each puts its title and text where they go, and keeps the rest.
#[test]
fn templated_messages_of_every_kind() {
    use crate::template::{ChannelTemplates, Flavor, TemplateSource, Templates};
    let templates = std::sync::Arc::new(
        Templates::compile(&[TemplateSource {
            name: "ours".into(),
            events: vec!["workflow.*".into()],
            title: Some("{{ event.resource }} in {{ event.database }} is {{ event.to }}".into()),
            text: Some("Moved by {{ event.workflow.actor }} <{{ event.dashboard_url }}|here>\n{{ event.workflow.name }}".into()),
        }])
        .expect("compiles"),
    );
    let channel = ChannelTemplates::new(templates, &["ours".into()]);
    let mut event = sample_events().remove(0);
    if let EventKind::WorkflowStateChanged { workflow, .. } = &mut event.kind {
        workflow.actor = Some("<script>alert(1)</script> & co".into());
    }
    let events = std::slice::from_ref(&event);
    let words = |flavor| channel.words(events, flavor, &mut |error| panic!("{error}"));
    let (slack, plain) = (words(Flavor::Slack), words(Flavor::Plain));

    let message = slack_message(events, &slack);
    insta::assert_json_snapshot!("templated_slack", message);
    let head = slack_thread_head(events, None, &slack);
    let head_text = head["blocks"][0]["text"]["text"].as_str().expect("text");
    assert!(
        head_text.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"),
        "{head_text}"
    );
    assert!(!head_text.contains("Latest change"), "{head_text}");

    let content = email(events, &plain);
    assert_eq!(
        content.subject,
        "[pswatch] workflow #3 move-customers in commerce is cutover"
    );
    assert!(
        content.text.contains("<script>alert(1)</script> & co"),
        "plain text as written"
    );
    assert!(
        content
            .html
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"),
        "{}",
        content.html
    );
    assert!(!content.html.contains("<script>"), "{}", content.html);

    let card = teams_message(events, &plain);
    let card_text = card.to_string();
    assert!(card_text.contains("workflow #3 move-customers in commerce is cutover"));
    assert!(
        !card_text.contains("FactSet"),
        "the text stands for the facts"
    );

    let trigger = pagerduty::trigger(events.first().expect("event"), &plain);
    assert_eq!(
        trigger["payload"]["summary"],
        "workflow #3 move-customers in commerce is cutover"
    );
    assert!(trigger["payload"]["custom_details"]["text"]
        .as_str()
        .is_some_and(|text| text.starts_with("Moved by")));

    let body: Value = serde_json::from_slice(&webhook_body(&event, &plain)).expect("json");
    assert_eq!(
        body["title"],
        "workflow #3 move-customers in commerce is cutover"
    );
    assert!(body["text"]
        .as_str()
        .is_some_and(|text| text.starts_with("Moved by")));
    assert_eq!(
        body["data"]["id"],
        event.id.as_str(),
        "the contract's fields stay"
    );

    let line = console_line(&event, &plain);
    assert!(
        line.contains(" workflow #3 move-customers in commerce is cutover\n    Moved by"),
        "{line}"
    );

    // Without a template, no title or text field in the webhook's body.
    let body: Value = serde_json::from_slice(&webhook_body(&event, Words::none())).expect("json");
    assert!(body.get("title").is_none() && body.get("text").is_none());
}

#[test]
fn discord_messages() {
    for event in sample_events() {
        insta::assert_json_snapshot!(
            format!("discord_{}", event.type_name().replace('.', "_")),
            discord_message(std::slice::from_ref(&event), Words::none())
        );
    }
}

#[test]
fn google_chat_messages() {
    for event in sample_events() {
        insta::assert_json_snapshot!(
            format!("google_chat_{}", event.type_name().replace('.', "_")),
            google_chat_message(&event, Words::none())
        );
    }
}

/// However many events and however long their errors, a Discord message keeps within
/// Discord's limits: 10 embeds, a title of 256 characters, a description of 4,096, and 6,000
/// characters in all.
#[test]
fn discord_messages_keep_within_discord_s_limits() {
    let long = "Duplicate entry 'A-1' for key 'idx_ref' ".repeat(500);
    let events: Vec<Event> = (0..25)
        .map(|index| {
            let mut event = revert_and_validation_events().remove(0);
            event.id = format!("evt_{index}");
            if let EventKind::DeployOperationStateChanged { operation, .. } = &mut event.kind {
                operation.revert_errors = Some(long.clone());
                operation.table_name = Some("t".repeat(400));
            }
            event
        })
        .collect();
    for count in [1, 3, 10, 11, 25] {
        let message = discord_message(&events[..count], Words::none());
        let embeds = message["embeds"].as_array().expect("embeds");
        assert_eq!(embeds.len(), count.min(DISCORD_MAX_EMBEDS));
        let mut total = 0;
        for embed in embeds {
            let length = |key: &str| embed[key].as_str().map_or(0, |text| text.chars().count());
            assert!(length("title") <= DISCORD_TITLE_LIMIT);
            assert!(length("description") <= DISCORD_DESCRIPTION_LIMIT);
            total += length("title")
                + length("description")
                + embed["footer"]["text"]
                    .as_str()
                    .map_or(0, |text| text.chars().count());
        }
        assert!(
            total <= DISCORD_MESSAGE_LIMIT,
            "{count} events: {total} characters"
        );
        if count > DISCORD_MAX_EMBEDS {
            let last = embeds.last().expect("an embed");
            assert_eq!(
                last["title"],
                format!("…and {} more changes", count - (DISCORD_MAX_EMBEDS - 1))
            );
        }
    }
}

/// A backup's message: what it is of, its size and how long it took, and the branch's
/// backups in the dashboard.
#[test]
fn backup_messages_say_the_branch_size_and_duration() {
    let event = crate::template::sample_event("backup.state_changed").expect("sample");
    let content = email(std::slice::from_ref(&event), Words::none());
    assert_eq!(
        content.subject,
        "[pswatch] acme/commerce backup 2026.11.23 09:00 of branch main: running -> failed"
    );
    for fact in ["Branch: main", "Size: 52.4 MB", "Took: 12m"] {
        assert!(content.text.contains(fact), "{fact}: {}", content.text);
    }
    assert_eq!(
        dashboard_url(&event),
        "https://app.planetscale.com/acme/commerce/main/backups"
    );
    assert_eq!(crate::text::size(512), "512 B");
    assert_eq!(crate::text::size(1_500_000_000), "1.5 GB");
}

/// A poll that saw only an operation's stall or a timer's firing on an operation still gives
/// its deploy request's thread a head that says which deploy request it is.
#[test]
fn a_thread_head_of_operation_events_names_its_deploy_request() {
    let stalled = crate::sample_event("deploy_operation.stalled").expect("sample");
    let mut timer = crate::sample_event("timer.fired").expect("sample");
    timer.kind = diff_engine::EventKind::TimerFired {
        timer: "slow".into(),
        state: "in_progress".into(),
        since: timer.observed_at,
        firing: 1,
        escalated: false,
        subject: diff_engine::TimerSubject::DeployOperation {
            deploy_request_number: 7,
            phase: diff_engine::OperationPhase::Deploy,
            operation: stalled.kind.operation().expect("operation").clone(),
        },
    };
    for event in [stalled, timer] {
        let head = slack_thread_head(
            std::slice::from_ref(&event),
            Some("in_progress"),
            Words::none(),
        );
        assert!(
            head["text"]
                .as_str()
                .is_some_and(|text| text.contains("deploy request #7")),
            "{head:#}"
        );
    }
}
