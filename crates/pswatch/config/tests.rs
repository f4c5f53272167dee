use super::*;
use notifier::ChannelKind;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn environment(name: &str) -> Option<String> {
    match name {
        "PLANETSCALE_SERVICE_TOKEN_ID" => Some("tok-id".into()),
        "PLANETSCALE_SERVICE_TOKEN" => Some("pscale_tkn_s3cr3t".into()),
        "SLACK_WEBHOOK_URL" => Some("https://hooks.slack.com/services/T0/B0/SLACKSECRET".into()),
        "PSWATCH_WEBHOOK_SECRET" => Some(SECRET.into()),
        "SMTP_PASSWORD" => Some("smtp-pa55".into()),
        _ => None,
    }
}

const VALID: &str = r#"
[planetscale]
service_token_id = "${PLANETSCALE_SERVICE_TOKEN_ID}"
service_token = "${PLANETSCALE_SERVICE_TOKEN}"

[state]
path = "/tmp/pswatch-state"

[poll]
interval = "30s"
active_interval = "5s"

[[watch]]
organization = "acme"
databases = ["commerce", "users"]

[[watch]]
organization = "globex"

[[channels]]
name = "ops-slack"
type = "slack"
webhook_url = "${SLACK_WEBHOOK_URL}"

[[channels]]
name = "dba-mail"
type = "email"
smtp_url = "smtp://pswatch:${SMTP_PASSWORD}@127.0.0.1:1025"
from = "pswatch <pswatch@example.com>"
to = ["dba@example.com"]

[[channels]]
name = "audit"
type = "webhook"
url = "https://hooks.example.com/pswatch"
secret = "${PSWATCH_WEBHOOK_SECRET}"

[[routes]]
channels = ["ops-slack", "audit"]
events = ["*"]

[[routes]]
channels = ["dba-mail"]
events = ["workflow.state_changed", "deploy_request.state_changed"]
states = ["cutover", "completed", "error", "complete", "complete_error"]
databases = ["commerce"]
"#;

#[test]
fn a_valid_file_gives_a_typed_config() {
    let config = parse(VALID, &environment).expect("valid");
    assert_eq!(
        config.planetscale.api_url.as_str(),
        "https://api.planetscale.com/v1"
    );
    assert_eq!(config.planetscale.token.id(), "tok-id");
    assert_eq!(config.poll.interval, Duration::from_secs(30));
    assert_eq!(config.watches[1].databases, None);
    assert_eq!(config.channels.len(), 3);
    assert_eq!(config.state_path, PathBuf::from("/tmp/pswatch-state"));
    // What waits for a person is polled like an idle database unless told otherwise, and
    // pending/ready bounces are quiet.
    assert_eq!(config.poll.waiting_interval, Duration::from_secs(30));
    assert!(!config.poll.notify_pending_ready);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn waiting_interval_and_notify_pending_ready_are_read() {
    let text = VALID.replace(
        "active_interval = \"5s\"",
        "active_interval = \"5s\"\nwaiting_interval = \"2m\"\nnotify_pending_ready = true",
    );
    let config = parse(&text, &environment).expect("valid");
    assert_eq!(config.poll.waiting_interval, Duration::from_secs(120));
    assert!(config.poll.notify_pending_ready);
    use diff_engine::Motion;
    assert_eq!(
        config.poll.interval_for(Motion::Active),
        Duration::from_secs(5)
    );
    assert_eq!(
        config.poll.interval_for(Motion::Waiting),
        Duration::from_secs(120)
    );
    assert_eq!(
        config.poll.interval_for(Motion::Idle),
        Duration::from_secs(30)
    );
    check(
        "active_interval = \"5s\"",
        "active_interval = \"5s\"\nwaiting_interval = \"whenever\"",
        &[("poll.waiting_interval", "not a duration")],
    );
    check(
        "active_interval = \"5s\"",
        "active_interval = \"5s\"\nnotify_pending_ready = \"yes\"",
        &[(
            "poll.notify_pending_ready",
            "is the text \"yes\", but must be true or false",
        )],
    );
}

#[test]
fn an_api_url_without_v1_is_valid_but_warned_about() {
    for (api_url, warned) in [
        ("https://api.planetscale.com", true),
        ("http://127.0.0.1:8080/", true),
        ("http://pswatch:hunter2@127.0.0.1:8080/", true),
        ("https://api.planetscale.com/v1", false),
        ("https://api.planetscale.com/v1/", false),
        ("http://127.0.0.1:8080/v1", false),
    ] {
        let text = VALID.replace(
            "[planetscale]",
            &format!("[planetscale]\napi_url = \"{api_url}\""),
        );
        let config = parse(&text, &environment).expect("valid");
        let warnings: Vec<String> = config.warnings.iter().map(ToString::to_string).collect();
        if warned {
            assert_eq!(warnings.len(), 1, "{api_url}: {warnings:?}");
            assert!(
                warnings[0].starts_with("planetscale.api_url: ")
                    && warnings[0].contains("does not end in /v1"),
                "{warnings:?}"
            );
            assert!(!warnings[0].contains("hunter2"), "{warnings:?}");
        } else {
            assert!(warnings.is_empty(), "{api_url}: {warnings:?}");
        }
    }
}

#[test]
fn the_shipped_examples_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in [
        "config/example.toml",
        "config/demo.toml",
        "config/compose.toml",
        "config/compose-ha.toml",
    ] {
        let path = root.join(name);
        let text = std::fs::read_to_string(&path).expect("example exists");
        if let Err(problems) = parse(&text, &with_new_kinds) {
            panic!("{name}: {problems:?}");
        }
    }
}

