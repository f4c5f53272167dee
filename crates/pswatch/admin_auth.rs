//! The admin server's token. With `[admin] token` set, everything but `/healthz` and `/readyz`
//! needs `Authorization: Bearer <token>` or the session cookie a browser gets from the login
//! form (`HttpOnly`, `SameSite=Strict`, so another site cannot make the browser act). Without a
//! token (only allowed on a loopback address) everything is open, as before.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use notifier::Secret;
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::shared::Shared;

/// How long a browser session lasts.
const SESSION: Duration = Duration::from_secs(12 * 3600);
/// The session cookie's name.
const COOKIE: &str = "pswatch_session";
/// Login attempts allowed a minute, all clients together.
const LOGINS_PER_MINUTE: usize = 10;

/// The token, the browser sessions and the login attempts.
#[derive(Debug, Default)]
pub(crate) struct AdminAuth {
    token: Mutex<Option<Secret>>,
    sessions: Mutex<HashMap<String, Instant>>,
    attempts: Mutex<Vec<Instant>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Equal, compared in constant time (of their digests, so the length leaks nothing either).
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

impl AdminAuth {
    /// Sets the token (from the configuration, at start and on reload); a new token ends every
    /// session.
    pub(crate) fn set_token(&self, token: Option<Secret>) {
        let mut current = lock(&self.token);
        if *current != token {
            lock(&self.sessions).clear();
        }
        *current = token;
    }

    fn token(&self) -> Option<Secret> {
        lock(&self.token).clone()
    }

    /// Whether `headers` carry the token or a live session; always when there is no token.
    fn admits(&self, headers: &HeaderMap, now: Instant) -> bool {
        let Some(token) = self.token() else {
            return true;
        };
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        if bearer.is_some_and(|given| same(given.trim(), token.expose())) {
            return true;
        }
        let Some(session) = session_of(headers) else {
            return false;
        };
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, expires| *expires > now);
        sessions.keys().any(|known| same(known, &session))
    }

    /// A login attempt with `given`: a new session id when it is the token.
    fn login(&self, given: &str, now: Instant) -> Result<String, StatusCode> {
        {
            let mut attempts = lock(&self.attempts);
            attempts.retain(|at| now.saturating_duration_since(*at) < Duration::from_secs(60));
            if attempts.len() >= LOGINS_PER_MINUTE {
                return Err(StatusCode::TOO_MANY_REQUESTS);
            }
            attempts.push(now);
        }
        let token = self.token().ok_or(StatusCode::NOT_FOUND)?;
        if !same(given, token.expose()) {
            return Err(StatusCode::UNAUTHORIZED);
        }
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
        let session: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
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
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .find_map(|cookie| {
            cookie
                .trim()
                .strip_prefix(&format!("{COOKIE}="))
                .map(str::to_owned)
        })
}

/// The login form; `problem` says why the last attempt failed.
fn login_page(problem: Option<&str>) -> Html<String> {
    let problem = problem.map_or(String::new(), |problem| {
        format!("<p role=\"alert\"><strong>{problem}</strong></p>")
    });
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>pswatch: sign in</title></head>\
         <body><main><h1>pswatch</h1>{problem}<form method=\"post\" action=\"/login\">\
         <label for=\"token\">Admin token</label> <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required> \
         <button type=\"submit\">Sign in</button></form></main></body></html>"
    ))
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

/// The guard in front of every route but `/healthz`, `/readyz` and `/login`.
pub(crate) async fn guard(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == axum::http::Method::POST && cross_site(request.headers()) {
        // A page of another site making the browser act here (with or without a token).
        return (
            StatusCode::FORBIDDEN,
            "refused: a request from another site\n",
        )
            .into_response();
    }
    if matches!(request.uri().path(), "/healthz" | "/readyz" | "/login") {
        return next.run(request).await;
    }
    if shared.admin_auth.admits(request.headers(), Instant::now()) {
        return next.run(request).await;
    }
    if wants_html(request.headers()) {
        return (StatusCode::UNAUTHORIZED, login_page(None)).into_response();
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
    login_page(None)
}

/// `POST /login` with `token=…` (a form): sets the session cookie and goes to the page.
pub(crate) async fn login(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let given = url::form_urlencoded::parse(&body)
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    match shared.admin_auth.login(given.trim(), Instant::now()) {
        Ok(session) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, "/".to_owned()),
                (
                    header::SET_COOKIE,
                    format!(
                        "{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
                        SESSION.as_secs()
                    ),
                ),
            ],
        )
            .into_response(),
        Err(StatusCode::TOO_MANY_REQUESTS) => (
            StatusCode::TOO_MANY_REQUESTS,
            login_page(Some("Too many attempts; wait a minute.")),
        )
            .into_response(),
        Err(StatusCode::NOT_FOUND) => (
            StatusCode::NOT_FOUND,
            "no admin token is set; nothing to sign in to\n",
        )
            .into_response(),
        Err(status) => {
            tracing::warn!("a sign-in to the admin server with a wrong token");
            (status, login_page(Some("That is not the admin token."))).into_response()
        }
    }
}

/// `POST /logout`: ends the session.
pub(crate) async fn logout(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    shared.admin_auth.logout(&headers);
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/login".to_owned()),
            (
                header::SET_COOKIE,
                format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
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
        let auth = AdminAuth::default();
        let now = Instant::now();
        assert!(auth.admits(&HeaderMap::new(), now), "no token: open");
        auth.set_token(Some(Secret::new("a-long-admin-token-0123")));
        assert!(!auth.admits(&HeaderMap::new(), now));
        let bearer = |value: &str| headers(&[(header::AUTHORIZATION, value)]);
        assert!(auth.admits(&bearer("Bearer a-long-admin-token-0123"), now));
        assert!(!auth.admits(&bearer("Bearer a-long-admin-token-012"), now));
        assert!(!auth.admits(&bearer("a-long-admin-token-0123"), now));
        assert_eq!(auth.login("wrong", now), Err(StatusCode::UNAUTHORIZED));
        let session = auth
            .login("a-long-admin-token-0123", now)
            .expect("signed in");
        let cookie = headers(&[(header::COOKIE, &format!("theme=dark; {COOKIE}={session}"))]);
        assert!(auth.admits(&cookie, now));
        assert!(!auth.admits(&cookie, now + SESSION), "sessions expire");
        // A new token ends the sessions; so does logging out.
        let session = auth
            .login("a-long-admin-token-0123", now)
            .expect("signed in");
        let cookie = headers(&[(header::COOKIE, &format!("{COOKIE}={session}"))]);
        auth.logout(&cookie);
        assert!(!auth.admits(&cookie, now));
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
        // Guessing is bounded.
        let refused = (0..20)
            .filter(|_| auth.login("guess", now) == Err(StatusCode::TOO_MANY_REQUESTS))
            .count();
        assert!(refused >= 10, "{refused}");
    }
}
