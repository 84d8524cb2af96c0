// The workspace: what staff see once signed in (the form, the list, the backup)
// and the header's "signed in as", shown with a sign-in and cleared with it.

import { renderBackup, setBackingUp } from "./backup.js";
import { setSaving } from "./form.js";
import { renderList } from "./list.js";
import { el, state } from "./page.js";
import { signedIn } from "./session.js";
import { clearMessage } from "./text.js";

export function renderSession() {
  const on = Boolean(signedIn);
  document.body.dataset.session = on ? "signed-in" : "signed-out";
  el.session.hidden = !on;
  el.sessionEmail.textContent = on ? signedIn.email : "";
  el.authSection.hidden = on;
  el.workspace.hidden = !on;
  for (const control of [el.fieldset, el.lookupInput, el.lookupButton, el.backupButton]) control.disabled = !on;
  renderList();
}

// Everything a sign-in showed goes with it: the list, a look-up, the form, a backup's report.
export function resetWorkspace() {
  Object.assign(state, {
    students: [],
    listLoaded: false,
    nextToken: null,
    mode: "list",
    lookupResult: null,
    loadingList: false,
    lastBackup: null,
  });
  state.newIds.clear();
  el.form.reset();
  el.lookupInput.value = "";
  el.lookupInput.removeAttribute("aria-invalid");
  for (const element of [el.lookupError, el.listStatus, el.backupStatus]) clearMessage(element);
  setSaving(false);
  setBackingUp(false);
  renderList();
  renderBackup();
}
