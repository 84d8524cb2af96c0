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
for its type (``responses.py``).

As API Gateway does, the edge serves a stage from its deployment, the
snapshot taken by the last ``CreateDeployment`` (``deployment/apigateway.py``);
the stages, usage plans and keys are read as they are now.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Final

from local.edge.apigateway.authorizer import CognitoAuthorizer, Misconfigured, Refused, Unavailable
from local.edge.apigateway.integrations import may_invoke, mock_response, proxy_event, proxy_response
from local.edge.apigateway.request import ApiAnswer, ApiRequest, Call, GatewayError, missing_token
from local.edge.apigateway.responses import error_response, plain
from local.edge.apigateway.usage import Meter
from local.edge.apigateway.validation import validate
from local.edge.awslambda.functions import Functions
from local.edge.deployment.apigateway import Integration, Method, RestApi, Stage
from local.edge.deployment.errors import NotDeployed
from local.edge.deployment.reader import Deployment

API_KEY_HEADER: Final = "x-api-key"


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
        call = Call(request=request, request_id=str(uuid.uuid4()))
        try:
            call.api = self._deployment.rest_api(request.api_id, call.stage_name)
        except NotDeployed as missing:
            self._log(f"gateway: {missing}")
            # No such API behind the host: API Gateway's own answer, no gateway response to shape it.
            return ApiAnswer(plain(403, "Forbidden", "ForbiddenException", call.request_id))
        try:
            return self._serve(call, call.api)
        except GatewayError as error:
            return ApiAnswer(error_response(call.api, error, call.context()), error.function)

    def _serve(self, call: Call, api: RestApi) -> ApiAnswer:
        request = call.request
        call.stage = api.stages.get(call.stage_name)
        call.resource = api.resource_for(call.resource_path) if call.stage else None
        if call.stage is None or call.resource is None:
            raise missing_token()
        method = call.resource.methods.get(request.method) or call.resource.methods.get("ANY")
        if method is None:
            raise missing_token()
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

    def _authorize(self, call: Call, api: RestApi, method: Method) -> None:
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

    def _admit(self, call: Call, api: RestApi, stage: Stage, method: Method) -> None:
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

    def _proxy(self, call: Call, integration: Integration, method: Method) -> ApiAnswer:
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
