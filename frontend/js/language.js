// The page's language: English or Vietnamese, the visitor's choice remembered in
// local storage (the only thing the page keeps there), else the browser's.

import { renderBackup } from "./backup.js";
import { renderHints } from "./form.js";
import { renderList, renderTableHead } from "./list.js";
import { el, state } from "./page.js";
import { renderPasswordRules } from "./password-policy.js";
import { renderMessages, t } from "./text.js";

const LANGUAGE_KEY = "studentManagement.language";
const LANGUAGES = ["en", "vi"];

export function initialLanguage() {
  let stored = null;
  try {
    stored = window.localStorage.getItem(LANGUAGE_KEY);
  } catch {
    // Storage may be disabled; the browser's language decides then.
  }
  if (LANGUAGES.includes(stored)) return stored;
  return (navigator.language || "").toLowerCase().startsWith("vi") ? "vi" : "en";
}

// Everything on screen is rewritten in `language`: labels, hints, rules, messages, the list.
export function applyLanguage(language) {
  state.language = LANGUAGES.includes(language) ? language : "en";
  document.documentElement.lang = state.language;
  el.language.value = state.language;
  for (const node of document.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
  }
  renderHints();
  renderPasswordRules();
  renderMessages();
  if (state.config) {
    renderTableHead();
    renderList();
    renderBackup();
  }
}

function chooseLanguage(language) {
  applyLanguage(language);
  try {
    window.localStorage.setItem(LANGUAGE_KEY, state.language);
  } catch {
    // Not remembered across visits, but the page still switches.
  }
}

export function wireLanguage() {
  el.language.addEventListener("change", () => chooseLanguage(el.language.value));
}
