//! Delivery: sending one event through one channel, and what a failure means.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use diff_engine::Event;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use reqwest::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};

use crate::channel::{Channel, ChannelKind, EmailChannel};
use crate::render;
use crate::secret::{Secret, SecretUrl, WebhookSecret};
use crate::sign::sign;

/// How long one delivery may take.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);

/// What a failed delivery means for the next attempt. Decided once, where the error is born,
/// so the retry loop never looks at status codes.
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
    pub verdict: Verdict,
    pub message: String,
    /// The receiver's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
}

impl DeliveryError {
    fn new(verdict: Verdict, message: String) -> Self {
        Self {
            verdict,
            message,
            retry_after: None,
        }
    }

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
        // 1xx and 3xx (reqwest follows redirects, so one here is a loop or a dead end) and the
        // other 4xx will not get better by themselves.
        _ => Some(Verdict::Permanent),
    }
}

/// A channel that cannot be built; names the channel and the key.
#[derive(Debug, Clone, thiserror::Error)]
#[error("channel {channel:?}: {message}")]
pub struct ChannelError {
    pub channel: String,
    pub message: String,
}

/// What one send carries.
#[derive(Clone, Copy)]
enum Payload<'a> {
    Events(&'a [Event]),
    Test,
}

enum Sender {
    Slack {
        webhook_url: Secret,
    },
    Email {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
        to: Vec<Mailbox>,
    },
    Webhook {
        url: SecretUrl,
        secret: WebhookSecret,
    },
    Console,
}

/// The last send to one receiver, shared by the channels that send to it.
type Pacer = Arc<tokio::sync::Mutex<Option<tokio::time::Instant>>>;

struct Configured {
    channel: Channel,
    sender: Sender,
    pacer: Pacer,
}

