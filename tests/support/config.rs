//! A configuration file for the tests, built in code instead of TOML spelled out in each test:
//! the defaults of a test (the simulator's token, an admin server on an ephemeral loopback
//! port, a state directory) plus what the test says.

use std::path::Path;

use toml::{Table, Value};

/// The webhook secret the tests sign with.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A configuration being built.
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    table: Table,
}

fn table(value: &mut Value) -> &mut Table {
    if !value.is_table() {
        *value = Value::Table(Table::new());
    }
    match value {
        Value::Table(table) => table,
        _ => unreachable!("made a table above"),
    }
}

impl ConfigBuilder {
    /// Watching nothing yet, against the API at `api_url` with token `tok-id:tok`, its state in
    /// `state`, its admin server on `127.0.0.1:0`.
    pub fn new(api_url: &str, state: &Path) -> Self {
        Self {
            table: Table::new(),
        }
        .set("planetscale.api_url", api_url)
        .set("planetscale.service_token_id", "tok-id")
        .set("planetscale.service_token", "tok")
        .set("state.path", state.display().to_string())
        .set("admin.listen", "127.0.0.1:0")
    }

    /// Sets `section.key` (`poll.interval`, `planetscale.timeout`, …) to `value`.
    pub fn set(mut self, path: &str, value: impl Into<Value>) -> Self {
        let (section, key) = path.split_once('.').expect("section.key");
        let entry = self
            .table
            .entry(section.to_owned())
            .or_insert_with(|| Value::Table(Table::new()));
        table(entry).insert(key.to_owned(), value.into());
        self
    }

    /// Removes `section.key`.
    pub fn unset(mut self, path: &str) -> Self {
        let (section, key) = path.split_once('.').expect("section.key");
        if let Some(entry) = self.table.get_mut(section) {
            table(entry).remove(key);
        }
        self
    }

    fn push(mut self, list: &str, item: Table) -> Self {
        let entry = self
            .table
            .entry(list.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = entry {
            items.push(Value::Table(item));
        }
        self
    }

    fn last(&mut self, list: &str) -> &mut Table {
        match self.table.get_mut(list) {
            Some(Value::Array(items)) => table(items.last_mut().expect("an item to change")),
            _ => panic!("no [[{list}]] to change"),
        }
    }

    /// Watches `databases` of `organization`; all of them when `databases` is empty.
    pub fn watch(self, organization: &str, databases: &[&str]) -> Self {
        let mut item = Table::new();
        item.insert("organization".into(), organization.into());
        if !databases.is_empty() {
            item.insert("databases".into(), databases.to_vec().into());
        }
        self.push("watch", item)
    }

    /// Adds a channel of `type` with `keys`.
    pub fn channel(self, name: &str, kind: &str, keys: &[(&str, Value)]) -> Self {
        let mut item = Table::new();
        item.insert("name".into(), name.into());
        item.insert("type".into(), kind.into());
        for (key, value) in keys {
            item.insert((*key).to_owned(), value.clone());
        }
        self.push("channels", item)
    }

    /// A webhook channel posting to `url`, signed with [`SECRET`].
    pub fn webhook(self, name: &str, url: &str) -> Self {
        self.channel(
            name,
            "webhook",
            &[("url", url.into()), ("secret", SECRET.into())],
        )
    }

    /// A Slack channel posting to the incoming webhook `url`.
    pub fn slack(self, name: &str, url: &str) -> Self {
        self.channel(name, "slack", &[("webhook_url", url.into())])
    }

    /// An email channel through the relay at `smtp_url`, to `dba@example.com`.
    pub fn email(self, name: &str, smtp_url: &str) -> Self {
        self.channel(
            name,
            "email",
            &[
                ("smtp_url", smtp_url.into()),
                ("from", "pswatch <pswatch@example.com>".into()),
                ("to", vec!["dba@example.com"].into()),
            ],
        )
    }

    /// Sets `key` of the last `[[watch]]` (`resources`, `service_token`, …).
    pub fn watch_with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.last("watch").insert(key.to_owned(), value.into());
        self
    }

    /// Sets `key` of the last channel (`retry_schedule`, `min_interval`, …).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.last("channels").insert(key.to_owned(), value.into());
        self
    }

    /// A `[[templates]]` entry; `events` empty for every type.
    pub fn template(
        self,
        name: &str,
        events: &[&str],
        title: Option<&str>,
        text: Option<&str>,
    ) -> Self {
        let mut item = Table::new();
        item.insert("name".into(), name.into());
        if !events.is_empty() {
            item.insert("events".into(), events.to_vec().into());
        }
        for (key, value) in [("title", title), ("text", text)] {
            if let Some(value) = value {
                item.insert(key.into(), value.into());
            }
        }
        self.push("templates", item)
    }

    /// A `[[digests]]` entry named `name`, sent to `channels` at `at` (`"09:00"`) in UTC.
    pub fn digest(self, name: &str, channels: &[&str], at: &str) -> Self {
        let mut item = Table::new();
        item.insert("name".into(), name.into());
        item.insert("channels".into(), channels.to_vec().into());
        item.insert("at".into(), at.into());
        item.insert("timezone".into(), "UTC".into());
        self.push("digests", item)
    }

    /// Sets `key` of the last digest (`databases`, `send_empty`, …).
    pub fn digest_with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.last("digests").insert(key.to_owned(), value.into());
        self
    }

    /// A `[[timers]]` entry named `name`, watching `resources` in `states` for `after`.
    pub fn timer(self, name: &str, resources: &[&str], states: &[&str], after: &str) -> Self {
        let mut item = Table::new();
        item.insert("name".into(), name.into());
        item.insert("resources".into(), resources.to_vec().into());
        item.insert("states".into(), states.to_vec().into());
        item.insert("after".into(), after.into());
        self.push("timers", item)
    }

    /// Sets `key` of the last timer (`repeat`, `escalate_after`, `escalate_to`, …).
    pub fn timer_with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.last("timers").insert(key.to_owned(), value.into());
        self
    }

    /// A `[[people]]` entry: the PlanetScale actor `planetscale` and who they are elsewhere
    /// (`slack`, `teams`, `discord`, `email`, `name`).
    pub fn person(self, planetscale: &str, keys: &[(&str, &str)]) -> Self {
        let mut item = Table::new();
        item.insert("planetscale".into(), planetscale.into());
        for (key, value) in keys {
            item.insert((*key).into(), (*value).into());
        }
        self.push("people", item)
    }

    /// A route of every event to `channels`.
    pub fn route(self, channels: &[&str]) -> Self {
        let mut item = Table::new();
        item.insert("channels".into(), channels.to_vec().into());
        self.push("routes", item)
    }

    /// Sets `key` of the last route (`events`, `states`, …).
    pub fn filter(mut self, key: &str, values: &[&str]) -> Self {
        self.last("routes")
            .insert(key.to_owned(), values.to_vec().into());
        self
    }

    /// The file's text.
    pub fn toml(&self) -> String {
        toml::to_string(&self.table).expect("a table serializes")
    }

    /// Writes the file to `path`, and returns `path`.
    pub fn write(&self, path: &Path) -> std::path::PathBuf {
        std::fs::write(path, self.toml()).expect("write the configuration");
        path.to_owned()
    }
}
