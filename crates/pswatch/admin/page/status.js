// The status page: reads /api/status every two seconds and shows it. API text is only ever
// put in the page as text (never as markup).
"use strict";

const REFRESH_MS = 2000;

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

/// A button showing `text`, named `label` for assistive technology, that runs `onClick`.
function button(text, label, onClick) {
  const node = element("button", text);
  node.type = "button";
  node.setAttribute("aria-label", label);
  node.addEventListener("click", onClick);
  return node;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined || seconds < 0) return "since before pswatch started";
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86400)} d ${Math.floor((seconds % 86400) / 3600)} h`;
}

function table(caption, headings, rows) {
  const node = element("table");
  node.appendChild(element("caption", caption));
  const head = node.createTHead().insertRow();
  for (const heading of headings) {
    const cell = element("th", heading);
    cell.scope = "col";
    head.appendChild(cell);
  }
  const body = node.createTBody();
  for (const row of rows) {
    const line = body.insertRow();
    for (const value of row) {
      const cell = line.insertCell();
      if (value instanceof Node) cell.appendChild(value);
      else cell.textContent = value === null || value === undefined ? "–" : String(value);
    }
  }
  return node;
}

/// How long `resource` of `target` has been in its state, from its latest state change among
/// the recent events (reminders and its operations' events are no change of its state).
function since(status, target, resource) {
  const event = status.recent_events.find(
    (event) => event.target === target && event.event_type.endsWith(".state_changed") &&
      (event.resource === resource || event.resource.startsWith(`${resource} `)) &&
      !event.event_type.startsWith("deploy_operation."));
  return event ? duration(status.now_unix - event.observed_unix) : duration(null);
}

/// A time the API wrote (`2026-11-23T09:30:00.000Z`) as `2026-11-23 09:30 UTC`.
function apiTime(text) {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(text || "");
  return match ? `${match[1]} ${match[2]} UTC` : text;
}

/// A workflow's journey as a row of its phases: each reached one with its time, the current
/// one marked in text ("now") as well as in colour, those ahead marked "not yet".
function journey(workflow) {
  const figure = element("figure", null, "journey");
  const title = `Workflow #${workflow.number} ${workflow.name}`;
  figure.appendChild(element("figcaption", `${title}: ${workflow.state}`));
  const list = element("ol", null, "phases");
  list.setAttribute("aria-label", `Phases of ${title}`);
  for (const phase of workflow.phases) {
    const item = element("li", null, phase.current ? "phase current" : phase.reached ? "phase reached" : "phase ahead");
    if (phase.current) item.setAttribute("aria-current", "step");
    item.appendChild(element("span", phase.label, "phase-name"));
    const when = phase.reached_at ? apiTime(phase.reached_at) : phase.reached ? "time unknown" : "not yet";
    item.appendChild(element("span", phase.current ? `now, since ${when}` : when, "phase-time"));
    list.appendChild(item);
  }
  figure.appendChild(list);
  return figure;
}

/// A deploy request's tables, each with a progress bar, its percentage and its ETA.
function tables(request) {
  const figure = element("figure", null, "tables");
  const title = `Deploy request #${request.number}`;
  figure.appendChild(element("figcaption", `${title}: ${request.deployment_state}`));
  const list = element("ul", null, "bars");
  list.setAttribute("aria-label", `Tables of ${title}`);
  for (const operation of request.operations) {
    const table = operation.table || operation.id;
    const complete = operation.state === "complete";
    const percentage = complete ? 100 : operation.progress_percentage;
    const item = element("li");
    const bar = element("progress");
    bar.max = 100;
    // An operation not started shows an empty bar, not a moving one.
    bar.value = percentage === null || percentage === undefined ? 0 : percentage;
    let text = operation.state;
    if (percentage !== null && percentage !== undefined) text = `${Math.floor(percentage)} %`;
    if (!complete && operation.eta_seconds !== null && operation.eta_seconds !== undefined) {
      text += `, about ${duration(operation.eta_seconds)} left`;
    }
    if (operation.errors) text += `, error: ${operation.errors}`;
    bar.setAttribute("aria-label", `${table}: ${text}`);
    item.appendChild(element("span", table, "bar-table"));
    item.appendChild(bar);
    item.appendChild(element("span", text, operation.errors ? "bar-text critical" : "bar-text"));
    list.appendChild(item);
  }
  figure.appendChild(list);
  return figure;
}

