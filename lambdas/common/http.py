"""API Gateway REST API (Lambda proxy integration) events in, proxy responses out.

Every response, errors included, is JSON and carries the CORS headers for the
one allowed origin: a browser hides any response without them from the page,
so an error without CORS headers reads as "network error" instead of its message.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, Final, TypedDict

from lambdas.common import encoding

#: Largest request body accepted, in bytes after base64 decoding.
MAX_BODY_BYTES: Final = 16 * 1024


class ProxyResponse(TypedDict):
    statusCode: int
    headers: dict[str, str]
    body: str
    isBase64Encoded: bool


class RequestError(Exception):
    """A request the function refuses; becomes a 4xx JSON response."""

    def __init__(self, status: int, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = dict(errors) if errors else None


def is_api_event(event: object) -> bool:
    """True for an API Gateway REST proxy event, false for anything else (e.g. the scheduler's)."""
    return isinstance(event, Mapping) and "httpMethod" in event and "requestContext" in event


def json_response(status: int, body: Mapping[str, object], *, origin: str) -> ProxyResponse:
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": encoding.JSON_CONTENT_TYPE,
            "Access-Control-Allow-Origin": origin,
            # The answer depends on the caller's origin: caches must not reuse it for another.
            "Vary": "Origin",
            # Student records are personal data: no shared or browser cache keeps them.
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
        "body": encoding.dumps(body),
        "isBase64Encoded": False,
    }


def error_response(status: int, message: str, *, origin: str, errors: Mapping[str, str] | None = None) -> ProxyResponse:
    body: dict[str, object] = {"message": message}
    if errors:
        body["errors"] = dict(errors)
    return json_response(status, body, origin=origin)


def request_error_response(error: RequestError, *, origin: str) -> ProxyResponse:
    return error_response(error.status, error.message, origin=origin, errors=error.errors)


def query_parameters(event: Mapping[str, Any]) -> dict[str, str]:
    """The query string as a dict (API Gateway sends ``null`` when there is none)."""
    parameters = event.get("queryStringParameters") or {}
    return {str(key): str(value) for key, value in parameters.items()}


def json_body(event: Mapping[str, Any], *, max_bytes: int = MAX_BODY_BYTES) -> object:
    """The decoded JSON request body; ``RequestError`` 400 or 413 when it cannot be one."""
    raw = _body_bytes(event, max_bytes=max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError(400, "request body is not UTF-8 text") from None
    try:
        return json.loads(text, object_pairs_hook=_object_without_duplicates)
    except _DuplicateKeyError as duplicate:
        raise RequestError(400, "request body repeats a field", {str(duplicate): "appears more than once"}) from None
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError and integers longer than Python parses.
        raise RequestError(400, "request body is not valid JSON") from None


def _body_bytes(event: Mapping[str, Any], *, max_bytes: int) -> bytes:
    body = event.get("body")
    if body is None or body == "":
        raise RequestError(400, "request body is required")
    if not isinstance(body, str):
        raise RequestError(400, "request body is not text")
    too_large = RequestError(413, f"request body is larger than {max_bytes} bytes")
    if event.get("isBase64Encoded"):
        # Refuse before decoding: base64 text is 4/3 the size of what it encodes.
        if len(body) > (max_bytes + 2) // 3 * 4:
            raise too_large
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError(400, "request body is not valid base64") from None
    else:
        # Every character is at least one byte: skip encoding a body that is plainly too large.
        if len(body) > max_bytes:
            raise too_large
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError:
            raise RequestError(400, "request body is not UTF-8 text") from None
    if len(raw) > max_bytes:
        raise too_large
    return raw


class _DuplicateKeyError(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of repeated keys; which one the client meant is anyone's guess.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result
