"""Gateway responses: the shape of every error the gateway answers itself.

The API's gateway response for the error's type (status, headers, template),
else DEFAULT_4XX/DEFAULT_5XX, else AWS's plain ``{"message": ...}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Final

from werkzeug.wrappers import Response

from local.edge.apigateway.request import ApiRequest, GatewayError
from local.edge.deployment.apigateway import GatewayResponse, RestApi

#: The gateway response types the edge answers: their status and ``x-amzn-ErrorType`` when none is deployed.
ERRORS: Final = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "MissingAuthenticationTokenException"),
    "UNAUTHORIZED": (401, "UnauthorizedException"),
    "INVALID_API_KEY": (403, "ForbiddenException"),
    "THROTTLED": (429, "TooManyRequestsException"),
    "QUOTA_EXCEEDED": (429, "LimitExceededException"),
    "BAD_REQUEST_BODY": (400, "BadRequestException"),
    "BAD_REQUEST_PARAMETERS": (400, "BadRequestException"),
    "INTEGRATION_TIMEOUT": (504, "InternalServerErrorException"),
    "API_CONFIGURATION_ERROR": (500, "InternalServerErrorException"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "AuthorizerConfigurationException"),
    "AUTHORIZER_FAILURE": (500, "AuthorizerFailureException"),
    "DEFAULT_5XX": (502, "InternalServerErrorException"),
}
#: The template AWS answers with when the API deploys none.
DEFAULT_TEMPLATE: Final = '{"message":$context.error.messageString}'
_CONTEXT_REFERENCE: Final = re.compile(r"\$(?:\{context\.([A-Za-z.]+)\}|context\.([A-Za-z.]+))")


def error_response(api: RestApi | None, error: GatewayError, context: Mapping[str, str]) -> Response:
    """The gateway's own answer: the deployed gateway response of its type, else the default of its class."""
    status, error_type = ERRORS.get(error.response_type, (500, "InternalServerErrorException"))
    deployed = dict(api.gateway_responses) if api else {}
    shape: GatewayResponse | None = deployed.get(error.response_type) or deployed.get(
        "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
    )
    if shape is not None and shape.status_code:
        status = int(shape.status_code)
    variables = {
        **context,
        "error.message": error.message,
        "error.messageString": json.dumps(error.message),
        "error.responseType": error.response_type,
    }
    templates = shape.templates if shape else {}
    template = templates.get("application/json") or next(iter(templates.values()), DEFAULT_TEMPLATE)
    body = _CONTEXT_REFERENCE.sub(lambda found: variables.get(found.group(1) or found.group(2), ""), template)
    response = Response(body, status=status, content_type="application/json")
    for target, source in (shape.parameters if shape else {}).items():
        name = target.removeprefix("gatewayresponse.header.")
        value = mapped_value(source, None, variables)
        if name != target and value is not None:
            response.headers[name] = value
    response.headers["x-amzn-RequestId"] = context.get("requestId", "")
    response.headers["x-amzn-ErrorType"] = error_type
    return response


def mapped_value(source: str, request: ApiRequest | None, context: Mapping[str, str]) -> str | None:
    """A mapping expression's value: a quoted literal, a request header or parameter, a context variable."""
    if len(source) >= 2 and source.startswith("'") and source.endswith("'"):
        return source[1:-1]
    if source.startswith("context."):
        return context.get(source.removeprefix("context."))
    if request is not None and source.startswith("method.request.header."):
        return request.header(source.removeprefix("method.request.header."))
    if request is not None and source.startswith("method.request.querystring."):
        wanted = source.removeprefix("method.request.querystring.")
        return next((value for name, value in reversed(request.query) if name == wanted), None)
    return None


def plain(status: int, message: str, error_type: str, request_id: str) -> Response:
    """API Gateway's own plain answer, which no gateway response shapes (no such API behind the host)."""
    response = Response(json.dumps({"message": message}), status=status, content_type="application/json")
    response.headers["x-amzn-RequestId"] = request_id
    response.headers["x-amzn-ErrorType"] = error_type
    return response
