//! The admin server's token. With `[admin] token` set, everything but `/healthz` and `/readyz`
//! needs `Authorization: Bearer <token>` or the session cookie a browser gets from the login
//! form (`HttpOnly`, `SameSite=Strict`, so another site cannot make the browser act). Without a
//! token (only allowed on a loopback address) everything is open to requests whose `Host` is
//! the listen address, a loopback address or `localhost`: a web page that rebinds its own host
//! name to 127.0.0.1 still sends that name, and is refused.
//!
//! Wrong tokens, through the login form or the `Authorization` header, are counted per client
//! address: past ten a minute that client is answered 429, while the owner, elsewhere, is not.
//! `POST`s to `/api/` must say `Content-Type: application/json`, which a page of another site
//! cannot send without the browser asking first (and this server never says yes).

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use maud::{html, DOCTYPE};
use notifier::Secret;
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::service::board::AdminTokens;

/// How long a browser session lasts.
const SESSION: Duration = Duration::from_secs(12 * 3600);
/// The session cookie's name.
const COOKIE: &str = "pswatch_session";
/// Wrong tokens a client address may give a minute (login form and bearer header together).
const FAILURES_PER_MINUTE: usize = 10;
/// The most client addresses whose failures are remembered.
const CLIENTS_REMEMBERED: usize = 10_000;
const MINUTE: Duration = Duration::from_secs(60);

/// What a request may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Everything: the admin token, a browser session, or no token configured.
    Full,
    /// `GET` the API and `/metrics`: a read token.
    Read,
    /// Nothing but what is open to all.
    None,
}

/// The tokens, the browser sessions and the failed attempts.
#[derive(Debug)]
pub(crate) struct AdminAuth {
    /// The configuration's tokens, as they are now (they follow reloads).
    tokens: Mutex<tokio::sync::watch::Receiver<AdminTokens>>,
    sessions: Mutex<HashMap<String, Instant>>,
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
    /// Where the admin server listens: a `Host` naming it is this server.
    listen: Mutex<Option<SocketAddr>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Equal, compared in constant time (of their digests, so the length leaks nothing either).
fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.as_slice().ct_eq(b.as_slice()).into()
}

impl AdminAuth {
    /// Guards with the tokens `tokens` gives (the configuration's, at start and on reload).
    pub(crate) fn new(tokens: tokio::sync::watch::Receiver<AdminTokens>) -> Self {
        Self {
            tokens: Mutex::new(tokens),
            sessions: Mutex::default(),
            failures: Mutex::default(),
            listen: Mutex::default(),
        }
    }

    /// The tokens now; new tokens end every session.
    fn tokens(&self) -> AdminTokens {
        let mut tokens = lock(&self.tokens);
        // The sender says a change only when the tokens differ.
        if tokens.has_changed().unwrap_or(false) {
            lock(&self.sessions).clear();
        }
        let current = tokens.borrow_and_update().clone();
        current
    }

    /// The admin token now.
    fn token(&self) -> Option<Secret> {
        self.tokens().token
    }

    /// Where the admin server listens.
    pub(crate) fn set_listen(&self, address: SocketAddr) {
        *lock(&self.listen) = Some(address);
    }

    /// Whether `client` gave too many wrong tokens in the last minute. Asked before the token is
    /// checked, so that a client past its limit learns nothing from a right guess; a rate
    /// limiter that can only be asked by spending a cell (as `governor`'s) cannot answer that
    /// without counting every attempt, the owner's included, which is why this one is kept here.
    fn limited(&self, client: IpAddr, now: Instant) -> bool {
        lock(&self.failures).get(&client).is_some_and(|failures| {
            failures
                .iter()
                .filter(|at| now.saturating_duration_since(**at) < MINUTE)
                .count()
                >= FAILURES_PER_MINUTE
        })
    }

