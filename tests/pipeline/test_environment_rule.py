"""One rule decides where a command acts (issue 23): ``ENV``, or local without it; AWS never by default.

The commands that exist only for AWS refuse without an explicit ``ENV``, in one
line naming the choices, before they synthesize or touch anything; the local
system's commands refuse an AWS environment; every command's first line names
the environment. The rule itself is pipeline/environment.py; the Makefile calls
it first in every operator command (checked here on the Makefile's text).
"""

from __future__ import annotations

import re
from typing import Final

import pytest

from pipeline.environment import check
from tests.conftest import ROOT, run, tool_env

#: What `make help` lists that acts on no environment: set-up, the tests, the emulator's own switches.
NO_ENVIRONMENT: Final = frozenset(
    {"help", "setup", "lock", "down", "status", "logs", "check", "test", "lint", "bench", "clean"}
)
AWS_ONLY: Final = ("bootstrap", "deploy", "apply", "drift")
LOCAL_ONLY: Final = ("up", "seed", "emails", "denials", "api-key", "staff-token", "backups", "backup-now")


def make(target: str, **env: str) -> tuple[int, str, str]:
    """``make TARGET`` as a user runs it, set-up taken as done (the suite runs after it, and workers run at once)."""
    result = run(["make", "-o", "setup", target], cwd=ROOT, env=tool_env(**env), timeout=120)
    return result.returncode, result.stdout, result.stderr


def recipes() -> dict[str, list[str]]:
    """Each documented target of the Makefile (a ``## help`` text) and its recipe's lines."""
    found: dict[str, list[str]] = {}
    current = None
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([a-z-]+):.*## ", line)
        if match:
            current = match.group(1)
            found[current] = []
        elif current and line.startswith("\t"):
            found[current].append(line.strip())
        elif current and not line.startswith("\t"):
            current = None
    return found


@pytest.mark.parametrize("target", AWS_ONLY)
def test_a_command_that_changes_aws_refuses_without_env_in_one_line(target: str) -> None:
    status, out, err = make(target)
    assert status != 0
    # The refusal, then make's own note that the recipe failed.
    assert err.splitlines()[0] == (
        f"make {target}: changes AWS, so it needs an environment: ENV=production or ENV=staging ('make up' is local's)"
    )
    assert "synthesized" not in out and "terraform" not in out  # refused before doing anything


def test_env_local_does_not_count_as_an_aws_environment() -> None:
    status, _, err = make("deploy", ENV="local")
    assert status != 0 and "needs an environment: ENV=production or ENV=staging" in err


@pytest.mark.parametrize("target", ["seed", "up", "emails"])
def test_a_local_command_refuses_an_aws_environment(target: str) -> None:
    status, _, err = make(target, ENV="staging")
    assert status != 0
    assert err.splitlines()[0] == f"make {target}: acts on the local system only, not on staging: run it without ENV"


def test_an_unknown_environment_is_refused_naming_the_choices() -> None:
    status, _, err = make("restore", ENV="prod")
    assert status != 0
    assert "'prod' is not an environment. Fix: use one of local, production, staging" in err


def test_every_operator_command_names_its_environment_first() -> None:
    found = recipes()
    assert {"synth", "plan", "apply", "drift", "restore", "staff-add", "destroy"} <= set(found)
    for target, lines in found.items():
        if target in NO_ENVIRONMENT:
            continue
        assert lines and lines[0].startswith("$(call announce"), f"make {target} does not name its environment first"
    for target in AWS_ONLY:
        assert found[target][0] == "$(call announce,--aws-only)", target
    for target in LOCAL_ONLY:
        assert found[target][0] == "$(call announce,--local-only)", target


@pytest.mark.parametrize(
    ("environ", "line"),
    [
        ({}, "==> make restore: environment local (the local emulator at https://127.0.0.1:4566)"),
        (
            {"ENV": "staging"},
            "==> make restore: environment staging (the AWS account of your credentials, us-east-1, names -staging,"
            " state student-management-tfstate/student-management/staging/terraform.tfstate)",
        ),
        (
            {"ENV": "production"},
            "==> make restore: environment production (the AWS account of your credentials, us-east-1,"
            " the tutorial's names, state student-management-tfstate/student-management/terraform.tfstate)",
        ),
    ],
    ids=["local", "staging", "production"],
)
def test_the_first_line_says_where_the_command_acts(environ: dict[str, str], line: str) -> None:
    assert check("restore", environ, aws_only=False, local_only=False) == line


def test_make_restore_and_staff_add_act_on_the_local_system_without_env() -> None:
    """The issue's finding: after `make up` they used to act on AWS (no credentials) unless told otherwise."""
    for target in ("restore", "staff-add"):
        status, _, err = make(target, STUDENT_MGMT_EMULATOR_STATE_DIR=str(ROOT / ".no-emulator-here"))
        assert err.splitlines()[0].startswith(f"==> make {target}: environment local (the local emulator"), err
        assert status != 0  # no local system is running in this test: it says so, never reaching for AWS
