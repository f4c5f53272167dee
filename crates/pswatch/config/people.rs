//! `[[people]]`: who a PlanetScale actor is in Slack, Teams, Discord and email, so that a
//! message about what they started names them there.

use std::collections::BTreeSet;

use notifier::{Mailbox, People, Person};
use serde::Deserialize;

use super::{problem, Problem};

/// A `[[people]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPerson {
    planetscale: String,
    name: Option<String>,
    slack: Option<String>,
    teams: Option<String>,
    discord: Option<String>,
    email: Option<String>,
}

/// The people of `raw`, with a problem for each wrong key.
pub(super) fn people(raw: &[(usize, RawPerson)], problems: &mut Vec<Problem>) -> People {
    let mut seen = BTreeSet::new();
    let mut people = Vec::new();
    for (index, raw) in raw {
        let key = format!("people[{index}]");
        let before = problems.len();
        let planetscale = raw.planetscale.trim().to_owned();
        if planetscale.is_empty() {
            problem(
                problems,
                format!("{key}.planetscale"),
                "is empty; give the actor's id or display name as PlanetScale's API gives it",
            );
        } else if !seen.insert(planetscale.clone()) {
            problem(
                problems,
                format!("{key}.planetscale"),
                format!("{planetscale:?} is listed twice; each actor is one person"),
            );
        }
        let field = |name: &str,
                     value: &Option<String>,
                     valid: fn(&str) -> bool,
                     hint: &str,
                     problems: &mut Vec<Problem>| {
            let value = value.as_deref()?.trim();
            if valid(value) {
                Some(value.to_owned())
            } else {
                problem(
                    problems,
                    format!("{key}.{name}"),
                    format!("{value:?} is not {hint}"),
                );
                None
            }
        };
        let name = field(
            "name",
            &raw.name,
            |name| {
                !name.is_empty()
                    && name.chars().count() <= 100
                    && !name.chars().any(char::is_control)
            },
            "a name (1 to 100 characters, no control characters)",
            problems,
        );
        let slack = field(
            "slack",
            &raw.slack,
            slack_user,
            "a Slack user id (U or W and capital letters and digits, e.g. \"U024BE7LH\"; the profile's \"Copy member ID\")",
            problems,
        );
        let teams = field(
            "teams",
            &raw.teams,
            user_principal_name,
            "a Teams user principal name (e.g. \"ada@example.com\")",
            problems,
        );
        let discord = field(
            "discord",
            &raw.discord,
            discord_user,
            "a Discord user id (15 to 21 digits; Developer Mode's \"Copy User ID\")",
            problems,
        );
        let email = field(
            "email",
            &raw.email,
            |text| text.parse::<Mailbox>().is_ok(),
            "an email address",
            problems,
        )
        .and_then(|text| text.parse::<Mailbox>().ok());
        if raw.slack.is_none()
            && raw.teams.is_none()
            && raw.discord.is_none()
            && raw.email.is_none()
        {
            problem(
                problems,
                key.clone(),
                "names the person nowhere: give slack, teams, discord or email",
            );
        }
        if problems.len() > before {
            continue;
        }
        people.push(Person {
            planetscale,
            name,
            slack,
            teams,
            discord,
            email,
        });
    }
    People::new(people)
}

fn slack_user(text: &str) -> bool {
    let mut characters = text.chars();
    matches!(characters.next(), Some('U' | 'W'))
        && (3..=24).contains(&text.len())
        && characters.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn discord_user(text: &str) -> bool {
    (15..=21).contains(&text.len()) && text.chars().all(|c| c.is_ascii_digit())
}

fn user_principal_name(text: &str) -> bool {
    let Some((user, domain)) = text.split_once('@') else {
        return false;
    };
    !user.is_empty()
        && domain.contains('.')
        && text.len() <= 256
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
        && !domain.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_by_their_vendor_s_form() {
        assert!(slack_user("U024BE7LH") && slack_user("W012A3CDE"));
        assert!(!slack_user("u024be7lh") && !slack_user("<!channel>") && !slack_user("U"));
        assert!(discord_user("80351110224678912"));
        assert!(!discord_user("8035") && !discord_user("80351110224678912x"));
        assert!(user_principal_name("ada@example.com"));
        assert!(!user_principal_name("ada") && !user_principal_name("a b@example.com"));
        assert!(!user_principal_name("<at>x</at>@example.com"));
    }
}
