//! The HTTP pieces pswatch's two clients share: the PlanetScale API client (`poller`) and the
//! client that posts to receivers (`notifier`). One user agent, one way to build a client with
//! timeouts, one way to put an error and its causes on a line, one reading of `Retry-After`.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// What pswatch calls itself in `User-Agent`.
pub const USER_AGENT: &str = concat!("pswatch/", env!("CARGO_PKG_VERSION"));

/// The longest a connection may take to open, whatever the request's own timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP client whose requests take at most `timeout`, connection to last byte, and whose
/// connections take at most `timeout` or 10 s, whichever is shorter.
///
/// It follows no redirect and sends no `Referer`: a receiver's URL may carry its token (a
/// Discord or Google Chat webhook), and a 3xx must not carry the alert, or that URL, to another
/// host. A 3xx is an answer like any other, which the caller judges (a permanent failure).
pub fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .timeout(timeout)
        .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
        .user_agent(USER_AGENT)
        .build()
}

/// An error and its causes on one line: reqwest's own message alone says little ("error
/// sending request"). A cause already part of its error's message is not repeated.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// `base` doubled `doublings` times, at most `max`: the one backoff formula of pswatch (the API
/// client's retries, a failing target's polls, a failing listing of databases).
pub fn backoff(base: Duration, doublings: u32, max: Duration) -> Duration {
    base.saturating_mul(2u32.saturating_pow(doublings.min(31)))
        .min(max)
}

/// The longest wait a `Retry-After` can ask for: a longer one, in seconds or as a date, is read
/// as this. No server means more (the API's rate window is a minute), and one answer must not
/// stop pswatch for years.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Reads a `Retry-After` value: whole seconds (`7`), seconds with a fraction (`0.5`), or an
/// HTTP date (a date in the past is no wait), at most [`MAX_RETRY_AFTER`]. A negative, odd or
/// unreadable value is none.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let wait = if value.bytes().all(|byte| byte.is_ascii_digit()) && !value.is_empty() {
        // Whole seconds, however many digits: past u64 is still "very long".
        value
            .parse::<u64>()
            .map_or(MAX_RETRY_AFTER, Duration::from_secs)
    } else if let Ok(seconds) = value.parse::<f64>() {
        if !seconds.is_finite() || seconds < 0.0 {
            return None;
        }
        Duration::try_from_secs_f64(seconds).unwrap_or(MAX_RETRY_AFTER)
    } else {
        let date = httpdate::parse_http_date(value).ok()?;
        date.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// The `Retry-After` of a response's headers, if it has a readable one.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_retry_after)
}

/// Every byte a path segment escapes: all but the unreserved ones, so a name stays one segment
/// and means nothing to a URL parser.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `base` with `segments` appended to its path, each escaped so that it stays one segment (a
/// URL parser drops tabs and line breaks, and takes `/` as a separator). A segment that cannot
/// be one (empty, `.` or `..`, which any parser takes as a step, escaped or not) is the error,
/// so a request never asks for something else.
pub fn with_segments<'a>(
    base: &reqwest::Url,
    segments: &[&'a str],
) -> Result<reqwest::Url, &'a str> {
    let mut url = base.clone();
    let mut path = url.path().trim_end_matches('/').to_owned();
    for segment in segments {
        if matches!(*segment, "" | "." | "..") {
            return Err(segment);
        }
        path.push('/');
        path.extend(percent_encoding::utf8_percent_encode(segment, PATH_SEGMENT));
    }
    url.set_path(&path);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_fractions_and_dates() {
        let cases = [
            ("7", Some(Duration::from_secs(7))),
            (" 0.5 ", Some(Duration::from_millis(500))),
            ("Wed, 21 Oct 2015 07:28:00 GMT", Some(Duration::ZERO)),
            ("-1", None),
            ("NaN", None),
            ("inf", None),
            ("soon", None),
            // Enormous waits are capped, never trusted nor overflowed.
            ("1e9", Some(MAX_RETRY_AFTER)),
            ("999999999", Some(MAX_RETRY_AFTER)),
            ("18446744073709551615", Some(MAX_RETRY_AFTER)),
            ("99999999999999999999999999", Some(MAX_RETRY_AFTER)),
            ("3600", Some(MAX_RETRY_AFTER)),
            ("Fri, 31 Dec 9999 23:59:59 GMT", Some(MAX_RETRY_AFTER)),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_retry_after(value), expected, "{value:?}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_its_bound_and_never_overflows() {
        let second = Duration::from_secs(1);
        let max = Duration::from_secs(600);
        let delays: Vec<u64> = [0, 1, 2, 9, 10, 40, u32::MAX]
            .into_iter()
            .map(|doublings| backoff(second, doublings, max).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 512, 600, 600, 600]);
        assert_eq!(backoff(Duration::MAX, 3, Duration::MAX), Duration::MAX);
    }

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|layer| layer as _)
        }
    }

    #[test]
    fn error_chains_name_each_cause_once() {
        let error = Layer(
            "error sending request",
            Some(Box::new(Layer(
                "connection refused",
                Some(Box::new(Layer("refused", None))),
            ))),
        );
        assert_eq!(
            error_chain(&error),
            "error sending request: connection refused"
        );
    }
}
