"""API Gateway's part: a REST API stage's data plane, from the API as it is deployed in the emulator.

A request ``/<stage>/<path>`` is answered in API Gateway's order:

1. the stage, then the resource and method (none: 403 MISSING_AUTHENTICATION_TOKEN);
2. the method's authorizer, when it names one (``authorizer.py``): a Cognito
   user pool token, else 401 UNAUTHORIZED; an authorizer the edge cannot apply
   is 500 AUTHORIZER_CONFIGURATION_ERROR, unreadable signing keys 500
   AUTHORIZER_FAILURE. A method without one (``authorizationType`` NONE) is
   open, as in AWS: forgetting the authorizer on a method shows here too;
3. the API key, when the method requires one: an enabled key in a usage plan
   bound to this API and stage (else 403 INVALID_API_KEY), then the plan's
   throttle and quota and the stage's method throttle (429 THROTTLED or
   QUOTA_EXCEEDED; ``usage.py``);
4. the method's request validator: required parameters (400
   BAD_REQUEST_PARAMETERS) and the body against the model of its content type
   with JSON Schema draft 4 (400 BAD_REQUEST_BODY), before any function runs;
5. the integration: MOCK answers from its integration response; AWS_PROXY
   invokes the function of its URI with the REST (v1) proxy event, if the
   function's resource policy lets this API's method invoke it, and returns
   its proxy response unchanged. A function error or a malformed response is
   502, a run past the integration timeout 504.

The authorizer comes before the key because that is API Gateway's order: a
Lambda authorizer may itself supply the request's API key (the API's
``apiKeySource`` AUTHORIZER), so the usage plan can only be applied after
authorization. So a request with neither token nor key is 401, not 403, and a
caller without a valid token never spends the key's throttle or quota.

Every error the gateway itself answers is shaped by the API's gateway response
for its type (status, headers, template), else DEFAULT_4XX/DEFAULT_5XX, else
AWS's plain ``{"message": ...}``.

Difference from AWS: API Gateway serves the stage's deployment, a snapshot
taken by the last ``CreateDeployment``; the edge serves the API's resources
as they are now, so a change in the emulator applies without a redeployment.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from jsonschema import Draft4Validator
from jsonschema.exceptions import SchemaError
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response

from local.edge.authorizer import CognitoAuthorizer, Misconfigured, Refused, Unavailable
from local.edge.deployment import (
    ApiKey,
    Deployment,
    Function,
    GatewayResponse,
    Integration,
    Method,
    NotDeployed,
    Resource,
    RestApi,
    Stage,
)
from local.edge.functions import Functions
from local.edge.policies import allows
from local.edge.usage import Meter

API_KEY_HEADER: Final = "x-api-key"
#: The service principal API Gateway invokes a function as.
APIGATEWAY: Final = "apigateway.amazonaws.com"
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
PROXY_RESPONSE_FIELDS: Final = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
_CONTEXT_REFERENCE: Final = re.compile(r"\$(?:\{context\.([A-Za-z.]+)\}|context\.([A-Za-z.]+))")


@dataclass(frozen=True)
class ApiRequest:
    """A request as it reaches the API's host: from a client of the invoke URL, or from CloudFront."""

    api_id: str
    method: str
    path: str  #: ``/<stage>/<resource path>``
    query: tuple[tuple[str, str], ...]
    headers: Headers
    body: bytes
    source_ip: str
    host: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass
class ApiAnswer:
    response: Response
    function: str | None = None


class GatewayError(Exception):
    """An answer of the gateway itself: its gateway response type, message and status."""

    def __init__(self, response_type: str, message: str, *, function: str | None = None) -> None:
        super().__init__(message)
        self.response_type = response_type
        self.message = message
        self.function = function


def _missing_token() -> GatewayError:
    return GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")


@dataclass
class _Call:
    """One request on its way through the gateway: what later steps and the answer need."""

    request: ApiRequest
    request_id: str
    started: float = field(default_factory=time.time)
    api: RestApi | None = None
    stage: Stage | None = None
    resource: Resource | None = None
    key: ApiKey | None = None
    #: The authorizer's claims (``requestContext.authorizer.claims``); None when the method has no authorizer.
    claims: dict[str, str] | None = None

    @property
    def stage_name(self) -> str:
        return self.request.path.lstrip("/").partition("/")[0]

    @property
    def resource_path(self) -> str:
        return "/" + self.request.path.lstrip("/").partition("/")[2]

    def context(self) -> dict[str, str]:
        """``$context`` variables a gateway response may use."""
        return {
            "requestId": self.request_id,
            "extendedRequestId": self.request_id,
            "apiId": self.request.api_id,
            "stage": self.stage_name,
            "httpMethod": self.request.method,
            "path": self.request.path,
            "resourcePath": self.resource.path if self.resource else self.resource_path,
            "domainName": self.request.host,
            "identity.sourceIp": self.request.source_ip,
            "identity.apiKeyId": self.key.id if self.key else "",
        }


