"""`terraform validate` of every synthesized stack, offline, with the real AWS provider."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import STACKS, TARGETS, Synth
from tests.synth_helpers import assert_valid_terraform

#: `make check` leaves this module to `make test`: terraform validate of every stack.
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("target", TARGETS)
def test_stack_is_valid_terraform(synth: dict[str, Synth], tmp_path: Path, target: str, stack: str) -> None:
    assert_valid_terraform(synth[target], stack, tmp_path)
