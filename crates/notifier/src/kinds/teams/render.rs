//! Microsoft Teams: an Adaptive Card (version 1.4) in the message a Workflows webhook takes.
//!
//! Text from the API (names, error text) goes in `TextRun`s and fact values, never in markdown
//! a `TextBlock` would interpret; error text is cut like everywhere else, and a card holds at
//! most [`TEAMS_MAX_EVENTS`] events, well inside Teams' 28 KB per message.

use diff_engine::{Event, Severity};
use serde_json::{json, Value};

use crate::text::{
    change, dashboard_url, details, errors_heading, headline, resource_name, rfc3339, timestamp,
    title, truncate, ERROR_TEXT_LIMIT, TEST_NOTE,
};
use crate::words::Words;

/// The Adaptive Card schema version pswatch writes; Teams renders 1.4 and later in messages.
pub const ADAPTIVE_CARD_VERSION: &str = "1.4";
/// The most events one card shows; the card says how many more there were.
pub const TEAMS_MAX_EVENTS: usize = 10;

/// The attachment envelope a Workflows webhook ("Post to a channel when a webhook request is
/// received") expects around a card.
fn message(card: Value) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    })
}

fn card(title: &str, body: Vec<Value>, actions: Vec<Value>) -> Value {
    json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": ADAPTIVE_CARD_VERSION,
        "fallbackText": title,
        "body": body,
        "actions": actions,
        "msteams": {"width": "Full"},
    })
}

/// `text` that cannot be read as a Teams mention: an `<at>` (or `</at>`) in it gets a word
/// joiner after its `<`, invisible, so that only the card's own mentions mention anyone.
fn no_mention(text: &str) -> std::borrow::Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    if !lower.contains("<at") && !lower.contains("</at") {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.replace('<', "<\u{2060}"))
}

/// The mention of an event's owner, when its actor is a listed person with a Teams user: the
/// line that names them, and its entity. The name keeps letters, digits, spaces and `.-'`
/// only, so the line cannot be read as markdown.
fn owner_mention(event: &Event, words: &Words) -> Option<(Value, Value)> {
    let owner = words.owner(event)?;
    let upn = owner.person.teams.as_deref()?;
    let name: String = owner
        .name
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '-' | '\''))
        .collect();
    let name = if name.trim().is_empty() {
        upn.to_owned()
    } else {
        name.trim().to_owned()
    };
    let tag = format!("<at>{name}</at>");
    Some((
        json!({"type": "TextBlock", "text": format!("Owner: {tag}"), "wrap": true}),
        json!({"type": "mention", "text": tag, "mentioned": {"id": upn, "name": name}}),
    ))
}

/// A line of plain text: a `RichTextBlock` with one `TextRun`, which Teams shows as written.
fn plain(text: &str, emphasis: Option<&str>) -> Value {
    let mut run = json!({"type": "TextRun", "text": no_mention(text)});
    match emphasis {
        Some("heading") => {
            run["weight"] = json!("Bolder");
            run["size"] = json!("Medium");
        }
        Some("label") => run["weight"] = json!("Bolder"),
        Some("code") => run["fontType"] = json!("Monospace"),
        Some("subtle") => {
            run["isSubtle"] = json!(true);
            run["size"] = json!("Small");
        }
        _ => {}
    }
    json!({"type": "RichTextBlock", "inlines": [run]})
}

fn open_in_planetscale(event: &Event) -> Value {
    json!({"type": "Action.OpenUrl", "title": "Open in PlanetScale", "url": dashboard_url(event)})
}

/// The event's buttons: to the dashboard and, with `[admin] public_url`, to the status page's
/// silence form.
fn buttons(event: &Event, words: &Words) -> Vec<Value> {
    let mut buttons = vec![open_in_planetscale(event)];
    if let Some(link) = words.silence_link(event) {
        buttons.push(json!({"type": "Action.OpenUrl", "title": "Silence", "url": link}));
    }
    buttons
}

