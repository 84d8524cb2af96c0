"""The decision on a request to the emulator, before moto serves it, and on a call made to the edge or by a
service acting as a role, with ``local/edge/policies.py``'s evaluator; every refusal is recorded (``DENIALS``).
"""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, Final

from moto.core.models import DEFAULT_ACCOUNT_ID

from local.edge.policies import Caller, Decision, decide
from local.emulator.iam.callers import Refusal, caller_of, credential, role_session
from local.emulator.iam.operations import describe
from local.emulator.iam.stored_policies import identity_policies, policy_of, queue_policy
from local.emulator.wsgi import request_body

LOG = logging.getLogger("moto_server.iam")
#: What a bucket policy cannot refuse the account's root user (so a policy that locks everyone out can
#: be mended); the administrator has the root user's exemption here.
ROOT_EXEMPT: Final = frozenset({"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"})
#: Refusals kept for ``routes.DENIALS_PATH``.
KEPT_DENIALS: Final = 1000


class Denials:
    """The refusals, numbered, the last ``KEPT_DENIALS`` kept."""

    def __init__(self) -> None:
        self._kept: collections.deque[dict[str, Any]] = collections.deque(maxlen=KEPT_DENIALS)
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def record(self, *, principal: str, action: str, resource: str, code: str, message: str) -> None:
        LOG.warning("%s: %s", code, message)
        with self._lock:
            self._kept.append(
                {
                    "seq": next(self._numbers),
                    "time": time.time(),
                    "principal": principal,
                    "action": action,
                    "resource": resource,
                    "code": code,
                    "message": message,
                }
            )

    def after(self, seq: int) -> list[dict[str, Any]]:
        with self._lock:
            return [denial for denial in self._kept if denial["seq"] > seq]


DENIALS = Denials()


def authorize(environ: dict[str, Any]) -> tuple[Refusal, int] | None:
    """Decide a request before moto sees it: None to serve it, or the refusal (and its service's status)."""
    scope = credential(environ)
    if scope is None:
        return None  # unsigned: moto's own checks (and the bucket's ACLs) apply
    access_key_id, region, service = scope
    token = str(environ.get("HTTP_X_AMZ_SECURITY_TOKEN", "")) or _query(environ, "X-Amz-Security-Token")
    session = role_session(access_key_id, token)
    if isinstance(session, Refusal):
        return session, 403
    method = str(environ.get("REQUEST_METHOD", "GET"))
    body = (
        request_body(environ) if (method in ("POST", "PUT") and service != "s3") or _is_delete_objects(environ) else b""
    )
    operation = describe(service, region, method, environ, body)
    if operation.action == "sts:GetCallerIdentity":
        return None  # always allowed, even under an explicit deny
    caller, context = caller_of(session, environ)
    if operation.action is None:
        if session is None:
            return None
        message = f"User: {caller.name} is not authorized to perform this request: the emulator cannot tell its action"
        DENIALS.record(principal=caller.name, action="?", resource="?", code="AccessDenied", message=message)
        return Refusal("AccessDenied", message), 403
    if session is None and operation.action in ROOT_EXEMPT:
        return None  # the account's root may always mend a bucket's policy; the administrator plays root here
    decision = decide(
        caller,
        action=operation.action,
        resources=operation.resources,
        identity=session.identity if session else None,
        resource_policy=operation.resource_policy(),
        context={**context, **operation.context},
    )
    return _refused(decision, caller, operation.action, operation.resources, service)


def authorize_call(request: Mapping[str, Any]) -> dict[str, Any]:
    """``routes.AUTHORIZE_PATH``: decide a call the edge plays (an ``action`` on a ``resource``), with the denials.

    The caller is either a role session (``accessKeyId`` and ``sessionToken``: a
    function invoking a function) or a service principal (``service``, with
    the request's ``context``: CloudFront reading the website bucket through
    its origin access control). The resource's policy is the emulator's own.
    """
    action, resource = str(request["action"]), str(request["resource"])
    policy = policy_of(resource)
    if "service" in request:
        caller = Caller(account=DEFAULT_ACCOUNT_ID, service=str(request["service"]))
        context = {"aws:SecureTransport": "true", **dict(request.get("context") or {})}
        decision = decide(
            caller, action=action, resources=[resource], identity=(), resource_policy=policy, context=context
        )
    else:
        session = role_session(str(request.get("accessKeyId", "")), str(request.get("sessionToken", "")))
        if isinstance(session, Refusal):
            return {"allowed": False, "code": session.code, "message": session.message}
        caller, context = caller_of(session, {"wsgi.url_scheme": "https"})
        identity = session.identity if session else None
        decision = decide(
            caller, action=action, resources=[resource], identity=identity, resource_policy=policy, context=context
        )
    refused = _refused(decision, caller, action, (resource,), "lambda")
    if refused is None:
        return {"allowed": True, "principal": caller.name}
    return {"allowed": False, "code": refused[0].code, "message": refused[0].message, "principal": caller.name}


def role_may(role_arn: str, action: str, resource: str) -> Decision:
    """What a role's own policies (and the resource's) let it do: a service's check before it acts as the role.

    Lambda makes it when a function is given a dead-letter queue: the execution
    role must be allowed to send to it, or ``CreateFunction`` and
    ``UpdateFunctionConfiguration`` are refused.
    """
    name = role_arn.rsplit("/", 1)[-1]
    caller = Caller(account=DEFAULT_ACCOUNT_ID, arns=(role_arn,))
    region = resource.split(":")[3] if resource.count(":") >= 5 else "us-east-1"
    policy = queue_policy(resource.rsplit(":", 1)[-1], region) if action.startswith("sqs:") else None
    context = {"aws:SecureTransport": "true", "aws:PrincipalArn": role_arn, "aws:PrincipalAccount": DEFAULT_ACCOUNT_ID}
    decision = decide(
        caller,
        action=action,
        resources=[resource],
        identity=identity_policies(role_arn),
        resource_policy=policy,
        context=context,
    )
    if not decision.allowed:
        DENIALS.record(principal=name, action=action, resource=resource, code="AccessDenied", message=decision.reason)
    return decision


def _refused(
    decision: Decision, caller: Caller, action: str, resources: Sequence[str], service: str
) -> tuple[Refusal, int] | None:
    if decision.allowed:
        return None
    DENIALS.record(
        principal=caller.name, action=action, resource=" ".join(resources), code="AccessDenied", message=decision.reason
    )
    return Refusal("AccessDenied", decision.reason), 400 if service == "dynamodb" else 403


def _is_delete_objects(environ: Mapping[str, Any]) -> bool:
    return environ.get("REQUEST_METHOD") == "POST" and "delete" in urllib.parse.parse_qs(
        str(environ.get("QUERY_STRING", "")), keep_blank_values=True
    )


def _query(environ: Mapping[str, Any], name: str) -> str:
    return urllib.parse.parse_qs(str(environ.get("QUERY_STRING", ""))).get(name, [""])[0]
