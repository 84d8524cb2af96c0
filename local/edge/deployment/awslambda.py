"""Lambda's part of the deployment: a function's configuration, as ``GetFunction`` and ``GetPolicy`` give it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from local.edge.deployment.errors import NotDeployed, error_code


@dataclass(frozen=True)
class Function:
    """A function's configuration: every field that decides how it runs, and its resource policy."""

    name: str
    arn: str
    handler: str
    runtime: str
    timeout_seconds: int
    memory_mb: int
    code_sha256: str
    environment: tuple[tuple[str, str], ...]
    #: The resource policy's statements (who may invoke it), empty when it has none.
    policy: tuple[Mapping[str, Any], ...]
    #: Where failed asynchronous invocations go (an SQS queue or SNS topic ARN), empty for none.
    dead_letter_target: str = ""
    #: The execution role's ARN: the worker acts with its temporary credentials.
    role: str = ""
    #: ``Active``: each invocation sends a trace segment to X-Ray (``PassThrough``: none of its own).
    tracing_mode: str = "PassThrough"


def read_function(client: Any, name_or_arn: str) -> Function:
    """The function's configuration and resource policy (``NotDeployed`` when there is no such function)."""
    try:
        configuration = client.get_function(FunctionName=name_or_arn)["Configuration"]
    except ClientError as error:
        raise NotDeployed(f"function {name_or_arn}: {error_code(error)}") from None
    try:
        policy = json.loads(client.get_policy(FunctionName=name_or_arn)["Policy"])
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
        policy = {}
    variables = (configuration.get("Environment") or {}).get("Variables") or {}
    return Function(
        name=configuration["FunctionName"],
        arn=configuration["FunctionArn"],
        handler=configuration["Handler"],
        runtime=configuration.get("Runtime", ""),
        timeout_seconds=int(configuration.get("Timeout", 3)),
        memory_mb=int(configuration.get("MemorySize", 128)),
        code_sha256=configuration["CodeSha256"],
        environment=tuple(sorted((str(k), str(v)) for k, v in variables.items())),
        policy=tuple(policy.get("Statement", [])),
        dead_letter_target=(configuration.get("DeadLetterConfig") or {}).get("TargetArn", ""),
        role=configuration.get("Role", ""),
        tracing_mode=(configuration.get("TracingConfig") or {}).get("Mode", "PassThrough"),
    )
