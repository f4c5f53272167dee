//! `type = "google_chat"`: a Google Chat space's incoming webhook (`webhook_url`, a secret).

use notifier::{GoogleChatChannel, SecretUrl};
use serde::Deserialize;

use super::super::{http_url, problem, Problem};
use super::CheckKind;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawGoogleChat {
    webhook_url: String,
}

impl CheckKind for RawGoogleChat {
    type Kind = GoogleChatChannel;

    fn check(
        &self,
        key: &str,
        _name: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<GoogleChatChannel> {
        // The URL carries the webhook's key and token: never quoted.
        let key = format!("{key}.webhook_url");
        let url = http_url(&key, &self.webhook_url, true, problems)?;
        let has = |name: &str| {
            url.query_pairs()
                .any(|(key, value)| key == name && !value.is_empty())
        };
        if !url.path().ends_with("/messages") || !has("key") || !has("token") {
            problem(
                problems,
                key,
                "is not a Google Chat webhook URL (https://chat.googleapis.com/v1/spaces/SPACE/messages?key=…&token=…, from the space's Apps & integrations > Webhooks)",
            );
            return None;
        }
        Some(GoogleChatChannel {
            webhook_url: SecretUrl::new(url),
        })
    }
}
