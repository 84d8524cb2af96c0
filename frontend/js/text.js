// Text on screen, in the chosen language. Text reaches the document only through
// textContent (never as markup), and no style is set from script: the page runs
// under a strict Content-Security-Policy.

import { MESSAGES, SERVER_REASONS } from "./messages.js";
import { state } from "./page.js";

// Every message on screen, kept as what it says rather than as text, so a
// change of language rewrites it. A message is a list of parts:
// {key, params} (translated), {reason} (a server's reason) or {raw} (as is).
const shownMessages = new Map();

export function t(key, params = {}) {
  const template = MESSAGES[state.language][key] ?? MESSAGES.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    name in params ? formatValue(params[name]) : whole,
  );
}

export function formatValue(value) {
  return typeof value === "number" ? new Intl.NumberFormat(state.language).format(value) : String(value);
}

function sentence(text) {
  const trimmed = String(text).trim();
  if (!trimmed) return "";
  const capital = trimmed[0].toLocaleUpperCase(state.language) + trimmed.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

function compose(parts) {
  return parts
    .map((part) => {
      if ("key" in part) return t(part.key, part.params);
      if ("reason" in part) return SERVER_REASONS[state.language]?.[part.reason] ?? sentence(part.reason);
      return part.raw;
    })
    .filter(Boolean)
    .join(" ");
}

export function showMessage(element, tone, parts) {
  shownMessages.set(element, { tone, parts });
  renderMessage(element);
}

function renderMessage(element) {
  const message = shownMessages.get(element);
  element.textContent = message ? compose(message.parts) : "";
  element.dataset.tone = message ? message.tone : "";
  element.hidden = !message;
}

export function clearMessage(element) {
  shownMessages.delete(element);
  renderMessage(element);
}

// Every message on screen again, in the language chosen since.
export function renderMessages() {
  for (const element of shownMessages.keys()) renderMessage(element);
}

export function setLabel(element, key) {
  element.dataset.i18n = key;
  element.textContent = t(key);
}

export function formatDate(isoDate) {
  const [year, month, day] = String(isoDate).split("-").map(Number);
  if (!year || !month || !day) return String(isoDate);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return new Intl.DateTimeFormat(state.language, { dateStyle: "long", timeZone: "UTC" }).format(date);
}
