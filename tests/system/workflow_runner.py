"""Runs the steps of the delivery pipeline's GitHub workflows here, in order, as GitHub's runner would.

No GitHub: each job gets a fresh copy of the working tree (its ``actions/checkout``),
each ``run:`` step runs with bash exactly as written (``${{ matrix.* }}``,
``${{ vars.* }}`` and ``${{ env.* }}`` substituted; ``$GITHUB_STEP_SUMMARY``,
``$GITHUB_OUTPUT``, ``$GITHUB_ENV`` are files, as there), artifacts are folders
of this runner. What only GitHub can do is stood in for, and recorded in
``JobRun.stood_in``: the credentials action (the emulator takes any; the roles'
trust is tested on the synthesized identity stack), a step that asks GitHub's
API (``gh``) for the reviewed plans (the runner's own artifact store holds them),
and ``make test`` (the suite running this). Any other action, or an expression
the runner does not know, fails the run: a workflow cannot pass here by using
what the runner skips.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from config.settings import EMULATOR_CREDENTIALS
from tests.conftest import ROOT

#: The environments the project's tools and its Python environment need, linked into every checkout.
LINKED: Final = (".venv", ".venv-checkov", ".venv-runtime", "node_modules", ".build")
#: Actions that need nothing here, and why.
NOTHING_TO_DO: Final = {
    "actions/setup-python": "the runner's Python environment is the project's",
    "actions/setup-node": "the project's node_modules is linked",
    "hashicorp/setup-terraform": "terraform is on PATH",
}
_EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


class WorkflowError(AssertionError):
    """The workflow asks for something this runner cannot do, or a step failed."""


@dataclass
class StepRun:
    name: str
    command: str
    returncode: int
    output: str


@dataclass
class JobRun:
    """One job (one matrix value of it) as it ran: its steps, its summary, what was stood in for."""

    workflow: str
    job: str
    matrix: Mapping[str, str]
    checkout: Path
    steps: list[StepRun] = field(default_factory=list)
    stood_in: list[str] = field(default_factory=list)
    summary: str = ""

    @property
    def succeeded(self) -> bool:
        return all(step.returncode == 0 for step in self.steps)

    def output(self) -> str:
        return "\n".join(
            f"--- {step.name}: {step.command} (exit {step.returncode})\n{step.output}" for step in self.steps
        )


def load(name: str) -> dict[str, Any]:
    """A workflow of ``.github/workflows/``, parsed (PyYAML reads ``on:`` as True: it is put back as "on")."""
    document: dict[Any, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))
    if True in document:
        document["on"] = document.pop(True)
    return document


def matrix_values(job: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every combination of the job's matrix, in the order written (one empty one without a matrix)."""
    matrix = job.get("strategy", {}).get("matrix")
    if not matrix:
        return [{}]
    unknown = set(matrix) - {"env"}
    if unknown:
        raise WorkflowError(f"the runner expands a matrix of 'env' only, not {sorted(unknown)}")
    return [{"env": str(value)} for value in matrix["env"]]


