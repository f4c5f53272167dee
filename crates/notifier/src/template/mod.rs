//! Templates: the text of a team's own alerts, written in Jinja syntax and rendered with
//! minijinja in a sandbox (no file access, no includes or macros, no `namespace()`, strict
//! undefined variables, a fuel limit, output capped per field), each rendering on a thread of
//! its own with a large stack and a time limit, so that no template can stop pswatch.
//!
//! A template fills text only. Each kind keeps the structure its receiver needs and puts a
//! template's `title` where its headline goes and its `text` where the facts of the event go:
//! Slack's header and section, the Adaptive Card's heading and text, the email's subject and
//! body, PagerDuty's summary, the console's line, and the `title` and `text` fields of the
//! signed webhook's JSON. A template that fails gives way to the built-in text.

mod bounded;
mod context;
mod samples;

use std::fmt;
use std::sync::Arc;

use diff_engine::{Event, EVENT_TYPES};
use globset::GlobSet;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

pub use crate::words::{Flavor, Wording, Words};
pub use bounded::RENDER_TIME_LIMIT;
pub use samples::sample_event;

/// The most instructions one field's rendering may take: plenty for loops over an event's
/// facts, and an end to a template that would run for ever.
const FUEL: u64 = 50_000;
/// The custom escaping of the Slack flavor.
const SLACK: &str = "slack";
/// The most characters of a template's `title`; the rest is cut.
pub const TITLE_LIMIT: usize = 250;
/// The most characters of a template's `text`; the rest is cut.
pub const TEXT_LIMIT: usize = 3_000;

/// The two fields a template may fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    /// Where the headline goes.
    Title,
    /// Where the facts of the event go.
    Text,
}

impl Field {
    /// Its key in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Title => "title",
            Self::Text => "text",
        }
    }

    fn limit(self) -> usize {
        match self {
            Self::Title => TITLE_LIMIT,
            Self::Text => TEXT_LIMIT,
        }
    }
}

/// One `[[templates]]` entry as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSource {
    /// Its name; channels list it.
    pub name: String,
    /// The event type globs it applies to; empty for every type.
    pub events: Vec<String>,
    /// The title's source, if it sets one.
    pub title: Option<String>,
    /// The text's source, if it sets one.
    pub text: Option<String>,
}

/// What is wrong with a template, with where: its name, the field, the line and the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The template's name.
    pub template: String,
    /// The field, when the error is in one.
    pub field: Option<Field>,
    /// The line (from 1) and column (from 1) in the field's source, when known.
    pub position: Option<(usize, usize)>,
    /// The event type it was rendered for, when it failed rendering.
    pub event_type: Option<String>,
    /// Whether that event was a sample (`pswatch check`) rather than a real one.
    pub sample: bool,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "template {:?}", self.template)?;
        if let Some(field) = self.field {
            write!(formatter, ", {}", field.as_str())?;
        }
        if let Some((line, column)) = self.position {
            write!(formatter, ", line {line}, column {column}")?;
        }
        if let Some(event_type) = &self.event_type {
            let sample = if self.sample { "sample " } else { "" };
            write!(formatter, " (rendering a {sample}{event_type} event)")?;
        }
        write!(formatter, ": {}", self.message)
    }
}

impl std::error::Error for TemplateError {}

struct Compiled {
    name: String,
    events: Option<GlobSet>,
    fields: Vec<Field>,
}

impl Compiled {
    fn matches(&self, event_type: &str) -> bool {
        self.events
            .as_ref()
            .is_none_or(|events| events.is_match(event_type))
    }
}

/// Every configured template, compiled once; channels hold it through [`ChannelTemplates`].
pub struct Templates {
    environment: Arc<Environment<'static>>,
    compiled: Vec<Compiled>,
}

impl fmt::Debug for Templates {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_list()
            .entries(self.compiled.iter().map(|compiled| &compiled.name))
            .finish()
    }
}

/// The name a field of a template is known by in the environment, for a flavor.
fn key(name: &str, field: Field, flavor: Flavor) -> String {
    let flavor = match flavor {
        Flavor::Plain => "plain",
        Flavor::Slack => "slack",
    };
    format!("{name}\u{0}{}\u{0}{flavor}", field.as_str())
}

/// Line and column (both from 1) of byte `offset` in `source`.
fn position(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(1, |last| last.chars().count() + 1);
    (line, column)
}

/// Where in `source` minijinja says `error` is.
fn error_position(error: &minijinja::Error, source: &str) -> Option<(usize, usize)> {
    match (error.range(), error.line()) {
        (Some(range), _) => Some(position(source, range.start)),
        (None, Some(line)) => Some((line, 1)),
        (None, None) => None,
    }
}

fn message(error: &minijinja::Error) -> String {
    match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    }
}

/// Writes at most `limit` characters and drops the rest, noting that it did.
struct Capped {
    text: String,
    left: usize,
    cut: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            self.cut |= !bytes.is_empty();
            return Ok(bytes.len());
        }
        let text = String::from_utf8_lossy(bytes);
        let kept: String = text.chars().take(self.left).collect();
        self.left -= kept.chars().count();
        self.cut |= kept.len() < text.len();
        self.text.push_str(&kept);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What `namespace()` says in pswatch's templates: the one mutable value of minijinja can be
