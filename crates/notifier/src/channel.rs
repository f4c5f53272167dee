//! Channels: where messages go, as typed values built from the configuration.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::kinds::ChannelKind;
use crate::retry::RetryPolicy;
use crate::template::ChannelTemplates;

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
    /// The templates it lists, in order; none for the built-in text.
    pub templates: ChannelTemplates,
    /// `[[people]]`: whom its messages name as a resource's owner.
    pub people: crate::People,
    /// `[admin] public_url`: where its messages link to the status page's silence form.
    pub status_page: Option<std::sync::Arc<str>>,
}

impl Channel {
    /// A channel with the defaults of its type: the default retry policy, and at most one message
    /// a second to a Slack webhook, as Slack asks.
    pub fn new(name: impl Into<String>, kind: ChannelKind) -> Self {
        let min_interval = kind.min_interval();
        Self {
            name: name.into(),
            kind,
            retry: RetryPolicy::default(),
            min_interval,
            templates: ChannelTemplates::default(),
            people: crate::People::default(),
            status_page: None,
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
        self.kind.fingerprint(&mut part);
        mac.finalize()
            .into_bytes()
            .iter()
            .take(16)
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::webhook::WebhookChannel;
    use crate::secret::{SecretUrl, WebhookSecret};

    fn webhook(url: &str) -> Channel {
        Channel::new(
            "audit",
            ChannelKind::Webhook(WebhookChannel {
                url: SecretUrl::new(url.parse().expect("url")),
                secret: WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
                    .expect("secret"),
            }),
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