    /// Notes a wrong token from `client`.
    fn failed(&self, client: IpAddr, now: Instant) {
        let mut failures = lock(&self.failures);
        if failures.len() >= CLIENTS_REMEMBERED && !failures.contains_key(&client) {
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|at| now.saturating_duration_since(*at) < MINUTE)
            });
            if failures.len() >= CLIENTS_REMEMBERED {
                // A flood from many addresses: forget the oldest half rather than grow.
                let mut oldest: Vec<(IpAddr, Instant)> = failures
                    .iter()
                    .filter_map(|(client, times)| Some((*client, *times.back()?)))
                    .collect();
                oldest.sort_by_key(|(_, at)| *at);
                for (client, _) in oldest.into_iter().take(CLIENTS_REMEMBERED / 2) {
                    failures.remove(&client);
                }
            }
        }
        let times = failures.entry(client).or_default();
        while times
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= MINUTE)
        {
            times.pop_front();
        }
        if times.len() < FAILURES_PER_MINUTE {
            times.push_back(now);
        }
    }

    /// Whether a request whose `Host` is `host` may be served without a token: its name is the
    /// listen address, a loopback address or `localhost`.
    fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(host) = host else {
            // Browsers always send Host: a request without one is no page's.
            return true;
        };
        let name = match host.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or_default(),
            None => host.rsplit_once(':').map_or(host, |(name, port)| {
                if port.bytes().all(|byte| byte.is_ascii_digit()) {
                    name
                } else {
                    host
                }
            }),
        };
        if name.eq_ignore_ascii_case("localhost") {
            return true;
        }
        name.parse::<IpAddr>().is_ok_and(|ip| {
            ip.is_loopback() || lock(&self.listen).is_some_and(|listen| listen.ip() == ip)
        })
    }

    /// What `headers` may do: everything with the admin token or a live session (or when
    /// there is no token), read with a read token, nothing otherwise.
    fn access(&self, headers: &HeaderMap, now: Instant) -> Access {
        let tokens = self.tokens();
        let Some(token) = tokens.token else {
            return Access::Full;
        };
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        if let Some(given) = bearer {
            if same(given, token.expose()) {
                return Access::Full;
            }
            // Each compared, so that the time says nothing of which one matched.
            let read = tokens
                .read
                .iter()
                .fold(false, |matched, read| same(given, read.expose()) | matched);
            if read {
                return Access::Read;
            }
        }
        let Some(session) = session_of(headers) else {
            return Access::None;
        };
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, expires| *expires > now);
        if sessions.keys().any(|known| same(known, &session)) {
            Access::Full
        } else {
            Access::None
        }
    }

    /// A login attempt with `given` from `client`: a new session id when it is the token.
    fn login(&self, given: &str, client: IpAddr, now: Instant) -> Result<String, StatusCode> {
        if self.limited(client, now) {
            return Err(StatusCode::TOO_MANY_REQUESTS);
        }
        let token = self.token().ok_or(StatusCode::NOT_FOUND)?;
        if !same(given, token.expose()) {
            self.failed(client, now);
            return Err(StatusCode::UNAUTHORIZED);
        }
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
        let session = hex::encode(bytes);
        lock(&self.sessions).insert(session.clone(), now + SESSION);
        Ok(session)
    }

    fn logout(&self, headers: &HeaderMap) {
        if let Some(session) = session_of(headers) {
            lock(&self.sessions).remove(&session);
        }
    }
}

fn session_of(headers: &HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(COOKIE)
        .map(|cookie| cookie.value().to_owned())
}