/// made to hold itself, and printing, comparing or serializing it then never ends.
fn no_namespace(
    _: minijinja::value::Rest<minijinja::Value>,
) -> Result<minijinja::Value, minijinja::Error> {
    Err(minijinja::Error::new(
        minijinja::ErrorKind::InvalidOperation,
        "namespace() is not available in pswatch's templates (a namespace can be made to hold itself); use loop.index, loop.first and filters such as |select, |map, |sum and |length instead",
    ))
}

/// The environment every template is compiled in: strict undefined variables, a fuel limit,
/// a recursion limit, no `namespace()`, and the Slack flavor's escaping. Built without
/// minijinja's loaders, includes and macros, it reads no file and no other template.
fn sandbox() -> Environment<'static> {
    let mut environment = Environment::new();
    environment.add_function("namespace", no_namespace);
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    environment.set_fuel(Some(FUEL));
    environment.set_recursion_limit(50);
    // A line that holds only a block tag leaves no blank line behind.
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
    {
        environment.set_syntax(syntax);
    }
    environment.set_auto_escape_callback(|name| {
        if name.ends_with("\u{0}slack") {
            AutoEscape::Custom(SLACK.into())
        } else {
            AutoEscape::None
        }
    });
    environment.set_formatter(|out, state, value| {
        let slack = matches!(state.auto_escape(), AutoEscape::Custom(flavor) if flavor == SLACK);
        if slack && !value.is_safe() {
            let text = value.to_string();
            out.write_str(&crate::text::slack_escape(&text))
                .map_err(|error| {
                    minijinja::Error::new(minijinja::ErrorKind::WriteFailure, error.to_string())
                })
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    environment
}

impl Default for Templates {
    /// No templates.
    fn default() -> Self {
        Self {
            environment: Arc::new(sandbox()),
            compiled: Vec::new(),
        }
    }
}

impl Templates {
    /// Compiles `sources`; every error is named with its template, field, line and column.
    pub fn compile(sources: &[TemplateSource]) -> Result<Self, Vec<TemplateError>> {
        let mut environment = sandbox();
        let mut errors = Vec::new();
        let mut compiled = Vec::new();
        for source in sources {
            let fail = |field: Option<Field>, position, message: String| TemplateError {
                template: source.name.clone(),
                field,
                position,
                event_type: None,
                sample: false,
                message,
            };
            let events = if source.events.is_empty() {
                None
            } else {
                for pattern in &source.events {
                    let Ok(glob) = globset::Glob::new(pattern) else {
                        continue;
                    };
                    let matcher = glob.compile_matcher();
                    if !EVENT_TYPES.iter().any(|known| matcher.is_match(known)) {
                        errors.push(fail(
                            None,
                            None,
                            format!(
                                "events: {pattern:?} matches no event type; the types are {}",
                                EVENT_TYPES.join(", ")
                            ),
                        ));
                    }
                }
                match model::glob_set(&source.events) {
                    Ok(set) => Some(set),
                    Err(error) => {
                        errors.push(fail(None, None, format!("events: {error}")));
                        continue;
                    }
                }
            };
            let mut fields = Vec::new();
            for (field, text) in [(Field::Title, &source.title), (Field::Text, &source.text)] {
                let Some(text) = text else {
                    continue;
                };
                fields.push(field);
                for flavor in [Flavor::Plain, Flavor::Slack] {
                    if let Err(error) = environment
                        .add_template_owned(key(&source.name, field, flavor), text.clone())
                    {
                        errors.push(fail(
                            Some(field),
                            error_position(&error, text),
                            message(&error),
                        ));
                        break;
                    }
                }
            }
            if fields.is_empty() {
                errors.push(fail(None, None, "set title, text or both".into()));
            }
            compiled.push(Compiled {
                name: source.name.clone(),
                events,
                fields,
            });
        }
        if errors.is_empty() {
            Ok(Self {
                environment: Arc::new(environment),
                compiled,
            })
        } else {
            Err(errors)
        }
    }

    /// The templates' names, in configuration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.compiled.iter().map(|compiled| compiled.name.as_str())
    }

    /// The event types template `name` applies to.
    pub fn event_types(&self, name: &str) -> Vec<&'static str> {
        self.get(name).map_or_else(Vec::new, |compiled| {
            EVENT_TYPES
                .iter()
                .copied()
                .filter(|event_type| compiled.matches(event_type))
                .collect()
        })
    }

    fn get(&self, name: &str) -> Option<&Compiled> {
        self.compiled.iter().find(|compiled| compiled.name == name)
    }

    /// Renders every template against a sample event of every type it applies to, in both
    /// flavors: what `pswatch check` reports.
    pub fn check(&self) -> Vec<TemplateError> {
        let mut errors = Vec::new();
        for compiled in &self.compiled {
            for event_type in self.event_types(&compiled.name) {
                let Some(event) = sample_event(event_type) else {
                    continue;
                };
                for flavor in [Flavor::Plain, Flavor::Slack] {
                    if let Err(error) = self.render(&compiled.name, &event, flavor) {
                        errors.push(TemplateError {
                            sample: true,
                            ..error
                        });
                        break;
                    }
                }
            }
        }
        errors
    }

    /// Template `name`'s text for `event`, in `flavor`; an error names the template, the field,
    /// where in its source, and the event type.
    pub fn render(
        &self,
        name: &str,
        event: &Event,
        flavor: Flavor,
    ) -> Result<Wording, TemplateError> {
        let compiled = self.get(name).ok_or_else(|| TemplateError {
            template: name.to_owned(),
            field: None,
            position: None,
            event_type: None,
            sample: false,
            message: "no such template".into(),
        })?;
        let context = minijinja::Value::from(minijinja::value::Serde(context::context(event)));
        let fail = |field: Option<Field>, position, message| TemplateError {
            template: name.to_owned(),
            field,
            position,
            event_type: Some(event.type_name().to_owned()),
            sample: false,
            message,
        };
        // Every field on one rendering thread, bounded in stack and time.
        let environment = Arc::clone(&self.environment);
        let fields = compiled.fields.clone();
        let template = name.to_owned();
        let rendered = bounded::run(move || {
            let mut out = Vec::new();
            for field in fields {
                // A title is plain text wherever it goes (Slack's header is `plain_text`).
                let flavor = match field {
                    Field::Title => Flavor::Plain,
                    Field::Text => flavor,
                };
                out.push((
                    field,
                    render_field(
                        &environment,
                        &key(&template, field, flavor),
                        &context,
                        field.limit(),
                    ),
                ));
            }
            // The values the rendering built are dropped here, on this thread's stack too.
            drop(context);
            out
        })
        .map_err(|message| fail(None, None, message))?;
        let mut wording = Wording {
            template: name.to_owned(),
            ..Wording::default()
        };
        for (field, out) in rendered {
            let out = out.map_err(|(position, message)| fail(Some(field), position, message))?;
            let mut text = match field {
                // A title is one line wherever it goes (a subject, a header).
                Field::Title => out.text.split_whitespace().collect::<Vec<_>>().join(" "),
                Field::Text => out.text.trim().to_owned(),
            };
            if out.cut {
                text.push('…');
            }
            match field {
                Field::Title => wording.title = Some(text),
                Field::Text => wording.text = Some(text),
            }
        }
        Ok(wording)
    }
}

