//! `[planetscale]` and the service tokens of `[[watch]]`: each token's id and secret, its
//! budget, and that organizations sharing a token agree on it.

use std::time::Duration;

use poller::ServiceToken;

use super::at_least;
use crate::config::raw::{RawConfig, RawPlanetScale, RawWatch};
use crate::config::{
    http_url, problem, ApiToken, PlanetScale, Problem, DEFAULT_API_URL, DEFAULT_REQUESTS_PER_MINUTE,
};

pub(super) fn planetscale(
    raw: &RawConfig,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) -> Option<PlanetScale> {
    let Some(RawPlanetScale {
        api_url,
        service_token_id,
        service_token,
        timeout,
        requests_per_minute,
        budget_window,
    }) = &raw.planetscale
    else {
        if !raw.has_planetscale {
            problem(
                problems,
                "planetscale",
                "is missing: it holds service_token_id and service_token",
            );
        }
        return None;
    };
    let api_url = http_url(
        "planetscale.api_url",
        api_url.as_deref().unwrap_or(DEFAULT_API_URL),
        false,
        problems,
    );
    if let Some(api_url) = &api_url {
        // What is shown of it leaves out a user and password it may carry.
        let mut shown = api_url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        let api_url = &shown;
        if !api_url.path().trim_end_matches('/').ends_with("/v1") {
            problem(
                warnings,
                "planetscale.api_url",
                format!(
                    "{:?} does not end in /v1, where PlanetScale's API lives ({DEFAULT_API_URL}); every request would go to {}/organizations/…",
                    api_url.as_str(),
                    api_url.as_str().trim_end_matches('/')
                ),
            );
        }
    }
    let token_id = token_part("planetscale.service_token_id", service_token_id, problems);
    let token = token_part("planetscale.service_token", service_token, problems);
    let timeout = at_least(
        "planetscale.timeout",
        *timeout,
        Duration::from_secs(20),
        problems,
    );
    let requests_per_minute = requests(
        "planetscale.requests_per_minute",
        *requests_per_minute,
        problems,
    );
    let budget_window = at_least(
        "planetscale.budget_window",
        *budget_window,
        Duration::from_secs(60),
        problems,
    );
    Some(PlanetScale {
        api_url: api_url?,
        token: ServiceToken::new(token_id?, token?),
        timeout,
        requests_per_minute,
        budget_window,
    })
}

/// One half of a service token, which must be printable ASCII without spaces.
fn token_part(key: &str, value: &str, problems: &mut Vec<Problem>) -> Option<String> {
    if value.trim().is_empty() {
        problem(problems, key, "is empty");
        None
    } else if !value.bytes().all(|byte| byte.is_ascii_graphic()) {
        problem(
            problems,
            key,
            "holds spaces or characters that are not printable ASCII",
        );
        None
    } else {
        Some(value.to_owned())
    }
}

/// A token's `requests_per_minute`, 480 unless set.
fn requests(key: &str, value: Option<u32>, problems: &mut Vec<Problem>) -> u32 {
    match value {
        None => DEFAULT_REQUESTS_PER_MINUTE,
        Some(0) => {
            problem(problems, key, "must be at least 1");
            DEFAULT_REQUESTS_PER_MINUTE
        }
        Some(value) => value,
    }
}

/// A watch's own service token (`service_token_id` and `service_token`, with its
/// `requests_per_minute`), when it names one.
pub(super) fn watch_token(
    key: &str,
    watch: &RawWatch,
    organization: &str,
    problems: &mut Vec<Problem>,
) -> Option<ApiToken> {
    match (&watch.service_token_id, &watch.service_token) {
        (None, None) => {
            if watch.requests_per_minute.is_some() {
                problem(
                    problems,
                    format!("{key}.requests_per_minute"),
                    "is the budget of the watch's own service token: set service_token_id and service_token beside it (the token of [planetscale] has planetscale.requests_per_minute)",
                );
            }
            None
        }
        (Some(id), Some(token)) => {
            let id = token_part(&format!("{key}.service_token_id"), id, problems);
            let token = token_part(&format!("{key}.service_token"), token, problems);
            let requests_per_minute = requests(
                &format!("{key}.requests_per_minute"),
                watch.requests_per_minute,
                problems,
            );
            // Named by its organization, unless that is the name of `[planetscale]`'s token.
            let name = if organization == crate::config::DEFAULT_TOKEN_NAME {
                format!("{organization} (watch)")
            } else {
                organization.to_owned()
            };
            Some(ApiToken {
                name,
                token: ServiceToken::new(id?, token?)
                    .configured_in(format!("[[watch]] of organization {organization:?}")),
                requests_per_minute,
            })
        }
        (Some(_), None) | (None, Some(_)) => {
            let missing = if watch.service_token.is_none() {
                "service_token"
            } else {
                "service_token_id"
            };
            problem(
                problems,
                format!("{key}.{missing}"),
                "is missing: a watch's own token needs both service_token_id and service_token",
            );
            None
        }
    }
}

/// Watches naming the same token must agree on it: one secret, and one budget where they set
/// it (`watches`: each watch's index, token, and whether it set `requests_per_minute`).
pub(super) fn tokens_agree(
    planetscale: Option<&PlanetScale>,
    watches: &[(usize, Option<ApiToken>, bool)],
    problems: &mut Vec<Problem>,
) {
    let mut seen: Vec<(String, &ServiceToken, u32)> = Vec::new();
    if let Some(planetscale) = planetscale {
        seen.push((
            "planetscale".into(),
            &planetscale.token,
            planetscale.requests_per_minute,
        ));
    }
    for (index, token, explicit) in watches {
        let Some(token) = token else { continue };
        let key = format!("watch[{index}]");
        match seen
            .iter()
            .find(|(_, known, _)| known.id() == token.token.id())
        {
            Some((other, known, _)) if known.expose_secret() != token.token.expose_secret() => {
                problem(
                    problems,
                    format!("{key}.service_token"),
                    format!("differs from the token of {other}, which has the same service_token_id"),
                );
            }
            Some((other, _, requests)) if *explicit && *requests != token.requests_per_minute => problem(
                problems,
                format!("{key}.requests_per_minute"),
                format!(
                    "is {} but {other} uses the same token with {requests}: watches that share a token share its budget, so give it one value",
                    token.requests_per_minute
                ),
            ),
            Some(_) => {}
            None => seen.push((key, &token.token, token.requests_per_minute)),
        }
    }
}