/// The session cookie: `HttpOnly`, `SameSite=Strict`, for the whole server, lasting `max_age`
/// (zero ends it).
fn session_cookie(value: String, max_age: Duration) -> String {
    Cookie::build((COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(time::Duration::seconds(
            i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
        ))
        .build()
        .to_string()
}

/// Where a sign-in goes on to: `next` when it is a path of this server (`/…`, not `//…`,
/// no backslash or control character, at most 2,000 characters), else the status page.
fn after_login(next: Option<&str>) -> String {
    next.filter(|next| {
        next.starts_with('/')
            && !next.starts_with("//")
            && next.len() <= 2000
            && !next.chars().any(|c| c == '\\' || c.is_control())
    })
    .unwrap_or("/")
    .to_owned()
}

/// The login form; `problem` says why the last attempt failed, `next` where a sign-in goes
/// on to (the page that asked for it).
fn login_page(problem: Option<&str>, next: Option<&str>) -> Html<String> {
    let next = after_login(next);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "pswatch: sign in" }
            }
            body {
                main {
                    h1 { "pswatch" }
                    @if let Some(problem) = problem {
                        p role="alert" { strong { (problem) } }
                    }
                    form method="post" action="/login" {
                        input type="hidden" name="next" value=(next);
                        label for="token" { "Admin token" }
                        " "
                        input id="token" name="token" type="password" autocomplete="current-password" required;
                        " "
                        button type="submit" { "Sign in" }
                    }
                }
            }
        }
    };
    Html(page.into_string())
}

/// Whether a browser says the request comes from another site: `Sec-Fetch-Site: cross-site`,
/// or an `Origin` whose host is not this server's.
fn cross_site(headers: &HeaderMap) -> bool {
    let text = |name: header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok());
    if headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|site| site == "cross-site")
    {
        return true;
    }
    match (text(header::ORIGIN), text(header::HOST)) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => {
            let origin_host = origin.split("://").nth(1).unwrap_or(origin);
            origin_host != host
        }
        (Some(_), None) => true,
        (None, _) => false,
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// The policy of the login form: nothing but itself, in no frame.
const LOGIN_POLICY: &str =
    "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What every answer of the admin server says: a type is never guessed, and no other site may
/// frame it.
pub(crate) async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    // The status page sends its own policy; everything else, the login form among it, this one.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static(LOGIN_POLICY),
        );
    }
    response
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// The client's address (unspecified when the server did not say).
fn client_of(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(address)| {
            address.ip()
        })
}

/// The guard in front of every route but `/healthz`, `/readyz`, `/readyz/receiver` and
/// `/login`.
pub(crate) async fn guard(
    State(auth): State<Arc<AdminAuth>>,
    request: Request,
    next: Next,
) -> Response {
    let auth = &*auth;
    let path = request.uri().path();
    if matches!(path, "/healthz" | "/readyz" | "/readyz/receiver") {
        return next.run(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    if auth.token().is_none() && !auth.host_allowed(host) {
        // Without a token only this machine's own names reach the server: a page of another
        // site that rebinds its name to 127.0.0.1 still sends that name.
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "refused: without [admin] token this server answers only to its listen address, a loopback address or localhost in Host\n",
        )
            .into_response();
    }
    let post = request.method() == axum::http::Method::POST;
    if post && cross_site(request.headers()) {
        // A page of another site making the browser act here (with or without a token).
        return (
            StatusCode::FORBIDDEN,
            "refused: a request from another site\n",
        )
            .into_response();
    }
    if post && path.starts_with("/api/") && !is_json(request.headers()) {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the admin API takes Content-Type: application/json\n",
        )
            .into_response();
    }
    if path == "/login" {
        return next.run(request).await;
    }
    let now = Instant::now();
    let client = client_of(&request);
    if auth.token().is_some() && auth.limited(client, now) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "too many wrong tokens from this address; wait a minute\n",
        )
            .into_response();
    }
    match auth.access(request.headers(), now) {
        Access::Full => return next.run(request).await,
        Access::Read => {
            let reads = matches!(
                *request.method(),
                axum::http::Method::GET | axum::http::Method::HEAD
            ) && (path.starts_with("/api/") || path == "/metrics");
            if reads {
                return next.run(request).await;
            }
            return (
                StatusCode::FORBIDDEN,
                "a read token may only GET the API and /metrics; this needs the admin token\n",
            )
                .into_response();
        }
        Access::None => {}
    }
    if request.headers().contains_key(header::AUTHORIZATION) {
        auth.failed(client, now);
    }
    if wants_html(request.headers()) {
        let asked = request.uri().path_and_query().map(|asked| asked.as_str());
        return (StatusCode::UNAUTHORIZED, login_page(None, asked)).into_response();
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "this needs the admin token: Authorization: Bearer <token>\n",
    )
        .into_response()
}

