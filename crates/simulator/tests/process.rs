//! `pswatch-simulator` as a process: it stops on SIGTERM whenever the signal comes, between two
//! rounds of `--repeat` too (as `docker stop` sends it).

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn sigterm_between_two_rounds_stops_it() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pswatch-simulator"))
        .args(["--listen", "127.0.0.1:0", "--step-ms", "100", "--repeat"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("the simulator starts");
    let stderr = child.stderr.take().expect("stderr");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    // Wait for the end of the first round: the pause before the next one (5 steps) begins.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = received
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the first round ends");
        if line.contains("the scenario ended") {
            break;
        }
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exited = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if exited.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let status = exited.expect("the simulator stopped on SIGTERM between two rounds");
    assert!(status.success(), "{status}");
}
