//! One HTTP request to a receiver, and what its answer means.

use crate::render;
use crate::verdict::{classify_status, DeliveryError, Verdict};

/// Sends `request` for `channel`; `what` names the receiver in messages ("Slack webhook"). A
/// 2xx is success; anything else is a [`DeliveryError`] with its verdict, the receiver's
/// `Retry-After` and the start of its answer, never the URL.
pub(crate) async fn send(
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
                http_util::error_chain(&error)
            ),
        )
    })?;
    let status = response.status().as_u16();
    let Some(verdict) = classify_status(status) else {
        return Ok(());
    };
    let retry_after = http_util::retry_after(response.headers());
    let body = response.text().await.unwrap_or_default();
    let body = render::truncate(body.trim(), 200);
    Err(DeliveryError {
        verdict,
        message: format!("channel {channel:?}: {what} answered HTTP {status}: {body}"),
        retry_after,
    })
}
