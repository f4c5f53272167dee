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
    let hours = i64::try_from(schedule.duration_hours.unwrap_or(1)).ok()?;
    start.checked_add(time::Duration::hours(hours))
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
    }
}
