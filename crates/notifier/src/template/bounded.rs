//! Where templates render: threads of their own with a large stack, kept between renderings,
//! each rendering waited for at most [`RENDER_TIME_LIMIT`]. A rendering that overruns is given
//! up, and its thread with it (it ends once the fuel stops the template); one that panics costs
//! only its own thread. Printing a value nested as deep as the fuel allows needs far more stack
//! than a worker's 2 MiB, and only the pages a rendering touches are used.

use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

/// The longest one template's rendering may take; past it the rendering is a template error
/// (the built-in text stands in). The fuel ends a template long before this; this bounds what
/// fuel does not count.
pub const RENDER_TIME_LIMIT: Duration = Duration::from_secs(2);
/// The stack of a rendering's thread.
const RENDER_STACK: usize = 256 * 1024 * 1024;
/// How many idle rendering threads are kept.
const IDLE_KEPT: usize = 4;

type Job = Box<dyn FnOnce() + Send>;

/// The idle rendering threads, each the sender of its jobs.
static IDLE: Mutex<Vec<mpsc::Sender<Job>>> = Mutex::new(Vec::new());

fn idle() -> std::sync::MutexGuard<'static, Vec<mpsc::Sender<Job>>> {
    IDLE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A new rendering thread: it does the jobs it is sent until its sender is dropped.
fn spawn() -> std::io::Result<mpsc::Sender<Job>> {
    let (jobs, received) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("pswatch-template".into())
        .stack_size(RENDER_STACK)
        .spawn(move || {
            while let Ok(job) = received.recv() {
                // A job that panics drops its answer: the caller hears of it.
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
                    return;
                }
            }
        })?;
    Ok(jobs)
}

/// Runs `work` on a rendering thread and gives its result, or why there is none: it ran past
/// [`RENDER_TIME_LIMIT`], or stopped without one.
pub(super) fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (answer, answered) = mpsc::sync_channel(1);
    let mut job: Job = Box::new(move || {
        let _ = answer.send(work());
    });
    // A kept thread, or a new one (a kept one whose thread is gone gives the job back).
    let worker = loop {
        let Some(worker) = idle().pop() else {
            let worker = spawn().map_err(|error| format!("cannot start rendering: {error}"))?;
            if let Err(mpsc::SendError(unsent)) = worker.send(job) {
                drop(unsent);
                return Err("the rendering thread stopped before it began".into());
            }
            break worker;
        };
        match worker.send(job) {
            Ok(()) => break worker,
            Err(mpsc::SendError(unsent)) => job = unsent,
        }
    };
    match answered.recv_timeout(RENDER_TIME_LIMIT) {
        Ok(result) => {
            let mut idle = idle();
            if idle.len() < IDLE_KEPT {
                idle.push(worker);
            }
            Ok(result)
        }
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "rendering took longer than {} s; the template does too much",
            RENDER_TIME_LIMIT.as_secs()
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err("rendering stopped without a result".into())
        }
    }
}
