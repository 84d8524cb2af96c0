// Talking to the student API, on this origin (CloudFront adds the API key on the
// way: the page never holds it). Every call carries the signed-in member's ID token.

import { EXPIRY_SLACK_MS, refreshTokens, signedIn } from "./session.js";

// One request to the API with the signed-in member's ID token, as the gateway's
// Cognito authorizer reads it: the token itself in Authorization, no "Bearer".
async function send(method, path, { query, body } = {}, idToken = "") {
  const url = query ? `${path}?${new URLSearchParams(query)}` : path;
  const init = {
    method,
    cache: "no-store",
    credentials: "same-origin",
    headers: { Accept: "application/json", Authorization: idToken },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    return { status: 0, data: null, retryAfter: null };
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // Not JSON (a proxy's error page, say): the status alone tells what happened.
  }
  return { status: response.status, data, retryAfter: response.headers.get("Retry-After") };
}

// A call made for one sign-in. The token is renewed first if it is about to lapse
// (a background tab's timer may have fired late); an answer of 401 (the token
// expired or was refused) renews it once and repeats the call: the authorizer
// refused it before any function ran. If Cognito will not renew it, the session
// is over: the sign-in form comes back, saying so. An answer that arrives after
// its sign-in ended is marked stale, and the caller drops it.
export async function callApi(method, path, options = {}) {
  const caller = signedIn;
  const stale = { status: 401, data: null, retryAfter: null, stale: true };
  if (!caller) return stale;
  if (Date.now() >= caller.expiresAt - EXPIRY_SLACK_MS) await refreshTokens();
  if (signedIn !== caller) return stale;
  let result = await send(method, path, options, caller.idToken);
  if (result.status === 401 && signedIn === caller && (await refreshTokens())) {
    result = await send(method, path, options, caller.idToken);
  }
  return signedIn === caller ? result : stale;
}

function retrySeconds(header) {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Math.max(1, Number(header.trim()));
  const when = Date.parse(header);
  return Number.isNaN(when) ? null : Math.max(1, Math.ceil((when - Date.now()) / 1000));
}

export function serverMessage(result) {
  const message = result.data?.message;
  return typeof message === "string" && message ? message : "";
}

// What went wrong, for any answer but the one the caller hoped for.
export function describeFailure(result) {
  const { status } = result;
  if (status === 0) return [{ key: "failure.network" }];
  if (status === 401) return [{ key: "failure.unauthorized" }];
  if (status === 403) return [{ key: "failure.forbidden" }];
  if (status === 413) return [{ key: "failure.tooLarge" }];
  if (status === 429) {
    const seconds = retrySeconds(result.retryAfter);
    return [seconds ? { key: "failure.throttled", params: { seconds } } : { key: "failure.throttledSoon" }];
  }
  if (status >= 500) {
    const message = serverMessage(result);
    return [{ key: "failure.server", params: { status } }, ...(message ? [{ raw: `(${message})` }] : [])];
  }
  if (status === 400) return [{ key: "failure.badRequest", params: { message: serverMessage(result) || status } }];
  return [{ key: "failure.unexpected", params: { status } }];
}
