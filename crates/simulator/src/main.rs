//! `pswatch-simulator`: the PlanetScale API stand-in as a process, playing the demo scenario,
//! for trying pswatch's `run` against it (see `config/demo.toml`).

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use simulator::Simulator;

#[derive(Debug, Parser)]
#[command(
    name = "pswatch-simulator",
    version,
    about = "A PlanetScale API stand-in that plays pswatch's demo scenario"
)]
struct Arguments {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The accepted `Authorization` header, `ID:TOKEN`.
    #[arg(long, default_value = "demo:demo")]
    token: String,
    /// Time between two changes of the scenario, in milliseconds.
    #[arg(long, default_value_t = 3000)]
    step_ms: u64,
    /// Play the scenario again (on a fresh world) each time it ends.
    #[arg(long)]
    repeat: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let arguments = Arguments::parse();
    let step = Duration::from_millis(arguments.step_ms.max(1));
    let scenario = simulator::demo(step);
    let simulator =
        Simulator::start_on(arguments.listen, scenario.world, Some(arguments.token)).await?;
    eprintln!("pswatch-simulator: serving {}", simulator.api_url());
    // One stop signal for the whole run: a SIGTERM between two rounds stops it as well as one
    // during a round.
    let stopped = stopped();
    tokio::pin!(stopped);
    let mut steps = scenario.steps;
    loop {
        let player = simulator.play(steps);
        tokio::select! {
            () = &mut stopped => return Ok(()),
            _ = player => {}
        }
        eprintln!("pswatch-simulator: the scenario ended");
        if !arguments.repeat {
            break;
        }
        tokio::select! {
            () = &mut stopped => return Ok(()),
            () = tokio::time::sleep(step * 5) => {}
        }
        let next = simulator::demo(step);
        simulator.update(|world| *world = next.world);
        steps = next.steps;
    }
    // Keep serving the final state until stopped.
    stopped.await;
    Ok(())
}

/// SIGINT or SIGTERM (as a container's PID 1 gets on `docker stop`). The handlers are set up
/// at once, so a signal that comes while the future is not polled is not lost.
fn stopped() -> impl std::future::Future<Output = ()> {
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    let interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
    async move {
        let wait = |signal: std::io::Result<tokio::signal::unix::Signal>| async move {
            match signal {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(interrupt) => {}
            () = wait(terminate) => {}
        }
        eprintln!("pswatch-simulator: stopping");
    }
}
