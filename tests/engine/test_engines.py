"""CDK Terrain synthesizes the same Terraform as cdktf: same stacks, same addresses, same files.

``CDK_ENGINE=cdktn make synth`` (``pipeline/synth.py``, running the app in
``.venv-cdktn``) is compared with the session's cdktf synth (the same
``pipeline/synth.py``, in ``.venv``) for both deploy targets. Every leaf of
every stack's JSON is compared; the differences there are (the engine's
metadata, the provider's source address) are pinned below, each with its
reason, and each must still occur, so the list cannot go stale. The asset files
(the functions' zips, the page's files) must be byte-identical: a function's
``source_code_hash`` is its zip's. Then the cdktn stacks pass ``terraform
validate`` with the offline AWS provider (5.100.0), and CDK Terrain's own CLI
(``engines/cdk synth``) writes what ``make synth`` writes.

CDK Terrain's environment (``.venv-cdktn``, ``engines/cdktn``) is installed by
``make setup`` when it is chosen and for ``make test`` and ``make check``: without
it the module fails in CI or when ``CDK_ENGINE=cdktn`` asked for it, and is
skipped otherwise.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config.settings import DELIVERY_STACK
from engine import choice
from tests.conftest import (
    REQUESTED_ENGINE,
    ROOT,
    STACKS,
    TARGETS,
    VARIANTS,
    EmulatorSettings,
    Synth,
    once,
    run,
    synthesize_in_parallel,
    target_settings,
    tool_env,
)
from tests.synth_helpers import assert_valid_terraform

#: `make check` leaves this module to `make test`: a second synth of both targets, with the other engine.
pytestmark = pytest.mark.slow

CDKTF = choice.ENGINES["cdktf"]
CDKTN = choice.ENGINES["cdktn"]


def _pinned_version(lock: str, package: str) -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+)$", (ROOT / lock).read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{lock} pins no {package}"
    return match.group(1)


VERSIONS = {engine.name: _pinned_version(engine.lock, engine.core) for engine in (CDKTF, CDKTN)}


@dataclass(frozen=True)
class Difference:
    """A leaf of every stack's JSON that the engines write differently, and why that changes nothing."""

    path: str
    cdktf: object
    cdktn: object
    reason: str


#: Every difference between the two engines' stacks (leaf paths as ``_leaves`` writes them).
DIFFERENCES = (
    Difference(
        "//.metadata.version",
        VERSIONS["cdktf"],
        VERSIONS["cdktn"],
        "the version of the engine that synthesized the stack (cdktn's own numbering, 0.22 onwards): Terraform"
        " ignores the '//' comments",
    ),
    Difference(
        "terraform.required_providers.aws.source",
        "aws",
        "hashicorp/aws",
        "cdktf-cdktf-provider-aws 21 writes the short source, which Terraform reads as"
        " registry.terraform.io/hashicorp/aws; cdktn-provider-aws 25 writes it in full: the same provider, the same"
        " lock file entry and the same state",
    ),
)


def require_cdktn() -> None:
    """Fail without CDK Terrain's environment in CI or when it was chosen; otherwise skip, saying how to install it."""
    missing = [str(path.relative_to(ROOT)) for path in (CDKTN.python, CDKTN.cli_path) if not path.exists()]
    if not missing:
        return
    message = f"CDK Terrain's environment is not installed ({', '.join(missing)}): run 'make setup CDK_ENGINE=cdktn'"
    if os.environ.get("CI") == "true" or REQUESTED_ENGINE.name == CDKTN.name:
        pytest.fail(message)
    pytest.skip(f"{message} (make test and make check install it)")


def plan_with_engine(engine: choice.Engine, env: dict[str, str], outdir: Path) -> dict[str, str]:
    """Each stack's plan (`make plan`'s script, its text) of a deployed system as ``engine`` synthesizes it.

    The cross-engine plan of issue 24: ``env`` reaches the deployment's state (its emulator, credentials and
    target); the synth goes to ``outdir`` (a `terraform init` of its own) and its metadata names ``engine``.
    """
    synth = run(
        [sys.executable, "-m", "pipeline.synth", "--force", "--outdir", str(outdir)],
        cwd=ROOT,
        env={**env, "CDK_ENGINE": engine.name},
        timeout=600,
    )
    assert synth.returncode == 0, (synth.stdout + synth.stderr)[-5000:]
    for stack in STACKS:
        metadata = json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text(encoding="utf-8"))["//"]
        assert metadata["metadata"]["version"] == VERSIONS[engine.name], (stack, metadata)
    plan = run([str(ROOT / "pipeline" / "plan.sh")], cwd=ROOT, env={**env, "CDKTF_OUTDIR": str(outdir)}, timeout=600)
    assert plan.returncode == 0, (plan.stdout + plan.stderr)[-5000:]
    return {stack: (outdir / "plan" / f"{stack}.txt").read_text(encoding="utf-8") for stack in STACKS}


