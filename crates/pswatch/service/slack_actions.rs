//! What a click on one of pswatch's Slack buttons does, once Slack's request is verified and
//! the click recorded: silence the resource's database for an hour, acknowledge the current
//! wait or stall (its reminders are held back), or, for a user the channel allows, make one of
//! the changes it offers at PlanetScale (cut over, force a cutover, cancel, end the revert
//! window, revert, retry a workflow), once the resource is read again and still in a state
//! that takes it. What was done, or why not, is posted in the
//! resource's thread and logged with the Slack user; the click's record is then removed.

use std::sync::Arc;

use model::{ResourceKey, ResourceKind};
use notifier::render::{printable, slack_escape as escape};
use notifier::{Action, ActionValue, ChannelKind, SlackActions, SlackChannel};
use poller::DeployRequestAction;
use store::{PendingAction, StoreError};
use time::OffsetDateTime;

use super::pipeline::Pipeline;

/// How long a silence from Slack lasts.
const SILENCE_FOR: time::Duration = time::Duration::hours(1);
/// A click recorded this long ago and not done was left by a replica that stopped: the leader
/// does it.
pub(crate) const LEFT_AFTER: time::Duration = time::Duration::seconds(30);

/// The Slack channel `name` of `pipeline`'s configuration, if it takes actions.
fn interactive<'a>(pipeline: &'a Pipeline, name: &str) -> Option<&'a SlackActions> {
    match &pipeline.delivery.channel(name)?.kind {
        ChannelKind::Slack(SlackChannel::Api(api)) => api.actions.as_ref(),
        _ => None,
    }
}

/// `workflow #3` or `deploy request #7`.
fn named(resource: &ResourceKey) -> String {
    match resource.kind {
        ResourceKind::Workflow => format!("workflow #{}", resource.number),
        ResourceKind::DeployRequest => format!("deploy request #{}", resource.number),
    }
}

/// Does what `action` asks, posts what came of it in the resource's thread, and removes its
/// record. A click whose value no longer verifies (the channel's signing secret changed, or
/// the channel is gone) is dropped with a warning.
pub(crate) async fn act(pipeline: &Pipeline, action: &PendingAction) -> Result<(), StoreError> {
    let store = &pipeline.store;
    let verified = action
        .value
        .split('|')
        .nth(2)
        .and_then(|channel| interactive(pipeline, channel).map(|actions| (channel, actions)))
        .and_then(|(_, actions)| ActionValue::verify(&actions.signing_secret, &action.value));
    let Some(value) = verified else {
        tracing::warn!(slack_user = %action.user_id, "a Slack click no longer matches a channel that takes actions; dropped");
        store.finish_action(&action.id).await?;
        return Ok(());
    };
    let Some(actions) = interactive(pipeline, &value.channel) else {
        store.finish_action(&action.id).await?;
        return Ok(());
    };
    let now = OffsetDateTime::now_utc();
    // At most once: a copy of this click (the same button of the same message), taken up
    // before by this replica or another, is not done again. A cutover refused to its user
    // takes up nothing: an allowed user may still click.
    let refused = !actions.allows(value.action, &action.user_id);
    if !refused && !store.take_action(&action.id, now).await? {
        tracing::info!(slack_user = %action.user_id, resource = %value.resource, action = value.action.as_str(),
            "a Slack click already taken up (the same button of the same message); not done again");
        store.finish_action(&action.id).await?;
        return Ok(());
    }
    let resource = &value.resource;
    let who = format!("<@{}>", escape(&action.user_id));
    let database = format!("{}/{}", resource.organization, resource.database);
    let said = match value.action {
        Action::Silence => silence(pipeline, action, resource, &who, &database, now).await?,
        Action::Acknowledge => {
            let Some(since) = value.episode else {
                store.finish_action(&action.id).await?;
                return Ok(());
            };
            store
                .acknowledge(&resource.to_string(), since, &action.user_id, now)
                .await?;
            tracing::info!(slack_user = %action.user_id, slack_name = %action.user_name, resource = %resource,
                since, "acknowledged from Slack: the reminders of this wait stop");
            format!(
                ":white_check_mark: {who} acknowledged {}: no more reminders while it waits like this; a new wait reminds again.",
                named(resource)
            )
        }
        change => planetscale(pipeline, actions, change, action, resource, &who).await,
    };
    // The thread the resource's messages are in; none (the memo is gone): the channel itself.
    let thread = store
        .memo(&value.channel, resource)
        .await?
        .and_then(|memo| memo.thread)
        .map(|thread| thread.ts);
    if let Err(error) = pipeline
        .delivery
        .note_in_slack(&value.channel, thread.as_deref(), &said)
        .await
    {
        tracing::warn!(channel = %value.channel, %error, "cannot tell the Slack thread what the click did");
    }
    store.finish_action(&action.id).await?;
    Ok(())
}

