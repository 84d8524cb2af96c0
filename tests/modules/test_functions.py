"""Tutorial sections 2.1-2.3, 3, 8 and 10 in the synthesized JSON: functions, roles, logs, schedule."""

from __future__ import annotations

import hashlib
import json

import pytest

from config.settings import APP_STACK
from lambdas.common import names
from modules.functions import catalog as functions
from tests.conftest import TARGETS, Synth
from tests.iam_policies import policy_documents
from tests.lambdas.scenarios import record_handler_calls
from tests.synth_helpers import Doc, policy_statements, ref, resource, resources, site_origin

APP = APP_STACK
#: Every function, by name, from the table the application stack builds them from.
FUNCTIONS = {row.name: row for row in functions.FUNCTIONS}
#: What the Lambda service itself does as the function's role, not the handler code
#: (logs, traces, failed asynchronous invocations into the dead-letter queue).
PLATFORM_STATEMENTS = {"WriteOwnLogs", "WriteTraces", "SendToDeadLetterQueue"}
INSERT = functions.spec(functions.INSERT)
BACKUP = functions.spec(functions.BACKUP)
SCHEDULE = f"{APP}/{BACKUP.schedule_construct_id}"


@pytest.fixture(params=TARGETS)
def app(request: pytest.FixtureRequest, synth: dict[str, Synth]) -> Doc:
    return synth[request.param].stack(APP)


def function(stack: Doc, name: str) -> Doc:
    return resource(stack, "aws_lambda_function", f"{APP}/{FUNCTIONS[name].construct_id}/function")


def permission_statements(stack: Doc, name: str) -> list[dict[str, object]]:
    rendered = json.loads(policy_documents(stack)[f"{APP}/{FUNCTIONS[name].construct_id}/permissions"])
    return [s for s in rendered["Statement"] if s.get("Sid") not in PLATFORM_STATEMENTS]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_runtime_handler_and_role(app: Doc, name: str) -> None:
    row = FUNCTIONS[name]
    body = function(app, name)
    assert body["function_name"] == name
    assert body["runtime"] == "python3.13"
    assert body["architectures"] == ["x86_64"]
    assert body["handler"] == f"lambdas.{row.package}.handler.lambda_handler"
    assert body["timeout"] == row.timeout_seconds
    role_path = f"{APP}/{row.role_construct_id}/role"
    assert body["role"] == ref(app, "aws_iam_role", role_path, "arn")
    assert resource(app, "aws_iam_role", role_path)["name"] == row.role_name
    assert body["tracing_config"] == {"mode": "Active"}
    assert body["environment"]["variables"][names.ENV_TABLE_NAME] == ref(
        app, "aws_dynamodb_table", f"{APP}/students/table", "name"
    )
    assert body["environment"]["variables"][names.ENV_ALLOWED_ORIGIN] == site_origin(app)
    assert body["source_code_hash"] == '${filebase64sha256("' + body["filename"] + '")}'


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_log_group_exists_before_the_function_with_a_retention(app: Doc, name: str) -> None:
    construct = FUNCTIONS[name].construct_id
    log_group = resource(app, "aws_cloudwatch_log_group", f"{APP}/{construct}/logs")
    assert log_group["name"] == f"/aws/lambda/{name}"
    assert log_group["retention_in_days"] == 365
    depends_on = function(app, name)["depends_on"]
    assert any(dep.startswith("aws_cloudwatch_log_group.") for dep in depends_on)
    assert any(dep.startswith("aws_iam_role_policy.") for dep in depends_on)
    logs = json.loads(policy_documents(app)[f"{APP}/{construct}/permissions"])["Statement"][0]
    assert logs["Sid"] == "WriteOwnLogs"
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_zip_is_reproducible(synth: dict[str, Synth], name: str) -> None:
    """Two synths (one per target, staged apart, at other times) zip the same code byte for byte."""
    digests = set()
    for target in TARGETS:
        body = function(synth[target].stack(APP), name)
        archive = synth[target].stack_dir(APP) / body["filename"]
        digests.add(hashlib.sha256(archive.read_bytes()).hexdigest())
    assert len(digests) == 1


