"""Tutorial sections 4.1-4.9 in the synthesized JSON: the student REST API."""

from __future__ import annotations

import dataclasses
import json

import pytest

from lambdas.common import names
from modules import api_routes
from tests.conftest import TARGETS, Synth
from tests.synth_helpers import Doc, policy_statements, ref, resource, resources

APP = "student-management"
API = f"{APP}/api"
FUNCTIONS = {"read": "getStudentData", "insert": "insertStudentData", "backup": "BackupDynamoDBAndSendEmail"}
FUNCTION_CONSTRUCTS = {"read": "read-function", "insert": "insert-function", "backup": "backup-function"}
ORIGIN = "http://localhost:8000"


@pytest.fixture(params=TARGETS)
def app(request: pytest.FixtureRequest, synth: dict[str, Synth]) -> Doc:
    return synth[request.param].stack(APP)


def api_ref(stack: Doc, attribute: str) -> str:
    return ref(stack, "aws_api_gateway_rest_api", f"{API}/api", attribute)


def test_rest_api_is_named_student_and_regional(app: Doc) -> None:
    api = resource(app, "aws_api_gateway_rest_api", f"{API}/api")
    assert api["name"] == "student"
    assert api["endpoint_configuration"] == {"types": ["REGIONAL"]}


def test_resources_are_students_and_backup_under_the_root(app: Doc) -> None:
    found = {r["path_part"]: r for r in resources(app, "aws_api_gateway_resource").values()}
    assert set(found) == {"students", "backup"}
    for body in found.values():
        assert body["parent_id"] == api_ref(app, "root_resource_id")


