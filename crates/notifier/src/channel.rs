//! Channels: where messages go, as typed values built from the configuration.

use std::time::Duration;

use hmac::{Hmac, Mac};
use lettre::message::Mailbox;
use sha2::Sha256;

use crate::retry::RetryPolicy;
use crate::secret::{Secret, SecretUrl, WebhookSecret};

/// One configured channel.
#[derive(Debug, Clone)]
pub struct Channel {
    /// Its name, unique in the configuration; routes name it.
    pub name: String,
    /// Where it sends, and how.
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
            // Slack asks for at most one message a second to a webhook or a channel.
            ChannelKind::Slack(_) => Duration::from_secs(1),
            // PagerDuty takes about 120 events a minute per routing key.
            ChannelKind::PagerDuty(_) => Duration::from_millis(500),
            _ => Duration::ZERO,
        };
        Self {
            name: name.into(),
            kind,
            retry: RetryPolicy::default(),
            min_interval,
        }
    }

    /// A keyed digest (HMAC-SHA256 with `key`, the store's fingerprint key) of what the channel
    /// sends to, so that a channel disabled after HTTP 410 comes back when it is reconfigured.
    /// Keyed, because what it covers holds passwords and tokens: without the key, a fingerprint
    /// cannot be checked against guesses of them.
    pub fn fingerprint(&self, key: &[u8]) -> String {
        // HMAC takes a key of any length.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
            return String::new();
        };
        let mut part = |bytes: &[u8]| {
            // Each part is length-prefixed, so that no two configurations run together alike.
            mac.update(&u64::try_from(bytes.len()).unwrap_or(u64::MAX).to_be_bytes());
            mac.update(bytes);
        };
        part(self.kind.type_name().as_bytes());
        match &self.kind {
            ChannelKind::Slack(SlackChannel::Webhook { webhook_url }) => {
                part(webhook_url.expose().as_bytes());
            }
            ChannelKind::Slack(SlackChannel::Api(api)) => {
                part(api.api_url.as_str().as_bytes());
                part(api.bot_token.expose().as_bytes());
                part(api.channel.as_bytes());
            }
            ChannelKind::Teams { webhook_url } => part(webhook_url.expose().as_str().as_bytes()),
            ChannelKind::PagerDuty(pagerduty) => {
                part(pagerduty.api_url.as_str().as_bytes());
                part(pagerduty.routing_key.expose().as_bytes());
            }
            ChannelKind::Email(email) => {
                part(email.smtp_url.expose().as_bytes());
                for to in &email.to {
                    part(to.to_string().as_bytes());
                }
            }
            ChannelKind::Webhook { url, secret } => {
                part(url.expose().as_str().as_bytes());
                part(secret.key());
            }
            ChannelKind::Console => {}
        }
        mac.finalize()
            .into_bytes()
            .iter()
            .take(16)
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

/// Where a channel sends, and how.
#[derive(Debug, Clone)]
pub enum ChannelKind {
    /// Slack, through an incoming webhook or the Web API.
    Slack(SlackChannel),
    /// Email over SMTP.
    Email(EmailChannel),
    /// A Standard Webhooks receiver; its URL may carry a token.
    Webhook {
        /// Where to POST.
        url: SecretUrl,
        /// The key that signs each body.
        secret: WebhookSecret,
    },
    /// A Microsoft Teams Workflows webhook, sent Adaptive Cards; the URL is the secret.
    Teams {
        /// The Workflows webhook's URL (it carries its signature).
        webhook_url: SecretUrl,
    },
    /// PagerDuty's Events API v2: incidents that open on errors and resolve on recovery.
    PagerDuty(PagerDutyChannel),
    /// One line per event on standard output.
    Console,
}

/// How a Slack channel reaches Slack.
#[derive(Debug, Clone)]
pub enum SlackChannel {
    /// An incoming webhook: one message per poll; the URL is the secret.
    Webhook {
        /// The incoming webhook's URL.
        webhook_url: Secret,
    },
    /// The Web API with a bot token: a thread per resource whose first message stays current.
    Api(SlackApi),
}

