"""The GitHub workflows (.github/workflows/): valid for actionlint, and wired to the delivery identity.

actionlint runs on the workflows (``make lint`` does too) and on a broken
copy, which it must refuse, so the check is proven to run. The workflows are
then read as data: each job that assumes a role is one the role's trust admits
(``modules/delivery/github.py``: pull requests and main plan, the
environments' jobs apply), each step's ``run`` is one plain command, each
action is pinned to a major version. The helpers the steps call are run here
too: ``pipeline/reviewed_plan.py`` against a stand-in ``gh``,
``pipeline/job_summary.sh``, and ``make identity``'s refusals.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from modules.delivery import github
from tests.conftest import ROOT, run, tool_env

WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = ROOT / ".venv" / "bin" / "actionlint"
PLAN_ROLE, APPLY_ROLE = "${{ vars.AWS_PLAN_ROLE_ARN }}", "${{ vars.AWS_APPLY_ROLE_ARN }}"
SHA = "a" * 40
HEAD = "b" * 40


def workflow(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    return loaded


def triggers(document: dict[Any, Any]) -> dict[str, Any]:
    """The ``on:`` section (YAML 1.1 reads the bare key ``on`` as True)."""
    found: dict[str, Any] = document[True]
    return found


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in steps(job) if "run" in step]


def assumed_role(job: dict[str, Any]) -> str | None:
    for step in steps(job):
        if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@"):
            assert step["with"]["aws-region"] == "${{ vars.AWS_REGION }}"
            return str(step["with"]["role-to-assume"])
    return None


# --- actionlint ----------------------------------------------------------------------------------


def actionlint(root: Path) -> Any:
    files = sorted(str(path) for path in (root / ".github" / "workflows").glob("*.yml"))
    assert files
    return run([str(ACTIONLINT), "-no-color", *files], cwd=root, env=tool_env(), timeout=120)


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    linted = actionlint(ROOT)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_actionlint_refuses_a_broken_workflow(tmp_path: Path) -> None:
    shutil.copytree(ROOT / ".github", tmp_path / ".github")
    broken = tmp_path / ".github" / "workflows" / "deploy.yml"
    text = broken.read_text(encoding="utf-8")
    assert "needs: [reviewed-plan, staging]" in text
    broken.write_text(text.replace("needs: [reviewed-plan, staging]", "needs: [reviewed-plan, stagin]"))
    linted = actionlint(tmp_path)
    assert linted.returncode == 1
    assert "deploy.yml" in linted.stdout and '"stagin"' in linted.stdout


# --- the workflows as data -----------------------------------------------------------------------


def test_pull_request_tests_then_plans_each_environment_with_the_planning_role() -> None:
    document = workflow("pull-request.yml")
    assert triggers(document) == {"pull_request": {"branches": ["main"]}}
    jobs = document["jobs"]
    assert runs(jobs["test"])[-1] == "make test"
    plan = jobs["plan"]
    assert plan["needs"] == "test"
    assert plan["strategy"]["matrix"]["env"] == list(github.ENVIRONMENTS)
    assert plan["permissions"] == {"id-token": "write", "contents": "read"}
    assert assumed_role(plan) == PLAN_ROLE
    assert "make plan ENV=${{ matrix.env }}" in runs(plan)
    summary = next(r for r in runs(plan) if "plan_summary" in r)
    assert summary.startswith("pipeline/job_summary.sh ")
    (upload,) = [s for s in steps(plan) if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"]["name"] == "plan-${{ matrix.env }}"
    assert upload["with"]["path"].split() == ["cdktf.out/", "!cdktf.out/**/.terraform/"]
    assert upload["with"]["include-hidden-files"] is True  # the providers' lock file and the synth's fingerprint


def test_deploy_applies_the_reviewed_plans_staging_then_production() -> None:
    document = workflow("deploy.yml")
    assert triggers(document) == {"push": {"branches": ["main"]}}
    jobs = document["jobs"]
    assert runs(jobs["reviewed-plan"]) == ['python3 -m pipeline.reviewed_plan "${{ github.sha }}" >>"$GITHUB_OUTPUT"']
    assert jobs["staging"]["needs"] == "reviewed-plan"
    assert jobs["production"]["needs"] == ["reviewed-plan", "staging"]
    for name in github.ENVIRONMENTS:
        job = jobs[name]
        assert job["environment"] == name
        (download,) = [s for s in steps(job) if s.get("uses", "").startswith("actions/download-artifact@")]
        assert download["with"]["name"] == f"plan-{name}"
        assert download["with"]["run-id"] == "${{ needs.reviewed-plan.outputs.run-id }}"
        assert download["with"]["path"] == "cdktf.out"
        assert assumed_role(job) == APPLY_ROLE
        assert runs(job) == [
            "terraform -chdir=cdktf.out/stacks/student-management init -input=false",
            f"make apply ENV={name}",
        ]
    assert document["concurrency"] == {"group": "deploy", "cancel-in-progress": False}


def test_drift_runs_daily_on_main_with_the_planning_role() -> None:
    document = workflow("drift.yml")
    assert set(triggers(document)) == {"schedule", "workflow_dispatch"}
    job = document["jobs"]["drift"]
    assert job["strategy"]["matrix"]["env"] == list(github.ENVIRONMENTS)
    assert assumed_role(job) == PLAN_ROLE
    assert runs(job) == ['pipeline/job_summary.sh "Drift of ${{ matrix.env }}" make drift ENV=${{ matrix.env }}']


def every_job() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path.name, name, job)
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for name, job in workflow(path.name)["jobs"].items()
    ]


def test_each_role_is_assumed_only_by_jobs_its_trust_admits() -> None:
    """The apply role by the environments' jobs; the planning role by pull requests and main, outside them."""
    assumed = {(file, name): (assumed_role(job), job.get("environment")) for file, name, job in every_job()}
    assert {key for key, (role, _) in assumed.items() if role == APPLY_ROLE} == {
        ("deploy.yml", "staging"),
        ("deploy.yml", "production"),
    }
    assert {key for key, (role, _) in assumed.items() if role == PLAN_ROLE} == {
        ("pull-request.yml", "plan"),
        ("drift.yml", "drift"),
    }
    for (file, name), (role, environment) in assumed.items():
        if role == APPLY_ROLE:
            assert environment in github.ENVIRONMENTS, (file, name)
        if role == PLAN_ROLE:
            assert environment is None, (file, name)  # an environment's job would present another subject
    for file, name, job in every_job():
        wants_token = job.get("permissions", {}).get("id-token") == "write"
        assert wants_token == (assumed_role(job) is not None), (file, name)


