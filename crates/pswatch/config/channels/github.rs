//! `type = "github"`: a repository's commit statuses (`token`, a secret; `repository`,
//! `owner/name`), maybe another `api_url` (GitHub Enterprise Server's `https://HOST/api/v3`),
//! the git `ref` of a deploy request's branch and the status's `context`, both templates, and
//! whether its pull request gets a comment (`comments`).

use notifier::{GitHubChannel, Secret};
use serde::Deserialize;

use super::super::{http_url, problem, Problem};
use super::CheckKind;

/// The placeholders `ref` and `context` may hold.
const PLACEHOLDERS: [&str; 3] = ["{branch}", "{organization}", "{database}"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawGitHub {
    token: String,
    repository: String,
    api_url: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    context: Option<String>,
    comments: Option<bool>,
}

/// Whether `name` is a GitHub owner's or repository's name: letters, digits, `-`, `_`, `.`.
fn github_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
}

/// `template` when every `{…}` in it is one of [`PLACEHOLDERS`]; a problem naming the first
/// that is not otherwise.
fn template(key: &str, template: &str, problems: &mut Vec<Problem>) -> Option<String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map(|close| open + close + 1);
        let Some(close) = close else {
            problem(problems, key, "has a { without its }");
            return None;
        };
        let placeholder = &rest[open..close];
        if !PLACEHOLDERS.contains(&placeholder) {
            problem(
                problems,
                key,
                format!(
                    "names {placeholder}, not one of {}",
                    PLACEHOLDERS.join(", ")
                ),
            );
            return None;
        }
        rest = &rest[close..];
    }
    if template.trim().is_empty() {
        problem(problems, key, "is empty");
        return None;
    }
    Some(template.to_owned())
}

impl CheckKind for RawGitHub {
    type Kind = GitHubChannel;

    fn check(&self, key: &str, _name: &str, problems: &mut Vec<Problem>) -> Option<GitHubChannel> {
        let token = self.token.trim();
        let token = if token.is_empty() || token.chars().any(char::is_whitespace) {
            // Never quoted: it is the secret.
            problem(
                problems,
                format!("{key}.token"),
                "is not a GitHub token; give a fine-grained token with commit statuses write on the repository",
            );
            None
        } else {
            Some(Secret::new(token))
        };
        let repository = match self.repository.trim().split_once('/') {
            Some((owner, name)) if github_name(owner) && github_name(name) => {
                Some(self.repository.trim().to_owned())
            }
            _ => {
                problem(
                    problems,
                    format!("{key}.repository"),
                    format!("{:?} is not owner/name", self.repository),
                );
                None
            }
        };
        let api_url = http_url(
            &format!("{key}.api_url"),
            self.api_url.as_deref().unwrap_or(notifier::GITHUB_API_URL),
            false,
            problems,
        );
        let git_ref = template(
            &format!("{key}.ref"),
            self.git_ref.as_deref().unwrap_or("{branch}"),
            problems,
        );
        let context = template(
            &format!("{key}.context"),
            self.context.as_deref().unwrap_or("planetscale/{database}"),
            problems,
        );
        Some(GitHubChannel {
            token: token?,
            repository: repository?,
            api_url: api_url?,
            git_ref: git_ref?,
            context: context?,
            comments: self.comments.unwrap_or(false),
        })
    }
}
