//! GitHub's REST API: the head commit of the deploy request's git ref
//! (`GET /repos/{owner}/{repo}/commits/{ref}`), then its status
//! (`POST /repos/{owner}/{repo}/statuses/{sha}`). A ref that does not exist is noted once and
//! left alone (no pull request waits on it); 401 and 403 are permanent with GitHub's reason,
//! but a 403 or 429 of the rate limit waits for its reset.

use std::collections::HashSet;
use std::sync::Mutex;

use serde_json::{json, Value};

use super::{render, GitHubChannel};
use crate::kinds::Deliver;
use crate::send::http::{self, Answer};
use crate::send::Payload;
use crate::verdict::{classify_status, DeliveryError, Verdict};
use model::{Memos, ResourceKey};

/// The API version pswatch speaks.
const API_VERSION: &str = "2022-11-28";

/// A repository's commit statuses.
pub(crate) struct GitHub {
    channel: GitHubChannel,
    /// The refs found missing, each noted once.
    missing: Mutex<HashSet<String>>,
}

/// What GitHub's answer of `status` means, when it is not a success: a rate limit (403 or 429
/// with the limit spent) waits; other 401 and 403 are permanent.
pub(crate) fn github_verdict(answer: &Answer) -> Option<Verdict> {
    match answer.status {
        403 if answer.retry_after.is_some() => Some(Verdict::Transient),
        status => classify_status(status),
    }
}

impl GitHub {
    pub(crate) fn new(channel: GitHubChannel) -> Self {
        Self {
            channel,
            missing: Mutex::default(),
        }
    }

    /// `{api_url}/repos/{owner}/{repo}` followed by `segments`, each escaped as one segment;
    /// one that cannot be (empty, `.`, `..`) is a permanent failure naming it.
    fn url(&self, channel: &str, segments: &[&str]) -> Result<url::Url, DeliveryError> {
        let mut path = vec!["repos"];
        path.extend(self.channel.repository.split('/'));
        path.extend_from_slice(segments);
        http_util::with_segments(&self.channel.api_url, &path).map_err(|segment| {
            DeliveryError::new(
                Verdict::Permanent,
                format!("channel {channel:?}: {segment:?} cannot be a part of a GitHub path"),
            )
        })
    }

    /// Sends `request` with the token and GitHub's headers; the answer, whatever its status.
    async fn exchange(
        &self,
        channel: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, DeliveryError> {
        let request = request
            .bearer_auth(self.channel.token.expose())
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", API_VERSION);
        http::exchange(channel, "GitHub", request, &[self.channel.token.expose()]).await
    }

    fn refused(&self, channel: &str, answer: &Answer, verdict: Verdict) -> DeliveryError {
        answer.refused(channel, "GitHub", verdict, &[self.channel.token.expose()])
    }

    /// The head commit of `git_ref`; `None` when the repository has no such ref.
    async fn head_of(
        &self,
        client: &reqwest::Client,
        channel: &str,
        git_ref: &str,
    ) -> Result<Option<String>, DeliveryError> {
        let answer = self
            .exchange(
                channel,
                client.get(self.url(channel, &["commits", git_ref])?),
            )
            .await?;
        // GitHub answers 422 for a ref it cannot resolve; a 404 is the repository (missing, or
        // out of the token's reach), which is permanent.
        if answer.status == 422 {
            return Ok(None);
        }
        if let Some(verdict) = github_verdict(&answer) {
            return Err(self.refused(channel, &answer, verdict));
        }
        let sha = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|commit| commit["sha"].as_str().map(str::to_owned))
            .filter(|sha| !sha.is_empty() && sha.bytes().all(|byte| byte.is_ascii_hexdigit()));
        match sha {
            Some(sha) => Ok(Some(sha)),
            None => Err(DeliveryError::new(
                Verdict::Transient,
                format!("channel {channel:?}: GitHub answered the commit of {git_ref:?} without its sha"),
            )),
        }
    }

    /// Sets the status `body` on the head of `git_ref`; a ref that does not exist is noted once.
    /// Whether the ref exists.
    async fn set(
        &self,
        client: &reqwest::Client,
        channel: &str,
        git_ref: &str,
        body: &Value,
    ) -> Result<bool, DeliveryError> {
        let Some(sha) = self.head_of(client, channel, git_ref).await? else {
            let first = self
                .missing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(git_ref.to_owned());
            if first {
                tracing::warn!(channel, git_ref, repository = %self.channel.repository,
                    "no such git ref in the repository: no commit status is set for it (its deploy request's branch has no pull request here?)");
            }
            return Ok(false);
        };
        self.status_on(client, channel, &sha, body).await?;
        Ok(true)
    }

    /// Sets the status `body` on the commit `sha`.
    async fn status_on(
        &self,
        client: &reqwest::Client,
        channel: &str,
        sha: &str,
        body: &Value,
    ) -> Result<(), DeliveryError> {
        let request = client
            .post(self.url(channel, &["statuses", sha])?)
            .json(body);
        self.json(request, channel).await.map(drop)
    }

