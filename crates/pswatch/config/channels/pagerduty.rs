//! `type = "pagerduty"`: a PagerDuty service's Events API v2 integration (`routing_key`, a
//! secret), maybe another `api_url`, whether warnings page (`page_on_warning`) and whether
//! deploys, cutovers and completions go to the service's timeline (`change_events`).

use notifier::{PagerDutyChannel, Secret};
use serde::Deserialize;

use super::super::{http_url, problem, Problem};
use super::CheckKind;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawPagerDuty {
    routing_key: String,
    api_url: Option<String>,
    page_on_warning: Option<bool>,
    change_events: Option<bool>,
}

impl CheckKind for RawPagerDuty {
    type Kind = PagerDutyChannel;

    fn check(
        &self,
        key: &str,
        _name: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<PagerDutyChannel> {
        let routing_key = self.routing_key.trim();
        let routing_key = if routing_key.is_empty() {
            problem(
                problems,
                format!("{key}.routing_key"),
                "is empty; give the integration key of the PagerDuty service's Events API v2 integration",
            );
            None
        } else if routing_key.chars().any(char::is_whitespace) {
            problem(
                problems,
                format!("{key}.routing_key"),
                "holds whitespace; a routing key is 32 letters and digits",
            );
            None
        } else {
            Some(Secret::new(routing_key))
        };
        let api_url = http_url(
            &format!("{key}.api_url"),
            self.api_url
                .as_deref()
                .unwrap_or(notifier::PAGERDUTY_API_URL),
            false,
            problems,
        );
        Some(PagerDutyChannel {
            routing_key: routing_key?,
            api_url: api_url?,
            page_on_warning: self.page_on_warning.unwrap_or(false),
            change_events: self.change_events.unwrap_or(false),
        })
    }
}
