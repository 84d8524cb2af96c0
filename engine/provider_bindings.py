"""Loads only the AWS provider bindings the app uses, on both sides of the jsii bridge.

Why: ``cdktf-cdktf-provider-aws`` has 2,212 submodules, one per resource or data
source, and this project uses a few dozen. Both halves of the package load all
of them up front:

- Python: the package root ``cdktf_cdktf_provider_aws/__init__.py`` runs
  ``from . import <submodule>`` for every one of them: most of the 20 s a
  synth took, and about 550 MB;
- node (the jsii kernel, a child process): the package's ``lib/index.js`` runs
  ``exports.<name> = require("./<dir>")`` for every one of them: about 2 s
  more, and about 450 MB of the kernel's memory.

How: :func:`install`, called before anything imports the bindings.

- Python: it puts a module object for ``cdktf_cdktf_provider_aws`` in
  ``sys.modules`` without running its ``__init__``; a submodule then imports on
  demand (``from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket``, or the
  attribute ``cdktf_cdktf_provider_aws.s3_bucket``). Each submodule starts with
  ``from .._jsii import *``, which loads the jsii assembly, so nothing else of
  the root is needed. It also tells jsii which submodule holds each type, so a
  type the kernel returns before its submodule was imported is still found.
- node: it starts the jsii kernel with a ``--require`` hook (``NODE_OPTIONS``,
  for that process only) that gives the package's ``lib/index.js`` the same
  exports as lazy getters, each requiring its directory on first use.

Each half first checks that the package still has the layout it relies on (the
root ``__init__.py`` defines only ``check_type``, ``TYPEGUARD_MAJOR_VERSION``,
``__all__`` and the submodule imports; ``_jsii/__init__.py`` loads the
assembly; ``lib/index.js`` is only the list of exports). If not, it falls back
to the plain, eager loading and prints one line on stderr saying why. The
synthesized output is byte-identical either way
(``tests/engine/test_provider_bindings.py``).

``STUDENT_MGMT_PLAIN_BINDINGS=1`` forces the plain path (no hook, plain
``import cdktf_cdktf_provider_aws``), for comparison (``bench/synth.py``).
This module imports only the standard library, like ``config/settings.py``.
"""

from __future__ import annotations

import ast
import atexit
import importlib
import importlib.util
import json
import os
import pkgutil
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Final, Literal

PACKAGE: Final = "cdktf_cdktf_provider_aws"
#: The jsii assembly (npm package) the bindings wrap.
ASSEMBLY: Final = "@cdktf/provider-aws"
#: Set to ``1`` to load the bindings the plain way.
ENV_PLAIN: Final = "STUDENT_MGMT_PLAIN_BINDINGS"

#: What :func:`install` did: ``fast``: the lazy module is installed; ``plain``:
#: forced by ``STUDENT_MGMT_PLAIN_BINDINGS``; ``fallback``: the layout check
#: failed, see the warning; ``preloaded``: the bindings were already imported.
Mode = Literal["fast", "plain", "fallback", "preloaded"]

# What the root __init__.py may hold besides its docstring, `from . import <submodule>`
# lines, `__all__` and `def check_type` (statements as ast.unparse writes them).
_ROOT_IMPORTS: Final = frozenset(
    {"abc", "builtins", "datetime", "enum", "typing", "jsii", "publication", "typing_extensions", "typeguard"}
)
_ROOT_STATEMENTS: Final = frozenset(
    {
        "from pkgutil import extend_path",
        "__path__ = extend_path(__path__, __name__)",
        "from importlib.metadata import version as _metadata_package_version",
        "TYPEGUARD_MAJOR_VERSION = int(_metadata_package_version('typeguard').split('.')[0])",
        "from ._jsii import *",
        "publication.publish()",
    }
)

_mode: Mode | None = None


