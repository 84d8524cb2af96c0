"""One function's worker process: the Lambda Python runtime's part, on the edge's side of a pipe.

Started by ``worker.py`` as ``<runtime python> -I -u runtime.py <response fd>``
with the working directory set to the function's extracted zip (Lambda's
``/var/task``) and exactly the environment Lambda would give it. The
interpreter is ``.venv-runtime``'s: the deployed runtime's Python (3.13) with
the SDK the Lambda runtime bundles (``requirements-runtime.txt``). ``-I`` keeps
the working tree, ``PYTHONPATH`` and the user's site directory off
``sys.path``; only the code directory is put first, so the handler imports
the deployed code and the runtime's packages, nothing else of the project.
The standard library and simplejson only: this file runs beside the
function's code, not as part of the edge.

Protocol: one JSON object per line. The edge writes
``{"requestId", "timeoutMs", "functionArn", "event"}`` on stdin; the worker
answers ``{"payload": "<the result, encoded>"}`` or ``{"error": {"errorType",
"errorMessage"}}`` on the response file descriptor. The payload is the text
the Lambda runtime would send: its client (awslambdaric) encodes a result with
simplejson, non-ASCII characters as they are on python3.12 and later, a
``Decimal`` as its exact digits; what it cannot encode (a set, bytes inside
the result, ``NaN`` and ``Infinity``, which simplejson refuses since 3.19) is
``Runtime.MarshalError``, which API Gateway answers 502. stdout and stderr are the
function's log, which the edge copies into its own. The handler is imported
once, at start; an import error is the answer to every invocation, as in
Lambda.
"""

from __future__ import annotations

import decimal
import importlib
import importlib.metadata
import json
import math
import os
import platform
import sys
import time
import traceback
from typing import IO, Any

import simplejson


class Context:
    """The attributes and method of the Lambda runtime's context object."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.aws_request_id: str = request["requestId"]
        self.invoked_function_arn: str = request["functionArn"]
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + int(request["timeoutMs"]) / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


#: awslambdaric writes non-ASCII characters as they are for these runtimes, as \\u escapes for older ones.
UNICODE_RUNTIMES = frozenset({"AWS_Lambda_python3.12", "AWS_Lambda_python3.13"})


class RuntimeEncoder(simplejson.JSONEncoder):  # type: ignore[misc] # simplejson ships no types
    """The Lambda runtime's encoder (awslambdaric's ``lambda_runtime_marshaller.Encoder``)."""

    def __init__(self) -> None:
        unicode = os.environ.get("AWS_EXECUTION_ENV") in UNICODE_RUNTIMES
        super().__init__(use_decimal=False, ensure_ascii=not unicode)

    def default(self, o: Any) -> Any:
        if isinstance(o, decimal.Decimal):
            return math.nan if o.is_nan() else simplejson.RawJSON(str(o))
        return super().default(o)


def load_handler(spec: str) -> Any:
    module_name, _, attribute = spec.rpartition(".")
    if not module_name:
        raise ValueError(f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)")
    return getattr(importlib.import_module(module_name), attribute)


def error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"errorType": kind, "errorMessage": message}}


def serve(handler: Any, init_error: dict[str, Any] | None, answers: IO[str]) -> None:
    for line in sys.stdin:
        request = json.loads(line)
        answers.write(json.dumps(init_error) if init_error is not None else invoke(handler, request))
        answers.write("\n")
        answers.flush()


def invoke(handler: Any, request: dict[str, Any]) -> str:
    """The answer to one invocation, as a line of JSON."""
    try:
        result = handler(request["event"], Context(request))
    except Exception as failure:  # every failure of the function is its answer
        traceback.print_exc()
        return json.dumps(error(type(failure).__name__, str(failure)))
    try:
        payload = RuntimeEncoder().encode(result)
    except Exception as failure:  # awslambdaric answers any encoding failure this way
        return json.dumps(error("Runtime.MarshalError", f"Unable to marshal response: {failure}"))
    return json.dumps({"payload": payload})


def init_line() -> str:
    """What the worker says first: the interpreter and SDK that serve (Lambda logs ``INIT_START``)."""
    try:
        sdk = f"botocore {importlib.metadata.version('botocore')}"
    except importlib.metadata.PackageNotFoundError:
        sdk = "no botocore"
    return f"INIT_START Runtime Version: python:{platform.python_version()} ({sys.executable}, {sdk})"


def main() -> None:
    answers = os.fdopen(int(sys.argv[1]), "w", encoding="utf-8")
    print(init_line(), flush=True)
    task_root = os.getcwd()
    sys.path.insert(0, task_root)
    init_error = None
    handler = None
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except Exception as failure:  # Lambda reports an import failure on every invocation
        traceback.print_exc()
        message = f"Unable to import module '{os.environ['_HANDLER']}': {failure}"
        init_error = error("Runtime.ImportModuleError", message)
    serve(handler, init_error, answers)


if __name__ == "__main__":
    main()
