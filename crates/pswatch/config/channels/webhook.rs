//! `type = "webhook"`: a Standard Webhooks receiver (`url`, which may carry a token) and the
//! `secret` that signs each body.

use notifier::{SecretUrl, WebhookChannel, WebhookSecret};
use serde::Deserialize;

use super::super::{http_url, problem, Problem};
use super::CheckKind;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawWebhook {
    url: String,
    secret: String,
}

impl CheckKind for RawWebhook {
    type Kind = WebhookChannel;

    fn check(&self, key: &str, _name: &str, problems: &mut Vec<Problem>) -> Option<WebhookChannel> {
        // A webhook URL may carry a token (in its query, say): never quoted either.
        let url = http_url(&format!("{key}.url"), &self.url, true, problems);
        let secret = WebhookSecret::parse(&self.secret)
            .map_err(|error| problem(problems, format!("{key}.secret"), error.to_string()))
            .ok();
        Some(WebhookChannel {
            url: SecretUrl::new(url?),
            secret: secret?,
        })
    }
}
