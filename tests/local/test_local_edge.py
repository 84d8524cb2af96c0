"""The local edge (``local/edge``) without an emulator: its rules, and its function workers.

The deployment is built by hand in the shapes ``deployment.py`` reads from the
emulator, so each test states the configuration it serves; the workers run
real processes from a temporary code directory standing in for a deployed zip.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from config.settings import AppConfig, DeployTarget
from local.edge.apigateway.gateway import Gateway
from local.edge.apigateway.integrations import proxy_response
from local.edge.apigateway.request import ApiRequest, GatewayError
from local.edge.apigateway.responses import error_response
from local.edge.apigateway.usage import Meter, quota_period
from local.edge.apigateway.validation import body_matches
from local.edge.awslambda.functions import Functions
from local.edge.awslambda.roles import RoleCredentials
from local.edge.awslambda.worker import (
    EMULATOR_VARIABLES,
    RUNTIME_PYTHON,
    RUNTIME_VARIABLES,
    Invocation,
    LogLine,
    Usage,
    Worker,
    WorkerKey,
)
from local.edge.cloudfront import site
from local.edge.deployment.apigateway import (
    ApiKey,
    GatewayResponse,
    Integration,
    IntegrationResponse,
    Method,
    Quota,
    Resource,
    RestApi,
    Stage,
    Throttle,
    UsagePlan,
    Validator,
)
from local.edge.deployment.awslambda import Function
from local.edge.deployment.cloudfront import Behaviour, Origin
from local.edge.deployment.errors import NotDeployed
from tests.conftest import ROOT

API_ID = "abc123"
KEY = "k" * 40
ORIGIN = "http://localhost:8000"
ACCOUNT = "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:echo"
URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"
SCHEMA = {
    "type": "object",
    "required": ["studentid"],
    "additionalProperties": False,
    "properties": {"studentid": {"type": "string", "pattern": "^[A-Z0-9]+$"}},
}
CORS = {"gatewayresponse.header.Access-Control-Allow-Origin": f"'{ORIGIN}'"}
TEMPLATE = {"application/json": '{"message":$context.error.messageString}'}

#: The function code the workers run: its handler answers with what it was given.
HANDLER = """
import decimal, json, os, sys, time

def lambda_handler(event, context):
    body = json.loads(event["body"] or "{}")
    if body.get("sleep"):
        time.sleep(body["sleep"])
    if body.get("allocate_mb"):
        held = bytearray(body["allocate_mb"] * 1024 * 1024)
        time.sleep(0.2)
        del held
    if body.get("answer") == "set":
        return {"statusCode": 200, "body": "{}", "headers": {"x": {1, 2}}}
    if body.get("answer") == "nan":
        return {"statusCode": 200, "body": "{}", "headers": {"x": float("nan")}}
    if body.get("answer") == "decimal":
        return {"statusCode": 200, "body": "{}", "headers": {"x": decimal.Decimal("12345678901234567890.5")}}
    if body.get("answer") == "unicode":
        return {"statusCode": 200, "body": "Nguyễn", "headers": {}}
    if body.get("fail"):
        raise ValueError("broken on purpose")
    if body.get("malformed"):
        return {"statusCode": 200, "unexpected": True}
    print(json.dumps({"message": "handled", "requestId": context.aws_request_id}))
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "Access-Control-Allow-Origin": os.environ["ALLOWED_ORIGIN"]},
        "body": json.dumps({
            "event": event,
            "environ": dict(os.environ),
            "path": sys.path,
            "remaining": context.get_remaining_time_in_millis(),
            "function": context.function_name,
        }),
    }
