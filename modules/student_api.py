"""Tutorial sections 4.1-4.9: the ``student`` REST API, its key, usage plan and ``prod`` stage.

Methods are built from ``modules/api_routes.py``: each a Lambda proxy
integration with the API key required, validated at the gateway first. CORS
preflights are MOCK integrations answering for one configured origin, never
``*``; the gateway's own error responses carry the same headers so the page can
read them. The key's value is kept in Secrets Manager for operators; it is in
no output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
from cdktf_cdktf_provider_aws.api_gateway_api_key import ApiGatewayApiKey
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_gateway_response import ApiGatewayGatewayResponse
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
from cdktf_cdktf_provider_aws.api_gateway_integration_response import ApiGatewayIntegrationResponse
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_method_response import ApiGatewayMethodResponse
from cdktf_cdktf_provider_aws.api_gateway_method_settings import (
    ApiGatewayMethodSettings,
    ApiGatewayMethodSettingsSettings,
)
from cdktf_cdktf_provider_aws.api_gateway_model import ApiGatewayModel
from cdktf_cdktf_provider_aws.api_gateway_request_validator import ApiGatewayRequestValidator
from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
from cdktf_cdktf_provider_aws.api_gateway_rest_api import (
    ApiGatewayRestApi,
    ApiGatewayRestApiEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage, ApiGatewayStageAccessLogSettings
from cdktf_cdktf_provider_aws.api_gateway_usage_plan import (
    ApiGatewayUsagePlan,
    ApiGatewayUsagePlanApiStages,
    ApiGatewayUsagePlanQuotaSettings,
    ApiGatewayUsagePlanThrottleSettings,
)
from cdktf_cdktf_provider_aws.api_gateway_usage_plan_key import ApiGatewayUsagePlanKey
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from modules import api_routes
from modules.python_function import PythonFunction

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


class StudentApi(Construct):
    """REST API ``student`` with ``/students`` (GET, POST) and ``/backup`` (POST).

    Attributes: ``api``, ``stage``, ``deployment``, ``api_key``, ``key_secret``,
    ``invoke_url``, ``deployment_fingerprint``.
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
        functions: Mapping[str, PythonFunction],
        limits: UsageLimits,
        log_retention_days: int,
        manage_account_logging_role: bool,
        key_secret_name: str,
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
        api_id = self.api.id
        validate_body = ApiGatewayRequestValidator(
            self,
            "validate-body",
            rest_api_id=api_id,
            name="body-and-parameters",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        validate_parameters = ApiGatewayRequestValidator(
            self,
            "validate-parameters",
            rest_api_id=api_id,
            name="parameters-only",
            validate_request_body=False,
            validate_request_parameters=True,
        )
        schema = api_routes.student_schema()
        self.student_model = ApiGatewayModel(
            self,
            "student-model",
            rest_api_id=api_id,
            name="Student",
            content_type="application/json",
            description="A new student: the five fields, nothing else.",
            schema=json.dumps(schema, sort_keys=True),
        )

        resources = {
            path: ApiGatewayResource(
                self,
                f"resource{path.replace('/', '-')}",
                rest_api_id=api_id,
                parent_id=self.api.root_resource_id,
                path_part=path.strip("/"),
            )
            for path in api_routes.paths()
        }
        served: list[Construct] = []
        for route in api_routes.ROUTES:
            function = functions[route.function].function
            name = f"{route.method.lower()}{route.path.replace('/', '-')}"
            method = ApiGatewayMethod(
                self,
                name,
                rest_api_id=api_id,
                resource_id=resources[route.path].id,
                http_method=route.method,
                authorization="NONE",
                api_key_required=True,
                request_validator_id=(validate_body if route.body_model else validate_parameters).id,
                request_models={"application/json": self.student_model.name} if route.body_model else None,
                request_parameters={f"method.request.querystring.{p}": False for p in route.query_parameters} or None,
            )
            integration = ApiGatewayIntegration(
                self,
                f"{name}-integration",
                rest_api_id=api_id,
                resource_id=resources[route.path].id,
                http_method=method.http_method,
                type="AWS_PROXY",
                integration_http_method="POST",
                uri=function.invoke_arn,
            )
            LambdaPermission(
                self,
                f"{name}-permission",
                function_name=function.function_name,
                action="lambda:InvokeFunction",
                principal="apigateway.amazonaws.com",
                statement_id=f"AllowApiGateway-{route.method}{route.path.replace('/', '-')}",
                # Exactly this method on this path of this API's prod stage.
                source_arn=f"{self.api.execution_arn}/{stage_name}/{route.method}{route.path}",
            )
            served += [method, integration]

        cors_headers = {
            "Access-Control-Allow-Origin": _quoted(allowed_origin),
            "Vary": _quoted("Origin"),
        }
        for path, methods in api_routes.paths().items():
            served += self._preflight(
                api_id=api_id,
                resource=resources[path],
                path=path,
                methods=methods,
                cors_headers=cors_headers,
                validator=validate_parameters,
            )
        for response_type in api_routes.GATEWAY_RESPONSES:
            served.append(
                ApiGatewayGatewayResponse(
                    self,
                    f"gateway-{response_type.lower()}",
                    rest_api_id=api_id,
                    response_type=response_type,
                    response_parameters={f"gatewayresponse.header.{k}": v for k, v in cors_headers.items()},
                    response_templates={"application/json": '{"message":$context.error.messageString}'},
                )
            )

        self.deployment_fingerprint = api_routes.fingerprint(
            allowed_origin=allowed_origin,
            function_names={key: fn.function_name for key, fn in functions.items()},
            endpoint_type=endpoint_type,
        )
        self.deployment = ApiGatewayDeployment(
            self,
            "deployment",
            rest_api_id=api_id,
            description="Redeployed whenever a method, integration, model or CORS answer changes.",
            triggers={"served": self.deployment_fingerprint},
            # The stage moves to the new deployment before the old one goes.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            depends_on=served,
        )

        self.access_logs = CloudwatchLogGroup(
            self, "access-logs", name=f"/aws/apigateway/{api_name}/{stage_name}", retention_in_days=log_retention_days
        )
        account_role = self._account_logging_role() if manage_account_logging_role else None
        self.stage = ApiGatewayStage(
            self,
            "stage",
            rest_api_id=api_id,
            deployment_id=self.deployment.id,
            stage_name=stage_name,
            xray_tracing_enabled=True,
            access_log_settings=ApiGatewayStageAccessLogSettings(
                destination_arn=self.access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            depends_on=[account_role] if account_role else None,
        )
        ApiGatewayMethodSettings(
            self,
            "method-settings",
            rest_api_id=api_id,
            stage_name=self.stage.stage_name,
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

        self.api_key = ApiGatewayApiKey(
            self, "key", name="StudentApiKey", description="Key of the student management page.", enabled=True
        )
        self.usage_plan = ApiGatewayUsagePlan(
            self,
            "usage-plan",
            name="StudentUsagePlan",
            description=f"{limits.rate_per_second} requests/s, bursts of {limits.burst}, {limits.quota_per_day}/day.",
            api_stages=[ApiGatewayUsagePlanApiStages(api_id=api_id, stage=self.stage.stage_name)],
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
        self.invoke_url = self.stage.invoke_url

    def _preflight(
        self,
        *,
        api_id: str,
        resource: ApiGatewayResource,
        path: str,
        methods: tuple[str, ...],
        cors_headers: Mapping[str, str],
        validator: ApiGatewayRequestValidator,
    ) -> list[Construct]:
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
            rest_api_id=api_id,
            resource_id=resource.id,
            http_method="OPTIONS",
            authorization="NONE",
            api_key_required=False,
            request_validator_id=validator.id,
        )
        integration = ApiGatewayIntegration(
            self,
            f"{name}-integration",
            rest_api_id=api_id,
            resource_id=resource.id,
            http_method=method.http_method,
            type="MOCK",
            request_templates={"application/json": '{"statusCode": 200}'},
        )
        response = ApiGatewayMethodResponse(
            self,
            f"{name}-response",
            rest_api_id=api_id,
            resource_id=resource.id,
            http_method="OPTIONS",
            status_code="200",
            response_parameters={f"method.response.header.{h}": True for h in headers},
            depends_on=[method],
        )
        integration_response = ApiGatewayIntegrationResponse(
            self,
            f"{name}-integration-response",
            rest_api_id=api_id,
            resource_id=resource.id,
            http_method="OPTIONS",
            status_code="200",
            response_parameters={f"method.response.header.{h}": v for h, v in headers.items()},
            depends_on=[integration, response],
        )
        return [method, integration, response, integration_response]

    def _account_logging_role(self) -> ApiGatewayAccount:
        """The region's one API Gateway account setting: the role it logs to CloudWatch with."""
        trust = DataAwsIamPolicyDocument(
            self,
            "logging-trust",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="ApiGatewayAssumeRole",
                    effect="Allow",
                    actions=["sts:AssumeRole"],
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(
                            type="Service", identifiers=["apigateway.amazonaws.com"]
                        )
                    ],
                )
            ],
        )
        role = IamRole(
            self,
            "logging-role",
            name="ApiGatewayCloudWatchLogsRole",
            description="API Gateway (this region) writes execution and access logs with this role.",
            assume_role_policy=trust.json,
        )
        permissions = DataAwsIamPolicyDocument(
            self,
            "logging-permissions",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="ListLogGroups",
                    effect="Allow",
                    actions=["logs:DescribeLogGroups"],
                    # DescribeLogGroups has no resource-level permissions.
                    resources=["*"],
                ),
                DataAwsIamPolicyDocumentStatement(
                    sid="WriteApiGatewayLogs",
                    effect="Allow",
                    actions=[
                        "logs:CreateLogGroup",
                        "logs:CreateLogStream",
                        "logs:DescribeLogStreams",
                        "logs:PutLogEvents",
                    ],
                    # API Gateway names execution-log groups after the API id
                    # it has not yet got, and lists groups account-wide: the
                    # account's log groups is the narrowest scope that works.
                    resources=["arn:aws:logs:*:*:log-group:*"],
                ),
            ],
        )
        policy = IamRolePolicy(self, "logging-policy", name="write-logs", role=role.id, policy=permissions.json)
        return ApiGatewayAccount(self, "account", cloudwatch_role_arn=role.arn, depends_on=[policy])
