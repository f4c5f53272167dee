//! `${NAME}` in any string of the file is replaced by the environment variable NAME: one walk
//! over the whole TOML table, which knows each value's key.

use super::{problem, Environment, Problem};

/// The values put in for variables, to keep them out of messages: a variable may hold a secret,
/// and a message about a value of the wrong type would otherwise quote it.
#[derive(Debug, Default)]
pub(super) struct Substitutions {
    values: Vec<(String, String)>,
}

impl Substitutions {
    /// `text` with every substituted value replaced by the `${NAME}` it came from.
    pub(super) fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (name, value) in &self.values {
            // Very short values (a port, "1") say nothing secret and would match everywhere.
            if value.len() >= 4 {
                text = text.replace(value.as_str(), &format!("${{{name}}}"));
            }
        }
        text
    }
}

/// Replaces `${NAME}` in every string of `table` (at any depth, in lists too), naming each
/// problem by the value's key, such as `channels[0].webhook_url`.
pub(super) fn interpolate_table(
    table: &mut toml::Table,
    prefix: &str,
    environment: Environment<'_>,
    problems: &mut Vec<Problem>,
    substitutions: &mut Substitutions,
) {
    for (key, value) in table.iter_mut() {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        interpolate_value(value, &path, environment, problems, substitutions);
    }
}

fn interpolate_value(
    value: &mut toml::Value,
    path: &str,
    environment: Environment<'_>,
    problems: &mut Vec<Problem>,
    substitutions: &mut Substitutions,
) {
    match value {
        toml::Value::String(text) => {
            substitute(path, text, environment, problems, substitutions);
        }
        toml::Value::Array(values) => {
            for (index, value) in values.iter_mut().enumerate() {
                interpolate_value(
                    value,
                    &format!("{path}[{index}]"),
                    environment,
                    problems,
                    substitutions,
                );
            }
        }
        toml::Value::Table(table) => {
            interpolate_table(table, path, environment, problems, substitutions)
        }
        toml::Value::Integer(_)
        | toml::Value::Float(_)
        | toml::Value::Boolean(_)
        | toml::Value::Datetime(_) => {}
    }
}

fn substitute(
    key: &str,
    value: &mut String,
    environment: Environment<'_>,
    problems: &mut Vec<Problem>,
    substitutions: &mut Substitutions,
) {
    let recorded = std::cell::RefCell::new(Vec::new());
    let recording = |name: &str| {
        let value = environment(name);
        if let Some(value) = &value {
            recorded.borrow_mut().push((name.to_owned(), value.clone()));
        }
        value
    };
    interpolate(key, value, &recording, problems);
    substitutions.values.extend(recorded.into_inner());
}

/// Replaces each `${NAME}` in `value` with the environment variable NAME; `$${` is a literal
/// `${`. An unset variable is a problem naming it and the key.
pub(super) fn interpolate(
    key: &str,
    value: &mut String,
    environment: Environment<'_>,
    problems: &mut Vec<Problem>,
) {
    if !value.contains('$') {
        return;
    }
    let mut result = String::with_capacity(value.len());
    let mut rest = value.as_str();
    while let Some(start) = rest.find('$') {
        result.push_str(&rest[..start]);
        let after = &rest[start..];
        if let Some(escaped) = after.strip_prefix("$${") {
            result.push_str("${");
            rest = escaped;
        } else if let Some(open) = after.strip_prefix("${") {
            let Some(end) = open.find('}') else {
                problem(problems, key, "has \"${\" without a closing \"}\"");
                return;
            };
            let name = &open[..end];
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                problem(
                    problems,
                    key,
                    format!("${{{name}}} is not a valid environment variable name"),
                );
                return;
            }
            match environment(name) {
                Some(replacement) => result.push_str(&replacement),
                None => {
                    problem(
                        problems,
                        key,
                        format!("environment variable {name} is not set"),
                    );
                    return;
                }
            }
            rest = &open[end + 1..];
        } else {
            result.push('$');
            rest = &after[1..];
        }
    }
    result.push_str(rest);
    *value = result;
}