async fn silence(
    pipeline: &Pipeline,
    action: &PendingAction,
    resource: &ResourceKey,
    who: &str,
    database: &str,
    now: OffsetDateTime,
) -> Result<String, StoreError> {
    let mut bytes = [0u8; 6];
    if let Err(error) = getrandom::getrandom(&mut bytes) {
        tracing::error!(%error, "the operating system gave no random bytes for a silence's id");
        return Ok(format!(
            ":warning: {who}: {database} could not be silenced (no random id); use pswatch silence add."
        ));
    }
    let id = format!("sil_{}", hex::encode(bytes));
    let ends = now + SILENCE_FOR;
    let silence = notifier::Silence::between(
        id.clone(),
        notifier::Matcher {
            database: Some(database.to_owned()),
            ..notifier::Matcher::default()
        },
        now,
        ends,
        format!(
            "silenced from Slack by {} ({}) at {}",
            action.user_name,
            action.user_id,
            named(resource)
        ),
        now,
    );
    let Ok(silence) = silence else {
        return Ok(format!(
            ":warning: {who}: {database} cannot be silenced from here; use pswatch silence add."
        ));
    };
    pipeline.store.put_silence(&silence, now).await?;
    tracing::info!(slack_user = %action.user_id, slack_name = %action.user_name, silence = %id,
        database, until = %model::rfc3339(ends), "silence added from Slack");
    Ok(format!(
        ":no_bell: {who} silenced {} for an hour, until {} UTC ({id}; `pswatch silence expire {id}` ends it).",
        escape(database),
        ends.time().format(time::macros::format_description!("[hour]:[minute]")).unwrap_or_default()
    ))
}

/// How a change is told: `cut over`, `force the cutover of`, …, and what its log says.
fn verb(change: Action) -> &'static str {
    match change {
        Action::Cutover => "cut over",
        Action::ForceCutover => "force the cutover of",
        Action::Cancel => "cancel the deployment of",
        Action::SkipRevert => "end the revert window of",
        Action::Revert => "revert",
        Action::WorkflowRetry => "retry",
        Action::Silence | Action::Acknowledge => "act on",
    }
}

