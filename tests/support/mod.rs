//! Shared pieces of the end-to-end tests: the pswatch process, a real SMTP server process,
//! waiting helpers, and (in submodules) configurations, a fleet to watch and the receivers.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How often [`eventually`] looks again.
const EVERY: Duration = Duration::from_millis(20);

/// Waits until `check` gives a value, looking again every 20 ms, for at most `timeout`; `None`
/// if it never did. Async, so that the test's own servers keep serving meanwhile.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(EVERY).await;
    }
}

/// [`eventually`] for a check that needs no runtime.
pub fn eventually_blocking<T>(
    timeout: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(EVERY);
    }
}

/// An aiosmtpd server on a loopback port, killed when dropped.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    directory: tempfile::TempDir,
}

/// The Python interpreter that has aiosmtpd: `PSWATCH_TEST_PYTHON`, the one
/// `tests/tools/install` set up, Debian's, or the first `python3` on the PATH.
fn python_with_aiosmtpd() -> PathBuf {
    let installed = Path::new(env!("CARGO_MANIFEST_DIR")).join(".test-tools/venv/bin/python");
    let candidates: Vec<PathBuf> = std::env::var_os("PSWATCH_TEST_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            installed,
            PathBuf::from("/usr/bin/python3"),
            PathBuf::from("python3"),
        ])
        .collect();
    for candidate in &candidates {
        let ok = Command::new(candidate)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if ok {
            return candidate.clone();
        }
    }
    panic!(
        "the email tests need a real SMTP server: run `bash tests/tools/install`, or install \
         Debian's python3-aiosmtpd (apt-get install -y python3-aiosmtpd) or `pip install aiosmtpd`, \
         or point PSWATCH_TEST_PYTHON at a Python that has it; tried {candidates:?}"
    );
}

impl SmtpSink {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts the server requiring `user:password`.
    pub fn with_auth(credentials: &str) -> Self {
        Self::start_with(&["--auth", credentials])
    }

    fn start_with(extra: &[&str]) -> Self {
        let directory = tempfile::tempdir().expect("tempdir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new(python_with_aiosmtpd())
            .arg(script)
            .arg(directory.path())
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read READY");
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server did not start: {line:?}"));
        Self {
            child,
            port,
            directory,
        }
    }

    /// The messages received so far, in order, as raw bytes.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.directory.path())
            .expect("read dir")
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|extension| extension == "eml"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| std::fs::read(path).expect("read message"))
            .collect()
    }

    /// Waits until at least `count` messages arrived, at most `timeout`, and returns them all.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Vec<u8>> {
        eventually_blocking(timeout, || {
            let messages = self.messages();
            (messages.len() >= count).then_some(messages)
        })
        .unwrap_or_else(|| self.messages())
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `X-PlanetScale-Signature` of `body` with `secret`: its HMAC-SHA256, in hexadecimal.
pub fn planetscale_signature(body: &[u8], secret: &str) -> String {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

pub mod config;
pub mod fleet;
pub mod loopback;
pub mod openapi;
pub mod receiver;
pub mod slack;

/// `pswatch run` as a child process, its output going to files.
pub struct Service {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Service {
    pub fn start(config: &Path, environment: &[(&str, String)], logs: &Path) -> Self {
        static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stdout = logs.join(format!("run-{run}.stdout"));
        let stderr = logs.join(format!("run-{run}.stderr"));
        let child = Command::new(env!("CARGO_BIN_EXE_pswatch"))
            .args(["run", "-c"])
            .arg(config)
            .envs(environment.iter().map(|(name, value)| (name, value)))
            .env(
                "RUST_LOG",
                std::env::var("PSWATCH_TEST_LOG")
                    .unwrap_or_else(|_| "info,pswatch=debug,poller=debug,notifier=debug".into()),
            )
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("start pswatch run");
        Self {
            child,
            stdout,
            stderr,
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits at most `timeout` for the exit; `None` if it did not exit.
    pub async fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let child = &mut self.child;
        eventually(timeout, || {
            std::future::ready(child.try_wait().ok().flatten())
        })
        .await
    }

    /// Waits at most `timeout` for the service to exit by itself; `None` if it did not.
    pub async fn exited(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let child = &mut self.child;
        eventually(timeout, || {
            std::future::ready(child.try_wait().ok().flatten())
        })
        .await
    }

    /// Waits until the service's log contains `text`, at most `timeout`. Async, so that the
    /// test's own servers keep serving meanwhile.
    pub async fn wait_for_log(&self, text: &str, timeout: Duration) -> bool {
        eventually(timeout, || {
            std::future::ready(self.stderr().contains(text).then_some(()))
        })
        .await
        .is_some()
    }

    /// Waits (up to 20 s) until the service's log contains `text`; fails the test with the
    /// log when it does not.
    pub async fn logged(&self, text: &str) {
        assert!(
            self.wait_for_log(text, Duration::from_secs(20)).await,
            "no {text:?} in: {}",
            self.stderr()
        );
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The admin server's base URL (`http://127.0.0.1:PORT`), from the service's log once it
    /// listens.
    pub async fn admin_url(&self) -> String {
        format!("http://{}", self.listening("admin server listening").await)
    }

    /// The webhook receiver's URL (`http://127.0.0.1:PORT/planetscale`), from the service's log
    /// once it listens (on a port of its choosing, `receiver.listen = "127.0.0.1:0"`).
    pub async fn receiver_url(&self) -> String {
        format!(
            "http://{}/planetscale",
            self.listening("webhook receiver listening").await
        )
    }

    /// The address the log line starting `what` names, once it is written.
    async fn listening(&self, what: &str) -> String {
        assert!(
            self.wait_for_log(what, Duration::from_secs(15)).await,
            "{}",
            self.stderr()
        );
        self.stderr()
            .lines()
            .find(|line| line.contains(what))
            .and_then(|line| line.split("address=").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .expect("address")
            .to_owned()
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GETs `url`: the status and the body; status 0 with the error when no answer came.
pub async fn get(url: &str) -> (u16, String) {
    match reqwest::get(url).await {
        Ok(response) => (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        ),
        Err(error) => (0, error.to_string()),
    }
}

/// Runs `pswatch ARGS -c CONFIG` to completion.
pub fn pswatch(
    args: &[&str],
    config: &Path,
    environment: &[(&str, String)],
) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pswatch"))
        .args(args)
        .arg("-c")
        .arg(config)
        .envs(environment.iter().map(|(name, value)| (name, value)))
        .env("RUST_LOG", "debug")
        .output()
        .expect("run pswatch")
}

/// Runs `tests/tools/{script}` with `args` under the tests' Python (Playwright and Debian's
/// chromium, from `bash tests/tools/install`; `PSWATCH_TEST_PYTHON` names another), to
/// completion, off the async runtime's threads.
pub async fn browser_script(script: &str, args: Vec<String>) -> std::process::Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("PSWATCH_TEST_PYTHON")
        .map_or_else(|| root.join(".test-tools/venv/bin/python"), Into::into);
    let script = root.join("tests/tools").join(script);
    tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg(script)
            .args(args)
            .output()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot run {} ({error}); run `bash tests/tools/install` once",
                    python.display()
                )
            })
    })
    .await
    .expect("join")
}
