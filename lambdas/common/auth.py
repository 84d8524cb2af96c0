"""Who is calling: the staff member API Gateway's Cognito authorizer let through.

Every method of the API requires an ID token of the staff user pool
(``modules/api/student_api.py``); API Gateway verifies it and hands the function
the token's claims in ``requestContext.authorizer.claims``. A function only
reads them: it never sees, or checks, the token itself.

In a REST API proxy event every claim is a string, lists included:
``cognito:groups`` arrives as ``"admin"``, ``"staff,admin"`` or ``"[staff admin]"``
depending on how API Gateway flattened the token's JSON array. ``groups`` reads
each of those (and a real list, should another caller send one). Group names
here never hold a comma, a space or a bracket. Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from lambdas.common import names

_SEPARATORS: Final = re.compile(r"[,\s]+")


def claims(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The authorizer's claims of an API Gateway proxy event; empty when it carries none."""
    context = event.get("requestContext")
    authorizer = context.get("authorizer") if isinstance(context, Mapping) else None
    found = authorizer.get("claims") if isinstance(authorizer, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def groups(event: Mapping[str, Any]) -> frozenset[str]:
    """The caller's Cognito groups (``cognito:groups``); empty for a caller in none, or no caller at all."""
    raw = claims(event).get(names.GROUPS_CLAIM)
    if isinstance(raw, list | tuple):
        return frozenset(str(item) for item in raw if str(item))
    if not isinstance(raw, str):
        return frozenset()
    text = raw.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return frozenset(name for name in _SEPARATORS.split(text) if name)


def in_group(event: Mapping[str, Any], group: str) -> bool:
    """Whether the signed-in caller belongs to ``group``. No claims (no authorizer ran): no."""
    return group in groups(event)