/// Runs `mutate` on the valid file and checks that the problems name these keys.
#[track_caller]
fn check(replace: &str, with: &str, expected: &[(&str, &str)]) {
    assert!(VALID.contains(replace), "{replace}");
    let text = VALID.replacen(replace, with, 1);
    let problems = parse(&text, &environment).expect_err("invalid");
    for (key, fragment) in expected {
        assert!(
            problems
                .iter()
                .any(|problem| problem.key == *key && problem.message.contains(fragment)),
            "expected {key}: …{fragment}… in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    for problem in &problems {
        for secret in ["pscale_tkn_s3cr3t", "SLACKSECRET", "MfKQ9r8G", "smtp-pa55"] {
            assert!(!problem.to_string().contains(secret), "{problem}");
        }
    }
}

#[test]
fn every_problem_is_reported_with_its_key() {
    check(
        "service_token = \"${PLANETSCALE_SERVICE_TOKEN}\"",
        "service_token = \"${NOT_SET_ANYWHERE}\"",
        &[(
            "planetscale.service_token",
            "environment variable NOT_SET_ANYWHERE is not set",
        )],
    );
    check(
        "interval = \"30s\"",
        "interval = \"soon\"",
        &[("poll.interval", "not a duration")],
    );
    check(
        "active_interval = \"5s\"",
        "active_interval = \"1ms\"",
        &[("poll.active_interval", "minimum")],
    );
    check(
        "name = \"dba-mail\"",
        "name = \"ops-slack\"",
        &[
            ("channels[1].name", "unique"),
            (
                "routes[1].channels[0]",
                "\"dba-mail\" is not the name of a channel",
            ),
        ],
    );
    check(
        "channels = [\"dba-mail\"]",
        "channels = [\"dba-mial\"]",
        &[(
            "routes[1].channels[0]",
            "\"dba-mial\" is not the name of a channel",
        )],
    );
    check(
        "url = \"https://hooks.example.com/pswatch\"",
        "url = \"not a url\"",
        &[("channels[2].url", "not a valid URL")],
    );
    check(
        "secret = \"${PSWATCH_WEBHOOK_SECRET}\"",
        "secret = \"whsec_***\"",
        &[("channels[2].secret", "not valid base64")],
    );
    check(
        "to = [\"dba@example.com\"]",
        "to = [\"dba-at-example\"]",
        &[("channels[1].to[0]", "not an email address")],
    );
    check(
        "to = [\"dba@example.com\"]",
        "to = []",
        &[("channels[1].to", "at least one recipient")],
    );
    check(
        "from = \"pswatch <pswatch@example.com>\"",
        "",
        &[("channels[1].from", "is missing")],
    );
    check(
        "smtp_url = \"smtp://pswatch:${SMTP_PASSWORD}@127.0.0.1:1025\"",
        "smtp_url = \"http://127.0.0.1\"",
        &[("channels[1].smtp_url", "smtp://")],
    );
    check(
        "type = \"slack\"",
        "type = \"matrix\"",
        &[("channels[0].type", "not a channel type")],
    );
    check(
        "webhook_url = \"${SLACK_WEBHOOK_URL}\"",
        "webhook_url = \"${SLACK_WEBHOOK_URL}\"\nsecret = \"x\"",
        &[("channels[0].secret", "not a key of \"slack\" channels")],
    );
    check(
        "events = [\"*\"]",
        "events = [\"workflow.[\"]",
        &[("routes[0].events", "not a valid glob")],
    );
    check(
        "events = [\"*\"]",
        "events = [\"branch.*\"]",
        &[("routes[0].events", "matches no event type")],
    );
    check(
        "organization = \"globex\"",
        "organization = \"acme\"",
        &[("watch[1].organization", "watched twice")],
    );
    check(
        "[poll]",
        "[log]\nformat = \"xml\"\nlevel = \"info,[\"\n[poll]",
        &[
            (
                "log.format",
                "\"xml\" is not a known value; use `pretty` or `json`",
            ),
            ("log.level", "not a log filter"),
        ],
    );
    // Several problems at once are all reported.
    check(
        "interval = \"30s\"",
        "interval = \"x\"\nnotify_on_baseline_errors = true",
        &[("poll.interval", "not a duration")],
    );
}

#[test]
fn structure_errors_name_the_key_and_the_line() {
    let problems = parse(
        &VALID.replace("[poll]", "[poll]\nintervall = \"3s\""),
        &environment,
    )
    .expect_err("unknown key");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].key, "poll.intervall");
    assert!(
        problems[0]
            .message
            .starts_with("is not a key here (the keys are `interval`"),
        "{problems:?}"
    );
    assert_eq!(problems[0].at, Some((10, 1)));
    assert!(problems[0].to_string().ends_with("(line 10, column 1)"));
    // A value of the wrong type is named by its key and placed at it.
    let problems = parse(
        &VALID.replace(
            "databases = [\"commerce\", \"users\"]",
            "databases = [\"commerce\", 5]",
        ),
        &environment,
    )
    .expect_err("wrong type");
    assert_eq!(problems[0].key, "watch[0].databases[1]");
    assert_eq!(problems[0].at, Some((15, 26)));
    let problems = parse("[planetscale\n", &environment).expect_err("syntax");
    assert!(problems[0].key.starts_with("line "), "{problems:?}");
    assert_eq!(problems[0].at.map(|(line, _)| line), Some(1));
}