def install(environ: Mapping[str, str] | None = None) -> Mode:
    """Make the provider bindings load on demand; see the module docstring.

    Idempotent: later calls return the first call's answer. Call it before
    anything imports ``cdktf``, or the node half cannot apply (then only the
    Python half does).
    """
    global _mode  # noqa: PLW0603 - one installation per process
    if _mode is not None:
        return _mode
    env = os.environ if environ is None else environ
    if PACKAGE in sys.modules:
        _mode = "preloaded"
    elif env.get(ENV_PLAIN, "") not in ("", "0"):
        importlib.import_module(PACKAGE)
        _mode = "plain"
    else:
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None:
            raise ModuleNotFoundError(f"No module named {PACKAGE!r}", name=PACKAGE)
        try:
            submodules = checked_submodules(spec)
        except LayoutError as error:
            _warn(f"{PACKAGE}: {error}")
            importlib.import_module(PACKAGE)
            _mode = "fallback"
        else:
            _install_lazy_package(spec, submodules)
            _start_kernel_with_lazy_index()
            _register_type_locations(submodules)
            _mode = "fast"
    return _mode


class LayoutError(Exception):
    """The installed package is not laid out the way the lazy import relies on."""


def checked_submodules(spec: ModuleSpec) -> list[str]:
    """The submodules the package root imports, once its layout is checked (else LayoutError)."""
    if spec.origin is None or not spec.submodule_search_locations:
        raise LayoutError("is not an installed package")
    root = Path(spec.origin)
    jsii_init = root.parent / "_jsii" / "__init__.py"
    try:
        root_tree = ast.parse(root.read_bytes(), str(root))
        jsii_tree = ast.parse(jsii_init.read_bytes(), str(jsii_init))
    except (OSError, SyntaxError, ValueError) as error:
        raise LayoutError(f"cannot read the package layout ({error})") from None
    _check_jsii(jsii_tree)
    return _check_root(root_tree)


def _check_root(tree: ast.Module) -> list[str]:
    submodules: list[str] = []
    exported: list[str] | None = None
    for index, node in enumerate(tree.body):
        if isinstance(node, ast.ImportFrom) and _is_submodule_import(node):
            submodules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.Assign) and _target_names(node) == ["__all__"]:
            exported = _string_list(node.value)
        elif not _is_allowed_root_statement(node, first=index == 0):
            raise LayoutError(
                f"__init__.py line {node.lineno} does more than import submodules: {ast.unparse(node)[:80]!r}"
            )
    if not submodules:
        raise LayoutError("__init__.py imports no submodules")
    if exported is None or sorted(exported) != sorted(submodules):
        raise LayoutError("__init__.py's __all__ differs from the submodules it imports")
    return submodules


def _is_submodule_import(node: ast.ImportFrom) -> bool:
    return (
        node.level == 1
        and node.module is None
        and all(alias.asname is None and alias.name.isidentifier() for alias in node.names)
    )


def _is_allowed_root_statement(node: ast.stmt, *, first: bool) -> bool:
    if first and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return isinstance(node.value.value, str)  # the docstring
    if isinstance(node, ast.Import):
        return all(alias.name in _ROOT_IMPORTS and alias.asname is None for alias in node.names)
    if isinstance(node, ast.FunctionDef):
        return node.name == "check_type" and not node.decorator_list
    return ast.unparse(node) in _ROOT_STATEMENTS


def _check_jsii(tree: ast.Module) -> None:
    """``_jsii/__init__.py`` must load the assembly the submodules use."""
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and _target_names(node) == ["__jsii_assembly__"]
            and isinstance(node.value, ast.Call)
            and ast.unparse(node.value.func) == "jsii.JSIIAssembly.load"
            and node.value.args
            and isinstance(node.value.args[0], ast.Constant)
            and node.value.args[0].value == ASSEMBLY
        ):
            return
    raise LayoutError(f"_jsii/__init__.py does not load the {ASSEMBLY} assembly")


def _target_names(node: ast.Assign) -> list[str]:
    return [target.id for target in node.targets if isinstance(target, ast.Name)]


def _string_list(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.List) and all(
        isinstance(item, ast.Constant) and isinstance(item.value, str) for item in node.elts
    ):
        return [str(item.value) for item in node.elts if isinstance(item, ast.Constant)]
    return None


def _install_lazy_package(spec: ModuleSpec, submodules: list[str]) -> None:
    """The package module, as its ``__init__`` would leave it, minus the eager imports."""
    module = importlib.util.module_from_spec(spec)
    module.__path__ = pkgutil.extend_path(list(spec.submodule_search_locations or ()), PACKAGE)
    vars(module).update(__all__=list(submodules), __getattr__=_lazy_attribute(frozenset(submodules)))
    sys.modules[PACKAGE] = module