/// Resizes and backups under way, each with its state.
function underWay(target) {
  const items = [];
  for (const resize of target.in_motion.resizes) items.push(`Resize ${resize.id}: ${resize.state}`);
  for (const backup of target.in_motion.backups) items.push(`Backup ${backup.id} of ${backup.branch}: ${backup.state}`);
  if (items.length === 0) return null;
  const list = element("ul", null, "under-way");
  list.setAttribute("aria-label", `Under way in ${target.target}`);
  for (const text of items) list.appendChild(element("li", text));
  return list;
}

function renderDatabases(status) {
  const container = document.getElementById("databases");
  container.replaceChildren();
  if (status.targets.length === 0) {
    container.appendChild(element("p", "No database is watched yet.", "muted"));
  }
  for (const target of status.targets) {
    const push = status.push[target.target];
    const rows = [];
    for (const workflow of target.in_motion.workflows) {
      const resource = `workflow #${workflow.number}`;
      rows.push([`${resource} ${workflow.name}`, workflow.state, workflow.motion,
        since(status, target.target, resource), workflow.errors]);
    }
    for (const request of target.in_motion.deploy_requests) {
      const resource = `deploy request #${request.number}`;
      const errors = request.operations.filter((operation) => operation.errors)
        .map((operation) => `${operation.table}: ${operation.errors}`).join("; ");
      const waited = request.pending_cutover_since_unix;
      const state = request.queue_position
        ? `${request.deployment_state} (#${request.queue_position} in the deploy queue)`
        : request.deployment_state;
      rows.push([resource, state, request.motion,
        waited ? duration(status.now_unix - waited) : since(status, target.target, resource), errors || null]);
    }
    const pushText = push ? (push.healthy ? ", push healthy" : ", no push") : "";
    const caption = `${target.target}: ${target.motion}${pushText}` +
      (target.last_error ? `, last error: ${target.last_error}` : "");
    if (rows.length === 0) {
      const line = element("p", `${caption}. Nothing in motion.`);
      container.appendChild(line);
    } else {
      container.appendChild(table(caption, ["Resource", "State", "Motion", "In this state for", "Errors"], rows));
    }
    for (const workflow of target.in_motion.workflows) container.appendChild(journey(workflow));
    for (const request of target.in_motion.deploy_requests) {
      if (request.operations.length > 0) container.appendChild(tables(request));
    }
    const moving = underWay(target);
    if (moving) container.appendChild(moving);
  }
}

function renderRecent(status) {
  const list = document.getElementById("recent");
  list.replaceChildren();
  for (const event of status.recent_events) {
    const item = element("li");
    item.appendChild(element("span", `${event.severity} `, event.severity));
    item.appendChild(document.createTextNode(
      `${event.observed_at.replace(/\.\d+Z$/, "Z")} ${event.target} ${event.resource}: ${event.change}`));
    if (event.silenced_by) item.appendChild(element("span", ` (silenced by ${event.silenced_by}, not delivered)`, "muted"));
    list.appendChild(item);
  }
  if (status.recent_events.length === 0) list.appendChild(element("li", "No event since pswatch started.", "muted"));
}

