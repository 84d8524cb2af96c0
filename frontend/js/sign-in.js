// Staff sign-in, one form a step: the e-mail address and password, the first
// sign-in's new password, an authenticator code for members who turned one on;
// and signing out, which revokes the sign-in.

import { TRANSIENT, authFailure, cognito } from "./cognito.js";
import { loadStudents } from "./list.js";
import { byId, el, state } from "./page.js";
import { PASSWORD_RULES, renderPasswordRules } from "./password-policy.js";
import { hasType } from "./schema.js";
import { beginSession, forgetSession, signedIn, whenRefused } from "./session.js";
import { clearMessage, setLabel, showMessage } from "./text.js";
import { renderSession, resetWorkspace } from "./workspace.js";

// A sign-in waiting for its next step: {name, session, username}.
let pending = null;
let authBusy = false;

function startSession(result, email) {
  pending = null;
  beginSession(result, email);
  clearMessage(el.authStatus);
  resetWorkspace();
  renderSession();
  el.main.focus();
  loadStudents({ reset: true });
}

// Forgets the sign-in and everything it showed, and brings the sign-in form back.
function endSession(tone, parts) {
  forgetSession();
  pending = null;
  resetWorkspace();
  renderSession();
  showAuthStep("sign-in");
  showMessage(el.authStatus, tone, parts);
  el.signInEmail.focus();
}

// Signing out revokes the refresh token, so it issues no more tokens; where that
// cannot be done, GlobalSignOut ends every sign-in of the member instead, rather
// than leave this one alive. The page forgets its tokens first, whatever Cognito says.
async function onSignOut() {
  const ending = signedIn;
  if (!ending) return;
  endSession("info", [{ key: "auth.signingOut" }]);
  const clientId = state.config.auth.clientId;
  const revoked = await cognito("RevokeToken", { Token: ending.refreshToken, ClientId: clientId });
  const ended = revoked.ok || (await cognito("GlobalSignOut", { AccessToken: ending.accessToken })).ok;
  // Signed in again meanwhile: that sign-in's screen is not this one's to change.
  if (signedIn || pending) return;
  showMessage(el.authStatus, ended ? "success" : "error", [
    { key: ended ? "auth.signedOut" : "auth.signedOutLocally" },
  ]);
}

function markInvalid(input, parts) {
  input.setAttribute("aria-invalid", "true");
  showMessage(byId(`${input.id}-error`), "error", parts);
}

function clearInvalid(input) {
  input.removeAttribute("aria-invalid");
  const error = byId(`${input.id}-error`);
  if (error) clearMessage(error);
}

const AUTH_INPUTS = () => [el.signInEmail, el.signInPassword, el.newPassword, el.newPasswordAgain, el.mfaCode];

// One step of signing in at a time: "sign-in", "new-password" or "mfa".
function showAuthStep(step) {
  el.signInForm.hidden = step !== "sign-in";
  el.newPasswordForm.hidden = step !== "new-password";
  el.mfaForm.hidden = step !== "mfa";
  for (const input of AUTH_INPUTS()) {
    clearInvalid(input);
    if (input !== el.signInEmail) input.value = "";
  }
  el.newPasswordAccount.value = pending?.username ?? "";
  renderPasswordRules();
}

function setAuthBusy(button, busyKey, idleKey, busy) {
  authBusy = busy;
  button.disabled = busy;
  button.closest("form").setAttribute("aria-busy", String(busy));
  setLabel(button, busy ? busyKey : idleKey);
}

// What Cognito answered to a sign-in or one of its steps: tokens, or the next step.
function proceed(answer, username) {
  const result = answer.data.AuthenticationResult;
  if (hasType(result, "object") && typeof result.IdToken === "string") {
    startSession(result, username);
    return;
  }
  const name = String(answer.data.ChallengeName ?? "");
  pending = { name, session: String(answer.data.Session ?? ""), username };
  if (name === "NEW_PASSWORD_REQUIRED" || name === "SOFTWARE_TOKEN_MFA") {
    clearMessage(el.authStatus);
    showAuthStep(name === "NEW_PASSWORD_REQUIRED" ? "new-password" : "mfa");
    (name === "NEW_PASSWORD_REQUIRED" ? el.newPassword : el.mfaCode).focus();
    return;
  }
  pending = null;
  showAuthStep("sign-in");
  showMessage(el.authStatus, "error", [{ key: "auth.unsupportedChallenge", params: { challenge: name || "?" } }]);
}

// Answers the pending step's `challenge` with `responses`, `button` showing it under way meanwhile.
async function respond(button, idleKey, challenge, responses) {
  setAuthBusy(button, "auth.submitting", idleKey, true);
  const answer = await cognito("RespondToAuthChallenge", {
    ClientId: state.config.auth.clientId,
    ChallengeName: challenge,
    Session: pending.session,
    ChallengeResponses: { USERNAME: pending.username, ...responses },
  });
  setAuthBusy(button, "auth.submitting", idleKey, false);
  return answer;
}

