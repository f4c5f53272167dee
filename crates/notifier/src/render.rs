//! Message rendering: pure functions from events to what each channel sends.

use std::borrow::Cow;
use std::fmt::Write as _;

use diff_engine::{Event, EventKind, OperationPhase, Severity};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;

/// Slack's limit for the text of a section block.
pub const SLACK_SECTION_LIMIT: usize = 3000;
/// Slack's limit for a header block's text.
pub const SLACK_HEADER_LIMIT: usize = 150;
/// Slack's limit of blocks in one message.
pub const SLACK_MAX_BLOCKS: usize = 50;
/// The most error text one message shows; the rest is cut, and the message says so.
pub const ERROR_TEXT_LIMIT: usize = 1500;

/// The one place that knows PlanetScale's dashboard addresses.
pub fn dashboard_url(event: &Event) -> String {
    let base = format!(
        "https://app.planetscale.com/{}/{}",
        event.organization, event.database
    );
    match &event.kind {
        EventKind::WorkflowStateChanged { .. } | EventKind::WorkflowErrorsChanged { .. } => {
            format!("{base}/workflows")
        }
        EventKind::DeployRequestStateChanged { deploy_request, .. } => deploy_request
            .html_url
            .clone()
            .unwrap_or_else(|| format!("{base}/deploy-requests/{}", deploy_request.number)),
        EventKind::DeployOperationStateChanged {
            deploy_request_number,
            ..
        }
        | EventKind::DeployOperationErrorsChanged {
            deploy_request_number,
            ..
        } => format!("{base}/deploy-requests/{deploy_request_number}"),
    }
}

/// What the event is about, e.g. `workflow #3 move-customers`, `deploy request #7 table orders`
/// or, for an operation of its revert, `deploy request #7 revert of table orders`.
pub fn resource_name(event: &Event) -> String {
    match &event.kind {
        EventKind::WorkflowStateChanged { workflow, .. }
        | EventKind::WorkflowErrorsChanged { workflow, .. } => {
            format!("workflow #{} {}", workflow.number, workflow.name)
        }
        EventKind::DeployRequestStateChanged { deploy_request, .. } => {
            format!("deploy request #{}", deploy_request.number)
        }
        EventKind::DeployOperationStateChanged {
            deploy_request_number,
            phase,
            operation,
            ..
        }
        | EventKind::DeployOperationErrorsChanged {
            deploy_request_number,
            phase,
            operation,
            ..
        } => format!(
            "deploy request #{deploy_request_number} {}table {}",
            match phase {
                OperationPhase::Deploy => "",
                OperationPhase::Revert => "revert of ",
            },
            operation.table_name.as_deref().unwrap_or(&operation.id)
        ),
    }
}

/// The heading of the event's error text: why validation failed, why a revert failed, or the
/// error.
pub fn errors_heading(event: &Event) -> &'static str {
    match &event.kind {
        EventKind::DeployRequestStateChanged { .. } => "Why validation failed",
        kind if kind.phase() == Some(OperationPhase::Revert) => "Revert error",
        _ => "Error",
    }
}

/// What changed, e.g. `switched_primaries -> cutover`, `new: pending`, `errors changed`.
pub fn change(event: &Event) -> String {
    match &event.kind {
        EventKind::WorkflowErrorsChanged { errors, .. }
        | EventKind::DeployOperationErrorsChanged { errors, .. } => {
            if errors.is_some() {
                "errors changed".into()
            } else {
                "errors cleared".into()
            }
        }
        kind => match kind.previous_state() {
            Some(previous) => format!("{previous} -> {}", kind.state()),
            None => format!("new: {}", kind.state()),
        },
    }
}

/// One line that says it all: `acme/commerce workflow #3 move-customers: running -> cutover`.
pub fn headline(event: &Event) -> String {
    format!(
        "{}/{} {}: {}",
        event.organization,
        event.database,
        resource_name(event),
        change(event)
    )
}

/// Cuts `text` to `limit` characters and says how much was cut.
pub fn truncate(text: &str, limit: usize) -> Cow<'_, str> {
    let total = text.chars().count();
    if total <= limit {
        return Cow::Borrowed(text);
    }
    let kept: String = text.chars().take(limit).collect();
    Cow::Owned(format!("{kept}… [cut: {} more characters]", total - limit))
}

fn timestamp(event: &Event) -> String {
    event
        .observed_at
        .format(&Rfc3339)
        .unwrap_or_else(|_| event.observed_at.unix_timestamp().to_string())
}

/// The console channel's line for one event.
pub fn console_line(event: &Event) -> String {
    let seconds =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    let mut line = format!(
        "{} {:<8} {}",
        event
            .observed_at
            .format(&seconds)
            .unwrap_or_else(|_| timestamp(event)),
        event.severity.as_str(),
        headline(event)
    );
    if let Some(errors) = event.kind.errors() {
        let first_line = errors.lines().next().unwrap_or_default();
        let _ = write!(
            line,
            " | {}: {}",
            errors_heading(event).to_lowercase(),
            truncate(first_line, 200)
        );
    }
    line
}

