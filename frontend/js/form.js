// The form that adds a student: checked in the page first (the API's own schema,
// and the calendar for the birthdate), then sent; the API's answer is shown
// beside the fields it names.

import { callApi, describeFailure, serverMessage } from "./api.js";
import { addStudent } from "./list.js";
import { KEY_FIELD, byId, el, state } from "./page.js";
import { checkSchema, hasType } from "./schema.js";
import { clearMessage, formatDate, setLabel, showMessage, t } from "./text.js";

function fieldInput(field) {
  return byId(`field-${field}`);
}

function fieldError(field) {
  return byId(`field-${field}-error`);
}

export function configureForm() {
  const schema = state.config.studentSchema;
  const required = new Set(schema.required ?? []);
  for (const field of state.config.studentFields) {
    const input = fieldInput(field);
    if (!input) continue;
    input.setAttribute("aria-required", String(required.has(field)));
  }
  const birthdate = fieldInput("birthdate");
  if (birthdate) {
    birthdate.min = state.config.earliestBirthdate;
    birthdate.max = todayIso();
  }
}

export function renderHints() {
  if (!state.config) return;
  const properties = state.config.studentSchema.properties ?? {};
  for (const node of document.querySelectorAll("[data-hint]")) {
    const field = node.dataset.hint;
    node.textContent = t(`hint.${field}`, {
      max: properties[field]?.maxLength ?? "",
      earliest: formatDate(state.config.earliestBirthdate),
    });
  }
}

function todayIso() {
  const now = new Date();
  const pad = (number) => String(number).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function birthdateProblem(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return { key: "error.pattern.birthdate", params: {} };
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return { key: "error.date.invalid", params: {} };
  }
  // ISO dates of four-digit years compare as text.
  if (text < state.config.earliestBirthdate) {
    return { key: "error.date.tooEarly", params: { earliest: formatDate(state.config.earliestBirthdate) } };
  }
  if (text > todayIso()) return { key: "error.date.future", params: {} };
  return null;
}

function checkStudent(values) {
  const problems = new Map();
  checkSchema(state.config.studentSchema, values, "", problems);
  const birthdate = fieldInput("birthdate");
  if (birthdate?.validity.badInput) {
    // The browser holds a date it cannot turn into a value, e.g. 31 February.
    problems.set("birthdate", { key: "error.date.invalid", params: {} });
  } else if ("birthdate" in values && !problems.has("birthdate")) {
    const problem = birthdateProblem(values.birthdate);
    if (problem) problems.set("birthdate", problem);
  }
  return problems;
}

function readForm() {
  const values = {};
  for (const field of state.config.studentFields) {
    const input = fieldInput(field);
    // The functions store names composed (NFC) and trimmed: check what they will see.
    values[field] = input ? input.value.normalize("NFC").trim() : "";
  }
  return values;
}

function setFieldError(field, parts) {
  const input = fieldInput(field);
  const error = fieldError(field);
  if (!input || !error) return false;
  input.setAttribute("aria-invalid", "true");
  showMessage(error, "error", parts);
  return true;
}

function clearFieldError(field) {
  const input = fieldInput(field);
  const error = fieldError(field);
  if (input) input.removeAttribute("aria-invalid");
  if (error) clearMessage(error);
}

function clearForm() {
  for (const field of state.config?.studentFields ?? []) clearFieldError(field);
  clearMessage(el.formStatus);
}

function focusFirstInvalid() {
  const first = el.form.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
}

export function setSaving(saving) {
  state.saving = saving;
  el.saveButton.disabled = saving;
  el.form.setAttribute("aria-busy", String(saving));
  setLabel(el.saveButton, saving ? "add.saving" : "add.save");
}

async function onSubmit(event) {
  event.preventDefault();
  if (!state.config || state.saving) return;
  clearForm();
  const values = readForm();
  const problems = checkStudent(values);
  if (problems.size) {
    const others = [];
    for (const [field, problem] of problems) {
      if (!setFieldError(field, [problem])) others.push(problem);
    }
    showMessage(el.formStatus, "error", [{ key: "save.checkFields" }, ...others]);
    focusFirstInvalid();
    return;
  }
  setSaving(true);
  const result = await callApi("POST", state.config.api.students, { body: values });
  if (result.stale) return;
  setSaving(false);
  showSaveResult(values, result);
}

function showSaveResult(values, result) {
  const { status, data } = result;
  if (status === 201) {
    const student = hasType(data?.student, "object") ? data.student : values;
    const mail = data?.emailSent
      ? [{ key: "save.emailSent", params: { email: student.email } }]
      : [{ key: "save.emailNotSent" }, ...(data?.emailError ? [{ raw: `(${data.emailError})` }] : [])];
    el.form.reset();
    clearForm();
    showMessage(el.formStatus, "success", [
      { key: "save.saved", params: { name: student.name, id: student[KEY_FIELD] } },
      ...mail,
    ]);
    addStudent(student);
    fieldInput(state.config.studentFields[0])?.focus();
    return;
  }
  if (status === 409) {
    const parts = [{ key: "save.duplicate", params: { id: values[KEY_FIELD] } }];
    setFieldError(KEY_FIELD, parts);
    showMessage(el.formStatus, "error", parts);
    focusFirstInvalid();
    return;
  }
  const errors = hasType(data?.errors, "object") ? data.errors : null;
  if (status === 400 && errors) {
    const others = [];
    for (const [field, reason] of Object.entries(errors)) {
      if (!setFieldError(field, [{ reason: String(reason) }])) others.push({ raw: `${field}: ${reason}.` });
    }
    showMessage(el.formStatus, "error", [
      { key: "save.invalid", params: { message: serverMessage(result) || status } },
      ...others,
    ]);
    focusFirstInvalid();
    return;
  }
  showMessage(el.formStatus, "error", [{ key: "save.failed" }, ...describeFailure(result)]);
}

export function wireForm() {
  el.form.addEventListener("submit", onSubmit);
  el.form.addEventListener("reset", () => clearForm());
  el.form.addEventListener("input", (event) => {
    const field = event.target?.name;
    if (field && event.target.getAttribute("aria-invalid") === "true") clearFieldError(field);
  });
}
