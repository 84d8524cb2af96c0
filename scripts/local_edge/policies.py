"""What a resource policy lets an AWS service do, as AWS evaluates it: one evaluator for the edge's two questions.

- **The website bucket** (``cloudfront_may``): what the bucket policy lets
  CloudFront's origin access control do.
- **An execution role** (``service_may_assume``): whether its trust policy lets
  Lambda assume it, to run the function.

With origin access control, CloudFront signs its requests to the bucket as the
service principal ``cloudfront.amazonaws.com``, and S3 evaluates the bucket
policy with the distribution's ARN as ``AWS:SourceArn``. The website bucket is
private and its policy is the only grant, so the policy alone decides whether
the site can be read: ``s3:GetObject`` for an object, and ``s3:ListBucket`` for
S3 to answer a missing key 404 rather than 403.

The emulator evaluates neither for a service principal, so the local edge does,
as AWS would: an explicit ``Deny`` that applies wins, then an ``Allow`` that
applies is needed. A statement applies when its principal, action, resource
(a trust policy names none) and every condition match. The condition operators this project's policies use are evaluated
(``StringEquals``, ``StringNotEquals``, ``StringLike``, ``ArnEquals``,
``ArnLike``, ``Bool``, with ``IfExists``); a statement with any other operator
(or with ``NotPrincipal``, ``NotAction`` or ``NotResource``) is taken to allow
nothing and to deny everything, so this never admits what S3 may refuse.
Standard library only.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any, Final

#: The principal CloudFront's origin access control signs as.
CLOUDFRONT: Final = "cloudfront.amazonaws.com"


def cloudfront_may(policy: Mapping[str, Any] | None, *, action: str, resource: str, distribution_arn: str) -> bool:
    """Does ``policy`` let the distribution (through origin access control) do ``action`` on ``resource``?"""
    context = {"aws:SecureTransport": "true", "AWS:SourceArn": distribution_arn}
    return allows(policy, service=CLOUDFRONT, action=action, resource=resource, context=context)


def service_may_assume(trust: Mapping[str, Any], *, service: str, account: str) -> bool:
    """Does the role's trust policy let ``service`` assume it (``sts:AssumeRole``) on behalf of ``account``?"""
    return allows(
        trust, service=service, action="sts:AssumeRole", resource=None, context={"aws:SourceAccount": account}
    )


def allows(
    policy: Mapping[str, Any] | None,
    *,
    service: str,
    action: str,
    resource: str | None,
    context: Mapping[str, str],
) -> bool:
    """Does ``policy`` let the service principal do ``action`` (on ``resource``; None: a trust policy's own role)?"""
    if not policy:
        return False  # no policy admits no one but the account
    allowed = False
    for statement in _statements(policy):
        applies = _applies(statement, service, action, resource, context)
        if statement.get("Effect") == "Deny" and applies is not False:
            return False
        if statement.get("Effect") == "Allow" and applies is True:
            allowed = True
    return allowed


def _statements(policy: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else list(statements)


def _applies(
    statement: Mapping[str, Any], service: str, action: str, resource: str | None, context: Mapping[str, str]
) -> bool | None:
    """True when the statement applies, False when it does not, None when it cannot be evaluated here."""
    if any(element in statement for element in ("NotPrincipal", "NotAction", "NotResource")):
        return None
    if not _principal_matches(statement.get("Principal"), service):
        return False
    if not any(_like(pattern, action, case=False) for pattern in _names(statement.get("Action", []))):
        return False
    if resource is not None and not any(_like(pattern, resource) for pattern in _names(statement.get("Resource", []))):
        return False
    return _conditions_hold(statement.get("Condition") or {}, context)


def _principal_matches(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    return service in _names(principal.get("Service", [])) or "*" in _names(principal.get("AWS", []))


def _conditions_hold(conditions: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]) -> bool | None:
    for operator, pairs in conditions.items():
        base = operator.removesuffix("IfExists")
        for key, expected in pairs.items():
            actual = next((value for name, value in context.items() if name.lower() == key.lower()), None)
            if actual is None:
                if operator.endswith("IfExists"):
                    continue
                return False
            held = _holds(base, _names(expected), actual)
            if held is None:
                return None
            if not held:
                return False
    return True


def _holds(operator: str, expected: Sequence[str], actual: str) -> bool | None:
    if operator in ("StringEquals", "ArnEquals"):
        return actual in expected
    if operator == "StringNotEquals":
        return actual not in expected
    if operator in ("StringLike", "ArnLike"):
        return any(_like(pattern, actual) for pattern in expected)
    if operator == "Bool":
        return actual.lower() in [value.lower() for value in expected]
    return None


def _like(pattern: str, value: str, *, case: bool = True) -> bool:
    """IAM's wildcards: ``*`` any run of characters, ``?`` one; actions compare without case."""
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _names(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(item) for item in value]
