//! Prometheus metrics: what pswatch counts, and their text exposition.

use std::time::Duration;

use crate::service::fleet::FleetReport;
use prometheus::{
    Encoder as _, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

/// Every metric pswatch exports under `/metrics`.
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) polls: IntCounterVec,
    pub(crate) poll_panics: prometheus::IntCounter,
    pub(crate) api_requests: IntCounterVec,
    pub(crate) budget_used: IntGaugeVec,
    pub(crate) budget_limit: IntGaugeVec,
    pub(crate) events: IntCounterVec,
    pub(crate) events_silenced: IntCounterVec,
    pub(crate) anomalies: IntCounterVec,
    pub(crate) deliveries: IntCounterVec,
    pub(crate) outbox_pending: IntGauge,
    pub(crate) dead_letters: IntGauge,
    pub(crate) quarantined: IntGauge,
    pub(crate) last_successful_poll: GaugeVec,
    pub(crate) targets_in_motion: IntGauge,
    pub(crate) delivery_latency: HistogramVec,
    pub(crate) disabled_channels: IntGaugeVec,
    pub(crate) push_healthy: IntGaugeVec,
    pub(crate) webhook_refusals: IntCounterVec,
    pub(crate) worker_restarts: IntCounterVec,
    pub(crate) template_errors: IntCounterVec,
    pub(crate) store_writable: IntGauge,
    pub(crate) leader: IntGauge,
    pub(crate) leader_changes: prometheus::IntCounter,
    /// The series of where the watched resources stand: set from the fleet at each scrape.
    fleet: std::sync::Mutex<FleetGauges>,
}

/// The state metrics.
struct FleetGauges {
    workflow_state: IntGaugeVec,
    deploy_request_state: IntGaugeVec,
    progress: GaugeVec,
    state_since: IntGaugeVec,
    backup_success: IntGaugeVec,
    backup_failure: IntGaugeVec,
    dropped: IntGauge,
}

