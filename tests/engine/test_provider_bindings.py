"""The provider bindings load on demand (``engine/provider_bindings.py``), and nothing else changes.

Both deploy targets are synthesized both ways, on demand and the plain eager
way (``STUDENT_MGMT_PLAIN_BINDINGS=1``), by running ``main.py`` as ``cdktf``
does, and the two output trees must be byte-identical, asset zips included.
A plain synth takes about 20 s, so the four synths run two at a time, once
per module. The layout checks and the node hook are tested on small copies.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest

from engine import choice, provider_bindings
from engine.provider_bindings import ENV_PLAIN, LayoutError, checked_layout, checked_submodules, write_node_hook
from tests.conftest import ROOT, TARGETS, EmulatorSettings, run, tool_env

#: The engine of this environment (.venv): cdktf. CDK Terrain's bindings: tests/engine/test_engines.py.
CDKTF = choice.ENGINES["cdktf"]
PACKAGE = CDKTF.bindings

#: `make check` leaves this module to `make test`: a second synth of both stacks, with the eager bindings.
pytestmark = pytest.mark.slow

PYTHON = str(ROOT / ".venv" / "bin" / "python")


@dataclass(frozen=True)
class Job:
    name: str
    outdir: Path
    extra_env: dict[str, str]


@dataclass(frozen=True)
class Result:
    job: Job
    returncode: int
    stdout: str
    stderr: str

    def tree(self) -> dict[str, bytes | None]:
        """Every directory (None) and file (its bytes) of the output, by relative path."""
        assert self.returncode == 0, f"{self.job.name} failed:\n{self.stderr[-5000:]}"
        return {
            path.relative_to(self.job.outdir).as_posix(): path.read_bytes() if path.is_file() else None
            for path in sorted(self.job.outdir.rglob("*"))
        }


@pytest.fixture(scope="module")
def synths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    base = tmp_path_factory.mktemp("bindings")
    # The same emulator settings for both ways: they are written into the local target's stacks.
    emulator = EmulatorSettings(port=45_999, state_dir=base / "emulator")
    jobs: list[Job] = []
    for way in ("plain", "fast"):
        for target in TARGETS:
            extra = {"DEPLOY_TARGET": target, **(emulator.env() if target == "local" else {})}
            if way == "plain":
                extra[ENV_PLAIN] = "1"
            jobs.append(Job(f"{way}-{target}", base / f"{way}-{target}", extra))

    def synthesize(job: Job) -> Result:
        env = tool_env(CDKTF_OUTDIR=str(job.outdir), **job.extra_env)
        done = run([PYTHON, "main.py"], cwd=ROOT, env=env, timeout=600)
        return Result(job, done.returncode, done.stdout, done.stderr)

    # The two slow plain synths first, two at a time: two cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        return {result.job.name: result for result in pool.map(synthesize, jobs)}


def differences(left: dict[str, bytes | None], right: dict[str, bytes | None]) -> list[str]:
    return sorted(path for path in left.keys() | right.keys() if left.get(path) != right.get(path))


def test_on_demand_bindings_synthesize_byte_identical_output(synths: dict[str, Result]) -> None:
    # One test for both targets, so that parallel test workers never synthesize twice.
    differing = {}
    for target in TARGETS:
        fast, plain = synths[f"fast-{target}"], synths[f"plain-{target}"]
        fast_tree, plain_tree = fast.tree(), plain.tree()
        assert any(path.endswith("archive.zip") for path in fast_tree), "no asset zip was compared"
        assert any(path.endswith("cdk.tf.json") for path in fast_tree)
        differing[target] = differences(fast_tree, plain_tree)
        for result in (fast, plain):
            assert "warning:" not in result.stderr, result.stderr
    assert differing == {target: [] for target in TARGETS}


def test_a_changed_layout_warns_in_one_line_and_imports_the_package_plainly(tmp_path: Path) -> None:
    installed = Path(str(_installed_spec().origin)).parent
    package = tmp_path / PACKAGE
    (package / "_jsii").mkdir(parents=True)
    (package / "_jsii" / "__init__.py").write_bytes((installed / "_jsii" / "__init__.py").read_bytes())
    (package / "alpha").mkdir()
    (package / "alpha" / "__init__.py").write_text("NAME = 'alpha'\n")
    # A root that sets a value of its own: a layout the lazy import does not know.
    (package / "__init__.py").write_text("EAGER = True\nfrom . import alpha\n__all__ = ['alpha']\n")
    probe = (
        "from engine import provider_bindings\n"
        "print(provider_bindings.install())\n"
        f"import {PACKAGE} as aws\n"
        "print(aws.EAGER, aws.alpha.NAME)\n"
    )
    env = tool_env(PYTHONPATH=str(tmp_path))
    done = run([PYTHON, "-c", probe], cwd=ROOT, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["fallback", "True", "alpha"]
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"warning: {PACKAGE}: __init__.py line 1 does more than import submodules:")


def test_importing_main_installs_the_on_demand_bindings_once() -> None:
    probe = (
        "import sys, main\n"
        "from engine import provider_bindings\n"
        f"loaded = [m for m in sys.modules if m.startswith('{PACKAGE}.')]\n"
        "print(provider_bindings.install(), provider_bindings.install(), len(loaded))\n"
        f"import {PACKAGE} as aws\n"
        "print(aws.s3_object.S3Object.__name__, len(aws.__all__))\n"
    )
    done = run([PYTHON, "-c", probe], cwd=ROOT, env=tool_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    mode, again, loaded = first.split()
    assert (mode, again) == ("fast", "fast")
    # main's own imports: a hundred or so of the 2,212 submodules.
    assert 10 < int(loaded) < 200
    name, count = second.split()
    assert name == "S3Object"
    assert int(count) > 2000


def test_install_leaves_already_imported_bindings_alone() -> None:
    probe = (
        "import sys, types\n"
        f"sys.modules['{PACKAGE}'] = types.ModuleType('{PACKAGE}')\n"
        "from engine import provider_bindings\n"
        "print(provider_bindings.install(), 'jsii' in sys.modules)\n"
    )
    done = run([PYTHON, "-c", probe], cwd=ROOT, env=tool_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["preloaded", "False"]


def test_a_bad_value_fails_before_any_binding_is_imported() -> None:
    done = run(
        [PYTHON, "-X", "importtime", "main.py"],
        cwd=ROOT,
        env=tool_env(STUDENT_MGMT_API_RATE_LIMIT="-1", CDKTF_OUTDIR="/nonexistent"),
        timeout=120,
    )
    assert done.returncode == 2
    assert "error: invalid configuration field 'api_rate_limit'" in done.stderr
    assert "STUDENT_MGMT_API_RATE_LIMIT" in done.stderr
    # -X importtime: one "import time: self | cumulative | module" line per module imported.
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "config.settings" in imported
    engines = {name for engine in choice.ENGINES.values() for name in (engine.core, engine.bindings)}
    heavy = {name for name in imported if name.split(".")[0] in {*engines, "constructs", "jsii", "typeguard"}}
    assert heavy == set()


# --- the layout check ------------------------------------------------------------


def test_the_installed_package_passes_the_layout_check() -> None:
    layout = checked_layout(_installed_spec(), CDKTF)
    assert not layout.lazy_root
    submodules = layout.submodules
    assert len(submodules) > 2000
    assert {"provider", "s3_bucket", "data_aws_iam_policy_document"} <= set(submodules)


@pytest.fixture
def fake_package(tmp_path: Path) -> Path:
    """A copy of the installed package's two checked files (root and _jsii), to alter."""
    installed = Path(str(_installed_spec().origin)).parent
    package = tmp_path / PACKAGE
    (package / "_jsii").mkdir(parents=True)
    (package / "__init__.py").write_bytes((installed / "__init__.py").read_bytes())
    (package / "_jsii" / "__init__.py").write_bytes((installed / "_jsii" / "__init__.py").read_bytes())
    return package


