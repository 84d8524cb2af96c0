"""Shared function code: configuration, validation, encoding, HTTP shaping and logs."""

from __future__ import annotations

import base64
import json
import logging
import unicodedata
from datetime import date
from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary

from lambdas.backup import handler as backup
from lambdas.common import config, encoding, http, names
from lambdas.common.config import BackupSettings, ConfigError, InsertSettings, ReadSettings
from lambdas.common.log import JsonFormatter, bind_request
from lambdas.common.validation import InvalidStudentError, is_email_address, parse_student
from lambdas.get_students import handler as get_students
from lambdas.insert_student import handler as insert_student
from tests.lambdas.scenarios import ENVIRONMENT, ORIGIN, FakeContext, api_event, function_environment

TODAY = date(2025, 7, 6)
VALID = {
    "studentid": "SV001",
    "name": "Trần Đức Lộc",
    "class": "CNTT1",
    "birthdate": "2004-12-31",
    "email": "loc.tran@example.com",
}

# --- Configuration ---------------------------------------------------------------

REQUIRED = [
    (ReadSettings, names.ENV_TABLE_NAME),
    (ReadSettings, names.ENV_ALLOWED_ORIGIN),
    (InsertSettings, names.ENV_TABLE_NAME),
    (InsertSettings, names.ENV_SENDER_EMAIL),
    (InsertSettings, names.ENV_ALLOWED_ORIGIN),
    (BackupSettings, names.ENV_TABLE_NAME),
    (BackupSettings, names.ENV_BACKUP_BUCKET),
    (BackupSettings, names.ENV_SENDER_EMAIL),
    (BackupSettings, names.ENV_RECIPIENT_EMAIL),
    (BackupSettings, names.ENV_ALLOWED_ORIGIN),
]


@pytest.mark.parametrize(("settings", "variable"), REQUIRED)
def test_missing_variable_is_named_in_the_error(settings: type[ReadSettings], variable: str) -> None:
    environ = {key: value for key, value in ENVIRONMENT.items() if key != variable}
    with pytest.raises(ConfigError, match=rf"environment variable {variable} is not set"):
        settings.from_env(environ)


@pytest.mark.parametrize("variable", [names.ENV_TABLE_NAME, names.ENV_ALLOWED_ORIGIN])
def test_handler_refuses_to_run_without_its_configuration(variable: str) -> None:
    with function_environment({variable: None}), pytest.raises(ConfigError, match=variable):
        get_students.lambda_handler(api_event("GET", "/students"), FakeContext())


@pytest.mark.parametrize("variable", [names.ENV_BACKUP_BUCKET, names.ENV_RECIPIENT_EMAIL])
def test_backup_refuses_to_run_without_bucket_or_recipients(variable: str) -> None:
    with function_environment({variable: "  "}), pytest.raises(ConfigError, match=variable):
        backup.lambda_handler({}, FakeContext())


def test_insert_refuses_an_invalid_sender_address() -> None:
    with (
        function_environment({names.ENV_SENDER_EMAIL: "not-an-address"}),
        pytest.raises(ConfigError, match=names.ENV_SENDER_EMAIL),
    ):
        insert_student.lambda_handler(api_event("POST", "/students", body="{}"), FakeContext())


@pytest.mark.parametrize(
    ("origin", "problem"),
    [
        ("*", "not '\\*'"),
        ("https://d1.cloudfront.net/", "is not an origin"),
        ("d1.cloudfront.net", "is not an origin"),
        ("https://a.example, https://b.example", "is not an origin"),
    ],
)
def test_allowed_origin_must_be_one_origin_never_a_wildcard(origin: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=rf"{names.ENV_ALLOWED_ORIGIN}.*{problem}"):
        config.allowed_origin({names.ENV_ALLOWED_ORIGIN: origin})


def test_recipient_list_is_comma_separated_and_every_address_checked() -> None:
    environ = {names.ENV_RECIPIENT_EMAIL: " a@example.com,b@example.org , "}
    assert config.email_addresses(environ, names.ENV_RECIPIENT_EMAIL) == ("a@example.com", "b@example.org")
    with pytest.raises(ConfigError, match="'nope'"):
        config.email_addresses({names.ENV_RECIPIENT_EMAIL: "a@example.com,nope"}, names.ENV_RECIPIENT_EMAIL)
    with pytest.raises(ConfigError, match="SES accepts 50"):
        many = ",".join(f"user{i}@example.com" for i in range(51))
        config.email_addresses({names.ENV_RECIPIENT_EMAIL: many}, names.ENV_RECIPIENT_EMAIL)


def test_settings_are_read_once_per_container() -> None:
    with function_environment():
        first = get_students.settings()
        with function_environment({names.ENV_TABLE_NAME: "other"}):
            assert get_students.settings() is first


# --- Validation --------------------------------------------------------------------


