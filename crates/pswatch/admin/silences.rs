//! Silences as the admin API and the CLI speak of them: the request that adds one, adding,
//! listing and expiring them on the store (the API's handlers and the CLI, when no service
//! answers, do the same), and what a silence looks like in JSON and on a line.

use notifier::render::rfc3339;
use notifier::{Matcher, Silence};

use crate::admin::views::{SilenceStatus, SilenceView};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Why a silence could not be added or expired.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SilenceActionError {
    /// The request cannot make a silence; says what is wrong.
    #[error("{0}")]
    Invalid(String),
    /// The configuration's silences change in the file only.
    #[error("{0} is a recurring silence of the configuration: remove it there and reload")]
    Configured(String),
    /// No silence has that id.
    #[error("no silence {0}")]
    Unknown(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// Makes the silence `request` asks for and keeps it in `store`.
pub(crate) async fn add(
    store: &store::Store,
    request: SilenceRequest,
    now: OffsetDateTime,
) -> Result<Silence, SilenceActionError> {
    let silence = request
        .into_silence(now)
        .map_err(SilenceActionError::Invalid)?;
    store.put_silence(&silence, now).await?;
    Ok(silence)
}

/// Ends the added silence `id` now; one of `configured` is refused.
pub(crate) async fn expire(
    configured: &[Silence],
    store: &store::Store,
    id: &str,
    now: OffsetDateTime,
) -> Result<Silence, SilenceActionError> {
    if configured.iter().any(|silence| silence.id == id) {
        return Err(SilenceActionError::Configured(id.to_owned()));
    }
    // It ends on the second just begun, like the times a silence is made with.
    let now = now.replace_nanosecond(0).unwrap_or(now);
    store
        .expire_silence(id, now)
        .await?
        .ok_or_else(|| SilenceActionError::Unknown(id.to_owned()))
}

/// `silences` as the API and `silence list` show them: those in force or to come first, then
/// those that ended.
pub(crate) fn views(silences: &[Silence], now: OffsetDateTime) -> Vec<SilenceView> {
    let mut views: Vec<SilenceView> = silences
        .iter()
        .map(|silence| SilenceView::new(silence, now))
        .collect();
    views.sort_by_key(|view| view.status == SilenceStatus::Expired);
    views
}

/// `POST /api/silences`: which events, until when (`ends_at` or `for`), and why.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SilenceRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) organization: Option<String>,
    /// `organization/database` glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) database: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) events: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) states: Vec<String>,
    /// RFC 3339; now when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) starts_at: Option<String>,
    /// RFC 3339; give this or `for`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ends_at: Option<String>,
    /// How long from its start, e.g. `2h` or `30m`; give this or `ends_at`.
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub(crate) duration: Option<String>,
    pub(crate) comment: String,
}

impl SilenceRequest {
    /// The silence asked for, with a new id, or what is wrong with the request.
    pub(crate) fn into_silence(self, now: OffsetDateTime) -> Result<Silence, String> {
        // Whole seconds: what people read and type.
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let time = |field: &str, text: &str| {
            OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|error| {
                format!("{field}: {text:?} is not an RFC 3339 time such as 2026-11-24T18:00:00Z ({error})")
            })
        };
        let starts_at = match &self.starts_at {
            Some(text) => time("starts_at", text)?,
            None => now,
        };
        let ends_at = match (&self.ends_at, &self.duration) {
            (Some(text), None) => time("ends_at", text)?,
            (None, Some(text)) => {
                let duration =
                    crate::config::duration(text).map_err(|error| format!("for: {error}"))?;
                if duration.is_zero() {
                    return Err("for: give a duration longer than 0s".into());
                }
                time::Duration::try_from(duration)
                    .ok()
                    .and_then(|duration| starts_at.checked_add(duration))
                    .ok_or_else(|| format!("for: {:?} is too long", text.trim()))?
            }
            (Some(_), Some(_)) => return Err("give ends_at or for, not both".into()),
            (None, None) => {
                return Err("give ends_at (an RFC 3339 time) or for (a duration such as 2h)".into())
            }
        };
        if ends_at <= now {
            let field = if self.duration.is_some() {
                "for"
            } else {
                "ends_at"
            };
            return Err(format!(
                "{field}: the silence would end at {}, which is past",
                rfc3339(ends_at)
            ));
        }
        if ends_at - starts_at.max(now) > MAX_SILENCE {
            return Err(format!(
                "a silence lasts at most {} days; end it sooner and add another when it ends",
                MAX_SILENCE.whole_days()
            ));
        }
        if starts_at - now > MAX_SILENCE_AHEAD {
            return Err(format!(
                "starts_at: a silence starts at most {} days ahead",
                MAX_SILENCE_AHEAD.whole_days()
            ));
        }
        let matcher = Matcher {
            organization: self.organization.filter(|text| !text.trim().is_empty()),
            database: self.database.filter(|text| !text.trim().is_empty()),
            events: self.events,
            states: self.states,
        };
        Silence::between(new_id()?, matcher, starts_at, ends_at, self.comment, now)
            .map_err(|error| error.to_string())
    }
}

/// The longest a silence added through the CLI or the admin API holds: one that forgets to end
/// would hide every alert it matches for good.
pub(crate) const MAX_SILENCE: time::Duration = time::Duration::days(90);
/// How far ahead a silence may start.
const MAX_SILENCE_AHEAD: time::Duration = time::Duration::days(365);