    /// Sends `request` and reads its JSON answer; a failure with its verdict otherwise.
    async fn json(
        &self,
        request: reqwest::RequestBuilder,
        channel: &str,
    ) -> Result<(u16, Value), DeliveryError> {
        let answer = self.exchange(channel, request).await?;
        if let Some(verdict) = github_verdict(&answer) {
            return Err(self.refused(channel, &answer, verdict));
        }
        Ok((
            answer.status,
            serde_json::from_str(&answer.body).unwrap_or(Value::Null),
        ))
    }

    /// The number of the open pull request whose head is `git_ref` in the repository.
    async fn pull_request(
        &self,
        client: &reqwest::Client,
        channel: &str,
        git_ref: &str,
    ) -> Result<Option<u64>, DeliveryError> {
        let owner = self
            .channel
            .repository
            .split('/')
            .next()
            .unwrap_or_default();
        let branch = git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref);
        let request = client.get(self.url(channel, &["pulls"])?).query(&[
            ("head", format!("{owner}:{branch}")),
            ("state", "open".to_owned()),
            ("per_page", "1".to_owned()),
        ]);
        let (_, pulls) = self.json(request, channel).await?;
        Ok(pulls
            .as_array()
            .and_then(|pulls| pulls.first())
            .and_then(|pull| pull["number"].as_u64()))
    }

    /// Shows `text` in the pull request comment of `key` on the open pull request of
    /// `git_ref`: the comment kept in its memo, edited; a new one (kept) when there is none or
    /// it was deleted. Nothing without an open pull request.
    async fn comment(
        &self,
        client: &reqwest::Client,
        channel: &str,
        git_ref: &str,
        key: &ResourceKey,
        text: &str,
        memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        let body = json!({ "body": text });
        if let Some(id) = memos.get(key).and_then(|memo| memo.github_comment) {
            let id = id.to_string();
            let request = client
                .patch(self.url(channel, &["issues", "comments", &id])?)
                .json(&body);
            let answer = self.exchange(channel, request).await?;
            match github_verdict(&answer) {
                None => return Ok(()),
                // Deleted: a new one.
                Some(_) if answer.status == 404 => {}
                Some(verdict) => return Err(self.refused(channel, &answer, verdict)),
            }
        }
        let Some(pull) = self.pull_request(client, channel, git_ref).await? else {
            return Ok(());
        };
        let pull = pull.to_string();
        let request = client
            .post(self.url(channel, &["issues", &pull, "comments"])?)
            .json(&body);
        let (_, created) = self.json(request, channel).await?;
        if let Some(id) = created["id"].as_u64() {
            memos.update(key, |memo| memo.github_comment = Some(id));
        }
        Ok(())
    }

    /// The repository's default branch, for `pswatch test-notify`.
    async fn default_branch(
        &self,
        client: &reqwest::Client,
        channel: &str,
    ) -> Result<String, DeliveryError> {
        let (_, repository) = self
            .json(client.get(self.url(channel, &[])?), channel)
            .await?;
        repository["default_branch"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| {
                DeliveryError::new(
                    Verdict::Permanent,
                    format!(
                        "channel {channel:?}: GitHub did not say the repository's default branch"
                    ),
                )
            })
    }
}

impl Deliver for GitHub {
    async fn send(
        &self,
        client: &reqwest::Client,
        channel: &str,
        payload: Payload<'_>,
        memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        match payload {
            Payload::Events(events, _) => {
                for event in events {
                    let Some(status) = render::status(&self.channel, event) else {
                        continue;
                    };
                    let exists = self
                        .set(client, channel, &status.git_ref, &status.body)
                        .await?;
                    let comment = render::comment(event, &status).zip(ResourceKey::of(event));
                    if let (true, true, Some((text, key))) =
                        (exists, self.channel.comments, comment)
                    {
                        self.comment(client, channel, &status.git_ref, &key, &text, memos)
                            .await?;
                    }
                }
                Ok(())
            }
            Payload::Test { git_ref } => {
                let branch = match git_ref {
                    Some(git_ref) => git_ref.to_owned(),
                    None => self.default_branch(client, channel).await?,
                };
                let body = json!({
                    "state": "success",
                    "description": "pswatch test-notify: this channel can set commit statuses",
                    "context": "pswatch/test",
                });
                let Some(sha) = self.head_of(client, channel, &branch).await? else {
                    return Err(DeliveryError::new(
                        Verdict::Permanent,
                        format!("channel {channel:?}: the repository has no ref {branch:?}"),
                    ));
                };
                self.status_on(client, channel, &sha, &body).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn answer(status: u16, retry_after: Option<Duration>) -> Answer {
        Answer {
            status,
            body: String::new(),
            retry_after,
        }
    }

    #[test]
    fn github_s_answers_have_verdicts() {
        assert_eq!(github_verdict(&answer(201, None)), None);
        assert_eq!(github_verdict(&answer(401, None)), Some(Verdict::Permanent));
        assert_eq!(github_verdict(&answer(403, None)), Some(Verdict::Permanent));
        let reset = Some(Duration::from_secs(30));
        assert_eq!(
            github_verdict(&answer(403, reset)),
            Some(Verdict::Transient)
        );
        assert_eq!(
            github_verdict(&answer(429, reset)),
            Some(Verdict::Transient)
        );
        assert_eq!(github_verdict(&answer(502, None)), Some(Verdict::Transient));
    }
}
