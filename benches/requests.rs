//! API requests per poll of a database whose deploy requests are deploying, against the
//! simulator. Reproduces the "requests per poll" table of BENCHMARKS.md:
//!
//!     cargo bench --bench requests
//!     cargo bench --bench requests -- --pswatch /path/to/an/older/pswatch
//!
//! For 1, 3 and 10 deploy requests deploying at once (4 tables each), `pswatch once` records a
//! baseline, every operation then moves, and the next `pswatch once` is counted: the requests it
//! sent for the database, and how many of them went to `…/operations`. Once in PlanetScale's
//! shape (operations inside each deploy request) and once in the Go client's sparser shape
//! (no `deployment`, so the operations come from `…/operations`). `--pswatch` measures another
//! build of pswatch the same way, such as the one before operations were read from the deploy
//! request.

use std::path::{Path, PathBuf};
use std::process::Command;

use simulator::{Shape, SimDeployRequest, Simulator, World};

const TABLES: [&str; 4] = ["orders", "invoices", "customers", "payments"];

fn world(deploying: u64, shape: Shape) -> World {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    database.shape = shape;
    for number in 1..=deploying {
        let mut request = SimDeployRequest::new(number, "in_progress");
        for table in TABLES {
            request = request.with_operation(&format!("op-{number}-{table}"), table, "in_progress");
        }
        database.deploy_requests.push(request);
    }
    world
}

/// Runs `pswatch once`; whether it polled and delivered everything.
fn once(pswatch: &Path, config: &Path) -> bool {
    Command::new(pswatch)
        .args(["once", "-c"])
        .arg(config)
        .env("RUST_LOG", "off")
        .output()
        .expect("run pswatch once")
        .status
        .success()
}

/// What one poll after the baseline took: requests for the database, of which to
/// `…/operations`; or that the poll failed.
async fn measure(pswatch: &Path, deploying: u64, shape: Shape) -> String {
    let simulator = Simulator::start(world(deploying, shape), Some("tok-id:tok".into()))
        .await
        .expect("simulator");
    let directory = tempfile::tempdir().expect("tempdir");
    let config = directory.path().join("pswatch.toml");
    std::fs::write(
        &config,
        format!(
            "[planetscale]\napi_url = \"{api}\"\nservice_token_id = \"tok-id\"\nservice_token = \"tok\"\n\
             [state]\npath = \"{state}\"\n[[watch]]\norganization = \"acme\"\ndatabases = [\"commerce\"]\n\
             [[channels]]\nname = \"null\"\ntype = \"console\"\n[[routes]]\nchannels = [\"null\"]\n",
            api = simulator.api_url(),
            state = directory.path().join("state").display(),
        ),
    )
    .expect("config");
    let (binary, config_for) = (pswatch.to_owned(), config.clone());
    if !tokio::task::spawn_blocking(move || once(&binary, &config_for))
        .await
        .expect("join")
    {
        return "the poll fails".into();
    }
    simulator.update(|world| {
        for request in &mut world.database_mut("acme", "commerce").deploy_requests {
            for operation in &mut request.operations {
                operation.state = "complete".into();
            }
        }
    });
    let (before, operations_before) = (
        simulator.requests_for("commerce"),
        simulator.requests_to("operations"),
    );
    let pswatch = pswatch.to_owned();
    if !tokio::task::spawn_blocking(move || once(&pswatch, &config))
        .await
        .expect("join")
    {
        return "the poll fails".into();
    }
    format!(
        "{} ({})",
        simulator.requests_for("commerce") - before,
        simulator.requests_to("operations") - operations_before
    )
}

#[tokio::main]
async fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let pswatch = arguments
        .iter()
        .position(|argument| argument == "--pswatch")
        .and_then(|index| arguments.get(index + 1))
        .map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_pswatch")),
            PathBuf::from,
        );
    println!("requests per poll of one database, {}:", pswatch.display());
    println!();
    println!("| deploy requests deploying | PlanetScale's shape: requests (to …/operations) | Go client's shape: requests (to …/operations) |");
    println!("|---|---|---|");
    for deploying in [1, 3, 10] {
        let inline = measure(&pswatch, deploying, Shape::Specification).await;
        let sparse = measure(&pswatch, deploying, Shape::GoClient).await;
        println!("| {deploying} | {inline} | {sparse} |");
    }
}
