//! pswatch's PlanetScale API client.
//!
//! [`Client`] does the HTTP: the service-token header, `per_page=100` pagination with a page
//! cap, timeouts and retries. [`Client::observe`] builds one target's [`Observation`]: the
//! workflows and the open deploy requests with their operations and revert operations (which
//! PlanetScale sends inside each deploy request), the requests that left the open list and the
//! workflows that left the workflow list, each fetched by number. A request that fails fails the
//! whole observation, since a partial one could read as "everything disappeared"; an item that
//! cannot be read is set aside in [`Observation::unreadable`] and the rest is used.

mod actions;
mod api;
mod backups;
mod budget;
mod client;
mod error;
mod webhooks;

use std::collections::BTreeSet;

use diff_engine::{
    needs_operations, DeployOperation, Observation, ObservedDeployRequest, SeenDeployRequest,
    Target, TargetState, Unreadable,
};
use url::Url;

use crate::api::{ApiDeployRequest, UnreadableItem};
use crate::client::{resource, Listed};

pub use actions::DeployRequestAction;
pub use api::{Branch, Database, DecodeError, Webhook};
pub use backups::{Read, SlowRead};
pub use budget::{Budget, BudgetUse, Priority, MAX_PAUSE};
pub use client::{
    Client, ClientConfig, RequestObserver, ServiceToken, DATABASE_PAGE_CAP, MAX_BODY,
};
pub use error::PollError;
pub use webhooks::{gives_push, last_delivery_failed, same_url, DEPLOY_REQUEST_EVENTS};

impl Client {
    /// The databases of `organization` (every kind; see [`Database::is_mysql`]). An entry that
    /// cannot be read is left out, with a warning.
    pub async fn list_databases(&self, organization: &str) -> Result<Vec<Database>, PollError> {
        let url = self.url(&["organizations", organization, "databases"])?;
        let listed = self
            .get_pages(url.clone(), &[], api::database, self.database_page_cap())
            .await?;
        for item in &listed.unreadable {
            tracing::warn!(organization, what = %unreadable(&url, item).what, problem = %item.problem,
                "a database of the list cannot be read; it is left out");
        }
        Ok(listed.items)
    }

    /// Observes `target`. `previous` is what was seen before, which decides which resources
    /// that left their lists are fetched by number.
    pub async fn observe(
        &self,
        target: &Target,
        previous: Option<&TargetState>,
    ) -> Result<Observation, PollError> {
        self.observe_scoped(target, previous, true).await
    }

