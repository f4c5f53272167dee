//! Channels: where messages go, as typed values built from the configuration.

use std::time::Duration;

use lettre::message::Mailbox;
use sha2::{Digest, Sha256};
use url::Url;

use crate::retry::RetryPolicy;
use crate::secret::{Secret, WebhookSecret};

/// One configured channel.
#[derive(Debug, Clone)]
pub struct Channel {
    pub name: String,
    pub kind: ChannelKind,
    /// When failed deliveries are retried, and for how long.
    pub retry: RetryPolicy,
    /// The least time between two messages to the same receiver (for Slack, per webhook URL).
    pub min_interval: Duration,
}

impl Channel {
    /// A channel with the defaults of its type: the default retry policy, and at most one message
    /// a second to a Slack webhook, as Slack asks.
    pub fn new(name: impl Into<String>, kind: ChannelKind) -> Self {
        let min_interval = match kind {
            ChannelKind::Slack { .. } => Duration::from_secs(1),
            _ => Duration::ZERO,
        };
        Self {
            name: name.into(),
            kind,
            retry: RetryPolicy::default(),
            min_interval,
        }
    }

    /// A digest of what the channel sends to, so that a channel disabled after HTTP 410 comes
    /// back when it is reconfigured. Not reversible: the digest of a random secret tells nothing.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.kind.type_name().as_bytes());
        match &self.kind {
            ChannelKind::Slack { webhook_url } => hasher.update(webhook_url.expose().as_bytes()),
            ChannelKind::Email(email) => {
                hasher.update(email.smtp_url.expose().as_bytes());
                for to in &email.to {
                    hasher.update(to.to_string().as_bytes());
                }
            }
            ChannelKind::Webhook { url, secret } => {
                hasher.update(url.as_str().as_bytes());
                hasher.update(secret.key());
            }
            ChannelKind::Console => {}
        }
        hasher
            .finalize()
            .iter()
            .take(16)
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

#[derive(Debug, Clone)]
pub enum ChannelKind {
    /// A Slack incoming webhook; the URL is the secret.
    Slack { webhook_url: Secret },
    /// Email over SMTP.
    Email(EmailChannel),
    /// A Standard Webhooks receiver.
    Webhook { url: Url, secret: WebhookSecret },
    /// One line per event on standard output.
    Console,
}

#[derive(Debug, Clone)]
pub struct EmailChannel {
    /// `smtp://`, `smtp://…?tls=required` or `smtps://`, maybe with `user:password@`.
    pub smtp_url: Secret,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
}

impl ChannelKind {
    /// Whether the events of one poll go out as one message (Slack, email, console) rather than
    /// one request each (webhooks, where each event keeps its own `webhook-id`).
    pub fn groups_events(&self) -> bool {
        !matches!(self, Self::Webhook { .. })
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Slack { .. } => "slack",
            Self::Email(_) => "email",
            Self::Webhook { .. } => "webhook",
            Self::Console => "console",
        }
    }
}
