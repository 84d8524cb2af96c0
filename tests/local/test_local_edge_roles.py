"""Each local function acts as its execution role: temporary credentials from the emulator's STS.

Against a moto server of this module's own (``emulator`` below, on a free port,
started and stopped by ``local/emulator.sh``): roles made with boto3 as the
construct makes them (a trust policy for ``lambda.amazonaws.com``), and real
worker processes from a temporary code directory standing in for a deployed zip.
Inside a worker, the function's own boto3 asks the emulator's STS who it is.
"""

from __future__ import annotations

import json
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.edge.awslambda import roles
from local.edge.awslambda.functions import Functions
from local.edge.awslambda.roles import LAMBDA_PRINCIPAL
from local.edge.awslambda.worker import Invocation
from local.edge.deployment.awslambda import Function
from local.edge.policies import service_may_assume
from tests.conftest import EmulatorSettings, private_emulator

#: `make check` leaves this module to `make test`: a moto server of its own.
pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}

#: Answers who the function is, as STS sees its calls, and which key it signs with.
HANDLER = """
import os
import boto3

def lambda_handler(event, context):
    identity = boto3.client("sts").get_caller_identity()
    return {"arn": identity["Arn"], "key": os.environ["AWS_ACCESS_KEY_ID"]}
"""


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorSettings]:
    """This module's own moto server."""
    with private_emulator(tmp_path_factory.mktemp("roles-emulator")) as settings:
        yield settings


@pytest.fixture
def pool(emulator: EmulatorSettings, tmp_path: Path) -> Iterator[tuple[Functions, list[tuple[str, str]]]]:
    package = tmp_path / "code" / "app"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(textwrap.dedent(HANDLER))
    lines: list[tuple[str, str]] = []
    workers = Functions(emulator.config, lambda name, line: lines.append((name, line)))
    workers._code.directory = lambda function: tmp_path / "code"  # type: ignore[method-assign] # "extracted" already
    yield workers, lines
    workers.stop()


def function_with_role(emulator: EmulatorSettings, trust: dict[str, Any]) -> Function:
    """A function whose execution role (made now, with ``trust``) has no permission at all."""
    name = f"runner-{uuid.uuid4().hex[:8]}"
    role = emulator.client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(trust))
    return Function(
        name=name,
        arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}",
        handler="app.handler.lambda_handler",
        runtime="python3.13",
        timeout_seconds=20,
        memory_mb=128,
        code_sha256="c29tZSBjb2Rl",
        environment=(),
        policy=(),
        role=role["Role"]["Arn"],
    )


def invoke(workers: Functions, function: Function) -> Invocation:
    return workers.invoke(function, {}, str(uuid.uuid4())).result(timeout=60)


def test_inside_a_worker_the_caller_is_the_functions_assumed_role(
    emulator: EmulatorSettings, pool: tuple[Functions, Any]
) -> None:
    workers, _ = pool
    function = function_with_role(emulator, LAMBDA_TRUST)
    answer = invoke(workers, function)
    assert answer.error is None, answer.error
    role_name = function.role.rsplit("/", 1)[-1]
    # Lambda names the session after the function.
    assert answer.result["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{function.name}"
    assert answer.result["key"].startswith("ASIA"), "temporary credentials, not the emulator's own key"


def test_a_role_that_does_not_trust_lambda_cannot_run_the_function(
    emulator: EmulatorSettings, pool: tuple[Functions, list[tuple[str, str]]]
) -> None:
    workers, lines = pool
    answer = invoke(workers, function_with_role(emulator, EC2_TRUST))
    assert answer.error is not None and answer.error["errorType"] == "ServiceException"
    assert "cannot be assumed by Lambda" in answer.error["errorMessage"]
    assert any("cannot be assumed by Lambda" in line for _, line in lines)


def test_a_worker_whose_credentials_are_about_to_expire_is_replaced_with_fresh_ones(
    emulator: EmulatorSettings, pool: tuple[Functions, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    workers, _ = pool
    function = function_with_role(emulator, LAMBDA_TRUST)
    first = invoke(workers, function).result["key"]
    assert invoke(workers, function).result["key"] == first, "a warm worker keeps its credentials"
    # From now on every credential counts as expiring: the next invocation gets a new environment.
    monkeypatch.setattr(roles, "RENEW_BEFORE_SECONDS", roles.CREDENTIALS_SECONDS + 1)
    renewed = invoke(workers, function).result["key"]
    assert renewed != first


@pytest.mark.parametrize(
    ("statement", "trusted"),
    [
        ({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}, True),
        ({"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}, "Action": ["sts:*"]}, True),
        ({"Effect": "Deny", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}, False),
        ({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:TagSession"}, False),
        (
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"},
            False,
        ),
        (
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            },
            True,
        ),
        (
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": "999999999999"}},
            },
            False,
        ),
    ],
)
def test_trust_is_read_as_aws_reads_it_and_never_more_kindly(statement: dict[str, Any], trusted: bool) -> None:
    assert service_may_assume({"Statement": [statement]}, service=LAMBDA_PRINCIPAL, account=ACCOUNT) is trusted
