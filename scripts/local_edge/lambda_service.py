"""Lambda's ``Invoke`` API, for the deployed functions' own calls: what moto cannot do without Docker.

The backup function answers ``POST /backup`` by invoking itself asynchronously
(``InvocationType=Event``). Its workers get ``AWS_ENDPOINT_URL_LAMBDA`` pointing
here (``functions.worker_environment``), so that call reaches the edge, which
does what the Lambda service does:

- ``POST /2015-03-31/functions/<name or ARN>/invocations`` resolves the
  function in the emulator (a function that is not deployed is a 404
  ``ResourceNotFoundException``, as in AWS);
- ``RequestResponse`` (the default) runs it and answers 200 with its result,
  or with Lambda's error and ``X-Amz-Function-Error: Unhandled``;
- ``Event`` answers 202 at once and runs it in the background; an invocation
  that fails is retried ``MAX_RETRY_ATTEMPTS`` times (Lambda's default) and then,
  if the function has a dead-letter queue deployed, its event is sent there with
  the attributes Lambda adds (``RequestID``, ``ErrorCode``, ``ErrorMessage``);
- ``DryRun`` answers 204.

The schedule's target takes the same asynchronous path (``invoke_async``): the
edge's ``POST /_edge/invoke/<name>``, which ``make backup-now`` calls, is
EventBridge Scheduler handing the event to Lambda, and ``status`` answers what
became of it (``GET /_edge/invocations/<request id>``).

Differences from AWS: the retries come after ``RETRY_DELAYS_S`` (seconds, not
Lambda's one and two minutes); the caller's right to invoke
(``lambda:InvokeFunction`` in its role) is not checked (each worker signs with
its role's credentials, but the emulator evaluates no policy); and the dead
letter is sent with the emulator's credentials, not the execution role's.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from werkzeug.wrappers import Request, Response

from scripts.deploy_local import emulator_client
from scripts.local_edge.deployment import Deployment, Function, NotDeployed
from scripts.local_edge.functions import Functions, Invocation

#: The path of Lambda's Invoke operation (API version 2015-03-31).
INVOKE_PATH: Final = re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/invocations$")
#: Lambda retries a failed asynchronous invocation twice by default.
MAX_RETRY_ATTEMPTS: Final = 2
#: Seconds before each retry (Lambda waits about one, then two minutes).
RETRY_DELAYS_S: Final = (1.0, 2.0)
#: Seconds past the function's timeout a synchronous invoke waits for the worker's answer.
GRACE_SECONDS: Final = 5
#: Asynchronous invocations whose outcome ``status`` can still tell (the oldest are forgotten).
KEPT_OUTCOMES: Final = 100


@dataclass
class AsyncOutcome:
    """What became of one asynchronous invocation: its attempts, its last answer, where its event went."""

    function: str
    state: str = "running"  # then "succeeded" or "failed"
    attempts: int = 0
    payload: str | None = None
    error: Mapping[str, str] | None = None
    dead_letter: str | None = None
    notes: list[str] = field(default_factory=list)

    def as_json(self, request_id: str) -> dict[str, Any]:
        return {
            "requestId": request_id,
            "function": self.function,
            "state": self.state,
            "attempts": self.attempts,
            "result": json.loads(self.payload) if self.payload is not None else None,
            "error": dict(self.error) if self.error else None,
            "deadLetterQueue": self.dead_letter,
        }


class LambdaService:
    """Answers Invoke requests with the edge's workers; logs through ``note``."""

    def __init__(self, deployment: Deployment, functions: Functions, note: Callable[[str], None]) -> None:
        self._deployment = deployment
        self._functions = functions
        self._note = note
        self._sqs = emulator_client("sqs", deployment.config)
        self._outcomes: OrderedDict[str, AsyncOutcome] = OrderedDict()
        self._outcomes_lock = threading.Lock()

    def handles(self, request: Request) -> bool:
        return request.method == "POST" and INVOKE_PATH.match(request.path) is not None

    def handle(self, request: Request) -> tuple[Response, str | None]:
        """The answer to one Invoke request, and the name of the function it ran (if any)."""
        match = INVOKE_PATH.match(request.path)
        assert match is not None  # noqa: S101 - handles() was asked first
        kind = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        try:
            function = self._deployment.function(match.group("function"))
        except NotDeployed as error:
            return _error(404, "ResourceNotFoundException", str(error)), None
        try:
            event = json.loads(request.get_data() or b"{}")
        except ValueError:
            return _error(400, "InvalidRequestContentException", "Could not parse request body into json"), None
        if kind == "DryRun":
            return Response(status=204), function.name
        if kind == "Event":
            request_id = self.invoke_async(function, event)
            return Response(status=202, headers={"x-amzn-RequestId": request_id}), function.name
        if kind != "RequestResponse":
            return _error(400, "InvalidParameterValueException", f"invalid InvocationType {kind!r}"), None
        invocation = self._functions.invoke(function, event, str(uuid.uuid4())).result(
            timeout=function.timeout_seconds + GRACE_SECONDS
        )
        headers = {"X-Amz-Executed-Version": "$LATEST"}
        if invocation.error is not None:
            headers["X-Amz-Function-Error"] = "Unhandled"
            body = json.dumps(invocation.error)
        else:
            body = invocation.payload or "null"  # the runtime's own encoding, passed on as Lambda does
        return Response(body, 200, headers=headers, content_type="application/json"), function.name

    def invoke_async(self, function: Function, event: Any) -> str:
        """Queue an asynchronous invocation, as Lambda does for ``Event``; its request ID, for ``status``."""
        request_id = str(uuid.uuid4())
        with self._outcomes_lock:
            self._outcomes[request_id] = AsyncOutcome(function.name)
            while len(self._outcomes) > KEPT_OUTCOMES:
                self._outcomes.popitem(last=False)
        threading.Thread(
            target=self._run_async, args=(function, event, request_id), name=f"async-{function.name}", daemon=True
        ).start()
        return request_id

    def status(self, request_id: str) -> dict[str, Any] | None:
        """What became of an asynchronous invocation (None: unknown, or long forgotten)."""
        with self._outcomes_lock:
            outcome = self._outcomes.get(request_id)
            return outcome.as_json(request_id) if outcome is not None else None

    def _run_async(self, function: Function, event: Any, request_id: str) -> None:
        outcome = self._outcomes[request_id]
        invocation = Invocation()
        for attempt in range(1 + MAX_RETRY_ATTEMPTS):
            if attempt:
                time.sleep(RETRY_DELAYS_S[attempt - 1])
                self._note(f"async {function.name} {request_id}: retry {attempt} of {MAX_RETRY_ATTEMPTS}")
            invocation = self._functions.invoke(function, event, request_id).result(
                timeout=function.timeout_seconds + GRACE_SECONDS
            )
            outcome.attempts = attempt + 1
            if invocation.error is None:
                outcome.payload, outcome.state = invocation.payload, "succeeded"
                return
            outcome.error = invocation.error
        error = invocation.error or {}
        self._note(f"async {function.name} {request_id}: failed after {1 + MAX_RETRY_ATTEMPTS} attempts")
        if function.dead_letter_target:
            outcome.dead_letter = self._dead_letter(function, event, request_id, error)
        outcome.state = "failed"

    def _dead_letter(self, function: Function, event: Any, request_id: str, error: Mapping[str, str]) -> str | None:
        """Send the event to the function's dead-letter queue; the queue's name, or None when it failed."""
        queue_name = function.dead_letter_target.rsplit(":", 1)[-1]
        try:
            queue_url = self._sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
            self._sqs.send_message(
                QueueUrl=queue_url,
                MessageBody=json.dumps(event),
                MessageAttributes={
                    "RequestID": {"DataType": "String", "StringValue": request_id},
                    "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                    "ErrorMessage": {"DataType": "String", "StringValue": str(error.get("errorMessage", ""))[:256]},
                },
            )
        except Exception as failure:  # a lost dead letter is logged; the edge goes on
            self._note(f"async {function.name} {request_id}: could not reach its dead-letter queue: {failure}")
            return None
        self._note(f"async {function.name} {request_id}: event sent to the dead-letter queue {queue_name}")
        return queue_name


def _error(status: int, kind: str, message: str) -> Response:
    return Response(
        json.dumps({"Type": "User", "message": message}),
        status,
        headers={"x-amzn-ErrorType": kind},
        content_type="application/json",
    )