/// Facts about the resource, as (label, value) pairs, in the order people read them.
fn details(event: &Event) -> Vec<(&'static str, String)> {
    let mut details = Vec::new();
    let mut push = |label: &'static str, value: Option<&str>| {
        if let Some(value) = value.filter(|value| !value.is_empty()) {
            details.push((label, value.to_owned()));
        }
    };
    match &event.kind {
        EventKind::WorkflowStateChanged { workflow, .. }
        | EventKind::WorkflowErrorsChanged { workflow, .. } => {
            push(
                "Workflow",
                Some(&format!("{} (#{})", workflow.name, workflow.number)),
            );
            if let (Some(source), Some(target)) =
                (&workflow.source_keyspace, &workflow.target_keyspace)
            {
                push("Tables move", Some(&format!("{source} -> {target}")));
            }
            push("Branch", workflow.branch.as_deref());
            push("Started by", workflow.actor.as_deref());
            push("Cut over by", workflow.cutover_by.as_deref());
        }
        EventKind::DeployRequestStateChanged { deploy_request, .. } => {
            push(
                "Deploy request",
                Some(&format!("#{}", deploy_request.number)),
            );
            if let (Some(branch), Some(into)) =
                (&deploy_request.branch, &deploy_request.into_branch)
            {
                push("Branches", Some(&format!("{branch} -> {into}")));
            }
            push("Opened by", deploy_request.actor.as_deref());
            push("Closed by", deploy_request.closed_by.as_deref());
        }
        EventKind::DeployOperationStateChanged {
            deploy_request_number,
            operation,
            ..
        }
        | EventKind::DeployOperationErrorsChanged {
            deploy_request_number,
            operation,
            ..
        } => {
            push("Deploy request", Some(&format!("#{deploy_request_number}")));
            if event.kind.phase() == Some(OperationPhase::Revert) {
                push("Phase", Some("revert"));
            }
            push("Keyspace", operation.keyspace_name.as_deref());
            push("Table", operation.table_name.as_deref());
            push(
                "Change",
                operation
                    .ddl_statement
                    .as_deref()
                    .map(|ddl| truncate(ddl, 500))
                    .as_deref(),
            );
            push("Error docs", operation.deploy_error_docs_url.as_deref());
        }
    }
    details
}

fn severity_marker(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => ":red_circle:",
        Severity::Warning => ":warning:",
        Severity::Info => ":large_blue_circle:",
    }
}

/// Escapes the three characters Slack's mrkdwn gives meaning to.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Slack incoming-webhook message (Block Kit, with a plain `text` fallback) for the events of
/// one target and poll. Long error text is cut and the message says so; past Slack's block limit
/// the message lists how many more events there were.
pub fn slack_message(events: &[Event]) -> Value {
    let Some(first) = events.first() else {
        return json!({"text": "pswatch: no events"});
    };
    let title = if events.len() == 1 {
        headline(first)
    } else {
        format!(
            "{}/{}: {} changes",
            first.organization,
            first.database,
            events.len()
        )
    };
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(&title, SLACK_HEADER_LIMIT - 20), "emoji": true},
    })];
    // Each event takes a section and a context block; keep two blocks spare for the summary.
    let room = (SLACK_MAX_BLOCKS - 3) / 2;
    for event in events.iter().take(room) {
        let mut text = format!(
            "{} *{}*: `{}`",
            severity_marker(event.severity),
            slack_escape(&resource_name(event)),
            slack_escape(&change(event))
        );
        for (label, value) in details(event) {
            let _ = write!(text, "\n*{label}:* {}", slack_escape(&value));
        }
        if let Some(errors) = event.kind.errors() {
            let _ = write!(
                text,
                "\n*{}:*\n```{}```",
                errors_heading(event),
                slack_escape(&truncate(&errors, ERROR_TEXT_LIMIT))
            );
        }
        let _ = write!(text, "\n<{}|Open in PlanetScale>", dashboard_url(event));
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": truncate(&text, SLACK_SECTION_LIMIT - 40)},
        }));
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": format!(
                "{} · {} · {}",
                event.severity,
                timestamp(event),
                event.id
            )}],
        }));
    }
    if events.len() > room {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("…and {} more changes; see the PlanetScale dashboard.", events.len() - room)},
        }));
    }
    let fallback: Vec<String> = events.iter().take(room).map(headline).collect();
    json!({
        "text": truncate(&fallback.join("\n"), SLACK_SECTION_LIMIT),
        "blocks": blocks,
    })
}

/// An email's subject and bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    /// The subject line.
    pub subject: String,
    /// The plain text body.
    pub text: String,
    /// The HTML body, with the same content.
    pub html: String,
}

