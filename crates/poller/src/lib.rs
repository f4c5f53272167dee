//! pswatch's PlanetScale API client.
//!
//! [`Client`] does the HTTP: the service-token header, `per_page=100` pagination with a page
//! cap, timeouts and retries. [`Client::observe`] builds one target's [`Observation`]: the
//! workflows, the open deploy requests, the operations of those that are deploying (and once
//! more when one stops), and the requests that left the open list, fetched by number. Any
//! failure fails the whole observation: a partial one could read as "everything disappeared".

mod api;
mod budget;
mod client;
mod error;

use std::collections::BTreeSet;

use diff_engine::{needs_operations, Observation, ObservedDeployRequest, Target, TargetState};

pub use api::{Database, DecodeError};
pub use budget::{Budget, BudgetUse, Priority};
pub use client::{parse_retry_after, Client, ClientConfig, RequestObserver, ServiceToken};
pub use error::PollError;

impl Client {
    /// The databases of `organization` (every kind; see [`Database::is_mysql`]).
    pub async fn list_databases(&self, organization: &str) -> Result<Vec<Database>, PollError> {
        let url = self.url(&["organizations", organization, "databases"]);
        self.get_all(url, &[], api::database).await
    }

    /// Observes `target`. `previous` is what was seen before, which decides which deploy
    /// requests' operations are fetched and which requests are fetched by number.
    pub async fn observe(
        &self,
        target: &Target,
        previous: Option<&TargetState>,
    ) -> Result<Observation, PollError> {
        let database = [
            "organizations",
            &target.organization,
            "databases",
            &target.database,
        ];
        // The workflow source stays in this one call, so that the vtctld MoveTables API that
        // PlanetScale announced can replace it in one place.
        let workflows = self
            .get_all(
                self.url(&[&database[..], &["workflows"]].concat()),
                &[],
                api::workflow,
            )
            .await?;
        let open = self
            .get_all(
                self.url(&[&database[..], &["deploy-requests"]].concat()),
                &[("state", "open")],
                api::deploy_request,
            )
            .await?;

        let mut observation = Observation {
            workflows,
            ..Observation::default()
        };
        let open_numbers: BTreeSet<u64> = open.iter().map(|request| request.number).collect();
        let seen =
            |number: u64| previous.and_then(|previous| previous.deploy_requests.get(&number));
        for request in open {
            let operations = if needs_operations(seen(request.number), &request) {
                Some(self.operations(&database, request.number).await?)
            } else {
                None
            };
            observation.deploy_requests.push(ObservedDeployRequest {
                deploy_request: request,
                operations,
            });
        }
        // Requests remembered as open that left the list were deployed or closed: fetch each
        // once by number, so its final state is reported.
        let left = previous
            .into_iter()
            .flat_map(|previous| previous.deploy_requests.keys())
            .filter(|number| !open_numbers.contains(number));
        for &number in left {
            let url =
                self.url(&[&database[..], &["deploy-requests", &number.to_string()]].concat());
            match self.get_one(url, api::deploy_request).await {
                Ok(request) => {
                    let operations = if needs_operations(seen(number), &request) {
                        Some(self.operations(&database, number).await?)
                    } else {
                        None
                    };
                    observation.deploy_requests.push(ObservedDeployRequest {
                        deploy_request: request,
                        operations,
                    });
                }
                Err(PollError::NotFound { .. }) => {
                    observation.vanished_deploy_requests.push(number)
                }
                Err(error) => return Err(error),
            }
        }
        Ok(observation)
    }

    async fn operations(
        &self,
        database: &[&str],
        number: u64,
    ) -> Result<Vec<diff_engine::DeployOperation>, PollError> {
        let url = self.url(
            &[
                database,
                &["deploy-requests", &number.to_string(), "operations"],
            ]
            .concat(),
        );
        self.get_all(url, &[], api::deploy_operation).await
    }
}
