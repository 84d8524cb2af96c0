"""Tutorial sections 4.1-4.9: the ``student`` REST API, its key, usage plan and ``prod`` stage.

One method per route of the function table (``modules/functions/catalog.py``; the
route, CORS and model data are in ``modules/api/routes.py``): each a Lambda
proxy integration that requires the API key and a signed-in staff member's ID
token (a Cognito user pool authorizer over the ``StaffDirectory`` pool),
validated at the gateway first. CORS
preflights are MOCK integrations answering for one configured origin, never
``*``; the gateway's own error responses carry the same headers so the page can
read them. The key's value is kept in Secrets Manager for operators; it is in
no output.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsii
from constructs import Construct

from engine.aws.api_gateway_api_key import ApiGatewayApiKey
from engine.aws.api_gateway_authorizer import ApiGatewayAuthorizer
from engine.aws.api_gateway_deployment import ApiGatewayDeployment
from engine.aws.api_gateway_gateway_response import ApiGatewayGatewayResponse
from engine.aws.api_gateway_integration import ApiGatewayIntegration
from engine.aws.api_gateway_integration_response import ApiGatewayIntegrationResponse
from engine.aws.api_gateway_method import ApiGatewayMethod
from engine.aws.api_gateway_method_response import ApiGatewayMethodResponse
from engine.aws.api_gateway_method_settings import (
    ApiGatewayMethodSettings,
    ApiGatewayMethodSettingsSettings,
)
from engine.aws.api_gateway_model import ApiGatewayModel
from engine.aws.api_gateway_request_validator import ApiGatewayRequestValidator
from engine.aws.api_gateway_resource import ApiGatewayResource
from engine.aws.api_gateway_rest_api import (
    ApiGatewayRestApi,
    ApiGatewayRestApiEndpointConfiguration,
)
from engine.aws.api_gateway_stage import ApiGatewayStage, ApiGatewayStageAccessLogSettings
from engine.aws.api_gateway_usage_plan import (
    ApiGatewayUsagePlan,
    ApiGatewayUsagePlanApiStages,
    ApiGatewayUsagePlanQuotaSettings,
    ApiGatewayUsagePlanThrottleSettings,
)
from engine.aws.api_gateway_usage_plan_key import ApiGatewayUsagePlanKey
from engine.aws.cloudwatch_log_group import CloudwatchLogGroup
from engine.aws.lambda_permission import LambdaPermission
from engine.aws.secretsmanager_secret import SecretsmanagerSecret
from engine.aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from engine.cdk import (
    DefaultTokenResolver,
    IResolveContext,
    IStringProducer,
    ITerraformDependable,
    Lazy,
    StringConcat,
    TerraformResource,
    TerraformResourceLifecycle,
    TerraformStack,
    Tokenization,
)
from modules.api import routes as api_routes
from modules.api.routes import Route
from modules.functions.python_function import PythonFunction
from modules.identity.staff_directory import StaffDirectory
from modules.shared.naming import qualified

#: One JSON line per request in the access log (no request or response bodies).
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integration.latency",
        "apiKeyId": "$context.identity.apiKeyId",
        "errorMessage": "$context.error.message",
    },
    separators=(",", ":"),
)


@dataclass(frozen=True, kw_only=True)
class UsageLimits:
    """``StudentUsagePlan`` (tutorial section 4.3)."""

    rate_per_second: float = 5
    burst: int = 10
    quota_per_day: int = 1000


def _quoted(value: str) -> str:
    """A static header value in API Gateway's mapping syntax."""
    return f"'{value}'"


def access_log_group_name(api_name: str, stage_name: str) -> str:
    """The log group of a stage's access log."""
    return f"/aws/apigateway/{api_name}/{stage_name}"


