//! Alerts a channel keeps firing (Alertmanager's): what was sent, so that it is sent again while
//! it lasts and resolved with the same labels when its resource moves on.

use std::collections::BTreeMap;

use time::OffsetDateTime;

/// One firing alert, as Alertmanager identifies it: by its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiringAlert {
    /// Its labels, `alertname` among them.
    pub labels: BTreeMap<String, String>,
    /// Its annotations (`summary`, `description`, `url`).
    pub annotations: BTreeMap<String, String>,
    /// The link back to the resource (`generatorURL`).
    pub generator_url: Option<String>,
    /// When it began.
    pub starts_at: OffsetDateTime,
}

impl FiringAlert {
    /// What identifies it among a channel's alerts: its labels, in order, as
    /// `name=value` lines (no label name holds `=`, and a value's newlines are escaped).
    pub fn key(&self) -> String {
        let mut key = String::new();
        for (name, value) in &self.labels {
            key.push_str(name);
            key.push('=');
            key.push_str(&value.replace('\\', "\\\\").replace('\n', "\\n"));
            key.push('\n');
        }
        key
    }

    /// Its `alertname` label.
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map_or("", String::as_str)
    }

    /// Its label `name`, if it has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_are_told_apart_by_their_labels_alone() {
        let alert = |labels: &[(&str, &str)], summary: &str| FiringAlert {
            labels: labels
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            annotations: [("summary".to_owned(), summary.to_owned())].into(),
            generator_url: None,
            starts_at: OffsetDateTime::UNIX_EPOCH,
        };
        let one = alert(&[("alertname", "A"), ("resource", "x")], "one");
        assert_eq!(
            one.key(),
            alert(&[("resource", "x"), ("alertname", "A")], "two").key()
        );
        assert_ne!(
            one.key(),
            alert(&[("alertname", "A"), ("resource", "y")], "").key()
        );
        // A value cannot pass for two labels.
        assert_ne!(
            alert(&[("a", "1\nb=2")], "").key(),
            alert(&[("a", "1"), ("b", "2")], "").key()
        );
        assert_eq!(one.name(), "A");
        assert_eq!(one.label("resource"), Some("x"));
    }
}