"""


#: What the emulator's STS would hand a worker for its execution role: these tests have no emulator
#: (``tests/local/test_local_edge_roles.py`` obtains real ones from a moto server).
ROLE_CREDENTIALS = RoleCredentials("ASIAEDGETESTROLE0001", "role-secret", "role-session-token", expires_at=math.inf)


def worker_pool(config: AppConfig, log: LogLine) -> Functions:
    """Workers whose role credentials are ``ROLE_CREDENTIALS``."""
    return Functions(config, log, credentials=lambda function: ROLE_CREDENTIALS)


def local_config(tmp_path: Path) -> AppConfig:
    return AppConfig(deploy_target=DeployTarget.LOCAL, emulator_state_dir=tmp_path / "emulator", emulator_port=4999)


def function_config(*, timeout: int = 3, origin: str = ORIGIN, api_id: str = API_ID) -> Function:
    policy = {
        "Effect": "Allow",
        "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": FUNCTION_ARN,  # as Lambda writes every statement of a function's policy
        "Condition": {"ArnLike": {"AWS:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/prod/*/echo"}},
    }
    return Function(
        name="echo",
        arn=FUNCTION_ARN,
        handler="app.handler.lambda_handler",
        runtime="python3.13",
        timeout_seconds=timeout,
        memory_mb=128,
        code_sha256="c29tZSBjb2Rl",
        environment=(("ALLOWED_ORIGIN", origin), ("TABLE_NAME", "studentData")),
        policy=(policy,),
    )


def rest_api(
    *, key_required: bool = True, plan: UsagePlan | None = None, stage_throttle: Throttle | None = None
) -> RestApi:
    proxy = Integration("AWS_PROXY", URI, {}, (), 29_000)
    mock = Integration(
        "MOCK",
        "",
        {"application/json": '{"statusCode": 200}'},
        (IntegrationResponse("200", "", {"method.response.header.Access-Control-Allow-Origin": f"'{ORIGIN}'"}, {}),),
        29_000,
    )
    validator = Validator(body=True, parameters=True)
    methods = {
        "POST": Method("POST", key_required, validator, {"application/json": SCHEMA}, {}, proxy),
        "GET": Method("GET", key_required, validator, {}, {"method.request.querystring.limit": True}, proxy),
        "OPTIONS": Method("OPTIONS", False, None, {}, {}, mock),
    }
    plan = plan or UsagePlan("plan", Throttle(100, 100), Quota(1000, "DAY"), frozenset({"key-id"}))
    throttles = {"*/*": stage_throttle} if stage_throttle else {}
    return RestApi(
        id=API_ID,
        resources=(Resource("root", "/", {}), Resource("echo", "/echo", methods)),
        stages={"prod": Stage("prod", {}, throttles)},
        usage_plans={"prod": (plan,)},
        keys=(ApiKey("key-id", KEY, True),),
        gateway_responses={
            name: GatewayResponse(None, CORS, TEMPLATE) for name in ("DEFAULT_4XX", "DEFAULT_5XX", "INVALID_API_KEY")
        },
    )


def logged(lines: list[tuple[str, str]], wanted: Callable[[str, str], bool], *, timeout_s: float = 5) -> str:
    """The first log line ``wanted`` accepts: a worker's own output is copied into the log by a thread of
    its own, so it may arrive after the answer (as CloudWatch Logs receives it after the response)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = next((line for name, line in list(lines) if wanted(name, line)), None)
        if found is not None:
            return found
        time.sleep(0.02)
    raise AssertionError(f"no such log line after {timeout_s} s: {lines}")


def open_post_api() -> RestApi:
    """``POST /echo`` with neither key nor validator: whatever the body, the function answers it."""
    base = rest_api(key_required=False)
    post = base.resources[1].methods["POST"]
    methods = {"POST": Method("POST", False, None, {}, {}, post.integration)}
    return RestApi(API_ID, (Resource("echo", "/echo", methods),), base.stages, {}, (), base.gateway_responses)


class FakeDeployment:
    """What ``Deployment`` answers, from values a test sets."""

    def __init__(self, api: RestApi, function: Function) -> None:
        self.api = api
        self.function_config: Function | None = function

    def rest_api(self, api_id: str, stage_name: str = "prod") -> RestApi:
        if api_id != self.api.id:
            raise NotDeployed(api_id)
        return self.api

    def function(self, arn: str) -> Function:
        if self.function_config is None or arn != self.function_config.arn:
            raise NotDeployed(arn)
        return self.function_config