def test_valid_student_is_normalised_to_nfc_and_stripped() -> None:
    decomposed = unicodedata.normalize("NFD", "  Nguyễn Thị Ánh ")
    student = parse_student({**VALID, "name": decomposed}, today=TODAY)
    assert student.name == "Nguyễn Thị Ánh"
    assert unicodedata.is_normalized("NFC", student.name)
    assert list(student.as_dict()) == list(names.STUDENT_FIELDS)


@pytest.mark.parametrize("name", ["Nguyễn Thị Ánh", "Trần Đức Lộc", "O'Brien-Smith Jr.", "Zoë", "李小龍", "Ng"])
def test_names_of_any_script_are_accepted(name: str) -> None:
    assert parse_student({**VALID, "name": name}, today=TODAY).name == name


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("studentid", ""),
        ("studentid", "SV 001"),
        ("studentid", "x" * 33),
        ("studentid", "SV001;DROP"),
        ("studentid", "SV\u0130"),
        ("name", ""),
        ("name", "   "),
        ("name", "R2-D2"),
        ("name", "<script>"),
        ("name", "a" * 101),
        ("name", "..."),
        ("name", "Ánh\nLộc"),
        ("class", ""),
        ("class", "CNTT/1"),
        ("class", "c" * 33),
        ("birthdate", "2004-02-30"),
        ("birthdate", "2004-2-3"),
        ("birthdate", "20040203"),
        ("birthdate", "1899-12-31"),
        ("birthdate", "2025-07-07"),
        ("birthdate", "\uff12\uff10\uff10\uff14-\uff10\uff11-\uff10\uff11"),  # full-width digits
        ("email", "no-at-sign"),
        ("email", "two@@example.com"),
        ("email", "nodomain@"),
        ("email", "no-tld@example"),
        ("email", "ánh@example.com"),
        ("email", "a b@example.com"),
        ("email", "x" * 65 + "@example.com"),
        ("email", "a@" + "b" * 250 + ".com"),
    ],
)
def test_invalid_field_is_reported_by_name(field: str, value: str) -> None:
    with pytest.raises(InvalidStudentError) as raised:
        parse_student({**VALID, field: value}, today=TODAY)
    assert set(raised.value.errors) == {field}


@pytest.mark.parametrize("birthdate", ["1900-01-01", "2025-07-06", "2024-02-29"])
def test_birthdate_bounds_are_inclusive(birthdate: str) -> None:
    assert parse_student({**VALID, "birthdate": birthdate}, today=TODAY).birthdate == birthdate


def test_every_problem_is_reported_at_once() -> None:
    payload = {"studentid": 7, "name": "", "birthdate": "soon", "email": "x", "extra": 1, "Class": "A"}
    with pytest.raises(InvalidStudentError) as raised:
        parse_student(payload, today=TODAY)
    assert raised.value.errors == {
        "studentid": "must be a string",
        "name": "must be 1 to 100 characters",
        "class": "is required",
        "birthdate": "must be a date written YYYY-MM-DD",
        "email": "must be an e-mail address of at most 254 characters",
        "extra": "unknown field",
        "Class": "unknown field",
    }


