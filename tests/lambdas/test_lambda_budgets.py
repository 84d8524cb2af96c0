"""Time budgets: an AWS service that accepts the connection and never answers cannot outlast the function.

The stalled service is a real TCP server on loopback that accepts every
connection and never writes a byte. The functions' client for that service is
pointed at it with ``AWS_ENDPOINT_URL_<SERVICE>`` (moto's ``before-send``
stubber only answers URLs of AWS domains, so it lets this request through to
the socket), while every other service stays on moto.

Each invocation runs in a thread joined with a limit, so a function that
ignores its budget fails the test at that limit instead of holding the suite
for minutes.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final
from unittest import mock

import pytest

from lambdas.common import aws
from lambdas.get_students import handler as get_students
from lambdas.insert_student import handler as insert_student
from modules.functions import FUNCTIONS, INSERT, READ
from tests.lambdas.scenarios import STUDENT, FakeContext, World, api_event, response_json

TIMEOUTS: Final = {spec.key: spec.timeout_seconds for spec in FUNCTIONS}
#: API Gateway gives up on the integration after this long.
API_GATEWAY_TIMEOUT_S: Final = 29


class StalledEndpoint:
    """Accepts connections on 127.0.0.1 and never answers; closes them all on ``close()``."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        # accept() wakes up now and then to see close(): closing a socket does not interrupt it.
        self._listener.settimeout(0.1)
        self._connections: list[socket.socket] = []
        self._closed = threading.Event()
        self.accepted = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()
        return f"http://{host}:{port}"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._connections.append(connection)
            self.accepted += 1

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for connection in self._connections:
            connection.close()


@pytest.fixture
def stalled() -> Iterator[StalledEndpoint]:
    endpoint = StalledEndpoint()
    try:
        yield endpoint
    finally:
        endpoint.close()


@dataclass(frozen=True)
class LambdaContext(FakeContext):
    """A context with the runtime's clock: the invocation ends ``timeout_s`` after it was created."""

    timeout_s: float = 3.0
    started: float = 0.0

    @classmethod
    def starting_now(cls, timeout_s: float) -> LambdaContext:
        return cls(timeout_s=timeout_s, started=time.monotonic())

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.started + self.timeout_s - time.monotonic()) * 1000))


@dataclass
class Timed:
    response: Any
    seconds: float


def invoke_within(module: Any, event: dict[str, Any], context: object, *, limit_s: float) -> Timed:
    """Invoke the handler; fail if it has not answered after ``limit_s`` seconds (it is left running)."""
    result: list[Any] = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: result.append(module.lambda_handler(event, context)), daemon=True)
    worker.start()
    worker.join(timeout=limit_s)
    elapsed = time.monotonic() - started
    assert result, f"no answer after {elapsed:.1f} s (the limit is {limit_s} s)"
    return Timed(result[0], elapsed)


def insert_event() -> dict[str, Any]:
    return api_event("POST", "/students", body=json.dumps(STUDENT, ensure_ascii=False))


@pytest.mark.parametrize("with_clock", [True, False], ids=["runtime-clock", "configured-timeout"])
def test_insert_answers_201_with_email_not_sent_when_ses_never_answers(
    world: World, stalled: StalledEndpoint, with_clock: bool
) -> None:
    timeout_s = TIMEOUTS[INSERT]
    context = LambdaContext.starting_now(timeout_s) if with_clock else FakeContext()
    environment = {"AWS_ENDPOINT_URL_SES": stalled.url, "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout_s)}
    with mock.patch.dict(os.environ, environment):
        timed = invoke_within(insert_student, insert_event(), context, limit_s=timeout_s)

    assert timed.seconds < min(timeout_s, API_GATEWAY_TIMEOUT_S) - aws.ANSWER_MARGIN_S + 0.5
    assert timed.response["statusCode"] == 201
    body = response_json(timed.response)
    assert body["emailSent"] is False
    assert body["emailError"] == "the e-mail service did not answer in time"
    assert world.item_count() == 1
    assert stalled.accepted >= 1, "the request never reached the stalled endpoint"


@pytest.mark.parametrize("with_clock", [True, False], ids=["runtime-clock", "configured-timeout"])
def test_get_answers_504_when_dynamodb_never_answers(world: World, stalled: StalledEndpoint, with_clock: bool) -> None:
    timeout_s = TIMEOUTS[READ]
    context = LambdaContext.starting_now(timeout_s) if with_clock else FakeContext()
    environment = {"AWS_ENDPOINT_URL_DYNAMODB": stalled.url, "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout_s)}
    with mock.patch.dict(os.environ, environment):
        timed = invoke_within(get_students, api_event("GET", "/students"), context, limit_s=timeout_s)

    assert timed.seconds < min(timeout_s, API_GATEWAY_TIMEOUT_S) - aws.ANSWER_MARGIN_S + 0.5
    assert timed.response["statusCode"] == 504
    assert response_json(timed.response) == {"message": "the database did not answer in time"}
    assert stalled.accepted >= 1, "the request never reached the stalled endpoint"


def test_insert_answers_504_when_dynamodb_never_answers(world: World, stalled: StalledEndpoint) -> None:
    timeout_s = TIMEOUTS[INSERT]
    context = LambdaContext.starting_now(timeout_s)
    with mock.patch.dict(os.environ, {"AWS_ENDPOINT_URL_DYNAMODB": stalled.url}):
        timed = invoke_within(insert_student, insert_event(), context, limit_s=timeout_s)

    assert timed.seconds < timeout_s - aws.ANSWER_MARGIN_S + 0.5
    assert timed.response["statusCode"] == 504
    assert world.sent_messages() == []


def test_no_clock_and_no_configured_timeout_sets_no_deadline() -> None:
    """Outside Lambda with nothing to go by, only the clients' timeouts apply: no guessed 3 s budget."""
    with mock.patch.dict(os.environ, {}, clear=False):
        os.environ.pop("AWS_LAMBDA_FUNCTION_TIMEOUT", None)
        assert aws.deadline_for(FakeContext()) is None
        os.environ["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "15"
        deadline = aws.deadline_for(FakeContext())
        assert deadline is not None and deadline.budget_s == 15 - aws.ANSWER_MARGIN_S
