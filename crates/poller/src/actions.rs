//! The two changes pswatch makes on a person's behalf (from Slack): cutting over a workflow's
//! traffic and completing a gated deploy request. Each is one request through the budget,
//! never retried: neither is idempotent, and PlanetScale's answer (a refusal included) is
//! what the person is told. Before either, the resource is read again by number, so that a
//! click on an old message does not act on a resource that has moved on.

use diff_engine::{DeployRequest, Target, Workflow};
use reqwest::Method;

use crate::{Client, PollError};

impl Client {
    /// `…/databases/{db}/{kind}/{number}` of `target`, then `tail`.
    fn resource_url(
        &self,
        target: &Target,
        kind: &str,
        number: u64,
        tail: Option<&str>,
    ) -> Result<reqwest::Url, PollError> {
        let number = number.to_string();
        let mut segments = vec![
            "organizations",
            target.organization.as_str(),
            "databases",
            target.database.as_str(),
            kind,
            number.as_str(),
        ];
        segments.extend(tail);
        self.url(&segments)
    }

    /// `GET …/workflows/{number}`: one workflow as it is now.
    pub async fn workflow(&self, target: &Target, number: u64) -> Result<Workflow, PollError> {
        let url = self.resource_url(target, "workflows", number, None)?;
        self.get_one(url, crate::api::workflow).await
    }

    /// `GET …/deploy-requests/{number}`: one deploy request as it is now.
    pub async fn deploy_request(
        &self,
        target: &Target,
        number: u64,
    ) -> Result<DeployRequest, PollError> {
        let url = self.resource_url(target, "deploy-requests", number, None)?;
        self.get_one(url, crate::api::deploy_request)
            .await
            .map(|request| request.request)
    }

    /// `PATCH …/workflows/{number}/cutover` ("Cutover traffic").
    pub async fn cutover_workflow(&self, target: &Target, number: u64) -> Result<(), PollError> {
        let url = self.resource_url(target, "workflows", number, Some("cutover"))?;
        self.write(Method::PATCH, &url).await
    }

    /// `POST …/deploy-requests/{number}/apply-deploy` ("Complete a gated deploy request").
    pub async fn complete_deploy_request(
        &self,
        target: &Target,
        number: u64,
    ) -> Result<(), PollError> {
        let url = self.resource_url(target, "deploy-requests", number, Some("apply-deploy"))?;
        self.write(Method::POST, &url).await
    }
}
