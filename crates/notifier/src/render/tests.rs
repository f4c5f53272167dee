use super::*;
use crate::testing::{revert_and_validation_events, sample_events};
use serde_json::Value;

#[test]
fn console_lines() {
    let lines: Vec<String> = sample_events().iter().map(console_line).collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn slack_messages() {
    for event in sample_events() {
        insta::assert_json_snapshot!(
            format!("slack_{}", event.type_name().replace('.', "_")),
            slack_message(std::slice::from_ref(&event))
        );
    }
}

#[test]
fn emails() {
    for event in sample_events() {
        let content = email(std::slice::from_ref(&event));
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
    let body: Value = serde_json::from_slice(&webhook_body(&events[0])).expect("json");
    insta::assert_json_snapshot!(body);
}

#[test]
fn revert_and_validation_failures() {
    let events = revert_and_validation_events();
    for (event, name) in events.iter().zip(["revert_error", "validation_error"]) {
        insta::assert_json_snapshot!(
            format!("slack_{name}"),
            slack_message(std::slice::from_ref(event))
        );
        let content = email(std::slice::from_ref(event));
        insta::assert_snapshot!(
            format!("email_{name}"),
            format!(
                "Subject: {}\n\n{}\n---\n{}",
                content.subject, content.text, content.html
            )
        );
        let body: Value = serde_json::from_slice(&webhook_body(event)).expect("json");
        insta::assert_json_snapshot!(format!("webhook_{name}"), body);
    }
    let lines: Vec<String> = events.iter().map(console_line).collect();
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
        email(&events[..1]).subject,
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
        let message = slack_message(batch);
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
    let message = slack_message(&events).to_string();
    assert!(
        message.contains("[cut: 8500 more characters]"),
        "the cut is said"
    );
    assert!(slack_message(&many).to_string().contains("more changes"));
}

#[test]
fn markup_in_api_text_is_escaped() {
    let mut events = sample_events();
    if let EventKind::WorkflowStateChanged { workflow, .. } = &mut events[0].kind {
        workflow.name = "<script>&".into();
    }
    let content = email(&events[..1]);
    assert!(content.html.contains("&lt;script&gt;&amp;"));
    assert!(!content.html.contains("<script>"));
    assert!(slack_message(&events[..1])
        .to_string()
        .contains("&lt;script&gt;&amp;"));
}
