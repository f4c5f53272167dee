//! What a channel says of an event instead of its built-in text (a template's title and text),
//! how the values in it are escaped, and whom it names as the resource's owner. The templates,
//! digests and people write it; the payloads and the kinds read it.

use std::collections::BTreeMap;

use diff_engine::Event;

use crate::people::{Owner, People};

/// How the values a template's text prints are escaped: not at all, or for Slack's mrkdwn
/// (`&`, `<` and `>`, so that a name from the API cannot become a link or a mention). What the
/// template itself writes is kept as written; `|safe` keeps a value as it is. A title is
/// always plain: Slack shows it in a `plain_text` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flavor {
    /// Plain text; each kind escapes the whole where its form needs it (email's HTML).
    Plain,
    /// Slack's mrkdwn.
    Slack,
}

/// A template's text for one event; a field it does not set, or that failed, is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wording {
    /// The template that wrote it.
    pub template: String,
    /// Its title.
    pub title: Option<String>,
    /// Its text.
    pub text: Option<String>,
}

/// Templates' text for the events of one delivery, by event id: what a kind shows instead of
/// its built-in text. Empty when no template applies.
#[derive(Debug, Clone, Default)]
pub struct Words {
    by_event: BTreeMap<String, Wording>,
    people: People,
    status_page: Option<std::sync::Arc<str>>,
}

impl Words {
    /// No template's text: the built-in text everywhere.
    pub fn none() -> &'static Self {
        static NONE: std::sync::OnceLock<Words> = std::sync::OnceLock::new();
        NONE.get_or_init(Self::default)
    }

    /// The template text for `event`, if a template applies to it.
    pub fn of(&self, event: &Event) -> Option<&Wording> {
        self.by_event.get(&event.id)
    }

    /// The template title of `event`, if any.
    pub fn title(&self, event: &Event) -> Option<&str> {
        self.of(event).and_then(|wording| wording.title.as_deref())
    }

    /// The template text of `event`, if any.
    pub fn text(&self, event: &Event) -> Option<&str> {
        self.of(event).and_then(|wording| wording.text.as_deref())
    }

    /// Sets the text of the event `id`.
    pub(crate) fn insert(&mut self, id: String, wording: Wording) {
        self.by_event.insert(id, wording);
    }

    /// These words, naming the owners of resources among `people`.
    #[must_use]
    pub fn naming(mut self, people: People) -> Self {
        self.people = people;
        self
    }

    /// These words, linking to the silence form of the status page at `public_url` (`[admin]
    /// public_url`) where a channel has no buttons.
    #[must_use]
    pub fn linking(mut self, public_url: Option<std::sync::Arc<str>>) -> Self {
        self.status_page = public_url;
        self
    }

    /// The status page's silence form for `event`'s database, pre-filled (the database, and a
    /// comment naming the resource), when `[admin] public_url` is set; `None` for a digest,
    /// which is about no one database.
    pub fn silence_link(&self, event: &Event) -> Option<String> {
        let base = self.status_page.as_deref()?;
        if matches!(event.kind, diff_engine::EventKind::Digest { .. }) {
            return None;
        }
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(
                "silence",
                &format!("{}/{}", event.organization, event.database),
            )
            .append_pair(
                "comment",
                &format!("{}: ", crate::text::resource_name(event)),
            )
            .finish();
        Some(format!(
            "{}/?{query}#add-silence",
            base.trim_end_matches('/')
        ))
    }

    /// The listed person who started the resource of `event`, if any.
    pub fn owner<'a>(&'a self, event: &'a Event) -> Option<Owner<'a>> {
        self.people.owner_of(event)
    }

    /// Whether no template applies to any of the events.
    pub fn is_empty(&self) -> bool {
        self.by_event.is_empty()
    }
}
