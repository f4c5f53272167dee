//! Discord: embeds within Discord's limits (a title of 256 characters, a description of 4,096,
//! at most 10 embeds and 6,000 characters in all a message), and no mention that pings anyone.

use std::fmt::Write as _;

use diff_engine::{Event, Severity};
use serde_json::{json, Value};

use crate::text::{
    change, dashboard_url, details, errors_heading, fit, headline, resource_name, rfc3339,
    timestamp, truncate, ERROR_TEXT_LIMIT, TEST_NOTE,
};
use crate::words::Words;

/// Discord's limit for an embed's title.
pub const DISCORD_TITLE_LIMIT: usize = 256;
/// Discord's limit for an embed's description.
pub const DISCORD_DESCRIPTION_LIMIT: usize = 4096;
/// Discord's limit of embeds in one message.
pub const DISCORD_MAX_EMBEDS: usize = 10;
/// Discord's limit of characters across a message's embeds.
pub const DISCORD_MESSAGE_LIMIT: usize = 6000;

/// The embed's colour: the severity, also written in its footer (the message must read
/// without colour).
fn colour(severity: Severity) -> u32 {
    match severity {
        Severity::Critical => 0x00E0_1E5A,
        Severity::Warning => 0x00EC_B22E,
        Severity::Info => 0x0036_C5F0,
    }
}

/// Escapes what Discord's markdown gives meaning to, so names from the API show as written.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if matches!(
            character,
            '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']' | '<'
        ) {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// An event's description without a template: what changed, the facts and the errors.
fn built_in_description(event: &Event) -> String {
    let mut text = format!(
        "**{}**: `{}`",
        escape(&resource_name(event)),
        change(event).replace('`', "'")
    );
    for (label, value) in details(event) {
        let _ = write!(text, "\n**{label}:** {}", escape(&value));
    }
    if let Some(errors) = event.kind.errors() {
        let _ = write!(
            text,
            "\n**{}:**\n```\n{}\n```",
            errors_heading(event),
            truncate(&errors, ERROR_TEXT_LIMIT).replace("```", "'''")
        );
    }
    text
}

fn embed(event: &Event, words: &Words, description_limit: usize) -> Value {
    let title = words
        .title(event)
        .map_or_else(|| headline(event), str::to_owned);
    let mut description = words
        .text(event)
        .map_or_else(|| built_in_description(event), str::to_owned);
    // The silence form's link comes first, so that shortening the description never cuts it.
    if let Some(link) = words.silence_link(event) {
        description = format!("[Silence its database](<{link}>)\n{description}");
    }
    json!({
        "title": fit(&title, DISCORD_TITLE_LIMIT),
        "description": fit(&description, description_limit),
        "url": dashboard_url(event),
        "color": colour(event.severity),
        "timestamp": timestamp(event),
        "footer": {"text": format!("{} · {} · pswatch", event.severity, event.id)},
    })
}

/// Characters an embed counts toward the message's 6,000: its title, description and footer.
fn size(embed: &Value) -> usize {
    ["title", "description"]
        .iter()
        .filter_map(|key| embed[key].as_str())
        .chain(embed["footer"]["text"].as_str())
        .map(|text| text.chars().count())
        .sum()
}

/// The Discord message for the events of one target and poll: an embed an event (its title,
/// a description of the facts and errors, or a template's title and text, a link to the
/// dashboard, the severity's colour), at most 10, each description shortened so the message
/// stays within 6,000 characters. No mention in it pings anyone.
pub fn discord_message(events: &[Event], words: &Words) -> Value {
    let Some(first) = events.first() else {
        return json!({"content": "pswatch: no events", "allowed_mentions": {"parse": []}});
    };
    let shown = events.len().min(DISCORD_MAX_EMBEDS);
    // When more events came than embeds fit, the last embed says how many more there were.
    let (listed, more) = if events.len() > DISCORD_MAX_EMBEDS {
        (
            DISCORD_MAX_EMBEDS - 1,
            events.len() - (DISCORD_MAX_EMBEDS - 1),
        )
    } else {
        (shown, 0)
    };
    // Each embed's description gets an equal share of what the titles and footers leave.
    let mut share = DISCORD_DESCRIPTION_LIMIT;
    let mut embeds: Vec<Value> = Vec::new();
    for _ in 0..4 {
        embeds = events
            .iter()
            .take(listed)
            .map(|event| embed(event, words, share))
            .collect();
        let total: usize = embeds.iter().map(size).sum::<usize>() + 200;
        if total <= DISCORD_MESSAGE_LIMIT {
            break;
        }
        let fixed: usize = embeds
            .iter()
            .map(|embed| {
                size(embed)
                    - embed["description"]
                        .as_str()
                        .map_or(0, |text| text.chars().count())
            })
            .sum();
        share = (DISCORD_MESSAGE_LIMIT.saturating_sub(fixed + 200) / listed.max(1)).max(1);
    }
    if more > 0 {
        embeds.push(json!({
            "title": format!("…and {more} more changes"),
            "description": "See the PlanetScale dashboard.",
            "url": dashboard_url(first),
        }));
    }
    // The owners of the listed events' resources, by the ids `[[people]]` gives: the only
    // mentions, and the only ones allowed to ping.
    let mut owners: Vec<&str> = Vec::new();
    for event in events.iter().take(listed) {
        if let Some(id) = words
            .owner(event)
            .and_then(|owner| owner.person.discord.as_deref())
        {
            if !owners.contains(&id) {
                owners.push(id);
            }
        }
    }
    let content = (!owners.is_empty()).then(|| {
        let mentions: Vec<String> = owners.iter().map(|id| format!("<@{id}>")).collect();
        format!(
            "{}: {}",
            if owners.len() == 1 { "Owner" } else { "Owners" },
            mentions.join(" ")
        )
    });
    let mut allowed = json!({"parse": []});
    if !owners.is_empty() {
        allowed["users"] = json!(owners);
    }
    json!({
        "content": content,
        "embeds": embeds,
        "allowed_mentions": allowed,
    })
}

/// The Discord message of `pswatch test-notify`.
pub fn test_discord(channel: &str, now: time::OffsetDateTime) -> Value {
    json!({
        "content": null,
        "embeds": [{
            "title": "pswatch test message",
            "description": format!("{TEST_NOTE}\n**Channel:** {}", escape(channel)),
            "timestamp": rfc3339(now),
            "footer": {"text": "test · pswatch"},
        }],
        "allowed_mentions": {"parse": []},
    })
}
