use std::time::Duration;

/// Why a request to PlanetScale failed. Each variant says what it means for the person
/// running pswatch; none carries the token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PollError {
    #[error("the service token cannot be sent in an HTTP header: it holds characters that are not visible ASCII")]
    InvalidToken,
    #[error("PlanetScale rejected service token {token_id} (HTTP 401) for {resource}: check service_token_id and service_token")]
    Unauthorized { resource: String, token_id: String },
    #[error("service token {token_id} may not read {resource} (HTTP 403): grant it read_deploy_request and database read access in the organization's settings")]
    Forbidden { resource: String, token_id: String },
    #[error("{resource} was not found (HTTP 404): it does not exist, or service token {token_id} cannot see it (check the name, and the token's access to the database)")]
    NotFound { resource: String, token_id: String },
    /// A 404 on a database's path, and the organization refused too: PlanetScale answers 404,
    /// not 401, on database paths for a token that is wrong or lacks access.
    #[error("PlanetScale answered 404 for {resource} and HTTP {organization_status} for organization {organization}: service token {token_id} is wrong, expired or has no access to {organization}; check service_token_id and service_token, and the token's access in the organization's settings")]
    TokenRejected {
        resource: String,
        organization: String,
        organization_status: u16,
        token_id: String,
    },
    #[error(
        "PlanetScale's rate limit was reached (HTTP 429) on {resource}{}",
        retry_after_text(retry_after)
    )]
    RateLimited {
        resource: String,
        retry_after: Option<Duration>,
    },
    #[error("PlanetScale answered HTTP {status} for {resource}{}", detail.as_ref().map(|detail| format!(": {detail}")).unwrap_or_default())]
    Status {
        resource: String,
        status: u16,
        detail: Option<String>,
    },
    #[error("the request for {resource} timed out after {}s", timeout.as_secs_f32())]
    Timeout { resource: String, timeout: Duration },
    #[error("cannot reach PlanetScale for {resource}: {message}")]
    Transport { resource: String, message: String },
    #[error("unexpected response for {resource}: {message}")]
    Decode { resource: String, message: String },
    #[error("{resource} has more than {cap} pages of 100; stopped following next_page")]
    TooManyPages { resource: String, cap: u32 },
}

fn retry_after_text(retry_after: &Option<Duration>) -> String {
    retry_after
        .map(|delay| format!(", retry after {}s", delay.as_secs()))
        .unwrap_or_default()
}

impl PollError {
    /// Whether the same request may succeed if tried again later: timeouts, connection
    /// failures, 429 and 5xx. Everything else needs a person (or a changed response).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Timeout { .. } | Self::Transport { .. } => true,
            Self::Status { status, .. } => *status >= 500,
            Self::InvalidToken
            | Self::Unauthorized { .. }
            | Self::Forbidden { .. }
            | Self::NotFound { .. }
            | Self::TokenRejected { .. }
            | Self::Decode { .. }
            | Self::TooManyPages { .. } => false,
        }
    }

    /// Whether the token was refused: a configuration problem, not the API's.
    pub fn is_auth_failure(&self) -> bool {
        matches!(
            self,
            Self::InvalidToken
                | Self::Unauthorized { .. }
                | Self::Forbidden { .. }
                | Self::TokenRejected { .. }
        )
    }

    /// How long the server asked to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
