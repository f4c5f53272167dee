//! Microsoft Teams through a Workflows webhook: one Adaptive Card a poll. Workflows answers
//! 202 when it took the message.

use super::render;
use crate::kinds::Deliver;
use crate::secret::SecretUrl;
use crate::send::{http, Payload};
use crate::verdict::DeliveryError;
use model::Memos;

/// A Teams Workflows webhook; its URL (which carries a signature) is the secret.
pub(crate) struct Teams {
    pub(crate) webhook_url: SecretUrl,
}

impl Deliver for Teams {
    async fn send(
        &self,
        client: &reqwest::Client,
        channel: &str,
        payload: Payload<'_>,
        _memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        let body = match payload {
            Payload::Events(events, words) => render::teams_message(events, words),
            Payload::Test { .. } => render::test_teams(channel, time::OffsetDateTime::now_utc()),
        };
        let request = client.post(self.webhook_url.expose().clone()).json(&body);
        let url = self.webhook_url.expose().as_str();
        let query = self.webhook_url.expose().query().unwrap_or_default();
        http::send(channel, "Teams webhook", request, &[url, query])
            .await
            .map(drop)
    }
}
