"""Lambda: a repeated ``CreateFunction``, dead-letter queues, and the route that hands out a deployed zip.

``GET /_emulator/lambda-code/<region>/<name>`` answers a function's deployed
zip (moto's ``GetFunction`` names a location it does not serve), which the
local edge runs.

Repeated CreateFunction. moto answers any ``CreateFunction`` for a name that
exists with 409 ``ResourceConflictException``. Under load the AWS provider's
create reached the emulator twice (the transport repeated it after the first
had succeeded); the provider retries a 409 for 5 minutes and then fails the
apply, although the function it asked for exists. A create repeated after the
first succeeded is the same function, so the emulator answers it as created:
201 with the answer the first create got. The patch sits in moto's response
handler (``LambdaResponse.create_function``, where moto raises the 409), and
applies only when the request is the same in substance (every field it
carries; the zip compared by its SHA-256) as the create that made the function,
and the function has not changed since (configuration, tags, reserved
concurrency). Any other create for an existing name still gets moto's 409, as in
AWS. Creates are serialised so that two identical ones racing cannot both
create.

Dead-letter queues. moto ignores a function's ``DeadLetterConfig`` (in
``CreateFunction`` and ``UpdateFunctionConfiguration``) and never answers one,
so every plan after an apply wanted to add it again. The patches keep the
configuration that was sent (a ``TargetArn`` of ``""`` removes it, as in AWS)
and answer it in the function's configuration. Nothing is ever sent to the
queue: the emulator invokes no function.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import functools
import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from moto.awslambda.exceptions import InvalidParameterValueException, UnknownFunctionException
from moto.awslambda.models import LambdaFunction, lambda_backends
from moto.awslambda.responses import LambdaResponse
from moto.core.models import DEFAULT_ACCOUNT_ID

from local.emulator.iam.decision import role_may
from local.emulator.wsgi import answer

LAMBDA_LOG = logging.getLogger("moto_server.lambda")
#: ``GET /_emulator/lambda-code/<region>/<function name>``: the function's deployed zip. Like the
#: health route, it cannot shadow an S3 path-style request (bucket names have no ``_``).
LAMBDA_CODE_PATH: Final = "/_emulator/lambda-code/"


def function_code(region_and_name: str, start_response: Any) -> list[bytes]:
    """The zip a function was deployed with, as moto keeps it: what the local edge runs.

    moto's ``GetFunction`` names a code location on an S3 host it does not
    serve; this route hands out the same bytes, whose SHA-256 the caller checks
    against the function's ``CodeSha256``.
    """
    region, _, name = region_and_name.partition("/")
    try:
        function = lambda_backends[DEFAULT_ACCOUNT_ID][region].get_function(name, None)
    except (UnknownFunctionException, KeyError):
        return answer(start_response, "404 Not Found", "application/json", b'{"message": "no such function"}')
    return answer(start_response, "200 OK", "application/zip", bytes(function.code_bytes))


# --- repeated CreateFunction -------------------------------------------------

# Kept on moto's function object, so it goes with the function (delete, reset).
_CREATION_ATTRIBUTE = "_student_mgmt_creation"
_CREATE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Creation:
    """What made a function: the create request, the function it made, moto's answer."""

    request: str
    function: str
    answer: Any


def function_name(request: dict[str, Any]) -> str:
    """The name a create request names, as moto reads it (a name or an ARN)."""
    return str(request["FunctionName"]).rsplit(":", 1)[-1]


def canonical_request(request: dict[str, Any]) -> str:
    """The request in substance: every field it carries, key order aside, the zip by its digest."""
    canonical = copy.deepcopy(request)
    canonical["FunctionName"] = function_name(request)
    code = canonical.get("Code")
    if isinstance(code, dict) and isinstance(code.get("ZipFile"), str):
        # Not base64: compared as sent.
        with contextlib.suppress(binascii.Error, ValueError):
            code["ZipFile"] = "sha256:" + hashlib.sha256(base64.b64decode(code["ZipFile"])).hexdigest()
    return json.dumps(canonical, sort_keys=True, default=str)


