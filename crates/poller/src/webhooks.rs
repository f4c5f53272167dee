//! A database's PlanetScale webhooks: listed (their secrets sign deliveries to pswatch's
//! receiver; their state says whether push is healthy) and created.

use diff_engine::Target;
use serde_json::json;

use crate::api::{self, Webhook};
use crate::{Client, PollError};

/// The events a webhook to pswatch subscribes to: every deploy request event.
pub const DEPLOY_REQUEST_EVENTS: &[&str] = &[
    "deploy_request.opened",
    "deploy_request.queued",
    "deploy_request.in_progress",
    "deploy_request.pending_cutover",
    "deploy_request.schema_applied",
    "deploy_request.errored",
    "deploy_request.reverted",
    "deploy_request.closed",
];

impl Client {
    /// The webhooks of `target` (`GET …/databases/{db}/webhooks`; service token access
    /// `read_database`). One that cannot be read is left out, with a warning.
    pub async fn list_webhooks(&self, target: &Target) -> Result<Vec<Webhook>, PollError> {
        self.database_list(target, &["webhooks"], "webhook", api::webhook)
            .await
            .map(|read| read.items)
    }

    /// Creates an enabled webhook of `target` posting `events` to `url` (`POST
    /// …/databases/{db}/webhooks`); PlanetScale answers with it, its secret included.
    pub async fn create_webhook(
        &self,
        target: &Target,
        url: &str,
        events: &[&str],
    ) -> Result<Webhook, PollError> {
        let endpoint = self.url(&[
            "organizations",
            &target.organization,
            "databases",
            &target.database,
            "webhooks",
        ])?;
        let body = json!({"url": url, "enabled": true, "events": events});
        self.post_one(endpoint, &body, api::webhook).await
    }
}

/// Whether `webhook` gives pswatch push for deploy requests: enabled, posting to `public_url`,
/// subscribed to every deploy request event, and its last delivery (if any) succeeded.
pub fn gives_push(webhook: &Webhook, public_url: &str) -> bool {
    webhook.enabled
        && same_url(&webhook.url, public_url)
        && DEPLOY_REQUEST_EVENTS
            .iter()
            .all(|event| webhook.events.iter().any(|subscribed| subscribed == event))
        && !last_delivery_failed(webhook)
}

/// Whether the webhook's last delivery failed. One that never sent (`last_sent_at` null; the
/// API then says `last_sent_success: false`) has not failed.
pub fn last_delivery_failed(webhook: &Webhook) -> bool {
    webhook.last_sent_success == Some(false) && webhook.last_sent_at.is_some()
}

/// Two URLs alike but for a trailing slash.
pub fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}
