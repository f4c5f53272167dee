//! One HTTP request to a receiver, and what its answer means.

use crate::text::truncate;
use crate::verdict::{classify_status, DeliveryError, Verdict};

/// The most of an answer's body read: enough for any JSON answer a receiver sends.
const MAX_ANSWER: usize = 64 * 1024;

/// What a receiver answered: its status, the start of its body and its `Retry-After`.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) retry_after: Option<std::time::Duration>,
}

impl Answer {
    /// The failure this answer is, with `verdict`: its status, the start of its body (the
    /// channel's secrets cut out of it) and its `Retry-After`, never the URL.
    pub(crate) fn refused(
        &self,
        channel: &str,
        what: &str,
        verdict: Verdict,
        redact: &[&str],
    ) -> DeliveryError {
        let body = redacted(self.body.trim(), redact);
        let body = truncate(&body, 200);
        DeliveryError {
            verdict,
            message: format!(
                "channel {channel:?}: {what} answered HTTP {}: {body}",
                self.status
            ),
            retry_after: self.retry_after,
        }
    }
}

/// Sends `request` for `channel` and reads the answer, whatever its status; `what` names the
/// receiver in messages ("Slack webhook"). Only a request that got no answer is an error
/// (transient), and its message never holds the URL; each of `redact` (the channel's secrets)
/// is cut out of it.
pub(crate) async fn exchange(
    channel: &str,
    what: &str,
    request: reqwest::RequestBuilder,
    redact: &[&str],
) -> Result<Answer, DeliveryError> {
    let mut response = request.send().await.map_err(|error| {
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
                redacted(&http_util::error_chain(&error), redact)
            ),
        )
    })?;
    let status = response.status().as_u16();
    let retry_after = http_util::retry_after(response.headers())
        .or_else(|| rate_limit_reset(response.headers(), time::OffsetDateTime::now_utc()));
    let mut body = Vec::new();
    while body.len() < MAX_ANSWER {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            // A body that breaks off is as much as the receiver said.
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(MAX_ANSWER);
    Ok(Answer {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
        retry_after,
    })
}

/// When a spent rate limit resets, from now: `x-ratelimit-remaining: 0` with
/// `x-ratelimit-reset` in seconds since the epoch (GitHub's), at most
/// [`http_util::MAX_RETRY_AFTER`]; `None` while the limit is not spent.
pub(crate) fn rate_limit_reset(
    headers: &reqwest::header::HeaderMap,
    now: time::OffsetDateTime,
) -> Option<std::time::Duration> {
    let text = |name: &str| headers.get(name)?.to_str().ok().map(str::trim);
    if text("x-ratelimit-remaining")? != "0" {
        return None;
    }
    let reset: i64 = text("x-ratelimit-reset")?.parse().ok()?;
    let wait = reset.checked_sub(now.unix_timestamp())?.max(1);
    Some(std::time::Duration::from_secs(u64::try_from(wait).ok()?).min(http_util::MAX_RETRY_AFTER))
}

/// Sends `request` for `channel`; `what` names the receiver in messages ("Slack webhook"). A
/// 2xx is success and gives the start of the answer's body; anything else is a
/// [`DeliveryError`] with its verdict, the receiver's `Retry-After` and the start of its
/// answer, never the URL. Each of `redact` (the channel's secrets) is cut out of whatever the
/// receiver answered, in case it echoes one.
pub(crate) async fn send(
    channel: &str,
    what: &str,
    request: reqwest::RequestBuilder,
    redact: &[&str],
) -> Result<String, DeliveryError> {
    let answer = exchange(channel, what, request, redact).await?;
    match classify_status(answer.status) {
        None => Ok(answer.body),
        Some(verdict) => Err(answer.refused(channel, what, verdict, redact)),
    }
}

/// `text` with every non-empty one of `secrets` replaced by `<redacted>`.
pub(crate) fn redacted(text: &str, secrets: &[&str]) -> String {
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        text = text.replace(secret, "<redacted>");
    }
    text
}
