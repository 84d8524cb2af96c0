// The student management page: staff sign in, then add students, list and find
// them, start a backup.
//
// Everything the page must know about the API comes from /config.json at run
// time: the paths on this origin, the JSON schema the API validates new
// students with, the earliest birthdate and the page size, and where staff sign
// in (config.auth: the Cognito user pool's app client and the endpoint of
// Cognito's JSON API). The form is checked against that schema, so the page and
// the API cannot disagree about what a valid student is. No key, host name or
// absolute URL is ever written here.
//
// Sign-in is plain fetch to Cognito's documented JSON API (no SDK): the password
// flow, the first sign-in's new-password challenge, an authenticator code for
// members who turned one on, refreshing the ID token before it expires, and
// revoking the sign-in when staff sign out. Every API call carries the ID token
// in its Authorization header.
//
// Text reaches the document only through textContent and createElement, and no
// style is set from script: the page runs under a strict Content-Security-Policy.
//
// The script is a set of ES modules, one a concern, in this folder of their own;
// this one is the entry, which index.html loads as a module (deferred, strict).
// They sit together so that every import is a sibling's relative path, which the
// site's build (modules/site_assets.py) fingerprints leaves first, rewriting each
// import to the name its module is published under: a changed module renames
// every module that imports it, up to this one. The build refuses an import
// cycle, so none is written: where a lower module must reach a higher one (the
// session, when Cognito refuses to renew it, the sign-in form) it is handed a
// function at start instead.

import { wireBackup } from "./backup.js";
import { loadConfig } from "./config.js";
import { configureForm, wireForm } from "./form.js";
import { applyLanguage, initialLanguage, wireLanguage } from "./language.js";
import { wireList } from "./list.js";
import { el, state } from "./page.js";
import { wireSignIn } from "./sign-in.js";
import { clearMessage, showMessage } from "./text.js";
import { renderSession } from "./workspace.js";

async function start() {
  wireLanguage();
  wireForm();
  wireList();
  wireBackup();
  wireSignIn();
  applyLanguage(initialLanguage());
  renderSession();
  showMessage(el.authStatus, "info", [{ key: "config.loading" }]);
  try {
    state.config = await loadConfig();
  } catch {
    showMessage(el.authStatus, "error", [{ key: "config.failed" }]);
    return;
  }
  clearMessage(el.authStatus);
  configureForm();
  applyLanguage(state.language);
  el.signInFieldset.disabled = false;
  document.body.dataset.ready = "true";
}

start();
