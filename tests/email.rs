//! Email delivery through a real SMTP server process (aiosmtpd) on loopback, with the received
//! message parsed.

mod support;

use std::time::Duration;

use diff_engine::testing::{workflow, workflow_state_changed};
use diff_engine::{Event, WorkflowState};
use mail_parser::{MessageParser, MimeHeaders as _};
use notifier::{Channel, ChannelKind, EmailChannel, Notifier, Secret, Verdict};
use support::SmtpSink;

fn event() -> Event {
    workflow_state_changed(
        Some(WorkflowState::SwitchedPrimaries),
        workflow(3)
            .id("wf3")
            .state(WorkflowState::Cutover)
            .keyspaces("commerce", "customers")
            .branch("main")
            .cutover_by("Grace Hopper")
            .build(),
    )
    .id("evt_9a7b")
    .observed_at(time::OffsetDateTime::now_utc())
    .build()
}

fn email_notifier(smtp_url: String, to: &[&str]) -> Notifier {
    Notifier::new(&[Channel::new(
        "dba-mail",
        ChannelKind::Email(EmailChannel {
            smtp_url: Secret::new(smtp_url),
            from: "pswatch <pswatch@example.com>".parse().expect("from"),
            to: to.iter().map(|to| to.parse().expect("to")).collect(),
        }),
    )])
    .expect("notifier")
}

#[tokio::test]
async fn a_multipart_email_reaches_a_real_smtp_server() {
    let sink = SmtpSink::start();
    let notifier = email_notifier(
        format!("smtp://127.0.0.1:{}", sink.port),
        &["dba@example.com", "Ops <ops@example.com>"],
    );
    notifier
        .deliver("dba-mail", &[event()], &mut notifier::Memos::new())
        .await
        .expect("delivered");

    let messages = sink.wait_for(1, Duration::from_secs(5));
    assert_eq!(messages.len(), 1);
    let message = MessageParser::default()
        .parse(&messages[0])
        .expect("parses");
    assert_eq!(
        message.subject(),
        Some("[pswatch] acme/commerce workflow #3 move-customers: switched_primaries -> cutover")
    );
    let from = message.from().and_then(|from| from.first()).expect("from");
    assert_eq!(from.address(), Some("pswatch@example.com"));
    let to: Vec<_> = message
        .to()
        .expect("to")
        .iter()
        .filter_map(|address| address.address())
        .collect();
    assert_eq!(to, ["dba@example.com", "ops@example.com"]);
    assert_eq!(message.message_id(), Some("evt_9a7b.dba-mail@pswatch"));
    let text = message.body_text(0).expect("text part");
    assert!(text.contains("Cut over by: Grace Hopper"), "{text}");
    assert!(
        text.contains("https://app.planetscale.com/acme/commerce/workflows"),
        "{text}"
    );
    let html = message.body_html(0).expect("html part");
    assert!(
        html.contains(
            "<h2>acme/commerce workflow #3 move-customers: switched_primaries -&gt; cutover</h2>"
        ),
        "{html}"
    );
    let content_type = message.content_type().expect("content type");
    assert_eq!(content_type.ctype(), "multipart");
    assert_eq!(content_type.subtype(), Some("alternative"));
}

#[tokio::test]
async fn smtp_answers_decide_the_verdict() {
    let sink = SmtpSink::start();
    let url = format!("smtp://127.0.0.1:{}", sink.port);
    let permanent = email_notifier(url.clone(), &["reject-permanent@example.com"]);
    let error = permanent
        .deliver("dba-mail", &[event()], &mut notifier::Memos::new())
        .await
        .expect_err("550");
    assert_eq!(error.verdict, Verdict::Permanent, "{error}");
    let transient = email_notifier(url, &["reject-transient@example.com"]);
    let error = transient
        .deliver("dba-mail", &[event()], &mut notifier::Memos::new())
        .await
        .expect_err("451");
    assert_eq!(error.verdict, Verdict::Transient, "{error}");
    assert!(error.to_string().contains("dba-mail"), "{error}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn authenticates_and_never_shows_the_password() {
    let sink = SmtpSink::with_auth("pswatch:smtp-pa55word");
    let good = email_notifier(
        format!("smtp://pswatch:smtp-pa55word@127.0.0.1:{}", sink.port),
        &["dba@example.com"],
    );
    good.deliver("dba-mail", &[event()], &mut notifier::Memos::new())
        .await
        .expect("delivered with auth");
    let messages = sink.wait_for(1, Duration::from_secs(5));
    assert!(String::from_utf8_lossy(&messages[0]).contains("X-Sink-Authenticated: yes"));

    // A refusal after authenticating names the channel, never the credentials.
    let refused = email_notifier(
        format!("smtp://pswatch:smtp-pa55word@127.0.0.1:{}", sink.port),
        &["reject-permanent@example.com"],
    );
    let error = refused
        .deliver("dba-mail", &[event()], &mut notifier::Memos::new())
        .await
        .expect_err("refused");
    assert!(error.to_string().contains("dba-mail"), "{error}");
    assert!(!error.to_string().contains("pa55word"), "{error}");
}

#[tokio::test]
async fn an_smtp_server_that_is_down_is_transient() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let notifier = email_notifier(format!("smtp://127.0.0.1:{port}"), &["dba@example.com"]);
    let error = notifier
        .deliver("dba-mail", &[event()], &mut notifier::Memos::new())
        .await
        .expect_err("down");
    assert_eq!(error.verdict, Verdict::Transient, "{error}");
}

/// A listed person who started the resource is sent the email in copy (`[[people]]` email),
/// once, beside the channel's recipients; an actor not listed is not.
#[tokio::test]
async fn the_owner_of_the_resource_is_in_copy() {
    let sink = SmtpSink::start();
    let mut channel = Channel::new(
        "dba-mail",
        ChannelKind::Email(EmailChannel {
            smtp_url: Secret::new(format!("smtp://127.0.0.1:{}", sink.port)),
            from: "pswatch <pswatch@example.com>".parse().expect("from"),
            to: vec!["dba@example.com".parse().expect("to")],
        }),
    );
    channel.people = notifier::People::new(vec![notifier::Person {
        planetscale: "Ada Lovelace".into(),
        name: None,
        slack: None,
        teams: None,
        discord: None,
        email: Some("ada@example.com".parse().expect("address")),
    }]);
    let notifier = Notifier::new(&[channel]).expect("notifier");
    let owned = workflow_state_changed(
        Some(WorkflowState::Running),
        workflow(4).actor("Ada Lovelace").build(),
    )
    .id("evt_owned")
    .build();
    let unlisted = workflow_state_changed(
        Some(WorkflowState::Running),
        workflow(5).actor("Mallory").build(),
    )
    .id("evt_unlisted")
    .build();
    notifier
        .deliver("dba-mail", &[owned, event()], &mut notifier::Memos::new())
        .await
        .expect("delivered");
    notifier
        .deliver("dba-mail", &[unlisted], &mut notifier::Memos::new())
        .await
        .expect("delivered");
    let messages = sink.wait_for(2, Duration::from_secs(5));
    let parsed: Vec<_> = messages
        .iter()
        .map(|raw| String::from_utf8_lossy(raw).into_owned())
        .collect();
    let rcpt = |text: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix("X-Sink-Rcpt-To: "))
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    assert_eq!(rcpt(&parsed[0]), "dba@example.com,ada@example.com");
    assert!(parsed[0].contains("Cc: ada@example.com"), "{}", parsed[0]);
    assert_eq!(rcpt(&parsed[1]), "dba@example.com");
}
