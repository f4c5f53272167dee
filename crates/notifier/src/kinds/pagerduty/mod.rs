//! PagerDuty's Events API v2: a resource's errors trigger one incident, its recovery resolves
//! it.

pub mod render;
mod send;

use std::time::Duration;

use diff_engine::Event;
use model::{Memos, ResourceKey};

use super::{line, pretty, Kind};
use crate::secret::Secret;
use crate::verdict::ChannelError;
use crate::words::Words;

/// PagerDuty's Events API.
pub const PAGERDUTY_API_URL: &str = "https://events.pagerduty.com";

/// A PagerDuty service's Events API v2 integration.
#[derive(Debug, Clone)]
pub struct PagerDutyChannel {
    /// The integration's routing key.
    pub routing_key: Secret,
    /// The Events API's base address, `https://events.pagerduty.com` unless set.
    pub api_url: url::Url,
    /// Whether warnings (a cancelled or reverted change) page too, not only errors.
    pub page_on_warning: bool,
    /// Whether deploys, cutovers and completions go to the service's timeline as change
    /// events (`POST /v2/change/enqueue`).
    pub change_events: bool,
}

impl Kind for PagerDutyChannel {
    const TYPE: &'static str = "pagerduty";
    type Sender = send::PagerDuty;

    fn sender(&self, _channel: &str) -> Result<Self::Sender, ChannelError> {
        Ok(send::PagerDuty {
            channel: self.clone(),
        })
    }

    fn preview(&self, events: &[Event], words: &Words, memos: &Memos) -> String {
        let mut text = String::new();
        for (key, mine) in ResourceKey::group(events) {
            let open = key
                .as_ref()
                .and_then(|key| memos.get(key))
                .is_some_and(|memo| memo.incident.is_some())
                || render::backup_recovers(&mine);
            let pages = render::plan(&mine, open, self.page_on_warning);
            if pages.is_empty() {
                line(
                    &mut text,
                    format_args!("nothing: {} pages nobody", crate::text::headline(&mine[0])),
                );
            }
            for page in pages {
                let body = match page {
                    render::Page::Trigger(event) => render::trigger(event, words),
                    render::Page::Resolve(event) => render::resolve(event),
                };
                line(
                    &mut text,
                    format_args!("POST /v2/enqueue (routing key left out)\n{}", pretty(&body)),
                );
            }
            if self.change_events {
                for body in mine
                    .iter()
                    .filter_map(|event| render::change_event(event, words))
                {
                    line(
                        &mut text,
                        format_args!(
                            "POST /v2/change/enqueue (routing key left out)\n{}",
                            pretty(&body)
                        ),
                    );
                }
            }
        }
        text
    }

    fn fingerprint(&self, part: &mut dyn FnMut(&[u8])) {
        part(self.api_url.as_str().as_bytes());
        part(self.routing_key.expose().as_bytes());
    }

    /// PagerDuty takes about 120 events a minute per routing key.
    fn min_interval(&self) -> Duration {
        Duration::from_millis(500)
    }

    fn pace_key(&self, _channel: &str) -> String {
        format!("pagerduty {}", self.routing_key.expose())
    }

    fn remembers(&self) -> bool {
        true
    }
}
