//! pswatch's notifier: channels, routing rules, message rendering and delivery.
//!
//! Rendering ([`render`]) and routing ([`Router`]) are pure; [`Notifier::deliver`] is the thin
//! async layer that sends one event through one channel and classifies a failure
//! ([`Verdict`]) where it is born.
//!
//! Modules depend in one direction: `verdict` (what a failure means) knows nothing else;
//! `retry` decides from a verdict; `channel` holds the configured values; `send` has one module
//! a channel kind; `memo` is what a channel remembers of a resource (a Slack thread, a PagerDuty
//! incident); `deliver` ties channels, senders and the `pacer` together.

mod channel;
mod deliver;
mod pacer;
mod payload;
mod preview;
pub mod render;
mod retry;
mod route;
mod secret;
mod send;
mod sign;
#[cfg(test)]
mod testing;
#[cfg(feature = "testing")]
pub mod vendor_check;
mod verdict;

pub use channel::{
    Channel, ChannelKind, EmailChannel, PagerDutyChannel, SlackApi, SlackChannel,
    PAGERDUTY_API_URL, SLACK_API_URL,
};
pub use deliver::Notifier;
pub use model::{glob_set, GlobError};
pub use model::{silenced_by, Matcher, Silence, SilenceError, Window};
pub use model::{Incident, Memo, Memos, ResourceKey, ResourceKind, SlackThread};
pub use payload::WebhookPayload;
pub use preview::preview;
pub use retry::{Decision, RetryPolicy, DEFAULT_MAX_AGE};
pub use route::{Reach, Route, Router, Subject};
pub use secret::{Secret, SecretError, SecretUrl, WebhookSecret};
pub use send::email::smtp_transport;
pub use send::DELIVERY_TIMEOUT;
pub use sign::sign;
pub use verdict::{classify_status, ChannelError, DeliveryError, Verdict};

/// Re-exported so that callers build mailboxes with the same type.
pub use lettre::message::Mailbox;
