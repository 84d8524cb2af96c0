"""Session fixtures: one synth per deploy target, and a private local emulator.

Loading the provider bindings takes ~20 s, so the app is synthesized once per
target per session, by the real CLI (``cdktf synth``), both targets at once.
The local target is synthesized for this session's own emulator (a free port
and a temporary state directory), so tests never touch a ``make up`` emulator.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("aws", "local")
STACKS = ("state-bootstrap", "student-management")


def tool_env(**extra: str) -> dict[str, str]:
    """The environment of a tool run: no real AWS credentials, project settings on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STUDENT_MGMT_", "DEPLOY_TARGET"))}
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
    port: int
    state_dir: Path

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_bundle(self) -> Path:
        return self.state_dir / "tls" / "ca.pem"

    def env(self) -> dict[str, str]:
        return {
            "STUDENT_MGMT_EMULATOR_PORT": str(self.port),
            "STUDENT_MGMT_EMULATOR_STATE_DIR": str(self.state_dir),
        }


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
def emulator_settings(tmp_path_factory: pytest.TempPathFactory) -> EmulatorSettings:
    return EmulatorSettings(port=free_port(), state_dir=tmp_path_factory.mktemp("emulator"))


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory, emulator_settings: EmulatorSettings) -> dict[str, Synth]:
    base = tmp_path_factory.mktemp("synth")
    runs = {}
    for target in TARGETS:
        env = tool_env(DEPLOY_TARGET=target, **(emulator_settings.env() if target == "local" else {}))
        runs[target] = subprocess.Popen(
            ["npx", "--no-install", "cdktf", "synth", "--output", str(base / target)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    for target, run in runs.items():
        output, _ = run.communicate(timeout=600)
        assert run.returncode == 0, f"cdktf synth (DEPLOY_TARGET={target}) failed:\n{output[-5000:]}"
    return {target: Synth(target, base / target) for target in TARGETS}


@pytest.fixture(scope="session")
def emulator(emulator_settings: EmulatorSettings) -> Iterator[EmulatorSettings]:
    """A fresh moto server for this session, started and stopped by the project's script."""
    script = ROOT / "scripts" / "emulator.sh"
    env = tool_env(**emulator_settings.env())
    subprocess.run([str(script), "start"], check=True, env=env, timeout=120)
    try:
        yield emulator_settings
    finally:
        subprocess.run([str(script), "stop"], check=False, env=env, timeout=60)


def copy_stack(synth: Synth, stack: str, destination: Path) -> Path:
    """A private copy of a synthesized stack directory, for Terraform to work in."""
    target = destination / f"{synth.target}-{stack}"
    # Only the synthesized files: a deploy test may have initialised the original.
    shutil.copytree(synth.stack_dir(stack), target, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    return target
