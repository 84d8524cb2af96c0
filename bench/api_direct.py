"""The direct side of ``bench.api``, its baseline: the handlers called in the benchmark's own process.

The same handler modules from ``lambdas/`` the deployed functions run, given a
proxy event shaped as the edge builds it and the function's deployed
environment (read from the emulator, as the edge's workers get it), so the
DynamoDB and SES calls are the edge's; only the edge's own work is left out.
Separate from the edge side (``bench.api_edge``): the two are the halves of
every comparison.
"""

from __future__ import annotations

import json
import logging
import os
import time
import types
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.api_load import PAGE, RESOURCE, Call, created_problem, new_student, page_problem
from bench.local_system import BenchError
from config.settings import PROJECT_ROOT, AppConfig
from lambdas.common import aws, log
from lambdas.get_students import handler as get_students
from lambdas.insert_student import handler as insert_student
from local.edge.awslambda.roles import RoleSessions
from local.edge.awslambda.worker import worker_environment
from local.edge.deployment.awslambda import Function
from local.edge.deployment.outputs import Outputs
from local.edge.deployment.reader import Deployment


def deployed_functions(config: AppConfig) -> dict[str, Function]:
    """The deployed function behind each method of ``RESOURCE``, read from the emulator as the edge reads it."""
    deployment = Deployment(config)
    api = deployment.rest_api(Outputs.read(deployment.outputs_path).api_id, config.api_stage_name)
    resource = api.resource_for(RESOURCE)
    found = {}
    for method in ("GET", "POST"):
        integration = resource.methods[method].integration if resource and method in resource.methods else None
        arn = integration.function_arn if integration else None
        if arn is None:
            raise BenchError(f"{method} {RESOURCE} has no Lambda integration in the deployed API")
        found[method] = deployment.function(arn)
    return found


def proxy_event(method: str, *, query: Mapping[str, str] | None = None, body: object = None) -> dict[str, Any]:
    """A REST API (v1) Lambda proxy event, shaped as the edge builds it."""
    request_id = str(uuid.uuid4())
    headers = {"Host": "127.0.0.1", "User-Agent": "bench", "x-api-key": "direct"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return {
        "resource": RESOURCE,
        "path": RESOURCE,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": RESOURCE,
            "httpMethod": method,
            "requestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "bench"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def invoke(handler: Callable[[dict[str, Any], object], Any], event: dict[str, Any]) -> tuple[float, int, str]:
    context = types.SimpleNamespace(aws_request_id=event["requestContext"]["requestId"])
    started = time.perf_counter()
    response = handler(event, context)
    return time.perf_counter() - started, int(response["statusCode"]), str(response["body"])


def direct_get(_: int) -> tuple[float, str | None]:
    seconds, status, body = invoke(get_students.lambda_handler, proxy_event("GET", query={"limit": str(PAGE)}))
    return seconds, page_problem(status, body)


def direct_post(label: str) -> Call:
    def call(index: int) -> tuple[float, str | None]:
        event = proxy_event("POST", body=new_student(label, index))
        seconds, status, body = invoke(insert_student.lambda_handler, event)
        return seconds, created_problem(status, body)

    return call


@contextmanager
def deployed_environment(function: Function, config: AppConfig) -> Iterator[None]:
    """This process's environment as the function's workers get it, and its cached clients and settings dropped.

    Every other ``AWS_*`` variable is removed meanwhile: an inherited CA bundle,
    profile or endpoint would send the calls elsewhere. ``PATH`` is kept: the
    runtime's means nothing to an in-process call. The credentials are the
    execution role's, as the workers' are, so the emulator evaluates the same
    policies for both sides.
    """
    saved = dict(os.environ)
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        del os.environ[name]
    credentials = RoleSessions.of(config).assume(function)
    environment = worker_environment(function, config, PROJECT_ROOT, credentials)
    os.environ.update({k: v for k, v in environment.items() if k != "PATH"})
    os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    forget_function_state()
    try:
        yield
    finally:
        forget_function_state()
        os.environ.clear()
        os.environ.update(saved)


def forget_function_state() -> None:
    """Drop cached clients and settings, as a fresh execution environment has none."""
    aws.reset()
    get_students.settings.cache_clear()
    insert_student.settings.cache_clear()


def log_functions_to(path: Path) -> None:
    """The handlers' JSON log lines into a file instead of this benchmark's output."""
    logger = logging.getLogger(log.ROOT_LOGGER)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(log.JsonFormatter())
    logger.handlers[:] = [handler]
