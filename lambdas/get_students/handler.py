"""``getStudentData``: GET /students lists students a page at a time, or returns one.

Query parameters:

- ``limit``: students per page, 1 to 500 (default 100);
- ``nextToken``: the ``nextToken`` of the previous page, to continue after it;
- ``studentid``: return only this student (404 if there is none).

Any other parameter, a parameter given twice, or a value out of its rule is a
400 naming each bad parameter; an event of another method than GET is a 405.

A page is ``{"students": [...], "count": n, "nextToken": "..." | null}``;
``nextToken`` is null only when the table has no more students; it is opaque,
and works for every key the table can hold. One Scan call may stop early (at
1 MB, or before ``limit``), so the listing keeps scanning until the page is
full or the table ends. A page whose JSON would exceed
``MAX_PAGE_BYTES`` ends early, with a ``nextToken``: nothing is ever dropped.

Every AWS call runs inside ``aws.time_budget``: when DynamoDB does not answer
in time the function answers 504 ``{"message": ...}`` before Lambda (10 s) or
API Gateway (29 s) gives up, instead of being stopped without an answer.
"""

from __future__ import annotations

import base64
import binascii
import functools
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
    echo,
    error_response,
    json_response,
    query_parameters,
    request_error_response,
    require_method,
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
#: DynamoDB's limit on a partition key value (UTF-8 bytes).
MAX_KEY_BYTES: Final = 2048
# Leads every token: tokens of an earlier format (base64 JSON, "eyJ...") are
# refused with a 400 rather than read as a key, and a later format can be told apart.
_FORMAT_MARK: Final = "1"
_TOKEN = re.compile(rf"{_FORMAT_MARK}[A-Za-z0-9_-]+", re.ASCII)
_LIMIT = re.compile(r"[0-9]{1,3}", re.ASCII)
#: The query parameters the function reads (the route declares the same to the gateway).
PARAMETERS: Final = ("limit", "nextToken", "studentid")
# Unknown parameter names are echoed back (each shortened by ``echo``): a hostile query must not make the reply huge.
_UNKNOWN_SHOWN: Final = 10

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
    with aws.time_budget(context):
        return handle(event)


def handle(event: dict[str, Any]) -> ProxyResponse:
    config = settings()
    origin = config.allowed_origin
    try:
        require_method(event, "GET")
        request = parse_request(query_parameters(event))
        if request.studentid is not None:
            student = get_student(aws.dynamodb(), config.table_name, request.studentid)
            if student is None:
                return error_response(404, "student not found", origin=origin)
            return json_response(200, {"student": student}, origin=origin)
        page = list_students(aws.dynamodb(), config.table_name, limit=request.limit, start_key=request.start_key)
    except RequestError as error:
        return request_error_response(error, origin=origin)
    except aws.TIMEOUT_ERRORS:
        logger.exception("DynamoDB did not answer in time")
        return error_response(504, "the database did not answer in time", origin=origin)
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
    unknown = sorted(set(query) - set(PARAMETERS))
    for name in unknown[:_UNKNOWN_SHOWN]:
        errors[echo(name)] = "unknown parameter"
    if len(unknown) > _UNKNOWN_SHOWN:
        errors["query"] = f"has {len(unknown)} unknown parameters"
    limit = DEFAULT_LIMIT
    if "limit" in query:
        text = query["limit"]
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
    """``nextToken``: the key value of the Scan's LastEvaluatedKey, opaque to clients.

    The value's UTF-8 bytes as unpadded base64url, behind the format mark: at
    most ``MAX_TOKEN_LENGTH`` (2,732) characters, whatever the key holds. Not JSON: JSON escapes a
    control character as six bytes, so the token of a 2048-byte key could
    reach 16 KB, past API Gateway's limit on a URL (8,192 characters for an
    edge-optimized API, 10,240 for a regional one).
    """
    if set(key) != {names.STUDENT_KEY}:
        raise ValueError(f"not a key of the student table: {sorted(key)}")
    text: str = key[names.STUDENT_KEY][names.STUDENT_KEY_TYPE]
    return _FORMAT_MARK + base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


#: The token of the largest key DynamoDB can hold, so the longest token there
#: is; a token no longer than this decodes to at most ``MAX_KEY_BYTES``.
MAX_TOKEN_LENGTH: Final = len(encode_token({names.STUDENT_KEY: {names.STUDENT_KEY_TYPE: "\0" * MAX_KEY_BYTES}}))


def decode_token(token: str) -> dict[str, Any]:
    """The key encoded by ``encode_token``; ``ValueError`` for anything else."""
    # Checked before decoding: nothing longer than the largest key's token is ever worked on.
    if len(token) > MAX_TOKEN_LENGTH or not _TOKEN.fullmatch(token):
        raise ValueError("malformed token")
    data = token.removeprefix(_FORMAT_MARK)
    try:
        # Strict UTF-8 refuses encoded surrogates, which no DynamoDB string holds.
        text = base64.b64decode(data + "=" * (-len(data) % 4), altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("malformed token") from None
    key = {names.STUDENT_KEY: {names.STUDENT_KEY_TYPE: text}}
    # Only the exact token encode_token returns, so an empty key (which Scan
    # would refuse with a 500) and stray bits after the last byte are refused too.
    if not text or encode_token(key) != token:
        raise ValueError("malformed token")
    return key