/// A variable's value never shows in a message, even when it is of the wrong type.
#[test]
fn substituted_values_are_never_quoted() {
    let problems = parse(
        &VALID.replace(
            "active_interval = \"5s\"",
            "active_interval = \"${PLANETSCALE_SERVICE_TOKEN}\"",
        ),
        &environment,
    )
    .expect_err("not a duration");
    assert_eq!(problems.len(), 1, "{problems:?}");
    let text = problems[0].to_string();
    assert!(!text.contains("pscale_tkn_s3cr3t"), "{text}");
    assert!(text.contains("${PLANETSCALE_SERVICE_TOKEN}"), "{text}");
}

#[test]
fn missing_sections_are_named() {
    let problems = parse("", &environment).expect_err("empty");
    let keys: Vec<&str> = problems
        .iter()
        .map(|problem| problem.key.as_str())
        .collect();
    assert_eq!(keys, ["planetscale", "watch", "channels"]);
}

#[test]
fn interpolation_handles_escapes_and_bad_names() {
    let mut problems = Vec::new();
    let mut value = "a $${literal} $5 ${PSWATCH_WEBHOOK_SECRET}".to_string();
    interpolate("k", &mut value, &environment, &mut problems);
    assert_eq!(value, format!("a ${{literal}} $5 {SECRET}"));
    for bad in ["${", "${1A}", "${A-B}", "${}"] {
        let mut value = bad.to_string();
        interpolate("k", &mut value, &environment, &mut problems);
    }
    assert_eq!(problems.len(), 4, "{problems:?}");
}

#[test]
fn no_input_makes_it_panic() {
    // Every prefix of a valid file, and some noise: errors, never panics.
    for end in (0..VALID.len()).filter(|end| VALID.is_char_boundary(*end)) {
        let _ = parse(&VALID[..end], &environment);
    }
    for text in [
        "\0\0\0",
        "[[watch]]\norganization = 5",
        "channels = 3",
        "[[routes]]\nchannels = [[]]",
        "${",
    ] {
        let _ = parse(text, &environment);
    }
}

#[test]
fn smtp_urls_of_every_documented_form_are_accepted() {
    for smtp_url in [
        "smtp://127.0.0.1:1025",
        "smtp://mail.example.com:587?tls=required",
        "smtps://pswatch:${SMTP_PASSWORD}@smtp.example.com:465",
        "smtps://smtp.example.com",
    ] {
        let text = VALID.replacen(
            "smtp://pswatch:${SMTP_PASSWORD}@127.0.0.1:1025",
            smtp_url,
            1,
        );
        if let Err(problems) = parse(&text, &with_new_kinds) {
            panic!("{smtp_url}: {problems:?}");
        }
    }
}

const NEW_KINDS: &str = r#"
[[channels]]
name = "ops-threads"
type = "slack"
bot_token = "${SLACK_BOT_TOKEN}"
channel = "C0123456789"

[[channels]]
name = "ops-teams"
type = "teams"
webhook_url = "${TEAMS_WEBHOOK_URL}"

