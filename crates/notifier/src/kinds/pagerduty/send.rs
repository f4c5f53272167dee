//! PagerDuty's Events API v2: `POST {api_url}/v2/enqueue`. A resource's errors trigger one
//! incident (its `dedup_key` stable per resource); its recovery resolves it. Which incidents are
//! open is in the resource's [`Memo`](crate::Memo).

use serde_json::{json, Value};
use time::OffsetDateTime;

use super::render::{self as pagerduty, Page};
use super::PagerDutyChannel;
use crate::kinds::Deliver;
use crate::send::{http, Payload};
use crate::verdict::DeliveryError;
use model::{Incident, Memos, ResourceKey};

/// A PagerDuty service's integration.
pub(crate) struct PagerDuty {
    pub(crate) channel: PagerDutyChannel,
}

impl PagerDuty {
    /// Sends one event to the Events API. 202 is success; 400 (PagerDuty names the bad field)
    /// is permanent; 429 and 5xx are transient.
    async fn enqueue(
        &self,
        client: &reqwest::Client,
        channel: &str,
        body: Value,
    ) -> Result<(), DeliveryError> {
        self.post(client, channel, "v2/enqueue", body).await
    }

    /// Sends one body to `path` of the Events API, with the routing key.
    async fn post(
        &self,
        client: &reqwest::Client,
        channel: &str,
        path: &str,
        mut body: Value,
    ) -> Result<(), DeliveryError> {
        body["routing_key"] = json!(self.channel.routing_key.expose());
        let url = format!(
            "{}/{path}",
            self.channel.api_url.as_str().trim_end_matches('/')
        );
        let request = client.post(url).json(&body);
        http::send(
            channel,
            "PagerDuty",
            request,
            &[self.channel.routing_key.expose()],
        )
        .await
        .map(drop)
    }
}

/// The events after `sent` (the last one a delivery sent, when it is among them): those a
/// retry after a partial success still owes; all of them without it.
fn unsent<'a>(events: &'a [diff_engine::Event], sent: Option<&str>) -> &'a [diff_engine::Event] {
    let start = sent
        .and_then(|sent| events.iter().position(|event| event.id == sent))
        .map_or(0, |position| position + 1);
    &events[start..]
}

impl PagerDuty {
    /// Puts the deploys, cutovers and completions among a resource's `events` on the
    /// service's timeline, as change events, but those a delivery retried after a partial
    /// success already sent.
    async fn send_changes(
        &self,
        client: &reqwest::Client,
        channel: &str,
        key: Option<&ResourceKey>,
        events: &[diff_engine::Event],
        words: &crate::words::Words,
        memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        // Change events are of workflows and deploy requests, which have a key.
        let Some(key) = key else {
            return Ok(());
        };
        let sent = memos
            .get(key)
            .and_then(|memo| memo.last_change_event.clone());
        for event in unsent(events, sent.as_deref()) {
            let Some(body) = pagerduty::change_event(event, words) else {
                continue;
            };
            self.post(client, channel, "v2/change/enqueue", body)
                .await?;
            memos.update(key, |memo| memo.last_change_event = Some(event.id.clone()));
        }
        Ok(())
    }
}

impl Deliver for PagerDuty {
    async fn send(
        &self,
        client: &reqwest::Client,
        channel: &str,
        payload: Payload<'_>,
        memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        let (events, words) = match payload {
            Payload::Events(events, words) => (events, words),
            Payload::Test { .. } => {
                // A test opens an informational incident and closes it at once.
                let now = OffsetDateTime::now_utc();
                self.enqueue(client, channel, pagerduty::test_trigger(channel, now))
                    .await?;
                let resolve = json!({
                    "event_action": "resolve",
                    "dedup_key": pagerduty::test_dedup_key(channel),
                });
                return self.enqueue(client, channel, resolve).await;
            }
        };
        for (key, mine) in ResourceKey::group(events) {
            // PlanetScale's own events (no workflow or deploy request) page with a key of their
            // own and are never resolved; a repeated trigger adds to the same incident.
            let memo = key
                .as_ref()
                .and_then(|key| memos.get(key))
                .cloned()
                .unwrap_or_default();
            // What a retry after a partial success already sent is not sent again.
            let unsent = unsent(&mine, memo.last_event.as_deref());
            let open = memo.incident.is_some() || pagerduty::backup_recovers(&mine);
            for page in pagerduty::plan(unsent, open, self.channel.page_on_warning) {
                match page {
                    Page::Trigger(event) => {
                        self.enqueue(client, channel, pagerduty::trigger(event, words))
                            .await?;
                        if let Some(key) = &key {
                            memos.update(key, |memo| {
                                memo.incident.get_or_insert_with(|| Incident {
                                    dedup_key: pagerduty::dedup_key(key),
                                    triggered_at: event.observed_at,
                                });
                                memo.last_event = Some(event.id.clone());
                            });
                        }
                    }
                    Page::Resolve(event) => {
                        self.enqueue(client, channel, pagerduty::resolve(event))
                            .await?;
                        if let Some(key) = &key {
                            memos.update(key, |memo| {
                                memo.incident = None;
                                memo.last_event = Some(event.id.clone());
                            });
                        }
                    }
                }
            }
            if self.channel.change_events {
                self.send_changes(client, channel, key.as_ref(), &mine, words, memos)
                    .await?;
            }
        }
        Ok(())
    }
}
