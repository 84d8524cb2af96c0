"""What the teardown asks of Terraform in the application stack's directory: its state, releases, destroy passes.

A protocol and the real command line, so the tests run the steps against a
fake Terraform that acts on moto's table and buckets as the real one would.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, Protocol, cast

from config.settings import APP_STACK
from local.deploy import PARALLELISM, PROGRESS
from ops.destroy.console import say
from ops.destroy.errors import TeardownError
from ops.destroy.state import State

#: Terraform's lines worth echoing while it destroys.
DESTROY_PROGRESS: Final = re.compile(f"{PROGRESS.pattern}|^Destroy complete!")


@dataclass(frozen=True)
class DestroyRun:
    succeeded: bool
    output: str
    #: Where the whole output is kept.
    log: str


class Terraform(Protocol):
    """What the teardown asks of Terraform in the application stack's directory."""

    def state(self) -> State: ...

    def release(self, addresses: Sequence[str]) -> None: ...

    def destroy(self) -> DestroyRun: ...


class TerraformCli:
    """The real one: ``terraform`` in the synthesized stack directory, its state in the state bucket."""

    def __init__(self, stack_dir: Path, env: dict[str, str], log: Path) -> None:
        self.stack_dir = stack_dir
        self.env = env
        self.log = log

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["terraform", *args], cwd=self.stack_dir, env=self.env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise TeardownError(f"terraform {args[0]} failed in {self.stack_dir}:\n{result.stdout}{result.stderr}")
        return result

    def state(self) -> State:
        return State.parse(json.loads(self._run("show", "-json", "-no-color").stdout or "{}"))

    def release(self, addresses: Sequence[str]) -> None:
        if addresses:
            self._run("state", "rm", "-no-color", *addresses)

    def destroy(self) -> DestroyRun:
        """One ``terraform destroy``: every line into the log, progress lines echoed."""
        process = subprocess.Popen(
            ["terraform", "destroy", "-auto-approve", "-input=false", "-no-color", f"-parallelism={PARALLELISM}"],
            cwd=self.stack_dir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = []
        with self.log.open("a", encoding="utf-8") as log:
            for line in cast(IO[str], process.stdout):  # set: stdout=PIPE
                log.write(line)
                lines.append(line)
                if DESTROY_PROGRESS.search(line):
                    say(f"  [{APP_STACK}] {line.rstrip()}")
        return DestroyRun(process.wait() == 0, "".join(lines), str(self.log))


def error_lines(output: str, limit: int = 40) -> str:
    """Terraform's output from its first error on (or its end)."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Error:")), max(len(lines) - limit, 0))
    return "\n".join(lines[start : start + limit])
