"""What Lambda sends on a function's behalf, as its execution role: the log to CloudWatch Logs, the trace to X-Ray.

In AWS a function's output reaches its log group (``/aws/lambda/<name>``)
through Lambda, which writes it with the execution role's credentials
(``logs:CreateLogStream`` and ``logs:PutLogEvents`` on the group); a role
without them still runs the function, and its log is lost. With active
tracing the function's segment reaches X-Ray through the X-Ray daemon of its
execution environment, also as the role (``xray:PutTraceSegments``); a role
without it loses the trace.

The edge does the same, off the request's path: the lines of each worker
(with Lambda's ``START``, ``END`` and ``REPORT``) go to the log stream the
worker was given (``AWS_LAMBDA_LOG_STREAM_NAME``), and each invocation of a
function traced ``Active`` sends one segment; both are sent every
``SEND_EVERY_S`` with the worker's role credentials. A refusal is noted in the
edge's log (``telemetry: ... AccessDenied``) and never fails the invocation, as
in AWS. ``make logs`` keeps showing every line as it comes.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from config.settings import AppConfig
from local.edge.awslambda.roles import RoleCredentials, role_client
from local.edge.deployment.awslambda import Function

#: How often what the workers wrote is sent.
SEND_EVERY_S: Final = 0.25
#: Lambda's tracing mode that sends a segment for every invocation.
ACTIVE: Final = "Active"


@dataclass(frozen=True)
class _Line:
    group: str
    stream: str
    credentials: RoleCredentials
    timestamp_ms: int
    text: str


@dataclass(frozen=True)
class _Segment:
    credentials: RoleCredentials
    document: str


class Telemetry:
    """Collects log lines and trace segments; a thread of its own sends them as the role they belong to."""

    def __init__(self, config: AppConfig, note: Callable[[str], None]) -> None:
        self._config = config
        self._note = note
        self._lock = threading.Lock()
        self._lines: list[_Line] = []
        self._segments: list[_Segment] = []
        self._clients: dict[tuple[str, str], Any] = {}
        self._streams: set[tuple[str, str]] = set()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._send_until_stopped, name="telemetry", daemon=True)
        self._thread.start()

    def line(self, function: Function, stream: str, credentials: RoleCredentials, text: str) -> None:
        """One line of a worker's log, for ``/aws/lambda/<function>``."""
        entry = _Line(f"/aws/lambda/{function.name}", stream, credentials, int(time.time() * 1000), text)
        with self._lock:
            self._lines.append(entry)

    def invocation(
        self, function: Function, credentials: RoleCredentials, *, started: float, ended: float, failed: bool
    ) -> None:
        """One invocation (``time.time()`` bounds): a segment, when the function is traced ``Active``."""
        if function.tracing_mode != ACTIVE:
            return
        segment = {
            "name": function.name,
            "id": os.urandom(8).hex(),
            "trace_id": f"1-{int(started):08x}-{os.urandom(12).hex()}",
            "start_time": started,
            "end_time": ended,
            "origin": "AWS::Lambda::Function",
            "resource_arn": function.arn,
            "error": failed,
        }
        with self._lock:
            self._segments.append(_Segment(credentials, json.dumps(segment)))

    def close(self) -> None:
        """Send what is left, then stop."""
        self._stopped.set()
        self._thread.join(timeout=10)

    def _send_until_stopped(self) -> None:
        while not self._stopped.wait(SEND_EVERY_S):
            self._send()
        self._send()

    def _send(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
            segments, self._segments = self._segments, []
        batches: dict[tuple[str, str, RoleCredentials], list[_Line]] = {}
        for line in lines:
            batches.setdefault((line.group, line.stream, line.credentials), []).append(line)
        for (group, stream, credentials), batch in batches.items():
            self._put_log_events(group, stream, credentials, batch)
        for segment in segments:
            self._put_segment(segment)

    def _put_segment(self, segment: _Segment) -> None:
        def put(xray: Any) -> None:
            xray.put_trace_segments(TraceSegmentDocuments=[segment.document])

        self._attempt("xray", segment.credentials, "the trace segment is lost", put)

    def _put_log_events(self, group: str, stream: str, credentials: RoleCredentials, batch: list[_Line]) -> None:
        def put(logs: Any) -> None:
            if (group, stream) not in self._streams:
                try:
                    logs.create_log_stream(logGroupName=group, logStreamName=stream)
                except ClientError as error:
                    if error.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
                        raise
                self._streams.add((group, stream))
            events = [{"timestamp": line.timestamp_ms, "message": line.text} for line in batch]
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)

        self._attempt("logs", credentials, f"{len(batch)} line(s) of {group} are lost", put)

    def _attempt(self, service: str, credentials: RoleCredentials, loss: str, send: Callable[[Any], object]) -> None:
        """Send as the role; what is refused is noted and dropped, as Lambda drops it."""
        key = (service, credentials.access_key_id)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = role_client(service, self._config, credentials)
        try:
            send(client)
        except (ClientError, BotoCoreError) as error:
            self._note(f"telemetry: {loss}: {error}")