    /// [`Client::observe`], or, without `deploy_requests`, the workflows only (for a database
    /// whose deploy requests PlanetScale pushes): the observation then covers no deploy
    /// request, and the diff keeps every remembered one as it was.
    pub async fn observe_scoped(
        &self,
        target: &Target,
        previous: Option<&TargetState>,
        deploy_requests: bool,
    ) -> Result<Observation, PollError> {
        let database = [
            "organizations",
            &target.organization,
            "databases",
            &target.database,
        ];
        let empty = TargetState::default();
        let previous = previous.unwrap_or(&empty);
        let mut observation = Observation::default();

        // The workflow source stays in this one call, so that the vtctld MoveTables API that
        // PlanetScale announced can replace it in one place.
        let workflows_url = self.url(&[&database[..], &["workflows"]].concat())?;
        let workflows = self
            .list_of_database(target, workflows_url.clone(), &[], api::workflow)
            .await?;
        // Workflows remembered but not listed: a list can miss one (pages shift while workflows
        // are added), so each is fetched by number before it is forgotten. One that is over
        // cannot change and stays as it is; one whose item could not be read stays too.
        let listed_ids: BTreeSet<&str> = workflows
            .items
            .iter()
            .map(|workflow| workflow.id.as_str())
            .collect();
        for (id, seen) in &previous.workflows {
            let unreadable_here = workflows
                .unreadable
                .iter()
                .any(|item| item.id.as_ref() == Some(id) || item.number == Some(seen.number));
            if listed_ids.contains(id.as_str()) || seen.state.is_final() || unreadable_here {
                continue;
            }
            let url =
                self.url(&[&database[..], &["workflows", &seen.number.to_string()]].concat())?;
            match self.get_one(url.clone(), api::workflow).await {
                Ok(workflow) => observation.workflows.push(workflow),
                Err(PollError::NotFound { .. }) => observation.vanished_workflows.push(id.clone()),
                Err(PollError::Decode { message, .. }) => observation.unreadable.push(Unreadable {
                    what: resource(&url),
                    problem: message,
                }),
                Err(error) => return Err(error),
            }
        }
        observation.workflows.extend(workflows.items);
        observation.unreadable.extend(
            workflows
                .unreadable
                .iter()
                .map(|item| unreadable(&workflows_url, item)),
        );

        if !deploy_requests {
            return Ok(observation);
        }
        let requests_url = self.url(&[&database[..], &["deploy-requests"]].concat())?;
        let open = self
            .list_of_database(
                target,
                requests_url.clone(),
                &[("state", "open")],
                api::deploy_request,
            )
            .await?;
        let seen = |number: u64| previous.deploy_requests.get(&number);
        let open_numbers: BTreeSet<u64> = open
            .items
            .iter()
            .map(|request| request.request.number)
            .collect();
        for request in open.items {
            let number = request.request.number;
            // A closed request in the list of open ones (a server that did not filter, a race)
            // that pswatch never watched is none of its business: taken, it would be new at
            // every poll, since closed requests are not remembered. A remembered one ends here.
            if !request.request.is_open() && seen(number).is_none() {
                tracing::debug!(target_db = %target, number, "a closed deploy request in the list of open ones; not watched");
                continue;
            }
            self.observe_request(&database, seen(number), request, &mut observation)
                .await?;
        }
        // Requests remembered as open that left the list were deployed or closed: fetch each
        // once by number, so its final state and operations are reported. One whose item could
        // not be read keeps its remembered state.
        for &number in previous.deploy_requests.keys() {
            let unreadable_here = open
                .unreadable
                .iter()
                .any(|item| item.number == Some(number));
            if open_numbers.contains(&number) || unreadable_here {
                continue;
            }
            let url =
                self.url(&[&database[..], &["deploy-requests", &number.to_string()]].concat())?;
            match self.get_one(url.clone(), api::deploy_request).await {
                Ok(request) => {
                    self.observe_request(&database, seen(number), request, &mut observation)
                        .await?
                }
                Err(PollError::NotFound { .. }) => {
                    observation.vanished_deploy_requests.push(number)
                }
                Err(PollError::Decode { message, .. }) => observation.unreadable.push(Unreadable {
                    what: resource(&url),
                    problem: message,
                }),
                Err(error) => return Err(error),
            }
        }
        observation.unreadable.extend(
            open.unreadable
                .iter()
                .map(|item| unreadable(&requests_url, item)),
        );
        self.place_in_queue(target, &database, &mut observation)
            .await;
        Ok(observation)
    }

    /// While a deploy request waits in the deploy queue, reads the queue (`get_deploy_queue`,
    /// one request) and gives each queued request its place. Best effort: a queue that cannot
    /// be read (a token without `read_deploy_request`, an older API) leaves the places unknown
    /// and the poll stands.
    async fn place_in_queue(
        &self,
        target: &Target,
        database: &[&str],
        observation: &mut Observation,
    ) {
        let queued = |request: &diff_engine::DeployRequest| {
            request.deployment_state == diff_engine::DeployState::Queued
        };
        if !observation
            .deploy_requests
            .iter()
            .any(|observed| queued(&observed.deploy_request))
        {
            return;
        }
        let Ok(url) = self.url(&[database, &["deploy-queue"]].concat()) else {
            return;
        };
        match self.get_all(url, &[], api::queued_deployment).await {
            Ok(listed) => {
                for observed in &mut observation.deploy_requests {
                    let request = &mut observed.deploy_request;
                    if queued(request) {
                        request.queue_position = listed
                            .items
                            .iter()
                            .find(|(number, _)| *number == request.number)
                            .map(|(_, place)| *place);
                    }
                }
            }
            Err(error) => {
                tracing::debug!(target_db = %target, %error, "the deploy queue cannot be read; places in it are not shown");
            }
        }
    }

