"""Lambda's ``Invoke`` API, for the deployed functions' own calls: what moto cannot do without Docker.

The backup function answers ``POST /backup`` by invoking itself asynchronously
(``InvocationType=Event``). Its workers get ``AWS_ENDPOINT_URL_LAMBDA`` pointing
here (``worker.worker_environment``), so that call reaches the edge, which
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

Every call is authorized as Lambda authorizes it: the caller's credentials
(a worker's: its role session) must be allowed ``lambda:InvokeFunction`` on the
function by its identity policies or the function's resource policy; the
emulator decides (``Deployment.authorize``, the evaluator of
``local/emulator/iam/``). A refused call is 403 ``AccessDeniedException``
and runs nothing. The dead letter is sent with the function's execution role's
credentials, as Lambda sends it: a role without ``sqs:SendMessage`` on the queue
loses it (logged).

The schedule (``deliver``) is EventBridge Scheduler: the edge's ``POST
/_edge/schedules/<name>``, which ``make backup-now`` calls, reads the deployed
schedule, assumes the schedule's role (its trust policy must let
``scheduler.amazonaws.com`` assume it for this account), and invokes the target
with that role's credentials, so the role needs ``lambda:InvokeFunction`` on
it. A delivery that is refused is retried as the schedule's retry policy says,
then sent to the schedule's dead-letter queue with the role's credentials (and
the attributes Scheduler adds). A delivered event takes Lambda's asynchronous
path, and ``status`` answers what became of it (``GET /_edge/invocations/<request id>``).

Differences from AWS: the retries come after ``RETRY_DELAYS_S`` (seconds, not
Lambda's one and two minutes, nor Scheduler's back-off).
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

from local.edge.awslambda.code import CodeError
from local.edge.awslambda.functions import Functions
from local.edge.awslambda.roles import SCHEDULER_PRINCIPAL, RoleCredentials, RoleSessions, role_client
from local.edge.awslambda.worker import Invocation
from local.edge.deployment.awslambda import Function
from local.edge.deployment.errors import NotDeployed
from local.edge.deployment.iam import Authorization
from local.edge.deployment.reader import Deployment
from local.edge.deployment.scheduler import Schedule

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
#: The access key and region of a SigV4 ``Authorization`` header.
_CREDENTIAL: Final = re.compile(r"Credential=([^/,\s]+)/")


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

    def __init__(
        self,
        deployment: Deployment,
        functions: Functions,
        note: Callable[[str], None],
        sessions: RoleSessions | None = None,
    ) -> None:
        self._deployment = deployment
        self._functions = functions
        self._note = note
        self._sessions = sessions or RoleSessions.of(deployment.config)
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
        refused = self._refused(request, function)
        if refused is not None:
            return refused, None
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

    def _refused(self, request: Request, function: Function) -> Response | None:
        """403 unless the caller's credentials may invoke the function (the emulator's IAM decides)."""
        match = _CREDENTIAL.search(request.headers.get("Authorization", ""))
        if match is None:
            return _error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        decision = self._may_invoke(match.group(1), request.headers.get("X-Amz-Security-Token", ""), function)
        if decision.allowed:
            return None
        self._note(f"lambda: {decision.code}: {decision.message}")
        return _error(403, "AccessDeniedException", decision.message)

    def _may_invoke(self, access_key_id: str, session_token: str, function: Function) -> Authorization:
        """The emulator's IAM decision on ``lambda:InvokeFunction`` of the function by these credentials."""
        return self._deployment.authorize(
            access_key_id=access_key_id,
            session_token=session_token,
            action="lambda:InvokeFunction",
            resource=function.arn,
        )

    def invoke_async(self, function: Function, event: Any) -> str:
        """Queue an asynchronous invocation, as Lambda does for ``Event``; its request ID, for ``status``."""
        request_id = self._outcome(function.name)
        threading.Thread(
            target=self._run_async, args=(function, event, request_id), name=f"async-{function.name}", daemon=True
        ).start()
        return request_id

    def deliver(self, schedule: Schedule) -> str:
        """What EventBridge Scheduler does when the schedule fires; the request ID, for ``status``."""
        function = self._deployment.function(schedule.target_arn)
        event = json.loads(schedule.input)
        request_id = self._outcome(function.name)
        threading.Thread(
            target=self._deliver,
            args=(schedule, function, event, request_id),
            name=f"schedule-{schedule.name}",
            daemon=True,
        ).start()
        return request_id

    def _outcome(self, function_name: str) -> str:
        request_id = str(uuid.uuid4())
        with self._outcomes_lock:
            self._outcomes[request_id] = AsyncOutcome(function_name)
            while len(self._outcomes) > KEPT_OUTCOMES:
                self._outcomes.popitem(last=False)
        return request_id

    def _deliver(self, schedule: Schedule, function: Function, event: Any, request_id: str) -> None:
        """Invoke the target as the schedule's role; refused deliveries are retried, then dead-lettered."""
        outcome = self._outcomes[request_id]

        def as_schedule_role() -> RoleCredentials:
            user = f"schedule {schedule.name}"
            return self._sessions.assume_role(
                schedule.role_arn, service=SCHEDULER_PRINCIPAL, session=request_id, user=user
            )

        error: dict[str, str] = {}
        for attempt in range(1 + min(schedule.max_retries, MAX_RETRY_ATTEMPTS)):
            if attempt:
                time.sleep(RETRY_DELAYS_S[attempt - 1])
            try:
                credentials = as_schedule_role()
            except CodeError as failure:
                error = {"errorType": "AccessDeniedException", "errorMessage": str(failure)}
                continue
            decision = self._may_invoke(credentials.access_key_id, credentials.session_token, function)
            if decision.allowed:
                self._run_async(function, event, request_id)
                return
            error = {"errorType": "AccessDeniedException", "errorMessage": decision.message}
        self._note(f"schedule {schedule.name}: not delivered to {function.name}: {error['errorMessage']}")
        outcome.error, outcome.attempts = error, 0
        if schedule.dead_letter_arn:
            outcome.dead_letter = self._send_dead_letter(
                schedule.dead_letter_arn,
                event,
                as_schedule_role,
                {
                    "ERROR_CODE": error["errorType"],
                    "ERROR_MESSAGE": error["errorMessage"][:256],
                    "TARGET_ARN": function.arn,
                    "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
                },
                what=f"schedule {schedule.name}",
            )
        outcome.state = "failed"

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
            outcome.dead_letter = self._send_dead_letter(
                function.dead_letter_target,
                event,
                lambda: self._functions.credentials(function),
                {"RequestID": request_id, "ErrorCode": "200", "ErrorMessage": str(error.get("errorMessage", ""))[:256]},
                what=f"async {function.name} {request_id}",
            )
        outcome.state = "failed"

    def _send_dead_letter(
        self,
        queue_arn: str,
        event: Any,
        credentials: Callable[[], RoleCredentials],
        attributes: Mapping[str, str],
        *,
        what: str,
    ) -> str | None:
        """Send an event to a dead-letter queue with a role's credentials; the queue's name, or None when lost.

        The queue's URL is made from its ARN, as the service does: the role needs
        ``sqs:SendMessage`` on it and nothing else.
        """
        _, _, _, region, account, queue_name = queue_arn.split(":", 5)
        try:
            sqs = role_client("sqs", self._deployment.config, credentials())
            sqs.send_message(
                QueueUrl=f"https://sqs.{region}.amazonaws.com/{account}/{queue_name}",
                MessageBody=json.dumps(event),
                MessageAttributes={
                    name: {"DataType": "Number" if value.isdigit() else "String", "StringValue": value}
                    for name, value in attributes.items()
                },
            )
        except Exception as failure:  # a lost dead letter is logged; the edge goes on
            self._note(f"{what}: the event could not be sent to the dead-letter queue {queue_name}: {failure}")
            return None
        self._note(f"{what}: event sent to the dead-letter queue {queue_name}")
        return queue_name


def _error(status: int, kind: str, message: str) -> Response:
    return Response(
        json.dumps({"Type": "User", "message": message}),
        status,
        headers={"x-amzn-ErrorType": kind},
        content_type="application/json",
    )