// A step that failed for good (its session expired, say): back to the start, saying why.
function restartSignIn(answer) {
  pending = null;
  showAuthStep("sign-in");
  showMessage(el.authStatus, "error", authFailure(answer));
  el.signInPassword.focus();
}

async function onSignIn(event) {
  event.preventDefault();
  if (!state.config || authBusy || signedIn) return;
  clearMessage(el.authStatus);
  const email = el.signInEmail.value.trim();
  const password = el.signInPassword.value;
  for (const input of [el.signInEmail, el.signInPassword]) clearInvalid(input);
  const empty = [el.signInEmail, el.signInPassword].filter((input) => !input.value.trim());
  if (empty.length) {
    for (const input of empty) markInvalid(input, [{ key: "error.required" }]);
    empty[0].focus();
    return;
  }
  setAuthBusy(el.signInButton, "auth.submitting", "auth.submit", true);
  const answer = await cognito("InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: state.config.auth.clientId,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  setAuthBusy(el.signInButton, "auth.submitting", "auth.submit", false);
  el.signInPassword.value = "";
  if (answer.ok) {
    proceed(answer, email);
    return;
  }
  showMessage(el.authStatus, "error", authFailure(answer));
  el.signInPassword.focus();
}

async function onNewPassword(event) {
  event.preventDefault();
  if (!pending || authBusy) return;
  const password = el.newPassword.value;
  for (const input of [el.newPassword, el.newPasswordAgain]) clearInvalid(input);
  if (!password) {
    markInvalid(el.newPassword, [{ key: "error.required" }]);
  } else if (PASSWORD_RULES.some((rule) => !rule.met(password))) {
    markInvalid(el.newPassword, [{ key: "newPassword.weak" }]);
  } else if (password !== password.trim()) {
    markInvalid(el.newPassword, [{ key: "newPassword.spaces" }]);
  } else if (el.newPasswordAgain.value !== password) {
    markInvalid(el.newPasswordAgain, [{ key: "newPassword.mismatch" }]);
  }
  const invalid = el.newPasswordForm.querySelector('[aria-invalid="true"]');
  if (invalid) {
    invalid.focus();
    return;
  }
  const answer = await respond(el.newPasswordButton, "newPassword.submit", "NEW_PASSWORD_REQUIRED", {
    NEW_PASSWORD: password,
  });
  if (answer.ok) {
    proceed(answer, pending.username);
  } else if (answer.type === "InvalidPasswordException" || answer.status === 0 || TRANSIENT.has(answer.type)) {
    // The same step may be tried again: keep the form (the passwords are typed again).
    for (const input of [el.newPassword, el.newPasswordAgain]) input.value = "";
    renderPasswordRules();
    markInvalid(el.newPassword, authFailure(answer));
    el.newPassword.focus();
  } else {
    restartSignIn(answer);
  }
}

async function onMfa(event) {
  event.preventDefault();
  if (!pending || authBusy) return;
  const code = el.mfaCode.value.trim();
  clearInvalid(el.mfaCode);
  if (!/^[0-9]{6}$/.test(code)) {
    markInvalid(el.mfaCode, [{ key: "mfa.format" }]);
    el.mfaCode.focus();
    return;
  }
  const answer = await respond(el.mfaButton, "mfa.submit", "SOFTWARE_TOKEN_MFA", { SOFTWARE_TOKEN_MFA_CODE: code });
  if (answer.ok) {
    proceed(answer, pending.username);
  } else if (answer.type === "CodeMismatchException" || answer.status === 0 || TRANSIENT.has(answer.type)) {
    el.mfaCode.value = "";
    markInvalid(el.mfaCode, authFailure(answer));
    el.mfaCode.focus();
  } else {
    restartSignIn(answer);
  }
}

function cancelSignIn() {
  pending = null;
  showAuthStep("sign-in");
  clearMessage(el.authStatus);
  el.signInEmail.focus();
}

export function wireSignIn() {
  el.signInForm.addEventListener("submit", onSignIn);
  el.newPasswordForm.addEventListener("submit", onNewPassword);
  el.mfaForm.addEventListener("submit", onMfa);
  for (const button of document.querySelectorAll(".auth__cancel")) button.addEventListener("click", cancelSignIn);
  el.newPassword.addEventListener("input", renderPasswordRules);
  for (const input of AUTH_INPUTS()) {
    input.addEventListener("input", () => {
      if (input.getAttribute("aria-invalid") === "true") clearInvalid(input);
    });
  }
  el.signOutButton.addEventListener("click", onSignOut);
  whenRefused(() => endSession("error", [{ key: "auth.expired" }]));
}