def test_backup_function_sizes_and_environment(app: Doc) -> None:
    body = function(app, BACKUP.name)
    assert body["memory_size"] == 128
    assert body["ephemeral_storage"] == {"size": 512}
    # No reservation: the runs table's lease keeps runs from racing, and a
    # reservation of 1 would throttle GET /backup while a run lasts.
    assert "reserved_concurrent_executions" not in body
    assert body["timeout"] == 900
    variables = body["environment"]["variables"]
    assert variables[names.ENV_RUNS_TABLE_NAME] == ref(app, "aws_dynamodb_table", f"{APP}/backup-runs/table", "name")
    assert variables[names.ENV_BACKUP_BUCKET] == ref(
        app, "aws_s3_bucket", f"{APP}/backup-storage/backups/bucket", "bucket"
    )
    assert variables[names.ENV_SENDER_EMAIL] == "noreply@example.com"
    assert variables[names.ENV_RECIPIENT_EMAIL] == "admin@example.com"


def test_insert_function_knows_its_sender(app: Doc) -> None:
    variables = function(app, INSERT.name)["environment"]["variables"]
    assert variables[names.ENV_SENDER_EMAIL] == "noreply@example.com"
    assert names.ENV_BACKUP_BUCKET not in variables


def test_no_role_has_a_managed_policy_or_a_needless_wildcard(app: Doc) -> None:
    assert "aws_iam_role_policy_attachment" not in app.get("resource", {})
    for role in resources(app, "aws_iam_role").values():
        assert "managed_policy_arns" not in role
    for path, policy in policy_documents(app).items():
        for statement in json.loads(policy)["Statement"]:
            actions = statement.get("Action", [])
            assert not any(action.endswith("*") for action in actions if statement["Effect"] == "Allow"), path
            if statement["Effect"] == "Allow" and statement.get("Resource") == ["*"]:
                # The two actions that have no resource-level permissions, and the alarm
                # topic's key policy, where "*" is the key itself.
                assert statement["Sid"] in (
                    "WriteTraces",
                    "ListLogGroups",
                    "AccountAdministersKey",
                    "CloudWatchAlarmsUseKey",
                ), f"{path}: {statement}"


def test_ses_permission_is_limited_to_the_sender_address(app: Doc) -> None:
    for name in (INSERT.name, BACKUP.name):
        ses = [s for s in permission_statements(app, name) if s["Action"] == ["ses:SendEmail"]]
        assert len(ses) == 1
        assert ses[0]["Condition"] == {"StringEquals": {"ses:FromAddress": "noreply@example.com"}}


def test_backup_writes_only_under_the_backup_prefix(app: Doc) -> None:
    statements = policy_statements(app, f"{APP}/{BACKUP.construct_id}/permissions")
    bucket_arn = ref(app, "aws_s3_bucket", f"{APP}/backup-storage/backups/bucket", "arn")
    assert statements["WriteBackups"]["resources"] == [f"{bucket_arn}/{names.BACKUP_PREFIX}*"]
    assert [sid for sid, s in statements.items() if any(a.startswith("s3:") for a in s["actions"])] == ["WriteBackups"]


def test_roles_grant_exactly_the_calls_the_handlers_make(synth: dict[str, Synth]) -> None:
    """Both ways: every recorded call is granted, and every granted action was called."""
    recorded = record_handler_calls()
    assert set(recorded) == {row.package for row in FUNCTIONS.values()}
    for target in TARGETS:
        stack = synth[target].stack(APP)
        for name, row in FUNCTIONS.items():
            package = row.package
            granted = {action for s in permission_statements(stack, name) for action in s["Action"]}  # type: ignore[attr-defined]
            assert granted == recorded[package], (
                f"{target} {name}: granted {sorted(granted)}, called {sorted(recorded[package])}"
            )


