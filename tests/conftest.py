"""Session fixtures: one synth per deploy target, and a private local emulator.

``make pytest`` runs the tests in five workers (pytest-xdist, a file per
worker at a time): the files that deploy the whole system into an emulator of
their own mostly wait on Terraform and the emulator, while the other workers
run the rest. Work every worker needs once (the synth of both targets, the
emulator's port and state directory) is done by the first worker that asks,
under a file lock, and read by the others. The synth is the project's own
(``pipeline/synth.py``, what ``make synth`` runs), for both targets at once.
The local target is synthesized for this session's own emulator (a free port
and a temporary state directory), so tests never touch a ``make up`` emulator.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from config.settings import (
    APP_STACK,
    BOOTSTRAP_STACK,
    DELIVERY_STACK,
    EMULATOR_CREDENTIALS,
    ENV_ENGINE,
    ENV_ENVIRONMENT,
    AppConfig,
    load_config,
)
from engine import choice, provider_bindings
from local.deploy import emulator_client

#: The engine this run was asked for (``CDK_ENGINE``, else config.toml's ``cdk_engine``): its environment must be
#: installed for tests/engine/test_engines.py, which holds CDK Terrain's synth to cdktf's.
REQUESTED_ENGINE = choice.chosen()
# Everything else builds, synthesizes and snapshots with cdktf, the default engine (the snapshots are its JSON):
# in process (.venv has cdktf only) and in the tools the tests run, which inherit this environment.
os.environ[ENV_ENGINE] = "cdktf"

# As main.py does before any construct is imported: the provider bindings load on demand. Without it the first
# test module that imports a construct loads all 2,212 binding modules, ~13 s in every worker's collection. The
# functions' runtime environment (.venv-runtime, for tests/lambdas) has no bindings, and needs none.
if importlib.util.find_spec(choice.chosen().bindings) is not None:
    provider_bindings.install()

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("aws", "local")
STACKS = (BOOTSTRAP_STACK, APP_STACK)
Shared = TypeVar("Shared")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The emulator deploys first: under ``--dist loadfile --no-loadscope-reorder`` (make pytest)
    each of their files then starts at once on a worker of its own."""
    items.sort(key=lambda item: item.get_closest_marker("emulator") is None)


def tool_env(**extra: str) -> dict[str, str]:
    """The environment of a tool run: no real AWS credentials, project settings on."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "STUDENT_MGMT_", "DEPLOY_TARGET"))
        # The suite's own make (make test, make check) is not the tools': its flags and jobserver stay with it.
        and k not in (ENV_ENVIRONMENT, "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")
    }
    env.update(
        TF_CLI_CONFIG_FILE=str(ROOT / ".build" / "terraform.rc"),
        CHECKPOINT_DISABLE="1",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1",
    )
    env.update(extra)
    return env


@dataclass(frozen=True)
class EmulatorSettings:
    """This session's emulator: its port and state directory, passed to the tools through the environment."""

    port: int
    state_dir: Path
    #: The local edge's ports; None keeps the configuration's (the session synth's local
    #: target then admits the default site origin, as a user's does).
    site_port: int | None = None
    api_port: int | None = None

    @functools.cached_property
    def config(self) -> AppConfig:
        """The configuration the tools read with ``env()`` (and the project's config.toml), loaded once."""
        return load_config(environ=self.env())

    @property
    def endpoint(self) -> str:
        return self.config.emulator_endpoint

    @property
    def ca_bundle(self) -> Path:
        return self.config.emulator_ca_bundle

    def client(self, service: str) -> Any:
        """A boto3 client of this emulator, with its CA and the emulator's (non-secret) credentials."""
        return emulator_client(service, self.config)

    def env(self) -> dict[str, str]:
        env = {
            "STUDENT_MGMT_EMULATOR_PORT": str(self.port),
            "STUDENT_MGMT_EMULATOR_STATE_DIR": str(self.state_dir),
        }
        if self.site_port is not None:
            env["STUDENT_MGMT_SITE_PORT"] = str(self.site_port)
        if self.api_port is not None:
            env["STUDENT_MGMT_API_PORT"] = str(self.api_port)
        return env

    def deploy_env(self) -> dict[str, str]:
        """A tool run's environment for deploying into, or planning against, this emulator: the local target, its
        settings and its (non-secret) credentials, as ``make up`` gives its Terraform."""
        return tool_env(DEPLOY_TARGET="local", **EMULATOR_CREDENTIALS, **self.env())