fn html_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// An email for the events of one target and poll: a subject that says what changed, a plain
/// text body and an HTML body with the same content.
pub fn email(events: &[Event]) -> EmailContent {
    let subject = match events {
        [event] => format!("[pswatch] {}", headline(event)),
        [first, ..] => format!(
            "[pswatch] {}/{}: {} changes ({})",
            first.organization,
            first.database,
            events.len(),
            headline_tail(first)
        ),
        [] => "[pswatch] no changes".into(),
    };
    let mut text = String::new();
    let mut html = String::from("<!DOCTYPE html><html><body style=\"font-family: sans-serif\">");
    for event in events {
        let _ = writeln!(text, "{}\n", headline(event));
        let _ = write!(html, "<h2>{}</h2><table>", html_escape(&headline(event)));
        for (label, value) in details(event) {
            let _ = writeln!(text, "{label}: {value}");
            let _ = write!(
                html,
                "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
                html_escape(label),
                html_escape(&value)
            );
        }
        let _ = writeln!(text, "Severity: {}", event.severity);
        let _ = write!(
            html,
            "<tr><th align=\"left\">Severity</th><td>{}</td></tr></table>",
            event.severity
        );
        if let Some(errors) = event.kind.errors() {
            let errors = truncate(&errors, ERROR_TEXT_LIMIT * 4);
            let heading = errors_heading(event);
            let _ = writeln!(text, "\n{heading}:\n{errors}");
            let _ = write!(
                html,
                "<p><b>{heading}:</b></p><pre>{}</pre>",
                html_escape(&errors)
            );
        }
        let url = dashboard_url(event);
        let _ = writeln!(
            text,
            "\nOpen in PlanetScale: {url}\nEvent {} observed {}\n",
            event.id,
            timestamp(event)
        );
        let _ = write!(
            html,
            "<p><a href=\"{}\">Open in PlanetScale</a></p><p style=\"color: #666\">Event {} observed {}</p>",
            html_escape(&url),
            html_escape(&event.id),
            timestamp(event)
        );
    }
    text.push_str("-- \nSent by pswatch\n");
    html.push_str("</body></html>");
    EmailContent {
        subject,
        text,
        html,
    }
}

/// `workflow #3 move-customers: running -> cutover` of the first event, for a grouped subject.
fn headline_tail(event: &Event) -> String {
    format!("{}: {}", resource_name(event), change(event))
}

/// The webhook body: a [`WebhookPayload`](crate::payload::WebhookPayload),
/// `{"type", "timestamp", "data"}` with the event as data.
pub fn webhook_body(event: &Event) -> Vec<u8> {
    // Plain structs of strings, numbers and options always serialize.
    serde_json::to_vec(&crate::payload::WebhookPayload::new(event)).unwrap_or_default()
}

const TEST_NOTE: &str = "This is a test message from pswatch (pswatch test-notify). Alerts routed to this channel arrive like this.";

fn rfc3339(time: time::OffsetDateTime) -> String {
    time.format(&Rfc3339)
        .unwrap_or_else(|_| time.unix_timestamp().to_string())
}

/// The Slack message of `pswatch test-notify`.
pub fn test_slack(channel: &str, now: time::OffsetDateTime) -> Value {
    json!({
        "text": format!("pswatch test message for channel {channel}"),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "pswatch test message", "emoji": true}},
            {"type": "section", "text": {"type": "mrkdwn", "text": format!("{TEST_NOTE}\n*Channel:* {}", slack_escape(channel))}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": format!("test · {}", rfc3339(now))}]},
        ],
    })
}

/// The email of `pswatch test-notify`.
pub fn test_email(channel: &str, now: time::OffsetDateTime) -> EmailContent {
    EmailContent {
        subject: format!("[pswatch] test message for channel {channel}"),
        text: format!("{TEST_NOTE}\n\nChannel: {channel}\nSent: {}\n-- \nSent by pswatch\n", rfc3339(now)),
        html: format!(
            "<!DOCTYPE html><html><body style=\"font-family: sans-serif\"><h2>pswatch test message</h2><p>{}</p><p>Channel: {}<br>Sent: {}</p></body></html>",
            html_escape(TEST_NOTE),
            html_escape(channel),
            rfc3339(now)
        ),
    }
}

/// The webhook body of `pswatch test-notify`: type `pswatch.test`, never an event type, so a
/// receiver cannot mistake it for a transition.
pub fn test_webhook_body(channel: &str, now: time::OffsetDateTime) -> Vec<u8> {
    let body = json!({
        "type": "pswatch.test",
        "timestamp": rfc3339(now),
        "data": {"channel": channel, "message": TEST_NOTE},
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The console line of `pswatch test-notify`.
pub fn test_console(channel: &str, now: time::OffsetDateTime) -> String {
    format!(
        "{} test     pswatch test message for channel {channel}",
        rfc3339(now)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{revert_and_validation_events, sample_events};

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
}