fn register<T: prometheus::core::Collector + Clone + 'static>(registry: &Registry, metric: T) -> T {
    // Names are fixed and distinct, so registering cannot clash.
    let _ = registry.register(Box::new(metric.clone()));
    metric
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let registry = Registry::new();
        // Metric definitions are constants: building them only fails on a malformed name.
        let counter = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels)
                .unwrap_or_else(|error| unreachable!("{name}: {error}"))
        };
        let gauge = |name: &str, help: &str| {
            IntGauge::new(name, help).unwrap_or_else(|error| unreachable!("{name}: {error}"))
        };
        let gauge_vec = |name: &str, help: &str, labels: &[&str]| {
            IntGaugeVec::new(Opts::new(name, help), labels)
                .unwrap_or_else(|error| unreachable!("{name}: {error}"))
        };
        Self {
            polls: register(
                &registry,
                counter(
                    "pswatch_polls_total",
                    "Polls of a database, by outcome (ok, error).",
                    &["target", "outcome"],
                ),
            ),
            webhook_refusals: register(
                &registry,
                counter(
                    "pswatch_webhook_refusals_total",
                    "Requests the webhook receiver refused, by HTTP status (401 unsigned, 429 too many, 400, 413).",
                    &["status"],
                ),
            ),
            worker_restarts: register(
                &registry,
                counter(
                    "pswatch_worker_restarts_total",
                    "Delivery workers that ended unexpectedly (a bug in pswatch) and were started again, by channel.",
                    &["channel"],
                ),
            ),
            template_errors: register(
                &registry,
                counter(
                    "pswatch_template_errors_total",
                    "Messages for which a template failed and the built-in text was sent instead, by template.",
                    &["template"],
                ),
            ),
            store_writable: register(
                &registry,
                gauge(
                    "pswatch_store_writable",
                    "1 while the state store accepts writes, 0 from a failed write until one succeeds again (/readyz fails meanwhile).",
                ),
            ),
            leader: register(
                &registry,
                gauge(
                    "pswatch_leader",
                    "1 on the replica that polls and delivers (always, with a store of one process), 0 on a standby.",
                ),
            ),
            leader_changes: register(
                &registry,
                prometheus::IntCounter::new(
                    "pswatch_leader_changes_total",
                    "Times this replica took the leader's lease (after a start or from another replica).",
                )
                .unwrap_or_else(|error| unreachable!("{error}")),
            ),
            poll_panics: register(
                &registry,
                prometheus::IntCounter::new(
                    "pswatch_poll_panics_total",
                    "Polls that stopped unexpectedly (a bug in pswatch); the target is polled again after its backoff.",
                )
                .unwrap_or_else(|error| unreachable!("{error}")),
            ),
            api_requests: register(
                &registry,
                counter(
                    "pswatch_api_requests_total",
                    "PlanetScale API requests, by service token, endpoint and HTTP status (or error).",
                    &["token", "endpoint", "status"],
                ),
            ),
            budget_used: register(
                &registry,
                gauge_vec(
                    "pswatch_api_budget_used",
                    "API requests sent in the budget's current window, by service token.",
                    &["token"],
                ),
            ),
            budget_limit: register(
                &registry,
                gauge_vec(
                    "pswatch_api_budget_limit",
                    "API requests allowed per window (halved for a while after a 429), by service token.",
                    &["token"],
                ),
            ),
            events: register(
                &registry,
                counter(
                    "pswatch_events_total",
                    "Transitions detected, by event type.",
                    &["type"],
                ),
            ),
            events_silenced: register(
                &registry,
                counter(
                    "pswatch_events_silenced_total",
                    "Events held back by a silence (recorded, never delivered), by event type.",
                    &["type"],
                ),
            ),
            anomalies: register(
                &registry,
                counter(
                    "pswatch_api_anomalies_total",
                    "Odd data in API responses that did not stop a poll, by database and kind (unreadable_item, unknown_state, missing_state, duplicate).",
                    &["target", "kind"],
                ),
            ),
            deliveries: register(
                &registry,
                counter(
                    "pswatch_deliveries_total",
                    "Delivery attempts, by channel and outcome (delivered, retry, dead).",
                    &["channel", "outcome"],
                ),
            ),
            outbox_pending: register(
                &registry,
                gauge(
                    "pswatch_outbox_pending",
                    "Deliveries waiting in the outbox.",
                ),
            ),
            quarantined: register(
                &registry,
                gauge(
                    "pswatch_store_quarantined_records",
                    "Records of the state store that could not be read and were set aside (pswatch outbox list).",
                ),
            ),
            dead_letters: register(
                &registry,
                gauge(
                    "pswatch_dead_letters",
                    "Deliveries given up, waiting for a person (pswatch outbox list).",
                ),
            ),
            last_successful_poll: register(
                &registry,
                GaugeVec::new(
                    Opts::new(
                        "pswatch_last_successful_poll_timestamp_seconds",
                        "When each database was last polled successfully, unix seconds.",
                    ),
                    &["target"],
                )
                .unwrap_or_else(|error| unreachable!("{error}")),
            ),
            targets_in_motion: register(
                &registry,
                gauge(
                    "pswatch_targets_in_motion",
                    "Databases with a workflow or deploy request in motion.",
                ),
            ),
            delivery_latency: register(
                &registry,
                HistogramVec::new(
                    HistogramOpts::new(
                        "pswatch_detection_to_delivery_seconds",
                        "Time from detecting a transition to its receiver accepting it.",
                    )
                    .buckets(vec![
                        0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0,
                        21600.0, 86400.0,
                    ]),
                    &["channel"],
                )
                .unwrap_or_else(|error| unreachable!("{error}")),
            ),
            disabled_channels: register(
                &registry,
                IntGaugeVec::new(
                    Opts::new(
                        "pswatch_channel_disabled",
                        "1 while a channel is disabled because its receiver answered 410 Gone.",
                    ),
                    &["channel"],
                )
                .unwrap_or_else(|error| unreachable!("{error}")),
            ),
            push_healthy: register(
                &registry,
                IntGaugeVec::new(
                    Opts::new(
                        "pswatch_push_healthy",
                        "1 while PlanetScale pushes a database's deploy request changes to the receiver (its idle polls then list deploy requests every tenth time).",
                    ),
                    &["target"],
                )
                .unwrap_or_else(|error| unreachable!("{error}")),
            ),
            fleet: std::sync::Mutex::new(FleetGauges {
                workflow_state: register(
                    &registry,
                    gauge_vec(
                        "pswatch_workflow_state",
                        "1 for a watched workflow's current state (while it runs, and for an hour after it ends); the workflow label is its number.",
                        &["organization", "database", "workflow", "state"],
                    ),
                ),
                deploy_request_state: register(
                    &registry,
                    gauge_vec(
                        "pswatch_deploy_request_state",
                        "1 for a watched deploy request's current state and deployment_state (while open, and for an hour after it closes).",
                        &["organization", "database", "number", "state", "deployment_state"],
                    ),
                ),
                progress: register(
                    &registry,
                    GaugeVec::new(
                        Opts::new(
                            "pswatch_deploy_operation_progress_ratio",
                            "How far a deploy request's schema change of one table got, from 0 to 1.",
                        ),
                        &["organization", "database", "number", "keyspace", "table"],
                    )
                    .unwrap_or_else(|error| unreachable!("{error}")),
                ),
                state_since: register(
                    &registry,
                    gauge_vec(
                        "pswatch_resource_state_since_timestamp_seconds",
                        "When a watched workflow or deploy request was first seen in its current state, unix seconds (kind workflow or deploy_request; resource its number).",
                        &["organization", "database", "kind", "resource"],
                    ),
                ),
                backup_success: register(
                    &registry,
                    gauge_vec(
                        "pswatch_backup_last_success_timestamp_seconds",
                        "When the last successful backup of a watched production branch completed, unix seconds.",
                        &["organization", "database", "branch"],
                    ),
                ),
                backup_failure: register(
                    &registry,
                    gauge_vec(
                        "pswatch_backup_last_failure_timestamp_seconds",
                        "When the last failed backup of a watched production branch ended, unix seconds.",
                        &["organization", "database", "branch"],
                    ),
                ),
                dropped: register(
                    &registry,
                    gauge(
                        "pswatch_metrics_resources_dropped",
                        "Watched resources left out of the state metrics by [metrics] max_resources.",
                    ),
                ),
            }),
            registry,
        }
    }

    /// The Prometheus text exposition with the state metrics of `fleet`.
    pub(crate) fn render_with(&self, fleet: &FleetReport) -> String {
        // Held while the series are set and read, so two scrapes never mix.
        let gauges = self
            .fleet
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        gauges.show(fleet);
        self.render()
    }

    /// Records a delivery accepted `latency` after detection.
    pub(crate) fn delivered(&self, channel: &str, count: usize, latency: Duration) {
        self.deliveries
            .with_label_values(&[channel, "delivered"])
            .inc_by(count as u64);
        for _ in 0..count {
            self.delivery_latency
                .with_label_values(&[channel])
                .observe(latency.as_secs_f64());
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub(crate) fn render(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(%error, "cannot encode the metrics");
        }
        String::from_utf8_lossy(&buffer).into_owned()
    }
}

