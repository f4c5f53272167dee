//! Channels: where messages go, as typed values built from the configuration.

use lettre::message::Mailbox;
use url::Url;

use crate::secret::{Secret, WebhookSecret};

/// One configured channel.
#[derive(Debug, Clone)]
pub struct Channel {
    pub name: String,
    pub kind: ChannelKind,
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
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Slack { .. } => "slack",
            Self::Email(_) => "email",
            Self::Webhook { .. } => "webhook",
            Self::Console => "console",
        }
    }
}
