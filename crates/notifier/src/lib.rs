//! pswatch's notifier: channels, routing rules, message rendering and delivery.
//!
//! Rendering ([`render`]) and routing ([`Router`]) are pure; [`Notifier::deliver`] is the thin
//! async layer that sends one event through one channel and classifies a failure
//! ([`Verdict`]) where it is born.

mod channel;
mod deliver;
mod payload;
pub mod render;
mod retry;
mod route;
mod secret;
mod sign;
#[cfg(test)]
mod testing;

pub use channel::{Channel, ChannelKind, EmailChannel};
pub use deliver::{
    classify_status, parse_retry_after, smtp_transport, ChannelError, DeliveryError, Notifier,
    Verdict, DELIVERY_TIMEOUT,
};
pub use payload::WebhookPayload;
pub use retry::{Decision, RetryPolicy, DEFAULT_MAX_AGE};
pub use route::{glob_set, GlobError, Route, Router};
pub use secret::{Secret, SecretError, SecretUrl, WebhookSecret};
pub use sign::sign;

/// Re-exported so that callers build mailboxes with the same type.
pub use lettre::message::Mailbox;
