//! Standard Webhooks: one signed POST an event, its id the `webhook-id`.

use reqwest::header::CONTENT_TYPE;

use super::render;
use crate::kinds::Deliver;
use crate::secret::{SecretUrl, WebhookSecret};
use crate::send::{http, Payload};
use crate::sign::sign;
use crate::verdict::DeliveryError;
use model::Memos;

/// A Standard Webhooks receiver.
pub(crate) struct Webhook {
    pub(crate) url: SecretUrl,
    pub(crate) secret: WebhookSecret,
}

impl Deliver for Webhook {
    /// Sends the first event of `payload` (the notifier gives a webhook one at a time).
    async fn send(
        &self,
        client: &reqwest::Client,
        channel: &str,
        payload: Payload<'_>,
        _memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        let now = time::OffsetDateTime::now_utc();
        let (id, body) = match payload {
            Payload::Events([event, ..], words) => {
                (event.id.clone(), render::webhook_body(event, words))
            }
            Payload::Events([], _) => return Ok(()),
            Payload::Test { .. } => (
                format!("test_{}", now.unix_timestamp_nanos()),
                render::test_webhook_body(channel, now),
            ),
        };
        let timestamp = now.unix_timestamp();
        let signature = sign(self.secret.key(), &id, timestamp, &body);
        let request = client
            .post(self.url.expose().clone())
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body);
        http::send(channel, "webhook", request, &[self.url.expose().as_str()])
            .await
            .map(drop)
    }
}