@pytest.mark.parametrize("route", api_routes.ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_each_route_is_a_keyed_lambda_proxy(app: Doc, route: api_routes.Route) -> None:
    name = f"{route.method.lower()}{route.path.replace('/', '-')}"
    method = resource(app, "aws_api_gateway_method", f"{API}/{name}")
    assert method["http_method"] == route.method
    assert method["api_key_required"] is True
    assert method["authorization"] == "NONE"
    assert method["resource_id"] == ref(
        app, "aws_api_gateway_resource", f"{API}/resource{route.path.replace('/', '-')}", "id"
    )
    integration = resource(app, "aws_api_gateway_integration", f"{API}/{name}-integration")
    assert integration["type"] == "AWS_PROXY"
    assert integration["integration_http_method"] == "POST"
    function = f"{APP}/{FUNCTION_CONSTRUCTS[route.function]}/function"
    assert integration["uri"] == ref(app, "aws_lambda_function", function, "invoke_arn")
    permission = resource(app, "aws_lambda_permission", f"{API}/{name}-permission")
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["function_name"] == ref(app, "aws_lambda_function", function, "function_name")
    assert permission["source_arn"] == api_ref(app, "execution_arn") + f"/prod/{route.method}{route.path}"


def test_post_students_body_is_validated_against_the_student_model(app: Doc) -> None:
    method = resource(app, "aws_api_gateway_method", f"{API}/post-students")
    model = resource(app, "aws_api_gateway_model", f"{API}/student-model")
    assert method["request_models"] == {
        "application/json": ref(app, "aws_api_gateway_model", f"{API}/student-model", "name")
    }
    validator = resource(app, "aws_api_gateway_request_validator", f"{API}/validate-body")
    assert method["request_validator_id"] == ref(app, "aws_api_gateway_request_validator", f"{API}/validate-body", "id")
    assert validator["validate_request_body"] is True
    schema = json.loads(model["schema"])
    assert schema == api_routes.student_schema()
    assert schema["additionalProperties"] is False
    assert schema["required"] == list(names.STUDENT_FIELDS)
    assert all(schema["properties"][field]["type"] == "string" for field in names.STUDENT_FIELDS)
    assert schema["properties"]["studentid"]["pattern"] == "^[A-Za-z0-9_-]{1,32}$"


def test_get_students_declares_its_query_parameters_for_validation(app: Doc) -> None:
    method = resource(app, "aws_api_gateway_method", f"{API}/get-students")
    assert method["request_parameters"] == {
        "method.request.querystring.limit": False,
        "method.request.querystring.nextToken": False,
        "method.request.querystring.studentid": False,
    }
    validator = resource(app, "aws_api_gateway_request_validator", f"{API}/validate-parameters")
    assert validator["validate_request_parameters"] is True
    assert method["request_validator_id"] == ref(
        app, "aws_api_gateway_request_validator", f"{API}/validate-parameters", "id"
    )


@pytest.mark.parametrize(("path", "methods"), [("/students", "GET,POST,OPTIONS"), ("/backup", "POST,OPTIONS")])
def test_cors_preflight_is_a_mock_for_the_configured_origin(app: Doc, path: str, methods: str) -> None:
    name = f"options{path.replace('/', '-')}"
    method = resource(app, "aws_api_gateway_method", f"{API}/{name}")
    assert method["http_method"] == "OPTIONS"
    assert method["api_key_required"] is False
    integration = resource(app, "aws_api_gateway_integration", f"{API}/{name}-integration")
    assert integration["type"] == "MOCK"
    answer = resource(app, "aws_api_gateway_integration_response", f"{API}/{name}-integration-response")
    assert answer["response_parameters"] == {
        "method.response.header.Access-Control-Allow-Origin": f"'{ORIGIN}'",
        "method.response.header.Vary": "'Origin'",
        "method.response.header.Access-Control-Allow-Methods": f"'{methods}'",
        "method.response.header.Access-Control-Allow-Headers": "'Content-Type,x-api-key'",
        "method.response.header.Access-Control-Max-Age": "'600'",
    }


def test_no_cors_answer_allows_every_origin(app: Doc) -> None:
    text = json.dumps(app)
    assert "Access-Control-Allow-Origin\": \"'*'" not in text
    assert "'*'" not in text


@pytest.mark.parametrize("response_type", api_routes.GATEWAY_RESPONSES)
def test_gateway_errors_carry_cors_headers(app: Doc, response_type: str) -> None:
    response = resource(app, "aws_api_gateway_gateway_response", f"{API}/gateway-{response_type.lower()}")
    assert response["response_type"] == response_type
    assert response["response_parameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{ORIGIN}'"


def test_usage_plan_key_and_stage(app: Doc) -> None:
    plan = resource(app, "aws_api_gateway_usage_plan", f"{API}/usage-plan")
    assert plan["name"] == "StudentUsagePlan"
    assert plan["throttle_settings"] == {"rate_limit": 5, "burst_limit": 10}
    assert plan["quota_settings"] == {"limit": 1000, "period": "DAY"}
    assert plan["api_stages"] == [
        {"api_id": api_ref(app, "id"), "stage": ref(app, "aws_api_gateway_stage", f"{API}/stage", "stage_name")}
    ]
    key = resource(app, "aws_api_gateway_api_key", f"{API}/key")
    assert key["name"] == "StudentApiKey"
    attachment = resource(app, "aws_api_gateway_usage_plan_key", f"{API}/usage-plan-key")
    assert attachment["key_id"] == ref(app, "aws_api_gateway_api_key", f"{API}/key", "id")
    assert attachment["usage_plan_id"] == ref(app, "aws_api_gateway_usage_plan", f"{API}/usage-plan", "id")
    assert attachment["key_type"] == "API_KEY"


def test_prod_stage_logs_traces_and_throttles(app: Doc) -> None:
    stage = resource(app, "aws_api_gateway_stage", f"{API}/stage")
    assert stage["stage_name"] == "prod"
    assert stage["xray_tracing_enabled"] is True
    assert stage["access_log_settings"]["destination_arn"] == ref(
        app, "aws_cloudwatch_log_group", f"{API}/access-logs", "arn"
    )
    fields = json.loads(stage["access_log_settings"]["format"])
    assert {"requestId", "ip", "httpMethod", "resourcePath", "status", "apiKeyId"} <= set(fields)
    logs = resource(app, "aws_cloudwatch_log_group", f"{API}/access-logs")
    assert logs["retention_in_days"] == 365
    settings = resource(app, "aws_api_gateway_method_settings", f"{API}/method-settings")
    assert settings["method_path"] == "*/*"
    assert settings["settings"] == {
        "metrics_enabled": True,
        "logging_level": "INFO",
        "data_trace_enabled": False,
        "throttling_rate_limit": 5,
        "throttling_burst_limit": 10,
    }


def test_deployment_trigger_is_the_fingerprint_of_what_is_served(app: Doc) -> None:
    deployment = resource(app, "aws_api_gateway_deployment", f"{API}/deployment")
    assert deployment["lifecycle"] == {"create_before_destroy": True}
    expected = api_routes.fingerprint(allowed_origin=ORIGIN, function_names=FUNCTIONS, endpoint_type="REGIONAL")
    assert deployment["triggers"] == {"served": expected}
    assert len(deployment["depends_on"]) >= 3 * 2 + 2 * 4 + len(api_routes.GATEWAY_RESPONSES)


@pytest.mark.parametrize(
    "change",
    [
        "integration target",
        "new method",
        "body validation",
        "cors origin",
        "function renamed",
    ],
)
def test_a_change_to_what_is_served_changes_the_trigger(change: str) -> None:
    base = {"allowed_origin": ORIGIN, "function_names": FUNCTIONS, "endpoint_type": "REGIONAL"}
    before = api_routes.fingerprint(**base)  # type: ignore[arg-type]
    routes = api_routes.ROUTES
    if change == "integration target":
        routes = (dataclasses.replace(routes[0], function="backup"), *routes[1:])
    elif change == "new method":
        routes = (*routes, api_routes.Route("/backup", "GET", "read"))
    elif change == "body validation":
        routes = (routes[0], dataclasses.replace(routes[1], body_model=False), routes[2])
    changed = dict(base)
    if change == "cors origin":
        changed["allowed_origin"] = "https://d111.cloudfront.net"
    if change == "function renamed":
        changed["function_names"] = {**FUNCTIONS, "read": "getStudentDataV2"}
    after = api_routes.fingerprint(routes=routes, **changed)  # type: ignore[arg-type]
    assert after != before
    assert api_routes.fingerprint(**base) == before  # type: ignore[arg-type]


def test_api_key_value_is_kept_in_a_secret_and_in_no_output(app: Doc) -> None:
    secret = resource(app, "aws_secretsmanager_secret", f"{API}/key-secret")
    assert secret["name"] == "student-management/api-key"
    version = resource(app, "aws_secretsmanager_secret_version", f"{API}/key-secret-value")
    assert version["secret_string"] == ref(app, "aws_api_gateway_api_key", f"{API}/key", "value")
    assert version["secret_id"] == ref(app, "aws_secretsmanager_secret", f"{API}/key-secret", "id")
    for output in app["output"].values():
        assert ".value}" not in json.dumps(output)


def test_outputs_name_the_api(app: Doc) -> None:
    outputs = app["output"]
    assert outputs[names.OUTPUT_API_URL]["value"] == ref(app, "aws_api_gateway_stage", f"{API}/stage", "invoke_url")
    assert outputs[names.OUTPUT_API_ID]["value"] == api_ref(app, "id")
    assert outputs[names.OUTPUT_API_KEY_SECRET_ARN]["value"] == ref(
        app, "aws_secretsmanager_secret", f"{API}/key-secret", "arn"
    )


def test_account_logging_role_is_scoped_to_log_groups(app: Doc) -> None:
    account = resource(app, "aws_api_gateway_account", f"{API}/account")
    assert account["cloudwatch_role_arn"] == ref(app, "aws_iam_role", f"{API}/logging-role", "arn")
    statements = policy_statements(app, f"{API}/logging-permissions")
    assert statements["ListLogGroups"]["actions"] == ["logs:DescribeLogGroups"]
    assert statements["WriteApiGatewayLogs"]["resources"] == ["arn:aws:logs:*:*:log-group:*"]
