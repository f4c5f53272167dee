//! Backups of production branches: a change of state of one seen before, or a new one, is an
//! event; the first reading records a baseline. A failed backup is critical, and the next
//! success of its branch says it recovers.

use super::Differ;
use crate::event::EventKind;
use crate::model::{Observation, SeenBackup, TargetState};
use crate::states::Severity;

impl Differ<'_> {
    pub(super) fn backups(
        &mut self,
        previous: &TargetState,
        observation: &Observation,
        next: &mut TargetState,
    ) {
        next.failing_backups = previous.failing_backups.clone();
        next.backups_read = previous.backups_read;
        let Some(backups) = &observation.backups else {
            // Not read this time: remembered as they were.
            next.backups = previous.backups.clone();
            return;
        };
        next.backups_read = true;
        let baseline = !previous.backups_read;
        let mut backups: Vec<_> = backups.iter().collect();
        backups.sort_by(|a, b| (&a.started_at, &a.id).cmp(&(&b.started_at, &b.id)));
        for backup in backups {
            let seen = previous.backups.get(&backup.id);
            let mut events = seen.map_or(self.first_sequence, |seen| seen.events);
            let changed = seen.is_none_or(|seen| seen.state != backup.state);
            if changed && !baseline {
                let failed = backup.state == "failed";
                let recovers =
                    backup.state == "success" && next.failing_backups.contains(&backup.branch);
                let severity = if failed {
                    Severity::Critical
                } else {
                    Severity::Info
                };
                self.emit(
                    &format!("backup/{}", backup.id),
                    &mut events,
                    severity,
                    EventKind::BackupStateChanged {
                        previous_state: seen.map(|seen| seen.state.clone()),
                        state: backup.state.clone(),
                        recovers,
                        backup: backup.clone(),
                    },
                );
            }
            match backup.state.as_str() {
                "failed" => {
                    next.failing_backups.insert(backup.branch.clone());
                }
                "success" => {
                    next.failing_backups.remove(&backup.branch);
                }
                _ => {}
            }
            next.backups.insert(
                backup.id.clone(),
                SeenBackup {
                    branch: backup.branch.clone(),
                    state: backup.state.clone(),
                    events,
                },
            );
        }
        super::keep_unread(
            observation.partial.backups,
            &previous.backups,
            &mut next.backups,
        );
    }
}