/// Makes `change` at PlanetScale for `resource`, if the channel offers it, the user is
/// allowed, and the resource, read again now, is in a state that takes it; what came of it.
async fn planetscale(
    pipeline: &Pipeline,
    actions: &SlackActions,
    change: Action,
    action: &PendingAction,
    resource: &ResourceKey,
    who: &str,
) -> String {
    let user = &action.user_id;
    let verb = verb(change);
    let name = change.as_str();
    if !actions.offered.contains(&change) {
        tracing::warn!(slack_user = %user, resource = %resource, action = name,
            "a change from Slack refused: the channel does not offer it");
        return format!(":no_entry: {who}: this channel does not offer that; nothing was done.");
    }
    if !actions.allows(change, user) {
        tracing::warn!(slack_user = %user, slack_name = %action.user_name, resource = %resource, action = name,
            "a change from Slack refused: the user is not among allowed_users");
        return format!(
            ":no_entry: {who} may not {verb} {} (not among the channel's allowed_users); nothing was done.",
            named(resource)
        );
    }
    let target = diff_engine::Target::new(&resource.organization, &resource.database);
    let client = pipeline
        .clients
        .of(&target.organization)
        .for_poll(poller::Priority::High);
    // The state now, from PlanetScale, not as the message showed it: a click on a message of
    // a resource since moved on (or changed from elsewhere) must not act.
    let state = match resource.kind {
        ResourceKind::Workflow => client
            .workflow(&target, resource.number)
            .await
            .map(|workflow| {
                let state = workflow.state.as_str().to_owned();
                (change.applies(resource.kind, &state), state)
            }),
        ResourceKind::DeployRequest => {
            client
                .deploy_request(&target, resource.number)
                .await
                .map(|request| {
                    let state = request.deployment_state.as_str().to_owned();
                    let ready = request.state == "open" && change.applies(resource.kind, &state);
                    (ready, state)
                })
        }
    };
    match state {
        Ok((true, _)) => {}
        Ok((false, state)) => {
            tracing::warn!(slack_user = %user, slack_name = %action.user_name, resource = %resource, action = name,
                state = %printable(&state), "a change from Slack not done: the resource is no longer in a state that takes it");
            let waiting = if change == Action::Cutover {
                "not waiting for a cutover".to_owned()
            } else {
                format!("PlanetScale does not take that ({verb}) now")
            };
            return format!(
                ":information_source: {who}: {} is `{}` now, {waiting}; nothing was done.",
                named(resource),
                escape(&printable(&state))
            );
        }
        Err(error) => {
            tracing::warn!(slack_user = %user, slack_name = %action.user_name, resource = %resource, action = name,
                %error, "a change from Slack not done: the resource's state could not be read");
            return format!(
                ":x: {who}: could not {verb} {}: its state could not be read from PlanetScale ({}); nothing was done.",
                named(resource),
                escape(&error.to_string())
            );
        }
    }
    let number = resource.number;
    let done = match change {
        Action::Cutover => match resource.kind {
            ResourceKind::Workflow => client.cutover_workflow(&target, number).await,
            ResourceKind::DeployRequest => client.complete_deploy_request(&target, number).await,
        },
        Action::WorkflowRetry => client.retry_workflow(&target, number).await,
        Action::ForceCutover => {
            client
                .deploy_request_action(&target, number, DeployRequestAction::ForceCutover)
                .await
        }
        Action::Cancel => {
            client
                .deploy_request_action(&target, number, DeployRequestAction::Cancel)
                .await
        }
        Action::SkipRevert => {
            client
                .deploy_request_action(&target, number, DeployRequestAction::SkipRevert)
                .await
        }
        Action::Revert => {
            client
                .deploy_request_action(&target, number, DeployRequestAction::Revert)
                .await
        }
        Action::Silence | Action::Acknowledge => return String::new(),
    };
    match done {
        Ok(()) => {
            tracing::info!(slack_user = %user, slack_name = %action.user_name, resource = %resource, action = name,
                "{} from Slack: PlanetScale accepted it", verb);
            let icon = if change == Action::Cutover {
                ":rocket:"
            } else {
                ":white_check_mark:"
            };
            let did = if change == Action::Cutover {
                "cut over".to_owned()
            } else {
                format!("asked to {verb}")
            };
            format!(
                "{icon} {who} {did} {}: PlanetScale accepted it; the thread follows what happens next.",
                named(resource)
            )
        }
        Err(error) => {
            tracing::warn!(slack_user = %user, slack_name = %action.user_name, resource = %resource, action = name,
                %error, "a change from Slack was refused by PlanetScale");
            format!(
                ":x: {who} asked to {verb} {}; PlanetScale refused: {}",
                named(resource),
                escape(&error.to_string())
            )
        }
    }
}

/// Does the clicks that were recorded but not done (a replica stopped after answering Slack),
/// once they are [`LEFT_AFTER`] old.
pub(crate) async fn resume(pipeline: Arc<Pipeline>) {
    let pending = match pipeline.store.pending_actions().await {
        Ok(pending) => pending,
        Err(error) => {
            tracing::warn!(%error, "cannot read the Slack clicks left to do");
            return;
        }
    };
    let now = OffsetDateTime::now_utc();
    for action in pending {
        if now - action.received_at < LEFT_AFTER {
            continue;
        }
        tracing::info!(slack_user = %action.user_id, "doing a Slack click left undone");
        if let Err(error) = act(&pipeline, &action).await {
            tracing::warn!(%error, "cannot do a Slack click left undone; it is tried again later");
        }
    }
}
