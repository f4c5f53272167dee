//! `[[people]]`: who a PlanetScale actor is in each channel, so that a message about what they
//! started names them the way the channel names people (Slack `<@U…>`, a Teams `<at>` mention,
//! Discord `<@…>`). Only the ids configured here ever become mentions; text from the API never
//! does.

use std::sync::Arc;

use diff_engine::{Event, EventKind, TimerSubject};

/// One `[[people]]` entry, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The actor as PlanetScale's API gives it: its id, or its display name.
    pub planetscale: String,
    /// How messages call the person (a Teams mention's text); the display name PlanetScale
    /// gave when not set.
    pub name: Option<String>,
    /// A Slack user id (`U…` or `W…`).
    pub slack: Option<String>,
    /// A Teams user principal name (`ada@example.com`).
    pub teams: Option<String>,
    /// A Discord user id (digits).
    pub discord: Option<String>,
    /// An email address.
    pub email: Option<crate::Mailbox>,
}

/// The configured people, shared by every channel.
#[derive(Debug, Clone, Default)]
pub struct People {
    people: Arc<Vec<Person>>,
}

/// The person who started an event's resource, and the name to call them by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner<'a> {
    /// Who they are in each channel.
    pub person: &'a Person,
    /// Their name: the configured one, else PlanetScale's display name.
    pub name: &'a str,
}

impl People {
    /// The people of `[[people]]`.
    pub fn new(people: Vec<Person>) -> Self {
        Self {
            people: Arc::new(people),
        }
    }

    /// Whether no one is listed.
    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    /// The listed person who started the workflow or deploy request `event` is about; `None`
    /// when its actor is not known or not listed.
    pub fn owner_of<'a>(&'a self, event: &'a Event) -> Option<Owner<'a>> {
        let (id, display_name) = actor_of(event)?;
        let person = self.people.iter().find(|person| {
            id.is_some_and(|id| id == person.planetscale)
                || display_name.is_some_and(|name| name == person.planetscale)
        })?;
        let name = person
            .name
            .as_deref()
            .or(display_name)
            .unwrap_or(&person.planetscale);
        Some(Owner { person, name })
    }
}

/// PlanetScale's id and display name of who started the resource of `event`, when it is a
/// workflow or a deploy request (or a timer's firing on one).
fn actor_of(event: &Event) -> Option<(Option<&str>, Option<&str>)> {
    let (id, name) = match &event.kind {
        EventKind::WorkflowStateChanged { workflow, .. }
        | EventKind::WorkflowErrorsChanged { workflow, .. }
        | EventKind::TimerFired {
            subject: TimerSubject::Workflow(workflow),
            ..
        } => (&workflow.actor_id, &workflow.actor),
        kind => {
            let request = kind.deploy_request()?;
            (&request.actor_id, &request.actor)
        }
    };
    (id.is_some() || name.is_some()).then_some((id.as_deref(), name.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample_events;

    fn person(planetscale: &str) -> Person {
        Person {
            planetscale: planetscale.into(),
            name: None,
            slack: Some("U0ADA".into()),
            teams: None,
            discord: None,
            email: None,
        }
    }

    #[test]
    fn the_owner_is_found_by_id_or_display_name_and_only_when_listed() {
        let events = sample_events();
        let workflow = events
            .iter()
            .find(|event| event.type_name() == "workflow.state_changed")
            .expect("a workflow event");
        let by_name = People::new(vec![person("Ada Lovelace")]);
        let owner = by_name.owner_of(workflow).expect("listed by name");
        assert_eq!(owner.name, "Ada Lovelace");
        let mut with_id = workflow.clone();
        if let EventKind::WorkflowStateChanged { workflow, .. } = &mut with_id.kind {
            workflow.actor_id = Some("user-ada".into());
            workflow.actor = Some("Someone Else".into());
        }
        let by_id = People::new(vec![Person {
            name: Some("Ada".into()),
            ..person("user-ada")
        }]);
        assert_eq!(by_id.owner_of(&with_id).expect("listed by id").name, "Ada");
        assert!(by_name.owner_of(&with_id).is_none(), "another actor");
        assert!(People::default().owner_of(workflow).is_none());
    }
}
