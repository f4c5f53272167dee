//! Maintenance schedules: after a baseline at their first reading, a new or moved next window
//! is `maintenance.scheduled` (a warning when PlanetScale requires it), a last window that
//! moves is `maintenance.started`, and a window whose hours are over is
//! `maintenance.finished`, once.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::Differ;
use crate::event::EventKind;
use crate::model::{MaintenanceSchedule, Observation, SeenMaintenance, TargetState};
use crate::states::Severity;

/// When `schedule`'s last window ends, if it says.
fn last_window_end(schedule: &MaintenanceSchedule) -> Option<OffsetDateTime> {
    let start = OffsetDateTime::parse(schedule.last_window_datetime.as_deref()?, &Rfc3339).ok()?;
    // Checked: the API's `duration` may be any number, and hours past what a time can hold
    // make no window end.
    let seconds = i64::try_from(schedule.duration_hours.unwrap_or(1))
        .ok()?
        .checked_mul(3600)?;
    start.checked_add(time::Duration::seconds(seconds))
}

impl Differ<'_> {
    pub(super) fn maintenance(
        &mut self,
        previous: &TargetState,
        observation: &Observation,
        next: &mut TargetState,
    ) {
        next.maintenance_read = previous.maintenance_read;
        let Some(schedules) = &observation.maintenance else {
            next.maintenance = previous.maintenance.clone();
            return;
        };
        next.maintenance_read = true;
        let baseline = !previous.maintenance_read;
        for schedule in schedules {
            let seen = previous.maintenance.get(&schedule.id).cloned();
            let mut noted = seen.clone().unwrap_or(SeenMaintenance {
                events: self.first_sequence,
                ..SeenMaintenance::default()
            });
            let resource = format!("maintenance/{}", schedule.id);
            let over = last_window_end(schedule).is_some_and(|end| end <= self.now);
            if baseline {
                noted.finished_window = over
                    .then(|| schedule.last_window_datetime.clone())
                    .flatten();
            } else {
                if schedule.next_window_datetime.is_some()
                    && schedule.next_window_datetime != noted.next_window
                {
                    let severity = if schedule.required {
                        Severity::Warning
                    } else {
                        Severity::Info
                    };
                    self.emit(
                        &resource,
                        &mut noted.events,
                        severity,
                        EventKind::MaintenanceScheduled {
                            previous_window: noted.next_window.clone(),
                            schedule: schedule.clone(),
                        },
                    );
                }
                if schedule.last_window_datetime.is_some()
                    && schedule.last_window_datetime != noted.last_window
                {
                    self.emit(
                        &resource,
                        &mut noted.events,
                        Severity::Info,
                        EventKind::MaintenanceStarted {
                            schedule: schedule.clone(),
                        },
                    );
                }
                if over && noted.finished_window != schedule.last_window_datetime {
                    self.emit(
                        &resource,
                        &mut noted.events,
                        Severity::Info,
                        EventKind::MaintenanceFinished {
                            schedule: schedule.clone(),
                        },
                    );
                    noted.finished_window = schedule.last_window_datetime.clone();
                }
            }
            noted.next_window = schedule.next_window_datetime.clone();
            noted.last_window = schedule.last_window_datetime.clone();
            next.maintenance.insert(schedule.id.clone(), noted);
        }
        super::keep_unread(
            observation.partial.maintenance,
            &previous.maintenance,
            &mut next.maintenance,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any `duration` the API gives is survived: hours past what a time holds end no window.
    #[test]
    fn a_window_of_any_length_ends_or_has_no_end_without_a_panic() {
        let schedule = |hours: Option<u64>| MaintenanceSchedule {
            id: "ms1".into(),
            name: "weekly".into(),
            next_window_datetime: None,
            last_window_datetime: Some("2026-11-21T02:00:00.000Z".into()),
            duration_hours: hours,
            required: false,
            deadline_at: None,
            pending_vitess_version: None,
            pending_mysql_version: None,
        };
        let start = OffsetDateTime::parse("2026-11-21T02:00:00Z", &Rfc3339).expect("time");
        assert_eq!(
            last_window_end(&schedule(Some(4))),
            Some(start + time::Duration::hours(4))
        );
        assert_eq!(
            last_window_end(&schedule(None)),
            Some(start + time::Duration::hours(1))
        );
        for hours in [
            u64::MAX,
            i64::MAX as u64,
            (i64::MAX / 3600) as u64,
            (i64::MAX / 3600 + 1) as u64,
            100_000_000,
        ] {
            assert_eq!(last_window_end(&schedule(Some(hours))), None, "{hours}");
        }
    }
}
