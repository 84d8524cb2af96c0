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
4. the refusals: a plan applied in the wrong environment, a reviewed plan applied
   again (its own apply changed the state: Terraform's "Saved plan is stale"), a plan
   of other code;
5. ``make destroy ENV=staging``: production is left whole (a fresh plan: no changes).

Everything is recorded in ``Delivery`` for the tests to read; nothing here asserts.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator, Mapping
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
#: Code other than what was reviewed: here a configuration the plan was not made with (a smaller daily quota).
OTHER_CODE: Final = {"STUDENT_MGMT_API_DAILY_QUOTA": "999"}


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
    #: Seconds each stage took, for the fixture's report.
    timings: dict[str, float] = field(default_factory=dict)


class Clock:
    """``with clock("stage"):`` records the stage's seconds."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings[stage] = time.monotonic() - started


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
        clock = Clock(seen.timings)
        with clock("pull request: plans"):
            seen.pull_request = self.runner.run_matrix("pull-request.yml", "plan")
        for environment in ENVIRONMENTS:  # the deploy workflow's order: staging, then production after approval
            with clock(f"deploy: {environment}"):
                seen.deploy[environment] = self.runner.run_job("deploy.yml", environment)
            if not seen.deploy[environment].succeeded:
                return seen
        with clock("production planned afresh"):
            seen.production_after_deploy = self.make("plan", "production")
        self._change_by_hand()
        with clock("drift reports"):
            seen.drift = self.runner.run_matrix("drift.yml", "drift")
        with clock("refusals"):
            self._refusals(seen)
        with clock("destroy staging, plan production"):
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
        """A plan applied elsewhere, a plan the state moved past, a plan of other code: none is applied."""
        plans = self.user / "cdktf.out" / "plan"
        # Staging's reviewed plan (the pull request's artifact) in production's deploy.
        self._reviewed("staging", plans)
        seen.refusals["another environment's plan"] = self.make("apply", "production")
        # Production's reviewed plan once more, as a rerun of its deploy job would: its own apply moved the state.
        self._reviewed("production", plans)
        seen.refusals["a stale plan"] = self.make("apply", "production")
        # The reviewed plan, applied by code that synthesizes something else: the merged code is not what was reviewed.
        seen.refusals["a plan of other code"] = self.make("apply", "production", **OTHER_CODE)

    def _reviewed(self, environment: str, plans: Path) -> None:
        """The pull request's reviewed plan of ``environment``, where a deploy job downloads it."""
        shutil.rmtree(plans, ignore_errors=True)
        shutil.copytree(self.runner.artifacts / f"plan-{environment}" / "plan", plans)

    def _client(self, service: str) -> Any:
        return self.emulator.client(service)


def outputs(seen: Mapping[str, JobRun]) -> str:
    return "\n\n".join(f"=== {name}\n{job.output()}" for name, job in seen.items())


def summary_of(job: JobRun) -> list[str]:
    return [line for line in job.summary.splitlines() if line.strip()]
