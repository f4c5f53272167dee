//! A server program from Debian's packages (Prometheus, Alertmanager) run by a test on a
//! loopback port of its own, killed when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::fleet::free_port;

/// A running server program and its base URL.
pub struct Program {
    child: Child,
    pub url: String,
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Program {
    /// Starts `program` with `arguments` and `--web.listen-address=127.0.0.1:PORT` on a free
    /// port, its standard error in `log`, and waits until `GET /-/ready` is answered (any
    /// status: behind authentication it is 401). A port another test took meanwhile, or a
    /// start that fails, is tried again on another, five times; then the test fails with the
    /// program's log. `package` names the Debian package for the message when it is missing.
    pub async fn start(program: &str, package: &str, arguments: &[String], log: &Path) -> Self {
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(program)
                .args(arguments)
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(log).expect("log"))
                .spawn()
                .unwrap_or_else(|error| {
                    panic!("{program} ({error}; Debian's {package}: bash tests/tools/install)")
                });
            let url = format!("http://127.0.0.1:{port}");
            for _ in 0..100 {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if super::get(&format!("{url}/-/ready")).await.0 != 0 {
                    return Self { child, url };
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let said = std::fs::read_to_string(log).unwrap_or_default();
        panic!("{program} did not start: {said}");
    }
}

/// `--NAME=PATH`.
pub fn flag(name: &str, path: &Path) -> String {
    format!("--{name}={}", path.display())
}

/// An Alertmanager's API played by wiremock, for tests of what pswatch posts rather than of
/// what Alertmanager does with it: every `POST /api/v2/alerts` accepted and recorded.
pub struct AlertsSink {
    pub server: wiremock::MockServer,
}

impl AlertsSink {
    pub async fn start() -> Self {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/v2/alerts"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        Self { server }
    }

    /// The bodies posted, oldest first: each an array of alerts.
    pub async fn posts(&self) -> Vec<serde_json::Value> {
        self.server
            .received_requests()
            .await
            .expect("requests")
            .iter()
            .map(|request| serde_json::from_slice(&request.body).expect("JSON"))
            .collect()
    }
}

/// Whether the first alert of a posted body ends by now: a resolution.
pub fn resolves(body: &serde_json::Value) -> bool {
    body[0]["endsAt"].as_str().is_some_and(|ends| {
        time::OffsetDateTime::parse(ends, &time::format_description::well_known::Rfc3339)
            .is_ok_and(|ends| ends <= time::OffsetDateTime::now_utc())
    })
}
