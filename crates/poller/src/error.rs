use std::time::Duration;

/// Why a request to PlanetScale failed. Each variant says what it means for the person
/// running pswatch; none carries the token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PollError {
    /// The token cannot go in a header.
    #[error("the service token cannot be sent in an HTTP header: it holds characters that are not visible ASCII")]
    InvalidToken,
    /// HTTP 401.
    #[error("PlanetScale rejected service token {token_id} (HTTP 401) for {resource}: check service_token_id and service_token")]
    Unauthorized {
        /// The path asked for.
        resource: String,
        /// The token's id (never the token).
        token_id: String,
    },
    /// HTTP 403.
    #[error("service token {token_id} may not read {resource} (HTTP 403): grant it read_deploy_request and database read access in the organization's settings")]
    Forbidden {
        /// The path asked for.
        resource: String,
        /// The token's id.
        token_id: String,
    },
    /// HTTP 404.
    #[error("{resource} was not found (HTTP 404): it does not exist, or service token {token_id} cannot see it (check the name, and the token's access to the database)")]
    NotFound {
        /// The path asked for.
        resource: String,
        /// The token's id.
        token_id: String,
    },
    /// A 404 on a database's path, and the organization refused too: PlanetScale answers 404,
    /// not 401, on database paths for a token that is wrong or lacks access.
    #[error("PlanetScale answered 404 for {resource} and HTTP {organization_status} for organization {organization}: service token {token_id} is wrong, expired or has no access to {organization}; check service_token_id and service_token, and the token's access in the organization's settings")]
    TokenRejected {
        /// The path that answered 404.
        resource: String,
        /// The organization asked next.
        organization: String,
        /// What the organization answered (401, 403 or 404).
        organization_status: u16,
        /// The token's id.
        token_id: String,
    },
    /// HTTP 429.
    #[error(
        "PlanetScale's rate limit was reached (HTTP 429) on {resource}{}",
        retry_after_text(retry_after)
    )]
    RateLimited {
        /// The path asked for.
        resource: String,
        /// How long the API asked to wait, if it did.
        retry_after: Option<Duration>,
    },
    /// Another HTTP status.
    #[error("PlanetScale answered HTTP {status} for {resource}{}", detail.as_ref().map(|detail| format!(": {detail}")).unwrap_or_default())]
    Status {
        /// The path asked for.
        resource: String,
        /// The status.
        status: u16,
        /// The API's message, or the start of a body that is not the API's.
        detail: Option<String>,
    },
    /// No answer within the timeout.
    #[error("the request for {resource} timed out after {}s", timeout.as_secs_f32())]
    Timeout {
        /// The path asked for.
        resource: String,
        /// The limit that passed.
        timeout: Duration,
    },
    /// No connection, or the connection broke.
    #[error("cannot reach PlanetScale for {resource}: {message}")]
    Transport {
        /// The path asked for.
        resource: String,
        /// What went wrong, with its causes.
        message: String,
    },
    /// A response that cannot be read as a whole.
    #[error("unexpected response for {resource}: {message}")]
    Decode {
        /// The path asked for.
        resource: String,
        /// What is wrong with it.
        message: String,
    },
    /// An answer larger than the client reads.
    #[error("{resource}: the API's answer is larger than {limit} bytes, the most pswatch reads of one answer")]
    TooLarge {
        /// The path asked for.
        resource: String,
        /// The cap, in bytes.
        limit: usize,
    },
    /// A name from the API that no URL path can carry (`.`, `..` or empty): what it names
    /// cannot be asked for.
    #[error("{name:?} cannot be put in a URL path (\".\", \"..\" and empty names address no resource); it is not read")]
    Unaddressable {
        /// The name, escaped for logs.
        name: String,
    },
    /// A list that went on past the page cap.
    #[error("{resource} has more than {cap} pages of 100; stopped following next_page")]
    TooManyPages {
        /// The path asked for.
        resource: String,
        /// The cap.
        cap: u32,
    },
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
            | Self::TooManyPages { .. }
            | Self::Unaddressable { .. }
            | Self::TooLarge { .. } => false,
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