def test_unknown_field_names_echoed_back_are_bounded() -> None:
    payload = {**VALID, **{f"f{i:03d}" + "x" * 100: 1 for i in range(30)}, "\ud800": 1}
    with pytest.raises(InvalidStudentError) as raised:
        parse_student(payload, today=TODAY)
    assert len(raised.value.errors) == 11
    assert raised.value.errors["body"] == "has 31 unknown fields"
    assert all(len(field) <= 64 for field in raised.value.errors)
    json.dumps(raised.value.errors, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("address", ["a@example.com", "first.last+tag@sub.example.co.uk", "x_y-z@example.io"])
def test_ordinary_addresses_are_accepted(address: str) -> None:
    assert is_email_address(address)


# --- Encoding -------------------------------------------------------------------------


def test_dynamodb_values_become_json() -> None:
    item = encoding.from_dynamodb(
        {
            "studentid": {"S": "SV9"},
            "credits": {"N": "42"},
            "gpa": {"N": "3.75"},
            "tags": {"SS": ["b", "a", "c"]},
            "scores": {"NS": ["10", "2.5", "-1"]},
            "photo": {"B": b"\x00\x01"},
            "meta": {"M": {"n": {"N": "1"}, "l": {"L": [{"N": "2"}, {"NULL": True}, {"BOOL": False}]}}},
        }
    )
    converted = encoding.ordered_item(item)
    assert converted == {
        "studentid": "SV9",
        "credits": 42,
        "gpa": 3.75,
        "meta": {"n": 1, "l": [2, None, False]},
        "photo": "AAE=",
        "scores": [-1, 2.5, 10],
        "tags": ["a", "b", "c"],
    }
    assert list(converted) == ["studentid", "credits", "gpa", "meta", "photo", "scores", "tags"]
    assert json.loads(encoding.dumps(converted)) == converted


def test_binary_sets_are_sorted_by_bytes() -> None:
    assert encoding.to_json_value({Binary(b"\x02"), Binary(b"\x01")}) == ["AQ==", "Ag=="]


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_spreadsheets_would_evaluate_are_neutralised(prefix: str) -> None:
    assert encoding.csv_cell(f"{prefix}HYPERLINK(1)") == f"'{prefix}HYPERLINK(1)"


def test_csv_cells_render_numbers_sets_and_nested_values() -> None:
    assert encoding.csv_cell(Decimal("7")) == "7"
    assert encoding.csv_cell(Decimal("0.1")) == "0.1"
    assert encoding.csv_cell({"b", "a"}) == "a;b"
    assert encoding.csv_cell({Decimal("-2"), Decimal("3")}) == "'-2;3"
    assert encoding.csv_cell(None) == ""
    assert encoding.csv_cell({"k": Decimal("1")}) == '{"k": 1}'
    assert encoding.csv_cell("Nguyễn Thị Ánh") == "Nguyễn Thị Ánh"


# --- HTTP -----------------------------------------------------------------------------------


def test_responses_are_utf8_json_with_cors_for_the_one_origin() -> None:
    response = http.json_response(200, {"name": "Nguyễn Thị Ánh"}, origin=ORIGIN)
    assert response["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert response["headers"]["Vary"] == "Origin"
    assert "Nguyễn Thị Ánh" in response["body"]
    assert response["isBase64Encoded"] is False


def test_base64_body_is_decoded() -> None:
    event = api_event("POST", "/students", body=json.dumps(VALID, ensure_ascii=False), base64_encoded=True)
    assert http.json_body(event) == VALID


@pytest.mark.parametrize(
    ("event", "status"),
    [
        ({"body": None}, 400),
        ({"body": ""}, 400),
        ({"body": "{"}, 400),
        ({"body": '{"a": 1, "a": 2}'}, 400),
        ({"body": "1" * 5000}, 400),
        ({"body": "x" * (16 * 1024 + 1)}, 413),
        ({"body": '"' + "é" * 8200 + '"'}, 413),
        ({"body": "not base64!", "isBase64Encoded": True}, 400),
        ({"body": base64.b64encode(b"\xff\xfe").decode(), "isBase64Encoded": True}, 400),
        ({"body": base64.b64encode(b" " * (16 * 1024 + 1)).decode(), "isBase64Encoded": True}, 413),
    ],
)
def test_unusable_bodies_are_refused(event: dict[str, object], status: int) -> None:
    with pytest.raises(http.RequestError) as raised:
        http.json_body(event)
    assert raised.value.status == status


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("grade", "grade"),
        ("Nguyễn Thị Ánh", "Nguyễn Thị Ánh"),
        ("a\x00\x1b[31m\x7f", "a\\x00\\x1b[31m\\x7f"),
        ("\ud800x\udfff", "\\ud800x\\udfff"),
        ("\u202egnp.exe\u2028\U000e0001", "\\u202egnp.exe\\u2028\\U000e0001"),
        ("x" * 64, "x" * 64),
        ("x" * 65, "x" * 63 + "…"),
        ("é" * 8_000, "é" * 63 + "…"),
        # An escape is never cut in half: ten fit before the ellipsis, the eleventh would not.
        ("\ud800" * 20, "\\ud800" * 10 + "…"),
    ],
)
def test_request_text_echoed_in_a_reply_is_visible_and_short(text: str, shown: str) -> None:
    assert http.echo(text) == shown
    assert len(http.echo(text)) <= 64
    http.echo(text).encode("utf-8")


def test_deeply_nested_body_is_400_on_every_python() -> None:
    # Python 3.11 raises RecursionError while parsing this; 3.12+ parses it into
    # nested lists. Either way the function answers 400, never 500.
    body = "[" * 8_000 + "]" * 8_000
    with function_environment():
        response = insert_student.lambda_handler(api_event("POST", "/students", body=body), FakeContext())
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["message"] in {"request body is not valid JSON", "invalid student"}


def test_only_api_gateway_proxy_events_count_as_api_calls() -> None:
    assert http.is_api_event(api_event("POST", "/backup"))
    assert not http.is_api_event({})
    assert not http.is_api_event({"source": "aws.scheduler", "detail-type": "Scheduled Event"})
    assert not http.is_api_event(None)


# --- Logs -------------------------------------------------------------------------------------


def test_log_lines_are_json_with_fields_and_request_id() -> None:
    bind_request(FakeContext(aws_request_id="req-1"))
    try:
        record = logging.LogRecord("lambdas.x", logging.INFO, __file__, 1, "student %s", ("saved",), None)
        record.studentid = "SV001"
        entry = json.loads(JsonFormatter().format(record))
    finally:
        bind_request(None)
    assert entry["message"] == "student saved"
    assert entry["level"] == "INFO"
    assert entry["studentid"] == "SV001"
    assert entry["requestId"] == "req-1"
