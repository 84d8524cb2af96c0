"""``lambdas/common/auth.py``: the caller's groups, read from the claims API Gateway's Cognito authorizer passes."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.common import auth, names
from tests.lambdas.scenarios import ADMIN_CLAIMS, STAFF_CLAIMS, api_event


def with_groups(raw: Any) -> dict[str, Any]:
    return api_event("GET", "/backup", claims={**STAFF_CLAIMS, names.GROUPS_CLAIM: raw})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("admin", {"admin"}),
        ("staff,admin", {"staff", "admin"}),
        ("[staff admin]", {"staff", "admin"}),
        ("[admin]", {"admin"}),
        ("[staff, admin]", {"staff", "admin"}),
        (" staff , admin ", {"staff", "admin"}),
        (["staff", "admin"], {"staff", "admin"}),
        ("", set()),
        ("[]", set()),
        (None, set()),
        (7, set()),
    ],
    # repr of the raw claim only: a set's repr changes order with the hash seed of each xdist worker.
    ids=lambda value: repr(value) if not isinstance(value, set) else "",
)
def test_groups_read_every_form_the_claim_arrives_in(raw: Any, expected: set[str]) -> None:
    assert auth.groups(with_groups(raw)) == expected


@pytest.mark.parametrize(
    "event",
    [
        api_event("GET", "/backup", claims=None),
        api_event(
            "GET", "/backup", claims={key: value for key, value in ADMIN_CLAIMS.items() if key != "cognito:groups"}
        ),
        {**api_event("GET", "/backup"), "requestContext": None},
        {**api_event("GET", "/backup"), "requestContext": {"authorizer": "not a mapping"}},
        {**api_event("GET", "/backup"), "requestContext": {"authorizer": {"claims": "not a mapping"}}},
        {"httpMethod": "GET"},
    ],
    ids=["no authorizer", "no groups claim", "null context", "odd authorizer", "odd claims", "no context"],
)
def test_a_caller_without_groups_is_in_none(event: dict[str, Any]) -> None:
    assert auth.groups(event) == frozenset()
    assert not auth.in_group(event, names.ADMIN_GROUP)


@pytest.mark.parametrize("raw", ["administrators", "Admin", "[staff administrator]", "staff", "admin-staff"])
def test_only_the_exact_group_name_counts(raw: str) -> None:
    assert not auth.in_group(with_groups(raw), names.ADMIN_GROUP)


def test_claims_are_the_authorizers() -> None:
    assert auth.claims(api_event("GET", "/students", claims=STAFF_CLAIMS)) == STAFF_CLAIMS
    assert auth.in_group(api_event("GET", "/students"), names.ADMIN_GROUP), "api_event's default caller is an admin"
