//! What a failed delivery means, decided once, where the error is born, so that the retry loop
//! never looks at status codes. A leaf: it knows no channel and no sender.

use std::time::Duration;

/// What a failed delivery means for the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// May succeed later: 429, 5xx, timeouts, connection failures, SMTP 4xx.
    Transient,
    /// Will not succeed as it is: other 4xx, SMTP 5xx, a message that cannot be built.
    Permanent,
    /// The receiver says it is gone for good (HTTP 410): stop using the channel.
    Gone,
}

/// A failed delivery. The message names the channel and never holds a secret.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    /// What the failure means for the next attempt.
    pub verdict: Verdict,
    /// What happened, for people: the channel, the receiver's answer.
    pub message: String,
    /// The receiver's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
}

impl DeliveryError {
    pub(crate) fn new(verdict: Verdict, message: String) -> Self {
        Self {
            verdict,
            message,
            retry_after: None,
        }
    }

    /// Whether a later attempt may succeed.
    pub fn is_transient(&self) -> bool {
        self.verdict == Verdict::Transient
    }
}

/// The verdict on an HTTP status, `None` for success (2xx).
pub fn classify_status(status: u16) -> Option<Verdict> {
    match status {
        200..=299 => None,
        410 => Some(Verdict::Gone),
        429 | 500..=599 => Some(Verdict::Transient),
        // 1xx and 3xx (no redirect is followed: it could carry the alert and the URL's token to
        // another host) and the
        // other 4xx will not get better by themselves.
        _ => Some(Verdict::Permanent),
    }
}

/// A channel that cannot be built; names the channel and what is wrong.
#[derive(Debug, Clone, thiserror::Error)]
#[error("channel {channel:?}: {message}")]
pub struct ChannelError {
    /// The channel's name.
    pub channel: String,
    /// What is wrong with it; never a secret.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verdict for every status code, as Alertmanager pins its notifiers' retries.
    #[test]
    fn every_status_code_has_a_verdict() {
        for status in 100..=599u16 {
            let expected = match status {
                200..=299 => None,
                410 => Some(Verdict::Gone),
                429 => Some(Verdict::Transient),
                500..=599 => Some(Verdict::Transient),
                _ => Some(Verdict::Permanent),
            };
            assert_eq!(classify_status(status), expected, "HTTP {status}");
        }
    }
}
