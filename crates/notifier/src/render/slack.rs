//! Slack: Block Kit messages with a plain text fallback, for incoming webhooks and for the Web
//! API's threads.

use std::fmt::Write as _;

use diff_engine::{Event, Severity};
use serde_json::{json, Value};

use super::{
    change, dashboard_url, details, errors_heading, headline, resource_name, rfc3339, timestamp,
    truncate, ERROR_TEXT_LIMIT, TEST_NOTE,
};

/// Slack's limit for the text of a section block.
pub const SLACK_SECTION_LIMIT: usize = 3000;
/// Slack's limit for a header block's text.
pub const SLACK_HEADER_LIMIT: usize = 150;
/// Slack's limit of blocks in one message.
pub const SLACK_MAX_BLOCKS: usize = 50;

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