#: The variant with every optional resource and the delivery identity (conftest's VARIANTS), synthesized by both.
EVERY_OPTION = "delivery"


def synthesize_cdktn(base: Path, emulator: EmulatorSettings) -> dict[str, dict[str, str]]:
    """Both targets, and the variant with every optional resource (EVERY_OPTION), with CDK_ENGINE=cdktn, as
    ``make synth`` does; each output directory and what the synth said."""
    settings = {**target_settings(emulator), EVERY_OPTION: {"DEPLOY_TARGET": "aws", **VARIANTS[EVERY_OPTION]}}
    return synthesize_in_parallel(
        base, {name: {**variables, "CDK_ENGINE": CDKTN.name} for name, variables in settings.items()}
    )


@pytest.fixture(scope="session")
def cdktn_synth(shared_dir: Path, emulator_settings: EmulatorSettings) -> dict[str, dict[str, str]]:
    require_cdktn()
    # The session's emulator settings, as the cdktf synth had: the local target writes them into its stacks.
    result: dict[str, dict[str, str]] = once(
        shared_dir, "synth-cdktn", lambda: synthesize_cdktn(shared_dir / "synth-cdktn", emulator_settings)
    )
    return result


@pytest.fixture(scope="session")
def engines(cdktn_synth: dict[str, dict[str, str]], synth: dict[str, Synth]) -> dict[str, dict[str, Synth]]:
    """Each target's synth by each engine: ``engines[target]["cdktf" | "cdktn"]``."""
    return {
        target: {"cdktf": synth[target], "cdktn": Synth(target, Path(cdktn_synth[target]["outdir"]))}
        for target in TARGETS
    }


def _leaves(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a JSON document as (dotted path, value); an empty object or list is a leaf too."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list) and node:
        for index, value in enumerate(node):
            yield from _leaves(value, f"{path}[{index}]")
    else:
        yield path, node


def _addresses(stack: dict[str, Any]) -> set[str]:
    """The stack's Terraform addresses: resources, data sources, outputs, providers."""
    found = {f"{kind}.{name}" for kind, named in stack.get("resource", {}).items() for name in named}
    found |= {f"data.{kind}.{name}" for kind, named in stack.get("data", {}).items() for name in named}
    found |= {f"output.{name}" for name in stack.get("output", {})}
    found |= {f"provider.{name}" for name in stack.get("provider", {})}
    return found


@pytest.mark.parametrize("target", TARGETS)
def test_both_engines_write_the_same_stacks_and_addresses(engines: dict[str, dict[str, Synth]], target: str) -> None:
    cdktf, cdktn = engines[target]["cdktf"], engines[target]["cdktn"]
    stacks = {engine: sorted(p.name for p in (s.outdir / "stacks").iterdir()) for engine, s in engines[target].items()}
    assert stacks["cdktn"] == stacks["cdktf"] == sorted(STACKS)
    for stack in STACKS:
        addresses = _addresses(cdktf.stack(stack))
        assert len(addresses) > 5
        assert _addresses(cdktn.stack(stack)) == addresses, stack


@pytest.mark.parametrize("target", TARGETS)
def test_every_other_difference_in_the_json_is_pinned_with_its_reason(
    engines: dict[str, dict[str, Synth]], target: str
) -> None:
    for stack in STACKS:
        assert_only_pinned_differences(engines[target]["cdktf"].stack(stack), engines[target]["cdktn"].stack(stack))


def assert_only_pinned_differences(cdktf_stack: dict[str, Any], cdktn_stack: dict[str, Any]) -> None:
    pinned = {difference.path: (difference.cdktf, difference.cdktn) for difference in DIFFERENCES}
    cdktf, cdktn = dict(_leaves(cdktf_stack)), dict(_leaves(cdktn_stack))
    differing = {
        path: (cdktf.get(path, "<absent>"), cdktn.get(path, "<absent>"))
        for path in cdktf.keys() | cdktn.keys()
        if cdktf.get(path, "<absent>") != cdktn.get(path, "<absent>")
    }
    # Exactly the pinned differences, with the pinned values: no other, and none gone stale.
    assert differing == pinned


def test_every_optional_resource_and_the_delivery_identity_synthesize_alike(
    cdktn_synth: dict[str, dict[str, str]], variants: dict[str, Synth]
) -> None:
    """The construct tests and snapshots hold cdktf's JSON; CDK Terrain's, for the site with every optional resource
    (custom domain, WAF, access logs), a name suffix and the delivery identity, is the same but for the pinned
    differences. (cdktf's stacks of this variant pass `terraform validate` in tests/modules; the pinned differences
    pass it in CDK Terrain's stacks of both targets, below.)"""
    cdktf, cdktn = variants[EVERY_OPTION], Synth("aws", Path(cdktn_synth[EVERY_OPTION]["outdir"]))
    stacks = sorted(path.name for path in (cdktf.outdir / "stacks").iterdir())
    assert stacks == sorted([*STACKS, DELIVERY_STACK])
    assert sorted(path.name for path in (cdktn.outdir / "stacks").iterdir()) == stacks
    for stack in stacks:
        assert _addresses(cdktn.stack(stack)) == _addresses(cdktf.stack(stack)), stack
        assert_only_pinned_differences(cdktf.stack(stack), cdktn.stack(stack))


@pytest.mark.parametrize("target", TARGETS)
def test_each_engine_names_its_own_version_in_the_metadata(engines: dict[str, dict[str, Synth]], target: str) -> None:
    for engine in ("cdktf", "cdktn"):
        synthesized = engines[target][engine]
        for stack in STACKS:
            assert synthesized.stack(stack)["//"]["metadata"]["version"] == VERSIONS[engine]
        assert (
            json.loads((synthesized.outdir / "manifest.json").read_text(encoding="utf-8"))["version"]
            == (VERSIONS[engine])
        )
    assert VERSIONS["cdktn"] != VERSIONS["cdktf"]


def _files(synthesized: Synth, stack: str) -> dict[str, bytes]:
    directory = synthesized.stack_dir(stack)
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        # What the engine wrote: not Terraform's working files, which a test may have left (init's lock file).
        if path.is_file() and path.name not in ("cdk.tf.json", ".terraform.lock.hcl") and ".terraform" not in path.parts
    }


