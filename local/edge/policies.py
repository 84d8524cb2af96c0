"""IAM's evaluation of a request, as AWS does it: one evaluator for the emulator and the edge.

Its callers:

- **The emulator** (``local/emulator/iam/``): every request signed with a
  role session's credentials (a function's) is decided by the role's identity
  policies and the resource's policy; every other request (the administrator's:
  Terraform, the operator commands) by the resource policy's explicit denies.
  The emulator also decides, for the edge, the calls of the services the edge
  plays (``POST /_emulator/iam/authorize``): CloudFront reading the website
  bucket through its origin access control, as the service principal
  ``cloudfront.amazonaws.com`` with the distribution's ARN as
  ``AWS:SourceArn`` (``s3:GetObject`` for an object, ``s3:ListBucket`` for S3
  to answer a missing key 404 rather than 403), and CloudWatch delivering an
  alarm's notification (``local/emulator/corrections/cloudwatch.py``).
- **An execution role** (``service_may_assume``): whether its trust policy lets
  Lambda (or EventBridge Scheduler) assume it.
- **A function's resource policy** (the gateway's invoke check): whether it lets
  API Gateway invoke the function for the method's ``AWS:SourceArn``.

The logic, for a caller in the resource's own account (all of this system):
an explicit ``Deny`` that applies, in any identity policy or in the resource
policy, wins; otherwise an ``Allow`` that applies is needed, in an identity
policy or in a resource policy statement that names the caller (a role, its
session, a service, or ``*``). A resource policy naming the account
(``arn:aws:iam::<account>:root``) grants nothing by itself, as in AWS: it
leaves the decision to the identity policies; in a ``Deny`` it matches every
principal of the account. A service principal has no identity policies: only a
resource policy can admit it.

A statement applies when its principal, action, resource and every condition
match. Condition operators evaluated: ``StringEquals``, ``StringNotEquals``,
``StringEqualsIgnoreCase``, ``StringNotEqualsIgnoreCase``, ``StringLike``,
``StringNotLike``, ``ArnEquals``, ``ArnNotEquals``, ``ArnLike``, ``ArnNotLike``,
``Bool``, ``Null``, each with ``IfExists``. A key missing from the request
fails a condition, except under a negated operator (``...Not...``) or
``IfExists``, where it holds, as IAM documents. A statement using anything
else (``NotPrincipal``, ``NotAction``, ``NotResource``, another operator, a
``ForAnyValue``/``ForAllValues`` set operator) cannot be evaluated here: it is
taken to allow nothing and to deny everything, so this never admits what AWS
may refuse. Standard library only.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

#: The principal CloudFront's origin access control signs as.
CLOUDFRONT: Final = "cloudfront.amazonaws.com"
#: Operators whose condition holds when the request lacks the key.
_NEGATED: Final = frozenset(
    {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"}
)

Policy = Mapping[str, Any]


@dataclass(frozen=True)
class Caller:
    """Who makes a request: a service principal (``service``), or an IAM identity known by its ``arns``.

    A role session's ARNs are the role's and the session's
    (``arn:aws:sts::<account>:assumed-role/<role>/<session>``): a policy may name either.
    """

    account: str
    service: str | None = None
    arns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """As AWS's error messages name the caller: the session's ARN, or the service."""
        return self.arns[-1] if self.arns else str(self.service)


@dataclass(frozen=True)
class Decision:
    """Whether a request is allowed, and why not, in the words of AWS's AccessDenied messages."""

    allowed: bool
    reason: str = ""


def service_may_assume(trust: Policy, *, service: str, account: str) -> bool:
    """Does the role's trust policy let ``service`` assume it (``sts:AssumeRole``) on behalf of ``account``?"""
    return allows(
        trust, service=service, action="sts:AssumeRole", resource=None, context={"aws:SourceAccount": account}
    )


def allows(
    policy: Policy | None,
    *,
    service: str,
    action: str,
    resource: str | None,
    context: Mapping[str, str],
) -> bool:
    """Does ``policy`` let the service principal do ``action`` (on ``resource``; None: a trust policy's own role)?"""
    caller = Caller(account=str(context.get("aws:SourceAccount", "")), service=service)
    return decide(
        caller, action=action, resources=[resource], identity=(), resource_policy=policy, context=context
    ).allowed


