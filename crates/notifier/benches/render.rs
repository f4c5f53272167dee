//! Message rendering and webhook signing, per message.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use diff_engine::{DeployOperation, Event, EventKind, OperationPhase, OperationState, Severity};
use notifier::{render, sign, WebhookSecret};
use time::macros::datetime;

fn event(table: usize) -> Event {
    Event {
        id: format!("evt_{table:032x}"),
        kind: EventKind::DeployOperationStateChanged {
            previous_state: Some(OperationState::InProgress),
            state: OperationState::Error,
            deploy_request_number: 7,
            phase: OperationPhase::Deploy,
            operation: DeployOperation {
                id: format!("op-{table}"),
                state: OperationState::Error,
                keyspace_name: Some("commerce".into()),
                table_name: Some(format!("table_{table}")),
                operation_name: Some("ALTER".into()),
                ddl_statement: Some(format!(
                    "ALTER TABLE `table_{table}` ADD UNIQUE KEY `idx` (`ref`)"
                )),
                deploy_errors: Some("Duplicate entry 'A-1042' for key 'idx'".repeat(20)),
                deploy_error_docs_url: Some("https://planetscale.com/docs".into()),
                progress_percentage: Some(40.0),
                revert_errors: None,
            },
        },
        organization: "acme".into(),
        database: "commerce".into(),
        severity: Severity::Critical,
        observed_at: datetime!(2026-11-23 12:00 UTC),
    }
}

fn bench(criterion: &mut Criterion) {
    let one = vec![event(0)];
    let twelve: Vec<Event> = (0..12).map(event).collect();
    let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
    let body = render::webhook_body(&one[0]);
    let mut group = criterion.benchmark_group("render");
    group.bench_function("slack, 1 event", |bencher| {
        bencher.iter(|| render::slack_message(black_box(&one)))
    });
    group.bench_function("slack, 12 events", |bencher| {
        bencher.iter(|| render::slack_message(black_box(&twelve)))
    });
    group.bench_function("email, 1 event", |bencher| {
        bencher.iter(|| render::email(black_box(&one)))
    });
    group.bench_function("webhook body", |bencher| {
        bencher.iter(|| render::webhook_body(black_box(&one[0])))
    });
    group.bench_function("webhook signature", |bencher| {
        bencher.iter(|| {
            sign(
                secret.key(),
                black_box("evt_0"),
                1_790_000_000,
                black_box(&body),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
