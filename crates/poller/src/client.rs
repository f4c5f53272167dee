//! The HTTP side: one GET with a timeout, its retries, and pagination.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode};
use url::Url;

use serde_json::Value;

use crate::api::{self, ApiErrorBody, DecodeError, Page, UnreadableItem};
use crate::budget::{Budget, Priority};
use crate::error::PollError;

/// A PlanetScale service token. Its `Debug` shows the id only; the token never leaves this
/// type but in the `Authorization` header.
#[derive(Clone)]
pub struct ServiceToken {
    id: String,
    token: String,
    /// Where the token is configured, for messages that must say which token failed.
    origin: Option<String>,
}

impl ServiceToken {
    /// The token `id` with its secret `token`.
    pub fn new(id: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            token: token.into(),
            origin: None,
        }
    }

    /// The same token, saying in messages where it is configured (`[[watch]] "acme"`), for a
    /// service that holds several.
    #[must_use]
    pub fn configured_in(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// The token's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What messages name: the id, and where it is configured when that was said.
    pub fn described(&self) -> String {
        match &self.origin {
            Some(origin) => format!("{} (set in {origin})", self.id),
            None => self.id.clone(),
        }
    }

    fn header(&self) -> Result<HeaderValue, PollError> {
        // `id:token`, exactly as PlanetScale's own Go client sends it.
        let mut value = HeaderValue::from_str(&format!("{}:{}", self.id, self.token))
            .map_err(|_| PollError::InvalidToken)?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// The token itself, for tests and secret scanning only.
    pub fn expose_secret(&self) -> &str {
        &self.token
    }
}

impl fmt::Debug for ServiceToken {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ServiceToken")
            .field("id", &self.id)
            .field("token", &"<redacted>")
            .field("origin", &self.origin)
            .finish()
    }
}

/// Told of every request the client sends, for metrics.
pub trait RequestObserver: Send + Sync {
    /// `endpoint` names the kind of request (`workflows`, `deploy_requests`, …); `status` is
    /// `None` when no answer came (timeout, connection failure).
    fn observed(&self, endpoint: &'static str, status: Option<u16>);
}

/// The kind of request a path is, for metrics.
fn endpoint(url: &Url) -> &'static str {
    let segments: Vec<&str> = url
        .path_segments()
        .map(Iterator::collect)
        .unwrap_or_default();
    match segments.as_slice() {
        [.., "databases"] => "databases",
        [.., "workflows"] => "workflows",
        [.., "workflows", _] => "workflow",
        [.., "deploy-requests"] => "deploy_requests",
        [.., "deploy-requests", _] => "deploy_request",
        [.., "operations"] => "operations",
        [.., "organizations", _] => "organization",
        _ => "other",
    }
}

/// How the client talks to the API.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The base URL, `https://api.planetscale.com/v1` in production.
    pub api_url: Url,
    /// The service token every request carries.
    pub token: ServiceToken,
    /// Limit for one request, connection to last byte.
    pub timeout: Duration,
    /// Retries of one request after a timeout, a 5xx or a 429.
    pub max_retries: u32,
    /// The first retry's delay; each further one doubles it.
    pub retry_base_delay: Duration,
    /// The longest `Retry-After` honoured within one poll; a longer one fails the request.
    pub max_retry_after: Duration,
    /// The most pages followed of one list of a database's resources.
    pub page_cap: u32,
    /// The most pages followed of an organization's databases: [`DATABASE_PAGE_CAP`] unless
    /// set.
    pub database_page_cap: u32,
    /// The request budget every request passes: there is no way around it.
    pub budget: Arc<Budget>,
    /// Told of every request, if set.
    pub observer: Option<Arc<dyn RequestObserver>>,
}

impl fmt::Debug for dyn RequestObserver {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("RequestObserver")
    }
}

