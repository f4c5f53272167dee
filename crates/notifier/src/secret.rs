//! Values that must never reach a log line, an error message or the store.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// A secret string (a Slack webhook URL, an SMTP URL with a password). `Debug` and `Display`
/// print `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for where it must go (a request, a transport); never for messages.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("<redacted>")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("<redacted>")
    }
}

/// A receiver's URL that may carry a token (in its path or query, as webhook and Teams
/// Workflows URLs do). `Debug` and `Display` show the scheme and host only.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(url::Url);

impl SecretUrl {
    /// Wraps a URL that may carry a token.
    pub fn new(url: url::Url) -> Self {
        Self(url)
    }

    /// The URL itself, for the request; never for messages.
    pub fn expose(&self) -> &url::Url {
        &self.0
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, formatter)
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}://{}/<redacted>",
            self.0.scheme(),
            self.0.host_str().unwrap_or("?")
        )
    }
}

/// A Standard Webhooks signing secret: `whsec_` followed by the base64 of the key.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

/// Why a webhook secret was refused. The message never repeats the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("must start with \"whsec_\" followed by base64 (as Standard Webhooks secrets do)")]
    /// It does not start with `whsec_`.
    MissingPrefix,
    #[error("the part after \"whsec_\" is not valid base64")]
    /// The key is not base64.
    NotBase64,
    #[error("the key is {0} bytes; use at least 24 random bytes (32 recommended)")]
    /// The key has fewer than 24 bytes: this many.
    TooShort(usize),
}

impl WebhookSecret {
    /// Parses `whsec_<base64>`.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text
            .trim()
            .strip_prefix("whsec_")
            .ok_or(SecretError::MissingPrefix)?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?;
        if key.len() < 24 {
            return Err(SecretError::TooShort(key.len()));
        }
        Ok(Self { key })
    }

    /// The signing key's bytes.
    pub fn key(&self) -> &[u8] {
        &self.key
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("WebhookSecret(<redacted>)")
    }
}
