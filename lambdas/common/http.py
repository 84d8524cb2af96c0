"""API Gateway REST API (Lambda proxy integration) events in, proxy responses out.

Every response, errors included, is JSON and carries the CORS headers for the
one allowed origin: a browser hides any response without them from the page,
so an error without CORS headers reads as "network error" instead of its message.

Every reply must be sendable: the Lambda runtime writes it as JSON that keeps
non-ASCII text as is, then encodes it as UTF-8, and a lone surrogate (legal in
a JSON escape such as ``"\\ud800"``) fails that encoding, so the caller gets a
502 from the gateway instead of the answer. Text taken from a request is
therefore shown in a reply only through ``echo``.
"""

from __future__ import annotations

import base64
import binascii
import json
import unicodedata
from collections.abc import Mapping
from typing import Any, Final, TypedDict

from lambdas.common import encoding

#: Largest request body accepted, in bytes after base64 decoding.
MAX_BODY_BYTES: Final = 16 * 1024
#: The one media type of request bodies (``json_body`` reads UTF-8 JSON text).
JSON_MEDIA_TYPE: Final = "application/json"
#: Longest text ``echo`` returns, the "…" that marks a shortened one included.
ECHO_MAX: Final = 64
# Characters a reader cannot see (controls, format and bidi marks, line separators)
# and lone surrogates, which UTF-8 cannot encode at all.
_INVISIBLE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Names of repeated query parameters are echoed back: a hostile query must not make the reply huge.
_REPEATED_SHOWN: Final = 10


class ProxyResponse(TypedDict):
    statusCode: int
    headers: dict[str, str]
    body: str
    isBase64Encoded: bool


class RequestError(Exception):
    """A request the function refuses; becomes a 4xx JSON response."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers) if headers else {}


def is_api_event(event: object) -> bool:
    """True for an API Gateway REST proxy event, false for anything else (e.g. the scheduler's)."""
    return isinstance(event, Mapping) and "httpMethod" in event and "requestContext" in event


def json_response(
    status: int, body: Mapping[str, object], *, origin: str, headers: Mapping[str, str] | None = None
) -> ProxyResponse:
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
            **(headers or {}),
        },
        "body": encoding.dumps(body),
        "isBase64Encoded": False,
    }


def error_response(
    status: int,
    message: str,
    *,
    origin: str,
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProxyResponse:
    body: dict[str, object] = {"message": message}
    if errors:
        body["errors"] = dict(errors)
    return json_response(status, body, origin=origin, headers=headers)


def request_error_response(error: RequestError, *, origin: str) -> ProxyResponse:
    return error_response(error.status, error.message, origin=origin, errors=error.errors, headers=error.headers)


def require_method(event: Mapping[str, Any], method: str) -> None:
    """``RequestError`` 405 unless the event is a call of ``method``, the one its function serves.

    API Gateway invokes each function for its own method only; an event of
    another (an ``ANY`` method wired to the function, a test's or an operator's
    hand-made event) is refused rather than read as something it is not.
    """
    if event.get("httpMethod") != method:
        raise RequestError(405, f"this resource accepts {method} only", headers={"Allow": method})


def echo(text: str) -> str:
    """Text from a request, fit to show in a reply: visible, encodable as UTF-8, and short.

    Invisible characters and lone surrogates become Python escapes (``\\x00``,
    ``\\u202e``, ``\\ud800``); a text longer than ``ECHO_MAX`` characters is cut,
    never inside an escape, and ends in "…".
    """
    # Each character shows as at least one: what lies past ECHO_MAX + 1 is cut anyway.
    pieces = [_visible(character) for character in text[: ECHO_MAX + 1]]
    if sum(len(piece) for piece in pieces) <= ECHO_MAX:
        return "".join(pieces)
    shown = ""
    for piece in pieces:
        if len(shown) + len(piece) > ECHO_MAX - 1:
            break
        shown += piece
    return shown + "…"


def _visible(character: str) -> str:
    if unicodedata.category(character) not in _INVISIBLE_CATEGORIES:
        return character
    code = ord(character)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def require_json_content_type(event: Mapping[str, Any]) -> None:
    """``RequestError`` 415 unless the request declares a JSON body, and nothing else.

    API Gateway checks a body against the method's model only when it is sent as
    ``application/json``: a body of any other media type reaches the function
    unchecked, so the function refuses it rather than read it as JSON anyway.
    Parameters (``; charset=utf-8``) are allowed; names and types compare without case.
    """
    declared = _header_values(event, "Content-Type")
    if not declared or any(_media_type(value) != JSON_MEDIA_TYPE for value in declared):
        raise RequestError(415, f"request body must be {JSON_MEDIA_TYPE}")


def _header_values(event: Mapping[str, Any], name: str) -> list[str]:
    # The gateway keeps the client's spelling of header names, and sends null for no headers.
    wanted = name.lower()
    values = [str(value) for key, value in (event.get("headers") or {}).items() if str(key).lower() == wanted]
    for key, many in (event.get("multiValueHeaders") or {}).items():
        if str(key).lower() == wanted:
            values.extend(str(value) for value in many or ())
    return values


def _media_type(header: str) -> str:
    return header.partition(";")[0].strip().lower()


def query_parameters(event: Mapping[str, Any]) -> dict[str, str]:
    """The query string as a dict (API Gateway sends ``null`` when there is none).

    ``RequestError`` 400 for a parameter given more than once: API Gateway keeps
    the last value in this map, and which one the client meant is anyone's guess
    (as with a field repeated in a JSON body).
    """
    repeated = sorted(
        str(key)
        for key, values in (event.get("multiValueQueryStringParameters") or {}).items()
        if len(values or ()) > 1
    )
    if repeated:
        errors = {echo(key): "is given more than once" for key in repeated[:_REPEATED_SHOWN]}
        raise RequestError(400, "invalid query parameters", errors)
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
        repeated = echo(str(duplicate))
        raise RequestError(400, "request body repeats a field", {repeated: "appears more than once"}) from None
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