@dataclass
class Synth:
    """The synthesized output of one deploy target."""

    target: str
    outdir: Path
    _stacks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def stack_dir(self, stack: str) -> Path:
        return self.outdir / "stacks" / stack

    def stack(self, stack: str) -> dict[str, Any]:
        if stack not in self._stacks:
            self._stacks[stack] = json.loads((self.stack_dir(stack) / "cdk.tf.json").read_text(encoding="utf-8"))
        return self._stacks[stack]


def run(
    argv: list[str], *, cwd: Path, env: dict[str, str], timeout: int = 300, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """A tool run whose output the test reads: text, captured, never raising on failure."""
    return subprocess.run(
        argv, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=False, timeout=timeout
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A directory every worker of this test run sees (the run's base temp)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


def once(directory: Path, name: str, make: Callable[[], Shared]) -> Shared:
    """``make()`` run by the first worker that asks; the others wait and read its JSON result."""
    result = directory / f"{name}.json"
    with (directory / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result.exists():
            result.write_text(json.dumps(make()), encoding="utf-8")
        value: Shared = json.loads(result.read_text(encoding="utf-8"))
        return value


@pytest.fixture(scope="session")
def emulator_settings(shared_dir: Path) -> EmulatorSettings:
    settings = once(
        shared_dir, "emulator-settings", lambda: {"port": free_port(), "state_dir": str(shared_dir / "emulator")}
    )
    return EmulatorSettings(port=int(str(settings["port"])), state_dir=Path(str(settings["state_dir"])))


def synthesize_in_parallel(base: Path, settings: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """Each named configuration synthesized by ``pipeline/synth.py`` (what ``make synth`` runs) into
    ``base/<name>``, all at once; ``settings`` are each run's variables on top of ``tool_env``'s. Each one's
    output directory and what its synth printed (``outdir``, ``stdout``, ``stderr``)."""
    runs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "pipeline.synth", "--force", "--outdir", str(base / name)],
            cwd=ROOT,
            env=tool_env(**variables),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, variables in settings.items()
    }
    results = {}
    for name, process in runs.items():
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, f"synth {name} ({dict(settings[name])}) failed:\n{(stdout + stderr)[-5000:]}"
        results[name] = {"outdir": str(base / name), "stdout": stdout, "stderr": stderr}
    return results


def target_settings(emulator: EmulatorSettings) -> dict[str, dict[str, str]]:
    """Each target's variables for a synth: the local target's stacks carry the emulator's settings."""
    return {target: {"DEPLOY_TARGET": target, **(emulator.env() if target == "local" else {})} for target in TARGETS}


def synthesize(base: Path, emulator: EmulatorSettings) -> dict[str, str]:
    """Both targets synthesized in parallel; the output directory of each."""
    return {target: run["outdir"] for target, run in synthesize_in_parallel(base, target_settings(emulator)).items()}


@pytest.fixture(scope="session")
def synth(shared_dir: Path, emulator_settings: EmulatorSettings) -> dict[str, Synth]:
    outdirs = once(shared_dir, "synth", lambda: synthesize(shared_dir / "synth", emulator_settings))
    return {target: Synth(target, Path(outdir)) for target, outdir in outdirs.items()}


#: Configuration variants of the aws target (settings on top of the checked-in configuration),
#: synthesized once per session for tests/modules/test_variants.py and the security gates.
SITE_CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
PROTECTED_SITE = {
    "STUDENT_MGMT_SITE_DOMAIN_NAME": "students.example.org",
    "STUDENT_MGMT_SITE_CERTIFICATE_ARN": SITE_CERTIFICATE,
    "STUDENT_MGMT_SITE_WAF": "true",
    "STUDENT_MGMT_SITE_ACCESS_LOGS": "true",
}
VARIANTS = {
    "edge": {"STUDENT_MGMT_API_ENDPOINT_TYPE": "EDGE"},
    "unmanaged-account": {"STUDENT_MGMT_MANAGE_API_GATEWAY_ACCOUNT": "false"},
    "suffix": {"STUDENT_MGMT_NAME_SUFFIX": "abc123"},
    # The environments (issue 23): production is the tutorial's system (the aws target's default), staging
    # shares its account under names of its own.
    "production": {"ENV": "production"},
    "staging": {"ENV": "staging"},
    # Every optional protection of the site on: a custom domain, AWS WAF, access logs.
    "protected-site": PROTECTED_SITE,
    # The account's delivery identity (tests/modules/test_delivery_identity.py), on the site with every optional
    # resource and a name suffix: its apply role is held to every name the application stack can give.
    "delivery": {
        **PROTECTED_SITE,
        "STUDENT_MGMT_NAME_SUFFIX": "abc123",
        "STUDENT_MGMT_GITHUB_REPOSITORY": "example-school/student-management",
    },
}
#: The stacks of each variant that its snapshots hold: the two of every configuration; the delivery variant's
#: delivery identity only (its other stacks are the protected site's with the suffix: test_delivery_identity.py).
VARIANT_STACKS = {name: (DELIVERY_STACK,) if name == "delivery" else STACKS for name in VARIANTS}


def synthesize_variants(base: Path) -> dict[str, str]:
    """Every variant synthesized for aws, in parallel; the output directory of each."""
    settings = {name: {"DEPLOY_TARGET": "aws", **variables} for name, variables in VARIANTS.items()}
    return {name: run["outdir"] for name, run in synthesize_in_parallel(base, settings).items()}


@pytest.fixture(scope="session")
def variants(shared_dir: Path) -> dict[str, Synth]:
    outdirs = once(shared_dir, "variants", lambda: synthesize_variants(shared_dir / "variants"))
    return {name: Synth("aws", Path(outdir)) for name, outdir in outdirs.items()}


@pytest.fixture(scope="session")
def emulator(emulator_settings: EmulatorSettings) -> Iterator[EmulatorSettings]:
    """A fresh moto server for this session, started and stopped by the project's script."""
    script = ROOT / "local" / "emulator.sh"
    env = tool_env(**emulator_settings.env())
    subprocess.run([str(script), "start"], check=True, env=env, timeout=120)
    try:
        yield emulator_settings
    finally:
        subprocess.run([str(script), "stop"], check=False, env=env, timeout=60)


@contextlib.contextmanager
def private_emulator(state_dir: Path) -> Iterator[EmulatorSettings]:
    """A moto server of the caller's own on a free port, started and stopped by the project's script.

    For a test module that needs a server but no deploy: the session's emulator
    is shared by every test worker, and whichever ends first stops it.
    """
    settings = EmulatorSettings(port=free_port(), state_dir=state_dir)
    script = str(ROOT / "local" / "emulator.sh")
    env = tool_env(**settings.env())
    started = run([script, "start"], cwd=ROOT, env=env, timeout=120)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield settings
    finally:
        run([script, "stop"], cwd=ROOT, env=env, timeout=60)


def copy_stack(synth: Synth, stack: str, destination: Path) -> Path:
    """A private copy of a synthesized stack directory, for Terraform to work in."""
    target = destination / f"{synth.target}-{stack}"
    # Only the synthesized files: a deploy test may have initialised the original.
    shutil.copytree(synth.stack_dir(stack), target, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    return target
