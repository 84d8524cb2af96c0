"""`make up` as a new user runs it: up, up again, down, up, down, with nothing left behind.

Each run is the real command (``make up`` / ``make down`` from the project
root) on a private emulator port and state directory, so the test never
touches a developer's own ``make up``. The local synth lives in that state
directory, so the project tree is not written to either.
"""

from __future__ import annotations

import json
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from lambdas.common import names
from modules.config import APP_STACK, BOOTSTRAP_STACK
from tests.conftest import ROOT, EmulatorSettings, free_port, run, tool_env

pytestmark = pytest.mark.emulator

SERVER = str(ROOT / "scripts" / "moto_server.py")


@dataclass
class Run:
    command: str
    returncode: int
    output: str

    def ok(self) -> Run:
        assert self.returncode == 0, f"make {self.command} failed:\n{self.output[-6000:]}"
        return self


def make(command: str, emulator: EmulatorSettings, **extra_env: str) -> Run:
    # A new user's make: not a sub-make of `make test` (whose job server it cannot reach).
    env = {
        k: v
        for k, v in tool_env(**emulator.env(), **extra_env).items()
        if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }
    result = run(["make", command], cwd=ROOT, env=env, timeout=900)
    return Run(command, result.returncode, result.stdout + result.stderr)


def live_servers(port: int) -> list[int]:
    """Pids of live (not zombie) processes running this project's moto server on ``port``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            state = next(line for line in (proc / "status").read_text().splitlines() if line.startswith("State:"))
        except (OSError, StopIteration):
            continue
        if "Z" in state.split()[1]:
            continue  # exited; only its exit status remains for a parent to collect
        decoded = [arg.decode(errors="replace") for arg in args]
        if any(arg.endswith("moto_server.py") for arg in decoded) and str(port) in decoded:
            found.append(int(proc.name))
    return found


def port_is_free(port: int) -> bool:
    """Nothing listens on ``port``: a server could bind it (as servers do, past the closed connections' TIME_WAIT)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def assert_nothing_left(emulator: EmulatorSettings) -> None:
    assert live_servers(emulator.port) == []
    assert port_is_free(emulator.port)
    assert not (emulator.state_dir / "moto.pid").exists()
    assert not (emulator.state_dir / "bootstrap.tfstate").exists()
    stray = subprocess.run(["pgrep", "-f", str(emulator.state_dir)], capture_output=True, text=True, check=False)
    assert stray.stdout.strip() == "", f"processes still use {emulator.state_dir}: {stray.stdout}"


def outputs(emulator: EmulatorSettings) -> dict[str, dict[str, object]]:
    deployed: dict[str, dict[str, object]] = json.loads(
        (emulator.state_dir / "cdktf.out" / "outputs.json").read_text(encoding="utf-8")
    )
    return deployed


def test_make_up_twice_down_up_down_leaves_nothing_behind(tmp_path: Path) -> None:
    emulator = EmulatorSettings(port=free_port(), state_dir=tmp_path / "emulator")
    try:
        first = make("up", emulator).ok()
        assert "emulator: starting moto server" in first.output
        assert "synthesized both stacks (DEPLOY_TARGET=local)" in first.output
        server = int((emulator.state_dir / "moto.pid").read_text())
        deployed = outputs(emulator)
        assert deployed[BOOTSTRAP_STACK][names.OUTPUT_STATE_BUCKET] == "student-management-tfstate"
        api_id = deployed[APP_STACK][names.OUTPUT_API_ID]
        site_url = deployed[APP_STACK][names.OUTPUT_SITE_URL]
        assert site_url.startswith("https://") and site_url.endswith(".cloudfront.net")
        assert f"site {site_url}" in first.output

        invalidated = make("invalidate", emulator, DEPLOY_TARGET="local").ok()
        distribution = deployed[APP_STACK][names.OUTPUT_SITE_DISTRIBUTION_ID]
        assert f"of /* on {distribution}" in invalidated.output
        assert "completed" in invalidated.output.splitlines()[-1]

        again = make("up", emulator).ok()
        assert f"already running at {emulator.endpoint} (pid {server}; state kept)" in again.output
        assert "synth skipped" in again.output
        assert f"{BOOTSTRAP_STACK}: unchanged since it was applied to this emulator" in again.output
        assert f"[{APP_STACK}] No changes. Your infrastructure matches the configuration." in again.output
        assert live_servers(emulator.port) == [server]
        assert outputs(emulator)[APP_STACK][names.OUTPUT_API_ID] == api_id

        stopped = make("down", emulator).ok()
        assert f"stopped ({emulator.endpoint}, pid {server})" in stopped.output
        assert_nothing_left(emulator)

        fresh = make("up", emulator).ok()
        assert "emulator: starting moto server" in fresh.output
        assert "synth skipped" in fresh.output  # nothing the synth reads changed
        assert "Apply complete! Resources: 7 added" in fresh.output
        assert int((emulator.state_dir / "moto.pid").read_text()) != server

        make("down", emulator).ok()
        assert_nothing_left(emulator)
    finally:
        make("down", emulator)
