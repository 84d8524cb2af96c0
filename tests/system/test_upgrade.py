"""Upgrading a deployed system to this commit destroys and replaces nothing.

The last release (``BASELINE``, exported from git) is synthesized and deployed
into a private emulator (its own free port and state directory: never a
``make up`` emulator, nor the other test files' emulator) by the project's own
scripts, as ``make up`` does. The working tree is then synthesized for the same
emulator, and each stack is planned (``terraform init``, ``plan -out``, ``show
-json``) in its synthesized directory against the baseline's state: the
bootstrap stack's local state file in the emulator's state directory, the
application stack's state in the emulator's state bucket (both baked into the
synthesized backends). No resource may be destroyed or replaced: a construct
whose Terraform address changed must carry a move (a ``moved`` block), which
Terraform plans as a no-op or an update with ``previous_address`` set.

``pytest -n 0 -s`` shows each plan as ``make plan`` summarises it (read by
``pipeline/plan_summary.py``, the one reader of plan JSON), then each move and
each update; the plan JSON is kept under pytest's temporary directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from config.settings import APP_STACK, BOOTSTRAP_STACK
from local import deploy as deploy_local
from pipeline import plan_summary
from tests.conftest import ROOT, STACKS, EmulatorSettings, free_port, run, tool_env
from tests.system.delivery import Clock, Delivery, Scenario, outputs, summary_of

pytestmark = pytest.mark.emulator

#: The release the upgrade starts from: the last landed commit before issue 21
#: (the layout: files moved and split, no behaviour change). Move it forward to
#: each new release's commit once that release is deployed, so the test always
#: guards the upgrade from what is actually running, and set
#: ``CHANGED_SINCE_BASELINE`` to what that upgrade is meant to change.
BASELINE = "deb48ae22a87e952fd41194b9355c1752713a095"
#: Resources replaced by design, never losing anything, and only new before old
#: (create_before_destroy: Terraform's actions "create" then "delete").
REPLACED_BY_DESIGN = {
    # A snapshot of what the API serves: any change of it is a new deployment,
    # and the stage moves to the new one before the old one goes.
    "aws_api_gateway_deployment": "a new API deployment, the stage moved to it first",
    # The website's files come from git: a changed fingerprinted name is a new object.
    "aws_s3_object": "a website file under a new fingerprinted name, uploaded before the old one goes",
}


@dataclass(frozen=True)
class Expected:
    """What upgrading from ``BASELINE`` may do to resources of one type, and why."""

    why: str
    #: Attributes an in-place update may give a new value; ``None``: any change, new and removed objects too.
    new_values: frozenset[str] | None
    #: Attributes that may only become "known after apply", never a known new value.
    read_at_apply: frozenset[str] = frozenset()


#: Everything upgrading from ``BASELINE`` may change, by resource type. Issue 21 moved and split files, with no
#: behaviour change: the functions' zips change (their files moved), and with them what Terraform reads again.
CHANGED_SINCE_BASELINE: dict[str, Expected] = {
    "aws_lambda_function": Expected(
        "a function's zip: its code files moved or were split, so the zip (its path and hash) is new",
        new_values=frozenset({"filename", "source_code_hash", "last_modified"}),
    ),
    "aws_iam_role_policy": Expected(
        "a policy document naming a function whose zip changes is read again at apply: the same ARN, so the same"
        " document, but Terraform cannot show it until then",
        new_values=frozenset(),
        read_at_apply=frozenset({"policy"}),
    ),
    "aws_s3_object": Expected("the page's files: its script split into ES modules, each a fingerprinted object", None),
}
EMULATOR_SCRIPT = ROOT / "local" / "emulator.sh"


@dataclass(frozen=True)
class StackPlan:
    """A stack's plan as ``pipeline/plan_summary.py`` reads it, and the state it was planned against."""

    plan: plan_summary.Plan
    json_path: Path
    prior_addresses: frozenset[str]

    def of_type(self, kind: str) -> list[plan_summary.Change]:
        return [change for change in self.plan.resources if change.type == kind]


@dataclass(frozen=True)
class Upgrade:
    baseline: str
    plans: dict[str, StackPlan]
    baseline_outputs: dict[str, dict[str, Any]]
    #: The emulator the baseline runs in, until the module's last test (the delivery pipeline's go on in it).
    emulator: EmulatorSettings