/// A container's style for a severity, with the severity also written out (the card must read
/// without colour).
fn style(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "attention",
        Severity::Warning => "warning",
        Severity::Info => "default",
    }
}

fn event_container(event: &Event, with_button: bool, words: &Words) -> Value {
    let mut facts = vec![
        json!({"title": "Database", "value": no_mention(&format!("{}/{}", event.organization, event.database))}),
        json!({"title": "Resource", "value": no_mention(&resource_name(event))}),
        json!({"title": "State", "value": no_mention(&change(event))}),
        json!({"title": "Severity", "value": event.severity.as_str()}),
    ];
    facts.extend(
        details(event)
            .into_iter()
            .map(|(label, value)| json!({"title": label, "value": no_mention(&value)})),
    );
    let heading = words
        .title(event)
        .map_or_else(|| headline(event), str::to_owned);
    let mut items = vec![plain(&heading, Some("heading"))];
    // A template's text stands where the facts and the errors go, as plain text.
    if let Some(text) = words.text(event) {
        items.push(plain(text, None));
    } else {
        items.push(json!({"type": "FactSet", "facts": facts}));
        if let Some(errors) = event.kind.errors() {
            items.push(plain(&format!("{}:", errors_heading(event)), Some("label")));
            items.push(plain(&truncate(&errors, ERROR_TEXT_LIMIT), Some("code")));
        }
    }
    if let Some((line, _)) = owner_mention(event, words) {
        items.push(line);
    }
    if with_button {
        items.push(json!({"type": "ActionSet", "actions": buttons(event, words)}));
    }
    items.push(plain(
        &format!("{} · {} · pswatch", timestamp(event), event.id),
        Some("subtle"),
    ));
    json!({
        "type": "Container",
        "style": style(event.severity),
        "separator": true,
        "items": items,
    })
}

/// The Teams message for the events of one target and poll: one card, a container per event
/// (its headline, the facts, the error text and a button to the PlanetScale dashboard; a
/// template's title and text in place of the headline and of the facts and errors).
pub fn teams_message(events: &[Event], words: &Words) -> Value {
    let Some(first) = events.first() else {
        return message(card("pswatch: no events", Vec::new(), Vec::new()));
    };
    let title = match (events.len(), words.title(first)) {
        (1, Some(own)) => own.to_owned(),
        _ => title(first, events.len()),
    };
    let mut body = Vec::with_capacity(events.len().min(TEAMS_MAX_EVENTS) + 2);
    if events.len() > 1 {
        body.push(plain(&title, Some("heading")));
    }
    // One event: the card's own button; several: a button in each event's container.
    let several = events.len() > 1;
    body.extend(
        events
            .iter()
            .take(TEAMS_MAX_EVENTS)
            .map(|event| event_container(event, several, words)),
    );
    if events.len() > TEAMS_MAX_EVENTS {
        body.push(plain(
            &format!(
                "…and {} more changes; see the PlanetScale dashboard.",
                events.len() - TEAMS_MAX_EVENTS
            ),
            None,
        ));
    }
    let actions = if several {
        Vec::new()
    } else {
        buttons(first, words)
    };
    let mut card = card(&title, body, actions);
    let mut entities: Vec<Value> = Vec::new();
    for event in events.iter().take(TEAMS_MAX_EVENTS) {
        if let Some((_, entity)) = owner_mention(event, words) {
            if !entities.contains(&entity) {
                entities.push(entity);
            }
        }
    }
    if !entities.is_empty() {
        card["msteams"]["entities"] = json!(entities);
    }
    message(card)
}

/// The Teams message of `pswatch test-notify`.
pub fn test_teams(channel: &str, now: time::OffsetDateTime) -> Value {
    let title = format!("pswatch test message for channel {channel}");
    message(card(
        &title,
        vec![
            plain("pswatch test message", Some("heading")),
            plain(TEST_NOTE, None),
            json!({"type": "FactSet", "facts": [
                {"title": "Channel", "value": channel},
                {"title": "Sent", "value": rfc3339(now)},
            ]}),
        ],
        Vec::new(),
    ))
}
