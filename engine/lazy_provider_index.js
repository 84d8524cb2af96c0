"use strict";
// The node half of engine/provider_bindings.py (see its docstring), which writes this file with @PACKAGE@
// replaced by the bindings' assembly and preloads it into the jsii kernel (node --require): it replaces the
// package's lib/index.js (only `exports.x = require("./x")` lines, or `exports.x = __importStar(require("./x/index"))`
// after TypeScript's helpers, and their `exports.x = ... = void 0` declarations) by the same exports as lazy getters.
const Module = require("module");
const fs = require("fs");
const path = require("path");

const PACKAGE = "@PACKAGE@";
const IDENT = "[A-Za-z_$][\\w$]*";
const REQUIRE = new RegExp(`^exports\\.(${IDENT}) = require\\("(\\./[a-z0-9-]+)"\\);$`);
const REQUIRE_STAR = new RegExp(
  `^exports\\.(${IDENT}) = __importStar\\(require\\("(\\./[a-z0-9-]+(?:/index)?)"\\)\\);$`,
);
// TypeScript's helpers of `export * as x from "./x"` (esModuleInterop), exactly as tsc 5 emits them
// (cdktn's bindings): the index may hold them, and then its exports are __importStar(require(...)).
const HELPERS = `var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __setModuleDefault = (this && this.__setModuleDefault) || (Object.create ? (function(o, v) {
    Object.defineProperty(o, "default", { enumerable: true, value: v });
}) : function(o, v) {
    o["default"] = v;
});
var __importStar = (this && this.__importStar) || (function () {
    var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function (o) {
            var ar = [];
            for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) ar[ar.length] = k;
            return ar;
        };
        return ownKeys(o);
    };
    return function (mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        __setModuleDefault(result, mod);
        return result;
    };
})();
`;
// The same helpers, run here: what the index's getters wrap each submodule in.
const importStar = new Function(`"use strict";\n${HELPERS}\nreturn __importStar;`)();
const DECLARE = new RegExp(`^exports\\.${IDENT}(?: = exports\\.${IDENT})* = void 0;$`);
const NAME = new RegExp(`exports\\.(${IDENT})`, "g");
const FIXED = new Set(['"use strict";', 'Object.defineProperty(exports, "__esModule", { value: true });']);

// The exports [[name, request, wrapped], ...] in declaration order, or why not.
function lazyPlan(text) {
  const requests = new Map();
  const declared = [];
  const helped = text.includes(HELPERS);
  const source = helped ? text.replace(HELPERS, "") : text;
  let inComment = false;
  for (const raw of source.split("\n")) {
    const line = raw.trim();
    if (inComment) {
      inComment = !line.endsWith("*/");
      continue;
    }
    if (line === "" || FIXED.has(line) || line.startsWith("//")) continue;
    if (line.startsWith("/*")) {
      inComment = !line.endsWith("*/");
      continue;
    }
    const match = REQUIRE.exec(line) || (helped ? REQUIRE_STAR.exec(line) : null);
    if (match && !requests.has(match[1])) {
      requests.set(match[1], [match[2], match[0].includes("__importStar(")]);
    } else if (DECLARE.test(line)) {
      for (const name of line.matchAll(NAME)) declared.push(name[1]);
    } else {
      return `lib/index.js has an unexpected statement: ${JSON.stringify(line.slice(0, 80))}`;
    }
  }
  const unique = new Set(declared);
  if (requests.size === 0 || unique.size !== declared.length || unique.size !== requests.size
      || declared.some((name) => !requests.has(name))) {
    return "lib/index.js declares other exports than it requires";
  }
  return declared.map((name) => [name, ...requests.get(name)]);
}

function isProviderIndex(filename) {
  if (path.basename(filename) !== "index.js" || path.basename(path.dirname(filename)) !== "lib") return false;
  try {
    const manifest = path.join(path.dirname(path.dirname(filename)), "package.json");
    return JSON.parse(fs.readFileSync(manifest, "utf8")).name === PACKAGE;
  } catch {
    return false;
  }
}

function defineLazily(module, plan) {
  const target = module.exports;
  Object.defineProperty(target, "__esModule", { value: true });
  for (const [name, request, wrapped] of plan) {
    const settle = (value) =>
      Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
    Object.defineProperty(target, name, {
      enumerable: true,
      configurable: true,
      get() {
        const value = wrapped ? importStar(module.require(request)) : module.require(request);
        settle(value);
        return value;
      },
      set: settle,
    });
  }
}

// Processes node starts from here on (asset zips) need no hook.
function forgetHook() {
  const token = `--require ${JSON.stringify(__filename)}`;
  const options = (process.env.NODE_OPTIONS || "").replace(token, "").trim();
  if (options) process.env.NODE_OPTIONS = options;
  else delete process.env.NODE_OPTIONS;
}

const compileJs = Module._extensions[".js"];
Module._extensions[".js"] = function (module, filename) {
  if (isProviderIndex(filename)) {
    const plan = lazyPlan(fs.readFileSync(filename, "utf8"));
    if (Array.isArray(plan)) {
      defineLazily(module, plan);
      forgetHook();
      return;
    }
    process.stderr.write(`warning: ${PACKAGE}: ${plan}; loading every provider module instead (slow)\n`);
  }
  return compileJs.call(this, module, filename);
};
