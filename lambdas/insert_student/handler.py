"""``insertStudentData``: POST /students saves a new student and e-mails them a confirmation.

The body is a JSON object with exactly ``studentid``, ``name``, ``class``,
``birthdate`` and ``email`` (all strings). Answers:

- 201 ``{"student": {...}, "emailSent": true}``, or with ``"emailSent": false``
  and a short ``emailError`` when the student was saved but the mail failed;
- 400 ``{"message": ..., "errors": {field: reason}}`` for an invalid body: the
  rules are the gateway's own model (``common/student_schema.py``) and what no
  schema can say (``common/validation.py``); field names taken from the body are
  shown escaped and shortened (``http.echo``);
- 409 when a student with this id exists; 413 for a body over 16 KiB;
- 405 for an event of another method than POST;
- 415 when the request does not declare its body ``application/json`` (the
  gateway checks the body against the model only for that media type);
- 504 ``{"message": ...}`` when DynamoDB did not answer within the invocation's
  time budget (the write may still have been applied: retrying then answers 409);
- 500 ``{"message": "internal error"}`` for anything else (details only in the logs).

Every AWS call runs inside ``aws.time_budget``, so the function answers before
Lambda (15 s) or API Gateway (29 s) gives up: a mail SES cannot take in time is
reported as not sent, with the student saved and a 201.
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lambdas.common import aws, mail, names
from lambdas.common.config import InsertSettings
from lambdas.common.http import (
    ProxyResponse,
    RequestError,
    error_response,
    json_body,
    json_response,
    request_error_response,
    require_json_content_type,
    require_method,
)
from lambdas.common.log import bind_request, get_logger
from lambdas.common.mail import EmailOutcome
from lambdas.common.validation import InvalidStudentError, Student, parse_student

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ses import SESClient

logger = get_logger(__name__)


@functools.cache
def settings() -> InsertSettings:
    return InsertSettings.from_env(os.environ)


class StudentExistsError(Exception):
    """A student with this id is already saved."""

    def __init__(self, studentid: str) -> None:
        super().__init__(f"student {studentid} exists")
        self.studentid = studentid


def lambda_handler(event: dict[str, Any], context: object) -> ProxyResponse:
    bind_request(context)
    with aws.time_budget(context):
        return handle(event)


def handle(event: dict[str, Any]) -> ProxyResponse:
    config = settings()
    origin = config.allowed_origin
    try:
        require_method(event, "POST")
        require_json_content_type(event)
        student = parse_student(json_body(event), today=datetime.now(UTC).date())
        save_student(aws.dynamodb(), config.table_name, student)
    except RequestError as error:
        return request_error_response(error, origin=origin)
    except InvalidStudentError as invalid:
        return error_response(400, "invalid student", origin=origin, errors=invalid.errors)
    except StudentExistsError as exists:
        logger.info("duplicate student refused", extra={"studentid": exists.studentid})
        return error_response(
            409, "a student with this id already exists", origin=origin, errors={"studentid": "already exists"}
        )
    except aws.TIMEOUT_ERRORS:
        logger.exception("DynamoDB did not answer in time")
        return error_response(504, "the database did not answer in time", origin=origin)
    except Exception:
        logger.exception("saving the student failed")
        return error_response(500, "internal error", origin=origin)
    logger.info("student saved", extra={"studentid": student.studentid})

    outcome = send_confirmation(aws.ses(), sender=config.sender_email, student=student)
    body: dict[str, object] = {"student": student.as_dict(), "emailSent": outcome.sent}
    if outcome.error:
        body["emailError"] = outcome.error
    return json_response(201, body, origin=origin)


def save_student(client: DynamoDBClient, table_name: str, student: Student) -> None:
    """Save a new student; ``StudentExistsError`` if the id is taken.

    The condition is checked by DynamoDB in the same write, so of two
    concurrent inserts of one id exactly one succeeds (a read before the
    write would let both through).
    """
    try:
        client.put_item(
            TableName=table_name,
            Item={field: {"S": value} for field, value in student.as_dict().items()},
            ConditionExpression="attribute_not_exists(#key)",
            ExpressionAttributeNames={"#key": names.STUDENT_KEY},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise StudentExistsError(student.studentid) from None
        raise


def send_confirmation(client: SESClient, *, sender: str, student: Student) -> EmailOutcome:
    """E-mail the student that they are registered; an SES failure is reported, not raised."""
    outcome = mail.send_text(
        client,
        sender=sender,
        to=[student.email],
        subject=f"Registration confirmed: {student.name}",
        body=confirmation_text(student),
    )
    logger.info("confirmation e-mail", extra={"studentid": student.studentid, "emailSent": outcome.sent})
    return outcome


def confirmation_text(student: Student) -> str:
    return (
        f"Hello {student.name},\n"
        "\n"
        "You are now registered as a student.\n"
        "\n"
        f"Student ID: {student.studentid}\n"
        f"Class: {student.class_}\n"
        f"Date of birth: {student.birthdate}\n"
        "\n"
        "If any of this is wrong, please contact the student office.\n"
    )