class Gateway:
    """Answers requests to any REST API the emulator holds, as API Gateway would."""

    def __init__(
        self,
        deployment: Deployment,
        functions: Functions,
        meter: Meter,
        log: Callable[[str], None],
        *,
        authorizer: CognitoAuthorizer | None = None,
    ) -> None:
        self._deployment = deployment
        self._functions = functions
        self._meter = meter
        self._log = log
        self._authorizer = authorizer or CognitoAuthorizer(deployment)

    def handle(self, request: ApiRequest) -> ApiAnswer:
        call = _Call(request=request, request_id=str(uuid.uuid4()))
        try:
            call.api = self._deployment.rest_api(request.api_id, call.stage_name)
        except NotDeployed as missing:
            self._log(f"gateway: {missing}")
            # No such API behind the host: API Gateway's own answer, no gateway response to shape it.
            return ApiAnswer(_plain(403, "Forbidden", "ForbiddenException", call.request_id))
        try:
            return self._serve(call, call.api)
        except GatewayError as error:
            return ApiAnswer(error_response(call.api, error, call.context()), error.function)

    def _serve(self, call: _Call, api: RestApi) -> ApiAnswer:
        request = call.request
        call.stage = api.stages.get(call.stage_name)
        call.resource = api.resource_for(call.resource_path) if call.stage else None
        if call.stage is None or call.resource is None:
            raise _missing_token()
        method = call.resource.methods.get(request.method) or call.resource.methods.get("ANY")
        if method is None:
            raise _missing_token()
        self._authorize(call, api, method)
        self._admit(call, api, call.stage, method)
        validate(method, request, call.resource, call.resource_path)
        integration = method.integration
        if integration is None:
            self._log(f"gateway: {request.method} {call.resource.path} has no integration")
            raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error")
        if integration.type == "MOCK":
            return ApiAnswer(mock_response(integration, request, call.request_id))
        if integration.type == "AWS_PROXY":
            return self._proxy(call, integration, method)
        self._log(f"gateway: integration type {integration.type} is not served by the local edge")
        raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error")

    def _authorize(self, call: _Call, api: RestApi, method: Method) -> None:
        """The method's authorizer: its claims on the call, or the gateway's refusal."""
        if method.authorization_type == "NONE":
            return
        where = f"{method.http_method} {call.resource.path if call.resource else call.resource_path}"
        if method.authorization_type != "COGNITO_USER_POOLS":
            self._log(f"gateway: {where}: authorization type {method.authorization_type} is not served by the edge")
            raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR", "Internal server error")
        try:
            call.claims = self._authorizer.claims(
                api.authorizers.get(method.authorizer_id), method, call.request.header
            )
        except Refused as refused:
            self._log(f"gateway: {where}: token refused: {refused.reason}")
            raise GatewayError("UNAUTHORIZED", refused.message) from None
        except Misconfigured as error:
            self._log(f"gateway: {where}: {error}")
            raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR", "Internal server error") from None
        except Unavailable as error:
            self._log(f"gateway: {where}: {error}")
            raise GatewayError("AUTHORIZER_FAILURE", "Internal server error") from None

    def _admit(self, call: _Call, api: RestApi, stage: Stage, method: Method) -> None:
        """The key and its usage plan, then the stage's method throttle."""
        resource = call.resource
        assert resource is not None  # noqa: S101 - set by the caller before it admits
        if method.api_key_required:
            value = call.request.header(API_KEY_HEADER) or ""
            key = next((key for key in api.keys if value and key.value == value), None)
            plan = api.plan_of(key, stage.name) if key is not None and key.enabled else None
            if key is None or plan is None:
                raise GatewayError("INVALID_API_KEY", "Forbidden")
            call.key = key
            refused = self._meter.admit_plan(plan.id, key.id, plan.throttle, plan.quota)
            if refused is not None:
                raise GatewayError(refused, "Too Many Requests" if refused == "THROTTLED" else "Limit Exceeded")
        setting = f"{resource.path.lstrip('/').replace('/', '~1')}/{method.http_method}"
        throttle = stage.throttles.get(setting) or stage.throttles.get("*/*")
        owner = ("stage", api.id, stage.name, resource.path, method.http_method)
        if throttle is not None and not self._meter.throttle(owner, throttle):
            raise GatewayError("THROTTLED", "Too Many Requests")

    def _proxy(self, call: _Call, integration: Integration, method: Method) -> ApiAnswer:
        request, resource = call.request, call.resource
        assert resource is not None  # noqa: S101 - resolved before the integration runs
        arn = integration.function_arn
        try:
            if arn is None:
                raise NotDeployed(f"integration URI {integration.uri} names no function")
            function = self._deployment.function(arn)
        except NotDeployed as missing:
            self._log(f"gateway: {request.method} {resource.path}: {missing}")
            raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error") from None
        account = function.arn.split(":")[4]
        region = function.arn.split(":")[3]
        source_arn = f"arn:aws:execute-api:{region}:{account}:{request.api_id}/{call.stage_name}/{method.http_method}"
        if not may_invoke(function, source_arn + resource.path):
            self._log(f"gateway: {function.name}'s policy does not let {source_arn}{resource.path} invoke it")
            raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error", function=function.name)
        event = proxy_event(call, account=account)
        waiting = self._functions.invoke(function, event, call.request_id)
        try:
            invocation = waiting.result(timeout=integration.timeout_ms / 1000)
        except FutureTimeout:
            raise GatewayError("INTEGRATION_TIMEOUT", "Endpoint request timed out", function=function.name) from None
        if invocation.error is not None:
            self._log(f"gateway: {function.name} failed: {invocation.error.get('errorType')}")
            raise GatewayError("DEFAULT_5XX", "Internal server error", function=function.name)
        try:
            result = invocation.result
        except ValueError:  # the runtime wrote NaN or Infinity: API Gateway cannot read the answer
            result = None
        response = proxy_response(result, call.request_id)
        if response is None:
            self._log(f"gateway: {function.name} answered a malformed Lambda proxy response")
            raise GatewayError("DEFAULT_5XX", "Internal server error", function=function.name)
        return ApiAnswer(response, function.name)