@pytest.fixture
def code(tmp_path: Path) -> Path:
    package = tmp_path / "code" / "app"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(textwrap.dedent(HANDLER))
    return tmp_path / "code"


@pytest.fixture
def functions(tmp_path: Path, code: Path) -> Iterator[tuple[Functions, list[tuple[str, str]]]]:
    lines: list[tuple[str, str]] = []
    pool = worker_pool(local_config(tmp_path), lambda name, line: lines.append((name, line)))
    pool._code.directory = lambda function: code  # type: ignore[method-assign] # the zip is already "extracted"
    yield pool, lines
    pool.stop()


def request(
    method: str = "POST",
    path: str = "/prod/echo",
    *,
    body: Any = None,
    key: str | None = KEY,
    query: tuple[tuple[str, str], ...] = (),
    content_type: str = "application/json",
) -> ApiRequest:
    headers = Headers({"Content-Type": content_type, "User-Agent": "test"})
    if key is not None:
        headers["x-api-key"] = key
    data = json.dumps(body).encode() if body is not None else b""
    return ApiRequest(API_ID, method, path, query, headers, data, "127.0.0.1", "localhost:8001")


def gateway_for(deployment: FakeDeployment, pool: Functions) -> Gateway:
    return Gateway(deployment, pool, Meter(), lambda note: None)  # type: ignore[arg-type] # a duck-typed deployment


def answer_json(answer: Any) -> Any:
    return json.loads(answer.response.get_data())


# --- the gateway ---------------------------------------------------------------------------