def _lazy_attribute(submodules: frozenset[str]) -> Callable[[str], object]:
    """The package's ``__getattr__`` (PEP 562): a submodule imports when first named."""

    def __getattr__(name: str) -> object:  # noqa: N807 - the module hook's required name
        if name in submodules:
            return importlib.import_module(f"{PACKAGE}.{name}")
        if name == "__jsii_assembly__":
            jsii_module: ModuleType = importlib.import_module(f"{PACKAGE}._jsii")
            return jsii_module.__jsii_assembly__
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")

    return __getattr__


def _register_type_locations(submodules: list[str]) -> None:
    """Tell jsii which submodule holds each type, for types the kernel returns first.

    jsii (>= 1.130) looks an unknown type's submodule up in this map, or else
    imports the package root (which, lazy, registers nothing). The jsii name of
    submodule ``s3_bucket`` is ``s3Bucket``: the generator's snake_case of it.
    """
    reference_map = importlib.import_module("jsii._reference_map")
    locations = getattr(reference_map, "_submodule_fqn_map", None)
    if isinstance(locations, dict):
        for name in submodules:
            first, *rest = name.split("_")
            camel = first + "".join(part[:1].upper() + part[1:] for part in rest)
            locations[f"{ASSEMBLY}.{camel}"] = f"{PACKAGE}.{name}"


def _start_kernel_with_lazy_index() -> None:
    """Start the jsii kernel (node) with the lazy-index hook, unless it may already run."""
    if "jsii" in sys.modules:
        return  # someone imported jsii first: its kernel may be running without the hook
    hook_dir = Path(tempfile.mkdtemp(prefix="student-mgmt-jsii-hook-"))
    # Registered before the kernel starts, so it runs after jsii stops node at exit.
    atexit.register(shutil.rmtree, hook_dir, ignore_errors=True)
    hook = write_node_hook(hook_dir)
    previous = os.environ.get("NODE_OPTIONS")
    # json.dumps quotes the path the way NODE_OPTIONS parses it (and the hook rebuilds it).
    token = f"--require {json.dumps(str(hook))}"
    os.environ["NODE_OPTIONS"] = f"{previous} {token}" if previous else token
    try:
        jsii = importlib.import_module("jsii")
        jsii.stats()  # the kernel's first request starts node, with this environment
    finally:
        if previous is None:
            del os.environ["NODE_OPTIONS"]
        else:
            os.environ["NODE_OPTIONS"] = previous


def write_node_hook(directory: Path) -> Path:
    """Write the node half (a ``--require`` module) into ``directory``; its path."""
    hook = directory / "lazy-provider-index.js"
    hook.write_text(_LAZY_INDEX_JS, encoding="utf-8")
    return hook


def _warn(message: str) -> None:
    line = " ".join(message.split())
    print(f"warning: {line}; loading every provider binding instead (slow)", file=sys.stderr)


#: The node half: preloaded into the jsii kernel, it replaces the package's
#: lib/index.js (only ``exports.x = require("./x")`` lines and their
#: ``exports.x = ... = void 0`` declarations) by the same exports as lazy getters.
_LAZY_INDEX_JS: Final = r"""
"use strict";
// Written by engine/provider_bindings.py; see its docstring.
const Module = require("module");
const fs = require("fs");
const path = require("path");

const PACKAGE = "@cdktf/provider-aws";
const IDENT = "[A-Za-z_$][\\w$]*";
const REQUIRE = new RegExp(`^exports\\.(${IDENT}) = require\\("(\\./[a-z0-9-]+)"\\);$`);
const DECLARE = new RegExp(`^exports\\.${IDENT}(?: = exports\\.${IDENT})* = void 0;$`);
const NAME = new RegExp(`exports\\.(${IDENT})`, "g");
const FIXED = new Set(['"use strict";', 'Object.defineProperty(exports, "__esModule", { value: true });']);

// The exports [[name, request], ...] in declaration order, or why not.
function lazyPlan(source) {
  const requests = new Map();
  const declared = [];
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
    const match = REQUIRE.exec(line);
    if (match && !requests.has(match[1])) {
      requests.set(match[1], match[2]);
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
  return declared.map((name) => [name, requests.get(name)]);
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
  for (const [name, request] of plan) {
    const settle = (value) =>
      Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
    Object.defineProperty(target, name, {
      enumerable: true,
      configurable: true,
      get() {
        const value = module.require(request);
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
"""
