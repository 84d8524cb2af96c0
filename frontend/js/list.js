// The list of students: loaded a page at a time, newest additions first, and
// the look-up of one student by ID, which shows that student alone.

import { callApi, describeFailure } from "./api.js";
import { KEY_FIELD, el, state } from "./page.js";
import { checkSchema, hasType } from "./schema.js";
import { clearMessage, showMessage, t } from "./text.js";

export function renderTableHead() {
  el.headRow.replaceChildren(
    ...state.config.studentFields.map((field) => {
      const cell = document.createElement("th");
      cell.scope = "col";
      cell.setAttribute("role", "columnheader");
      cell.textContent = t(`field.${field}`);
      return cell;
    }),
  );
}

function studentRow(student) {
  const row = document.createElement("tr");
  row.setAttribute("role", "row");
  row.dataset.studentid = String(student[KEY_FIELD] ?? "");
  const isNew = state.newIds.has(row.dataset.studentid);
  if (isNew) row.classList.add("is-new");
  state.config.studentFields.forEach((field, index) => {
    const cell = document.createElement(index === 0 ? "th" : "td");
    if (index === 0) cell.scope = "row";
    cell.setAttribute("role", index === 0 ? "rowheader" : "cell");
    cell.dataset.field = field;
    cell.dataset.label = t(`field.${field}`);
    const value = document.createElement("span");
    value.className = "cell-value";
    const text = String(student[field] ?? "");
    const at = field === "email" ? text.lastIndexOf("@") : -1;
    if (at > 0) {
      // A narrow screen wraps an address before its domain rather than anywhere.
      for (const piece of [text.slice(0, at), text.slice(at)]) {
        const part = document.createElement("span");
        part.className = "email-part";
        part.textContent = piece;
        value.append(part);
      }
    } else {
      value.textContent = text;
    }
    cell.append(value);
    if (index === 0 && isNew) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = t("list.newRow");
      value.append(" ", badge);
    }
    row.append(cell);
  });
  return row;
}

export function renderList() {
  const lookingUp = state.mode === "lookup";
  const students = lookingUp ? (state.lookupResult ? [state.lookupResult] : []) : state.students;
  el.rows.replaceChildren(...students.map(studentRow));
  el.table.hidden = students.length === 0;
  el.loading.hidden = !state.loadingList;
  el.tableRegion.setAttribute("aria-busy", String(state.loadingList));
  el.empty.hidden = lookingUp || !state.listLoaded || state.loadingList || students.length > 0;
  el.loadMoreButton.hidden = lookingUp || !state.nextToken;
  el.loadMoreButton.disabled = state.loadingList;
  el.showAllButton.hidden = !lookingUp;
  el.refreshButton.disabled = state.loadingList || !state.config;
  if (lookingUp || !state.listLoaded) {
    el.listCount.textContent = "";
  } else {
    const count = state.students.length;
    const shown = t(count === 1 ? "list.count.one" : "list.count.other", { count });
    el.listCount.textContent = state.nextToken ? `${shown} · ${t("list.more")}` : shown;
  }
}

function mergeStudents(students) {
  const known = new Set(state.students.map((student) => String(student[KEY_FIELD])));
  const added = students.filter((student) => !known.has(String(student[KEY_FIELD])));
  state.students.push(...added);
  return added;
}

export async function loadStudents({ reset }) {
  if (state.loadingList) return;
  state.loadingList = true;
  if (reset) {
    state.mode = "list";
    state.lookupResult = null;
  }
  renderList();
  const query = { limit: String(state.config.pageSize) };
  if (!reset && state.nextToken) query.nextToken = state.nextToken;
  const result = await callApi("GET", state.config.api.students, { query });
  if (result.stale) return;
  state.loadingList = false;
  const page = result.status === 200 && Array.isArray(result.data?.students) ? result.data : null;
  if (!page) {
    showMessage(el.listStatus, "error", [{ key: "list.loadFailed" }, ...describeFailure(result)]);
    renderList();
    return;
  }
  clearMessage(el.listStatus);
  if (reset) {
    state.students = [];
    state.newIds.clear();
  }
  const added = mergeStudents(page.students);
  state.nextToken = typeof page.nextToken === "string" && page.nextToken ? page.nextToken : null;
  state.listLoaded = true;
  renderList();
  if (!reset && added.length) {
    // The button may be gone now: keyboard focus moves on to the first new row.
    const first = el.rows.querySelector(`tr[data-studentid="${CSS.escape(String(added[0][KEY_FIELD]))}"]`);
    if (first) {
      first.tabIndex = -1;
      first.focus();
    }
  }
}

export function addStudent(student) {
  const id = String(student[KEY_FIELD]);
  state.students = [student, ...state.students.filter((known) => String(known[KEY_FIELD]) !== id)];
  state.newIds.add(id);
  state.listLoaded = true;
  state.mode = "list";
  state.lookupResult = null;
  clearMessage(el.listStatus);
  renderList();
}

async function onLookup(event) {
  event.preventDefault();
  if (!state.config || state.loadingList) return;
  const id = el.lookupInput.value.trim();
  el.lookupInput.removeAttribute("aria-invalid");
  clearMessage(el.lookupError);
  const problems = new Map();
  const keySchema = state.config.studentSchema.properties?.[KEY_FIELD];
  if (!id) {
    problems.set(KEY_FIELD, { key: "lookup.empty", params: {} });
  } else if (keySchema) {
    checkSchema(keySchema, id, KEY_FIELD, problems);
  }
  if (problems.size) {
    el.lookupInput.setAttribute("aria-invalid", "true");
    showMessage(el.lookupError, "error", [problems.get(KEY_FIELD)]);
    el.lookupInput.focus();
    return;
  }
  state.loadingList = true;
  renderList();
  const result = await callApi("GET", state.config.api.students, { query: { [KEY_FIELD]: id } });
  if (result.stale) return;
  state.loadingList = false;
  const reason = result.data?.errors?.[KEY_FIELD];
  if (result.status === 200 && hasType(result.data?.student, "object")) {
    state.mode = "lookup";
    state.lookupResult = result.data.student;
    showMessage(el.listStatus, "success", [{ key: "lookup.found", params: { id } }]);
  } else if (result.status === 404) {
    state.mode = "lookup";
    state.lookupResult = null;
    showMessage(el.listStatus, "info", [{ key: "lookup.notFound", params: { id } }]);
  } else if (result.status === 400 && reason) {
    el.lookupInput.setAttribute("aria-invalid", "true");
    showMessage(el.lookupError, "error", [{ reason: String(reason) }]);
  } else {
    showMessage(el.listStatus, "error", [{ key: "lookup.failed" }, ...describeFailure(result)]);
  }
  renderList();
}

function showAll() {
  state.mode = "list";
  state.lookupResult = null;
  el.lookupInput.value = "";
  el.lookupInput.removeAttribute("aria-invalid");
  clearMessage(el.lookupError);
  clearMessage(el.listStatus);
  if (state.listLoaded) {
    renderList();
  } else {
    loadStudents({ reset: true });
  }
  el.lookupInput.focus();
}

export function wireList() {
  el.lookupForm.addEventListener("submit", onLookup);
  el.showAllButton.addEventListener("click", showAll);
  el.refreshButton.addEventListener("click", () => {
    clearMessage(el.listStatus);
    loadStudents({ reset: true });
  });
  el.loadMoreButton.addEventListener("click", () => loadStudents({ reset: false }));
}
