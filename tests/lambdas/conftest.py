"""Fixtures for the function code tests: an emulated account per test, and the functions' logs.

Nothing here needs the network, a server, Terraform or jsii; ``tests/conftest.py``
is not used.
"""

from __future__ import annotations

import json
import logging
import platform
from collections.abc import Iterator
from typing import Any

import botocore
import pytest

from lambdas.common.log import ROOT_LOGGER, JsonFormatter
from tests.lambdas.scenarios import World, aws_world, reset_function_state


def pytest_report_header() -> str:
    # make test runs these tests twice: under requirements.lock's SDK and under the Lambda runtime's (.venv-runtime).
    return f"the functions' SDK: botocore {botocore.__version__} on Python {platform.python_version()}"


@pytest.fixture
def world() -> Iterator[World]:
    """The functions' environment and an emulated account holding the system's resources."""
    with aws_world() as emulated:
        yield emulated


@pytest.fixture(autouse=True)
def _fresh_function_state() -> Iterator[None]:
    # A test that sets its own environment must not inherit clients or settings cached by another.
    reset_function_state()
    yield
    reset_function_state()


@pytest.fixture
def function_logs() -> Iterator[list[dict[str, Any]]]:
    """Every record the functions log during the test, as the JSON object written to CloudWatch."""
    entries: list[dict[str, Any]] = []
    formatter = JsonFormatter()

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            entries.append(json.loads(formatter.format(record)))

    handler = Collect()
    logger = logging.getLogger(ROOT_LOGGER)
    logger.addHandler(handler)
    try:
        yield entries
    finally:
        logger.removeHandler(handler)
