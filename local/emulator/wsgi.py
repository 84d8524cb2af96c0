"""Reading and answering the emulator's WSGI requests: shared by its own routes and by IAM in front of moto.

A request's body is read once and put back, so that moto still reads it
after IAM has.
"""

from __future__ import annotations

import io
import urllib.parse
from collections.abc import Mapping
from typing import Any


def answer(start_response: Any, status: str, content_type: str, body: bytes) -> list[bytes]:
    """A whole answer: its status, its content type and length, its body."""
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def request_body(environ: dict[str, Any]) -> bytes:
    """The request's body, read once and put back for moto."""
    if "student_mgmt.body" in environ:
        return bytes(environ["student_mgmt.body"])
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):  # chunked (S3's aws-chunked uploads): read to its end
        body = bytes(stream.read())
    else:
        body = bytes(stream.read(length)) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["student_mgmt.body"] = body
    return body


def form_fields(environ: Mapping[str, Any], body: bytes) -> dict[str, str]:
    """The query protocol's parameters: the URL's, then a form body's."""
    fields = dict(urllib.parse.parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
    body = bytes(environ.get("student_mgmt.body", body))
    if body and "x-www-form-urlencoded" in str(environ.get("CONTENT_TYPE", "")):
        fields |= dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return fields