def _spec_of(package: Path) -> ModuleSpec:
    spec = importlib.util.spec_from_file_location(
        PACKAGE, package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None
    return spec


def _installed_spec() -> ModuleSpec:
    spec = importlib.util.find_spec(PACKAGE)
    assert spec is not None
    return spec


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda text: text + "\nSIDE_EFFECT = print('loaded')\n", "does more than import submodules"),
        (lambda text: text.replace("from . import xray_group\n", ""), "__all__ differs"),
        (lambda text: text.replace("from ._jsii import *\n", "from ._jsii import *\nimport os\n"), "line"),
    ],
    ids=["statement", "submodule-missing", "import"],
)
def test_a_changed_root_fails_the_layout_check(fake_package: Path, change: Callable[[str], str], problem: str) -> None:
    root = fake_package / "__init__.py"
    root.write_text(change(root.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(LayoutError, match=problem):
        checked_submodules(_spec_of(fake_package), CDKTF)


def test_a_jsii_module_that_loads_no_assembly_fails_the_layout_check(fake_package: Path) -> None:
    (fake_package / "_jsii" / "__init__.py").write_text("__all__ = []\n", encoding="utf-8")
    with pytest.raises(LayoutError, match="does not load"):
        checked_submodules(_spec_of(fake_package), CDKTF)


#: A package root as jsii-pacmak writes it when it loads submodules on demand itself (cdktn-provider-aws 25).
LAZY_ROOT = """r'''
# Prebuilt bindings
'''
from pkgutil import extend_path
__path__ = extend_path(__path__, __name__)

import abc
import builtins
import datetime
import enum
import importlib as _importlib
import typing

import jsii
import publication
import typing_extensions

from jsii._type_checking import cached_type_hints, check_type

from ._jsii import *

__all__ = [
    "alpha",
    "beta",
]

if typing.TYPE_CHECKING:
    pass
    from . import alpha as alpha
    from . import beta as beta

publication.publish()

_SUBMODULES = {
    "alpha",
    "beta",
}

def __getattr__(name: str) -> object:
    if name in _SUBMODULES:
        mod = _importlib.import_module(f".{name}", __name__)
        globals()[name] = mod
        return mod
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

def __dir__() -> "list[str]":
    return [*__all__, *_SUBMODULES]

import sys as _sys
setattr(_sys.modules[__name__], "__getattr__", __getattr__)
setattr(_sys.modules[__name__], "__dir__", __dir__)
"""


@pytest.fixture
def lazy_package(fake_package: Path) -> Path:
    """A package whose root imports its submodules on demand itself (and the installed _jsii)."""
    (fake_package / "__init__.py").write_text(LAZY_ROOT, encoding="utf-8")
    return fake_package


def test_a_root_that_loads_its_submodules_on_demand_passes_the_layout_check(lazy_package: Path) -> None:
    layout = checked_layout(_spec_of(lazy_package), CDKTF)
    assert layout.lazy_root
    assert layout.submodules == ["alpha", "beta"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda text: text.replace('    "beta",\n}', "}"), "__all__ differs from the submodules it imports on demand"),
        (lambda text: text.replace("        return mod\n", "        print(name)\n        return mod\n"), "line"),
        (lambda text: text.replace("import sys as _sys\n", "import sys as _sys\nfrom . import alpha\n"), "up front"),
        (lambda text: text.replace("_SUBMODULES = {", "_OTHERS = {"), "line"),
    ],
    ids=["submodule-missing", "getattr-changed", "mixed", "no-list"],
)
def test_a_changed_lazy_root_fails_the_layout_check(
    lazy_package: Path, change: Callable[[str], str], problem: str
) -> None:
    root = lazy_package / "__init__.py"
    root.write_text(change(root.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(LayoutError, match=problem):
        checked_layout(_spec_of(lazy_package), CDKTF)


# --- the node half ------------------------------------------------------------------

INDEX_JS = """"use strict";
/**
 * Copyright (c) HashiCorp, Inc.
 */
Object.defineProperty(exports, "__esModule", { value: true });
exports.beta = exports.alpha = void 0;
// generated by cdktf get
exports.alpha = require("./alpha");
exports.beta = require("./beta");
//# sourceMappingURL=data:application/json;base64,eyJ2
"""
#: The same exports as cdktn's bindings write them: TypeScript's helpers, then __importStar(require(...)).
TS_HELPERS = """var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
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
        if (mod != null) for (var k = ownKeys(mod), i = 0; i < k.length; i++) """ + (
    """if (k[i] !== "default") __createBinding(result, mod, k[i]);
        __setModuleDefault(result, mod);
        return result;
    };
})();
"""
)
STAR_INDEX_JS = (
    INDEX_JS.replace("Object.defineProperty(exports", TS_HELPERS + "Object.defineProperty(exports")
    .replace('require("./alpha")', '__importStar(require("./alpha/index"))')
    .replace('require("./beta")', '__importStar(require("./beta/index"))')
)
CDKTN = choice.ENGINES["cdktn"]
#: Requires the fake package's index, then reads one export.
NODE_PROBE = """
const index = require(process.argv[1]);
const before = globalThis.loaded || [];
const keys = Object.keys(index);
const alpha = index.alpha.name;
console.log(JSON.stringify({ before, keys, alpha, after: globalThis.loaded, options: process.env.NODE_OPTIONS || "" }));
"""


def _node_with_hook(tmp_path: Path, index_js: str, engine: choice.Engine = CDKTF) -> subprocess.CompletedProcess[str]:
    package = tmp_path / "node_modules" / engine.assembly
    for name in ("alpha", "beta"):
        (package / "lib" / name).mkdir(parents=True)
        (package / "lib" / name / "index.js").write_text(
            f'globalThis.loaded = (globalThis.loaded || []).concat("{name}"); exports.name = "{name}";\n'
        )
    (package / "package.json").write_text(f'{{"name": "{engine.assembly}", "main": "lib/index.js"}}\n')
    (package / "lib" / "index.js").write_text(index_js)
    hook = write_node_hook(tmp_path, engine.assembly)
    env = tool_env(NODE_OPTIONS=f'--require "{hook}"')
    return run(["node", "-e", NODE_PROBE, str(package / "lib" / "index.js")], cwd=tmp_path, env=env, timeout=60)


@pytest.mark.parametrize(("engine", "index_js"), [(CDKTF, INDEX_JS), (CDKTN, STAR_INDEX_JS)], ids=["cdktf", "cdktn"])
def test_the_node_hook_requires_a_submodule_on_first_use(tmp_path: Path, engine: choice.Engine, index_js: str) -> None:
    done = _node_with_hook(tmp_path, index_js, engine)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    # Same exports, same order; only the one read was loaded; children get no hook.
    assert done.stdout.strip() == (
        '{"before":[],"keys":["beta","alpha"],"alpha":"alpha","after":["alpha"],"options":""}'
    )


def test_the_node_hook_loads_an_unexpected_index_plainly_with_one_warning(tmp_path: Path) -> None:
    done = _node_with_hook(tmp_path, INDEX_JS.replace('exports.beta = require("./beta");', 'require("./beta");'))
    assert done.returncode == 0, done.stderr
    assert '"before":["alpha","beta"]' in done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("warning: @cdktf/provider-aws: lib/index.js has an unexpected statement")


def test_the_node_hook_wraps_nothing_in_helpers_the_index_does_not_define(tmp_path: Path) -> None:
    # __importStar without TypeScript's own helpers (here, one changed): not the layout the hook knows.
    done = _node_with_hook(tmp_path, STAR_INDEX_JS.replace("ar[ar.length] = k;", "ar.push(k);"), CDKTN)
    assert done.returncode == 0, done.stderr
    assert '"before":["alpha","beta"]' in done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("warning: @cdktn/provider-aws: lib/index.js has an unexpected statement")


def _top_level_imports(module: Path) -> set[str]:
    source = module.read_text(encoding="utf-8")
    lines = source.splitlines()
    return {line.split()[1].split(".")[0] for line in lines if line.startswith(("import ", "from "))} - {"__future__"}


def test_this_module_imports_only_the_standard_library_and_the_engine_choice() -> None:
    assert _top_level_imports(Path(provider_bindings.__file__)) <= {*sys.stdlib_module_names, "engine"}
    # engine/choice.py reads the configuration's loader, itself standard library only.
    assert _top_level_imports(Path(choice.__file__)) <= {*sys.stdlib_module_names, "config"}
