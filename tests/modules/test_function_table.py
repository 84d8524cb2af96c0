"""The function table is the one place a function is declared: a new row is a new function, end to end."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import APP_STACK
from lambdas.common import names
from modules.api.routes import Route
from modules.functions import catalog as functions
from modules.functions.catalog import Access, FunctionKey, FunctionSpec
from tests.conftest import ROOT, tool_env
from tests.iam_policies import policy_documents
from tests.synth_helpers import Doc, address, api_shaping, policy_statements, ref, resource, resources, served_digest

#: A fourth function, declared the way a newcomer would: one row (its code
#: reuses an existing package, since only the wiring is under test).
REPORT = FunctionSpec(
    key=FunctionKey("report"),
    name="reportStudentData",
    package="get_students",
    description="GET /reports: a report on the students.",
    role_name="LambdaReportStudentRole",
    role_description="Runs reportStudentData: reads studentData.",
    timeout_seconds=10,
    access=(Access.READ_STUDENTS,),
    routes=(Route("/reports", "GET", query_parameters=("limit",)),),
)
FOUR_FUNCTIONS = (*functions.FUNCTIONS, REPORT)

#: Synthesizes main.py's app with a given table (argv: outdir, table name in this module).
SYNTH_WITH_TABLE = """
import sys
from pathlib import Path

import main
from config.settings import load_config
from tests.modules import test_function_table

main.build_app(load_config(), Path(sys.argv[1]), functions=getattr(test_function_table, sys.argv[2])).synth()
"""


def synth_with(table_name: str, outdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SYNTH_WITH_TABLE, str(outdir), table_name],
        cwd=ROOT,
        env=tool_env(DEPLOY_TARGET="aws"),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def four(tmp_path_factory: pytest.TempPathFactory) -> Doc:
    outdir = tmp_path_factory.mktemp("four-functions")
    done = synth_with("FOUR_FUNCTIONS", outdir)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    stack: Doc = json.loads((outdir / "stacks" / APP_STACK / "cdk.tf.json").read_text(encoding="utf-8"))
    return stack


def test_a_fourth_row_gets_a_role_of_its_own_that_only_lambda_assumes(four: Doc) -> None:
    role = resource(four, "aws_iam_role", f"{APP_STACK}/report-role/role")
    assert role["name"] == "LambdaReportStudentRole"
    trust = json.loads(policy_documents(four)[f"{APP_STACK}/report-role/trust"])["Statement"]
    assert [(s["Principal"], s["Action"]) for s in trust] == [
        ({"Service": ["lambda.amazonaws.com"]}, ["sts:AssumeRole"])
    ]


def test_a_fourth_row_gets_its_function_and_log_group(four: Doc) -> None:
    function = resource(four, "aws_lambda_function", f"{APP_STACK}/report-function/function")
    assert function["function_name"] == "reportStudentData"
    assert function["handler"] == "lambdas.get_students.handler.lambda_handler"
    assert function["role"] == ref(four, "aws_iam_role", f"{APP_STACK}/report-role/role", "arn")
    table_name = ref(four, "aws_dynamodb_table", f"{APP_STACK}/students/table", "name")
    assert function["environment"]["variables"][names.ENV_TABLE_NAME] == table_name
    log_group = resource(four, "aws_cloudwatch_log_group", f"{APP_STACK}/report-function/logs")
    assert log_group["name"] == "/aws/lambda/reportStudentData"


def test_a_fourth_row_is_granted_exactly_its_access(four: Doc) -> None:
    policy = resource(four, "aws_iam_role_policy", f"{APP_STACK}/report-function/policy")
    assert policy["name"] == "reportStudentData-permissions"
    assert policy["role"] == ref(four, "aws_iam_role", f"{APP_STACK}/report-role/role", "id")
    statements = policy_statements(four, f"{APP_STACK}/report-function/permissions")
    table_arn = ref(four, "aws_dynamodb_table", f"{APP_STACK}/students/table", "arn")
    granted = {sid: (s["actions"], s["resources"]) for sid, s in statements.items()}
    assert granted.pop("ReadStudents") == (["dynamodb:GetItem", "dynamodb:Scan"], [table_arn])
    # What the Lambda service does as the role: logs, traces, failed asynchronous invocations kept.
    assert set(granted) == {"WriteOwnLogs", "WriteTraces", "SendToDeadLetterQueue"}


def test_a_fourth_row_is_routed_keyed_and_allowed_to_be_invoked(four: Doc) -> None:
    api = f"{APP_STACK}/api"
    reports = {r["path_part"]: r for r in resources(four, "aws_api_gateway_resource").values()}
    assert set(reports) == {"students", "backup", "reports"}
    method = resource(four, "aws_api_gateway_method", f"{api}/get-reports")
    assert method["api_key_required"] is True
    assert method["request_parameters"] == {"method.request.querystring.limit": False}
    integration = resource(four, "aws_api_gateway_integration", f"{api}/get-reports-integration")
    function = f"{APP_STACK}/report-function/function"
    assert integration["uri"] == ref(four, "aws_lambda_function", function, "invoke_arn")
    permission = resource(four, "aws_lambda_permission", f"{api}/get-reports-permission")
    assert permission["function_name"] == ref(four, "aws_lambda_function", function, "function_name")
    assert permission["source_arn"].endswith("/prod/GET/reports")
    preflight = resource(four, "aws_api_gateway_integration_response", f"{api}/options-reports-integration-response")
    assert preflight["response_parameters"]["method.response.header.Access-Control-Allow-Methods"] == "'GET,OPTIONS'"
    # The new route is part of what the stage serves: its method and integration are in the deployment's digest.
    deployment = resource(four, "aws_api_gateway_deployment", f"{api}/deployment")
    assert deployment["triggers"]["served"] == served_digest(four)
    shaping = api_shaping(four)
    assert address(four, "aws_api_gateway_method", f"{api}/get-reports") in shaping
    assert address(four, "aws_api_gateway_integration", f"{api}/get-reports-integration") in shaping


#: A second row that asks to write backups: the backup bucket's policy admits one writer role.
ROGUE_WRITER = (
    *functions.FUNCTIONS,
    dataclasses.replace(
        REPORT,
        key=FunctionKey("rogue"),
        name="rogueWriter",
        role_name="LambdaRogueWriterRole",
        access=(Access.WRITE_BACKUPS,),
        routes=(),
    ),
)


def test_a_row_granted_backup_writes_from_another_role_fails_synth_naming_why(tmp_path: Path) -> None:
    done = synth_with("ROGUE_WRITER", tmp_path / "out")
    assert done.returncode != 0
    assert "exactly one function may write backups (the bucket admits one role)" in done.stderr
    assert "['backup', 'rogue']" in done.stderr
