"""The local edge as Lambda's ``Invoke`` API and as the scheduler (``local/edge/awslambda/service.py``).

The deployed functions' own ``lambda.invoke`` (the backup's ``POST /backup``
starts its run that way) reaches the edge through ``AWS_ENDPOINT_URL_LAMBDA``.
Here a real edge server answers a real boto3 client; the function runs in a
real worker process, as its execution role. The function's configuration is
stated by the test (its code is not deployed); its role, the schedule, the
queues and every IAM decision are this module's own moto server's.
"""

from __future__ import annotations

import json
import socket
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from config.settings import AppConfig
from local.edge.awslambda import service as lambda_service
from local.edge.awslambda.roles import RoleCredentials
from local.edge.awslambda.worker import worker_environment
from local.edge.deployment.awslambda import Function
from local.edge.deployment.errors import NotDeployed
from local.edge.deployment.reader import Deployment
from local.edge.server import Edge, EdgeLog
from tests.conftest import EmulatorSettings, private_emulator

#: `make check` leaves this module to `make test`: a moto server and an edge of its own.
pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:runner"
QUEUE = "runner-failed-invocations"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{QUEUE}"
SCHEDULE_QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:runner-undelivered"
ROLE = "runner-role"
#: What a function's execution role trusts: Lambda, as every role of the project's functions does.
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}

#: Appends each event it gets to the file the event names; fails when told to.
HANDLER = """
import json

def lambda_handler(event, context):
    with open(event["record"], "a", encoding="utf-8") as record:
        record.write(json.dumps(event) + "\\n")
    if event.get("fail"):
        raise RuntimeError("failed on purpose")
    return {"echo": event, "function": context.function_name}
"""


SCHEDULE = "runner-daily"
SCHEDULE_ROLE = "runner-schedule-role"
SCHEDULE_QUEUE = "runner-undelivered"
#: What the schedule's role trusts: EventBridge Scheduler, for this account (as modules/backup/schedule.py's).
SCHEDULER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def allow(action: str, resource: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}
    )


class Deployed(Deployment):
    """The emulator's deployment, but for the one function the test states (its code is not in the emulator)."""

    def __init__(self, config: AppConfig, function: Function) -> None:
        super().__init__(config)
        self.function_config = function

    def function(self, name_or_arn: str) -> Function:
        if name_or_arn not in (self.function_config.name, self.function_config.arn):
            raise NotDeployed(f"function {name_or_arn}: ResourceNotFoundException")
        return self.function_config


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorSettings]:
    """This module's own moto server, with the function's role, the schedule and both queues."""
    with private_emulator(tmp_path_factory.mktemp("lambda-emulator")) as settings:
        iam, sqs = settings.client("iam"), settings.client("sqs")
        for queue in (QUEUE, SCHEDULE_QUEUE):
            sqs.create_queue(QueueName=queue)
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
        iam.put_role_policy(
            RoleName=ROLE, PolicyName="dead-letters", PolicyDocument=allow("sqs:SendMessage", QUEUE_ARN)
        )
        iam.create_role(RoleName=SCHEDULE_ROLE, AssumeRolePolicyDocument=json.dumps(SCHEDULER_TRUST))
        for name, action, resource in (
            ("invoke", "lambda:InvokeFunction", ARN),
            ("undelivered", "sqs:SendMessage", SCHEDULE_QUEUE_ARN),
        ):
            iam.put_role_policy(RoleName=SCHEDULE_ROLE, PolicyName=name, PolicyDocument=allow(action, resource))
        settings.client("scheduler").create_schedule(
            Name=SCHEDULE,
            ScheduleExpression="cron(0 0 * * ? *)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": ARN,
                "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{SCHEDULE_ROLE}",
                "Input": json.dumps({"source": "scheduler"}),
                "DeadLetterConfig": {"Arn": SCHEDULE_QUEUE_ARN},
                "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
            },
        )
        yield settings


@pytest.fixture
def edge(
    emulator: EmulatorSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Edge, Any, Path]]:
    code = tmp_path / "code" / "app"
    code.mkdir(parents=True)
    (code / "__init__.py").write_text("")
    (code / "handler.py").write_text(textwrap.dedent(HANDLER))
    config = EmulatorSettings(emulator.port, emulator.state_dir, site_port=free_port(), api_port=free_port()).config
    function = Function(
        name="runner",
        arn=ARN,
        handler="app.handler.lambda_handler",
        runtime="python3.13",
        timeout_seconds=5,
        memory_mb=128,
        code_sha256="c29tZSBjb2Rl",
        environment=(),
        policy=(),
        dead_letter_target=QUEUE_ARN,
        role=f"arn:aws:iam::{ACCOUNT}:role/{ROLE}",
    )
    monkeypatch.setattr(lambda_service, "RETRY_DELAYS_S", (0.1, 0.1))
    server = Edge(config, EdgeLog(tmp_path / "edge.log"))
    server.functions._code.directory = lambda function: tmp_path / "code"  # type: ignore[method-assign] # the zip is already "extracted"
    deployed = Deployed(config, function)
    server.deployment = deployed
    server.lambda_service = lambda_service.LambdaService(deployed, server.functions, server.log.note)
    server.bind()
    server.serve()
    try:
        yield server, emulator.client("sqs"), tmp_path
    finally:
        server.close()


