//! What a deploy request's event makes of a commit status: its git ref, and the body of
//! `POST /repos/{owner}/{repo}/statuses/{sha}` (`state`, `target_url`, `description` of at
//! most 140 characters, `context`).

use diff_engine::{DeployRequest, Event};
use serde_json::{json, Value};

use super::GitHubChannel;

/// GitHub's longest status description.
pub const MAX_DESCRIPTION: usize = 140;

/// A commit status to set.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// The git ref whose head commit gets it.
    pub git_ref: String,
    /// The body of the request.
    pub body: Value,
}

/// `text`, cut to at most `limit` characters (the last one an ellipsis when cut).
fn at_most(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(limit.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `template` with `{branch}`, `{organization}` and `{database}` replaced.
pub fn fill(template: &str, branch: &str, organization: &str, database: &str) -> String {
    template
        .replace("{branch}", branch)
        .replace("{organization}", organization)
        .replace("{database}", database)
}

/// GitHub's state for a deploy request: `pending` while it is open, queued or deploying (or
/// reverting), `success` once its schema is deployed (`complete`, or `complete_pending_revert`
/// while it may still be reverted), `failure` when it failed, was cancelled or reverted, or
/// was closed without deploying.
pub fn state(request: &DeployRequest) -> &'static str {
    match request.deployment_state.as_str() {
        "complete" | "complete_pending_revert" => "success",
        "complete_error"
        | "complete_revert_error"
        | "error"
        | "cancelled"
        | "complete_cancel"
        | "complete_revert" => "failure",
        _ if request.state == "closed" => "failure",
        _ => "pending",
    }
}

/// The status `event` sets: a deploy request's event whose request has a branch; `None` for
/// any other (operation events carry no branch, and a workflow or a backup has no pull
/// request).
pub fn status(channel: &GitHubChannel, event: &Event) -> Option<Status> {
    let request = event.kind.deploy_request()?;
    let branch = request
        .branch
        .as_deref()
        .filter(|branch| !branch.is_empty())?;
    let git_ref = fill(
        &channel.git_ref,
        branch,
        &event.organization,
        &event.database,
    );
    let context = fill(
        &channel.context,
        branch,
        &event.organization,
        &event.database,
    );
    let state = state(request);
    let description = format!(
        "Deploy request #{} into {}: {}",
        request.number,
        request.into_branch.as_deref().unwrap_or("?"),
        request.deployment_state.as_str().replace('_', " "),
    );
    let mut body = json!({
        "state": state,
        "description": at_most(&description, MAX_DESCRIPTION),
        "context": at_most(&context, 255),
    });
    if let Some(url) = request
        .html_url
        .as_deref()
        .filter(|url| url.starts_with("https://"))
    {
        body["target_url"] = json!(url);
    }
    Some(Status { git_ref, body })
}

/// `text` as a Markdown code span: it can then mention nobody, link nowhere and format
/// nothing, whatever PlanetScale's API gave.
fn code(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|character| match character {
            '`' => '\'',
            character if character.is_control() => ' ',
            character => character,
        })
        .collect();
    format!("`{}`", at_most(text.trim(), 200))
}

/// The pull request comment that shows the deploy request of `event` now: its number and page,
/// its database, its deployment state and its branches.
pub fn comment(event: &Event, status: &Status) -> Option<String> {
    let request = event.kind.deploy_request()?;
    let mark = match status.body["state"].as_str() {
        Some("success") => "✅",
        Some("failure") => "❌",
        _ => "⏳",
    };
    let title = match request
        .html_url
        .as_deref()
        .filter(|url| url.starts_with("https://"))
    {
        Some(url) => format!("[deploy request #{}]({url})", request.number),
        None => format!("deploy request #{}", request.number),
    };
    Some(format!(
        "{mark} **PlanetScale {title}** of {}: {}\n\n{} into {}\n\n<sub>Kept up to date by pswatch; last changed {}.</sub>",
        code(&format!("{}/{}", event.organization, event.database)),
        code(request.deployment_state.as_str()),
        code(request.branch.as_deref().unwrap_or("?")),
        code(request.into_branch.as_deref().unwrap_or("?")),
        model::rfc3339(event.observed_at),
    ))
}

