//! Alertmanager's API v2: `POST {url}/api/v2/alerts` to each configured Alertmanager. Posting
//! an alert again is harmless (Alertmanager knows it by its labels), so a delivery that failed
//! at one of them is sent again to all. Which alerts fire is in the channel's [`Memos`].

use std::collections::BTreeMap;

use model::{FiringAlert, Memos};
use serde_json::Value;
use time::OffsetDateTime;

use super::render;
use super::{AlertmanagerAuth, AlertmanagerChannel};
use crate::kinds::Deliver;
use crate::send::{http, Payload};
use crate::verdict::DeliveryError;
use crate::words::Words;
use diff_engine::Event;

/// One or more Alertmanagers.
pub(crate) struct Alertmanager {
    pub(crate) channel: AlertmanagerChannel,
}

/// What a delivery does to the channel's alerts: by key, the alert that fires now, or the one
/// that was firing and ends.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    changes: BTreeMap<String, Change>,
}

#[derive(Debug)]
enum Change {
    Fire(FiringAlert),
    End(FiringAlert),
}

impl Plan {
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// What `events` do, in order, to the alerts `memos` hold as firing: each first ends what it
/// shows over, then fires its own (keeping the first start of one already firing).
pub(crate) fn plan(events: &[Event], words: &Words, memos: &Memos) -> Plan {
    let mut firing: BTreeMap<String, FiringAlert> = memos
        .alerts()
        .map(|alert| (alert.key(), alert.clone()))
        .collect();
    let mut plan = Plan::default();
    for event in events {
        let ended: Vec<String> = firing
            .iter()
            .filter(|(_, alert)| render::ends(event, alert))
            .map(|(key, _)| key.clone())
            .collect();
        for key in ended {
            if let Some(alert) = firing.remove(&key) {
                plan.changes.insert(key, Change::End(alert));
            }
        }
        if let Some(mut alert) = render::alert_of(event, words) {
            let key = alert.key();
            if let Some(Change::End(before)) = plan.changes.get(&key) {
                alert.starts_at = before.starts_at;
            }
            if let Some(before) = firing.get(&key) {
                alert.starts_at = before.starts_at;
            }
            firing.insert(key.clone(), alert.clone());
            plan.changes.insert(key, Change::Fire(alert));
        }
    }
    plan
}

/// The bodies of a plan's alerts at `now`: those firing valid for `valid_for`, those ending
/// with an `endsAt` of now.
pub(crate) fn bodies(plan: &Plan, now: OffsetDateTime, valid_for: time::Duration) -> Vec<Value> {
    plan.changes
        .values()
        .map(|change| match change {
            Change::Fire(alert) => render::body(alert, now + valid_for),
            Change::End(alert) => render::body(alert, now),
        })
        .collect()
}

impl Alertmanager {
    /// Posts `bodies` to every Alertmanager; the first that fails fails the whole (its answer
    /// named, never its credentials). 4xx but 429 is permanent; no answer, 429 and 5xx are
    /// transient.
    pub(crate) async fn post(
        &self,
        client: &reqwest::Client,
        channel: &str,
        bodies: &[Value],
    ) -> Result<(), DeliveryError> {
        let secrets = self.channel.secrets();
        let count = self.channel.urls.len();
        for (index, base) in self.channel.urls.iter().enumerate() {
            let url = format!("{}/api/v2/alerts", base.as_str().trim_end_matches('/'));
            let mut request = client.post(url).json(bodies);
            request = match &self.channel.auth {
                AlertmanagerAuth::None => request,
                AlertmanagerAuth::Bearer(token) => request.bearer_auth(token.expose()),
                AlertmanagerAuth::Basic { username, password } => {
                    request.basic_auth(username, Some(password.expose()))
                }
            };
            let what = format!(
                "Alertmanager {} of {count} ({})",
                index + 1,
                base.host_str().unwrap_or("?")
            );
            http::send(channel, &what, request, &secrets).await?;
        }
        Ok(())
    }

    /// Sends the alerts `alerts` again, valid for another four `resend`s, or, when `ending`,
    /// resolved (an end of now).
    pub(crate) async fn resend(
        &self,
        client: &reqwest::Client,
        channel: &str,
        alerts: &[FiringAlert],
        ending: bool,
    ) -> Result<(), DeliveryError> {
        if alerts.is_empty() {
            return Ok(());
        }
        let now = OffsetDateTime::now_utc();
        let ends_at = if ending {
            now
        } else {
            now + self.channel.valid_for()
        };
        let bodies: Vec<Value> = alerts
            .iter()
            .map(|alert| render::body(alert, ends_at))
            .collect();
        self.post(client, channel, &bodies).await
    }
}

impl Deliver for Alertmanager {
    async fn send(
        &self,
        client: &reqwest::Client,
        channel: &str,
        payload: Payload<'_>,
        memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        let now = OffsetDateTime::now_utc();
        let (events, words) = match payload {
            Payload::Events(events, words) => (events, words),
            Payload::Test { .. } => {
                // A test alert that Alertmanager resolves on its own a few minutes later.
                let alert = render::test_alert(channel, now);
                let body = render::body(&alert, now + time::Duration::minutes(5));
                return self.post(client, channel, &[body]).await;
            }
        };
        let plan = plan(events, words, memos);
        if plan.is_empty() {
            return Ok(());
        }
        self.post(
            client,
            channel,
            &bodies(&plan, now, self.channel.valid_for()),
        )
        .await?;
        for (key, change) in plan.changes {
            match change {
                Change::Fire(alert) => memos.fire(alert),
                Change::End(_) => memos.resolve(&key),
            }
        }
        Ok(())
    }
}