class StudentApi(Construct):
    """REST API ``student``: one Lambda proxy method per route, CORS, a key and usage plan, a logged stage.

    ``handlers`` pairs each route with the function that serves it (from the
    function table); every one of them requires a token of ``staff``'s user
    pool. Attributes: ``api``, ``stage``, ``deployment``, ``authorizer``,
    ``api_key``, ``usage_plan``, ``key_secret``, ``invoke_url``,
    ``student_model``, ``access_logs``.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        api_name: str,
        endpoint_type: str,
        stage_name: str,
        allowed_origin: str,
        handlers: Sequence[tuple[Route, PythonFunction]],
        staff: StaffDirectory,
        limits: UsageLimits,
        log_retention_days: int,
        key_secret_name: str,
        stage_depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, id_)
        self.api = ApiGatewayRestApi(
            self,
            "api",
            name=api_name,
            description="Student management: list and add students, trigger a backup.",
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=[endpoint_type]),
            # A change that forces a new API (its endpoint type) brings the new
            # one up before the old one goes.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self._validate_body, self._validate_parameters = self._validators()
        self.authorizer = self._authorizer(staff)
        self.student_model = self._student_model()
        served = self._methods(handlers, allowed_origin=allowed_origin, stage_name=stage_name)
        self.deployment = self._deployment(served)
        self.stage = self._stage(api_name, stage_name, limits, log_retention_days, stage_depends_on)
        self._key_and_usage_plan(limits, key_secret_name)
        self.invoke_url = self.stage.invoke_url

    def _authorizer(self, staff: StaffDirectory) -> ApiGatewayAuthorizer:
        """Every method's check of the caller: an ID token of ``staff``'s user pool."""
        authorizer = api_routes.STAFF_AUTHORIZER
        return ApiGatewayAuthorizer(
            self,
            "staff-authorizer",
            rest_api_id=self.api.id,
            name=authorizer.name,
            type=authorizer.type,
            provider_arns=[staff.user_pool.arn],
            identity_source=authorizer.identity_source,
            authorizer_result_ttl_in_seconds=authorizer.result_ttl_seconds,
        )

    def _student_model(self) -> ApiGatewayModel:
        """The body of a route with a model (a new student), checked by the gateway before the function runs."""
        return ApiGatewayModel(
            self,
            "student-model",
            rest_api_id=self.api.id,
            name="Student",
            content_type="application/json",
            description="A new student: the five fields, nothing else.",
            schema=json.dumps(api_routes.student_schema(), sort_keys=True),
        )

    def _deployment(self, served: list[TerraformResource]) -> ApiGatewayDeployment:
        """The snapshot the stage serves, made again whenever anything it serves changes (``served_triggers``)."""
        shaping = [self.authorizer, self._validate_body, self._validate_parameters, self.student_model, *served]
        return ApiGatewayDeployment(
            self,
            "deployment",
            rest_api_id=self.api.id,
            description="Redeployed whenever anything the stage serves changes.",
            # Produced at synth, once every construct exists: the site's origin is only known then.
            triggers={
                name: Lazy.string_value(_Produced(functools.partial(_trigger, self, shaping, name)))
                for name in TRIGGERS
            },
            # The stage moves to the new deployment before the old one goes.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            depends_on=served,
        )

    def _methods(
        self, handlers: Sequence[tuple[Route, PythonFunction]], *, allowed_origin: str, stage_name: str
    ) -> list[TerraformResource]:
        """Every resource and method: the routes' proxies, CORS preflights, the gateway's own errors."""
        routes = [route for route, _ in handlers]
        resources = {
            path: ApiGatewayResource(
                self,
                f"resource{path.replace('/', '-')}",
                rest_api_id=self.api.id,
                parent_id=self.api.root_resource_id,
                path_part=path.strip("/"),
            )
            for path in api_routes.paths(routes)
        }
        cors_headers = {"Access-Control-Allow-Origin": _quoted(allowed_origin), "Vary": _quoted("Origin")}
        served: list[TerraformResource] = []
        for route, function in handlers:
            served += self._proxy(route, function, resources[route.path], stage_name=stage_name)
        for path, methods in api_routes.paths(routes).items():
            served += self._preflight(resource=resources[path], path=path, methods=methods, cors_headers=cors_headers)
        return served + self._gateway_responses(cors_headers)

    def _validators(self) -> tuple[ApiGatewayRequestValidator, ApiGatewayRequestValidator]:
        """Body and parameters (the POST with a model), parameters only (the rest)."""
        body = ApiGatewayRequestValidator(
            self,
            "validate-body",
            rest_api_id=self.api.id,
            name="body-and-parameters",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        parameters = ApiGatewayRequestValidator(
            self,
            "validate-parameters",
            rest_api_id=self.api.id,
            name="parameters-only",
            validate_request_body=False,
            validate_request_parameters=True,
        )
        return body, parameters

    def _proxy(
        self, route: Route, function: PythonFunction, resource: ApiGatewayResource, *, stage_name: str
    ) -> list[TerraformResource]:
        """The keyed method of one route, its Lambda proxy integration, and the right to invoke."""
        name = f"{route.method.lower()}{route.path.replace('/', '-')}"
        method = ApiGatewayMethod(
            self,
            name,
            rest_api_id=self.api.id,
            resource_id=resource.id,
            http_method=route.method,
            # The key identifies the page (usage plan); the token, the person.
            authorization=api_routes.STAFF_AUTHORIZER.type,
            authorizer_id=self.authorizer.id,
            api_key_required=True,
            request_validator_id=(self._validate_body if route.body_model else self._validate_parameters).id,
            request_models={"application/json": self.student_model.name} if route.body_model else None,
            request_parameters={f"method.request.querystring.{p}": False for p in route.query_parameters} or None,
        )
        integration = ApiGatewayIntegration(
            self,
            f"{name}-integration",
            rest_api_id=self.api.id,
            resource_id=resource.id,
            http_method=method.http_method,
            type="AWS_PROXY",
            integration_http_method="POST",
            uri=function.function.invoke_arn,
        )
        LambdaPermission(
            self,
            f"{name}-permission",
            function_name=function.function.function_name,
            action="lambda:InvokeFunction",
            principal="apigateway.amazonaws.com",
            statement_id=f"AllowApiGateway-{route.method}{route.path.replace('/', '-')}",
            # Exactly this method on this path of this API's prod stage.
            source_arn=f"{self.api.execution_arn}/{stage_name}/{route.method}{route.path}",
        )
        return [method, integration]

    def _gateway_responses(self, cors_headers: Mapping[str, str]) -> list[TerraformResource]:
        """The gateway's own errors (bad key, throttled, invalid body) carry CORS headers and a JSON message."""
        return [
            ApiGatewayGatewayResponse(
                self,
                f"gateway-{response_type.lower()}",
                rest_api_id=self.api.id,
                response_type=response_type,
                response_parameters={f"gatewayresponse.header.{k}": v for k, v in cors_headers.items()},
                response_templates={"application/json": '{"message":$context.error.messageString}'},
            )
            for response_type in api_routes.GATEWAY_RESPONSES
        ]

    def _stage(
        self,
        api_name: str,
        stage_name: str,
        limits: UsageLimits,
        log_retention_days: int,
        depends_on: Sequence[ITerraformDependable],
    ) -> ApiGatewayStage:
        """The ``prod`` stage: traced, access-logged as JSON lines, throttled, no bodies in logs."""
        self.access_logs = CloudwatchLogGroup(
            self, "access-logs", name=access_log_group_name(api_name, stage_name), retention_in_days=log_retention_days
        )
        stage = ApiGatewayStage(
            self,
            "stage",
            rest_api_id=self.api.id,
            deployment_id=self.deployment.id,
            stage_name=stage_name,
            xray_tracing_enabled=True,
            access_log_settings=ApiGatewayStageAccessLogSettings(
                destination_arn=self.access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            depends_on=list(depends_on) or None,
        )
        ApiGatewayMethodSettings(
            self,
            "method-settings",
            rest_api_id=self.api.id,
            stage_name=stage.stage_name,
            method_path="*/*",
            settings=ApiGatewayMethodSettingsSettings(
                metrics_enabled=True,
                logging_level="INFO",
                # Full request/response logging would write students' personal data to logs.
                data_trace_enabled=False,
                throttling_rate_limit=limits.rate_per_second,
                throttling_burst_limit=limits.burst,
            ),
        )
        return stage

    def _key_and_usage_plan(self, limits: UsageLimits, key_secret_name: str) -> None:
        """``StudentApiKey`` in ``StudentUsagePlan`` (sections 4.3-4.4), its value kept in Secrets Manager."""
        self.api_key = ApiGatewayApiKey(
            self,
            "key",
            name=qualified(self, "StudentApiKey"),
            description="Key of the student management page.",
            enabled=True,
        )
        self.usage_plan = ApiGatewayUsagePlan(
            self,
            "usage-plan",
            name=qualified(self, "StudentUsagePlan"),
            description=f"{limits.rate_per_second} requests/s, bursts of {limits.burst}, {limits.quota_per_day}/day.",
            api_stages=[ApiGatewayUsagePlanApiStages(api_id=self.api.id, stage=self.stage.stage_name)],
            throttle_settings=ApiGatewayUsagePlanThrottleSettings(
                rate_limit=limits.rate_per_second, burst_limit=limits.burst
            ),
            quota_settings=ApiGatewayUsagePlanQuotaSettings(limit=limits.quota_per_day, period="DAY"),
        )
        ApiGatewayUsagePlanKey(
            self, "usage-plan-key", key_id=self.api_key.id, key_type="API_KEY", usage_plan_id=self.usage_plan.id
        )
        # Operators fetch the key with `aws secretsmanager get-secret-value`
        # instead of copying it from a console. Terraform state holds it too
        # (as it holds every API key's value): the state bucket is private.
        self.key_secret = SecretsmanagerSecret(
            self,
            "key-secret",
            name=key_secret_name,
            description="Value of StudentApiKey (header x-api-key of the student API).",
            recovery_window_in_days=7,
        )
        SecretsmanagerSecretVersion(
            self, "key-secret-value", secret_id=self.key_secret.id, secret_string=self.api_key.value
        )

    def _preflight(
        self,
        *,
        resource: ApiGatewayResource,
        path: str,
        methods: tuple[str, ...],
        cors_headers: Mapping[str, str],
    ) -> list[TerraformResource]:
        """OPTIONS answered by the gateway itself (MOCK): no function runs, no key needed."""
        name = f"options{path.replace('/', '-')}"
        headers = {
            **cors_headers,
            "Access-Control-Allow-Methods": _quoted(",".join(methods)),
            "Access-Control-Allow-Headers": _quoted(",".join(api_routes.CORS_HEADERS)),
            "Access-Control-Max-Age": _quoted(str(api_routes.CORS_MAX_AGE)),
        }
        method = ApiGatewayMethod(
            self,
            name,
            rest_api_id=self.api.id,
            resource_id=resource.id,
            http_method="OPTIONS",
            authorization="NONE",
            api_key_required=False,
            request_validator_id=self._validate_parameters.id,
        )
        integration = ApiGatewayIntegration(
            self,
            f"{name}-integration",
            rest_api_id=self.api.id,
            resource_id=resource.id,
            http_method=method.http_method,
            type="MOCK",
            request_templates={"application/json": '{"statusCode": 200}'},
        )
        response = ApiGatewayMethodResponse(
            self,
            f"{name}-response",
            rest_api_id=self.api.id,
            resource_id=resource.id,
            http_method="OPTIONS",
            status_code="200",
            response_parameters={f"method.response.header.{h}": True for h in headers},
            depends_on=[method],
        )
        integration_response = ApiGatewayIntegrationResponse(
            self,
            f"{name}-integration-response",
            rest_api_id=self.api.id,
            resource_id=resource.id,
            http_method="OPTIONS",
            status_code="200",
            response_parameters={f"method.response.header.{h}": v for h, v in headers.items()},
            depends_on=[integration, response],
        )
        return [method, integration, response, integration_response]


#: The deployment's triggers (``served_triggers``).
TRIGGERS = ("served", "references")


@jsii.implements(IStringProducer)
class _Produced:
    """A string made when the stack is synthesized (cdktf's ``Lazy``), by a plain function."""

    def __init__(self, make: Callable[[], str]) -> None:
        self._make = make

    def produce(self, context: IResolveContext) -> str:
        return self._make()


def _trigger(scope: Construct, resources: Sequence[TerraformResource], name: str) -> str:
    return served_triggers(scope, resources)[name]


#: A Terraform reference to one attribute of a resource, the only kind of expression the digested resources hold.
_REFERENCE = re.compile(r"[a-z0-9_]+\.[A-Za-z0-9_-]+\.[a-z0-9_]+")


def served_triggers(scope: Construct, resources: Sequence[TerraformResource]) -> dict[str, str]:
    """The deployment's triggers: a digest of every argument of what the stage serves, and of what they refer to.

    API Gateway serves a stage's deployment, a snapshot taken when it was
    made: a changed method, integration, response, validator, model,
    authorizer or gateway response is served only once a new deployment is
    made. ``served`` hashes the resources' whole configuration as synthesized,
    so it misses no argument (a key requirement, a validator's flag, a
    template); ``references`` has Terraform hash the values they refer to that
    are known only after apply (the site's origin in the CORS answers, the user
    pool the authorizer trusts, a function's ARN). Hashing the resources'
    whole state in Terraform instead would follow what a refresh reads back
    (moto and API Gateway rewrite a model's schema), and redeploy every time.
    """
    stack = TerraformStack.of(scope)
    configs: dict[str, Any] = {}
    for resource in resources:
        resolved = Tokenization.resolve(
            resource.to_terraform(), scope=stack, resolver=DefaultTokenResolver(StringConcat())
        )
        for kind, named in resolved["resource"].items():
            for name, config in named.items():
                configs[f"{kind}.{name}"] = config
    text = json.dumps(configs, sort_keys=True)
    references = sorted(set(re.findall(r"\$\{([^}]*)\}", text)))
    unexpected = [expression for expression in references if not _REFERENCE.fullmatch(expression)]
    if unexpected:
        raise ValueError(f"the API's resources hold expressions the deployment trigger cannot follow: {unexpected}")
    return {
        "served": hashlib.sha256(text.encode()).hexdigest(),
        "references": "${sha1(jsonencode([" + ", ".join(references) + "]))}",
    }
