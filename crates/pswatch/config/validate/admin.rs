//! `[admin]`: where the admin server listens, its token and read tokens, and the address people
//! reach it at.

use notifier::Secret;

use super::super::raw::RawConfig;
use super::super::{http_url, problem, Problem, DEFAULT_ADMIN_LISTEN};

/// The fewest characters an admin token may have.
const MIN_ADMIN_TOKEN: usize = 32;

/// Admin tokens written in what pswatch ships (manifests, examples): never a real one.
const PLACEHOLDER_TOKENS: &[&str] = &[
    "replace-me-with-openssl-rand-hex-32",
    "0000000000000000000000000000000000000000000000000000000000000000",
];

/// `[admin]`, checked.
pub(super) struct Admin {
    /// Where it listens; `None` when it is off.
    pub(super) listen: Option<std::net::SocketAddr>,
    pub(super) token: Option<Secret>,
    pub(super) read_tokens: Vec<Secret>,
    /// `public_url`, without a trailing slash.
    pub(super) public_url: Option<std::sync::Arc<str>>,
}

/// The `[admin]` of `raw`, with a problem for each wrong key.
pub(super) fn admin(raw: &RawConfig, problems: &mut Vec<Problem>) -> Admin {
    let admin_listen = if raw.admin.enabled == Some(false) {
        None
    } else {
        Some(raw.admin.listen.unwrap_or_else(|| {
            DEFAULT_ADMIN_LISTEN
                .parse()
                .unwrap_or_else(|_| unreachable!("{DEFAULT_ADMIN_LISTEN} is an address"))
        }))
    };
    let admin_token = match raw.admin.token.as_deref().map(str::trim) {
        None => None,
        Some(token) if token.chars().count() < MIN_ADMIN_TOKEN => {
            // Never quoted: it is the secret.
            problem(
                problems,
                "admin.token",
                format!("is shorter than {MIN_ADMIN_TOKEN} characters; use a long random one (e.g. `openssl rand -hex 32`)"),
            );
            None
        }
        Some(token) if PLACEHOLDER_TOKENS.contains(&token) || token.contains("replace-me") => {
            problem(
                problems,
                "admin.token",
                "is the placeholder of the shipped Secret, which anyone can read; make a random one (e.g. `openssl rand -hex 32`)",
            );
            None
        }
        Some(token) => Some(Secret::new(token)),
    };
    let admin_read_tokens = read_tokens(raw, admin_token.as_ref(), problems);
    let admin_public_url = admin_public_url(raw, admin_listen.is_some(), problems);
    if let Some(listen) = admin_listen {
        if !listen.ip().is_loopback() && admin_token.is_none() && raw.admin.token.is_none() {
            problem(
                problems,
                "admin.listen",
                format!(
                    "{listen} is reachable from other hosts: set admin.token too (everything but /healthz and /readyz then needs it), or listen on 127.0.0.1"
                ),
            );
        }
    }
    Admin {
        listen: admin_listen,
        token: admin_token,
        read_tokens: admin_read_tokens,
        public_url: admin_public_url,
    }
}

/// `[admin] public_url`: where people reach the status page, for the silence links of messages.
/// It must be a plain http(s) address (no query or fragment, nothing a message's markup would
/// read), and the status page must be behind the admin token.
fn admin_public_url(
    raw: &RawConfig,
    admin_on: bool,
    problems: &mut Vec<Problem>,
) -> Option<std::sync::Arc<str>> {
    const KEY: &str = "admin.public_url";
    let text = raw.admin.public_url.as_deref()?;
    let url = http_url(KEY, text, true, problems)?;
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
        || url
            .as_str()
            .contains(['<', '>', '(', ')', '[', ']', '|', '"', '\'', '`', ' '])
    {
        problem(
            problems,
            KEY,
            "must be the status page's address alone (no user or password, query, fragment, brackets or quotes): every message's reader sees it",
        );
        return None;
    }
    if raw.admin.token.is_none() {
        problem(
            problems,
            KEY,
            "needs admin.token: its links lead to the status page's silence form, which must be behind the admin login",
        );
        return None;
    }
    if !admin_on {
        problem(
            problems,
            KEY,
            "is set, but the admin server is off (admin.enabled = false)",
        );
        return None;
    }
    Some(url.as_str().trim_end_matches('/').into())
}

/// `[admin] read_tokens`: each a secret as long as `token`, none the admin token, and only
/// beside a token (without one the server is open to this machine, and a read token means
/// nothing).
fn read_tokens(
    raw: &RawConfig,
    admin_token: Option<&Secret>,
    problems: &mut Vec<Problem>,
) -> Vec<Secret> {
    let Some(given) = &raw.admin.read_tokens else {
        return Vec::new();
    };
    if raw.admin.token.is_none() && !given.is_empty() {
        problem(
            problems,
            "admin.read_tokens",
            "needs admin.token: without it the admin server is open to this machine and a read token limits nothing",
        );
        return Vec::new();
    }
    let mut tokens = Vec::new();
    for (index, token) in given.iter().map(|token| token.trim()).enumerate() {
        let key = format!("admin.read_tokens[{index}]");
        // Never quoted: each is a secret.
        if token.chars().count() < MIN_ADMIN_TOKEN {
            problem(
                problems,
                &key,
                format!("is shorter than {MIN_ADMIN_TOKEN} characters; use a long random one (e.g. `openssl rand -hex 32`)"),
            );
        } else if PLACEHOLDER_TOKENS.contains(&token) || token.contains("replace-me") {
            problem(
                problems,
                &key,
                "is a placeholder anyone can read; make a random one (e.g. `openssl rand -hex 32`)",
            );
        } else if admin_token.is_some_and(|admin| admin.expose() == token) {
            problem(
                problems,
                &key,
                "is the admin token: a read token must differ from it, or it could do everything",
            );
        } else if tokens.iter().any(|known: &Secret| known.expose() == token) {
            problem(problems, &key, "repeats another read token");
        } else {
            tokens.push(Secret::new(token));
        }
    }
    tokens
}
