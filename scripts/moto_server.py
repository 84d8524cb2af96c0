"""Starts moto server with one correction to how it evaluates bucket policies.

moto 5.2 evaluates only ``StringEquals`` conditions and treats a statement with
any other condition operator as if its condition held. The TLS-only statement
every bucket here carries ("Deny s3:* when Bool aws:SecureTransport is false")
then denies every object request, over HTTPS too. This launcher evaluates the
condition operators the project's policies use against the request context
moto cannot see: the emulator serves HTTPS only (scripts/emulator.sh), so every
request has ``aws:SecureTransport=true``. As in AWS, a statement whose condition
does not hold does not apply; a key the context lacks fails the condition
(unless the operator ends in ``IfExists``); an operator not handled here fails
too, and is logged.
"""

from __future__ import annotations

import fnmatch
import logging
from typing import Any

from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.server import main

REQUEST_CONTEXT = {"aws:SecureTransport": "true"}
LOG = logging.getLogger("moto_server.conditions")


def _matches(operator: str, expected: list[str], actual: str) -> bool | None:
    if operator in ("Bool", "StringEquals", "ArnEquals", "NumericEquals"):
        return actual.lower() in [e.lower() for e in expected] if operator == "Bool" else actual in expected
    if operator == "StringNotEquals":
        return actual not in expected
    if operator in ("StringLike", "ArnLike"):
        return any(fnmatch.fnmatchcase(actual, pattern) for pattern in expected)
    return None


def conditions_hold(conditions: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    for operator, pairs in conditions.items():
        base = operator.removesuffix("IfExists")
        for key, raw in pairs.items():
            expected = [str(v) for v in (raw if isinstance(raw, list) else [raw])]
            actual = context.get(key)
            if actual is None:
                if base == operator:
                    return False
                continue
            result = _matches(base, expected, actual)
            if result is None:
                LOG.warning("condition operator %s is not evaluated by this emulator; statement skipped", operator)
                return False
            if not result:
                return False
    return True


_moto_is_action_permitted = IAMPolicyStatement.is_action_permitted


def is_action_permitted(
    self: IAMPolicyStatement,
    action: str,
    resource: str = "*",
    principal: str | None = None,
    incoming_condition_values: dict[str, str] | None = None,
) -> Any:
    conditions = self._statement.get("Condition")
    if not conditions:
        return _moto_is_action_permitted(self, action, resource, principal, incoming_condition_values)
    context = {**REQUEST_CONTEXT, **(incoming_condition_values or {})}
    if not conditions_hold(conditions, context):
        return PermissionResult.NEUTRAL
    unconditional = IAMPolicyStatement({k: v for k, v in self._statement.items() if k != "Condition"})
    return _moto_is_action_permitted(unconditional, action, resource, principal, context)


IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