/// `sil_` and 12 random hexadecimal digits.
fn new_id() -> Result<String, String> {
    let mut bytes = [0u8; 6];
    getrandom::getrandom(&mut bytes)
        .map_err(|error| format!("the operating system gave no random bytes: {error}"))?;
    Ok(format!("sil_{}", hex::encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use notifier::Window;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-24 10:00:00.5 UTC);

    fn request(ends_at: Option<&str>, duration: Option<&str>) -> SilenceRequest {
        SilenceRequest {
            database: Some("acme/commerce".into()),
            ends_at: ends_at.map(Into::into),
            duration: duration.map(Into::into),
            comment: "planned cutover".into(),
            ..SilenceRequest::default()
        }
    }

    fn window(request: SilenceRequest) -> Result<(OffsetDateTime, OffsetDateTime), String> {
        match request.into_silence(NOW)?.window {
            Window::Between { starts_at, ends_at } => Ok((starts_at, ends_at)),
            other => panic!("not a window between two times: {other:?}"),
        }
    }

    #[test]
    fn for_runs_from_the_start_in_whole_seconds() {
        assert_eq!(
            window(request(None, Some("2h"))),
            Ok((
                datetime!(2026-11-24 10:00:00 UTC),
                datetime!(2026-11-24 12:00:00 UTC)
            ))
        );
        let later = SilenceRequest {
            starts_at: Some("2026-11-25T08:00:00Z".into()),
            ..request(None, Some("30m"))
        };
        assert_eq!(
            window(later).map(|(_, ends_at)| ends_at),
            Ok(datetime!(2026-11-25 08:30:00 UTC))
        );
    }

    #[test]
    fn a_silence_is_bounded_in_length_and_how_far_ahead_it_starts() {
        let refused = window(request(None, Some("1000y"))).expect_err("refused");
        assert!(refused.contains("at most 90 days"), "{refused}");
        assert!(window(request(None, Some("90d"))).is_ok());
        let mut ahead = request(Some("2030-01-02T00:00:00Z"), None);
        ahead.starts_at = Some("2030-01-01T00:00:00Z".into());
        let refused = window(ahead).expect_err("refused");
        assert!(refused.starts_with("starts_at: "), "{refused}");
    }

    #[test]
    fn ends_at_is_taken_as_given() {
        assert_eq!(
            window(request(Some("2026-11-24T18:00:00Z"), None)).map(|(_, ends_at)| ends_at),
            Ok(datetime!(2026-11-24 18:00:00 UTC))
        );
    }

    #[test]
    fn an_end_that_cannot_be_is_refused_with_the_reason() {
        let refused = |ends_at, duration| window(request(ends_at, duration)).expect_err("refused");
        assert_eq!(
            refused(None, None),
            "give ends_at (an RFC 3339 time) or for (a duration such as 2h)"
        );
        assert_eq!(
            refused(Some("2026-11-24T18:00:00Z"), Some("1h")),
            "give ends_at or for, not both"
        );
        assert_eq!(
            refused(None, Some("0s")),
            "for: give a duration longer than 0s"
        );
        assert!(refused(None, Some("soon")).starts_with("for: \"soon\" is not a duration"));
        assert_eq!(
            refused(None, Some("100000000000h")),
            "for: \"100000000000h\" is too long"
        );
        assert_eq!(
            refused(Some("2020-01-01T00:00:00Z"), None),
            "ends_at: the silence would end at 2020-01-01T00:00:00Z, which is past"
        );
        let started_long_ago = SilenceRequest {
            starts_at: Some("2020-01-01T00:00:00Z".into()),
            ..request(None, Some("1h"))
        };
        assert_eq!(
            window(started_long_ago).expect_err("refused"),
            "for: the silence would end at 2020-01-01T01:00:00Z, which is past"
        );
        assert!(refused(Some("tomorrow"), None).starts_with("ends_at: \"tomorrow\" is not"));
    }

    #[tokio::test]
    async fn added_silences_are_listed_and_expired_and_configured_ones_are_refused() {
        let directory = tempfile::tempdir().expect("tempdir");
        let store = store::Store::open(directory.path()).expect("store");
        let added = add(&store, request(None, Some("1h")), NOW)
            .await
            .expect("added");
        let refused = add(&store, request(None, None), NOW).await;
        assert!(matches!(refused, Err(SilenceActionError::Invalid(_))));
        let configured = [Silence {
            id: "silences[0]".into(),
            ..added.clone()
        }];

        let later = NOW + time::Duration::minutes(5);
        let expired = expire(&configured, &store, &added.id, later)
            .await
            .expect("expired");
        assert_eq!(SilenceStatus::of(&expired, later), SilenceStatus::Expired);
        assert_eq!(
            expired.window.to_string(),
            "2026-11-24T10:00:00Z..2026-11-24T10:05:00Z"
        );
        assert_eq!(
            expire(&configured, &store, "silences[0]", later)
                .await
                .expect_err("a configured one")
                .to_string(),
            "silences[0] is a recurring silence of the configuration: remove it there and reload"
        );
        assert_eq!(
            expire(&[], &store, "sil_nothing", later)
                .await
                .expect_err("unknown")
                .to_string(),
            "no silence sil_nothing"
        );

        // What is in force comes first.
        let newer = add(&store, request(None, Some("2h")), later)
            .await
            .expect("added");
        let listed = views(&store.all_silences(&[]).await.expect("all"), later);
        let ids: Vec<&str> = listed.iter().map(|view| view.id.as_str()).collect();
        assert_eq!(ids, [newer.id.as_str(), added.id.as_str()]);
    }
}