def decide(
    caller: Caller,
    *,
    action: str,
    resources: Sequence[str | None],
    identity: Sequence[Policy] | None,
    resource_policy: Policy | None,
    context: Mapping[str, str],
) -> Decision:
    """IAM's decision on ``action`` over every one of ``resources`` (all must be allowed).

    ``identity`` is the caller's identity policies; None for the administrator,
    whom every identity policy allows (the resource policy's denies still apply).
    """
    sides = (
        ("an identity-based policy", identity or (), False),
        ("a resource-based policy", [resource_policy] if resource_policy else [], True),
    )
    for resource in resources:
        asked = _Request(caller, action, resource, context)
        shown = resource or "the role"
        for kind, policies, resource_side in sides:
            sid = next(
                (s.get("Sid", "") for s in _matching(policies, asked, "Deny", resource_side=resource_side)), None
            )
            if sid is not None:
                where = f"{kind} ({sid})" if sid else kind
                return Decision(False, _refusal(caller, action, shown, f"with an explicit deny in {where}"))
        if identity is None or any(_matching(identity, asked, "Allow", resource_side=False)):
            continue
        if resource_policy and any(_matching([resource_policy], asked, "Allow", resource_side=True)):
            continue
        side = "resource-based policy" if caller.service else "identity-based policy"
        return Decision(False, _refusal(caller, action, shown, f"because no {side} allows the {action} action"))
    return Decision(True)


@dataclass(frozen=True)
class _Request:
    caller: Caller
    action: str
    resource: str | None
    context: Mapping[str, str]


def _refusal(caller: Caller, action: str, resource: str, why: str) -> str:
    return f"User: {caller.name} is not authorized to perform: {action} on resource: {resource} {why}"


def _matching(
    policies: Sequence[Policy], asked: _Request, effect: str, *, resource_side: bool
) -> Iterator[Mapping[str, Any]]:
    """The statements of ``effect`` that apply; for a ``Deny``, also those that cannot be evaluated here."""
    for policy in policies:
        for statement in _statements(policy):
            if statement.get("Effect") != effect:
                continue
            applies = _applies(statement, asked, resource_side=resource_side, deny=effect == "Deny")
            if applies is True or (applies is None and effect == "Deny"):
                yield statement


def _statements(policy: Policy) -> Sequence[Mapping[str, Any]]:
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else list(statements)


def _applies(statement: Mapping[str, Any], asked: _Request, *, resource_side: bool, deny: bool) -> bool | None:
    """True when the statement applies, False when it does not, None when it cannot be evaluated here."""
    if any(element in statement for element in ("NotPrincipal", "NotAction", "NotResource")):
        return None
    if resource_side and not _principal_matches(statement.get("Principal"), asked.caller, deny=deny):
        return False
    if not any(_like(pattern, asked.action, case=False) for pattern in _names(statement.get("Action", []))):
        return False
    resources = _names(statement.get("Resource", []))
    if asked.resource is not None and not any(_like(pattern, asked.resource) for pattern in resources):
        return False
    return _conditions_hold(statement.get("Condition") or {}, asked.context)


def _principal_matches(principal: Any, caller: Caller, *, deny: bool) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if caller.service is not None and caller.service in _names(principal.get("Service", [])):
        return True
    named = _names(principal.get("AWS", []))
    if "*" in named or any(arn in named for arn in caller.arns):
        return True
    # The account itself: every identity of it, for a deny; for an allow, the identity policies decide.
    account = {caller.account, f"arn:aws:iam::{caller.account}:root"}
    return deny and caller.service is None and bool(account & set(named))


def _conditions_hold(conditions: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]) -> bool | None:
    for operator, pairs in conditions.items():
        base = operator.removesuffix("IfExists")
        for key, expected in pairs.items():
            actual = next((value for name, value in context.items() if name.lower() == key.lower()), None)
            if base == "Null":
                held: bool | None = (actual is None) == (str(_names(expected)[0]).lower() == "true")
            elif actual is None:
                held = operator.endswith("IfExists") or base in _NEGATED
            else:
                held = _holds(base, _names(expected), actual)
            if held is None:
                return None
            if not held:
                return False
    return True


def _holds(operator: str, expected: Sequence[str], actual: str) -> bool | None:
    positive = operator.replace("Not", "", 1)
    if positive not in ("StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool"):
        return None
    if positive in ("StringEquals", "ArnEquals"):
        held = actual in expected
    elif positive in {"StringEqualsIgnoreCase", "Bool"}:
        held = actual.lower() in [value.lower() for value in expected]
    else:
        held = any(_like(pattern, actual) for pattern in expected)
    return held if positive == operator else not held


def _like(pattern: str, value: str, *, case: bool = True) -> bool:
    """IAM's wildcards: ``*`` any run of characters, ``?`` one; actions compare without case."""
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _names(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(item) for item in value]