/// Renders template `key` of `environment` with `context`, capped at `limit` characters; an
/// error is where in the source, if known, and what is wrong.
fn render_field(
    environment: &Environment<'static>,
    key: &str,
    context: &minijinja::Value,
    limit: usize,
) -> Result<Capped, (Option<(usize, usize)>, String)> {
    let template = environment
        .get_template(key)
        .map_err(|error| (None, message(&error)))?;
    let mut out = Capped {
        text: String::new(),
        left: limit,
        cut: false,
    };
    template
        .render_captured_to(context, &mut out)
        .map(|_| out)
        .map_err(|error| (error_position(&error, template.source()), message(&error)))
}

/// A template that failed at run time: the notifier logs it and calls this, so the service
/// can count `pswatch_template_errors_total{template}`.
pub type ErrorHook = Arc<dyn Fn(&TemplateError) + Send + Sync>;

/// The templates a channel lists, in order: the first whose `events` match an event writes
/// its text.
#[derive(Clone, Default)]
pub struct ChannelTemplates {
    templates: Option<Arc<Templates>>,
    names: Vec<String>,
}

impl fmt::Debug for ChannelTemplates {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_list().entries(&self.names).finish()
    }
}

impl ChannelTemplates {
    /// `names` of `templates`, in the channel's order. Names that are not among them are left
    /// out (the configuration's checks refuse them first).
    pub fn new(templates: Arc<Templates>, names: &[String]) -> Self {
        let names = names
            .iter()
            .filter(|name| templates.get(name).is_some())
            .cloned()
            .collect();
        Self {
            templates: Some(templates),
            names,
        }
    }

    /// The channel's template names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The template that applies to `event_type`, if any.
    pub fn applying(&self, event_type: &str) -> Option<&str> {
        let templates = self.templates.as_ref()?;
        self.names
            .iter()
            .find(|name| {
                templates
                    .get(name)
                    .is_some_and(|compiled| compiled.matches(event_type))
            })
            .map(String::as_str)
    }

    /// The templates' text for each of `events` that one applies to, in `flavor`. A template
    /// that fails is left out for that event (the built-in text stands in) and reported to
    /// `failed`.
    pub fn words(
        &self,
        events: &[Event],
        flavor: Flavor,
        failed: &mut dyn FnMut(&TemplateError),
    ) -> Words {
        let mut words = Words::default();
        let Some(templates) = &self.templates else {
            return words;
        };
        for event in events {
            let Some(name) = self.applying(event.type_name()) else {
                continue;
            };
            match templates.render(name, event, flavor) {
                Ok(wording) => {
                    words.insert(event.id.clone(), wording);
                }
                Err(error) => failed(&error),
            }
        }
        words
    }
}

#[cfg(test)]
mod tests;
