//! `[[templates]]`: each compiled, then rendered against a sample event of every type it
//! matches, so that a template that cannot render is found by `check`, not by an alert.

use std::collections::BTreeSet;
use std::sync::Arc;

use notifier::{TemplateError, TemplateSource, Templates};

use super::raw::RawTemplate;
use super::{problem, Problem};

/// The problem of `error`, at the key of the field it is in (`templates[0].text`).
fn template_problem(problems: &mut Vec<Problem>, index: usize, error: &TemplateError) {
    let key = match error.field {
        Some(field) => format!("templates[{index}].{}", field.as_str()),
        None if error.message.starts_with("events:") => format!("templates[{index}].events"),
        None => format!("templates[{index}]"),
    };
    problem(problems, key, error.to_string());
}

/// The templates that compile and render; a problem for each one that does not.
pub(super) fn templates(
    raw: &[(usize, RawTemplate)],
    problems: &mut Vec<Problem>,
) -> Arc<Templates> {
    let mut names = BTreeSet::new();
    let mut good = Vec::new();
    for (index, raw) in raw {
        let name = raw.name.trim();
        if name.is_empty() {
            problem(problems, format!("templates[{index}].name"), "is empty");
            continue;
        }
        if !names.insert(name.to_owned()) {
            problem(
                problems,
                format!("templates[{index}].name"),
                format!("{name:?} is used by another template; template names must be unique"),
            );
            continue;
        }
        let source = TemplateSource {
            name: name.to_owned(),
            events: raw.events.clone().unwrap_or_default(),
            title: raw.title.clone(),
            text: raw.text.clone(),
        };
        let errors = match Templates::compile(std::slice::from_ref(&source)) {
            Ok(alone) => alone.check(),
            Err(errors) => errors,
        };
        if errors.is_empty() {
            good.push(source);
        }
        for error in &errors {
            template_problem(problems, *index, error);
        }
    }
    // Each of these compiled alone; together they compile too.
    Arc::new(Templates::compile(&good).unwrap_or_default())
}
