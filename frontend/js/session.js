// The signed-in member's tokens, and keeping them fresh: the ID token is renewed
// with the refresh token before it expires.
//
// Tokens are kept in memory only, in `signedIn` below: never in localStorage,
// sessionStorage or a cookie, so nothing of a sign-in outlives the page (a
// reload or a closed tab asks for the password again) and no other page of the
// origin, and no file on disk, ever holds one.

import { TRANSIENT, cognito, tokenClaims } from "./cognito.js";
import { state } from "./page.js";
import { hasType } from "./schema.js";

// The group whose members may run backups (lambdas/common/names.py ADMIN_GROUP).
export const ADMIN_GROUP = "admin";
// The ID token is renewed this long before it expires...
const REFRESH_MARGIN_MS = 60 * 1000;
// ...an API call made closer to its expiry than this renews it first...
export const EXPIRY_SLACK_MS = 10 * 1000;
// ...and a renewal that could not reach Cognito is tried again after this long.
const REFRESH_RETRY_MS = 15 * 1000;

// The signed-in member: {email, groups, idToken, accessToken, refreshToken,
// expiresAt (by this browser's clock), timer, refreshing}; null when signed out.
// Importers see it change (an ES module export is a live binding); only this
// module assigns it.
export let signedIn = null;
// What the page does when Cognito will no longer renew the tokens (whenRefused).
let refused = () => {};

// The sign-in form's business, set once at start: this module shows nothing itself.
export function whenRefused(handler) {
  refused = handler;
}

export function beginSession(result, email) {
  signedIn = { email, groups: new Set(), idToken: "", accessToken: "", refreshToken: "", expiresAt: 0 };
  acceptTokens(result);
}

export function forgetSession() {
  if (signedIn) clearTimeout(signedIn.timer);
  signedIn = null;
}

function acceptTokens(result) {
  const claims = tokenClaims(result.IdToken) ?? {};
  // The token's lifetime (exp - iat), counted from now: a browser whose clock is
  // off still renews on time.
  const lifetime =
    Number.isFinite(claims.exp) && Number.isFinite(claims.iat)
      ? (claims.exp - claims.iat) * 1000
      : (Number(result.ExpiresIn) || 0) * 1000;
  signedIn.idToken = result.IdToken;
  if (typeof result.AccessToken === "string") signedIn.accessToken = result.AccessToken;
  // A refresh answers without a refresh token: the sign-in's own stays.
  if (typeof result.RefreshToken === "string") signedIn.refreshToken = result.RefreshToken;
  signedIn.expiresAt = Date.now() + lifetime;
  if (typeof claims.email === "string") signedIn.email = claims.email;
  const groups = claims["cognito:groups"];
  signedIn.groups = new Set(Array.isArray(groups) ? groups.map(String) : []);
  scheduleRefresh(signedIn.expiresAt - REFRESH_MARGIN_MS - Date.now());
}

function scheduleRefresh(delay) {
  clearTimeout(signedIn.timer);
  signedIn.timer = setTimeout(refreshTokens, Math.max(1000, delay));
}

// Renews the ID and access tokens with the refresh token; true when it did. One
// renewal at a time: calls made meanwhile wait for it.
export function refreshTokens() {
  const current = signedIn;
  if (!current) return Promise.resolve(false);
  current.refreshing ??= renew(current).finally(() => {
    current.refreshing = null;
  });
  return current.refreshing;
}

async function renew(current) {
  const answer = await cognito("InitiateAuth", {
    AuthFlow: "REFRESH_TOKEN_AUTH",
    ClientId: state.config.auth.clientId,
    AuthParameters: { REFRESH_TOKEN: current.refreshToken },
  });
  if (signedIn !== current) return false;
  const result = answer.ok ? answer.data.AuthenticationResult : null;
  if (hasType(result, "object") && typeof result.IdToken === "string") {
    acceptTokens(result);
    return true;
  }
  if (answer.status === 0 || answer.status >= 500 || TRANSIENT.has(answer.type)) {
    // Cognito could not be asked: the sign-in may still be good, ask again soon.
    scheduleRefresh(REFRESH_RETRY_MS);
    return false;
  }
  // Cognito refused the refresh token (expired, revoked, or the member disabled).
  refused();
  return false;
}
