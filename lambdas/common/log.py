"""Structured logs: one JSON object per line, through the standard ``logging`` module.

CloudWatch Logs Insights can then filter on fields (``studentid``, ``items``)
instead of parsing sentences. Fields are passed with ``extra=``::

    logger.info("student saved", extra={"studentid": student.studentid})

Log the student id only: names, birthdates and e-mail addresses are personal
data and stay out of the logs, as do request bodies.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Final, TextIO

#: Parent of every function's logger; configured once per container.
ROOT_LOGGER: Final = "lambdas"

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES: Final = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys() | {"message", "asctime", "taskName"}
)


class JsonFormatter(logging.Formatter):
    """Formats a record as a single-line JSON object with its ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = _request_id.get()
        if request_id:
            entry["requestId"] = request_id
        entry.update((key, value) for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _StdoutHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stdout`` is at the time, so a test runner's capture is honoured."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def get_logger(name: str) -> logging.Logger:
    """A logger under ``lambdas`` whose records are written as JSON lines to stdout."""
    root = logging.getLogger(ROOT_LOGGER)
    if not root.handlers:
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        # The Lambda runtime's root handler would print every record a second time, unstructured.
        root.propagate = False
        root.setLevel(_configured_level())
    return logging.getLogger(name if name.startswith(ROOT_LOGGER) else f"{ROOT_LOGGER}.{name}")


def _configured_level() -> int:
    # Set by Lambda's advanced logging controls (TRACE is finer than logging knows).
    name = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO").upper()
    return logging.DEBUG if name == "TRACE" else logging.getLevelNamesMapping().get(name, logging.INFO)


def bind_request(context: object) -> None:
    """Tag the records of this invocation with its request id (absent outside Lambda)."""
    _request_id.set(getattr(context, "aws_request_id", None))
