//! Webhooks: the body of a Standard Webhooks request.

use diff_engine::Event;
use serde_json::json;

use crate::text::{rfc3339, TEST_NOTE};
use crate::words::Words;

/// The webhook body: a [`WebhookPayload`](crate::payload::WebhookPayload),
/// `{"type", "timestamp", "data"}` with the event as data, and `title` and `text` when a
/// template of the channel wrote them.
pub fn webhook_body(event: &Event, words: &Words) -> Vec<u8> {
    // Plain structs of strings, numbers and options always serialize.
    serde_json::to_vec(&crate::payload::WebhookPayload::worded(event, words)).unwrap_or_default()
}

/// The webhook body of `pswatch test-notify`: type `pswatch.test`, never an event type, so a
/// receiver cannot mistake it for a transition.
pub fn test_webhook_body(channel: &str, now: time::OffsetDateTime) -> Vec<u8> {
    let body = json!({
        "type": "pswatch.test",
        "timestamp": rfc3339(now),
        "data": {"channel": channel, "message": TEST_NOTE},
    });
    serde_json::to_vec(&body).unwrap_or_default()
}
