//! Where buttons cannot go, a link: with `[admin] public_url`, the messages of email, Teams,
//! Discord and Google Chat link to the status page's silence form for the event's database,
//! pre-filled, behind the admin login. Followed in a real browser (Playwright with Debian's
//! chromium): the login form first, then the form filled in, and a silence added only when it
//! is sent.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use simulator::{SimWorkflow, World};
use support::fleet::{free_port, Fleet};
use support::{eventually, Service, SmtpSink};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "silence-links-admin-token-0123456789";

async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|request| serde_json::from_slice(&request.body).expect("json"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_link_to_the_prefilled_silence_form_behind_the_login() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "copying"));
    let fleet = Fleet::start(world).await;
    let (discord, chat) = (MockServer::start().await, MockServer::start().await);
    for (server, answer) in [
        (&discord, serde_json::json!({"id": "1"})),
        (&chat, serde_json::json!({"name": "spaces/AAAA/messages/1"})),
    ] {
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .mount(server)
            .await;
    }
    let smtp = SmtpSink::start();
    let admin = format!("127.0.0.1:{}", free_port());
    let public_url = format!("http://{admin}");
    let config = fleet.write(
        fleet
            .config("200ms")
            .set("admin.listen", admin.clone())
            .set("admin.token", "${TEST_ADMIN_TOKEN}")
            .set("admin.public_url", format!("{public_url}/"))
            .watch("acme", &["commerce"])
            .email("mail", &format!("smtp://127.0.0.1:{}", smtp.port))
            .channel(
                "teams",
                "teams",
                &[(
                    "webhook_url",
                    format!(
                        "{}/teams/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=s1g",
                        fleet.receiver.url
                    )
                    .into(),
                )],
            )
            .channel(
                "discord",
                "discord",
                &[(
                    "webhook_url",
                    format!("{}/api/webhooks/4242/t0ken", discord.uri()).into(),
                )],
            )
            .channel(
                "chat",
                "google_chat",
                &[(
                    "webhook_url",
                    format!("{}/v1/spaces/AAAA/messages?key=k&token=t", chat.uri()).into(),
                )],
            )
            .route(&["mail", "teams", "discord", "chat"]),
    );
    let environment = [("TEST_ADMIN_TOKEN", TOKEN.to_owned())];
    let service = Service::start(&config, &environment, fleet.directory.path());
    service.logged("baseline recorded").await;
    fleet.simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(3)
            .expect("workflow")
            .state = "running".into();
    });
    let link = format!(
        "{public_url}/?silence=acme%2Fcommerce&comment=workflow+%233+move-customers%3A+#add-silence"
    );

    // Email: the text and the HTML.
    let mail = String::from_utf8_lossy(&smtp.wait_for(1, Duration::from_secs(20))[0]).into_owned();
    let unfolded = mail.replace("=\r\n", "").replace("=3D", "=");
    assert!(
        unfolded.contains(&format!("Silence its database: {link}")),
        "{mail}"
    );
    // Teams: a button beside the dashboard's.
    let teams = eventually(Duration::from_secs(20), || {
        std::future::ready(
            fleet
                .receiver
                .requests()
                .into_iter()
                .find(|request| request.path.starts_with("/teams")),
        )
    })
    .await
    .expect("a Teams message");
    let card: Value = serde_json::from_slice(&teams.body).expect("json");
    let actions = &card["attachments"][0]["content"]["actions"];
    assert_eq!(actions[1]["title"], "Silence", "{card:#}");
    assert_eq!(actions[1]["url"], link.as_str());
    let problems = notifier::vendor_check::adaptive_card_problems(std::slice::from_ref(&card));
    assert!(problems.is_empty(), "{problems:#?}");
    // Discord: the embed's first line; Google Chat: a button.
    let discord = eventually(Duration::from_secs(20), || async {
        bodies(&discord).await.into_iter().next()
    })
    .await
    .expect("a Discord message");
    let description = discord["embeds"][0]["description"].as_str().expect("text");
    assert!(
        description.starts_with(&format!("[Silence its database](<{link}>)\n")),
        "{description}"
    );
    let chat = eventually(Duration::from_secs(20), || async {
        bodies(&chat).await.into_iter().next()
    })
    .await
    .expect("a Google Chat message");
    let buttons = chat["cardsV2"][0]["card"]["sections"][0]["widgets"]
        .as_array()
        .and_then(|widgets| {
            widgets
                .iter()
                .find(|widget| widget["buttonList"].is_object())
        })
        .expect("buttons")["buttonList"]["buttons"]
        .clone();
    assert_eq!(buttons[1]["text"], "Silence");
    assert_eq!(buttons[1]["onClick"]["openLink"]["url"], link.as_str());
    let problems = notifier::vendor_check::google_chat_problems(std::slice::from_ref(&chat));
    assert!(problems.is_empty(), "{problems:#?}");

    // The link, followed in a browser: the login, then the form filled in.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("PSWATCH_TEST_PYTHON")
        .map_or_else(|| root.join(".test-tools/venv/bin/python"), Into::into);
    let followed = tokio::task::spawn_blocking({
        let link = link.clone();
        move || {
            Command::new(&python)
                .arg(root.join("tests/tools/silence_link.py"))
                .args([
                    link.as_str(),
                    TOKEN,
                    "acme/commerce",
                    "workflow #3 move-customers: ",
                ])
                .output()
                .expect("run the browser")
        }
    })
    .await
    .expect("join");
    let said = String::from_utf8_lossy(&followed.stdout).into_owned();
    assert!(
        followed.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&followed.stderr)
    );
    assert!(
        said.contains("PREFILLED") && said.contains("ADDED"),
        "{said}"
    );
    let status: Value = reqwest::Client::new()
        .get(format!("{public_url}/api/status"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(status["silences"][0]["database"], "acme/commerce");
    assert_eq!(
        status["silences"][0]["comment"],
        "workflow #3 move-customers: known, being fixed"
    );
}

#[test]
fn check_refuses_a_public_url_without_the_login_or_with_markup() {
    let directory = tempfile::tempdir().expect("tempdir");
    let run = |public_url: &str, token: bool| {
        let mut config = support::config::ConfigBuilder::new(
            "http://127.0.0.1:9",
            &directory.path().join("state"),
        )
        .webhook("audit", "http://127.0.0.1:9/hooks")
        .route(&["audit"])
        .watch("acme", &[])
        .set("admin.public_url", public_url);
        if token {
            config = config.set("admin.token", TOKEN);
        }
        let path = config.write(&directory.path().join("pswatch.toml"));
        let output = support::pswatch(&["check"], &path, &[]);
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned()
                + &String::from_utf8_lossy(&output.stdout),
        )
    };
    let (ok, said) = run("https://pswatch.example.com", false);
    assert!(
        !ok && said.contains("admin.public_url") && said.contains("needs admin.token"),
        "{said}"
    );
    let (ok, said) = run("https://pswatch.example.com/?x=1", true);
    assert!(
        !ok && said.contains("must be the status page's address alone"),
        "{said}"
    );
    let (ok, said) = run("https://admin:hunter2@pswatch.example.com", true);
    assert!(!ok && !said.contains("hunter2"), "{said}");
    let (ok, said) = run("ftp://pswatch.example.com", true);
    assert!(!ok && said.contains("http:// or https://"), "{said}");
    let (ok, said) = run("https://pswatch.example.com/watch", true);
    assert!(ok, "{said}");
}
