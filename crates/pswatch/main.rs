//! pswatch: watches PlanetScale workflows, deploy requests and deploy operations, and alerts
//! Slack, Microsoft Teams, PagerDuty, email and signed webhooks when they change state.
//!
//! Its parts, one folder each: `cli` (the commands), `config` (the file), `service` (what
//! runs: the scheduler, the poll pipeline, delivery, the webhook receiver, the status board)
//! and `admin` (the admin server, its sign-in and its API).

mod admin;
mod cli;
mod config;
mod service;

fn main() -> std::process::ExitCode {
    cli::main()
}
