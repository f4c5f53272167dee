//! Message rendering and webhook signing, per message.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use diff_engine::testing::{operation, operation_state_changed};
use diff_engine::{Event, OperationPhase, OperationState, Severity};
use notifier::{render, sign, WebhookSecret};

fn event(table: usize) -> Event {
    operation_state_changed(
        7,
        OperationPhase::Deploy,
        Some(OperationState::InProgress),
        operation(&format!("op-{table}"), &format!("table_{table}"))
            .state(OperationState::Error)
            .ddl(format!(
                "ALTER TABLE `table_{table}` ADD UNIQUE KEY `idx` (`ref`)"
            ))
            .deploy_errors(
                "Duplicate entry 'A-1042' for key 'idx'".repeat(20),
                Some("https://planetscale.com/docs"),
            )
            .progress(40.0)
            .build(),
    )
    .id(format!("evt_{table:032x}"))
    .severity(Severity::Critical)
    .build()
}

fn bench(criterion: &mut Criterion) {
    let one = vec![event(0)];
    let twelve: Vec<Event> = (0..12).map(event).collect();
    let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
    let body = render::webhook_body(&one[0], notifier::Words::none());
    let mut group = criterion.benchmark_group("render");
    group.bench_function("slack, 1 event", |bencher| {
        bencher.iter(|| render::slack_message(black_box(&one), notifier::Words::none()))
    });
    group.bench_function("slack, 12 events", |bencher| {
        bencher.iter(|| render::slack_message(black_box(&twelve), notifier::Words::none()))
    });
    group.bench_function("email, 1 event", |bencher| {
        bencher.iter(|| render::email(black_box(&one), notifier::Words::none()))
    });
    group.bench_function("webhook body", |bencher| {
        bencher.iter(|| render::webhook_body(black_box(&one[0]), notifier::Words::none()))
    });
    // A team's template on a failing operation: its title and text in both flavors.
    let templates = std::sync::Arc::new(
        notifier::Templates::compile(&[notifier::TemplateSource {
            name: "ours".into(),
            events: Vec::new(),
            title: Some("{{ event.database }}: {{ event.resource }} is {{ event.to }}".into()),
            text: Some(
                "{% for fact in event.facts %}{{ fact.label }}: {{ fact.value }}\n{% endfor %}{% if event.errors %}Error: {{ event.errors }}{% endif %}"
                    .into(),
            ),
        }])
        .expect("compiles"),
    );
    let channel = notifier::ChannelTemplates::new(templates, &["ours".into()]);
    group.bench_function("template, 1 event", |bencher| {
        bencher.iter(|| channel.words(black_box(&one), notifier::Flavor::Slack, &mut |_| {}))
    });
    let words = channel.words(&one, notifier::Flavor::Slack, &mut |_| {});
    group.bench_function("slack, 1 event, templated", |bencher| {
        bencher.iter(|| render::slack_message(black_box(&one), &words))
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