def function_state(function: Any) -> str:
    """What a later change to the function would change."""
    state = {
        "configuration": function.get_configuration(),
        "tags": function.tags,
        "reserved_concurrency": function.reserved_concurrency,
    }
    return json.dumps(state, sort_keys=True, default=str)


_moto_create_function = LambdaResponse.create_function


def create_function(self: LambdaResponse) -> Any:
    request = self.json_body
    name = function_name(request)
    with _CREATE_LOCK:
        try:
            existing = self.backend.get_function(name, None)
        except UnknownFunctionException:
            existing = None
        if existing is None:
            # moto mutates the spec it is given (Code gains UUID and S3Key), so the
            # request is recorded from its own parse of the body.
            status, headers, answer = _moto_create_function(self)
            created = self.backend.get_function(name, None)
            setattr(created, _CREATION_ATTRIBUTE, Creation(canonical_request(request), function_state(created), answer))
            return status, headers, answer
        creation = getattr(existing, _CREATION_ATTRIBUTE, None)
        if (
            isinstance(creation, Creation)
            and creation.request == canonical_request(request)
            and creation.function == function_state(existing)
        ):
            # A warning, so that it shows in moto.log without any logging set-up.
            LAMBDA_LOG.warning("CreateFunction %s repeated unchanged: answered as created", name)
            return 201, {"status": 201}, creation.answer
        return _moto_create_function(self)  # moto's 409 ResourceConflictException


# --- dead-letter queues ---------------------------------------------------------

# Kept on moto's function object, so it goes with the function (delete, reset).
_DEAD_LETTER_ATTRIBUTE = "_student_mgmt_dead_letter_config"


def _set_dead_letter_config(function: Any, config: Any) -> None:
    """``config`` as AWS takes it: a ``TargetArn``, or none (``""`` or no config) for no queue.

    As Lambda does, the execution role must be allowed to send to the target
    (``sqs:SendMessage`` on a queue, ``sns:Publish`` on a topic), or the
    function is not created or changed.
    """
    target = config.get("TargetArn") if isinstance(config, dict) else None
    if target:
        service, action = ("SNS", "sns:Publish") if ":sns:" in target else ("SQS", "sqs:SendMessage")
        if not role_may(function.role, action, target).allowed:
            verb = action.split(":")[1]
            raise InvalidParameterValueException(
                f"The provided execution role does not have permissions to call {verb} on {service}"
            )
    setattr(function, _DEAD_LETTER_ATTRIBUTE, {"TargetArn": target} if target else None)


def _keep_dead_letter_config(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def wrapped(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        init(self, account_id, spec, *args, **kwargs)
        _set_dead_letter_config(self, spec.get("DeadLetterConfig"))

    return wrapped


def _update_dead_letter_config(update: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @functools.wraps(update)
    def wrapped(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            _set_dead_letter_config(self, config_updates["DeadLetterConfig"])
        return update(self, config_updates)

    return wrapped


def _answer_dead_letter_config(get_configuration: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @functools.wraps(get_configuration)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = get_configuration(self, *args, **kwargs)
        dead_letter = getattr(self, _DEAD_LETTER_ATTRIBUTE, None)
        if dead_letter:
            config["DeadLetterConfig"] = dict(dead_letter)
        return config

    return wrapped


def install() -> None:
    """Patch moto (once: ``moto_server.py`` installs every correction as it starts)."""
    LambdaResponse.create_function = create_function  # type: ignore[method-assign]
    LambdaFunction.__init__ = _keep_dead_letter_config(LambdaFunction.__init__)  # type: ignore[method-assign]
    LambdaFunction.update_configuration = _update_dead_letter_config(  # type: ignore[method-assign]
        LambdaFunction.update_configuration
    )
    LambdaFunction.get_configuration = _answer_dead_letter_config(  # type: ignore[method-assign]
        LambdaFunction.get_configuration
    )
