//! How many resources a second the diff engine compares: one target with 1,000 workflows and
//! 100 deploy requests of 10 operations each (2,100 resources), a tenth of them changed.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use diff_engine::{
    diff, DeployOperation, DeployRequest, DeployState, DiffOptions, Observation,
    ObservedDeployRequest, OperationState, Target, Timer, TimerResource, Workflow, WorkflowState,
};
use time::macros::datetime;

const WORKFLOWS: u64 = 1_000;
const DEPLOY_REQUESTS: u64 = 100;
const OPERATIONS: u64 = 10;

fn observation(changed: bool) -> Observation {
    let workflows = (0..WORKFLOWS)
        .map(|number| Workflow {
            id: format!("wf-{number}"),
            number,
            name: format!("move-{number}"),
            state: if changed && number % 10 == 0 {
                WorkflowState::Cutover
            } else {
                WorkflowState::Running
            },
            workflow_errors: None,
            source_keyspace: Some("commerce".into()),
            target_keyspace: Some("customers".into()),
            branch: Some("main".into()),
            actor: Some("Ada".into()),
            actor_id: None,
            cutover_by: None,
            updated_at: None,
            times: diff_engine::WorkflowTimes::default(),
        })
        .collect();
    let deploy_requests = (0..DEPLOY_REQUESTS)
        .map(|number| ObservedDeployRequest {
            deploy_request: DeployRequest {
                id: format!("dr-{number}"),
                number,
                state: "open".into(),
                deployment_state: DeployState::InProgress,
                branch: Some("change".into()),
                into_branch: Some("main".into()),
                ..DeployRequest::default()
            },
            operations: Some(
                (0..OPERATIONS)
                    .map(|operation| DeployOperation {
                        id: format!("op-{number}-{operation}"),
                        state: if changed && operation == 0 {
                            OperationState::Complete
                        } else {
                            OperationState::InProgress
                        },
                        keyspace_name: Some("commerce".into()),
                        table_name: Some(format!("table_{operation}")),
                        operation_name: None,
                        ddl_statement: None,
                        deploy_errors: None,
                        deploy_error_docs_url: None,
                        progress_percentage: Some(50.0),
                        eta_seconds: Some(120),
                        revert_errors: None,
                    })
                    .collect(),
            ),
            ..ObservedDeployRequest::default()
        })
        .collect();
    Observation {
        workflows,
        deploy_requests,
        ..Observation::default()
    }
}

fn bench(criterion: &mut Criterion) {
    let target = Target::new("acme", "commerce");
    let now = datetime!(2026-11-23 12:00 UTC);
    let previous = diff(
        &target,
        None,
        &observation(false),
        now,
        DiffOptions::default(),
    )
    .next;
    let changed = observation(true);
    let unchanged = observation(false);
    let resources = WORKFLOWS + DEPLOY_REQUESTS * (1 + OPERATIONS);
    let mut group = criterion.benchmark_group("diff");
    group.throughput(Throughput::Elements(resources));
    group.bench_function("2100 resources, 10% changed", |bencher| {
        bencher.iter(|| {
            diff(
                &target,
                Some(black_box(&previous)),
                black_box(&changed),
                now,
                DiffOptions::default(),
            )
        })
    });
    group.bench_function("2100 resources, unchanged", |bencher| {
        bencher.iter(|| {
            diff(
                &target,
                Some(black_box(&previous)),
                black_box(&unchanged),
                now,
                DiffOptions::default(),
            )
        })
    });
    // Three timers watching every workflow and operation (one of each in a watched state): a
    // clock for each resource they watch, kept and compared every poll.
    let states = |patterns: &[&str]| {
        let mut builder = globset::GlobSetBuilder::new();
        for pattern in patterns {
            builder.add(globset::Glob::new(pattern).expect("glob"));
        }
        builder.build().expect("globs")
    };
    let timer = |name: &str, resources: Vec<TimerResource>, watched: &[&str]| Timer {
        name: name.into(),
        resources,
        states: states(watched),
        databases: None,
        after: time::Duration::hours(1),
        repeat: Some(time::Duration::minutes(30)),
        escalate_after: Some(3),
    };
    let timers = [
        timer("stuck", vec![TimerResource::Workflow], &["*"]),
        timer("slow", vec![TimerResource::DeployOperation], &["*"]),
        timer(
            "waiting",
            vec![TimerResource::DeployRequest],
            &["pending_cutover", "queued"],
        ),
    ];
    let with_timers = DiffOptions {
        timers: &timers,
        ..DiffOptions::default()
    };
    let timed = diff(&target, Some(&previous), &unchanged, now, with_timers).next;
    group.bench_function("2100 resources, unchanged, three timers", |bencher| {
        bencher.iter(|| {
            diff(
                &target,
                Some(black_box(&timed)),
                black_box(&unchanged),
                now,
                with_timers,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