impl ClientConfig {
    /// The defaults (20 s timeout, 3 retries, 50 pages) for `api_url`, `token` and `budget`.
    pub fn new(api_url: Url, token: ServiceToken, budget: Arc<Budget>) -> Self {
        Self {
            api_url,
            token,
            budget,
            timeout: Duration::from_secs(20),
            max_retries: 3,
            retry_base_delay: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
            page_cap: 50,
            database_page_cap: DATABASE_PAGE_CAP,
            observer: None,
        }
    }
}

/// The most pages of 100 followed of an organization's databases: 100,000 databases, for teams
/// with a database per customer.
pub const DATABASE_PAGE_CAP: u32 = 1_000;

/// The readable items of a list, and those that could not be read.
#[derive(Debug)]
pub(crate) struct Listed<T> {
    pub items: Vec<T>,
    pub unreadable: Vec<UnreadableItem>,
}

/// A PlanetScale API client. Cheap to clone; clones share the connection pool and counters.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    requests: Arc<AtomicU64>,
    /// Requests of this clone only (see [`Client::for_poll`]).
    poll_requests: Arc<AtomicU64>,
    priority: Priority,
}

impl Client {
    /// A client with `config`; fails only if the HTTP client cannot be built or the token
    /// cannot go in a header.
    pub fn new(config: ClientConfig) -> Result<Self, PollError> {
        let http = http_util::client(config.timeout).map_err(|error| PollError::Transport {
            resource: "the HTTP client".into(),
            message: error.to_string(),
        })?;
        config.token.header()?;
        Ok(Self {
            http,
            config: Arc::new(config),
            requests: Arc::new(AtomicU64::new(0)),
            poll_requests: Arc::new(AtomicU64::new(0)),
            priority: Priority::Low,
        })
    }

    /// A client for one poll: it spends the shared budget at `priority` and counts its own
    /// requests in [`Client::poll_requests`].
    pub fn for_poll(&self, priority: Priority) -> Self {
        Self {
            priority,
            poll_requests: Arc::new(AtomicU64::new(0)),
            ..self.clone()
        }
    }

    /// Requests sent by this client since [`Client::for_poll`] made it.
    pub fn poll_requests(&self) -> u64 {
        self.poll_requests.load(Ordering::Relaxed)
    }

    /// The most pages followed of an organization's databases.
    pub(crate) fn database_page_cap(&self) -> u32 {
        self.config.database_page_cap
    }