def test_proxy_event_and_response_pass_through_unchanged(functions: Any) -> None:
    pool, lines = functions
    gateway = gateway_for(FakeDeployment(rest_api(), function_config()), pool)
    answer = gateway.handle(request(body={"studentid": "SV1"}, query=(("a", "1"), ("a", "2"))))
    assert answer.response.status_code == 200, answer.response.get_data()
    assert answer.function == "echo"
    assert answer.response.headers["Access-Control-Allow-Origin"] == ORIGIN
    seen = answer_json(answer)
    event = seen["event"]
    assert event["resource"] == "/echo"
    assert event["path"] == "/echo"
    assert event["requestContext"]["path"] == "/prod/echo"
    assert event["requestContext"]["stage"] == "prod"
    assert event["requestContext"]["accountId"] == ACCOUNT
    assert event["requestContext"]["identity"]["apiKeyId"] == "key-id"
    assert event["queryStringParameters"] == {"a": "2"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None
    assert json.loads(event["body"]) == {"studentid": "SV1"}
    assert event["isBase64Encoded"] is False
    assert seen["function"] == "echo"
    assert 0 < seen["remaining"] <= 3000
    assert logged(lines, lambda name, line: name == "echo" and line.startswith("{") and "handled" in line)


#: The variables AWS documents that the Lambda runtime sets, as its developer guide lists them
#: ("Defined runtime environment variables"), less those with no counterpart here (the runtime API's
#: address; the X-Ray trace header, set per traced invocation).
DOCUMENTED_RUNTIME_VARIABLES = {
    "_HANDLER", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ",
    "LANG", "PATH", "LD_LIBRARY_PATH", "PYTHONPATH",
}  # fmt: skip


def test_worker_environment_is_the_runtimes_documented_variables_and_the_configuration(
    functions: Any, code: Path
) -> None:
    pool, _ = functions
    gateway = gateway_for(FakeDeployment(rest_api(), function_config()), pool)
    seen = answer_json(gateway.handle(request(body={"studentid": "SV1"})))
    environ, path = seen["environ"], seen["path"]
    configured = dict(function_config().environment)
    # Python itself may add LC_CTYPE when it coerces the C locale; nothing else.
    extra = set(environ) - DOCUMENTED_RUNTIME_VARIABLES - EMULATOR_VARIABLES - set(configured) - {"LC_CTYPE"}
    assert extra == set(), f"variables AWS's runtime does not set: {sorted(extra)}"
    assert RUNTIME_VARIABLES <= DOCUMENTED_RUNTIME_VARIABLES
    assert {name: environ[name] for name in configured} == configured
    assert "AWS_LAMBDA_FUNCTION_TIMEOUT" not in environ
    assert environ["_HANDLER"] == "app.handler.lambda_handler"
    assert environ["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert environ["AWS_ENDPOINT_URL"] == "https://127.0.0.1:4999"
    assert environ["AWS_ACCESS_KEY_ID"] == environ["AWS_ACCESS_KEY"] == ROLE_CREDENTIALS.access_key_id
    assert environ["AWS_SESSION_TOKEN"] == ROLE_CREDENTIALS.session_token
    assert path[0] == str(code)
    project = str(ROOT)
    assert project not in path and "" not in path


def test_workers_run_the_deployed_runtimes_python_and_say_so(functions: Any) -> None:
    pool, lines = functions
    gateway = gateway_for(FakeDeployment(rest_api(), function_config()), pool)
    assert gateway.handle(request(body={"studentid": "SV1"})).response.status_code == 200
    init = logged(lines, lambda _, line: line.startswith("INIT_START"))
    runtime = subprocess.run(
        [str(RUNTIME_PYTHON), "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert f"python:{runtime} ({RUNTIME_PYTHON}, botocore 1.38.46)" in init, init
    report = next(line for name, line in lines if line.startswith("REPORT"))
    for figure in ("Duration:", "Billed Duration:", "Memory Size: 128 MB", "Max Memory Used:", "CPU Time:"):
        assert figure in report, report
    assert "Projected AWS Duration:" in report


def test_the_runtime_environment_is_python_3_13_where_the_machine_has_it(tmp_path: Path) -> None:
    script = ROOT / "pipeline" / "runtime-python.sh"
    found = subprocess.run([str(script)], capture_output=True, text=True, check=True)
    if found.stdout.strip().endswith("python3.13"):
        version = subprocess.run([str(RUNTIME_PYTHON), "--version"], capture_output=True, text=True, check=True)
        assert version.stdout.startswith("Python 3.13."), "make setup built .venv-runtime with another Python"
    # Without one, it falls back to the Python it is given and says so.
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    fallback = subprocess.run([str(script), sys.executable], capture_output=True, text=True, check=True, env=bare)
    assert fallback.stdout.strip() == sys.executable
    assert "warning: no Python 3.13 on this machine" in fallback.stderr
    assert "rerun 'make setup'" in fallback.stderr


def test_a_function_past_its_memory_is_ended_and_the_gateway_answers_502(functions: Any) -> None:
    pool, lines = functions
    api = open_post_api()
    gateway = gateway_for(FakeDeployment(api, function_config()), pool)
    answer = gateway.handle(request(key=None, body={"allocate_mb": 200}))
    assert (answer.response.status_code, answer_json(answer)) == (502, {"message": "Internal server error"})
    assert any("Runtime.OutOfMemory: the function ran out of memory" in line for _, line in lines), lines
    report = [line for _, line in lines if line.startswith("REPORT")][-1]
    assert "Max Memory Used: 128 MB" in report
    # The next invocation gets a fresh worker, as Lambda starts a new execution environment.
    assert gateway.handle(request(key=None, body={})).response.status_code == 200


def test_projected_aws_duration_scales_cpu_time_to_the_functions_vcpu_share() -> None:
    waiting = Usage(duration_s=2.0, cpu_s=0.0, max_memory_mb=60, memory_mb=128)
    assert waiting.projected_aws_s == 2.0
    busy = Usage(duration_s=1.0, cpu_s=1.0, max_memory_mb=60, memory_mb=128)
    assert busy.projected_aws_s == pytest.approx(1769 / 128)
    both = Usage(duration_s=3.0, cpu_s=1.0, max_memory_mb=60, memory_mb=1769)
    assert both.projected_aws_s == pytest.approx(3.0)
    beyond = Usage(duration_s=1.0, cpu_s=1.0, max_memory_mb=60, memory_mb=3538)
    assert beyond.projected_aws_s == pytest.approx(1.0), "one thread runs no faster on a second vCPU"


def invoke_directly(pool: Functions, body: Any) -> Invocation:
    event = {"body": json.dumps(body), "requestContext": {}}
    return pool.invoke(function_config(), event, "direct").result(timeout=10)


def test_results_are_encoded_as_the_lambda_runtime_encodes_them(functions: Any) -> None:
    pool, _ = functions
    unicode = invoke_directly(pool, {"answer": "unicode"})
    assert unicode.payload is not None and '"body": "Nguyễn"' in unicode.payload, "python3.13 writes no \\u escapes"
    exact = invoke_directly(pool, {"answer": "decimal"})
    assert exact.payload is not None and "12345678901234567890.5" in exact.payload, "a Decimal keeps its digits"
    unencodable = invoke_directly(pool, {"answer": "set"})
    assert unencodable.error is not None and unencodable.error["errorType"] == "Runtime.MarshalError"
    assert unencodable.error["errorMessage"].startswith("Unable to marshal response:")
    # simplejson (3.19 and later) refuses NaN and Infinity: no bare word reaches API Gateway.
    nan = invoke_directly(pool, {"answer": "nan"})
    assert nan.error is not None and nan.error["errorType"] == "Runtime.MarshalError"


@pytest.mark.parametrize("answer", ["set", "nan"])
def test_an_answer_the_runtime_cannot_encode_or_api_gateway_cannot_read_is_502(functions: Any, answer: str) -> None:
    pool, _ = functions
    api = open_post_api()
    reply = gateway_for(FakeDeployment(api, function_config()), pool).handle(request(key=None, body={"answer": answer}))
    assert (reply.response.status_code, answer_json(reply)) == (502, {"message": "Internal server error"})


def test_api_gateway_reads_an_answer_as_strict_json() -> None:
    assert Invocation(payload='{"name": "Nguyễn"}').result == {"name": "Nguyễn"}
    with pytest.raises(ValueError, match="NaN is not JSON"):
        _ = Invocation(payload='{"x": NaN}').result


@pytest.mark.parametrize(
    ("incoming", "status", "message"),
    [
        (request(key=None, body={"studentid": "SV1"}), 403, "Forbidden"),
        (request(key="wrong", body={"studentid": "SV1"}), 403, "Forbidden"),
        (request(path="/prod/nothing"), 403, "Missing Authentication Token"),
        (request(path="/dev/echo", body={"studentid": "SV1"}), 403, "Missing Authentication Token"),
        (request(method="DELETE"), 403, "Missing Authentication Token"),
        (request(body={"studentid": "lower"}), 400, "Invalid request body"),
        (request(body={"studentid": "SV1", "extra": 1}), 400, "Invalid request body"),
        (request(method="GET"), 400, "Missing required request parameters: [limit]"),
    ],
)
def test_gateway_refuses_before_any_function_runs(
    functions: Any, incoming: ApiRequest, status: int, message: str
) -> None:
    pool, lines = functions
    answer = gateway_for(FakeDeployment(rest_api(), function_config()), pool).handle(incoming)
    assert (answer.response.status_code, answer_json(answer)) == (status, {"message": message})
    # DEFAULT_4XX (or the type's own response) carries the CORS header with its quotes stripped.
    assert answer.response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert answer.function is None
    assert lines == []


def test_options_is_answered_by_the_mock_integration_without_a_key(functions: Any) -> None:
    pool, lines = functions
    answer = gateway_for(FakeDeployment(rest_api(), function_config()), pool).handle(request("OPTIONS", key=None))
    assert answer.response.status_code == 200
    assert answer.response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert lines == []


def test_method_without_key_requirement_needs_no_key(functions: Any) -> None:
    pool, _ = functions
    gateway = gateway_for(FakeDeployment(rest_api(key_required=False), function_config()), pool)
    assert gateway.handle(request(key=None, body={"studentid": "SV1"})).response.status_code == 200


def test_key_outside_a_plan_of_this_stage_is_refused(functions: Any) -> None:
    pool, _ = functions
    other_plan = UsagePlan("plan", None, None, frozenset({"another-key"}))
    gateway = gateway_for(FakeDeployment(rest_api(plan=other_plan), function_config()), pool)
    assert gateway.handle(request(body={"studentid": "SV1"})).response.status_code == 403


def test_usage_plan_throttle_and_quota(functions: Any) -> None:
    pool, _ = functions
    plan = UsagePlan("plan", Throttle(0.001, 2), None, frozenset({"key-id"}))
    gateway = gateway_for(FakeDeployment(rest_api(plan=plan), function_config()), pool)
    statuses = [gateway.handle(request(body={"studentid": "SV1"})).response.status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = UsagePlan("plan", None, Quota(1, "DAY"), frozenset({"key-id"}))
    gateway = gateway_for(FakeDeployment(rest_api(plan=limited), function_config()), pool)
    assert gateway.handle(request(body={"studentid": "SV1"})).response.status_code == 200
    refused = gateway.handle(request(body={"studentid": "SV1"}))
    assert (refused.response.status_code, answer_json(refused)) == (429, {"message": "Limit Exceeded"})


def test_stage_method_throttle_applies_to_every_caller(functions: Any) -> None:
    pool, _ = functions
    gateway = gateway_for(
        FakeDeployment(rest_api(key_required=False, stage_throttle=Throttle(0.001, 1)), function_config()), pool
    )
    first = gateway.handle(request(key=None, body={"studentid": "SV1"}))
    second = gateway.handle(request(key=None, body={"studentid": "SV1"}))
    assert (first.response.status_code, second.response.status_code) == (200, 429)
    assert answer_json(second) == {"message": "Too Many Requests"}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [({"fail": True}, 502, "Internal server error"), ({"malformed": True}, 502, "Internal server error")],
)
def test_function_error_or_malformed_answer_is_502(functions: Any, body: Any, status: int, message: str) -> None:
    pool, _ = functions
    schema_free = rest_api(key_required=False)
    post = schema_free.resources[1].methods["POST"]
    methods = {**schema_free.resources[1].methods, "POST": Method("POST", False, None, {}, {}, post.integration)}
    api = RestApi(
        API_ID, (Resource("echo", "/echo", methods),), schema_free.stages, {}, (), schema_free.gateway_responses
    )
    answer = gateway_for(FakeDeployment(api, function_config()), pool).handle(request(key=None, body=body))
    assert (answer.response.status_code, answer_json(answer)) == (status, {"message": message})
    assert answer.response.headers["Access-Control-Allow-Origin"] == ORIGIN  # DEFAULT_5XX
    assert answer.function == "echo"


def test_function_past_its_timeout_is_killed_and_the_next_call_gets_a_new_worker(functions: Any) -> None:
    pool, _ = functions
    api = open_post_api()
    gateway = gateway_for(FakeDeployment(api, function_config(timeout=1)), pool)
    started = time.monotonic()
    timed_out = gateway.handle(request(key=None, body={"sleep": 5}))
    assert timed_out.response.status_code == 502
    assert time.monotonic() - started < 4
    assert gateway.handle(request(key=None, body={})).response.status_code == 200


def test_integration_timeout_is_504_while_the_function_may_run_on(functions: Any) -> None:
    pool, _ = functions
    base = rest_api(key_required=False)
    short = Integration("AWS_PROXY", URI, {}, (), 300)
    methods = {"POST": Method("POST", False, None, {}, {}, short)}
    api = RestApi(API_ID, (Resource("echo", "/echo", methods),), base.stages, {}, (), {})
    answer = gateway_for(FakeDeployment(api, function_config()), pool).handle(request(key=None, body={"sleep": 1}))
    assert (answer.response.status_code, answer_json(answer)) == (504, {"message": "Endpoint request timed out"})


def test_function_without_permission_for_this_api_is_a_configuration_error(functions: Any) -> None:
    pool, lines = functions
    answer = gateway_for(FakeDeployment(rest_api(), function_config(api_id="other")), pool).handle(
        request(body={"studentid": "SV1"})
    )
    assert (answer.response.status_code, answer_json(answer)) == (500, {"message": "Internal server error"})
    assert lines == []


def test_changed_environment_starts_a_new_worker(functions: Any) -> None:
    pool, lines = functions
    deployment = FakeDeployment(rest_api(), function_config())
    gateway = gateway_for(deployment, pool)
    assert gateway.handle(request(body={"studentid": "SV1"})).response.headers["Access-Control-Allow-Origin"] == ORIGIN
    deployment.function_config = function_config(origin="https://changed.example")
    answer = gateway.handle(request(body={"studentid": "SV1"}))
    assert answer.response.headers["Access-Control-Allow-Origin"] == "https://changed.example"
    assert any("configuration changed" in line for _, line in lines)
    deployment.function_config = None
    gone = gateway.handle(request(body={"studentid": "SV1"}))
    assert gone.response.status_code == 500


# --- gateway responses and proxy responses -------------------------------------------------------


def test_gateway_response_falls_back_to_default_then_to_aws_plain_answer() -> None:
    api = rest_api()
    throttled = error_response(api, GatewayError("THROTTLED", "Too Many Requests"), {"requestId": "r"})
    assert throttled.status_code == 429
    assert throttled.headers["Access-Control-Allow-Origin"] == ORIGIN  # from DEFAULT_4XX
    assert json.loads(throttled.get_data()) == {"message": "Too Many Requests"}
    custom = RestApi(
        API_ID,
        (),
        {},
        {},
        (),
        {"THROTTLED": GatewayResponse("418", {}, {"application/json": '{"m":"$context.error.message"}'})},
    )
    teapot = error_response(custom, GatewayError("THROTTLED", "Too Many Requests"), {})
    assert (teapot.status_code, json.loads(teapot.get_data())) == (418, {"m": "Too Many Requests"})
    plain = error_response(None, GatewayError("INTEGRATION_TIMEOUT", "Endpoint request timed out"), {})
    assert (plain.status_code, json.loads(plain.get_data())) == (504, {"message": "Endpoint request timed out"})
    assert "Access-Control-Allow-Origin" not in plain.headers


@pytest.mark.parametrize(
    "result",
    [
        None,
        "text",
        {"body": "no status"},
        {"statusCode": "abc"},
        {"statusCode": 200, "headers": ["x"]},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "extra": 1},
        {"statusCode": 200, "isBase64Encoded": True, "body": "not base64!"},
    ],
)
def test_malformed_proxy_responses_are_refused(result: Any) -> None:
    assert proxy_response(result, "r") is None


def test_proxy_response_keeps_status_headers_and_body() -> None:
    response = proxy_response(
        {"statusCode": 409, "headers": {"X-One": "1"}, "multiValueHeaders": {"X-Two": ["a", "b"]}, "body": "{}"}, "r"
    )
    assert response is not None
    assert response.status_code == 409
    assert response.headers["X-One"] == "1"
    assert response.headers.getlist("X-Two") == ["a", "b"]
    assert response.headers["Content-Type"] == "application/json"
    assert response.get_data() == b"{}"


# --- usage ------------------------------------------------------------------------------------------------


def test_token_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    meter = Meter()
    throttle = Throttle(rate_per_second=20, burst=3)
    assert [meter.throttle(("k",), throttle) for _ in range(4)] == [True, True, True, False]
    time.sleep(0.06)
    assert meter.throttle(("k",), throttle)


def test_quota_periods_are_utc_day_iso_week_and_month() -> None:
    moment = datetime(2025, 1, 1, 23, 59, tzinfo=UTC)
    assert (quota_period("DAY", moment), quota_period("WEEK", moment), quota_period("MONTH", moment)) == (
        "2025-01-01",
        "2025-W01",
        "2025-01",
    )


# --- the site --------------------------------------------------------------------------------------------


def behaviour(pattern: str) -> Behaviour:
    return Behaviour(pattern, "api", frozenset({"GET", "HEAD"}), "")


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/students", "/students", True),
        ("/students", "/students/1", False),
        ("/students", "/Students", False),
        ("students", "/students", True),
        ("/api/*", "/api/a/b", True),
        ("*.jpg", "/images/a.jpg", True),
        ("/a?c", "/abc", True),
        ("/a?c", "/abbc", False),
        ("/a.c", "/abc", False),
    ],
)
def test_cloudfront_path_patterns(pattern: str, path: str, matches: bool) -> None:
    assert behaviour(pattern).matches(path) is matches


def test_origin_custom_header_replaces_the_viewers_and_policy_decides_what_is_forwarded() -> None:
    viewer = Request(
        EnvironBuilder(
            path="/students", query_string="limit=2", headers={"X-Api-Key": "from-browser", "Accept": "x/y"}
        ).get_environ()
    )
    origin = Origin("api", f"{API_ID}.execute-api.us-east-1.amazonaws.com", "/prod", (("x-api-key", KEY),), "")
    all_but_host = Behaviour("/students", "api", frozenset({"GET"}), "b689b0a8-53d0-40ab-baf2-68738e2966ac")
    sent = site.forwarded(viewer, origin, all_but_host, API_ID)
    assert sent.path == "/prod/students"
    assert sent.headers.getlist("x-api-key") == [KEY]
    assert sent.headers["Accept"] == "x/y"
    assert sent.headers["Host"] == origin.domain_name
    assert sent.query == (("limit", "2"),)
    bare = site.forwarded(viewer, origin, Behaviour("/students", "api", frozenset({"GET"}), ""), API_ID)
    assert bare.query == ()
    assert "Accept" not in bare.headers
    assert bare.headers.getlist("x-api-key") == [KEY]


def test_worker_key_changes_with_everything_that_shapes_an_environment() -> None:
    base = function_config()
    assert WorkerKey.of(base) == WorkerKey.of(function_config())
    assert WorkerKey.of(base) != WorkerKey.of(function_config(origin="https://x.example"))
    assert WorkerKey.of(base) != WorkerKey.of(function_config(timeout=9))


def test_import_error_is_the_answer_of_every_invocation(tmp_path: Path, code: Path) -> None:
    broken = Function(**{**function_config().__dict__, "handler": "app.missing.lambda_handler"})
    lines: list[str] = []
    worker = Worker(
        WorkerKey.of(broken),
        broken,
        code,
        local_config(tmp_path),
        log=lambda _, line: lines.append(line),
        credentials=ROLE_CREDENTIALS,
    )
    try:
        for _ in range(2):
            answer, _ = worker.call({"requestId": "r", "functionArn": broken.arn, "event": {}, "timeoutMs": 3000}, 3)
            assert answer.error is not None and answer.error["errorType"] == "Runtime.ImportModuleError"
    finally:
        worker.stop()
    assert not worker.alive


@pytest.mark.parametrize(("depth", "parsed"), [(10, True), (900, True), (5_000, False), (100_000, False)])
def test_a_body_nested_too_deep_is_refused_not_an_error(depth: int, parsed: bool) -> None:
    # Past ~1,000 levels Python's JSON parser raises RecursionError: the edge answers 400, as API Gateway does.
    nested = ("[" * depth + "]" * depth).encode()
    assert body_matches(SCHEMA, nested) is False
    assert body_matches({"type": "array"}, nested) is parsed
