"""The local system's commands (``ops/local_system.py``) when it is not running: one line naming ``make up``.

Run as ``make emails`` runs it (``python -m ops.emails``, no ``ENV``: the local environment), with a state
directory ``make up`` never wrote to and a port nothing listens on, so no emulator of the session is reached.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import ROOT, free_port, run, tool_env


def test_a_local_command_without_the_local_system_says_run_make_up_in_one_line(tmp_path: Path) -> None:
    state_dir = tmp_path / "emulator"
    state_dir.mkdir()
    env = tool_env(STUDENT_MGMT_EMULATOR_STATE_DIR=str(state_dir), STUDENT_MGMT_EMULATOR_PORT=str(free_port()))
    env.pop("ENV", None)
    done = run([sys.executable, "-m", "ops.emails"], cwd=ROOT, env=env, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"error: the local system is not running (no emulator state in {state_dir}): run `make up`"
    ]
    assert done.stdout == ""