[[channels]]
name = "oncall"
type = "pagerduty"
routing_key = "${PAGERDUTY_ROUTING_KEY}"
page_on_warning = true
"#;

fn with_new_kinds(name: &str) -> Option<String> {
    match name {
        "SLACK_BOT_TOKEN" => Some("xoxb-1-2-B0TS3CR3T".into()),
        "TEAMS_WEBHOOK_URL" => Some(
            "https://prod-01.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=T3AMSS1G"
                .into(),
        ),
        "PAGERDUTY_ROUTING_KEY" => Some("R0UT1NGK3Y0000000000000000000000".into()),
        "DISCORD_WEBHOOK_URL" => Some("https://discord.com/api/webhooks/123/D1SC0RDT0K3N".into()),
        "GOOGLE_CHAT_WEBHOOK_URL" => Some(
            "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=K3Y&token=T0K3N".into(),
        ),
        "PSWATCH_ADMIN_TOKEN" => Some("an-admin-token-long-enough-0123456789".into()),
        "GITHUB_TOKEN" => Some("github_pat_11AAAA_s3cr3t".into()),
        other => environment(other),
    }
}

#[test]
fn slack_web_api_teams_and_pagerduty_channels_are_read_with_their_defaults() {
    let text = format!("{VALID}{NEW_KINDS}");
    let config = parse(&text, &with_new_kinds).expect("valid");
    let kind = |name: &str| {
        &config
            .channels
            .iter()
            .find(|channel| channel.name == name)
            .expect(name)
            .kind
    };
    match kind("ops-threads") {
        ChannelKind::Slack(notifier::SlackChannel::Api(api)) => {
            assert_eq!(api.channel, "C0123456789");
            assert_eq!(api.api_url.as_str(), "https://slack.com/api");
            assert_eq!(api.bot_token.expose(), "xoxb-1-2-B0TS3CR3T");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(kind("ops-teams"), ChannelKind::Teams { .. }));
    match kind("oncall") {
        ChannelKind::PagerDuty(pagerduty) => {
            assert_eq!(pagerduty.api_url.as_str(), "https://events.pagerduty.com/");
            assert!(pagerduty.page_on_warning);
        }
        other => panic!("{other:?}"),
    }
    let debug = format!("{:?}", config.channels);
    for secret in ["B0TS3CR3T", "T3AMSS1G", "R0UT1NGK3Y"] {
        assert!(!debug.contains(secret), "{debug}");
    }
}

#[test]
fn new_channel_kinds_report_each_problem_with_its_key() {
    /// What to replace, with what, and the problems (key, fragment) expected.
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let cases: [Case<'_>; 7] = [
        (
            "channel = \"C0123456789\"",
            "channel = \"#ops\"",
            &[("channels[3].channel", "not a channel id")],
        ),
        (
            "bot_token = \"${SLACK_BOT_TOKEN}\"",
            "bot_token = \"xoxp-user-token-S3CR3T\"",
            &[("channels[3].bot_token", "must be a bot token")],
        ),
        (
            "bot_token = \"${SLACK_BOT_TOKEN}\"\n",
            "",
            &[("channels[3].bot_token", "is missing")],
        ),
        (
            "bot_token = \"${SLACK_BOT_TOKEN}\"",
            "bot_token = \"${SLACK_BOT_TOKEN}\"\nwebhook_url = \"${SLACK_WEBHOOK_URL}\"",
            &[
                ("channels[3].bot_token", "belongs to the Web API"),
                ("channels[3].channel", "belongs to the Web API"),
            ],
        ),
        (
            "webhook_url = \"${TEAMS_WEBHOOK_URL}\"",
            "webhook_url = \"not a url\"",
            &[("channels[4].webhook_url", "not a valid URL")],
        ),
        (
            "routing_key = \"${PAGERDUTY_ROUTING_KEY}\"",
            "routing_key = \"\"",
            &[("channels[5].routing_key", "is empty")],
        ),
        (
            "page_on_warning = true",
            "page_on_warning = true\nseverity = \"high\"",
            &[(
                "channels[5].severity",
                "is not a key of \"pagerduty\" channels",
            )],
        ),
    ];
    for (replace, with, expected) in cases {
        let text = format!("{VALID}{NEW_KINDS}").replacen(replace, with, 1);
        let problems = parse(&text, &with_new_kinds).expect_err(with);
        for (key, fragment) in expected {
            assert!(
                problems
                    .iter()
                    .any(|problem| problem.key == *key && problem.message.contains(fragment)),
                "expected {key}: …{fragment}… in {problems:#?}"
            );
        }
        assert_eq!(problems.len(), expected.len(), "{problems:#?}");
        let text = format!("{problems:?}");
        for secret in ["B0TS3CR3T", "T3AMSS1G", "R0UT1NGK3Y", "S3CR3T"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
    // A Slack channel with neither way to reach Slack.
    let text = format!("{VALID}{NEW_KINDS}").replacen(
        "bot_token = \"${SLACK_BOT_TOKEN}\"\nchannel = \"C0123456789\"\n",
        "",
        1,
    );
    let problems = parse(&text, &with_new_kinds).expect_err("no way to Slack");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].key, "channels[3].webhook_url");
    assert!(problems[0].message.contains("bot_token"), "{}", problems[0]);
}

#[test]
fn the_receiver_is_off_unless_listen_is_set_and_its_keys_are_checked() {
    let config = parse(VALID, &environment).expect("valid");
    assert!(config.receiver.is_none());
    let with = |receiver: &str| format!("{VALID}\n[receiver]\n{receiver}\n");
    let config = parse(
        &with("listen = \"0.0.0.0:9185\"\npublic_url = \"https://pswatch.example.com/planetscale\"\nsecrets = [\"${PSWATCH_WEBHOOK_SECRET}\"]"),
        &environment,
    )
    .expect("valid");
    let receiver = config.receiver.expect("on");
    assert_eq!(receiver.listen.to_string(), "0.0.0.0:9185");
    assert_eq!(receiver.secrets.len(), 1);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert!(!format!("{receiver:?}").contains("MfKQ9r8G"));

    let problems = parse(
        &with("listen = \"127.0.0.1:9185\"\npublic_url = \"http://pswatch.example.com/planetscale\"\nsecrets = [\" \", \"${PSWATCH_WEBHOOK_SECRET}\"]\nport = 3"),
        &environment,
    )
    .expect_err("invalid");
    let mut keys: Vec<&str> = problems
        .iter()
        .map(|problem| problem.key.as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "receiver.port",
            "receiver.public_url",
            "receiver.secrets[0]"
        ],
        "{problems:#?}"
    );
    let problems: Vec<_> = problems
        .into_iter()
        .filter(|problem| problem.key == "receiver.public_url")
        .collect();
    assert!(problems[0].message.contains("HTTPS"), "{}", problems[0]);

    let config = parse(
        &with("secrets = [\"${PSWATCH_WEBHOOK_SECRET}\"]"),
        &environment,
    )
    .expect("valid");
    assert!(config.receiver.is_none());
    assert_eq!(
        config.warnings[0].key, "receiver.listen",
        "{:?}",
        config.warnings
    );
    let config = parse(&with("listen = \"127.0.0.1:9185\""), &environment).expect("valid");
    assert_eq!(
        config.warnings[0].key, "receiver.secrets",
        "{:?}",
        config.warnings
    );
    // It says what happens: the secrets come from PlanetScale's webhook list.
    let warning = config.warnings[0].to_string();
    assert!(
        warning.contains("reads from PlanetScale") && !warning.contains("until"),
        "{warning}"
    );
}