async function act(id, action) {
  const note = document.getElementById("action");
  const response = await fetch(`/api/dead-letters/${id}/${action}`, { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" } });
  note.textContent = (await response.text()).trim();
  await refresh();
}

async function expireSilence(id) {
  const note = document.getElementById("action");
  const response = await fetch(`/api/silences/${encodeURIComponent(id)}/expire`, { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" } });
  note.textContent = response.ok ? `Silence ${id} expired.` : (await response.text()).trim();
  await refresh();
}

/// Adds the silence the form describes through POST /api/silences; says what pswatch answered.
async function addSilence(submitted) {
  submitted.preventDefault();
  const form = submitted.target;
  const note = document.getElementById("action");
  const value = (name) => form.elements[name].value.trim();
  const request = { for: value("for"), comment: value("comment") };
  if (value("database")) request.database = value("database");
  const events = value("events").split(/[\s,]+/).filter((glob) => glob.length > 0);
  if (events.length > 0) request.events = events;
  const response = await fetch("/api/silences", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(request),
  });
  if (response.ok) {
    const answer = await response.json();
    note.textContent = `Silence ${answer.silence.id} added, until ${answer.silence.ends_at}.`;
    form.reset();
  } else {
    note.textContent = `The silence was not added: ${(await response.text()).trim()}`;
  }
  await refresh();
}

function renderSilences(status) {
  const container = document.getElementById("silences");
  container.replaceChildren();
  if (status.silences.length === 0) {
    container.appendChild(element("p", "No silence is active or waiting.", "muted"));
    return;
  }
  const rows = status.silences.map((silence) => {
    let action = element("span", "in the configuration", "muted");
    if (silence.source === "added") {
      action = button("Expire", `Expire silence ${silence.id}`, () => expireSilence(silence.id));
    }
    return [silence.id, silence.status, silence.matchers, silence.window, silence.comment, action];
  });
  container.appendChild(table("Silences", ["Id", "Status", "Matches", "When", "Comment", "Action"], rows));
}

/// The replicas sharing the store, when there are: which one answers, which leads, and when
/// each last said it is alive.
function renderReplicas(status) {
  const section = document.getElementById("replicas-section");
  const replica = status.replica;
  section.hidden = !replica;
  if (!replica) return;
  const container = document.getElementById("replicas");
  container.replaceChildren();
  container.appendChild(element("p",
    `This page comes from ${replica.id}, a ${replica.role}; ${replica.leader ? `${replica.leader} leads` : "no replica leads now"}.`));
  if (status.report_age_seconds !== undefined) {
    container.appendChild(element("p",
      `The databases' polls, the budgets, push and the recent events are as the leader reported them ${duration(status.report_age_seconds)} ago.`));
  }
  const rows = replica.replicas.map((other) => [
    other.id,
    other.id === replica.leader ? "leader" : "standby",
    `${duration(other.heartbeat_age_seconds)} ago`,
  ]);
  container.appendChild(table("Replicas", ["Replica", "Role", "Last heartbeat"], rows));
}

function renderOutbox(status) {
  const container = document.getElementById("outbox");
  container.replaceChildren();
  const pending = Object.entries(status.outbox.pending_by_channel);
  const budgets = status.budgets.map((budget) => status.budgets.length === 1
    ? `Budget: ${budget.used} of ${budget.limit} requests in the current window.`
    : `Budget of token ${budget.token} (${budget.organizations.join(", ") || "no organization"}): ${budget.used} of ${budget.limit} requests in the current window.`);
  container.appendChild(element("p",
    `${status.outbox.pending} pending, ${status.outbox.dead_letters} dead letters. ${budgets.join(" ")}`));
  if (pending.length > 0) {
    container.appendChild(table("Pending by channel", ["Channel", "Pending"], pending));
  }
  if (status.outbox.dead.length > 0) {
    const rows = status.outbox.dead.map((letter) => {
      const buttons = element("div");
      buttons.append(
        button("Retry", `Retry dead letter ${letter.id}`, () => act(letter.id, "retry")),
        button("Drop", `Drop dead letter ${letter.id}`, () => act(letter.id, "drop")));
      return [letter.id, letter.channel, letter.headline, element("pre", letter.last_error), buttons];
    });
    container.appendChild(table("Dead letters", ["Id", "Channel", "Event", "Last error", "Action"], rows));
  }
}

async function refresh() {
  let status;
  try {
    const response = await fetch("/api/status", { credentials: "same-origin", headers: { accept: "application/json" } });
    if (response.status === 401) {
      window.location.assign("/login");
      return;
    }
    status = await response.json();
  } catch (error) {
    document.getElementById("summary").textContent = `Cannot reach pswatch: ${error}`;
    return;
  }
  const moving = status.targets.filter((target) => target.motion !== "idle").length;
  document.getElementById("summary").textContent =
    `${status.targets.length} ${status.targets.length === 1 ? "database" : "databases"} watched, ${moving} in motion; updated ${new Date().toLocaleTimeString()}.`;
  renderDatabases(status);
  renderRecent(status);
  renderSilences(status);
  renderOutbox(status);
  renderReplicas(status);
}

/// A message's silence link (`/?silence=org/db&comment=…`) fills the form in; nothing is added
/// until the form is sent.
function prefillSilence() {
  const query = new URLSearchParams(window.location.search);
  const database = query.get("silence");
  if (database === null) return;
  const form = document.getElementById("add-silence");
  form.elements.database.value = database.slice(0, 200);
  form.elements.comment.value = (query.get("comment") || "").slice(0, 500);
  form.scrollIntoView();
  form.elements.comment.focus();
}

document.getElementById("add-silence").addEventListener("submit", addSilence);
prefillSilence();
refresh();
setInterval(refresh, REFRESH_MS);