@pytest.mark.parametrize("target", TARGETS)
def test_both_engines_write_the_same_asset_files_byte_for_byte(
    engines: dict[str, dict[str, Synth]], target: str
) -> None:
    for stack in STACKS:
        cdktf, cdktn = _files(engines[target]["cdktf"], stack), _files(engines[target]["cdktn"], stack)
        assert sorted(cdktn) == sorted(cdktf), stack
        assert [path for path in cdktf if cdktf[path] != cdktn[path]] == [], stack
    zips = [path for path in _files(engines[target]["cdktn"], "student-management") if path.endswith(".zip")]
    assert len(zips) == 3  # the three functions' code: their source_code_hash is the zip's


def test_cdk_terrains_synth_loads_its_bindings_on_demand(cdktn_synth: dict[str, dict[str, str]]) -> None:
    for target in TARGETS:
        assert "with CDK Terrain" in cdktn_synth[target]["stdout"]
        assert "warning:" not in cdktn_synth[target]["stderr"], cdktn_synth[target]["stderr"]
    probe = (
        "import sys\n"
        "from engine import provider_bindings\n"
        "print(provider_bindings.install())\n"
        "import main\n"
        "from engine import cdk\n"
        f"print(cdk.ENGINE.name, len([m for m in sys.modules if m.startswith('{CDKTN.bindings}.')]))\n"
    )
    done = run([str(CDKTN.python), "-c", probe], cwd=ROOT, env=tool_env(CDK_ENGINE=CDKTN.name), timeout=300)
    assert done.returncode == 0, done.stderr
    mode, engine_and_count = done.stdout.splitlines()
    engine, loaded = engine_and_count.split()
    assert (mode, engine) == ("fast", "cdktn")
    # main's own imports: a hundred or so of the 2,433 submodules.
    assert 10 < int(loaded) < 200


@pytest.mark.parametrize("target", TARGETS)
def test_cdk_terrains_stacks_are_valid_for_the_offline_aws_provider(
    engines: dict[str, dict[str, Synth]], target: str, tmp_path: Path
) -> None:
    # The bindings are generated from AWS provider 6.x; the machines here have 5.100.0 only (docs/ENGINES.md).
    for stack in STACKS:
        assert_valid_terraform(engines[target]["cdktn"], stack, tmp_path)


def test_cdk_terrains_cli_synth_writes_what_make_synth_writes(
    engines: dict[str, dict[str, Synth]], tmp_path: Path
) -> None:
    """`CDK_ENGINE=cdktn engines/cdk synth` (cdktn-cli, cdktf.json's app) writes the same stacks, byte for byte."""
    cli = run(
        [str(ROOT / "engines" / "cdk"), "synth", "--output", str(tmp_path)],
        cwd=ROOT,
        env=tool_env(CDK_ENGINE=CDKTN.name, DEPLOY_TARGET="aws"),
        timeout=600,
    )
    assert cli.returncode == 0, (cli.stdout + cli.stderr)[-5000:]
    expected = engines["aws"]["cdktn"]
    for stack in STACKS:
        written = sorted(p.relative_to(tmp_path) for p in (tmp_path / "stacks" / stack).rglob("*") if p.is_file())
        assert written == sorted(
            p.relative_to(expected.outdir)
            for p in expected.stack_dir(stack).rglob("*")
            if p.is_file() and ".terraform" not in p.parts
        )
        for path in written:
            assert (tmp_path / path).read_bytes() == (expected.outdir / path).read_bytes(), path
