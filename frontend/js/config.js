// The page's run-time configuration, /config.json: the API's paths on this origin,
// the schema the API checks new students with, the earliest birthdate, the page
// size, and where staff sign in. It is generated at deploy time, so the page holds
// no key, host name or absolute URL of its own; what it says is checked here,
// before the page uses any of it.

const CONFIG_PATH = "/config.json";

function isOwnOriginPath(path) {
  return (
    typeof path === "string" &&
    path.startsWith("/") &&
    !path.startsWith("//") &&
    new URL(path, window.location.href).origin === window.location.origin
  );
}

// Cognito's JSON API: a path of this origin (the local system), or an absolute URL
// of the page's own scheme, https in AWS (never a downgrade). The CSP's connect-src
// names the one other origin the page may call.
function isSignInEndpoint(endpoint) {
  if (isOwnOriginPath(endpoint)) return true;
  try {
    return new URL(endpoint).protocol === window.location.protocol;
  } catch {
    return false;
  }
}

export async function loadConfig() {
  const response = await fetch(CONFIG_PATH, { cache: "no-cache", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${CONFIG_PATH} answered ${response.status}`);
  const config = await response.json();
  const api = config?.api ?? {};
  if (!isOwnOriginPath(api.students) || !isOwnOriginPath(api.backup)) {
    throw new Error(`${CONFIG_PATH}: the API paths must be paths on this origin`);
  }
  if (!Array.isArray(config.studentFields) || typeof config.studentSchema !== "object") {
    throw new Error(`${CONFIG_PATH}: studentFields and studentSchema are required`);
  }
  if (!Number.isInteger(config.pageSize) || config.pageSize < 1) {
    throw new Error(`${CONFIG_PATH}: pageSize must be a positive integer`);
  }
  const auth = config.auth ?? {};
  if (typeof auth.clientId !== "string" || !auth.clientId || !isSignInEndpoint(auth.endpoint)) {
    throw new Error(`${CONFIG_PATH}: auth.clientId and auth.endpoint (where staff sign in) are required`);
  }
  return config;
}
