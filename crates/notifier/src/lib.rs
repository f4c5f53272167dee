//! pswatch's notifier: channels, routing rules, message rendering and delivery.
//!
//! Rendering ([`render`]) and routing ([`Router`]) are pure;
//! [`Notifier::deliver`]`(channel, events, memos)` is the thin async layer that sends the events
//! of one target and poll through one channel (one message, a message or page per resource, or
//! a request per event, as the kind sends them), reading and changing what the channel
//! remembers of their resources ([`Memos`]), and classifies a failure ([`Verdict`]) where it is
//! born.
//!
//! A channel kind is one module under [`kinds`] (its configured values, rendering, sending,
//! preview and secrets), and the list in `kinds/mod.rs` is the one place that names them all.
//!
//! Modules depend in one direction: `verdict` (what a failure means) knows nothing else;
//! `retry` decides from a verdict; `render` and `send` hold what every kind shares; `kinds`
//! builds on them; `channel` is a configured channel of a kind; `deliver` ties channels, their
//! senders and the `pacer` together.

mod channel;
mod deliver;
mod digest;
pub mod kinds;
mod pacer;
mod payload;
mod people;
mod preview;
pub mod render;
mod retry;
mod route;
mod secret;
mod send;
mod sign;
pub mod template;
#[cfg(test)]
mod testing;
mod text;
#[cfg(feature = "testing")]
pub mod vendor_check;
mod verdict;
mod words;

pub use channel::Channel;
pub use deliver::Notifier;
pub use digest::with_digests;
pub use kinds::alertmanager::{AlertmanagerAuth, AlertmanagerChannel};
pub use kinds::console::ConsoleChannel;
pub use kinds::discord::DiscordChannel;
pub use kinds::email::send::smtp_transport;
pub use kinds::email::EmailChannel;
pub use kinds::github::{GitHubChannel, GITHUB_API_URL};
pub use kinds::google_chat::GoogleChatChannel;
pub use kinds::pagerduty::{PagerDutyChannel, PAGERDUTY_API_URL};
pub use kinds::slack::actions::{
    episode_of, verify_request as verify_slack_request, Action, ActionValue, RequestRefusal,
    SlackActions,
};
pub use kinds::slack::{SlackApi, SlackChannel, SLACK_API_URL};
pub use kinds::teams::TeamsChannel;
pub use kinds::webhook::WebhookChannel;
pub use kinds::ChannelKind;
pub use model::{glob_set, GlobError};
pub use model::{silenced_by, Matcher, Silence, SilenceError, Window};
pub use model::{FiringAlert, Incident, Memo, Memos, ResourceKey, ResourceKind, SlackThread};
pub use payload::WebhookPayload;
pub use people::{Owner, People, Person};
pub use preview::preview;
pub use retry::{Decision, RetryPolicy, DEFAULT_MAX_AGE};
pub use route::{Reach, Route, Router, Subject};
pub use secret::{Secret, SecretError, SecretUrl, WebhookSecret};
pub use send::DELIVERY_TIMEOUT;
pub use sign::sign;
pub use template::{
    sample_event, ChannelTemplates, Flavor, TemplateError, TemplateSource, Templates, Words,
};
pub use verdict::{classify_status, ChannelError, DeliveryError, Verdict};

/// Re-exported so that callers build mailboxes with the same type.
pub use lettre::message::Mailbox;