#[test]
fn an_admin_server_off_loopback_needs_a_token() {
    let with = |admin: &str| format!("{VALID}\n[admin]\n{admin}\n");
    let problems = parse(&with("listen = \"0.0.0.0:9184\""), &environment).expect_err("refused");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].key, "admin.listen");
    assert!(
        problems[0].message.contains("admin.token"),
        "{}",
        problems[0]
    );
    let config = parse(
        &with("listen = \"0.0.0.0:9184\"\ntoken = \"${PLANETSCALE_SERVICE_TOKEN}-and-more-to-be-long\""),
        &environment,
    )
    .expect("a token makes it acceptable");
    assert!(config.admin_token.is_some());
    assert!(!format!("{config:?}").contains("pscale_tkn_s3cr3t"));
    parse(&with("listen = \"127.0.0.1:9184\""), &environment).expect("loopback needs none");
    parse(&with("listen = \"[::1]:9184\""), &environment).expect("loopback needs none");
    let problems = parse(&with("token = \"short\""), &environment).expect_err("refused");
    assert_eq!(problems[0].key, "admin.token");
    assert!(!problems[0].to_string().contains("\"short\""));
    // 31 characters are too few; the shipped Secret's placeholder is refused.
    let problems = parse(
        &with(&format!("token = \"{}\"", "x".repeat(31))),
        &environment,
    )
    .expect_err("refused");
    assert!(
        problems[0].message.contains("shorter than 32"),
        "{}",
        problems[0]
    );
    parse(
        &with(&format!("token = \"{}\"", "x".repeat(32))),
        &environment,
    )
    .expect("32 will do");
    let problems = parse(
        &with("token = \"replace-me-with-openssl-rand-hex-32\""),
        &environment,
    )
    .expect_err("refused");
    assert!(
        problems[0].message.contains("placeholder"),
        "{}",
        problems[0]
    );
}

