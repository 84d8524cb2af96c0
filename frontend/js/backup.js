// Backing up every student: the button starts a run, the page follows it to its
// end and reports what it wrote (the run's files and the summary e-mail).

import { callApi, describeFailure } from "./api.js";
import { el, state } from "./page.js";
import { hasType } from "./schema.js";
import { ADMIN_GROUP, signedIn } from "./session.js";
import { formatValue, setLabel, showMessage, t } from "./text.js";

function formatBytes(bytes) {
  const units = ["byte", "kilobyte", "megabyte", "gigabyte"];
  let value = Number(bytes) || 0;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return new Intl.NumberFormat(state.language, {
    style: "unit",
    unit: units[unit],
    unitDisplay: unit === 0 ? "long" : "short",
    maximumFractionDigits: unit === 0 ? 0 : 1,
  }).format(value);
}

function formatMoment(isoMoment) {
  const moment = new Date(isoMoment);
  if (Number.isNaN(moment.getTime())) return String(isoMoment ?? "");
  return new Intl.DateTimeFormat(state.language, { dateStyle: "medium", timeStyle: "medium" }).format(moment);
}

export function renderBackup() {
  const backup = state.lastBackup;
  el.backupResult.hidden = !backup;
  if (!backup) return;
  el.backupItems.textContent = formatValue(Number(backup.items) || 0);
  el.backupStarted.textContent = formatMoment(backup.startedAt);
  el.backupEmail.replaceChildren();
  const mail = document.createElement("span");
  mail.className = backup.emailSent ? "pill pill--ok" : "pill pill--warn";
  mail.textContent = t(backup.emailSent ? "backup.emailSent" : "backup.emailNotSent");
  el.backupEmail.append(mail);
  if (!backup.emailSent && backup.emailError) el.backupEmail.append(" ", String(backup.emailError));
  const objects = Array.isArray(backup.objects) ? backup.objects : [];
  el.backupObjects.replaceChildren(
    ...objects.map((object) => {
      const item = document.createElement("li");
      item.className = "objects__item";
      const key = document.createElement("code");
      key.className = "objects__key";
      key.textContent = String(object.key ?? "");
      const size = document.createElement("span");
      size.className = "objects__size";
      size.textContent = formatBytes(object.bytes);
      item.append(key, size);
      return item;
    }),
  );
}

export function setBackingUp(running) {
  state.backingUp = running;
  el.backupButton.disabled = running;
  el.backupSection.setAttribute("aria-busy", String(running));
  setLabel(el.backupButton, running ? "backup.running" : "backup.button");
}

// The backup runs on in the background (POST /backup answers 202 with its run id):
// the page asks how it is going, soon at first, then every few seconds, for at
// most as long as the function may run.
const POLL_FIRST_MS = 500;
const POLL_EVERY_MS = 2000;
const POLL_LIMIT_MS = 16 * 60 * 1000;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// The backup routes answer 403 to anyone outside the admin group: say so, rather
// than the general "access denied", when the member's token lists no such group.
function backupFailure(result) {
  if (result.status === 403 && !signedIn?.groups.has(ADMIN_GROUP)) return [{ key: "backup.adminOnly" }];
  return describeFailure(result);
}

async function followRun(runId) {
  const deadline = Date.now() + POLL_LIMIT_MS;
  let wait = POLL_FIRST_MS;
  while (Date.now() < deadline) {
    await sleep(wait);
    wait = POLL_EVERY_MS;
    const result = await callApi("GET", state.config.api.backup, { query: { runId } });
    if (result.stale) return { stale: true };
    if (result.status === 200 && hasType(result.data, "object")) {
      if (result.data.state === "done") return { run: result.data };
      if (result.data.state === "failed") {
        const reason = typeof result.data.error === "string" ? result.data.error : "";
        return { failure: reason ? [{ raw: `(${reason})` }] : [] };
      }
      continue;
    }
    // A lost connection, throttling or a server hiccup: the run goes on, ask again.
    if (result.status === 0 || result.status === 429 || result.status >= 500) continue;
    return { failure: backupFailure(result) };
  }
  return { failure: [{ key: "backup.lostTrack" }] };
}

async function onBackup() {
  if (!state.config || state.backingUp) return;
  setBackingUp(true);
  state.lastBackup = null;
  renderBackup();
  showMessage(el.backupStatus, "info", [{ key: "backup.running" }]);
  const started = await callApi("POST", state.config.api.backup, { body: {} });
  if (started.stale) return;
  const runId = typeof started.data?.runId === "string" ? started.data.runId : "";
  let outcome;
  if ((started.status === 202 || started.status === 409) && runId) {
    // 409: someone else's backup is running; follow that one rather than start another.
    if (started.status === 409) showMessage(el.backupStatus, "info", [{ key: "backup.alreadyRunning" }]);
    outcome = await followRun(runId);
    if (outcome.stale) return;
  } else {
    outcome = { failure: backupFailure(started) };
  }
  setBackingUp(false);
  if (outcome.run) {
    state.lastBackup = outcome.run;
    const files = Array.isArray(outcome.run.objects) ? outcome.run.objects.length : 0;
    showMessage(el.backupStatus, "success", [
      { key: "backup.done", params: { items: Number(outcome.run.items) || 0, files } },
    ]);
  } else {
    // A member outside the admin group started nothing: no "backup failed" before why.
    const refused = outcome.failure[0]?.key === "backup.adminOnly";
    showMessage(el.backupStatus, "error", refused ? outcome.failure : [{ key: "backup.failed" }, ...outcome.failure]);
  }
  renderBackup();
}

export function wireBackup() {
  el.backupButton.addEventListener("click", onBackup);
}