/// Sends events through the configured channels.
pub struct Notifier {
    http: reqwest::Client,
    senders: HashMap<String, Configured>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Notifier")
            .field("channels", &self.senders.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Builds an SMTP transport from a channel's `smtp_url`.
pub fn smtp_transport(
    channel: &str,
    email: &EmailChannel,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, ChannelError> {
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(email.smtp_url.expose()).map_err(
        |error| ChannelError {
            channel: channel.to_owned(),
            // lettre's message for a bad URL does not repeat the URL.
            message: format!("smtp_url is not usable: {error}"),
        },
    )?;
    Ok(builder.timeout(Some(DELIVERY_TIMEOUT)).build())
}

impl Notifier {
    pub fn new(channels: &[Channel]) -> Result<Self, ChannelError> {
        let http = reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .user_agent(concat!("pswatch/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| ChannelError {
                channel: String::new(),
                message: format!("cannot build the HTTP client: {error}"),
            })?;
        let mut senders = HashMap::new();
        // Slack's one message a second applies per webhook URL, whichever channel uses it.
        let mut pacers: HashMap<String, Pacer> = HashMap::new();
        for channel in channels {
            let pace_key = match &channel.kind {
                ChannelKind::Slack { webhook_url } => format!("slack {}", webhook_url.expose()),
                _ => format!("channel {}", channel.name),
            };
            let pacer = Arc::clone(pacers.entry(pace_key).or_default());
            let sender = match &channel.kind {
                ChannelKind::Slack { webhook_url } => Sender::Slack {
                    webhook_url: webhook_url.clone(),
                },
                ChannelKind::Email(email) => Sender::Email {
                    transport: smtp_transport(&channel.name, email)?,
                    from: email.from.clone(),
                    to: email.to.clone(),
                },
                ChannelKind::Webhook { url, secret } => Sender::Webhook {
                    url: url.clone(),
                    secret: secret.clone(),
                },
                ChannelKind::Console => Sender::Console,
            };
            senders.insert(
                channel.name.clone(),
                Configured {
                    channel: channel.clone(),
                    sender,
                    pacer,
                },
            );
        }
        Ok(Self { http, senders })
    }

    /// The configured channel of that name.
    pub fn channel(&self, name: &str) -> Option<&Channel> {
        self.senders.get(name).map(|configured| &configured.channel)
    }

    /// The names of the configured channels.
    pub fn channel_names(&self) -> impl Iterator<Item = &str> {
        self.senders.keys().map(String::as_str)
    }

    /// Sends `events` through `channel` as one message (Slack, email, console) or one request
    /// each (webhook). `Ok` means the receiver accepted all of them. Waits first if the
    /// channel's `min_interval` has not passed since the last message to the same receiver.
    pub async fn deliver(&self, channel: &str, events: &[Event]) -> Result<(), DeliveryError> {
        let configured = self.senders.get(channel).ok_or_else(|| {
            DeliveryError::new(
                Verdict::Permanent,
                format!("channel {channel:?} is not configured (any more)"),
            )
        })?;
        if let Sender::Webhook { .. } = configured.sender {
            for event in events {
                self.paced(
                    configured,
                    channel,
                    Payload::Events(std::slice::from_ref(event)),
                )
                .await?;
            }
            return Ok(());
        }
        self.paced(configured, channel, Payload::Events(events))
            .await
    }

    /// Sends a clearly marked test message through `channel`, paced like any other.
    pub async fn deliver_test(&self, channel: &str) -> Result<(), DeliveryError> {
        let configured = self.senders.get(channel).ok_or_else(|| {
            DeliveryError::new(
                Verdict::Permanent,
                format!("channel {channel:?} is not configured"),
            )
        })?;
        self.paced(configured, channel, Payload::Test).await
    }

    async fn paced(
        &self,
        configured: &Configured,
        channel: &str,
        payload: Payload<'_>,
    ) -> Result<(), DeliveryError> {
        let mut last = configured.pacer.lock().await;
        if let Some(last) = *last {
            tokio::time::sleep_until(last + configured.channel.min_interval).await;
        }
        let result = self.send(&configured.sender, channel, payload).await;
        *last = Some(tokio::time::Instant::now());
        result
    }

    async fn send(
        &self,
        sender: &Sender,
        channel: &str,
        payload: Payload<'_>,
    ) -> Result<(), DeliveryError> {
        let now = time::OffsetDateTime::now_utc();
        match sender {
            Sender::Slack { webhook_url } => {
                let body = match payload {
                    Payload::Events(events) => render::slack_message(events),
                    Payload::Test => render::test_slack(channel, now),
                };
                let request = self.http.post(webhook_url.expose()).json(&body);
                self.send_http(channel, "Slack webhook", request).await
            }
            Sender::Webhook { url, secret } => {
                let (id, body) = match payload {
                    Payload::Events([event, ..]) => (event.id.clone(), render::webhook_body(event)),
                    Payload::Events([]) => return Ok(()),
                    Payload::Test => (
                        format!("test_{}", now.unix_timestamp_nanos()),
                        render::test_webhook_body(channel, now),
                    ),
                };
                let timestamp = now.unix_timestamp();
                let signature = sign(secret.key(), &id, timestamp, &body);
                let request = self
                    .http
                    .post(url.expose().clone())
                    .header(CONTENT_TYPE, "application/json")
                    .header("webhook-id", &id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", signature)
                    .body(body);
                self.send_http(channel, "webhook", request).await
            }
            Sender::Email {
                transport,
                from,
                to,
            } => {
                let (content, message_id) = match payload {
                    // Stable per event and channel, so a repeated delivery threads with the first.
                    Payload::Events(events @ [event, ..]) => (
                        render::email(events),
                        format!("<{}.{channel}@pswatch>", event.id),
                    ),
                    Payload::Events([]) => return Ok(()),
                    Payload::Test => (
                        render::test_email(channel, now),
                        format!("<test-{}.{channel}@pswatch>", now.unix_timestamp_nanos()),
                    ),
                };
                send_email(channel, transport, from, to, content, message_id).await
            }
            Sender::Console => {
                let lines: Vec<String> = match payload {
                    Payload::Events(events) => events.iter().map(render::console_line).collect(),
                    Payload::Test => vec![render::test_console(channel, now)],
                };
                let mut stdout = std::io::stdout().lock();
                lines
                    .iter()
                    .try_for_each(|line| writeln!(stdout, "{line}"))
                    .and_then(|()| stdout.flush())
                    .map_err(|error| {
                        DeliveryError::new(
                            Verdict::Transient,
                            format!("channel {channel:?}: cannot write to stdout: {error}"),
                        )
                    })
            }
        }
    }

    async fn send_http(
        &self,
        channel: &str,
        what: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<(), DeliveryError> {
        let response = request.send().await.map_err(|error| {
            // The URL can be the secret (Slack's is), so it never goes into the message.
            let error = error.without_url();
            let kind = if error.is_timeout() {
                "timed out"
            } else if error.is_connect() {
                "could not connect"
            } else {
                "failed"
            };
            DeliveryError::new(
                Verdict::Transient,
                format!(
                    "channel {channel:?}: {what} request {kind}: {}",
                    error_chain(&error)
                ),
            )
        })?;
        let status = response.status().as_u16();
        let Some(verdict) = classify_status(status) else {
            return Ok(());
        };
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value: &HeaderValue| value.to_str().ok())
            .and_then(parse_retry_after);
        let body = response.text().await.unwrap_or_default();
        let body = render::truncate(body.trim(), 200);
        Err(DeliveryError {
            verdict,
            message: format!("channel {channel:?}: {what} answered HTTP {status}: {body}"),
            retry_after,
        })
    }
}

async fn send_email(
    channel: &str,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    to: &[Mailbox],
    content: render::EmailContent,
    message_id: String,
) -> Result<(), DeliveryError> {
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(content.subject)
        .message_id(Some(message_id));
    for recipient in to {
        builder = builder.to(recipient.clone());
    }
    let message = builder
        .multipart(MultiPart::alternative_plain_html(
            content.text,
            content.html,
        ))
        .map_err(|error| {
            DeliveryError::new(
                Verdict::Permanent,
                format!("channel {channel:?}: cannot build the email: {error}"),
            )
        })?;
    transport.send(message).await.map(|_| ()).map_err(|error| {
        // SMTP 5xx is permanent; 4xx, timeouts and connection failures may pass.
        let verdict = if error.is_permanent() {
            Verdict::Permanent
        } else {
            Verdict::Transient
        };
        DeliveryError::new(
            verdict,
            format!(
                "channel {channel:?}: SMTP delivery failed: {}",
                error_chain(&error)
            ),
        )
    })
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        // Some errors already include their cause in their own message.
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Reads a `Retry-After` value: seconds, or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
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
