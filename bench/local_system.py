"""The private local systems the benchmarks bring up, and the error that stops a benchmark.

``bench.backup`` needs the emulator alone (``local/emulator.sh``), ``bench.api``
the whole local system (``local/up.sh``, what ``make up`` runs: the emulator,
both stacks deployed into it, the local edge). Both run on free ports and a
temporary state directory of their own, so a running ``make up`` is never
touched, and are stopped at the end. Written once here, so the two benchmarks
bring their systems up, and stop them, the same way.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from config.settings import PROJECT_ROOT, AppConfig, load_config
from local.deploy import emulator_client
from tests.conftest import free_port, tool_env


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why."""


def timed(argv: list[str], env: Mapping[str, str], cwd: Path = PROJECT_ROOT) -> float:
    """Seconds ``argv`` took; ``BenchError`` with the end of its output when it fails."""
    started = time.monotonic()
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed in {cwd}:\n{(result.stdout + result.stderr)[-4000:]}")
    return time.monotonic() - started


class PrivateEmulator:
    """``local/emulator.sh`` on a free port and a temporary state directory."""

    def __init__(self, base: Path, *, port: int | None = None, settings: Mapping[str, str] | None = None) -> None:
        # The tests' tool environment: no real AWS credentials, the project's Terraform settings.
        self.env = tool_env(
            STUDENT_MGMT_EMULATOR_PORT=str(port or free_port()),
            STUDENT_MGMT_EMULATOR_STATE_DIR=str(base / "emulator"),
            **(settings or {}),
        )
        self.config: AppConfig = load_config(self.env)

    def script(self, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        """``local/<script> <args>`` from the project root with this system's environment, its output captured."""
        return subprocess.run(
            [str(PROJECT_ROOT / "local" / script), *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )

    def start(self) -> None:
        result = self.script("emulator.sh", "start")
        if result.returncode != 0:
            raise BenchError(f"the emulator did not start:\n{(result.stdout + result.stderr)[-3000:]}")

    def stop(self) -> None:
        self.script("emulator.sh", "stop")

    def client(self, service: str) -> Any:
        return emulator_client(service, self.config)


class LocalSystem(PrivateEmulator):
    """``make up`` on free ports and a temporary state directory, with the benchmark's usage plan limits."""

    def __init__(self, base: Path, *, limits: Mapping[str, str]) -> None:
        ports: set[int] = set()
        while len(ports) < 3:
            ports.add(free_port())
        emulator, site, api = sorted(ports)
        super().__init__(
            base,
            port=emulator,
            settings={
                "DEPLOY_TARGET": "local",
                "STUDENT_MGMT_SITE_PORT": str(site),
                "STUDENT_MGMT_API_PORT": str(api),
                **limits,
            },
        )

    def up(self) -> float:
        """Seconds ``local/up.sh`` took; ``BenchError`` with its output when it fails."""
        started = time.monotonic()
        result = self.script("up.sh")
        if result.returncode != 0:
            raise BenchError(f"local/up.sh failed:\n{(result.stdout + result.stderr)[-4000:]}")
        return time.monotonic() - started

    def stop(self) -> None:
        self.script("edge.sh", "stop")
        super().stop()
