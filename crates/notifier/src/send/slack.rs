//! Slack incoming webhooks: Block Kit with a text fallback, one message for a poll's events.

use super::{http, Payload};
use crate::render;
use crate::secret::Secret;
use crate::verdict::DeliveryError;

/// A Slack incoming webhook; its URL is the secret.
pub(crate) struct Slack {
    pub(crate) webhook_url: Secret,
}

impl Slack {
    pub(crate) async fn send(
        &self,
        client: &reqwest::Client,
        channel: &str,
        payload: Payload<'_>,
    ) -> Result<(), DeliveryError> {
        let body = match payload {
            Payload::Events(events) => render::slack_message(events),
            Payload::Test => render::test_slack(channel, time::OffsetDateTime::now_utc()),
        };
        let request = client.post(self.webhook_url.expose()).json(&body);
        http::send(channel, "Slack webhook", request).await
    }
}
