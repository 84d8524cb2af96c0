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
        r"^/resource/aws_s3_object/website_object-index-html_\w+/depends_on(/\d+)?$"
    ),
}
#: Differences meant for some snapshots only (issue 23): the snapshot's name pattern, then the JSON path's.
MEANT_FOR: Final = {
    "the local environment is tagged as itself (Environment=Local): the emulator is its account": (
        re.compile(r"\[local-"),
        re.compile(r"^/provider/aws/0/default_tags/0/tags/Environment$"),
    ),
}
#: Snapshots of variants added since the baseline, and the baseline snapshot each must equal (as meant);
#: None: a configuration the baseline could not make, compared with nothing.
SINCE_BASELINE: Final = {
    "test_variant_matches_snapshot[production-state-bootstrap]": (
        "test_synth/test_stack_matches_snapshot[aws-state-bootstrap]"
    ),
    "test_variant_matches_snapshot[production-student-management]": (
        "test_synth/test_stack_matches_snapshot[aws-student-management]"
    ),
    "test_variant_matches_snapshot[staging-state-bootstrap]": None,
    "test_variant_matches_snapshot[staging-student-management]": None,
    "test_variant_matches_snapshot[delivery-delivery-identity]": None,  # the delivery identity (issue 23)
}


def snapshot_files() -> list[Path]:
    """Every snapshot the baseline has a counterpart of."""
    return sorted(path for path in SNAPSHOTS.glob("*/*.json") if SINCE_BASELINE.get(path.stem, "") is not None)


def baseline_snapshot(path: Path) -> Any:
    """The baseline's snapshot of the same name (or, for a variant added since, its counterpart's)."""
    relative = path.relative_to(SNAPSHOTS).as_posix()
    relative = f"{SINCE_BASELINE[path.stem]}.json" if SINCE_BASELINE.get(path.stem) else relative
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
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from differences(old, new, f"{path}/{index}")
    elif before != after:
        yield path


def unmeant(paths: Iterator[str], snapshot: str = "") -> list[str]:
    patterns = [*MEANT.values(), *(path for name, path in MEANT_FOR.values() if name.search(snapshot))]
    return [path for path in paths if not any(pattern.match(path) for pattern in patterns)]


def test_every_snapshot_is_compared() -> None:
    names = {path.parent.name for path in snapshot_files()}
    assert names == {"test_synth", "test_variants"}, names
    since = {path.stem for path in SNAPSHOTS.glob("*/*.json")} - {path.stem for path in snapshot_files()}
    assert since == {name for name, counterpart in SINCE_BASELINE.items() if counterpart is None}


@pytest.mark.parametrize("path", snapshot_files(), ids=lambda path: path.stem)
def test_snapshot_differs_from_the_baselines_only_as_meant(path: Path) -> None:
    baseline_commit()
    after = json.loads(path.read_text(encoding="utf-8"))
    found = unmeant(differences(baseline_snapshot(path), after), path.stem)
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
