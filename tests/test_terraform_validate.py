"""`terraform validate` of every synthesized stack, offline, with the real AWS provider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import STACKS, TARGETS, Synth, copy_stack, run, tool_env


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("target", TARGETS)
def test_stack_is_valid_terraform(synth: dict[str, Synth], tmp_path: Path, target: str, stack: str) -> None:
    workdir = copy_stack(synth[target], stack, tmp_path)
    env = tool_env()
    init = run(
        ["terraform", "init", "-backend=false", "-input=false", "-no-color"],
        cwd=workdir,
        env=env,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    validate = run(
        ["terraform", "validate", "-json", "-no-color"],
        cwd=workdir,
        env=env,
    )
    result = json.loads(validate.stdout)
    assert result["valid"] is True, result["diagnostics"]
    assert result["error_count"] == 0
    assert result["warning_count"] == 0, result["diagnostics"]
