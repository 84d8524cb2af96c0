"""``getStudentData``: GET /students lists students a page at a time, or returns one.

Query parameters:

- ``limit``: students per page, 1 to 500 (default 100);
- ``nextToken``: the ``nextToken`` of the previous page, to continue after it;
- ``studentid``: return only this student (404 if there is none).

A page is ``{"students": [...], "count": n, "nextToken": "..." | null}``;
``nextToken`` is null only when the table has no more students. One Scan call
may stop early (at 1 MB, or before ``limit``), so the listing keeps scanning
until the page is full or the table ends. A page whose JSON would exceed
``MAX_PAGE_BYTES`` ends early, with a ``nextToken``: nothing is ever dropped.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from lambdas.common import aws, encoding, names
from lambdas.common.config import ReadSettings
from lambdas.common.http import (
    ProxyResponse,
    RequestError,
    error_response,
    json_response,
    query_parameters,
    request_error_response,
)
from lambdas.common.log import bind_request, get_logger
from lambdas.common.validation import student_id_problem

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import ScanInputTypeDef

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 500
#: Largest JSON body (UTF-8 bytes) of one page. Lambda refuses responses over
#: 6 MB, and the runtime escapes the body once more when it serialises the
#: proxy response; a page that would pass this ends early with a nextToken.
MAX_PAGE_BYTES: Final = 2 * 1024 * 1024
#: DynamoDB's limit on a partition key value.
_MAX_KEY_BYTES: Final = 2048
# Base64 and JSON make a token about 4/3 of the key plus a few bytes.
_MAX_TOKEN_LENGTH: Final = 4096
_TOKEN = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)
_LIMIT = re.compile(r"[0-9]{1,3}", re.ASCII)

logger = get_logger(__name__)


@functools.cache
def settings() -> ReadSettings:
    return ReadSettings.from_env(os.environ)


@dataclass(frozen=True)
class Page:
    students: list[dict[str, encoding.JsonValue]]
    next_key: dict[str, Any] | None


def lambda_handler(event: dict[str, Any], context: object) -> ProxyResponse:
    bind_request(context)
    config = settings()
    origin = config.allowed_origin
    try:
        request = parse_request(query_parameters(event))
        if request.studentid is not None:
            student = get_student(aws.dynamodb(), config.table_name, request.studentid)
            if student is None:
                return error_response(404, "student not found", origin=origin)
            return json_response(200, {"student": student}, origin=origin)
        page = list_students(aws.dynamodb(), config.table_name, limit=request.limit, start_key=request.start_key)
    except RequestError as error:
        return request_error_response(error, origin=origin)
    except Exception:
        logger.exception("reading students failed")
        return error_response(500, "internal error", origin=origin)
    logger.info("students listed", extra={"count": len(page.students), "more": page.next_key is not None})
    body = {
        "students": page.students,
        "count": len(page.students),
        "nextToken": encode_token(page.next_key) if page.next_key else None,
    }
    return json_response(200, body, origin=origin)


@dataclass(frozen=True)
class ListRequest:
    limit: int
    start_key: dict[str, Any] | None
    studentid: str | None


def parse_request(query: Mapping[str, str]) -> ListRequest:
    """The validated query string; ``RequestError`` 400 naming every bad parameter."""
    errors: dict[str, str] = {}
    limit = DEFAULT_LIMIT
    if "limit" in query:
        text = query["limit"].strip()
        if _LIMIT.fullmatch(text) and 1 <= int(text) <= MAX_LIMIT:
            limit = int(text)
        else:
            errors["limit"] = f"must be an integer from 1 to {MAX_LIMIT}"
    start_key = None
    if "nextToken" in query:
        try:
            start_key = decode_token(query["nextToken"])
        except ValueError:
            errors["nextToken"] = "is not a token this API returned"
    studentid = query.get("studentid")
    if studentid is not None:
        if problem := student_id_problem(studentid):
            errors["studentid"] = problem
        elif "limit" in query or "nextToken" in query:
            errors["studentid"] = "cannot be combined with limit or nextToken"
    if errors:
        raise RequestError(400, "invalid query parameters", errors)
    return ListRequest(limit=limit, start_key=start_key, studentid=studentid)


def get_student(client: DynamoDBClient, table_name: str, studentid: str) -> dict[str, encoding.JsonValue] | None:
    """One student by id, or None."""
    # A strongly consistent read: a student saved a moment ago must be found.
    response = client.get_item(TableName=table_name, Key={names.STUDENT_KEY: {"S": studentid}}, ConsistentRead=True)
    item = response.get("Item")
    return encoding.ordered_item(encoding.from_dynamodb(item)) if item else None


def list_students(
    client: DynamoDBClient,
    table_name: str,
    *,
    limit: int,
    start_key: dict[str, Any] | None,
    max_bytes: int = MAX_PAGE_BYTES,
) -> Page:
    """Up to ``limit`` students after ``start_key``, and the key to continue from (None at the end)."""
    students: list[dict[str, encoding.JsonValue]] = []
    size = 0
    key = start_key
    while True:
        request: ScanInputTypeDef = {"TableName": table_name, "Limit": limit - len(students)}
        if key:
            request["ExclusiveStartKey"] = key
        response = client.scan(**request)
        for item in response.get("Items", []):
            student = encoding.ordered_item(encoding.from_dynamodb(item))
            size += len(encoding.dumps(student).encode("utf-8"))
            if students and size > max_bytes:
                # Continue after the last student returned; the rest of this Scan page is read again.
                return Page(students, {names.STUDENT_KEY: item_key(students[-1])})
            students.append(student)
        key = response.get("LastEvaluatedKey")
        if not key or len(students) >= limit:
            return Page(students, dict(key) if key else None)


def item_key(student: Mapping[str, encoding.JsonValue]) -> dict[str, str]:
    return {names.STUDENT_KEY_TYPE: str(student[names.STUDENT_KEY])}


def encode_token(key: Mapping[str, Any]) -> str:
    """``nextToken``: the Scan's LastEvaluatedKey as unpadded base64url JSON, opaque to clients."""
    text = json.dumps(key, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    """The key encoded by ``encode_token``; ``ValueError`` for anything else."""
    if len(token) > _MAX_TOKEN_LENGTH or not _TOKEN.fullmatch(token):
        raise ValueError("malformed token")
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        key = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        raise ValueError("malformed token") from None
    # Exactly the table's key: anything else would make Scan fail with a 500 instead of a 400.
    if not isinstance(key, dict) or set(key) != {names.STUDENT_KEY}:
        raise ValueError("malformed token")
    value = key[names.STUDENT_KEY]
    if not isinstance(value, dict) or set(value) != {names.STUDENT_KEY_TYPE}:
        raise ValueError("malformed token")
    text = value[names.STUDENT_KEY_TYPE]
    # A lone surrogate (legal in a JSON escape, absent from DynamoDB) fails to encode: a ValueError too.
    if not isinstance(text, str) or not 1 <= len(text.encode("utf-8")) <= _MAX_KEY_BYTES:
        raise ValueError("malformed token")
    return key
