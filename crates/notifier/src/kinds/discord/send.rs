//! Discord: one POST a poll to the webhook, `?wait=true` so that Discord says whether it
//! posted the message. A 429 is retried after Discord's `retry_after`; a webhook that was
//! deleted (404, "Unknown Webhook") disables the channel until its configuration changes.

use std::time::Duration;

use super::render;
use crate::kinds::Deliver;
use crate::secret::SecretUrl;
use crate::send::{http, Payload};
use crate::verdict::{classify_status, DeliveryError, Verdict};
use model::Memos;

/// Discord's code for a webhook that does not exist (any more).
const UNKNOWN_WEBHOOK: u64 = 10015;

/// A Discord webhook; its URL (which carries its token) is the secret.
pub(crate) struct Discord {
    pub(crate) webhook_url: SecretUrl,
}

/// What Discord's answer of `status` with `body` means, when it is not a success.
pub(crate) fn discord_verdict(status: u16, body: &str) -> Option<Verdict> {
    let code = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|body| body["code"].as_u64());
    match (status, code) {
        (404, Some(UNKNOWN_WEBHOOK)) => Some(Verdict::Gone),
        _ => classify_status(status),
    }
}

/// Discord's `retry_after` (seconds, with a fraction) in a 429's body, at most an hour.
pub(crate) fn retry_after_in_body(body: &str) -> Option<Duration> {
    let seconds = serde_json::from_str::<serde_json::Value>(body)
        .ok()?
        .get("retry_after")?
        .as_f64()?;
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Some(
        Duration::try_from_secs_f64(seconds)
            .unwrap_or(http_util::MAX_RETRY_AFTER)
            .min(http_util::MAX_RETRY_AFTER),
    )
}

impl Deliver for Discord {
    async fn send(
        &self,
        client: &reqwest::Client,
        channel: &str,
        payload: Payload<'_>,
        _memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        let body = match payload {
            Payload::Events(events, words) => render::discord_message(events, words),
            Payload::Test { .. } => render::test_discord(channel, time::OffsetDateTime::now_utc()),
        };
        let mut url = self.webhook_url.expose().clone();
        url.query_pairs_mut().append_pair("wait", "true");
        let secret = self.webhook_url.expose().path();
        let request = client.post(url).json(&body);
        let what = "Discord webhook";
        let mut answer = http::exchange(channel, what, request, &[secret]).await?;
        let Some(verdict) = discord_verdict(answer.status, &answer.body) else {
            return Ok(());
        };
        if answer.retry_after.is_none() {
            answer.retry_after = retry_after_in_body(&answer.body);
        }
        Err(answer.refused(channel, what, verdict, &[secret]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discord_s_answers_have_verdicts() {
        assert_eq!(
            discord_verdict(404, r#"{"message": "Unknown Webhook", "code": 10015}"#),
            Some(Verdict::Gone)
        );
        assert_eq!(discord_verdict(404, "not json"), Some(Verdict::Permanent));
        assert_eq!(discord_verdict(429, "{}"), Some(Verdict::Transient));
        assert_eq!(discord_verdict(401, "{}"), Some(Verdict::Permanent));
        assert_eq!(discord_verdict(204, ""), None);
        assert_eq!(
            retry_after_in_body(
                r#"{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}"#
            ),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after_in_body(r#"{"retry_after": 1e12}"#),
            Some(http_util::MAX_RETRY_AFTER)
        );
        assert_eq!(retry_after_in_body(r#"{"retry_after": -1}"#), None);
        assert_eq!(retry_after_in_body("<html>"), None);
    }
}
