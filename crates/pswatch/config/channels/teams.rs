//! `type = "teams"`: a Microsoft Teams Workflows webhook (`webhook_url`, a secret).

use notifier::{SecretUrl, TeamsChannel};
use serde::Deserialize;

use super::super::{http_url, Problem};
use super::CheckKind;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawTeams {
    webhook_url: String,
}

impl CheckKind for RawTeams {
    type Kind = TeamsChannel;

    fn check(&self, key: &str, _name: &str, problems: &mut Vec<Problem>) -> Option<TeamsChannel> {
        // The URL carries the Workflow's signature: never quoted.
        http_url(
            &format!("{key}.webhook_url"),
            &self.webhook_url,
            true,
            problems,
        )
        .map(|url| TeamsChannel {
            webhook_url: SecretUrl::new(url),
        })
    }
}