def test_every_step_runs_one_plain_command_and_every_action_is_pinned() -> None:
    for file, name, job in every_job():
        for step in steps(job):
            if "run" in step:
                assert "\n" not in step["run"].strip(), (file, name, step["run"])
            else:
                uses = step["uses"]
                assert uses.startswith("./") or uses.rsplit("@", 1)[1].startswith("v"), (file, name, uses)
                assert "@" not in uses or uses.rsplit("@", 1)[1][1:].isdigit(), (file, name, uses)


# --- what the steps call -------------------------------------------------------------------------

FAKE_GH = """\
import json, os, sys
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
answers = json.loads(open(os.environ["FAKE_GH_ANSWERS"]).read())
print(json.dumps(answers[sys.argv[1]]))
"""


def reviewed_plan(tmp_path: Path, pulls: list[dict[str, Any]], plan_runs: list[dict[str, Any]]) -> Any:
    """``pipeline/reviewed_plan.py`` with a ``gh`` answering ``api`` with ``pulls``, ``run`` with ``plan_runs``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(f"#!{sys.executable}\n{FAKE_GH}", encoding="utf-8")
    gh.chmod(0o755)
    (tmp_path / "answers.json").write_text(json.dumps({"api": pulls, "run": plan_runs}), encoding="utf-8")
    env = tool_env(
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        GH_REPO="example-school/student-management",
        FAKE_GH_LOG=str(tmp_path / "calls.log"),
        FAKE_GH_ANSWERS=str(tmp_path / "answers.json"),
    )
    return run([sys.executable, "-m", "pipeline.reviewed_plan", SHA], cwd=ROOT, env=env)


def merged(number: int, **extra: Any) -> dict[str, Any]:
    return {"number": number, "merged_at": "2026-12-05T10:00:00Z", "base": {"ref": "main"}, **extra}


def test_reviewed_plan_is_the_merged_pull_requests_plan_run(tmp_path: Path) -> None:
    pulls = [
        merged(6, head={"sha": "c" * 40}, merge_commit_sha="d" * 40),
        merged(7, head={"sha": HEAD}, merge_commit_sha=SHA),
    ]
    found = reviewed_plan(tmp_path, pulls, [{"databaseId": 4242, "headSha": HEAD}])
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines() == ["pull-request=7", "run-id=4242"]
    calls = [json.loads(line) for line in (tmp_path / "calls.log").read_text().splitlines()]
    assert calls[0] == ["api", f"repos/example-school/student-management/commits/{SHA}/pulls"]
    assert calls[1][:8] == [
        "run",
        "list",
        "--workflow",
        "pull-request.yml",
        "--commit",
        HEAD,
        "--event",
        "pull_request",
    ]
    assert "--status" in calls[1] and calls[1][calls[1].index("--status") + 1] == "success"


def test_reviewed_plan_refuses_a_push_without_a_pull_request(tmp_path: Path) -> None:
    unmerged = {"number": 8, "merged_at": None, "base": {"ref": "main"}, "head": {"sha": HEAD}}
    found = reviewed_plan(tmp_path, [unmerged], [{"databaseId": 1, "headSha": HEAD}])
    assert found.returncode == 1
    assert found.stdout == ""
    assert "no merged pull request into main" in found.stderr


def test_reviewed_plan_refuses_a_pull_request_whose_plans_did_not_succeed(tmp_path: Path) -> None:
    found = reviewed_plan(tmp_path, [merged(9, head={"sha": HEAD}, merge_commit_sha=SHA)], [])
    assert found.returncode == 1
    assert f"no successful pull-request.yml run for the pull request's head {HEAD}" in found.stderr


@pytest.mark.parametrize("status", [0, 2])
def test_job_summary_puts_the_output_on_the_page_and_keeps_the_status(tmp_path: Path, status: int) -> None:
    summary = tmp_path / "summary.md"
    command = ["bash", "-c", f"echo 'drifted: aws_s3_bucket.x'; exit {status}"]
    done = run(
        [str(ROOT / "pipeline" / "job_summary.sh"), "Drift of staging", *command],
        cwd=ROOT,
        env=tool_env(GITHUB_STEP_SUMMARY=str(summary)),
    )
    assert done.returncode == status
    assert "drifted: aws_s3_bucket.x" in done.stdout
    page = summary.read_text()
    assert page.startswith("## Drift of staging\n\n```\ndrifted: aws_s3_bucket.x\n```\n")
    assert ("exit status 2" in page) == (status == 2)


@pytest.mark.parametrize(
    ("settings", "refusal"),
    [
        ({}, "make identity: github_repository is empty"),
        (
            {"STUDENT_MGMT_GITHUB_REPOSITORY": "example-school/student-management", "DEPLOY_TARGET": "local"},
            "make identity: the emulator has no GitHub to trust",
        ),
        ({"STUDENT_MGMT_GITHUB_REPOSITORY": "example-school/student-management", "DEPLOY_TARGET": "aws"}, None),
    ],
)
def test_make_identity_refuses_in_one_line_without_a_repository(settings: dict[str, str], refusal: str | None) -> None:
    # As a user runs it: not as a sub-make of `make check` (whose jobserver would add a warning line).
    env = {k: v for k, v in tool_env(**settings).items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = run(["make", "--no-print-directory", "identity-check"], cwd=ROOT, env=env, timeout=60)
    if refusal is None:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode != 0
        assert done.stderr.splitlines()[0].startswith(refusal)