impl FleetGauges {
    fn show(&self, fleet: &FleetReport) {
        self.workflow_state.reset();
        self.deploy_request_state.reset();
        self.progress.reset();
        self.state_since.reset();
        self.backup_success.reset();
        self.backup_failure.reset();
        for resource in &fleet.resources {
            let number = resource.number.to_string();
            let (organization, database) =
                (resource.organization.as_str(), resource.database.as_str());
            match resource.deployment_state.as_deref() {
                Some(deployment_state) => {
                    self.deploy_request_state
                        .with_label_values(&[
                            organization,
                            database,
                            &number,
                            &resource.state,
                            deployment_state,
                        ])
                        .set(1);
                    for operation in &resource.operations {
                        self.progress
                            .with_label_values(&[
                                organization,
                                database,
                                &number,
                                &operation.keyspace,
                                &operation.table,
                            ])
                            .set(operation.ratio);
                    }
                }
                None => self
                    .workflow_state
                    .with_label_values(&[organization, database, &number, &resource.state])
                    .set(1),
            }
            self.state_since
                .with_label_values(&[organization, database, &resource.kind, &number])
                .set(resource.state_since);
        }
        for backup in &fleet.backups {
            let labels = [
                backup.organization.as_str(),
                &backup.database,
                &backup.branch,
            ];
            if let Some(at) = backup.succeeded_at {
                self.backup_success.with_label_values(&labels).set(at);
            }
            if let Some(at) = backup.failed_at {
                self.backup_failure.with_label_values(&labels).set(at);
            }
        }
        self.dropped.set(fleet.dropped as i64);
    }
}

impl Metrics {
    /// Counts one PlanetScale API request of the token named `token`.
    pub(crate) fn api_request(&self, token: &str, endpoint: &str, status: Option<u16>) {
        let status = status.map_or_else(|| "error".to_owned(), |status| status.to_string());
        self.api_requests
            .with_label_values(&[token, endpoint, &status])
            .inc();
    }
}
