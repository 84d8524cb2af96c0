"""The final backup: the deployed backup function run once, in AWS or in the emulator, before anything changes.

Two invokers behind one protocol, so the teardown's step 3 reads the same for
either target and the tests give it a fake.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from config.settings import AppConfig
from local.edge.awslambda.functions import Functions
from local.edge.deployment.errors import NotDeployed
from local.edge.deployment.reader import Deployment
from ops.destroy.errors import TeardownError, error_code

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

#: What the backup function receives: not an API Gateway event, so it runs a
#: backup inline and returns its summary (or fails) instead of starting a run.
FINAL_BACKUP_EVENT: Final = {"source": "make-destroy"}
#: Lambda's longest timeout; the read timeout of the final backup's Invoke covers it.
LAMBDA_MAX_TIMEOUT_SECONDS: Final = 900
#: Beyond the function's timeout: the invocation's start and the answer's way back.
INVOKE_GRACE_SECONDS: Final = 60
#: Lines of a failing function's log shown with its error.
LOG_TAIL_LINES: Final = 20


class FinalBackupError(TeardownError):
    """The backup function failed or could not be invoked: nothing was changed."""


class BackupInvoker(Protocol):
    """Runs the deployed backup function once and returns what it returned."""

    def deployed(self, name: str) -> bool: ...

    def invoke(self, name: str, event: Mapping[str, Any]) -> Any: ...


class LambdaInvoker:
    """AWS: ``lambda:Invoke``, RequestResponse, with a read timeout beyond any function's timeout and no retry.

    A retried Invoke would run a second backup; the function reserves a
    concurrency of 1, so while another backup runs, Lambda refuses this one.
    """

    def __init__(self, client: LambdaClient) -> None:
        self._client = client

    @classmethod
    def for_region(cls, region: str) -> LambdaInvoker:
        config = Config(
            connect_timeout=10,
            read_timeout=LAMBDA_MAX_TIMEOUT_SECONDS + INVOKE_GRACE_SECONDS,
            retries={"total_max_attempts": 1},
        )
        return cls(boto3.client("lambda", region_name=region, config=config))

    def deployed(self, name: str) -> bool:
        try:
            self._client.get_function_configuration(FunctionName=name)
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return False
            raise
        return True

    def invoke(self, name: str, event: Mapping[str, Any]) -> Any:
        try:
            answer = self._client.invoke(
                FunctionName=name, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
            )
        except ClientError as error:
            if error_code(error) == "TooManyRequestsException":
                raise FinalBackupError(
                    f"{name} is busy (it runs one backup at a time): wait for the running backup, then rerun"
                ) from None
            raise FinalBackupError(f"invoking {name} failed: {error}") from None
        except BotoCoreError as error:
            raise FinalBackupError(f"invoking {name} failed: {error}") from None
        payload = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            details = payload if isinstance(payload, dict) else {}
            raise FinalBackupError(
                f"{name} failed: {details.get('errorType', answer['FunctionError'])}: "
                f"{details.get('errorMessage', payload)} (its log: /aws/lambda/{name} in CloudWatch Logs)"
            )
        return payload


class EmulatorInvoker:
    """The emulator runs no function code: the local edge's machinery does, without the edge running.

    ``local/edge``: the function's deployed zip (checked against its
    ``CodeSha256``) in a worker process with exactly its deployed environment,
    pointed at the emulator, and its own timeout enforced.
    """

    def __init__(self, config: AppConfig) -> None:
        self._config = config
        self._deployment = Deployment(config)

    def deployed(self, name: str) -> bool:
        try:
            self._deployment.function(name)
        except NotDeployed:
            return False
        return True

    def invoke(self, name: str, event: Mapping[str, Any]) -> Any:
        function = self._deployment.function(name)
        log: list[str] = []
        pool = Functions(self._config, lambda _function, line: log.append(line))
        try:
            invocation = pool.invoke(function, event, str(uuid.uuid4())).result(
                timeout=function.timeout_seconds + INVOKE_GRACE_SECONDS
            )
        finally:
            pool.stop()
        if invocation.error is not None:
            tail = "\n".join(f"    {line}" for line in log[-LOG_TAIL_LINES:])
            raise FinalBackupError(
                f"{name} failed: {invocation.error.get('errorType')}: {invocation.error.get('errorMessage')}\n"
                f"  the end of its log:\n{tail}"
            )
        return invocation.result
