//! Email over SMTP: one multipart message for a poll's events, its `Message-ID` stable per event
//! and channel.

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};

use super::render;
use super::EmailChannel;
use crate::kinds::Deliver;
use crate::send::{Payload, DELIVERY_TIMEOUT};
use crate::verdict::{ChannelError, DeliveryError, Verdict};
use model::Memos;

/// An SMTP relay and the message's sender and recipients.
pub(crate) struct Email {
    pub(crate) transport: AsyncSmtpTransport<Tokio1Executor>,
    pub(crate) from: Mailbox,
    pub(crate) to: Vec<Mailbox>,
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

impl Deliver for Email {
    async fn send(
        &self,
        _http: &reqwest::Client,
        channel: &str,
        payload: Payload<'_>,
        _memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        let now = time::OffsetDateTime::now_utc();
        // The owners of the events' resources, when `[[people]]` gives their address, in copy.
        let mut owners: Vec<Mailbox> = Vec::new();
        if let Payload::Events(events, words) = &payload {
            for event in *events {
                let address = words
                    .owner(event)
                    .and_then(|owner| owner.person.email.as_ref());
                if let Some(mailbox) = address {
                    if !self.to.contains(mailbox) && !owners.contains(mailbox) {
                        owners.push(mailbox.clone());
                    }
                }
            }
        }
        let (content, message_id) = match payload {
            // Stable per event and channel, so a repeated delivery threads with the first.
            Payload::Events(events @ [event, ..], words) => (
                render::email(events, words),
                format!("<{}.{channel}@pswatch>", event.id),
            ),
            Payload::Events([], _) => return Ok(()),
            Payload::Test { .. } => (
                render::test_email(channel, now),
                format!("<test-{}.{channel}@pswatch>", now.unix_timestamp_nanos()),
            ),
        };
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(content.subject)
            .message_id(Some(message_id));
        for recipient in &self.to {
            builder = builder.to(recipient.clone());
        }
        for owner in owners {
            builder = builder.cc(owner);
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
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|error| {
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
                        http_util::error_chain(&error)
                    ),
                )
            })
    }
}
