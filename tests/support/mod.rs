//! Shared pieces of the end-to-end tests: a real SMTP server process and waiting helpers.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An aiosmtpd server on a loopback port, killed when dropped.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    directory: tempfile::TempDir,
}

/// The Python interpreter that has aiosmtpd: `PSWATCH_TEST_PYTHON`, Debian's, or the first
/// `python3` on the PATH.
fn python_with_aiosmtpd() -> PathBuf {
    let candidates: Vec<PathBuf> = std::env::var_os("PSWATCH_TEST_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/usr/bin/python3"), PathBuf::from("python3")])
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
        "the email tests need a real SMTP server: install Debian's python3-aiosmtpd \
         (apt-get install -y python3-aiosmtpd) or `pip install aiosmtpd`, \
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

    /// Waits until at least `count` messages arrived, at most `timeout`.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let start = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= count || start.elapsed() > timeout {
                return messages;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
