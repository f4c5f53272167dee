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
    let mut steps = scenario.steps;
    loop {
        let player = simulator.play(steps);
        tokio::select! {
            () = stopped() => return Ok(()),
            _ = player => {}
        }
        eprintln!("pswatch-simulator: the scenario ended");
        if !arguments.repeat {
            break;
        }
        tokio::time::sleep(step * 5).await;
        let next = simulator::demo(step);
        simulator.update(|world| *world = next.world);
        steps = next.steps;
    }
    // Keep serving the final state until stopped.
    stopped().await;
    Ok(())
}

/// SIGINT or SIGTERM (as a container's PID 1 gets on `docker stop`).
async fn stopped() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            // Without a SIGTERM handler, SIGINT alone stops it.
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    eprintln!("pswatch-simulator: stopping");
}