#[test]
fn alerts_default_to_an_hour_and_half_an_hour_and_zero_turns_them_off() {
    let config = parse(VALID, &environment).expect("valid");
    assert_eq!(
        config.alerts.cutover_reminder,
        Some(Duration::from_secs(3600))
    );
    assert_eq!(config.alerts.stall_after, Some(Duration::from_secs(1800)));
    let options = config.diff_options();
    assert_eq!(options.cutover_reminder, Some(time::Duration::hours(1)));
    let text = format!("{VALID}\n[alerts]\ncutover_reminder = \"0s\"\nstall_after = \"10m\"\n");
    let config = parse(&text, &environment).expect("valid");
    assert_eq!(config.alerts.cutover_reminder, None);
    assert_eq!(config.diff_options().cutover_reminder, None);
    assert_eq!(config.alerts.stall_after, Some(Duration::from_secs(600)));
    let text =
        format!("{VALID}\n[alerts]\ncutover_reminder = \"500ms\"\nstall_after = \"later\"\n");
    let problems = parse(&text, &environment).expect_err("invalid");
    assert!(
        problems
            .iter()
            .any(|problem| problem.key == "alerts.cutover_reminder"
                && problem.message.contains("at least \"1s\"")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|problem| problem.key == "alerts.stall_after"),
        "{problems:#?}"
    );
}

