// Cognito, where staff sign in: plain fetch to its documented JSON API (no SDK),
// at the endpoint config.json names, and what its answers mean for the page.

import { state } from "./page.js";
import { hasType } from "./schema.js";

const COGNITO_TARGET = "AWSCognitoIdentityProviderService.";
// Cognito's answers that say "not now" rather than "no".
export const TRANSIENT = new Set(["TooManyRequestsException", "LimitExceededException", "InternalErrorException"]);

export async function cognito(operation, body) {
  let response;
  try {
    response = await fetch(state.config.auth.endpoint, {
      method: "POST",
      cache: "no-store",
      credentials: "omit",
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": COGNITO_TARGET + operation },
      body: JSON.stringify(body),
    });
  } catch {
    return { ok: false, status: 0, type: "", message: "" };
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // An empty or non-JSON answer: its status says enough.
  }
  if (response.ok) return { ok: true, status: response.status, data: hasType(data, "object") ? data : {} };
  // "__type" may carry a namespace: "com.amazonaws.cognito...#NotAuthorizedException".
  const type = typeof data?.__type === "string" ? data.__type.split("#").pop() : "";
  const message = [data?.message, data?.Message].find((text) => typeof text === "string") ?? "";
  return { ok: false, status: response.status, type, message };
}

// Why Cognito said no, in the member's words. A wrong password and an unknown
// address read alike, so the form never tells a stranger who is on the staff.
export function authFailure(answer) {
  if (answer.status === 0) return [{ key: "auth.network" }];
  switch (answer.type) {
    case "NotAuthorizedException":
      if (/disabled/i.test(answer.message)) return [{ key: "auth.locked" }];
      if (/attempts exceeded/i.test(answer.message)) return [{ key: "auth.attempts" }];
      if (/temporary password has expired/i.test(answer.message)) return [{ key: "auth.temporaryExpired" }];
      if (/session/i.test(answer.message)) return [{ key: "auth.challengeExpired" }];
      return [{ key: "auth.wrongPassword" }];
    case "UserNotFoundException":
      return [{ key: "auth.wrongPassword" }];
    case "PasswordResetRequiredException":
      return [{ key: "auth.mustReset" }];
    case "UserNotConfirmedException":
      return [{ key: "auth.notConfirmed" }];
    case "TooManyRequestsException":
    case "LimitExceededException":
    case "TooManyFailedAttemptsException":
      return [{ key: "auth.throttled" }];
    case "InvalidPasswordException":
      return [{ key: "auth.invalidPassword" }, ...(answer.message ? [{ raw: `(${answer.message})` }] : [])];
    case "CodeMismatchException":
      return [{ key: "mfa.mismatch" }];
    case "ExpiredCodeException":
      return [{ key: "auth.challengeExpired" }];
    default:
      if (answer.status >= 500) return [{ key: "auth.unavailable", params: { status: answer.status } }];
      return [{ key: "auth.failed", params: { reason: answer.type || answer.status } }];
  }
}

// The claims of a JWT: its middle part, base64url-decoded. Nothing is verified
// here (the API's authorizer verifies every token); the page only reads when its
// token expires, who is signed in and their groups.
export function tokenClaims(token) {
  const part = String(token).split(".")[1] ?? "";
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return hasType(claims, "object") ? claims : null;
  } catch {
    return null;
  }
}
