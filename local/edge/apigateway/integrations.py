"""The integrations the edge serves: MOCK, answered from its integration response, and AWS_PROXY, the
function of its URI invoked with the REST (v1) proxy event, its proxy response returned unchanged.

The function is invoked only if its resource policy lets this API's method
invoke it (``may_invoke``); a malformed proxy response is 502.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime
from typing import Any, Final

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response

from local.edge.apigateway.request import ApiRequest, Call, GatewayError
from local.edge.apigateway.responses import mapped_value
from local.edge.deployment.apigateway import Integration, Resource, Stage
from local.edge.deployment.awslambda import Function
from local.edge.policies import allows

#: The service principal API Gateway invokes a function as.
APIGATEWAY: Final = "apigateway.amazonaws.com"
PROXY_RESPONSE_FIELDS: Final = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})


def mock_response(integration: Integration, request: ApiRequest, request_id: str) -> Response:
    """A MOCK integration: the status its request template names selects the integration response."""
    media_type = (request.header("Content-Type") or "application/json").split(";")[0].strip().lower()
    template = integration.request_templates.get(media_type, integration.request_templates.get("application/json"))
    try:
        status = str(int(json.loads(template or "")["statusCode"]))
    except (ValueError, KeyError, TypeError):
        raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error") from None
    selected = next(
        (r for r in integration.responses if r.selection_pattern and re.fullmatch(r.selection_pattern, status)),
        next((r for r in integration.responses if not r.selection_pattern), None),
    )
    if selected is None:
        raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error")
    body = selected.templates.get("application/json", "")
    response = Response(body, status=int(selected.status_code), content_type="application/json")
    for target, source in selected.parameters.items():
        name = target.removeprefix("method.response.header.")
        value = mapped_value(source, request, {})
        if name != target and value is not None:
            response.headers[name] = value
    response.headers["x-amzn-RequestId"] = request_id
    return response


def may_invoke(function: Function, source_arn: str) -> bool:
    """Whether the function's resource policy lets API Gateway invoke it for ``source_arn`` (the method's ARN)."""
    account = function.arn.split(":")[4]
    return allows(
        {"Statement": list(function.policy)},
        service=APIGATEWAY,
        action="lambda:InvokeFunction",
        resource=function.arn,
        context={"AWS:SourceArn": source_arn, "aws:SourceAccount": account, "aws:SecureTransport": "true"},
    )


def proxy_event(call: Call, *, account: str) -> dict[str, Any]:
    """The REST API (v1) Lambda proxy event of the request."""
    request, resource, stage = call.request, call.resource, call.stage
    assert resource is not None and stage is not None  # noqa: S101 - resolved before the integration runs
    headers = Headers(request.headers)
    headers.setdefault("X-Forwarded-For", request.source_ip)
    headers.setdefault("X-Forwarded-Proto", "https")
    headers.setdefault("X-Forwarded-Port", "443")
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers.items():
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in request.query:
        multi_query.setdefault(name, []).append(value)
    try:
        body: str | None = request.body.decode("utf-8")
        encoded = False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(request.body).decode("ascii"), True
    parameters = resource.path_parameters(call.resource_path)
    event: dict[str, Any] = {
        "resource": resource.path,
        "path": call.resource_path,
        "httpMethod": request.method,
        # API Gateway keeps the last value of a repeated header or parameter in the single-value maps.
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": parameters or None,
        "stageVariables": dict(stage.variables) or None,
        "requestContext": _request_context(call, resource, stage, account=account),
        "body": body if request.body else None,
        "isBase64Encoded": encoded,
    }
    if call.claims is not None:
        # A Cognito user pool authorizer's verdict: the token's claims, each a string.
        event["requestContext"]["authorizer"] = {"claims": dict(call.claims)}
    return event


def _request_context(call: Call, resource: Resource, stage: Stage, *, account: str) -> dict[str, Any]:
    """The event's ``requestContext``: the API, its stage and method, the request's time, the caller's identity."""
    request = call.request
    now = datetime.fromtimestamp(call.started, UTC)
    return {
        "accountId": account,
        "apiId": request.api_id,
        "resourceId": resource.id,
        "resourcePath": resource.path,
        "stage": stage.name,
        "httpMethod": request.method,
        "requestId": call.request_id,
        "extendedRequestId": call.request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(call.started * 1000),
        "path": request.path,
        "protocol": "HTTP/1.1",
        "domainName": request.host,
        "domainPrefix": request.host.split(".")[0],
        "identity": {
            "sourceIp": request.source_ip,
            "userAgent": request.header("User-Agent"),
            "apiKey": call.key.value if call.key else None,
            "apiKeyId": call.key.id if call.key else None,
            "accountId": None,
            "caller": None,
            "user": None,
            "userArn": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "accessKey": None,
        },
    }


def proxy_response(result: Any, request_id: str) -> Response | None:
    """The HTTP response of a function's proxy response; None when it is malformed (API Gateway: 502)."""
    if not isinstance(result, dict) or not set(result) <= PROXY_RESPONSE_FIELDS:
        return None
    status = result.get("statusCode")
    headers = result.get("headers") or {}
    multi_headers = result.get("multiValueHeaders") or {}
    body = result.get("body")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return None
    if not isinstance(headers, dict) or not isinstance(multi_headers, dict) or not isinstance(body, str | None):
        return None
    if not all(isinstance(values, list) for values in multi_headers.values()):
        return None
    try:
        data = base64.b64decode(body or "", validate=True) if result.get("isBase64Encoded") else (body or "").encode()
    except binascii.Error:
        return None
    response = Response(data, status=status)
    response.headers.clear()
    for name, value in headers.items():
        response.headers[str(name)] = _header_text(value)
    for name, values in multi_headers.items():
        if str(name) in response.headers:
            del response.headers[str(name)]
        for value in values:
            response.headers.add(str(name), _header_text(value))
    response.headers.setdefault("Content-Type", "application/json")
    response.headers["x-amzn-RequestId"] = request_id
    return response


def _header_text(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
