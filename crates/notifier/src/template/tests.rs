use super::*;

fn source(name: &str, events: &[&str], title: Option<&str>, text: Option<&str>) -> TemplateSource {
    TemplateSource {
        name: name.into(),
        events: events.iter().map(|&glob| glob.to_owned()).collect(),
        title: title.map(str::to_owned),
        text: text.map(str::to_owned),
    }
}

fn errors(sources: &[TemplateSource]) -> Vec<String> {
    match Templates::compile(sources) {
        Ok(templates) => templates.check().iter().map(ToString::to_string).collect(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_template_writes_title_and_text_from_the_event() {
    let templates = Templates::compile(&[source(
        "short",
        &["workflow.*"],
        Some("{{ event.database }}: {{ event.resource }} is {{ event.to }}"),
        Some("{% for fact in event.facts %}{{ fact.label }}={{ fact.value }}\n{% endfor %}from {{ event.from }} · {{ event.dashboard_url }}"),
    )])
    .expect("compiles");
    assert!(templates.check().is_empty(), "{:?}", templates.check());
    let event = sample_event("workflow.state_changed").expect("sample");
    let wording = templates
        .render("short", &event, Flavor::Plain)
        .expect("renders");
    assert_eq!(
        wording.title.as_deref(),
        Some("commerce: workflow #3 move-customers is cutover")
    );
    let text = wording.text.expect("text");
    assert!(text.starts_with("Workflow=move-customers (#3)\n"), "{text}");
    assert!(
        text.ends_with(
            "from switched_primaries · https://app.planetscale.com/acme/commerce/workflows"
        ),
        "{text}"
    );
    assert_eq!(
        templates.event_types("short"),
        ["workflow.state_changed", "workflow.errors_changed"]
    );
}

#[test]
fn compile_errors_name_the_template_the_field_the_line_and_the_column() {
    let said = errors(&[source(
        "broken",
        &[],
        Some("fine"),
        Some("line one\n  {{ event.database }\n"),
    )]);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with("template \"broken\", text, line 2, column"),
        "{said:?}"
    );
    let said = errors(&[source("empty", &[], None, None)]);
    assert_eq!(said, ["template \"empty\": set title, text or both"]);
    let said = errors(&[source("nothing", &["workflows.*"], Some("x"), None)]);
    assert!(
        said[0].contains("\"workflows.*\" matches no event type"),
        "{said:?}"
    );
}

#[test]
fn check_renders_against_every_type_a_template_matches() {
    // A workflow's field, asked of every type: strict undefined variables fail on the first
    // type that has no workflow, with where.
    let said = errors(&[source(
        "all",
        &[],
        None,
        Some("Moving {{ event.workflow.name }}"),
    )]);
    assert_eq!(
        said.len(),
        EVENT_TYPES.len() - 2,
        "every type but the two workflow ones: {said:#?}"
    );
    assert!(
        said[0].starts_with("template \"all\", text, line 1, column "),
        "{said:?}"
    );
    assert!(
        said[0].contains("(rendering a sample deploy_request.state_changed event)"),
        "{said:?}"
    );
    assert!(said[0].contains("undefined"), "{said:?}");
    // Guarded, it renders for every type.
    assert!(errors(&[source(
        "all",
        &[],
        None,
        Some("{% if event.workflow is defined %}Moving {{ event.workflow.name }}{% else %}{{ event.headline }}{% endif %}"),
    )])
    .is_empty());
}

#[test]
fn a_template_cannot_run_for_ever_or_fill_memory() {
    let templates = Templates::compile(&[
        source(
            "forever",
            &[],
            Some(
                "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            ),
            None,
        ),
        source("long", &[], None, Some("{{ 'x' * 10000 }}")),
    ])
    .expect("compiles");
    let event = sample_event("workflow.state_changed").expect("sample");
    let error = templates
        .render("forever", &event, Flavor::Plain)
        .expect_err("out of fuel");
    assert!(error.to_string().contains("fuel"), "{error}");
    let long = templates
        .render("long", &event, Flavor::Plain)
        .expect("renders, cut");
    let text = long.text.expect("text");
    assert_eq!(text.chars().count(), TEXT_LIMIT + 1);
    assert!(text.ends_with('…'));
}

#[test]
fn no_file_no_include_no_macro() {
    for (name, text) in [
        ("include", "{% include 'other' %}"),
        ("import", "{% import 'other' as other %}"),
        ("macro", "{% macro m() %}x{% endmacro %}{{ m() }}"),
    ] {
        let said = errors(&[source(name, &[], None, Some(text))]);
        assert!(!said.is_empty(), "{name} is refused");
    }
}

#[test]
fn slack_values_are_escaped_and_the_template_s_own_marks_kept() {
    let templates = Templates::compile(&[source(
        "slack",
        &[],
        None,
        Some("*{{ event.planetscale.name }}* <https://example.com|link>"),
    )])
    .expect("compiles");
    let mut event = sample_event("planetscale.branch.ready").expect("sample");
    if let diff_engine::EventKind::PlanetScale { resource, .. } = &mut event.kind {
        resource["name"] = serde_json::json!("<!channel> & co");
    }
    let slack = templates
        .render("slack", &event, Flavor::Slack)
        .expect("renders");
    assert_eq!(
        slack.text.as_deref(),
        Some("*&lt;!channel&gt; &amp; co* <https://example.com|link>")
    );
    let plain = templates
        .render("slack", &event, Flavor::Plain)
        .expect("renders");
    assert_eq!(
        plain.text.as_deref(),
        Some("*<!channel> & co* <https://example.com|link>")
    );
}

#[test]
fn a_channel_takes_the_first_template_that_matches_and_reports_failures() {
    let templates = Arc::new(
        Templates::compile(&[
            source(
                "failing",
                &["deploy_operation.*"],
                Some("{{ event.nothing.here }}"),
                None,
            ),
            source(
                "workflows",
                &["workflow.*"],
                Some("W {{ event.resource }}"),
                None,
            ),
            source("anything", &[], Some("A {{ event.type }}"), None),
        ])
        .expect("compiles"),
    );
    let channel = ChannelTemplates::new(
        Arc::clone(&templates),
        &["failing".into(), "workflows".into(), "anything".into()],
    );
    let events: Vec<Event> = [
        "workflow.state_changed",
        "deploy_request.state_changed",
        "deploy_operation.state_changed",
    ]
    .iter()
    .map(|event_type| sample_event(event_type).expect("sample"))
    .collect();
    let mut failures = Vec::new();
    let words = channel.words(&events, Flavor::Plain, &mut |error| {
        failures.push(error.to_string());
    });
    assert_eq!(
        words.title(&events[0]),
        Some("W workflow #3 move-customers")
    );
    assert_eq!(
        words.title(&events[1]),
        Some("A deploy_request.state_changed")
    );
    assert_eq!(words.of(&events[2]), None, "the built-in text stands in");
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].starts_with("template \"failing\", title"),
        "{failures:?}"
    );
    let none = ChannelTemplates::default().words(&events, Flavor::Plain, &mut |_| {});
    assert!(none.is_empty());
}

/// docs/templates.md lists every variable of every event type, as `event.<path>`.
#[test]
fn the_documentation_lists_every_variable() {
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/templates.md"),
    )
    .expect("docs/templates.md");
    let mut missing = std::collections::BTreeSet::new();
    for event_type in EVENT_TYPES {
        let event = sample_event(event_type).expect("sample");
        let context = context::context(&event);
        let Some(fields) = context["event"].as_object() else {
            panic!("no event object");
        };
        for (key, value) in fields {
            let mut paths = vec![format!("event.{key}")];
            if let (Some(object), false) = (value.as_object(), key == "planetscale") {
                paths.extend(object.keys().map(|inner| format!("event.{key}.{inner}")));
            }
            for path in paths {
                if !docs.contains(&format!("`{path}`")) {
                    missing.insert(format!("{path} ({event_type})"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "not in docs/templates.md: {missing:#?}");
}

/// What docs/templates.md advises for fields an event may lack works under strict undefined
/// variables.
#[test]
fn absent_fields_can_be_guarded() {
    let said = errors(&[source(
        "guarded",
        &["deploy_request.*"],
        Some("{{ event.deploy_request.nothing | default('not yet') }}{% if event.workflow is defined %}{{ event.workflow.name }}{% endif %}"),
        None,
    )]);
    assert!(said.is_empty(), "{said:?}");
}

/// Templates written to stop pswatch (a value holding itself, values nested as deep as the
/// fuel allows, printing them every way minijinja can, sources nested deeply, work without
/// end) are errors named at `check`, never an abort or a hang.
#[test]
fn no_template_overflows_the_stack_or_runs_without_end() {
    let deep_list = "{% set x = [] %}{% for i in range(20000) %}{% set x = [x] %}{% if loop.last %}{{ PRINT }}{% endif %}{% endfor %}";
    let deep_map = "{% set x = {} %}{% for i in range(20000) %}{% set x = {'a': x} %}{% if loop.last %}{{ PRINT }}{% endif %}{% endfor %}";
    let mut hostile: Vec<String> = vec![
        "{% set ns = namespace(a=1) %}{% set ns.me = ns %}{{ ns }}".into(),
        "{% set ns = namespace() %}{% set ns.me = [ns] %}{{ debug(ns) }}".into(),
        "{% set ns = namespace() %}{% set ns.me = ns %}{{ ns|pprint }}".into(),
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}".into(),
        "{{ 'x' * 100000000 }}".into(),
        "{{ range(100000)|join(',') * 1000 }}".into(),
        format!("{{{{ {}1{} }}}}", "[".repeat(5000), "]".repeat(5000)),
        format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000)),
        format!(
            "{}x{}",
            "{% if true %}".repeat(3000),
            "{% endif %}".repeat(3000)
        ),
    ];
    for print in [
        "x", "x ~ ''", "x|string", "x|tojson", "x|pprint", "debug(x)", "x == x", "x|length",
    ] {
        hostile.push(deep_list.replace("PRINT", print));
        hostile.push(deep_map.replace("PRINT", print));
    }
    for (index, text) in hostile.iter().enumerate() {
        let started = std::time::Instant::now();
        let said = errors(&[source(
            "hostile",
            &["workflow.state_changed"],
            None,
            Some(text),
        )]);
        let took = started.elapsed();
        assert!(
            took < RENDER_TIME_LIMIT * 2 + std::time::Duration::from_secs(1),
            "template {index} took {took:?}"
        );
        // Deep values the fuel allows may print (cut at the text's limit): what matters is
        // that pswatch comes back. The namespace and the endless ones must be refused.
        if index < 6 {
            assert_eq!(said.len(), 1, "template {index}: {said:?}");
            assert!(said[0].contains("template \"hostile\""), "{said:?}");
        }
    }
    let said = errors(&[source(
        "ns",
        &[],
        Some("{% set ns = namespace() %}{{ ns }}"),
        None,
    )]);
    assert!(said[0].contains("namespace() is not available"), "{said:?}");
}