def checkout(destination: Path) -> Path:
    """The working tree's files (tracked and new, not ignored) with their times kept, and the environments linked.

    Times kept: a lock file newer than the installed environment's stamp would make ``make`` install again.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = ROOT / relative
        if source.is_file() and not source.is_symlink():
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for name in LINKED:
        (destination / name).symlink_to(ROOT / name)
    return destination


class Runner:
    """Runs jobs of the workflows in a directory of its own; ``artifacts`` persist between jobs, as in a run."""

    def __init__(self, workdir: Path, env: Mapping[str, str], variables: Mapping[str, str]) -> None:
        self.workdir = workdir
        self.env = dict(env)
        self.variables = dict(variables)
        self.artifacts = workdir / "artifacts"
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self._jobs = 0
        self._lock = threading.Lock()

    def run_matrix(self, workflow: str, job_id: str) -> dict[str, JobRun]:
        """Every value of the job's matrix at once, as GitHub runs them (``fail-fast: false``): by environment."""
        values = matrix_values(load(workflow)["jobs"][job_id])
        with ThreadPoolExecutor(max_workers=len(values)) as pool:
            runs = [pool.submit(self.run_job, workflow, job_id, value) for value in values]
            return {value["env"]: run.result() for value, run in zip(values, runs, strict=True)}

    def run_job(self, workflow: str, job_id: str, matrix: Mapping[str, str] | None = None) -> JobRun:
        document = load(workflow)
        job = document["jobs"][job_id]
        matrix = dict(matrix or {})
        with self._lock:
            self._jobs += 1
            home = self.workdir / f"{self._jobs:02d}-{job_id}-{matrix.get('env', '')}".rstrip("-")
        home.mkdir()
        files = {name: home / name for name in ("summary.md", "output", "env")}
        for path in files.values():
            path.touch()
        run = JobRun(workflow, job_id, matrix, home / "checkout")
        env = {**self.env, **self._values(document.get("env", {}), matrix), **self._values(job.get("env", {}), matrix)}
        env.update(
            GITHUB_STEP_SUMMARY=str(files["summary.md"]),
            GITHUB_OUTPUT=str(files["output"]),
            GITHUB_ENV=str(files["env"]),
            GITHUB_WORKSPACE=str(run.checkout),
            CI="true",
        )
        for number, step in enumerate(job["steps"], 1):
            name = step.get("name") or step.get("uses") or f"step {number}"
            if not self._should_run(step, run):
                continue
            if "uses" in step:
                self._use(step, run, matrix)
            else:
                step_env = {**env, **_github_env(files["env"]), **self._values(step.get("env", {}), matrix)}
                self._run(name, self._substitute(step["run"], matrix, step_env), run, step_env)
        run.summary = files["summary.md"].read_text(encoding="utf-8")
        return run

    # --- steps ------------------------------------------------------------------------------------

    def _should_run(self, step: Mapping[str, Any], run: JobRun) -> bool:
        condition = str(step.get("if", "success()")).strip()
        if condition in ("success()", "${{ success() }}"):
            return run.succeeded
        if condition in ("always()", "${{ always() }}", "!cancelled()", "${{ !cancelled() }}"):
            return True
        if condition in ("failure()", "${{ failure() }}"):
            return not run.succeeded
        raise WorkflowError(f"the runner does not evaluate the condition {condition!r}")

    def _run(self, name: str, command: str, run: JobRun, env: dict[str, str]) -> None:
        if re.search(r"(^|[\s;|&(])gh\s", command):
            run.stood_in.append(f"{name}: GitHub's API (gh); the runner's artifacts hold the reviewed plans")
            return
        if command.strip() == "make test":
            run.stood_in.append(f"{name}: make test is the suite that runs this")
            return
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command],
            cwd=run.checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        run.steps.append(StepRun(name, command, result.returncode, result.stdout + result.stderr))

    def _use(self, step: Mapping[str, Any], run: JobRun, matrix: Mapping[str, str]) -> None:
        action = str(step["uses"]).split("@", 1)[0]
        # Only what the runner reads: an input such as a run id or a token is GitHub's business.
        given = self._values({k: v for k, v in step.get("with", {}).items() if k in ("name", "path")}, matrix)
        if action == "actions/checkout":
            checkout(run.checkout)
        elif action.startswith("./"):
            composite = yaml.safe_load((run.checkout / action / "action.yml").read_text(encoding="utf-8"))
            for inner in composite["runs"]["steps"]:
                self._use(inner, run, matrix)
        elif action == "aws-actions/configure-aws-credentials":
            # As the action does, credentials go into the job's environment: the emulator's (it accepts any).
            with (run.checkout.parent / "env").open("a", encoding="utf-8") as env:
                env.writelines(f"{key}={value}\n" for key, value in EMULATOR_CREDENTIALS.items())
            run.stood_in.append(f"{action}: the emulator's credentials, not the role's (its trust is tested on synth)")
        elif action in NOTHING_TO_DO:
            run.stood_in.append(f"{action}: {NOTHING_TO_DO[action]}")
        elif action == "actions/upload-artifact":
            self._upload(given["name"], given["path"], run.checkout)
        elif action == "actions/download-artifact":
            source = self.artifacts / given["name"]
            if not source.is_dir():
                raise WorkflowError(f"no artifact {given['name']!r} was uploaded before this job")
            shutil.copytree(source, run.checkout / given.get("path", "."), dirs_exist_ok=True)
        else:
            raise WorkflowError(f"the runner does not know the action {action}")

    def _upload(self, name: str, paths: str, checkout_dir: Path) -> None:
        """``actions/upload-artifact``: the files of each path, minus the ``!`` exclusions, under their paths."""
        lines = [line.strip() for line in paths.splitlines() if line.strip()]
        excluded = [line[1:].rstrip("/") for line in lines if line.startswith("!")]
        included = [line.rstrip("/") for line in lines if not line.startswith("!")]
        # As GitHub's: the artifact's root is the included paths' common folder (one folder: the folder itself).
        root = (
            checkout_dir / included[0] if len(included) == 1 and (checkout_dir / included[0]).is_dir() else checkout_dir
        )
        destination = self.artifacts / name
        for pattern in included:
            for source in sorted(checkout_dir.glob(pattern)):
                files = [source] if source.is_file() else [path for path in source.rglob("*") if path.is_file()]
                for file in files:
                    relative = file.relative_to(checkout_dir)
                    if any(relative.match(rule) or _under(relative, rule) for rule in excluded):
                        continue
                    target = destination / file.relative_to(root)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(file, target)
        if not destination.is_dir():
            raise WorkflowError(f"artifact {name!r}: no file matched {paths!r}")

    # --- expressions --------------------------------------------------------------------------------

    def _values(self, block: Mapping[str, Any], matrix: Mapping[str, str]) -> dict[str, str]:
        return {str(key): self._substitute(str(value), matrix, self.env) for key, value in block.items()}

    def _substitute(self, text: str, matrix: Mapping[str, str], env: Mapping[str, str]) -> str:
        def value(match: re.Match[str]) -> str:
            context, _, key = match.group(1).partition(".")
            sources = {"matrix": matrix, "vars": self.variables, "env": env}
            if context not in sources or key not in sources[context]:
                raise WorkflowError(f"the runner does not know the expression ${{{{ {match.group(1)} }}}} in {text!r}")
            return str(sources[context][key])

        return _EXPRESSION.sub(value, text)


def _under(relative: Path, rule: str) -> bool:
    """Whether an exclusion like ``cdktf.out/**/.terraform`` names a folder the file is in."""
    parts = rule.rstrip("/").split("/")
    return parts[-1] in relative.parts[:-1] and relative.parts[0] == parts[0]


def _github_env(path: Path) -> dict[str, str]:
    """Variables earlier steps wrote to ``$GITHUB_ENV`` (``NAME=value`` lines)."""
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line)
    return {key: value for key, value in pairs}