/// `GET /login`.
pub(crate) async fn login_form() -> Html<String> {
    login_page(None, None)
}

/// `POST /login` with `token=…` (a form): sets the session cookie and goes to the page.
pub(crate) async fn login(
    Extension(auth): Extension<Arc<AdminAuth>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let field = |name: &str| {
        url::form_urlencoded::parse(&body)
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    let given = field("token").unwrap_or_default();
    let next = after_login(field("next").as_deref());
    match auth.login(given.trim(), client.ip(), Instant::now()) {
        Ok(session) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, next),
                (header::SET_COOKIE, session_cookie(session, SESSION)),
            ],
        )
            .into_response(),
        Err(StatusCode::TOO_MANY_REQUESTS) => (
            StatusCode::TOO_MANY_REQUESTS,
            login_page(
                Some("Too many wrong tokens from this address; wait a minute."),
                Some(&next),
            ),
        )
            .into_response(),
        Err(StatusCode::NOT_FOUND) => (
            StatusCode::NOT_FOUND,
            "no admin token is set; nothing to sign in to\n",
        )
            .into_response(),
        Err(status) => {
            tracing::warn!("a sign-in to the admin server with a wrong token");
            (
                status,
                login_page(Some("That is not the admin token."), Some(&next)),
            )
                .into_response()
        }
    }
}

