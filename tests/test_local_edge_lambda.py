"""The local edge as Lambda's ``Invoke`` API (``scripts/local_edge/lambda_service.py``), called by boto3.

The deployed functions' own ``lambda.invoke`` (the backup's ``POST /backup``
starts its run that way) reaches the edge through ``AWS_ENDPOINT_URL_LAMBDA``.
Here a real edge server answers a real boto3 client; the function runs in a
real worker process. The deployment is stated by the test (no emulator), and
the dead-letter queue is moto's SQS in-process.
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
from moto import mock_aws

from modules.config import AppConfig, DeployTarget
from scripts.local_edge import lambda_service
from scripts.local_edge.deployment import Function, NotDeployed
from scripts.local_edge.functions import RoleCredentials, RoleSessions, worker_environment
from scripts.local_edge.server import Edge, EdgeLog

ARN = "arn:aws:lambda:us-east-1:123456789012:function:runner"
QUEUE = "runner-failed-invocations"
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Deployed:
    """What ``Deployment`` answers: one function, by name or ARN."""

    def __init__(self, config: AppConfig, function: Function) -> None:
        self.config = config
        self.function_config = function

    def function(self, name_or_arn: str) -> Function:
        if name_or_arn not in (self.function_config.name, self.function_config.arn):
            raise NotDeployed(f"function {name_or_arn}: ResourceNotFoundException")
        return self.function_config


@pytest.fixture
def edge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Edge, Any, Path]]:
    code = tmp_path / "code" / "app"
    code.mkdir(parents=True)
    (code / "__init__.py").write_text("")
    (code / "handler.py").write_text(textwrap.dedent(HANDLER))
    config = AppConfig(
        deploy_target=DeployTarget.LOCAL,
        emulator_state_dir=tmp_path / "emulator",
        emulator_port=free_port(),
        site_port=free_port(),
        api_port=free_port(),
    )
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
        dead_letter_target=f"arn:aws:sqs:us-east-1:123456789012:{QUEUE}",
        role=f"arn:aws:iam::123456789012:role/{ROLE}",
    )
    monkeypatch.setattr(lambda_service, "RETRY_DELAYS_S", (0.1, 0.1))
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        sqs.create_queue(QueueName=QUEUE)
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
        server = Edge(config, EdgeLog(tmp_path / "edge.log"))
        # The emulator's STS and IAM, in-process here: the workers get the role's temporary credentials.
        server.functions._credentials = RoleSessions(boto3.client("sts", region_name="us-east-1"), iam).assume
        server.functions._code.directory = lambda function: tmp_path / "code"  # type: ignore[method-assign] # the zip is already "extracted"
        deployed = Deployed(config, function)
        server.deployment = deployed  # type: ignore[assignment]
        server.lambda_service = lambda_service.LambdaService(deployed, server.functions, server.log.note)  # type: ignore[arg-type]
        server.lambda_service._sqs = sqs
        server.bind()
        server.serve()
        try:
            yield server, sqs, tmp_path
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


def test_the_schedules_invocation_is_asynchronous_and_reports_its_result(edge: Any) -> None:
    server, _, tmp = edge
    record = tmp / "scheduled.jsonl"
    started = time.monotonic()
    status, queued = edge_call(server, "POST", "/_edge/invoke/runner", {"record": str(record)})
    assert (status, queued["function"]) == (202, "runner")
    assert time.monotonic() - started < 1.0, "the scheduler does not wait for the function"
    outcome = follow(server, queued["requestId"])
    assert outcome["state"] == "succeeded" and outcome["attempts"] == 1
    assert outcome["result"] == {"echo": {"record": str(record)}, "function": "runner"}


def test_a_failing_scheduled_run_is_retried_twice_in_order_then_dead_lettered(edge: Any) -> None:
    server, sqs, tmp = edge
    record = tmp / "scheduled-failing.jsonl"
    event = {"record": str(record), "fail": True}
    status, queued = edge_call(server, "POST", "/_edge/invoke/runner", event)
    assert status == 202
    outcome = follow(server, queued["requestId"])
    assert outcome["state"] == "failed"
    assert outcome["attempts"] == 1 + lambda_service.MAX_RETRY_ATTEMPTS
    assert outcome["error"]["errorMessage"] == "failed on purpose"
    assert outcome["deadLetterQueue"] == QUEUE
    assert records(record, count=3) == [event] * 3
    queue = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    [message] = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(message["Body"]) == event
    assert edge_call(server, "GET", "/_edge/invocations/unknown")[0] == 404
