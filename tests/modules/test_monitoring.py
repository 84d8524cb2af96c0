"""Issue 12, nobody left uninformed: dead-letter queues, alarms, the alarm topic, saved queries, backup retention.

Each check reads one requirement off a synthesized application stack: both
deploy targets of the session synth, and an aws synth with a configuration of
its own (two recipients, a 7-day retention) to show the settings reach the
resources. The mutation tests break a copy of the stack and show the check
named for the requirement notices.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from config.settings import APP_STACK, AppConfig, load_config
from lambdas.common import log, names
from modules.functions import catalog as functions
from modules.functions.catalog import Access, FunctionSpec
from modules.monitoring.spec import (
    BACKUP_WRITTEN_MESSAGE,
    COMPLETED_BACKUPS_QUERY,
    ERRORS_QUERY,
    QUERY_STRINGS,
    SAVED_STUDENTS_QUERY,
    STUDENT_SAVED_MESSAGE,
)
from tests.conftest import ROOT, TARGETS, Synth, run, tool_env
from tests.synth_helpers import Doc, assert_check_catches, data_sources, policy_statements, ref, resource, resources

APP = APP_STACK
MONITORING = f"{APP}/monitoring"
FUNCTION_QUEUE = f"{MONITORING}/failed-invocations/queue"
TOPIC = f"{MONITORING}/topic"
TOPIC_KEY = f"{MONITORING}/topic-key"
BACKUP_LIFECYCLE = f"{APP}/backup-storage/backups/lifecycle"
SCHEDULED = [row for row in functions.FUNCTIONS if row.schedule]
#: SQS's longest retention: what a dead-letter queue keeps.
FOURTEEN_DAYS = 1_209_600
#: The configured variant: settings that differ from config.toml's.
CONFIGURED = {
    "STUDENT_MGMT_BACKUP_RETENTION_DAYS": "7",
    "STUDENT_MGMT_RECIPIENT_EMAILS": "ops@example.org,admin@example.com",
}

Check = Callable[[Doc, AppConfig], None]


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Doc:
    """The aws target synthesized with ``CONFIGURED`` by the project's own synth."""
    outdir = tmp_path_factory.mktemp("configured")
    synth = run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "pipeline.synth", "--force", "--outdir", str(outdir)],
        cwd=ROOT,
        env=tool_env(DEPLOY_TARGET="aws", **CONFIGURED),
        timeout=600,
    )
    assert synth.returncode == 0, synth.stdout[-3000:] + synth.stderr[-3000:]
    stack: Doc = json.loads((outdir / "stacks" / APP / "cdk.tf.json").read_text(encoding="utf-8"))
    return stack


# --- reading the stack ------------------------------------------------------------


def _topic_arn(stack: Doc) -> str:
    return ref(stack, "aws_sns_topic", TOPIC, "arn")


def _function_path(row: FunctionSpec) -> str:
    return f"{APP}/{row.construct_id}"


def _alarm(stack: Doc, namespace: str, metric: str, dimensions: dict[str, str] | None = None) -> Doc:
    """The one alarm on ``metric`` with exactly these dimensions."""
    found = [
        alarm
        for alarm in resources(stack, "aws_cloudwatch_metric_alarm").values()
        if (alarm["namespace"], alarm["metric_name"], alarm.get("dimensions")) == (namespace, metric, dimensions)
    ]
    assert len(found) == 1, f"{len(found)} alarms on {namespace} {metric} {dimensions}"
    return found[0]