def baseline_commit() -> str:
    """BASELINE, checked to be in this clone: a missing baseline fails the test (a skip would hide it)."""
    found = run(["git", "rev-parse", "--verify", "--quiet", f"{BASELINE}^{{commit}}"], cwd=ROOT, env=tool_env())
    if found.returncode != 0:
        shallow = run(["git", "rev-parse", "--is-shallow-repository"], cwd=ROOT, env=tool_env()).stdout.strip()
        pytest.fail(
            f"the upgrade baseline {BASELINE} (tests/system/test_upgrade.py: BASELINE) is not in this clone"
            + (" (a shallow clone)" if shallow == "true" else "")
            + ". Fetch the history: `git fetch --unshallow` (in CI: a checkout with full history,"
            " e.g. fetch-depth: 0), or at least that commit: `git fetch origin " + BASELINE + "`.",
            pytrace=False,
        )
    return found.stdout.strip()


def export_tree(commit: str, destination: Path) -> None:
    """The commit's files (``git archive | tar -x``): no .venv or node_modules, the synth needs neither."""
    destination.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", commit], stdout=subprocess.PIPE)
    untar = subprocess.run(
        ["tar", "-x", "-C", str(destination)], stdin=archive.stdout, capture_output=True, check=False
    )
    assert archive.stdout is not None
    archive.stdout.close()
    assert archive.wait(timeout=120) == 0, f"git archive {commit} failed"
    assert untar.returncode == 0, untar.stderr.decode(errors="replace")