/// A Slack app's bot token and the channel it posts to.
#[derive(Debug, Clone)]
pub struct SlackApi {
    /// The `xoxb-` bot token.
    pub bot_token: Secret,
    /// The channel's id, like `C0123456789`.
    pub channel: String,
    /// The Web API's base address, `https://slack.com/api` unless set.
    pub api_url: url::Url,
}

/// A PagerDuty service's Events API v2 integration.
#[derive(Debug, Clone)]
pub struct PagerDutyChannel {
    /// The integration's routing key.
    pub routing_key: Secret,
    /// The Events API's base address, `https://events.pagerduty.com` unless set.
    pub api_url: url::Url,
    /// Whether warnings (a cancelled or reverted change) page too, not only errors.
    pub page_on_warning: bool,
}

/// Slack's Web API, where a Slack channel with a bot token posts.
pub const SLACK_API_URL: &str = "https://slack.com/api";
/// PagerDuty's Events API.
pub const PAGERDUTY_API_URL: &str = "https://events.pagerduty.com";

/// An SMTP relay and the message's sender and recipients.
#[derive(Debug, Clone)]
pub struct EmailChannel {
    /// `smtp://`, `smtp://…?tls=required` or `smtps://`, maybe with `user:password@`.
    pub smtp_url: Secret,
    /// The sender.
    pub from: Mailbox,
    /// The recipients; at least one.
    pub to: Vec<Mailbox>,
}

impl ChannelKind {
    /// Whether the events of one poll are delivered together (one message for Slack, email,
    /// Teams and the console; one message or page per resource for Slack's Web API and
    /// PagerDuty) rather than one request each (webhooks, where each event keeps its own
    /// `webhook-id`).
    pub fn groups_events(&self) -> bool {
        !matches!(self, Self::Webhook { .. })
    }

    /// Whether deliveries read and change what the channel remembers of a resource
    /// ([`Memos`](crate::Memos)): a Slack thread, a PagerDuty incident.
    pub fn remembers(&self) -> bool {
        matches!(self, Self::Slack(SlackChannel::Api(_)) | Self::PagerDuty(_))
    }

    /// `slack`, `email`, `webhook`, `teams`, `pagerduty` or `console`, as the configuration
    /// writes it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Slack(_) => "slack",
            Self::Email(_) => "email",
            Self::Webhook { .. } => "webhook",
            Self::Teams { .. } => "teams",
            Self::PagerDuty(_) => "pagerduty",
            Self::Console => "console",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhook(url: &str) -> Channel {
        Channel::new(
            "audit",
            ChannelKind::Webhook {
                url: SecretUrl::new(url.parse().expect("url")),
                secret: WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
                    .expect("secret"),
            },
        )
    }

    #[test]
    fn fingerprints_are_keyed_and_follow_the_configuration() {
        let channel = webhook("https://hooks.example.com/in?token=t0k3n");
        let key = [7u8; 32];
        let fingerprint = channel.fingerprint(&key);
        assert_eq!(fingerprint.len(), 32);
        assert_eq!(fingerprint, channel.fingerprint(&key), "stable");
        assert_ne!(fingerprint, channel.fingerprint(&[8u8; 32]), "keyed");
        assert_ne!(
            fingerprint,
            webhook("https://hooks.example.com/in?token=other").fingerprint(&key),
            "a reconfigured channel has another fingerprint"
        );
        // Nothing of the configuration shows in it, nor in Debug.
        assert!(!fingerprint.contains("t0k3n"));
        let debug = format!("{channel:?}");
        assert!(
            !debug.contains("t0k3n") && !debug.contains("/in"),
            "{debug}"
        );
        assert!(
            debug.contains("https://hooks.example.com/<redacted>"),
            "{debug}"
        );
    }
}
