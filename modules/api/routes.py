"""What the REST API serves, as plain data: routes, CORS, the request model.

``StudentApi`` builds every method, integration, model and CORS answer from
these values; the deployment's trigger is a digest of all of them as Terraform
plans them (``student_api.served_triggers``), so any change to what the API
serves redeploys the stage. Which function
serves a route is said in ``modules/functions/catalog.py``. This module imports only
the standard library and the function code's student schema (the gateway
model and the function validate with the same one); tests read it cheaply.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from lambdas.common import student_schema as schema

#: Request headers the page sends; the CORS answer allows exactly these.
#: ``Authorization`` carries the signed-in staff member's ID token.
CORS_HEADERS: Final = ("Authorization", "Content-Type", "x-api-key")
#: Seconds a browser may cache a preflight answer.
CORS_MAX_AGE: Final = 600
#: Gateway-generated errors that must carry CORS headers for the page to read them.
GATEWAY_RESPONSES: Final = (
    "DEFAULT_4XX",
    "DEFAULT_5XX",
    "INVALID_API_KEY",
    "MISSING_AUTHENTICATION_TOKEN",
    "THROTTLED",
    "QUOTA_EXCEEDED",
    "BAD_REQUEST_BODY",
    "BAD_REQUEST_PARAMETERS",
    "UNAUTHORIZED",
    "ACCESS_DENIED",
)


@dataclass(frozen=True)
class Authorizer:
    """How every proxied method checks its caller, besides the API key: a token of the staff user pool."""

    name: str
    #: API Gateway's type for a Cognito user pool authorizer.
    type: str
    #: Where the token is: the page sends its ID token in this header, as is (no "Bearer ").
    identity_source: str
    #: Seconds API Gateway may reuse a verdict on a token. 0: every call's token is
    #: checked, so a token is refused the moment it expires.
    result_ttl_seconds: int


#: The authorizer every route of the API requires; OPTIONS preflights stay open (browsers send no token there).
STAFF_AUTHORIZER: Final = Authorizer(
    name="staff",
    type="COGNITO_USER_POOLS",
    identity_source="method.request.header.Authorization",
    result_ttl_seconds=0,
)


@dataclass(frozen=True)
class Route:
    """One method of the API, proxied to the function whose row in ``modules/functions/catalog.py`` lists it."""

    path: str  #: resource path, e.g. "/students"
    method: str  #: HTTP method
    #: Optional query-string parameters. The gateway can only require or admit a
    #: parameter; the function checks each value (``limit`` 1-500, token, id).
    query_parameters: tuple[str, ...] = ()
    body_model: bool = False  #: validate the JSON body against ``student_schema()``


def paths(routes: Iterable[Route]) -> dict[str, tuple[str, ...]]:
    """Each resource path with the methods it serves, for its CORS preflight answer."""
    methods: dict[str, list[str]] = {}
    for route in routes:
        methods.setdefault(route.path, []).append(route.method)
    return {path: (*sorted(found), "OPTIONS") for path, found in methods.items()}


def student_schema() -> dict[str, Any]:
    """JSON Schema (draft 4, what API Gateway models speak) of a new student: the ``Student`` model.

    The schema lives with the function code (``lambdas/common/student_schema.py``),
    which interprets the same data: the gateway refuses the structurally wrong
    (missing or extra fields, wrong types, lengths, patterns) before a function
    runs, and the function refuses the same, plus what a schema cannot say (a
    real calendar date not in the future, Unicode letters in names).
    """
    return schema.student_schema()