def start_synth(tree: Path, outdir: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """That tree's own synth (what its ``make up`` runs), with this project's Python environment.

    ``python -m pipeline.synth`` since issue 21; ``scripts/synth.py`` before it.
    """
    legacy = tree / "scripts" / "synth.py"
    synth = [str(legacy)] if legacy.is_file() else ["-m", "pipeline.synth"]
    return subprocess.Popen(
        [sys.executable, *synth, "--force", "--outdir", str(outdir)],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(processes: dict[str, subprocess.Popen[str]]) -> None:
    """Waits for every process (none is left running), then fails with the output of each that failed."""
    outputs = {what: process.communicate(timeout=600)[0] for what, process in processes.items()}
    failed = [f"{what} failed:\n{outputs[what][-5000:]}" for what, process in processes.items() if process.returncode]
    assert not failed, "\n\n".join(failed)


def terraform_environment(env: dict[str, str]) -> dict[str, str]:
    """The environment deploy_local.py gives its Terraform runs when it is started with ``env``."""
    with mock.patch.dict(os.environ, env, clear=True):
        return deploy_local.terraform_env()


def plan_stack(stack_dir: Path, env: dict[str, str], keep: Path) -> StackPlan:
    """init, ``plan -out`` and ``show -json`` in a synthesized stack directory; the JSON is kept in ``keep``."""
    deploy_local.ensure_init(stack_dir, env)
    stack = stack_dir.name
    plan = run(
        [
            "terraform",
            "plan",
            "-input=false",
            "-no-color",
            f"-parallelism={deploy_local.PARALLELISM}",
            f"-out={stack}.tfplan",
        ],
        cwd=stack_dir,
        env=env,
        timeout=900,
    )
    assert plan.returncode == 0, f"terraform plan of {stack} failed:\n{(plan.stdout + plan.stderr)[-5000:]}"
    show = run(["terraform", "show", "-json", f"{stack}.tfplan"], cwd=stack_dir, env=env, timeout=300)
    assert show.returncode == 0, f"terraform show -json of {stack} failed:\n{show.stderr[-5000:]}"
    json_path = keep / f"{stack}.json"
    json_path.write_text(show.stdout, encoding="utf-8")
    prior = json.loads(show.stdout).get("prior_state", {}).get("values", {}).get("root_module", {}).get("resources", [])
    prior_addresses = frozenset(r["address"] for r in prior if r.get("mode", "managed") == "managed")
    return StackPlan(plan_summary.read_plan(json_path), json_path, prior_addresses)


def summary(stack_plan: StackPlan) -> list[str]:
    """``make plan``'s summary of the stack, then each move and each update (the upgrade's expected changes)."""
    plan = stack_plan.plan
    lines = [*plan_summary.summary(plan), f"   plan JSON: {stack_plan.json_path}"]
    lines += [f"   moved:  {c.previous_address} -> {c.address}" for c in plan.resources if c.previous_address]
    lines += [f"   update: {c.address}" for c in plan.changes if c.kind == "change"]
    return lines


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upgrade]:
    """BASELINE deployed into a private emulator, then this tree planned against its state."""
    commit = baseline_commit()
    base = tmp_path_factory.mktemp("upgrade")
    emulator = EmulatorSettings(port=free_port(), state_dir=base / "emulator")
    # The tests' environments: the synth's (conftest.synthesize) and the deploy's (test_deploy_local).
    synth_env = tool_env(DEPLOY_TARGET="local", **emulator.env())
    deploy_env = emulator.deploy_env()
    baseline_tree, baseline_out, current_out = base / "baseline", base / "baseline.out", base / "current.out"
    plans_dir = base / "plans"
    plans_dir.mkdir()
    timings: dict[str, float] = {}
    clock = Clock(timings)
    export_tree(commit, baseline_tree)
    # The emulator starts while both trees synthesize: none of the three needs another.
    starting = subprocess.Popen(
        [str(EMULATOR_SCRIPT), "start"], env=synth_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        with clock("synths and emulator start"):
            finish(
                {
                    "local/emulator.sh start": starting,
                    f"synth of the baseline {commit[:7]}": start_synth(baseline_tree, baseline_out, synth_env),
                    # Production's configuration: the baseline's deployment is the tutorial's system (its names,
                    # state key and tags), which the environments of issue 23 call production; local is tagged Local.
                    "synth of the working tree": start_synth(ROOT, current_out, {**synth_env, "ENV": "production"}),
                }
            )

        with clock("baseline deploy"):
            deploy = run(
                [sys.executable, "-m", "local.deploy", "--outdir", str(baseline_out)],
                cwd=ROOT,
                env=deploy_env,
                timeout=900,
            )
            assert deploy.returncode == 0, f"deploy of the baseline failed:\n{(deploy.stdout + deploy.stderr)[-5000:]}"
            outputs = json.loads((baseline_out / "outputs.json").read_text(encoding="utf-8"))

        with clock("plans of the working tree"):
            env = terraform_environment(deploy_env)
            with ThreadPoolExecutor(max_workers=len(STACKS)) as pool:
                futures = {
                    stack: pool.submit(plan_stack, current_out / "stacks" / stack, env, plans_dir) for stack in STACKS
                }
                plans = {stack: future.result() for stack, future in futures.items()}

        lines = [f"\n==> upgrade from {commit[:12]} to the working tree, planned against the deployed state"]
        for stack in STACKS:
            lines += summary(plans[stack])
        lines.append("    " + "; ".join(f"{what}: {seconds:.0f} s" for what, seconds in timings.items()))
        print("\n".join(lines), flush=True)
        yield Upgrade(commit, plans, outputs, emulator)
    finally:
        starting.wait(timeout=120)
        subprocess.run([str(EMULATOR_SCRIPT), "stop"], env=synth_env, capture_output=True, check=False, timeout=60)


#: Resources removed by design: stateless objects the new tree no longer has at all, so Terraform deletes them
#: (``delete_because_no_resource_config``), never a renamed construct (that would be a create beside it).
REMOVED_BY_DESIGN = {
    # The page's files come from git: a file the page no longer has is no longer uploaded. Issue 21 split
    # scripts.js and styles.css into modules; index.html (revalidated on every load) names only the new files.
    "aws_s3_object": "a website file the page no longer has",
}


def replaced_by_design(change: plan_summary.Change) -> bool:
    return change.type in REPLACED_BY_DESIGN and change.actions == ("create", "delete")


def removed_by_design(change: plan_summary.Change) -> bool:
    return (
        change.type in REMOVED_BY_DESIGN
        and change.actions == ("delete",)
        and change.reason == "delete_because_no_resource_config"
    )


def test_upgrade_destroys_and_replaces_nothing(upgrade: Upgrade) -> None:
    """No planned action deletes: that covers destroy (``delete``) and replace (``delete``+``create``, either order).

    Except ``REPLACED_BY_DESIGN``: stateless resources whose replacement is how
    they change, and only new before old; and ``REMOVED_BY_DESIGN``: stateless
    objects the new tree no longer has.
    """
    offending = [
        f"  {stack}: {change.describe()}"
        for stack, stack_plan in upgrade.plans.items()
        for change in stack_plan.plan.resources
        if "delete" in change.actions and not replaced_by_design(change) and not removed_by_design(change)
    ]
    assert not offending, (
        f"upgrading a deployment of {upgrade.baseline[:12]} to this tree destroys or replaces"
        f" {len(offending)} resource(s); give each renamed construct a move (`moved` block) to its old address,"
        " or keep the attribute that forces the replacement:\n" + "\n".join(offending)
    )


def test_plan_is_made_against_the_deployed_baseline(upgrade: Upgrade) -> None:
    """The plans start from the baseline's state (a plan against an empty state would delete nothing too)."""
    assert upgrade.baseline_outputs[APP_STACK], "the baseline deploy wrote no outputs"
    for stack, stack_plan in upgrade.plans.items():
        prior = stack_plan.prior_addresses
        assert prior, f"{stack}: the plan's prior state is empty: not planned against the deployment"
        # Every deployed resource is in the plan: kept where it is, or moved (a removed one is a delete).
        resources = stack_plan.plan.resources
        planned = {change.address for change in resources} | {change.previous_address for change in resources}
        assert prior <= planned, sorted(prior - planned)
    tables = {change.address: change for change in upgrade.plans[APP_STACK].of_type("aws_dynamodb_table")}
    [students] = [change for address, change in tables.items() if address.startswith("aws_dynamodb_table.students_")]
    assert students.actions == ("no-op",), students.describe()
    (state_bucket,) = upgrade.plans[BOOTSTRAP_STACK].of_type("aws_s3_bucket")
    assert state_bucket.actions == ("no-op",), state_bucket.describe()


def _unknown(value: Any) -> bool:
    """Whether Terraform's ``after_unknown`` marks anything in ``value`` as known only after apply."""
    if isinstance(value, dict):
        return any(_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_unknown(v) for v in value)
    return value is True


@dataclass(frozen=True)
class PlannedChange:
    """A managed resource the plan acts on, and which of its attributes change (to a known value, or to unknown)."""

    stack: str
    address: str
    type: str
    actions: tuple[str, ...]
    new_values: frozenset[str]
    read_at_apply: frozenset[str]

    def expected(self) -> bool:
        rule = CHANGED_SINCE_BASELINE.get(self.type)
        if rule is None:
            return False
        if rule.new_values is None:
            return True
        return (
            self.actions == ("update",)
            and self.new_values <= rule.new_values
            and self.read_at_apply <= rule.new_values | rule.read_at_apply
        )

    def describe(self) -> str:
        changed = [*sorted(self.new_values), *(f"{name} (known after apply)" for name in sorted(self.read_at_apply))]
        return f"  {self.stack}: {'+'.join(self.actions)} {self.address}: {', '.join(changed)}"


def planned_changes(stack: str, stack_plan: StackPlan) -> list[PlannedChange]:
    """Every managed resource the plan acts on, from the plan's JSON."""
    document = json.loads(stack_plan.json_path.read_text(encoding="utf-8"))
    found = []
    for resource in document.get("resource_changes", []):
        change = resource["change"]
        if resource.get("mode", "managed") != "managed" or change["actions"] == ["no-op"]:
            continue
        before, after = change.get("before") or {}, change.get("after") or {}
        unknown = change.get("after_unknown") or {}
        later = frozenset(name for name, value in unknown.items() if _unknown(value))
        keys = (set(before) | set(after)) - later
        new_values = frozenset(name for name in keys if before.get(name) != after.get(name))
        found.append(
            PlannedChange(stack, resource["address"], resource["type"], tuple(change["actions"]), new_values, later)
        )
    return found


def test_the_upgrade_from_the_baseline_changes_only_what_it_is_meant_to(upgrade: Upgrade) -> None:
    """Nothing beyond ``CHANGED_SINCE_BASELINE``: for issue 21, the functions' zip hashes and the page's files.

    A construct that moved to another scope, or a value that changed on the way, shows here as a change of a
    resource type or an attribute the list does not name.
    """
    unexpected = [
        change.describe()
        for stack, stack_plan in upgrade.plans.items()
        for change in planned_changes(stack, stack_plan)
        if not change.expected()
    ]
    assert not unexpected, (
        f"upgrading a deployment of {upgrade.baseline[:12]} to this tree changes more than CHANGED_SINCE_BASELINE"
        " names:\n" + "\n".join(unexpected)
    )


# --- the delivery pipeline (issue 23): the pull request that upgrades production, staging beside it ----------


@pytest.fixture(scope="module")
def delivery(upgrade: Upgrade, tmp_path_factory: pytest.TempPathFactory) -> Delivery:
    """The workflows' steps run in order against the upgrade's emulator (tests/system/delivery.py)."""
    seen = Scenario(upgrade.emulator, tmp_path_factory.mktemp("delivery")).run()
    timings = "; ".join(f"{stage}: {seconds:.0f} s" for stage, seconds in seen.timings.items())
    print(f"\n==> the delivery pipeline ({timings})\n{outputs({**seen.pull_request, **seen.deploy})}", flush=True)
    return seen


def test_a_pull_request_gets_a_reviewed_plan_of_each_environment(delivery: Delivery) -> None:
    """Each environment's plan job: the plan made, its summary on the job's page, the plan kept as an artifact."""
    for environment, job in delivery.pull_request.items():
        assert job.succeeded, outputs({environment: job})
        assert f"==> make plan: environment {environment}" in job.output()
        summary = summary_of(job)
        assert summary[0] == f"## Plan of {environment}", summary
        assert "== student-management: " in job.summary and " to destroy" in job.summary, job.summary
        assert "STATEFUL" not in job.summary, job.summary  # nothing that holds data is lost by either plan
        artifact = delivery.artifacts / f"plan-{environment}"
        assert (artifact / "plan" / "student-management.tfplan").is_file()
        assert (artifact / "plan" / "student-management.reviewed").read_text().startswith(f"{environment} ")
        assert not list(artifact.rglob(".terraform")), "the providers are not part of the reviewed plan"
    # Staging is new: everything is added. Production is the upgrade from the release it runs.
    assert " 0 to change, 0 to replace, 0 to destroy" in delivery.pull_request["staging"].summary
    assert "== student-management: 0 to add" not in delivery.pull_request["production"].summary


def test_merge_applies_the_reviewed_plans_staging_first_then_production(delivery: Delivery) -> None:
    assert list(delivery.deploy) == ["staging", "production"]
    for environment, job in delivery.deploy.items():
        assert job.succeeded, outputs({environment: job})
        assert f"applying the reviewed plan of student-management ({environment})" in job.output()
    # Production's plan was reviewed before staging existed and applied after it: staging changed nothing of
    # production's, so Terraform found the plan current; planned afresh, production has nothing to do.
    after = delivery.production_after_deploy
    assert after is not None and after.returncode == 0, after
    assert "No changes." in after.output, after.output[-3000:]


def test_the_scheduled_drift_run_reports_drift_in_its_environment_only(delivery: Delivery) -> None:
    """A timeout changed by hand in staging: staging's drift job fails naming it; production's finds none."""
    staging, production = delivery.drift["staging"], delivery.drift["production"]
    assert not staging.succeeded, outputs({"staging": staging})
    assert "DRIFT: 1 resource(s) of student-management in staging" in staging.summary, staging.summary
    assert "aws_lambda_function.read-function_" in staging.summary and ": timeout" in staging.summary
    assert summary_of(staging)[0] == "## Drift of staging"
    assert production.succeeded, outputs({"production": production})
    assert "No drift: student-management in production" in production.summary, production.summary


@pytest.mark.parametrize(
    ("attempt", "reason"),
    [
        ("another environment's plan", "the plan in"),
        ("a plan of other code", "this code synthesizes another student-management than the one planned"),
        ("a stale plan", "Saved plan is stale"),
    ],
)
def test_only_the_reviewed_plan_of_the_same_code_and_state_is_applied(
    delivery: Delivery, attempt: str, reason: str
) -> None:
    refused = delivery.refusals[attempt]
    assert refused.returncode != 0, refused.output
    assert reason in refused.output, refused.output[-3000:]


def test_destroying_staging_leaves_production_whole(delivery: Delivery) -> None:
    assert delivery.destroy_staging is not None and delivery.production_after_destroy is not None
    assert delivery.destroy_staging.returncode == 0, delivery.destroy_staging.output[-3000:]
    assert "studentData-staging" not in delivery.tables_after_destroy
    assert "getStudentData-staging" not in delivery.functions_after_destroy
    assert {"studentData", "studentBackupRuns"} <= set(delivery.tables_after_destroy)
    assert {"getStudentData", "insertStudentData", "BackupDynamoDBAndSendEmail"} <= set(
        delivery.functions_after_destroy
    )
    after = delivery.production_after_destroy
    assert after.returncode == 0 and "No changes." in after.output, after.output[-3000:]