    /// The shared request budget.
    pub fn budget(&self) -> &Arc<Budget> {
        &self.config.budget
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The URL of `segments` under the base URL, each segment escaped.
    pub(crate) fn url(&self, segments: &[&str]) -> Result<Url, PollError> {
        http_util::with_segments(&self.config.api_url, segments).map_err(|segment| {
            PollError::Unaddressable {
                name: segment.to_owned(),
            }
        })
    }

    /// Fetches every page of a list, following `next_page` up to the page cap. Items that
    /// cannot be read are set aside in [`Listed::unreadable`]; the rest are used.
    pub(crate) async fn get_all<T>(
        &self,
        url: Url,
        query: &[(&str, &str)],
        convert: impl Fn(&Value) -> Result<T, DecodeError> + Copy,
    ) -> Result<Listed<T>, PollError> {
        self.get_pages(url, query, convert, self.config.page_cap)
            .await
    }

    /// Fetches the pages of a list while they make progress: a `next_page` that does not move
    /// forward, or a page whose items were all listed already (a server that ignores `page`),
    /// fails the listing rather than loop; past `cap` pages it fails too.
    pub(crate) async fn get_pages<T>(
        &self,
        url: Url,
        query: &[(&str, &str)],
        convert: impl Fn(&Value) -> Result<T, DecodeError> + Copy,
        cap: u32,
    ) -> Result<Listed<T>, PollError> {
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut listed = Listed {
            items: Vec::new(),
            unreadable: Vec::new(),
        };
        let mut page = 1u64;
        for _ in 0..cap {
            let mut page_url = url.clone();
            page_url
                .query_pairs_mut()
                .extend_pairs(query)
                .append_pair("page", &page.to_string())
                .append_pair("per_page", "100");
            let body = self.get(&page_url).await?;
            let first_position = listed.items.len() + listed.unreadable.len() + 1;
            let Page {
                items,
                unreadable,
                next_page,
                ids,
            } = api::decode_page(&body, first_position, convert).map_err(|error| {
                PollError::Decode {
                    resource: resource(&url),
                    message: error.0,
                }
            })?;
            let fresh = ids.iter().filter(|id| seen.insert((*id).clone())).count();
            if page > 1 && !ids.is_empty() && fresh == 0 {
                return Err(PollError::Decode {
                    resource: resource(&url),
                    message: format!(
                        "page {page} lists only items of earlier pages; stopped following next_page"
                    ),
                });
            }
            listed.items.extend(items);
            listed.unreadable.extend(unreadable);
            match next_page {
                // A server that points back at a page already read would loop forever.
                Some(next) if next > page => page = next,
                Some(next) => {
                    return Err(PollError::Decode {
                        resource: resource(&url),
                        message: format!("next_page {next} does not follow page {page}"),
                    })
                }
                None => return Ok(listed),
            }
        }
        Err(PollError::TooManyPages {
            resource: resource(&url),
            cap,
        })
    }

    /// Fetches one resource.
    pub(crate) async fn get_one<T>(
        &self,
        url: Url,
        convert: impl Fn(&Value) -> Result<T, DecodeError>,
    ) -> Result<T, PollError> {
        let body = self.get(&url).await?;
        api::decode_one(&body, convert).map_err(|error| PollError::Decode {
            resource: resource(&url),
            message: error.0,
        })
    }

    /// One POST of a JSON body, through the budget, not retried (it is not idempotent); the
    /// answer read with `convert`.
    pub(crate) async fn post_one<T>(
        &self,
        url: Url,
        body: &Value,
        convert: impl Fn(&Value) -> Result<T, DecodeError>,
    ) -> Result<T, PollError> {
        let body = self.send_once(Method::POST, &url, Some(body)).await?;
        api::decode_one(&body, convert).map_err(|error| PollError::Decode {
            resource: resource(&url),
            message: error.0,
        })
    }

    /// One request without a body whose answer matters only for its status, through the
    /// budget, not retried.
    pub(crate) async fn write(&self, method: Method, url: &Url) -> Result<(), PollError> {
        self.send_once(method, url, None).await.map(drop)
    }

    /// One GET whose answer matters only for its status.
    pub(crate) async fn probe(&self, url: &Url) -> Result<(), PollError> {
        self.get(url).await.map(drop)
    }

    /// One GET, retried after timeouts, 5xx and 429 with exponential backoff (or the server's
    /// `Retry-After`), up to `max_retries` times.
    async fn get(&self, url: &Url) -> Result<Vec<u8>, PollError> {
        let mut attempt = 0;
        loop {
            let error = match self.get_once(url).await {
                Ok(body) => return Ok(body),
                Err(error) => error,
            };
            let Some(delay) = retry_delay(&self.config, &error, attempt) else {
                return Err(error);
            };
            // The path only: an api_url may carry a user and password.
            tracing::debug!(resource = %resource(url), %error, attempt, ?delay, "retrying PlanetScale request");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn get_once(&self, url: &Url) -> Result<Vec<u8>, PollError> {
        self.send_once(Method::GET, url, None).await
    }

    async fn send_once(
        &self,
        method: Method,
        url: &Url,
        json: Option<&Value>,
    ) -> Result<Vec<u8>, PollError> {
        self.config.budget.acquire(self.priority).await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.poll_requests.fetch_add(1, Ordering::Relaxed);
        let mut request = self
            .http
            .request(method, url.clone())
            .header(AUTHORIZATION, self.config.token.header()?)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(json) = json {
            request = request.json(json);
        }
        let sent = request.send().await;
        if let Some(observer) = &self.config.observer {
            observer.observed(
                endpoint(url),
                sent.as_ref()
                    .ok()
                    .map(|response| response.status().as_u16()),
            );
        }
        let mut response = sent.map_err(|error| self.transport_error(url, &error))?;
        let status = response.status();
        let retry_after = http_util::retry_after(response.headers());
        let too_large = || PollError::TooLarge {
            resource: resource(url),
            limit: MAX_BODY,
        };
        if response
            .content_length()
            .is_some_and(|length| length > MAX_BODY as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| self.transport_error(url, &error))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok(body);
        }
        let resource = resource(url);
        let detail = ApiErrorBody::detail(&body);
        Err(match status {
            StatusCode::UNAUTHORIZED => PollError::Unauthorized {
                resource,
                token_id: self.config.token.described(),
            },
            StatusCode::FORBIDDEN => PollError::Forbidden {
                resource,
                token_id: self.config.token.described(),
            },
            StatusCode::NOT_FOUND => PollError::NotFound {
                resource,
                token_id: self.config.token.described(),
            },
            StatusCode::TOO_MANY_REQUESTS => {
                // Everything slows down, not just this request.
                self.config.budget.penalize(retry_after);
                PollError::RateLimited {
                    resource,
                    retry_after,
                }
            }
            _ => PollError::Status {
                resource,
                status: status.as_u16(),
                detail,
            },
        })
    }

    fn transport_error(&self, url: &Url, error: &reqwest::Error) -> PollError {
        if error.is_timeout() {
            PollError::Timeout {
                resource: resource(url),
                timeout: self.config.timeout,
            }
        } else {
            PollError::Transport {
                resource: resource(url),
                message: http_util::error_chain(error),
            }
        }
    }
}

/// The most of one answer read: a page of 100 items is far less; a larger answer is an error,
/// not a reason to take memory without bound.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// How long to wait before retrying a request that failed with `error` on its `attempt`-th
/// retry (from 0), or `None` to give up: a failure that is not transient, the retries spent,
/// a 429 without `Retry-After` (the shared budget pauses every request, and the scheduler backs
/// the target off) or with one longer than `max_retry_after`. A 429's `Retry-After` is waited
/// as asked; other failures double `retry_base_delay` each time.
fn retry_delay(config: &ClientConfig, error: &PollError, attempt: u32) -> Option<Duration> {
    if !error.is_transient() || attempt >= config.max_retries {
        return None;
    }
    match error {
        PollError::RateLimited { retry_after, .. } => {
            retry_after.filter(|retry_after| *retry_after <= config.max_retry_after)
        }
        _ => Some(http_util::backoff(
            config.retry_base_delay,
            attempt,
            Duration::MAX,
        )),
    }
}

/// The path of a URL, which names the resource without host noise (and never holds a secret).
pub(crate) fn resource(url: &Url) -> String {
    url.path().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ClientConfig {
        ClientConfig::new(
            "https://api.planetscale.com/v1".parse().expect("url"),
            ServiceToken::new("id", "token"),
            Arc::new(Budget::per_minute(600)),
        )
    }

    #[test]
    fn retries_wait_as_asked_and_back_off() {
        let config = config();
        let limited = |retry_after: Option<Duration>| PollError::RateLimited {
            resource: "/x".into(),
            retry_after,
        };
        let unavailable = PollError::Status {
            resource: "/x".into(),
            status: 503,
            detail: None,
        };
        assert_eq!(
            retry_delay(&config, &limited(Some(Duration::from_millis(500))), 0),
            Some(Duration::from_millis(500))
        );
        assert_eq!(retry_delay(&config, &limited(None), 0), None);
        assert_eq!(
            retry_delay(&config, &limited(Some(Duration::from_secs(61))), 0),
            None,
            "longer than max_retry_after"
        );
        let delays: Vec<Option<Duration>> = (0..4)
            .map(|attempt| retry_delay(&config, &unavailable, attempt))
            .collect();
        assert_eq!(
            delays,
            [
                Some(Duration::from_millis(500)),
                Some(Duration::from_secs(1)),
                Some(Duration::from_secs(2)),
                None
            ]
        );
        let not_found = PollError::NotFound {
            resource: "/x".into(),
            token_id: "id".into(),
        };
        assert_eq!(retry_delay(&config, &not_found, 0), None);
    }
}
