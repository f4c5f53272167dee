//! Google Chat: a `cardsV2` card an event (the headline, the facts, the errors and a button to
//! the dashboard) with a plain text fallback, and the thread of its resource. Card text takes
//! a little HTML, so every value is escaped.

use diff_engine::{Event, EventKind, Severity};
use serde_json::{json, Value};

use crate::text::{
    change, dashboard_url, details, errors_heading, headline, rfc3339, timestamp, truncate,
    ERROR_TEXT_LIMIT, TEST_NOTE,
};
use crate::words::Words;
use model::ResourceKey;

/// Escapes what Google Chat's card text reads as HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Escaped text with its line breaks kept.
fn paragraph(text: &str) -> String {
    escape(text).replace('\n', "<br>")
}

/// The thread an event goes in: its workflow's or deploy request's
/// (`pswatch/acme/commerce/workflow/3`), or for one of PlanetScale's own events, one per
/// database, event and branch or keyspace.
pub fn thread_key(event: &Event) -> String {
    match (ResourceKey::of(event), &event.kind) {
        (Some(key), _) => format!("pswatch/{key}"),
        (None, EventKind::PlanetScale { resource, .. }) => format!(
            "pswatch/{}/{}/{}/{}",
            event.organization,
            event.database,
            event.type_name(),
            resource["name"].as_str().unwrap_or("-")
        ),
        (None, _) => format!("pswatch/{}/{}", event.organization, event.database),
    }
}

fn severity_text(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// The Google Chat message for one event: a card with the headline (or a template's title),
/// the facts and errors (or a template's text) and a button to the dashboard, in the thread of
/// its resource.
pub fn google_chat_message(event: &Event, words: &Words) -> Value {
    let title = words
        .title(event)
        .map_or_else(|| headline(event), str::to_owned);
    let mut widgets = Vec::new();
    if let Some(own) = words.text(event) {
        widgets.push(json!({"textParagraph": {"text": paragraph(own)}}));
    } else {
        widgets
            .push(json!({"decoratedText": {"topLabel": "State", "text": escape(&change(event)), "wrapText": true}}));
        for (label, value) in details(event) {
            widgets.push(json!({"decoratedText": {"topLabel": label, "text": escape(&value), "wrapText": true}}));
        }
        if let Some(errors) = event.kind.errors() {
            widgets.push(json!({"textParagraph": {"text": format!(
                "<b>{}:</b><br>{}",
                errors_heading(event),
                paragraph(&truncate(&errors, ERROR_TEXT_LIMIT))
            )}}));
        }
    }
    let mut buttons = vec![json!({
        "text": "Open in PlanetScale",
        "onClick": {"openLink": {"url": dashboard_url(event)}},
    })];
    if let Some(link) = words.silence_link(event) {
        buttons.push(json!({"text": "Silence", "onClick": {"openLink": {"url": link}}}));
    }
    widgets.push(json!({"buttonList": {"buttons": buttons}}));
    json!({
        "text": truncate(&title, 4000),
        "cardsV2": [{
            "cardId": format!("pswatch-{}", event.id),
            "card": {
                "header": {
                    "title": truncate(&title, 200),
                    "subtitle": format!(
                        "{}/{} · {} · {}",
                        event.organization,
                        event.database,
                        severity_text(event.severity),
                        timestamp(event)
                    ),
                },
                "sections": [{"widgets": widgets}],
            },
        }],
        "thread": {"threadKey": thread_key(event)},
    })
}

/// The Google Chat message of `pswatch test-notify` (in no thread).
pub fn test_google_chat(channel: &str, now: time::OffsetDateTime) -> Value {
    json!({
        "text": format!("pswatch test message for channel {channel}"),
        "cardsV2": [{
            "cardId": "pswatch-test",
            "card": {
                "header": {"title": "pswatch test message", "subtitle": rfc3339(now)},
                "sections": [{"widgets": [
                    {"textParagraph": {"text": paragraph(TEST_NOTE)}},
                    {"decoratedText": {"topLabel": "Channel", "text": escape(channel)}},
                ]}],
            },
        }],
    })
}