    /// Adds one deploy request to the observation. Its operations come with it; only a
    /// response without them (an older or trimmed shape) costs a request to `…/operations`,
    /// and only while the request deploys or has just stopped.
    async fn observe_request(
        &self,
        database: &[&str],
        seen: Option<&SeenDeployRequest>,
        request: ApiDeployRequest,
        observation: &mut Observation,
    ) -> Result<(), PollError> {
        let ApiDeployRequest {
            request,
            operations,
            revert_operations,
            unreadable_operations,
        } = request;
        let mut partial = !unreadable_operations.is_empty();
        for (list, position, problem) in unreadable_operations {
            observation.unreadable.push(Unreadable {
                what: format!(
                    "item {position} of {list} of deploy request #{}",
                    request.number
                ),
                problem,
            });
        }
        let operations = match operations {
            Some(operations) => Some(operations),
            None if needs_operations(seen, &request) => {
                let (url, listed) = self.operations(database, request.number).await?;
                partial |= !listed.unreadable.is_empty();
                observation
                    .unreadable
                    .extend(listed.unreadable.iter().map(|item| unreadable(&url, item)));
                Some(listed.items)
            }
            None => None,
        };
        observation.deploy_requests.push(ObservedDeployRequest {
            deploy_request: request,
            operations,
            revert_operations,
            operations_partial: partial,
        });
        Ok(())
    }

    async fn operations(
        &self,
        database: &[&str],
        number: u64,
    ) -> Result<(Url, Listed<DeployOperation>), PollError> {
        let url = self.url(
            &[
                database,
                &["deploy-requests", &number.to_string(), "operations"],
            ]
            .concat(),
        )?;
        let listed = self
            .get_all(url.clone(), &[], api::deploy_operation)
            .await?;
        Ok((url, listed))
    }

    /// A list of a database's resources. PlanetScale answers 404, not 401, on database paths
    /// for a token that is wrong or lacks access, so a 404 asks the organization once: when it
    /// refuses too, the token is the problem.
    async fn list_of_database<T>(
        &self,
        target: &Target,
        url: Url,
        query: &[(&str, &str)],
        convert: impl Fn(&serde_json::Value) -> Result<T, DecodeError> + Copy,
    ) -> Result<Listed<T>, PollError> {
        match self.get_all(url, query, convert).await {
            Err(PollError::NotFound { resource, token_id }) => {
                Err(self.explain_not_found(target, resource, token_id).await)
            }
            listed => listed,
        }
    }

    async fn explain_not_found(
        &self,
        target: &Target,
        resource: String,
        token_id: String,
    ) -> PollError {
        let url = match self.url(&["organizations", &target.organization]) {
            Ok(url) => url,
            Err(error) => return error,
        };
        let organization_status = match self.probe(&url).await {
            Err(PollError::Unauthorized { .. }) => 401,
            Err(PollError::Forbidden { .. }) => 403,
            Err(PollError::NotFound { .. }) => 404,
            // The organization answers (or cannot be asked): the database is what is missing.
            _ => return PollError::NotFound { resource, token_id },
        };
        PollError::TokenRejected {
            resource,
            organization: target.organization.clone(),
            organization_status,
            token_id,
        }
    }
}

/// An unreadable item of the list at `url`, as the diff reports it.
fn unreadable(url: &Url, item: &UnreadableItem) -> Unreadable {
    let mut what = format!("item {} of {}", item.position, resource(url));
    match (&item.id, item.number) {
        (Some(id), Some(number)) => what.push_str(&format!(" (id {id}, number {number})")),
        (Some(id), None) => what.push_str(&format!(" (id {id})")),
        (None, Some(number)) => what.push_str(&format!(" (number {number})")),
        (None, None) => {}
    }
    Unreadable {
        what,
        problem: item.problem.clone(),
    }
}
