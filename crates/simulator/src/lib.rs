//! A stand-in for the PlanetScale API that plays scenarios.
//!
//! [`Simulator`] serves the API's paths (organizations, databases, workflows, deploy requests and
//! their operations) in the shapes of PlanetScale's OpenAPI specification and webhook examples
//! (operations, revert requests and lint errors inside each deploy request; an operation's id
//! that changes when it starts; a bad token answered 404 on database paths), or in the sparser
//! shape of the Go client's test responses ([`Shape`]), with the list envelope and
//! `page`/`per_page` pagination, over a [`World`] that tests change with
//! [`Simulator::update`] and scenarios change with [`Simulator::play`]. The demo, the
//! end-to-end tests and the benchmarks all use it.

mod actions;
mod admission;
mod branches;
mod scenario;
mod server;
mod webhooks;
mod world;

pub use admission::Fault;
pub use branches::{SimBackup, SimBranch, SimMaintenance, SimRecommendation, SimResize};
pub use scenario::{demo, Scenario, Step, DEMO_DATABASE, DEMO_ORGANIZATION};
pub use server::{Simulator, SimulatorHandle};
pub use webhooks::SimWebhook;
pub use world::{
    Database, Organization, Shape, SimDeployRequest, SimLintError, SimOperation,
    SimRevertOperation, SimWorkflow, World,
};
