// What every part of the page shares: its elements, found once, and its state.
// A module runs once the document is parsed (module scripts are deferred), so
// every element named here exists when this runs.

// The API's query parameter for a look-up, and the field a student is known by.
export const KEY_FIELD = "studentid";

export const byId = (id) => document.getElementById(id);
export const el = {
  language: byId("language"),
  form: byId("student-form"),
  fieldset: byId("student-fieldset"),
  saveButton: byId("save-button"),
  formStatus: byId("form-status"),
  lookupForm: byId("lookup-form"),
  lookupInput: byId("lookup-id"),
  lookupButton: byId("lookup-button"),
  lookupError: byId("lookup-error"),
  showAllButton: byId("show-all-button"),
  refreshButton: byId("refresh-button"),
  listStatus: byId("list-status"),
  listCount: byId("list-count"),
  tableRegion: byId("table-region"),
  table: byId("student-table"),
  headRow: byId("student-head-row"),
  rows: byId("student-rows"),
  loading: byId("list-loading"),
  empty: byId("list-empty"),
  loadMoreButton: byId("load-more-button"),
  backupSection: byId("backup-section"),
  backupButton: byId("backup-button"),
  backupStatus: byId("backup-status"),
  backupResult: byId("backup-result"),
  backupItems: byId("backup-items"),
  backupStarted: byId("backup-started"),
  backupEmail: byId("backup-email"),
  backupObjects: byId("backup-objects"),
  main: byId("main"),
  workspace: byId("workspace"),
  session: byId("session"),
  sessionEmail: byId("session-email"),
  signOutButton: byId("sign-out-button"),
  authSection: byId("auth-section"),
  authStatus: byId("auth-status"),
  signInForm: byId("sign-in-form"),
  signInFieldset: byId("sign-in-fieldset"),
  signInEmail: byId("sign-in-email"),
  signInPassword: byId("sign-in-password"),
  signInButton: byId("sign-in-button"),
  newPasswordForm: byId("new-password-form"),
  newPasswordAccount: byId("new-password-account"),
  passwordRules: byId("password-rules"),
  newPassword: byId("new-password"),
  newPasswordAgain: byId("new-password-again"),
  newPasswordButton: byId("new-password-button"),
  mfaForm: byId("mfa-form"),
  mfaCode: byId("mfa-code"),
  mfaButton: byId("mfa-button"),
};

export const state = {
  language: "en",
  config: null,
  students: [], // the full list as loaded so far, newest additions first
  listLoaded: false,
  nextToken: null,
  mode: "list", // "list", or "lookup" while a look-up result is shown
  lookupResult: null,
  newIds: new Set(),
  loadingList: false,
  saving: false,
  backingUp: false,
  lastBackup: null,
};