def lambda_client(server: Edge) -> Any:
    # The endpoint a worker is given: exactly what functions.worker_environment sets.
    deployed: Deployed = server.deployment  # type: ignore[assignment] # the fixture's stand-in
    credentials = RoleCredentials("ASIA", "secret", "token", expires_at=0)
    endpoint = worker_environment(deployed.function_config, server.config, Path(), credentials)
    return boto3.client(
        "lambda",
        endpoint_url=endpoint["AWS_ENDPOINT_URL_LAMBDA"],
        region_name="us-east-1",
        aws_access_key_id="emulator",
        aws_secret_access_key="emulator",
        config=Config(retries={"max_attempts": 1}),
    )


def records(path: Path, *, count: int, timeout_s: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            if len(lines) >= count:
                return [json.loads(line) for line in lines]
        time.sleep(0.05)
    raise AssertionError(f"{path}: fewer than {count} invocations after {timeout_s} s")


def test_event_invocation_is_accepted_at_once_and_runs_in_the_background(edge: Any) -> None:
    server, _, tmp = edge
    record = tmp / "event.jsonl"
    started = time.monotonic()
    answer = lambda_client(server).invoke(
        FunctionName=ARN, InvocationType="Event", Payload=json.dumps({"record": str(record), "run": "r1"})
    )
    assert answer["StatusCode"] == 202
    assert time.monotonic() - started < 1.0
    assert records(record, count=1) == [{"record": str(record), "run": "r1"}]


def test_request_response_answers_the_result_or_the_functions_error(edge: Any) -> None:
    server, _, tmp = edge
    record = str(tmp / "sync.jsonl")
    client = lambda_client(server)
    answer = client.invoke(FunctionName="runner", Payload=json.dumps({"record": record}))
    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {"echo": {"record": record}, "function": "runner"}
    failed = client.invoke(FunctionName="runner", Payload=json.dumps({"record": record, "fail": True}))
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorMessage"] == "failed on purpose"


def test_a_function_that_is_not_deployed_is_not_found(edge: Any) -> None:
    server, _, _ = edge
    client = lambda_client(server)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="nope", InvocationType="Event", Payload=b"{}")


def test_failed_event_is_retried_twice_then_sent_to_the_dead_letter_queue(edge: Any) -> None:
    server, sqs, tmp = edge
    record = tmp / "failing.jsonl"
    event = {"record": str(record), "fail": True}
    assert (
        lambda_client(server).invoke(FunctionName=ARN, InvocationType="Event", Payload=json.dumps(event))["StatusCode"]
        == 202
    )
    assert len(records(record, count=3)) == 1 + lambda_service.MAX_RETRY_ATTEMPTS
    queue = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    deadline = time.monotonic() + 10
    messages: list[Any] = []
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"]).get("Messages", [])
    [message] = messages
    assert json.loads(message["Body"]) == event
    assert message["MessageAttributes"]["ErrorMessage"]["StringValue"] == "failed on purpose"
    time.sleep(0.5)
    assert len(records(record, count=3)) == 3, "no fourth attempt"


