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

from engine import provider_bindings
from engine.provider_bindings import ENV_PLAIN, PACKAGE, LayoutError, checked_submodules, write_node_hook
from tests.conftest import ROOT, TARGETS, EmulatorSettings, run, tool_env

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
    heavy = {name for name in imported if name.split(".")[0] in (PACKAGE, "cdktf", "constructs", "jsii", "typeguard")}
    assert heavy == set()


# --- the layout check ------------------------------------------------------------


def test_the_installed_package_passes_the_layout_check() -> None:
    submodules = checked_submodules(_installed_spec())
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
        checked_submodules(_spec_of(fake_package))


def test_a_jsii_module_that_loads_no_assembly_fails_the_layout_check(fake_package: Path) -> None:
    (fake_package / "_jsii" / "__init__.py").write_text("__all__ = []\n", encoding="utf-8")
    with pytest.raises(LayoutError, match="does not load"):
        checked_submodules(_spec_of(fake_package))


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
#: Requires the fake package's index, then reads one export.
NODE_PROBE = """
const index = require(process.argv[1]);
const before = globalThis.loaded || [];
const keys = Object.keys(index);
const alpha = index.alpha.name;
console.log(JSON.stringify({ before, keys, alpha, after: globalThis.loaded, options: process.env.NODE_OPTIONS || "" }));
"""


def _node_with_hook(tmp_path: Path, index_js: str) -> subprocess.CompletedProcess[str]:
    package = tmp_path / "node_modules" / "@cdktf" / "provider-aws"
    for name in ("alpha", "beta"):
        (package / "lib" / name).mkdir(parents=True)
        (package / "lib" / name / "index.js").write_text(
            f'globalThis.loaded = (globalThis.loaded || []).concat("{name}"); exports.name = "{name}";\n'
        )
    (package / "package.json").write_text('{"name": "@cdktf/provider-aws", "main": "lib/index.js"}\n')
    (package / "lib" / "index.js").write_text(index_js)
    hook = write_node_hook(tmp_path)
    env = tool_env(NODE_OPTIONS=f'--require "{hook}"')
    return run(["node", "-e", NODE_PROBE, str(package / "lib" / "index.js")], cwd=tmp_path, env=env, timeout=60)


def test_the_node_hook_requires_a_submodule_on_first_use(tmp_path: Path) -> None:
    done = _node_with_hook(tmp_path, INDEX_JS)
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


def test_this_module_imports_only_the_standard_library() -> None:
    source = Path(provider_bindings.__file__).read_text(encoding="utf-8")
    imported = {line.split()[1].split(".")[0] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert imported - {"__future__"} <= sys.stdlib_module_names