/// `POST /logout`: ends the session.
pub(crate) async fn logout(
    Extension(auth): Extension<Arc<AdminAuth>>,
    headers: HeaderMap,
) -> Response {
    auth.logout(&headers);
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/login".to_owned()),
            (
                header::SET_COOKIE,
                session_cookie(String::new(), Duration::ZERO),
            ),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name.clone(), value.parse().expect("value"));
        }
        headers
    }

    #[tokio::test(start_paused = true)]
    async fn the_token_or_a_live_session_admits_nothing_else_does() {
        let (token, receiver) = tokio::sync::watch::channel(AdminTokens::default());
        let auth = AdminAuth::new(receiver);
        let now = Instant::now();
        let admits = |headers: &HeaderMap, now| auth.access(headers, now) == Access::Full;
        assert!(admits(&HeaderMap::new(), now), "no token: open");
        token.send_replace(AdminTokens {
            token: Some(Secret::new("a-long-admin-token-0123")),
            read: vec![Secret::new("a-long-read-token-0123456789")],
        });
        assert!(!admits(&HeaderMap::new(), now));
        let bearer = |value: &str| headers(&[(header::AUTHORIZATION, value)]);
        assert!(admits(&bearer("Bearer a-long-admin-token-0123"), now));
        assert!(!admits(&bearer("Bearer a-long-admin-token-012"), now));
        assert!(!admits(&bearer("a-long-admin-token-0123"), now));
        // A read token reads, and signs no browser in.
        let read = bearer("Bearer a-long-read-token-0123456789");
        assert_eq!(auth.access(&read, now), Access::Read);
        assert_eq!(
            auth.access(&bearer("Bearer a-long-read-token-012345678"), now),
            Access::None
        );
        let me = IpAddr::from([127, 0, 0, 1]);
        assert_eq!(
            auth.login("a-long-read-token-0123456789", me, now),
            Err(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(auth.login("wrong", me, now), Err(StatusCode::UNAUTHORIZED));
        let session = auth
            .login("a-long-admin-token-0123", me, now)
            .expect("signed in");
        let cookie = headers(&[(header::COOKIE, &format!("theme=dark; {COOKIE}={session}"))]);
        assert!(admits(&cookie, now));
        assert!(!admits(&cookie, now + SESSION), "sessions expire");
        // A new token ends the sessions; so does logging out.
        let session = auth
            .login("a-long-admin-token-0123", me, now)
            .expect("signed in");
        let cookie = headers(&[(header::COOKIE, &format!("{COOKIE}={session}"))]);
        auth.logout(&cookie);
        assert!(!admits(&cookie, now));
        // Another site's page cannot make a browser act here.
        let from =
            |origin: &str| headers(&[(header::ORIGIN, origin), (header::HOST, "127.0.0.1:9184")]);
        assert!(cross_site(&from("https://evil.example.com")));
        assert!(cross_site(&from("null")));
        assert!(!cross_site(&from("http://127.0.0.1:9184")));
        assert!(!cross_site(&HeaderMap::new()));
        assert!(cross_site(&headers(&[(
            header::HeaderName::from_static("sec-fetch-site"),
            "cross-site"
        )])));
        // Guessing is bounded per client address; the owner elsewhere still signs in.
        let guesser = IpAddr::from([127, 0, 0, 9]);
        let refused = (0..20)
            .filter(|_| auth.login("guess", guesser, now) == Err(StatusCode::TOO_MANY_REQUESTS))
            .count();
        assert_eq!(refused, 10);
        assert_eq!(
            auth.login("a-long-admin-token-0123", guesser, now),
            Err(StatusCode::TOO_MANY_REQUESTS)
        );
        assert!(auth.login("a-long-admin-token-0123", me, now).is_ok());
        assert!(auth
            .login("a-long-admin-token-0123", guesser, now + MINUTE)
            .is_ok());
    }

    #[test]
    fn the_login_page_escapes_what_it_shows() {
        let Html(page) = login_page(
            Some("<script>alert(1)</script> & \"more\""),
            Some("/?silence=\"><script>x</script>"),
        );
        assert!(
            page.starts_with("<!DOCTYPE html><html lang=\"en\">"),
            "{page}"
        );
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;"),
            "{page}"
        );
        assert!(!page.contains("<script>"), "{page}");
        assert!(
            page.contains("<input id=\"token\" name=\"token\" type=\"password\""),
            "{page}"
        );
        assert!(page.contains("value=\"/?silence=&quot;&gt;"), "{page}");
    }

    #[test]
    fn a_sign_in_goes_on_only_to_this_server_s_own_pages() {
        assert_eq!(
            after_login(Some("/?silence=acme%2Fcommerce&comment=x")),
            "/?silence=acme%2Fcommerce&comment=x"
        );
        for elsewhere in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "evil",
            "/\nSet-Cookie: x",
        ] {
            assert_eq!(after_login(Some(elsewhere)), "/", "{elsewhere:?}");
        }
        assert_eq!(after_login(Some(&format!("/{}", "a".repeat(3000)))), "/");
        assert_eq!(after_login(None), "/");
    }

    #[test]
    fn without_a_token_only_this_machines_names_are_served() {
        let auth = AdminAuth::new(tokio::sync::watch::channel(AdminTokens::default()).1);
        auth.set_listen("127.0.0.2:9184".parse().expect("address"));
        for host in [
            "127.0.0.1:9184",
            "127.0.0.2:9184",
            "localhost:9184",
            "LOCALHOST",
            "[::1]:9184",
        ] {
            assert!(auth.host_allowed(Some(host)), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:9184",
            "127.0.0.1.evil.example",
            "localhost.evil.example:9184",
            "10.0.0.1:9184",
        ] {
            assert!(!auth.host_allowed(Some(host)), "{host}");
        }
    }

    #[test]
    fn failures_are_remembered_for_a_bounded_number_of_clients() {
        let auth = AdminAuth::new(tokio::sync::watch::channel(AdminTokens::default()).1);
        let now = Instant::now();
        for index in 0..(CLIENTS_REMEMBERED as u32 + 100) {
            auth.failed(IpAddr::from(index.to_be_bytes()), now);
        }
        assert!(lock(&auth.failures).len() <= CLIENTS_REMEMBERED);
    }
}
