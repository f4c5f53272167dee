//! GitHub: a deploy request's state as a commit status on the head of the git ref its
//! PlanetScale branch maps to, so that a pull request shows whether its schema is deployed.

pub mod render;
mod send;

use std::time::Duration;

use diff_engine::Event;
use model::Memos;

use super::{line, pretty, Kind};
use crate::secret::Secret;
use crate::verdict::ChannelError;
use crate::words::Words;

/// GitHub's REST API.
pub const GITHUB_API_URL: &str = "https://api.github.com";

/// A repository's commit statuses, set with a token.
#[derive(Debug, Clone)]
pub struct GitHubChannel {
    /// A fine-grained token with commit statuses write on the repository.
    pub token: Secret,
    /// `owner/name`.
    pub repository: String,
    /// The REST API's base address: `https://api.github.com`, or GitHub Enterprise Server's
    /// `https://HOST/api/v3`.
    pub api_url: url::Url,
    /// The git ref of a deploy request's PlanetScale branch: `{branch}` (the default) and
    /// `{organization}`, `{database}` are replaced.
    pub git_ref: String,
    /// The status's context: `planetscale/{database}` by default, with the same placeholders.
    pub context: String,
    /// Whether the open pull request of the ref also gets a comment that shows the deploy
    /// request, edited in place as it moves (its id kept in the resource's memo).
    pub comments: bool,
}

impl Kind for GitHubChannel {
    const TYPE: &'static str = "github";
    type Sender = send::GitHub;

    fn sender(&self, _channel: &str) -> Result<Self::Sender, ChannelError> {
        Ok(send::GitHub::new(self.clone()))
    }

    fn preview(&self, events: &[Event], _words: &Words, _memos: &Memos) -> String {
        let mut text = String::new();
        for event in events {
            match render::status(self, event) {
                Some(status) => line(
                    &mut text,
                    format_args!(
                        "POST /repos/{}/statuses/<head of {}> (token left out)\n{}",
                        self.repository,
                        status.git_ref,
                        pretty(&status.body)
                    ),
                ),
                None => line(
                    &mut text,
                    format_args!(
                        "nothing: {} sets no commit status",
                        crate::text::headline(event)
                    ),
                ),
            }
        }
        text
    }

    fn fingerprint(&self, part: &mut dyn FnMut(&[u8])) {
        part(self.api_url.as_str().as_bytes());
        part(self.repository.as_bytes());
        part(self.token.expose().as_bytes());
    }

    /// GitHub asks for a second between the writes of one token.
    fn min_interval(&self) -> Duration {
        Duration::from_secs(1)
    }

    /// Channels writing with the same token share its pace.
    fn pace_key(&self, channel: &str) -> String {
        format!("github {channel}")
    }

    /// Each event its own status.
    fn groups_events(&self) -> bool {
        false
    }

    /// The pull request comment of each deploy request, with comments on.
    fn remembers(&self) -> bool {
        self.comments
    }
}

#[cfg(test)]
mod tests {
    use diff_engine::testing::{deploy_request, deploy_request_state_changed};
    use diff_engine::DeployState;

    use super::*;

    #[test]
    fn a_dry_run_shows_the_status_and_never_the_token() {
        let channel = GitHubChannel {
            token: Secret::new("github_pat_s3cr3t"),
            repository: "acme/shop".into(),
            api_url: GITHUB_API_URL.parse().expect("url"),
            git_ref: "{branch}".into(),
            context: "planetscale/{database}".into(),
            comments: false,
        };
        let mut request = deploy_request(7).state(DeployState::Complete).build();
        request.branch = Some("add-index".into());
        let event = deploy_request_state_changed(None, request).build();
        let unbranched = deploy_request_state_changed(None, deploy_request(8).build()).build();
        let preview = channel.preview(&[event, unbranched], &Words::default(), &Memos::new());
        assert!(
            preview.contains("POST /repos/acme/shop/statuses/<head of add-index>"),
            "{preview}"
        );
        assert!(preview.contains("\"state\": \"success\""), "{preview}");
        assert!(preview.contains("sets no commit status"), "{preview}");
        assert!(!preview.contains("s3cr3t"), "{preview}");
    }
}