def test_table_permissions_name_the_table(app: Doc) -> None:
    table_arn = ref(app, "aws_dynamodb_table", f"{APP}/students/table", "arn")
    runs_arn = ref(app, "aws_dynamodb_table", f"{APP}/backup-runs/table", "arn")
    for row in FUNCTIONS.values():
        statements = policy_statements(app, f"{APP}/{row.construct_id}/permissions").values()
        dynamodb = [s for s in statements if any(a.startswith("dynamodb:") for a in s["actions"])]
        expected = [[table_arn], [runs_arn]] if row.key == BACKUP.key else [[table_arn]]
        assert [s["resources"] for s in dynamodb] == expected, row.construct_id


def test_backup_runs_table_expires_records_and_only_the_backup_tracks_runs(app: Doc) -> None:
    table = resource(app, "aws_dynamodb_table", f"{APP}/backup-runs/table")
    assert table["name"] == "studentBackupRuns"
    assert table["hash_key"] == "runId"
    assert table["ttl"] == {"attribute_name": "expiresAt", "enabled": True}
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"] == {"enabled": True}
    statements = policy_statements(app, f"{APP}/{BACKUP.construct_id}/permissions")
    assert sorted(statements["TrackBackupRuns"]["actions"]) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Scan",
        "dynamodb:UpdateItem",
    ]


def test_backup_may_invoke_only_itself(app: Doc) -> None:
    statements = policy_statements(app, f"{APP}/{BACKUP.construct_id}/permissions")
    assert statements["StartOwnRuns"]["actions"] == ["lambda:InvokeFunction"]
    [arn] = statements["StartOwnRuns"]["resources"]
    assert arn.endswith(f":function:{BACKUP.name}")
    assert arn.startswith("arn:${data.aws_partition.partition.partition}:lambda:us-east-1:")
    for row in FUNCTIONS.values():
        if row.key != BACKUP.key:
            others = policy_statements(app, f"{APP}/{row.construct_id}/permissions").values()
            assert not any(a.startswith("lambda:") for s in others for a in s["actions"]), row.construct_id


def test_schedule_runs_the_backup_daily_with_retries(app: Doc) -> None:
    schedule = resource(app, "aws_scheduler_schedule", f"{SCHEDULE}/schedule")
    assert schedule["name"] == BACKUP.schedule
    assert schedule["schedule_expression"] == "cron(0 0 * * ? *)"
    assert schedule["schedule_expression_timezone"] == "UTC"
    assert schedule["flexible_time_window"] == {"mode": "FLEXIBLE", "maximum_window_in_minutes": 5}
    target = schedule["target"]
    assert target["arn"] == ref(app, "aws_lambda_function", f"{APP}/{BACKUP.construct_id}/function", "arn")
    assert target["role_arn"] == ref(app, "aws_iam_role", f"{SCHEDULE}/role", "arn")
    assert target["retry_policy"]["maximum_retry_attempts"] >= 1


def test_scheduler_role_may_only_invoke_the_backup_function(app: Doc) -> None:
    invoke = policy_statements(app, f"{SCHEDULE}/permissions")
    assert list(invoke) == ["InvokeBackupFunction", "SendToDeadLetterQueue"]
    queue_arn = ref(app, "aws_sqs_queue", f"{SCHEDULE}/undelivered/queue", "arn")
    assert invoke["SendToDeadLetterQueue"]["actions"] == ["sqs:SendMessage"]
    assert invoke["SendToDeadLetterQueue"]["resources"] == [queue_arn]
    assert invoke["InvokeBackupFunction"]["effect"] == "Allow"
    assert invoke["InvokeBackupFunction"]["actions"] == ["lambda:InvokeFunction"]
    function_arn = ref(app, "aws_lambda_function", f"{APP}/{BACKUP.construct_id}/function", "arn")
    assert invoke["InvokeBackupFunction"]["resources"] == [function_arn]
    trust = json.loads(policy_documents(app)[f"{SCHEDULE}/trust"])["Statement"][0]
    assert trust["Principal"] == {"Service": ["scheduler.amazonaws.com"]}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
