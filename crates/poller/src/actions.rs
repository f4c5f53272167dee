//! The changes pswatch makes on a person's behalf (from Slack), each the operation PlanetScale's
//! specification names: cutting over a workflow's traffic, retrying it, completing a gated
//! deploy request, forcing its cutover, cancelling its deployment, ending its revert window and
//! reverting it. Each is one request through the budget, never retried: none is idempotent, and
//! PlanetScale's answer (a refusal included) is what the person is told. Before any, the
//! resource is read again by number, so that a click on an old message does not act on a
//! resource that has moved on.

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

    /// `PATCH …/workflows/{number}/retry` (`workflow_retry`, "Retry a failed workflow").
    pub async fn retry_workflow(&self, target: &Target, number: u64) -> Result<(), PollError> {
        let url = self.resource_url(target, "workflows", number, Some("retry"))?;
        self.write(Method::PATCH, &url).await
    }

    /// A `POST …/deploy-requests/{number}/{tail}` of `tail`: `force-cutover`
    /// (`force_cutover_deploy_request`), `cancel` (`cancel_deploy_request`), `skip-revert`
    /// (`skip_revert_period`) or `revert` (`complete_revert`).
    pub async fn deploy_request_action(
        &self,
        target: &Target,
        number: u64,
        tail: DeployRequestAction,
    ) -> Result<(), PollError> {
        let url = self.resource_url(target, "deploy-requests", number, Some(tail.path()))?;
        self.write(Method::POST, &url).await
    }
}

/// What `Client::deploy_request_action` asks of a deploy request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployRequestAction {
    /// `force_cutover_deploy_request`.
    ForceCutover,
    /// `cancel_deploy_request`.
    Cancel,
    /// `skip_revert_period`.
    SkipRevert,
    /// `complete_revert`.
    Revert,
}

impl DeployRequestAction {
    fn path(self) -> &'static str {
        match self {
            Self::ForceCutover => "force-cutover",
            Self::Cancel => "cancel",
            Self::SkipRevert => "skip-revert",
            Self::Revert => "revert",
        }
    }
}
