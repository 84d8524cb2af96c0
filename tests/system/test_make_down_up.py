"""`make down`, then `make up` on the same machine, then `make down`: a fresh deploy, and nothing left.

The same check as a user of ``tests/system/test_make_up.py``'s local system, in a module
of its own with a ``make up`` of its own (that module's ``system`` fixture, on
ports of its own): its second full deploy then runs beside that module's tests
instead of after them, which keeps ``make test`` within its time.
"""

from __future__ import annotations

import pytest

from ops.staff_user import STAFF_EMAIL
from tests.system import test_make_up
from tests.system.test_make_up import LocalSystem, assert_nothing_left, make, request

#: The module-scoped fixture: a `make up` of this module's own.
system = test_make_up.system

pytestmark = [pytest.mark.emulator]


def test_down_up_down_leaves_nothing_behind(system: LocalSystem) -> None:
    server = int((system.emulator.state_dir / "moto.pid").read_text())
    stopped = make("down", system.emulator).ok()
    assert f"stopped ({system.emulator.endpoint}, pid {server})" in stopped.output
    assert_nothing_left(system.emulator)

    fresh = make("up", system.emulator).ok()
    assert "emulator: starting moto server" in fresh.output
    assert "synth skipped" in fresh.output  # nothing the synth reads changed
    assert "Apply complete! Resources: 7 added" in fresh.output
    assert request(f"{system.site}/").status == 200
    # A fresh pool, and in it a fresh staff member with a new temporary password.
    assert f"{STAFF_EMAIL} (groups staff, admin), temporary password" in fresh.output
    fresh_key = make("api-key", system.emulator).ok().output.strip()
    system.forget_token()
    assert request(f"{system.api}/students", key=fresh_key, token=system.token()).body["count"] == 0

    make("down", system.emulator).ok()
    assert_nothing_left(system.emulator)
