// The rules a new password must meet, each ticked off on the new-password form
// as the member types.

import { el } from "./page.js";
import { t } from "./text.js";

// The staff pool's password policy (modules/staff_directory.py: 14 characters,
// lower and upper case, a digit, a symbol), stated on the new-password form and
// checked before the password is sent. Cognito checks it again and has the last word.
const PASSWORD_POLICY = { minLength: 14 };
// Cognito's symbols; a space counts as one when it is neither first nor last.
const SYMBOL = /[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+-]/u;
export const PASSWORD_RULES = [
  { key: "policy.length", met: (text) => [...text].length >= PASSWORD_POLICY.minLength },
  { key: "policy.lowercase", met: (text) => /[a-z]/.test(text) },
  { key: "policy.uppercase", met: (text) => /[A-Z]/.test(text) },
  { key: "policy.digit", met: (text) => /[0-9]/.test(text) },
  { key: "policy.symbol", met: (text) => SYMBOL.test(text) || text.slice(1, -1).includes(" ") },
];

export function renderPasswordRules() {
  const text = el.newPassword.value;
  el.passwordRules.replaceChildren(
    ...PASSWORD_RULES.map((rule) => {
      const item = document.createElement("li");
      const met = rule.met(text);
      item.className = "policy__rule";
      item.dataset.rule = rule.key.split(".")[1];
      item.dataset.met = String(met);
      const words = document.createElement("span");
      words.textContent = t(rule.key, { min: PASSWORD_POLICY.minLength });
      // What the tick or cross says, for screen readers.
      const verdict = document.createElement("span");
      verdict.className = "visually-hidden";
      verdict.textContent = ` (${t(met ? "policy.met" : "policy.unmet")})`;
      item.append(words, verdict);
      return item;
    }),
  );
}
