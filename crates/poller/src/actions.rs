//! The two changes pswatch makes on a person's behalf (from Slack): cutting over a workflow's
//! traffic and completing a gated deploy request. Each is one request through the budget,
//! never retried: neither is idempotent, and PlanetScale's answer (a refusal included) is
//! what the person is told. Before either, the resource is read again by number, so that a
//! click on an old message does not act on a resource that has moved on.

use diff_engine::{DeployRequest, Target, Workflow};
use reqwest::Method;

use crate::{Client, PollError};

impl Client {
    /// `GET …/workflows/{number}`: one workflow as it is now.
    pub async fn workflow(&self, target: &Target, number: u64) -> Result<Workflow, PollError> {
        let url = self.url(&[
            "organizations",
            &target.organization,
            "databases",
            &target.database,
            "workflows",
            &number.to_string(),
        ])?;
        self.get_one(url, crate::api::workflow).await
    }

    /// `GET …/deploy-requests/{number}`: one deploy request as it is now.
    pub async fn deploy_request(
        &self,
        target: &Target,
        number: u64,
    ) -> Result<DeployRequest, PollError> {
        let url = self.url(&[
            "organizations",
            &target.organization,
            "databases",
            &target.database,
            "deploy-requests",
            &number.to_string(),
        ])?;
        self.get_one(url, crate::api::deploy_request)
            .await
            .map(|request| request.request)
    }

    /// `PATCH …/workflows/{number}/cutover` ("Cutover traffic").
    pub async fn cutover_workflow(&self, target: &Target, number: u64) -> Result<(), PollError> {
        let url = self.url(&[
            "organizations",
            &target.organization,
            "databases",
            &target.database,
            "workflows",
            &number.to_string(),
            "cutover",
        ])?;
        self.write(Method::PATCH, &url).await
    }

    /// `POST …/deploy-requests/{number}/apply-deploy` ("Complete a gated deploy request").
    pub async fn complete_deploy_request(
        &self,
        target: &Target,
        number: u64,
    ) -> Result<(), PollError> {
        let url = self.url(&[
            "organizations",
            &target.organization,
            "databases",
            &target.database,
            "deploy-requests",
            &number.to_string(),
            "apply-deploy",
        ])?;
        self.write(Method::POST, &url).await
    }
}
