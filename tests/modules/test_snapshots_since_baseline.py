"""The synth snapshots against the upgrade baseline's: they differ only where the baseline's upgrade is meant to.

``tests/system/test_upgrade.py`` plans this tree against a deployment of ``BASELINE``; this is its quick
counterpart on the synthesized JSON. Every snapshot (both targets, every variant) is compared with the one the
baseline commit holds, key by key, and each difference must be one ``MEANT`` names. The snapshots hold hashes as
placeholders (``tests/synth_helpers.py``), so a function whose zip changed is no difference here; what issue 21
changes is the page's files (its script and stylesheet split into modules: new objects, and the page depending on
them). The snapshot tests themselves hold the synth to the snapshots, so together they hold the synth to the
baseline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest

from tests.conftest import ROOT, run, tool_env
from tests.system.test_upgrade import BASELINE, baseline_commit

SNAPSHOTS: Final = ROOT / "tests" / "modules" / "__snapshots__"
#: Where a snapshot was kept before the tests mirrored the layout (issue 21).
FORMER_SNAPSHOTS: Final = "tests/__snapshots__"
#: The differences the upgrade from ``BASELINE`` is meant to make, as paths into the synthesized JSON.
MEANT: Final = {
    "the page's files: the script and stylesheet became modules, each its own fingerprinted object": re.compile(
        r"^/resource/aws_s3_object/website_object-[\w-]+$"
    ),
    "the page (index.html) is uploaded after the files it names, now more of them": re.compile(
        r"^/resource/aws_s3_object/website_object-index-html_\w+/depends_on$"
    ),
}


#: Snapshots of stacks the baseline could not synthesize, so it holds none to compare with.
NEW_SINCE_BASELINE: Final = {
    "test_variant_matches_snapshot[delivery-delivery-identity]": "the delivery identity came with issue 23",
}


def snapshot_files() -> list[Path]:
    return sorted(SNAPSHOTS.glob("*/*.json"))


def compared_files() -> list[Path]:
    return [path for path in snapshot_files() if path.stem not in NEW_SINCE_BASELINE]


def baseline_snapshot(path: Path) -> Any:
    """The baseline's snapshot of the same name, where the baseline kept it."""
    relative = path.relative_to(SNAPSHOTS).as_posix()
    for candidate in (f"tests/modules/__snapshots__/{relative}", f"{FORMER_SNAPSHOTS}/{relative}"):
        # cat-file, not show: show prints nothing, and succeeds, for a name with brackets that is not there.
        shown = run(["git", "cat-file", "-p", f"{BASELINE}:{candidate}"], cwd=ROOT, env=tool_env())
        if shown.returncode == 0:
            return json.loads(shown.stdout)
    pytest.fail(f"the baseline {BASELINE[:12]} holds no snapshot {relative}", pytrace=False)


def differences(before: Any, after: Any, path: str = "") -> Iterator[str]:
    """The JSON paths where ``after`` adds, removes or changes a value of ``before`` (the outermost one)."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(before.keys() | after.keys()):
            if key not in before or key not in after:
                yield f"{path}/{key}"
            else:
                yield from differences(before[key], after[key], f"{path}/{key}")
    elif before != after:
        yield path


def unmeant(paths: Iterator[str]) -> list[str]:
    return [path for path in paths if not any(pattern.match(path) for pattern in MEANT.values())]


def test_every_snapshot_is_compared() -> None:
    names = {path.parent.name for path in snapshot_files()}
    assert names == {"test_synth", "test_variants"}, names
    # Each snapshot left out is one that exists: the list cannot outlive what it names.
    assert set(NEW_SINCE_BASELINE) <= {path.stem for path in snapshot_files()}


@pytest.mark.parametrize("path", compared_files(), ids=lambda path: path.stem)
def test_snapshot_differs_from_the_baselines_only_as_meant(path: Path) -> None:
    baseline_commit()
    after = json.loads(path.read_text(encoding="utf-8"))
    found = unmeant(differences(baseline_snapshot(path), after))
    assert not found, f"{path.name} differs from {BASELINE[:12]}'s beyond MEANT:\n  " + "\n  ".join(found)


def test_a_difference_that_is_not_meant_is_named() -> None:
    """The comparison sees a changed value, an added and a removed resource; only the page's files pass."""
    before = {"resource": {"aws_lambda_function": {"f": {"timeout": 10}}, "aws_s3_object": {}}}
    after = {"resource": {"aws_lambda_function": {"f": {"timeout": 11}, "g": {}}, "aws_s3_object": {}}}
    after["resource"]["aws_s3_object"]["website_object-js-main-js_1A2B3C4D"] = {}
    assert unmeant(differences(before, after)) == [
        "/resource/aws_lambda_function/f/timeout",
        "/resource/aws_lambda_function/g",
    ]