def _fires_on_any_in_five_minutes(alarm: Doc) -> None:
    what = alarm["alarm_name"]
    assert (alarm["statistic"], alarm["comparison_operator"], alarm["threshold"]) == (
        "Sum",
        "GreaterThanOrEqualToThreshold",
        1,
    ), what
    assert (alarm["period"], alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (300, 1, 1), what
    assert alarm["treat_missing_data"] == "notBreaching", what


def _sqs_statements(stack: Doc, document: str) -> list[tuple[str, str, list[str], list[str]]]:
    """Every statement of a policy document that names an SQS action: (sid, effect, actions, resources)."""
    return [
        (sid, statement["effect"], statement["actions"], statement["resources"])
        for sid, statement in policy_statements(stack, document).items()
        if any(action.startswith("sqs:") for action in statement["actions"])
    ]


# --- the checks ---------------------------------------------------------------------


def check_dead_letter_queues_are_encrypted(stack: Doc, config: AppConfig) -> None:
    queues = resources(stack, "aws_sqs_queue")
    assert {FUNCTION_QUEUE, *(f"{APP}/{row.schedule_construct_id}/undelivered/queue" for row in SCHEDULED)} <= set(
        queues
    )
    for path, queue in queues.items():
        assert queue.get("sqs_managed_sse_enabled") is True, path
        assert queue.get("message_retention_seconds") == FOURTEEN_DAYS, path


def check_every_function_keeps_failed_invocations(stack: Doc, config: AppConfig) -> None:
    """Every function's asynchronous failures go to the one queue, and its role may send there and nowhere else."""
    queue_arn = ref(stack, "aws_sqs_queue", FUNCTION_QUEUE, "arn")
    assert len(resources(stack, "aws_lambda_function")) == len(functions.FUNCTIONS)
    for row in functions.FUNCTIONS:
        function = resource(stack, "aws_lambda_function", f"{_function_path(row)}/function")
        assert function.get("dead_letter_config") == {"target_arn": queue_arn}, row.name
        sends = _sqs_statements(stack, f"{_function_path(row)}/permissions")
        assert sends == [("SendToDeadLetterQueue", "Allow", ["sqs:SendMessage"], [queue_arn])], row.name


def check_schedule_keeps_what_it_could_not_deliver(stack: Doc, config: AppConfig) -> None:
    assert SCHEDULED
    for row in SCHEDULED:
        path = f"{APP}/{row.schedule_construct_id}"
        queue_arn = ref(stack, "aws_sqs_queue", f"{path}/undelivered/queue", "arn")
        target = resource(stack, "aws_scheduler_schedule", f"{path}/schedule")["target"]
        assert target.get("dead_letter_config") == {"arn": queue_arn}, row.schedule
        sends = _sqs_statements(stack, f"{path}/permissions")
        assert sends == [("SendToDeadLetterQueue", "Allow", ["sqs:SendMessage"], [queue_arn])], row.schedule


def check_every_alarm_notifies_the_topic(stack: Doc, config: AppConfig) -> None:
    topic = _topic_arn(stack)
    alarms = resources(stack, "aws_cloudwatch_metric_alarm")
    assert alarms
    for path, alarm in alarms.items():
        assert alarm.get("actions_enabled") is True, path
        assert alarm.get("alarm_actions") == [topic], path
        assert alarm.get("ok_actions") == [topic], path
        assert alarm.get("alarm_description"), path


def check_every_function_has_error_and_throttle_alarms(stack: Doc, config: AppConfig) -> None:
    for row in functions.FUNCTIONS:
        name = ref(stack, "aws_lambda_function", f"{_function_path(row)}/function", "function_name")
        for metric in ("Errors", "Throttles"):
            _fires_on_any_in_five_minutes(_alarm(stack, "AWS/Lambda", metric, {"FunctionName": name}))


def check_api_5xx_alarm(stack: Doc, config: AppConfig) -> None:
    dimensions = {
        "ApiName": ref(stack, "aws_api_gateway_rest_api", f"{APP}/api/api", "name"),
        "Stage": ref(stack, "aws_api_gateway_stage", f"{APP}/api/stage", "stage_name"),
    }
    _fires_on_any_in_five_minutes(_alarm(stack, "AWS/ApiGateway", "5XXError", dimensions))


def check_every_dead_letter_queue_is_watched(stack: Doc, config: AppConfig) -> None:
    for path in resources(stack, "aws_sqs_queue"):
        name = ref(stack, "aws_sqs_queue", path, "name")
        alarm = _alarm(stack, "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": name})
        assert (alarm["statistic"], alarm["comparison_operator"], alarm["threshold"]) == (
            "Maximum",
            "GreaterThanOrEqualToThreshold",
            1,
        ), path
        assert (alarm["period"], alarm["evaluation_periods"], alarm["treat_missing_data"]) == (
            300,
            1,
            "notBreaching",
        ), path