def edge_call(server: Edge, method: str, path: str, body: object = None) -> tuple[int, Any]:
    """One request to the edge's own routes, as ``make backup-now`` makes them."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{server.config.api_port}{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def follow(server: Edge, request_id: str, *, timeout_s: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, outcome = edge_call(server, "GET", f"/_edge/invocations/{request_id}")
        assert status == 200, outcome
        if outcome["state"] != "running":
            return dict(outcome)
        time.sleep(0.05)
    raise AssertionError(f"invocation {request_id} still running after {timeout_s} s")


def fire(server: Edge, emulator: EmulatorSettings, event: dict[str, Any]) -> tuple[int, Any]:
    """Give the schedule ``event`` as its input (as a deploy would), then fire it as ``make backup-now`` does."""
    target = {
        "Arn": ARN,
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{SCHEDULE_ROLE}",
        "Input": json.dumps(event),
        "DeadLetterConfig": {"Arn": SCHEDULE_QUEUE_ARN},
        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
    }
    emulator.client("scheduler").update_schedule(
        Name=SCHEDULE, ScheduleExpression="cron(0 0 * * ? *)", FlexibleTimeWindow={"Mode": "OFF"}, Target=target
    )
    return edge_call(server, "POST", f"/_edge/schedules/{SCHEDULE}")


def messages(sqs: Any, queue: str, *, timeout_s: float = 10) -> list[dict[str, Any]]:
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"]).get("Messages", [])
        if found:
            return list(found)
    return []


def test_the_schedule_fires_asynchronously_and_reports_its_result(edge: Any, emulator: EmulatorSettings) -> None:
    server, _, tmp = edge
    record = tmp / "scheduled.jsonl"
    started = time.monotonic()
    status, queued = fire(server, emulator, {"record": str(record)})
    assert (status, queued["function"], queued["schedule"]) == (202, "runner", SCHEDULE)
    assert time.monotonic() - started < 1.0, "the scheduler does not wait for the function"
    outcome = follow(server, queued["requestId"])
    assert outcome["state"] == "succeeded" and outcome["attempts"] == 1
    assert outcome["result"] == {"echo": {"record": str(record)}, "function": "runner"}


def test_a_failing_scheduled_run_is_retried_twice_in_order_then_dead_lettered(
    edge: Any, emulator: EmulatorSettings
) -> None:
    server, sqs, tmp = edge
    record = tmp / "scheduled-failing.jsonl"
    event = {"record": str(record), "fail": True}
    status, queued = fire(server, emulator, event)
    assert status == 202
    outcome = follow(server, queued["requestId"])
    assert outcome["state"] == "failed"
    assert outcome["attempts"] == 1 + lambda_service.MAX_RETRY_ATTEMPTS
    assert outcome["error"]["errorMessage"] == "failed on purpose"
    assert outcome["deadLetterQueue"] == QUEUE
    assert records(record, count=3) == [event] * 3
    [message] = messages(sqs, QUEUE)
    assert json.loads(message["Body"]) == event
    assert edge_call(server, "GET", "/_edge/invocations/unknown")[0] == 404


def test_a_schedule_whose_role_may_not_invoke_delivers_nothing_and_dead_letters_the_event(
    edge: Any, emulator: EmulatorSettings
) -> None:
    server, sqs, tmp = edge
    record = tmp / "never.jsonl"
    iam = emulator.client("iam")
    kept = iam.get_role_policy(RoleName=SCHEDULE_ROLE, PolicyName="invoke")["PolicyDocument"]
    iam.delete_role_policy(RoleName=SCHEDULE_ROLE, PolicyName="invoke")
    try:
        status, queued = fire(server, emulator, {"record": str(record)})
        outcome = follow(server, queued["requestId"])
    finally:
        iam.put_role_policy(RoleName=SCHEDULE_ROLE, PolicyName="invoke", PolicyDocument=json.dumps(kept))
    assert (status, outcome["state"], outcome["attempts"]) == (202, "failed", 0)
    assert outcome["error"]["errorType"] == "AccessDeniedException"
    assert f"assumed-role/{SCHEDULE_ROLE}/" in outcome["error"]["errorMessage"]
    assert f"lambda:InvokeFunction on resource: {ARN}" in outcome["error"]["errorMessage"]
    assert outcome["deadLetterQueue"] == SCHEDULE_QUEUE
    [message] = messages(sqs, SCHEDULE_QUEUE)
    assert json.loads(message["Body"]) == {"record": str(record)}
    assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "AccessDeniedException"
    assert not record.exists(), "the function never ran"


def test_a_caller_whose_role_may_not_invoke_is_refused_and_nothing_runs(edge: Any, emulator: EmulatorSettings) -> None:
    server, _, tmp = edge
    record = tmp / "refused.jsonl"
    role = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"  # allowed sqs:SendMessage only
    session = emulator.client("sts").assume_role(RoleArn=role, RoleSessionName="caller")["Credentials"]
    client = boto3.client(
        "lambda",
        endpoint_url=f"http://127.0.0.1:{server.config.api_port}",
        region_name="us-east-1",
        aws_access_key_id=session["AccessKeyId"],
        aws_secret_access_key=session["SecretAccessKey"],
        aws_session_token=session["SessionToken"],
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as refused:
        client.invoke(FunctionName=ARN, InvocationType="Event", Payload=json.dumps({"record": str(record)}))
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert f"assumed-role/{ROLE}/caller is not authorized to perform: lambda:InvokeFunction" in str(refused.value)
    time.sleep(0.5)
    assert not record.exists(), "a refused call runs nothing"