#[test]
fn recurring_silences_are_read_and_their_problems_named() {
    let text = format!(
        "{VALID}
[[silences]]
database = \"acme/commerce\"
events = [\"deploy_request.*\"]
weekdays = [\"sat\", \"Sunday\"]
start = \"22:00\"
end = \"06:00\"
comment = \"weekend maintenance\"

[[silences]]
organization = \"*\"
start = \"00:00\"
end = \"24:00\"
"
    );
    let config = parse(&text, &environment).expect("valid");
    assert_eq!(config.silences.len(), 2);
    assert_eq!(config.silences[0].id, "silences[0]");
    assert_eq!(
        config.silences[0].window.to_string(),
        "weekly Sat,Sun 22:00-06:00 UTC"
    );
    assert_eq!(config.silences[1].comment, "configured in silences[1]");
    assert!(config.silences[0].is_active(time::macros::datetime!(2026-11-29 05:00 UTC)));

    let text = format!(
        "{VALID}
[[silences]]
events = [\"deploy_requests.*\"]
weekdays = [\"someday\"]
start = \"25:00\"
end = \"6pm\"

[[silences]]
start = \"01:00\"
end = \"02:00\"
"
    );
    let problems = parse(&text, &environment).expect_err("invalid");
    for (key, fragment) in [
        ("silences[0].weekdays[0]", "not a weekday"),
        ("silences[0].start", "not a time of day"),
        ("silences[0].end", "not a time of day"),
        ("silences[0]", "matches no event type"),
        ("silences[1]", "at least one of organization"),
    ] {
        assert!(
            problems
                .iter()
                .any(|problem| problem.key == key && problem.message.contains(fragment)),
            "expected {key}: …{fragment}… in {problems:#?}"
        );
    }
}

#[test]
fn a_postgres_store_is_read_and_checked() {
    let text = VALID.replacen(
        "path = \"/tmp/pswatch-state\"",
        "url = \"postgres://pswatch:${PLANETSCALE_SERVICE_TOKEN}@db.internal:5432/ops?sslmode=verify-full\"\nschema = \"pswatch_prod\"",
        1,
    );
    let config = parse(&text, &environment).expect("valid");
    let database = config.state_database.as_ref().expect("a database");
    assert_eq!(database.schema, "pswatch_prod");
    assert!(database.url.expose().contains("@db.internal:5432/ops"));
    assert!(
        !format!("{config:?}").contains("pscale_tkn_s3cr3t"),
        "the URL is a secret"
    );
    assert_eq!(
        config.state_description(),
        "the PostgreSQL state store (schema pswatch_prod)"
    );
    // The schema defaults to pswatch.
    let text = VALID.replacen(
        "path = \"/tmp/pswatch-state\"",
        "url = \"postgresql://db/ops\"",
        1,
    );
    let config = parse(&text, &environment).expect("valid");
    assert_eq!(
        config.state_database.expect("a database").schema,
        DEFAULT_STATE_SCHEMA
    );
    check(
        "path = \"/tmp/pswatch-state\"",
        "path = \"/tmp/pswatch-state\"\nschema = \"other\"",
        &[("state.schema", "applies to a PostgreSQL store only")],
    );
    check(
        "path = \"/tmp/pswatch-state\"",
        "url = \"mysql://${PLANETSCALE_SERVICE_TOKEN}@db/ops\"",
        &[("state.url", "must be a URL starting with postgres://")],
    );
}

#[test]
fn read_tokens_are_long_secrets_beside_a_token() {
    let admin = format!("token = \"{}\"", "a".repeat(32));
    let with = |admin: &str| format!("{VALID}\n[admin]\n{admin}\n");
    let config = parse(
        &with(&format!(
            "{admin}\nread_tokens = [\"{}\", \"{}\"]",
            "r".repeat(32),
            "s".repeat(40)
        )),
        &environment,
    )
    .expect("valid");
    assert_eq!(config.admin_read_tokens.len(), 2);
    assert!(!format!("{config:?}").contains(&"r".repeat(32)));
    let refused = |read_tokens: &str, key: &str, says: &str| {
        let problems = parse(&with(read_tokens), &environment).expect_err("refused");
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert_eq!(problems[0].key, key, "{problems:#?}");
        assert!(problems[0].message.contains(says), "{}", problems[0]);
        // Never quoted.
        assert!(
            !problems[0].to_string().contains("rrrrrrrr"),
            "{}",
            problems[0]
        );
    };
    refused(
        &format!("{admin}\nread_tokens = [\"{}\"]", "r".repeat(31)),
        "admin.read_tokens[0]",
        "shorter than 32",
    );
    refused(
        &format!(
            "{admin}\nread_tokens = [\"{}\", \"{}\"]",
            "r".repeat(32),
            "a".repeat(32)
        ),
        "admin.read_tokens[1]",
        "is the admin token",
    );
    refused(
        &format!("{admin}\nread_tokens = [\"{0}\", \"{0}\"]", "r".repeat(32)),
        "admin.read_tokens[1]",
        "repeats",
    );
    refused(
        &format!("read_tokens = [\"{}\"]", "r".repeat(32)),
        "admin.read_tokens",
        "needs admin.token",
    );
}

#[test]
fn github_channels_are_read_with_their_defaults_and_checked() {
    let with =
        |keys: &str| format!("{VALID}\n[[channels]]\nname = \"prs\"\ntype = \"github\"\n{keys}\n");
    let config = parse(
        &with("token = \"github_pat_s3cr3t0123\"\nrepository = \"acme/shop\""),
        &environment,
    )
    .expect("valid");
    let channel = config
        .channels
        .iter()
        .find(|channel| channel.name == "prs")
        .expect("prs");
    let ChannelKind::GitHub(github) = &channel.kind else {
        panic!("{:?}", channel.kind);
    };
    assert_eq!(github.api_url.as_str(), "https://api.github.com/");
    assert_eq!(github.git_ref, "{branch}");
    assert_eq!(github.context, "planetscale/{database}");
    assert!(!format!("{config:?}").contains("github_pat_s3cr3t0123"));
    let config = parse(
        &with("token = \"t\"\nrepository = \"acme/shop\"\napi_url = \"https://github.example.com/api/v3\"\nref = \"pscale/{branch}\"\ncontext = \"{organization}/{database}\""),
        &environment,
    )
    .expect("valid");
    let github = config
        .channels
        .iter()
        .find_map(|channel| match &channel.kind {
            ChannelKind::GitHub(github) => Some(github.clone()),
            _ => None,
        })
        .expect("github");
    assert_eq!(github.git_ref, "pscale/{branch}");
    assert_eq!(github.api_url.as_str(), "https://github.example.com/api/v3");
    for (keys, key, says) in [
        (
            "token = \"a b\"\nrepository = \"acme/shop\"",
            "token",
            "not a GitHub token",
        ),
        (
            "token = \"t\"\nrepository = \"acme\"",
            "repository",
            "not owner/name",
        ),
        (
            "token = \"t\"\nrepository = \"acme/../x\"",
            "repository",
            "not owner/name",
        ),
        (
            "token = \"t\"\nrepository = \"acme/shop\"\nref = \"{pr}\"",
            "ref",
            "{pr}",
        ),
        (
            "token = \"t\"\nrepository = \"acme/shop\"\ncontext = \"{database\"",
            "context",
            "without its }",
        ),
        (
            "token = \"t\"\nrepository = \"acme/shop\"\ncomments = \"yes\"",
            "channels[3]",
            "must be true or false",
        ),
    ] {
        let problems = parse(&with(keys), &environment).expect_err(keys);
        assert!(
            problems
                .iter()
                .any(|problem| problem.key.ends_with(key) || problem.message.contains(key)),
            "{keys}: {problems:#?}"
        );
        assert!(
            problems
                .iter()
                .any(|problem| problem.message.contains(says)),
            "{keys}: {problems:#?}"
        );
        assert!(!format!("{problems:?}").contains("a b"), "{problems:#?}");
    }
}

#[test]
fn alertmanager_channels_are_read_with_their_defaults_and_checked() {
    let with = |keys: &str| {
        format!("{VALID}\n[[channels]]\nname = \"am\"\ntype = \"alertmanager\"\n{keys}\n")
    };
    let config = parse(
        &with("urls = [\"http://am-0:9093\", \"http://am-1:9093/\"]\nbearer_token = \"am-t0k3n-s3cr3t\""),
        &environment,
    )
    .expect("valid");
    let alertmanager = config
        .channels
        .iter()
        .find_map(|channel| match &channel.kind {
            ChannelKind::Alertmanager(alertmanager) => Some(alertmanager.clone()),
            _ => None,
        })
        .expect("am");
    assert_eq!(alertmanager.urls.len(), 2);
    assert_eq!(alertmanager.resend, Duration::from_secs(60));
    assert!(matches!(
        &alertmanager.auth,
        notifier::AlertmanagerAuth::Bearer(token) if token.expose() == "am-t0k3n-s3cr3t"
    ));
    assert!(!format!("{config:?}").contains("am-t0k3n-s3cr3t"));
    let config = parse(
        &with("urls = [\"https://am.example.com\"]\nresend = \"30s\"\nbasic_auth = { username = \"pswatch\", password = \"pa55-w0rd\" }"),
        &environment,
    )
    .expect("valid");
    assert!(!format!("{config:?}").contains("pa55-w0rd"));
    for (keys, key, says) in [
        ("urls = []", "urls", "from 1 to 16"),
        ("urls = [\"am:9093\"]", "urls[0]", "http:// or https://"),
        (
            "urls = [\"http://user:pa55-w0rd@am:9093\"]",
            "urls[0]",
            "holds credentials",
        ),
        (
            "urls = [\"http://am:9093/?x=1\"]",
            "urls[0]",
            "no query",
        ),
        (
            "urls = [\"http://am:9093\", \"http://am:9093\"]",
            "urls[1]",
            "given twice",
        ),
        (
            "urls = [\"http://am:9093\"]\nbearer_token = \"t\"\nbasic_auth = { username = \"u\", password = \"pa55-w0rd\" }",
            "bearer_token",
            "exclusive",
        ),
        (
            "urls = [\"http://am:9093\"]\nbasic_auth = { username = \"u:v\", password = \"pa55-w0rd\" }",
            "basic_auth.username",
            "colon",
        ),
        (
            "urls = [\"http://am:9093\"]\nbearer_token = \"pa55 w0rd\"",
            "bearer_token",
            "whitespace",
        ),
        ("urls = [\"http://am:9093\"]\nresend = \"1s\"", "resend", "from 10s to 1h"),
        (
            "urls = [\"http://am:9093\"]\nrepeat = \"1m\"",
            "channels[3].repeat",
            "is not a key of \"alertmanager\" channels",
        ),
    ] {
        let problems = parse(&with(keys), &environment).expect_err(keys);
        assert!(
            problems
                .iter()
                .any(|problem| problem.key.ends_with(key) && problem.message.contains(says)),
            "{keys}: {problems:#?}"
        );
        assert!(!format!("{problems:?}").contains("pa55"), "{problems:#?}");
    }
}

#[test]
fn metrics_and_change_events_are_read_and_checked() {
    let config = parse(VALID, &environment).expect("valid");
    assert_eq!(config.metrics_max_resources, 1_000);
    let config = parse(
        &format!("{VALID}\n[metrics]\nmax_resources = 0\n"),
        &environment,
    )
    .expect("valid");
    assert_eq!(config.metrics_max_resources, 0);
    for text in ["max_resources = -1", "max_resources = 100001"] {
        let problems =
            parse(&format!("{VALID}\n[metrics]\n{text}\n"), &environment).expect_err(text);
        assert!(
            problems
                .iter()
                .any(|problem| problem.key == "metrics.max_resources"),
            "{problems:#?}"
        );
    }
    let problems = parse(
        &format!("{VALID}\n[metrics]\nmax_series = 5\n"),
        &environment,
    )
    .expect_err("unknown key");
    assert!(
        problems
            .iter()
            .any(|problem| problem.key.starts_with("metrics")),
        "{problems:#?}"
    );
    let config = parse(
        &format!("{VALID}\n[[channels]]\nname = \"pd\"\ntype = \"pagerduty\"\nrouting_key = \"R0ut1ngK3y\"\nchange_events = true\n"),
        &environment,
    )
    .expect("valid");
    assert!(config.channels.iter().any(|channel| matches!(
        &channel.kind,
        ChannelKind::PagerDuty(pagerduty) if pagerduty.change_events
    )));
}
