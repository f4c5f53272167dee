//! Message rendering: pure functions from events to what each channel sends. What every kind
//! shows is in `text.rs`; each kind's own form is its `render.rs` under
//! [`kinds`](crate::kinds). Both are re-exported here, the one path callers use.

pub use crate::text::*;

pub use crate::kinds::console::render::{console_line, test_console};
pub use crate::kinds::discord::render::{
    discord_message, test_discord, DISCORD_DESCRIPTION_LIMIT, DISCORD_MAX_EMBEDS,
    DISCORD_MESSAGE_LIMIT, DISCORD_TITLE_LIMIT,
};
pub use crate::kinds::email::render::{email, test_email, EmailContent};
pub use crate::kinds::google_chat::render::{google_chat_message, test_google_chat, thread_key};
pub use crate::kinds::pagerduty::render as pagerduty;
pub use crate::kinds::slack::render::{
    slack_message, slack_thread_head, test_slack, SLACK_HEADER_LIMIT, SLACK_MAX_BLOCKS,
    SLACK_SECTION_LIMIT,
};
pub use crate::kinds::teams::render::{
    teams_message, test_teams, ADAPTIVE_CARD_VERSION, TEAMS_MAX_EVENTS,
};
pub use crate::kinds::webhook::render::{test_webhook_body, webhook_body};

#[cfg(test)]
mod tests;