def check_no_backup_in_26_hours_alarm(stack: Doc, config: AppConfig) -> None:
    """Fewer than one success in each of 26 hourly periods, no data counting as none: a day plus the grace."""
    alarm = _alarm(stack, names.METRIC_NAMESPACE, names.METRIC_BACKUP_SUCCEEDED)
    assert (alarm["statistic"], alarm["comparison_operator"], alarm["threshold"]) == ("Sum", "LessThanThreshold", 1)
    assert (alarm["period"], alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (3600, 26, 26)
    assert alarm["treat_missing_data"] == "breaching"


def check_backup_failure_alarms(stack: Doc, config: AppConfig) -> None:
    """A failed run and a failed summary e-mail (of a scheduled backup too) each notify at once."""
    for metric in (names.METRIC_BACKUP_FAILED, names.METRIC_BACKUP_EMAIL_FAILED):
        _fires_on_any_in_five_minutes(_alarm(stack, names.METRIC_NAMESPACE, metric))


def check_topic_is_encrypted_and_only_this_accounts_alarms_publish(stack: Doc, config: AppConfig) -> None:
    topic = resource(stack, "aws_sns_topic", TOPIC)
    # A customer-managed key: CloudWatch alarms cannot publish under the AWS-managed alias/aws/sns.
    assert topic.get("kms_master_key_id") == ref(stack, "aws_kms_key", TOPIC_KEY, "arn")
    key = resource(stack, "aws_kms_key", TOPIC_KEY)
    assert key.get("enable_key_rotation") is True
    key_document = f"{MONITORING}/key-policy"
    assert key["policy"] == ref(stack, "aws_iam_policy_document", key_document, "json", data=True)
    use = policy_statements(stack, key_document)["CloudWatchAlarmsUseKey"]
    assert use["principals"] == [{"type": "Service", "identifiers": ["cloudwatch.amazonaws.com"]}]
    assert use["actions"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    for statement in data_sources(stack, "aws_iam_policy_document")[key_document]["statement"]:
        assert {"type": "*", "identifiers": ["*"]} not in statement.get("principals", []), statement["sid"]

    topic_document = f"{MONITORING}/topic-policy-document"
    policy = resource(stack, "aws_sns_topic_policy", f"{MONITORING}/topic-policy")
    assert policy["arn"] == _topic_arn(stack)
    assert policy["policy"] == ref(stack, "aws_iam_policy_document", topic_document, "json", data=True)
    statements = policy_statements(stack, topic_document)
    allows = {sid: s for sid, s in statements.items() if s["effect"] == "Allow"}
    assert list(allows) == ["CloudWatchAlarmsPublish"]
    publish = allows["CloudWatchAlarmsPublish"]
    assert publish["principals"] == [{"type": "Service", "identifiers": ["cloudwatch.amazonaws.com"]}]
    assert (publish["actions"], publish["resources"]) == (["sns:Publish"], [_topic_arn(stack)])
    account = ref(stack, "aws_caller_identity", f"{APP}/account", "account_id", data=True)
    partition = ref(stack, "aws_partition", f"{APP}/partition", "partition", data=True)
    alarms = f"arn:{partition}:cloudwatch:{config.region}:{account}:alarm:*"
    conditions = {(c["test"], c["variable"]): c["values"] for c in publish["condition"]}
    assert conditions == {("ArnLike", "aws:SourceArn"): [alarms], ("StringEquals", "aws:SourceAccount"): [account]}


def check_subscriptions_are_the_recipients(stack: Doc, config: AppConfig) -> None:
    subscriptions = resources(stack, "aws_sns_topic_subscription").values()
    assert sorted((s["protocol"], s["endpoint"]) for s in subscriptions) == sorted(
        ("email", address) for address in config.recipient_emails
    )
    assert {s["topic_arn"] for s in subscriptions} == {_topic_arn(stack)}


def _log_groups(stack: Doc, rows: list[FunctionSpec]) -> list[str]:
    return [ref(stack, "aws_cloudwatch_log_group", f"{_function_path(row)}/logs", "name") for row in rows]


def check_saved_queries_search_the_right_log_groups(stack: Doc, config: AppConfig) -> None:
    rows = functions.FUNCTIONS
    expected = {
        SAVED_STUDENTS_QUERY: _log_groups(stack, [row for row in rows if Access.ADD_STUDENTS in row.access]),
        COMPLETED_BACKUPS_QUERY: _log_groups(stack, [row for row in rows if Access.WRITE_BACKUPS in row.access]),
        ERRORS_QUERY: _log_groups(stack, list(rows)),
    }
    found = {query["name"]: query for query in resources(stack, "aws_cloudwatch_query_definition").values()}
    assert {name: query["log_group_names"] for name, query in found.items()} == expected
    for name, query in found.items():
        assert query["query_string"] == QUERY_STRINGS[name], name


def _lifecycle_rules(stack: Doc) -> list[Doc]:
    rules: list[Doc] = resource(stack, "aws_s3_bucket_lifecycle_configuration", BACKUP_LIFECYCLE)["rule"]
    return rules


def check_backups_expire_after_the_retention(stack: Doc, config: AppConfig) -> None:
    (backups,) = [rule for rule in _lifecycle_rules(stack) if "expiration" in rule]
    assert backups["status"] == "Enabled"
    assert backups["filter"] == [{"prefix": names.BACKUP_PREFIX}]
    assert backups["expiration"] == [{"days": config.backup_retention_days}]
    # Superseded and expired versions: as before, kept noncurrent_version_retention_days.
    (noncurrent,) = [rule for rule in _lifecycle_rules(stack) if "noncurrent_version_expiration" in rule]
    assert noncurrent["status"] == "Enabled"
    assert noncurrent["noncurrent_version_expiration"] == [
        {"noncurrent_days": config.noncurrent_version_retention_days}
    ]


CHECKS: dict[str, Check] = {
    check.__name__: check
    for check in (
        check_dead_letter_queues_are_encrypted,
        check_every_function_keeps_failed_invocations,
        check_schedule_keeps_what_it_could_not_deliver,
        check_every_alarm_notifies_the_topic,
        check_every_function_has_error_and_throttle_alarms,
        check_api_5xx_alarm,
        check_every_dead_letter_queue_is_watched,
        check_no_backup_in_26_hours_alarm,
        check_backup_failure_alarms,
        check_topic_is_encrypted_and_only_this_accounts_alarms_publish,
        check_subscriptions_are_the_recipients,
        check_saved_queries_search_the_right_log_groups,
        check_backups_expire_after_the_retention,
    )
}


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("target", TARGETS)
def test_monitoring_requirement_holds(synth: dict[str, Synth], target: str, check: str) -> None:
    CHECKS[check](synth[target].stack(APP), load_config(environ={"DEPLOY_TARGET": target}))


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_monitoring_requirement_holds_with_other_recipients_and_retention(configured: Doc, check: str) -> None:
    config = load_config(environ=CONFIGURED)
    assert config.backup_retention_days == 7 and len(config.recipient_emails) == 2
    CHECKS[check](configured, config)


# --- mutations: each check catches the break it is named for -------------------------


def _alarm_at(name: str) -> Callable[[Doc], Doc]:
    return lambda stack: resource(stack, "aws_cloudwatch_metric_alarm", f"{MONITORING}/{name}")


def _set(locate: Callable[[Doc], Doc], key: str, value: Any) -> Callable[[Doc], None]:
    def mutate(stack: Doc) -> None:
        locate(stack)[key] = value

    return mutate


def _drop(locate: Callable[[Doc], Doc], key: str) -> Callable[[Doc], None]:
    def mutate(stack: Doc) -> None:
        del locate(stack)[key]

    return mutate


def _delete(kind: str, path: str) -> Callable[[Doc], None]:
    def mutate(stack: Doc) -> None:
        section = stack["resource"][kind]
        (name,) = [name for name, body in section.items() if body["//"]["metadata"]["path"] == path]
        del section[name]

    return mutate


def _statement(document: str, sid: str) -> Callable[[Doc], Doc]:
    def locate(stack: Doc) -> Doc:
        found: Doc = next(
            s for s in data_sources(stack, "aws_iam_policy_document")[document]["statement"] if s.get("sid") == sid
        )
        return found

    return locate


BACKUP = functions.spec(functions.BACKUP)
INSERT = functions.spec(functions.INSERT)
READ = functions.spec(functions.READ)
SCHEDULE = f"{APP}/{BACKUP.schedule_construct_id}"


def _function(row: FunctionSpec) -> Callable[[Doc], Doc]:
    return lambda stack: resource(stack, "aws_lambda_function", f"{_function_path(row)}/function")


def _retention_rule(stack: Doc) -> Doc:
    found: Doc = next(rule for rule in _lifecycle_rules(stack) if "expiration" in rule)
    return found


def _add_subscription(stack: Doc) -> None:
    section = stack["resource"]["aws_sns_topic_subscription"]
    extra = copy.deepcopy(next(iter(section.values())))
    extra["endpoint"] = "someone-else@example.net"
    extra["//"]["metadata"]["path"] += "-extra"
    section["extra"] = extra


def _search_every_group_for_saved_students(stack: Doc) -> None:
    queries = resources(stack, "aws_cloudwatch_query_definition")
    every = next(q for q in queries.values() if q["name"] == ERRORS_QUERY)["log_group_names"]
    next(q for q in queries.values() if q["name"] == SAVED_STUDENTS_QUERY)["log_group_names"] = list(every)


def _anyone_may_publish(stack: Doc) -> None:
    statement = _statement(f"{MONITORING}/topic-policy-document", "CloudWatchAlarmsPublish")(stack)
    statement["principals"] = [{"type": "*", "identifiers": ["*"]}]


MUTATIONS: dict[str, tuple[Callable[[Doc], None], Check]] = {
    "a function without its dead-letter queue": (
        _drop(_function(BACKUP), "dead_letter_config"),
        check_every_function_keeps_failed_invocations,
    ),
    "a role that may send to any queue": (
        _set(_statement(f"{_function_path(INSERT)}/permissions", "SendToDeadLetterQueue"), "resources", ["*"]),
        check_every_function_keeps_failed_invocations,
    ),
    "a dead-letter queue unencrypted": (
        _set(lambda stack: resource(stack, "aws_sqs_queue", FUNCTION_QUEUE), "sqs_managed_sse_enabled", False),
        check_dead_letter_queues_are_encrypted,
    ),
    "the schedule without a dead-letter queue": (
        _drop(
            lambda stack: resource(stack, "aws_scheduler_schedule", f"{SCHEDULE}/schedule")["target"],
            "dead_letter_config",
        ),
        check_schedule_keeps_what_it_could_not_deliver,
    ),
    "the scheduler role unable to send to its queue": (
        _set(_statement(f"{SCHEDULE}/permissions", "SendToDeadLetterQueue"), "actions", ["sqs:GetQueueUrl"]),
        check_schedule_keeps_what_it_could_not_deliver,
    ),
    "an alarm that never says it cleared": (
        _drop(_alarm_at("insert-errors"), "ok_actions"),
        check_every_alarm_notifies_the_topic,
    ),
    "an alarm with its actions off": (
        _set(_alarm_at("api-5xx"), "actions_enabled", False),
        check_every_alarm_notifies_the_topic,
    ),
    "a function's errors unwatched": (
        _delete("aws_cloudwatch_metric_alarm", f"{MONITORING}/read-errors"),
        check_every_function_has_error_and_throttle_alarms,
    ),
    "throttles tolerated five times": (
        _set(_alarm_at("backup-throttles"), "threshold", 5),
        check_every_function_has_error_and_throttle_alarms,
    ),
    "5xx watched on another stage": (
        _set(_alarm_at("api-5xx"), "dimensions", {"ApiName": "student", "Stage": "test"}),
        check_api_5xx_alarm,
    ),
    "the schedule's queue unwatched": (
        _delete("aws_cloudwatch_metric_alarm", f"{MONITORING}/{BACKUP.schedule}-undelivered-depth"),
        check_every_dead_letter_queue_is_watched,
    ),
    "no data is taken for a backup": (
        _set(_alarm_at("backup-missing"), "treat_missing_data", "notBreaching"),
        check_no_backup_in_26_hours_alarm,
    ),
    "a backup may be missing 48 hours": (
        _set(_alarm_at("backup-missing"), "evaluation_periods", 48),
        check_no_backup_in_26_hours_alarm,
    ),
    "a failed e-mail of a backup goes unnoticed": (
        _delete("aws_cloudwatch_metric_alarm", f"{MONITORING}/backup-email-failed"),
        check_backup_failure_alarms,
    ),
    "the topic unencrypted": (
        _drop(lambda stack: resource(stack, "aws_sns_topic", TOPIC), "kms_master_key_id"),
        check_topic_is_encrypted_and_only_this_accounts_alarms_publish,
    ),
    "the topic on the AWS-managed key": (
        _set(lambda stack: resource(stack, "aws_sns_topic", TOPIC), "kms_master_key_id", "alias/aws/sns"),
        check_topic_is_encrypted_and_only_this_accounts_alarms_publish,
    ),
    "anyone may publish": (_anyone_may_publish, check_topic_is_encrypted_and_only_this_accounts_alarms_publish),
    "any account's alarms may publish": (
        _set(_statement(f"{MONITORING}/topic-policy-document", "CloudWatchAlarmsPublish"), "condition", []),
        check_topic_is_encrypted_and_only_this_accounts_alarms_publish,
    ),
    "a recipient not subscribed": (
        _delete("aws_sns_topic_subscription", f"{MONITORING}/email-admin@example.com"),
        check_subscriptions_are_the_recipients,
    ),
    "a stranger subscribed": (_add_subscription, check_subscriptions_are_the_recipients),
    "saved students searched everywhere": (
        _search_every_group_for_saved_students,
        check_saved_queries_search_the_right_log_groups,
    ),
    "backups kept ten years": (
        _set(_retention_rule, "expiration", [{"days": 3650}]),
        check_backups_expire_after_the_retention,
    ),
    "the retention rule on the whole bucket": (
        _set(_retention_rule, "filter", [{"prefix": ""}]),
        check_backups_expire_after_the_retention,
    ),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_monitoring_checks_catch_a_broken_requirement(synth: dict[str, Synth], mutation: str) -> None:
    mutate, check = MUTATIONS[mutation]
    config = load_config(environ={})

    def configured_check(stack: Doc) -> None:
        check(stack, config)

    configured_check.__name__ = check.__name__
    assert_check_catches(synth["aws"].stack(APP), configured_check, mutate)


# --- the saved queries read what the code writes ------------------------------------------


@pytest.mark.parametrize(
    ("query", "message", "access"),
    [
        (SAVED_STUDENTS_QUERY, STUDENT_SAVED_MESSAGE, Access.ADD_STUDENTS),
        (COMPLETED_BACKUPS_QUERY, BACKUP_WRITTEN_MESSAGE, Access.WRITE_BACKUPS),
    ],
)
def test_saved_query_looks_for_a_message_and_fields_the_handlers_log(query: str, message: str, access: Access) -> None:
    """The message the query filters on is logged by every handler whose log group it reads, with its fields."""
    text = QUERY_STRINGS[query]
    assert f'| filter message = "{message}"' in text
    first_line = text.splitlines()[0]
    assert first_line.startswith("fields ")
    fields = [f for f in first_line.removeprefix("fields ").split(", ") if not f.startswith("@")]
    # requestId comes from the formatter (lambdas/common/log.py); the rest from the handler's extra fields.
    own_fields = [f for f in fields if f != "requestId"]
    rows = [row for row in functions.FUNCTIONS if access in row.access]
    assert rows and own_fields
    for row in rows:
        code = (ROOT / "lambdas" / row.package / "handler.py").read_text(encoding="utf-8")
        logged = re.search(r'logger\.info\(\s*"' + re.escape(message) + r'",\s*extra=\{(.*?)\}', code, re.DOTALL)
        assert logged, f"{row.package} no longer logs {message!r}"
        for field in own_fields:
            assert re.search(rf'"{field}"\s*:', logged.group(1)), f"{row.package} logs {message!r} without {field}"


def test_errors_query_filters_on_the_fields_the_log_formatter_writes() -> None:
    """``level`` and ``message`` as lambdas/common/log.py writes them for ``logger.exception``."""
    log.bind_request(SimpleNamespace(aws_request_id="request-1"))
    try:
        error = ValueError("boom")
        record = logging.LogRecord("lambdas.backup", logging.ERROR, __file__, 1, "backup failed", None, None)
        record.exc_info = (ValueError, error, None)
        entry = json.loads(log.JsonFormatter().format(record))
    finally:
        log.bind_request(SimpleNamespace())
    assert (entry["level"], entry["message"], entry["requestId"]) == ("ERROR", "backup failed", "request-1")
    text = QUERY_STRINGS[ERRORS_QUERY]
    assert 'level = "ERROR"' in text
    assert text.startswith("fields @timestamp, @log, level, message, requestId")


def test_docs_list_the_alarms_and_saved_queries() -> None:
    page = (ROOT / "docs" / "ALARMS.md").read_text(encoding="utf-8")
    for name in (*QUERY_STRINGS, "backup-missing-26h", "backup-email-failed", "Subscription Confirmation"):
        assert name.split("/")[-1] in page, name
