"""The delivery pipeline's workflows run step by step against an emulator holding production (issue 23).

``tests/system/test_upgrade.py`` deploys the last release into a private emulator:
that is production, the tutorial's system. Its ``delivery`` fixture then runs, with
``tests/system/workflow_runner.py``, what GitHub would run for a pull request that
upgrades it, and adds staging beside it in the same emulator (``DEPLOY_TARGET=local``
puts every environment's configuration there; one state bucket, a key each):

1. ``pull-request.yml``, job ``plan``, for staging then production: a reviewed plan each,
   its summary in the job summary, the plan uploaded as an artifact;
2. ``deploy.yml``: job ``staging`` applies staging's reviewed plan, then job
   ``production`` applies production's (made before staging existed: still current,
   since staging changed nothing of production's);
3. a fresh plan of production: no changes; a function's timeout changed by hand in
   staging, then ``drift.yml`` for both: staging's drift named, none in production;
4. the refusals: a plan applied in the wrong environment, a plan of other code, a
   stale plan (the state changed since);
5. ``make destroy ENV=staging``: production is left whole (a fresh plan: no changes).

Everything is recorded in ``Delivery`` for the tests to read; nothing here asserts.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from config.settings import load_config
from tests.conftest import EmulatorSettings, run, tool_env
from tests.system.workflow_runner import JobRun, Runner, checkout

ENVIRONMENTS: Final = ("staging", "production")
#: Repository variables the workflows read (``vars.*``): what a user sets in GitHub's settings.
VARIABLES: Final = {
    "AWS_REGION": "us-east-1",
    "AWS_PLAN_ROLE_ARN": "arn:aws:iam::123456789012:role/StudentManagementPlan",
    "AWS_APPLY_ROLE_ARN": "arn:aws:iam::123456789012:role/StudentManagementApply",
}
#: A change of configuration only staging sees: a smaller daily quota of its usage plan (an in-place update).
STAGING_CHANGE: Final = {"STUDENT_MGMT_API_DAILY_QUOTA": "999"}


@dataclass
class Command:
    """A command run in a checkout, as a user or a job would."""

    command: str
    returncode: int
    output: str


@dataclass
class Delivery:
    artifacts: Path
    pull_request: dict[str, JobRun] = field(default_factory=dict)
    deploy: dict[str, JobRun] = field(default_factory=dict)
    drift: dict[str, JobRun] = field(default_factory=dict)
    #: After both deploys: a fresh plan of production (staging beside it changed nothing of its).
    production_after_deploy: Command | None = None
    #: Each refusal's command and output, by what was tried.
    refusals: dict[str, Command] = field(default_factory=dict)
    destroy_staging: Command | None = None
    production_after_destroy: Command | None = None
    #: Names of one resource of each kind per environment, read back from the emulator after the destroy.
    tables_after_destroy: list[str] = field(default_factory=list)
    functions_after_destroy: list[str] = field(default_factory=list)


class Scenario:
    """Runs the pipeline against ``emulator``; each step returns what it saw."""

    def __init__(self, emulator: EmulatorSettings, workdir: Path) -> None:
        self.emulator = emulator
        self.env = tool_env(DEPLOY_TARGET="local", **emulator.env())
        self.runner = Runner(workdir / "runner", self.env, VARIABLES)
        self.user = checkout(workdir / "user")  # a reviewer's own clone, for the checks outside the workflows

    def make(self, target: str, environment: str, *args: str, **extra: str) -> Command:
        command = ["make", target, f"ENV={environment}", *args]
        result = run(command, cwd=self.user, env={**self.env, **extra}, timeout=1200)
        return Command(" ".join(command), result.returncode, result.stdout + result.stderr)

    def run(self) -> Delivery:
        seen = Delivery(self.runner.artifacts)
        seen.pull_request = self.runner.run_matrix("pull-request.yml", "plan")
        for environment in ENVIRONMENTS:  # the deploy workflow's order: staging, then production after approval
            seen.deploy[environment] = self.runner.run_job("deploy.yml", environment)
            if not seen.deploy[environment].succeeded:
                return seen
        seen.production_after_deploy = self.make("plan", "production")
        self._change_by_hand()
        seen.drift = self.runner.run_matrix("drift.yml", "drift")
        self._refusals(seen)
        seen.destroy_staging = self.make("destroy", "staging", "YES=1", "SKIP_FINAL_BACKUP=1", "DELETE_TABLE=1")
        seen.production_after_destroy = self.make("plan", "production")
        seen.tables_after_destroy = self._client("dynamodb").list_tables()["TableNames"]
        seen.functions_after_destroy = [f["FunctionName"] for f in self._client("lambda").list_functions()["Functions"]]
        return seen

    def _change_by_hand(self) -> None:
        """Drift: a function's timeout changed outside Terraform, in staging only."""
        staging = load_config({"ENV": "staging", "DEPLOY_TARGET": "local", **self.emulator.env()})
        self._client("lambda").update_function_configuration(FunctionName=staging.named("getStudentData"), Timeout=29)

    def _refusals(self, seen: Delivery) -> None:
        """A plan applied elsewhere, a plan of other code, and a plan the state moved past: none is applied."""
        plans = self.user / "cdktf.out" / "plan"
        # Staging's reviewed plan (the pull request's artifact) in production's deploy.
        shutil.copytree(self.runner.artifacts / "plan-staging" / "plan", plans, dirs_exist_ok=True)
        seen.refusals["another environment's plan"] = self.make("apply", "production")
        # Planned with a change, applied by code without it: the merged code is not what was reviewed.
        self.make("plan", "staging", **STAGING_CHANGE)
        kept = self.user / "kept-plan"
        shutil.copytree(plans, kept)
        seen.refusals["a plan of other code"] = self.make("apply", "staging")
        # A second plan of the same change, applied: the state moves past the first plan, which is then refused.
        newer = self.make("plan", "staging", **STAGING_CHANGE)
        applied = self.make("apply", "staging", **STAGING_CHANGE)
        shutil.rmtree(plans)
        shutil.copytree(kept, plans)
        stale = self.make("apply", "staging", **STAGING_CHANGE)
        stale.output = f"{newer.output}\n{applied.output}\n{stale.output}"
        seen.refusals["a stale plan"] = stale

    def _client(self, service: str) -> Any:
        return self.emulator.client(service)


def outputs(seen: Mapping[str, JobRun]) -> str:
    return "\n\n".join(f"=== {name}\n{job.output()}" for name, job in seen.items())


def summary_of(job: JobRun) -> list[str]:
    return [line for line in job.summary.splitlines() if line.strip()]