#[cfg(test)]
mod tests {
    use diff_engine::testing::{
        deploy_request, deploy_request_state_changed, workflow, workflow_state_changed,
    };
    use diff_engine::{DeployState, WorkflowState};

    use super::*;
    use crate::secret::Secret;

    fn channel() -> GitHubChannel {
        GitHubChannel {
            token: Secret::new("github_pat_0123456789"),
            repository: "acme/shop".into(),
            api_url: "https://api.github.com".parse().expect("url"),
            git_ref: "{branch}".into(),
            context: "planetscale/{database}".into(),
            comments: true,
        }
    }

    #[test]
    fn a_comment_mentions_nobody_whatever_the_api_said() {
        let mut request = deploy_request(7).state(DeployState::Complete).build();
        request.branch = Some("@acme/admins `x` <!here>".into());
        request.into_branch = Some("main".into());
        let event = deploy_request_state_changed(None, request).build();
        let status = status(&channel(), &event).expect("a status");
        let text = comment(&event, &status).expect("a comment");
        assert!(
            text.starts_with("✅ **PlanetScale deploy request #7** of `acme/commerce`: `complete`"),
            "{text}"
        );
        // The branch stays inside one code span: no mention, no second span.
        assert!(
            text.contains("`@acme/admins 'x' <!here>` into `main`"),
            "{text}"
        );
    }

    #[test]
    fn a_deploy_request_s_state_is_a_commit_status() {
        let status_of = |state: DeployState| {
            let mut request = deploy_request(7).state(state).build();
            request.branch = Some("add-index".into());
            request.into_branch = Some("main".into());
            request.html_url =
                Some("https://app.planetscale.com/acme/commerce/deploy-requests/7".into());
            let event = deploy_request_state_changed(None, request).build();
            status(&channel(), &event).expect("a status")
        };
        let pending = status_of(DeployState::InProgress);
        assert_eq!(pending.git_ref, "add-index");
        assert_eq!(pending.body["state"], "pending");
        assert_eq!(pending.body["context"], "planetscale/commerce");
        assert_eq!(
            pending.body["description"],
            "Deploy request #7 into main: in progress"
        );
        assert_eq!(
            pending.body["target_url"],
            "https://app.planetscale.com/acme/commerce/deploy-requests/7"
        );
        for (state, expected) in [
            (DeployState::Queued, "pending"),
            (DeployState::PendingCutover, "pending"),
            (DeployState::Complete, "success"),
            (DeployState::CompletePendingRevert, "success"),
            (DeployState::CompleteError, "failure"),
            (DeployState::CompleteRevert, "failure"),
            (DeployState::Cancelled, "failure"),
            (DeployState::Error, "failure"),
        ] {
            assert_eq!(status_of(state.clone()).body["state"], expected, "{state}");
        }
        // Closed without deploying.
        let mut closed = deploy_request(8).state(DeployState::Ready).build();
        closed.state = "closed".into();
        closed.branch = Some("drop-index".into());
        let event = deploy_request_state_changed(None, closed).build();
        assert_eq!(
            status(&channel(), &event).expect("a status").body["state"],
            "failure"
        );
        // Nothing for a workflow, or a deploy request without a branch.
        let event =
            workflow_state_changed(None, workflow(3).state(WorkflowState::Running).build()).build();
        assert_eq!(status(&channel(), &event), None);
        let event = deploy_request_state_changed(None, deploy_request(9).build()).build();
        assert_eq!(status(&channel(), &event), None);
    }

    #[test]
    fn descriptions_fit_github_s_limit_and_templates_fill() {
        let mut request = deploy_request(7).state(DeployState::InProgress).build();
        request.branch = Some("feature/x".into());
        request.into_branch = Some("m".repeat(300));
        let event = deploy_request_state_changed(None, request).build();
        let channel = GitHubChannel {
            git_ref: "refs/heads/{branch}".into(),
            context: "{organization}/{database}/schema".into(),
            ..channel()
        };
        let status = status(&channel, &event).expect("a status");
        assert_eq!(status.git_ref, "refs/heads/feature/x");
        assert_eq!(status.body["context"], "acme/commerce/schema");
        let description = status.body["description"].as_str().expect("text");
        assert!(
            description.chars().count() <= MAX_DESCRIPTION,
            "{description}"
        );
        // A link that is not PlanetScale's https page is left out.
        assert!(status.body.get("target_url").is_none());
    }
}