# --- request validation ----------------------------------------------------------------


def validate(method: Method, request: ApiRequest, resource: Resource, path: str) -> None:
    """The method's request validator: required parameters, then the body against its model."""
    validator = method.validator
    if validator is None:
        return
    if validator.parameters:
        query = {name for name, _ in request.query}
        present = {
            "querystring": lambda name: name in query,
            "header": lambda name: request.header(name) is not None,
            "path": lambda name: name in resource.path_parameters(path),
        }
        missing = []
        for parameter, required in method.request_parameters.items():
            _, _, location_and_name = parameter.partition("method.request.")
            location, _, name = location_and_name.partition(".")
            check = present.get(location)
            if required and check is not None and not check(name):
                missing.append(name)
        if missing:
            raise GatewayError("BAD_REQUEST_PARAMETERS", f"Missing required request parameters: [{', '.join(missing)}]")
    if validator.body:
        media_type = (request.header("Content-Type") or "application/json").split(";")[0].strip().lower()
        schema = method.request_models.get(media_type, method.request_models.get("$default"))
        if schema is not None and not body_matches(schema, request.body):
            raise GatewayError("BAD_REQUEST_BODY", "Invalid request body")


def body_matches(schema: Mapping[str, Any], body: bytes) -> bool:
    """Whether the body is JSON that the model's schema (draft 4, as API Gateway speaks) accepts."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        # RecursionError: nested deeper than Python's JSON parser goes (~1,000
        # levels); API Gateway refuses such a body as invalid too.
        return False
    try:
        return bool(Draft4Validator(schema).is_valid(document))
    except (SchemaError, RecursionError):
        return False


# --- integrations ---------------------------------------------------------------------------


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


def proxy_event(call: _Call, *, account: str) -> dict[str, Any]:
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
    now = datetime.fromtimestamp(call.started, UTC)
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
        "requestContext": {
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
        },
        "body": body if request.body else None,
        "isBase64Encoded": encoded,
    }
    if call.claims is not None:
        # A Cognito user pool authorizer's verdict: the token's claims, each a string.
        event["requestContext"]["authorizer"] = {"claims": dict(call.claims)}
    return event


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


# --- gateway responses -----------------------------------------------------------------------


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


def _plain(status: int, message: str, error_type: str, request_id: str) -> Response:
    response = Response(json.dumps({"message": message}), status=status, content_type="application/json")
    response.headers["x-amzn-RequestId"] = request_id
    response.headers["x-amzn-ErrorType"] = error_type
    return response
