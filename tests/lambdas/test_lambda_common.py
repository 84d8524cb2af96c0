"""Shared function code: configuration, validation, encoding, HTTP shaping and logs."""

from __future__ import annotations

import base64
import json
import logging
import random
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary
from jsonschema import Draft4Validator

from lambdas.backup import handler as backup
from lambdas.common import config, encoding, http, metrics, names, student_schema, validation
from lambdas.common.config import BackupSettings, ConfigError, InsertSettings, ReadSettings
from lambdas.common.log import JsonFormatter, bind_request
from lambdas.common.validation import InvalidStudentError, is_email_address, parse_student
from lambdas.get_students import handler as get_students
from lambdas.insert_student import handler as insert_student
from modules.api import routes as api_routes
from tests.lambdas.bad_requests import GOOD_VALUES, field_values
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


def test_valid_student_is_normalised_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    student = parse_student({**VALID, "name": decomposed}, today=TODAY)
    assert student.name == "Nguyễn Thị Ánh"
    assert unicodedata.is_normalized("NFC", student.name)
    assert list(student.as_dict()) == list(names.STUDENT_FIELDS)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("studentid", " SV001"),
        ("studentid", "SV001\u00a0"),
        ("studentid", "SV001\n"),
        ("name", "  Nguyễn Thị Ánh "),
        ("class", "CNTT1 "),
        ("email", "a@example.com\n"),
        ("birthdate", " 2004-12-31"),
    ],
)
def test_surrounding_spaces_are_refused_not_trimmed(field: str, value: str) -> None:
    # The gateway's model refuses them; the function used to trim them and save what nobody sent.
    with pytest.raises(InvalidStudentError) as raised:
        parse_student({**VALID, field: value}, today=TODAY)
    assert raised.value.errors == {field: "must not begin or end with a space"}


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
        ("name", "Nguyễn ②"),
        ("name", "Ánh\u00a0Lộc"),
        ("name", "\u0301"),
        ("class", ""),
        ("class", "CNTT/1"),
        ("class", "c" * 33),
        ("class", "CNTT\u0661"),  # an Arabic-Indic digit
        ("class", "CNTT\uff11"),  # a full-width digit
        ("class", "Lớp 10"),
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


# --- One set of rules: the gateway's model and the function agree ------------------------------------

MODEL = Draft4Validator(api_routes.student_schema())


def generated_documents(count: int, seed: int = 12) -> list[object]:
    """Bodies near every rule's edge: students with fields mutated, missing, added or of other types."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    values = {field: field_values(rng, field, 400) for field in names.STUDENT_FIELDS}
    documents: list[object] = []
    while len(documents) < count:
        document: dict[str, object] = {field: rng.choice(GOOD_VALUES[field]) for field in names.STUDENT_FIELDS}
        for field in rng.sample(names.STUDENT_FIELDS, rng.choice([0, 1, 1, 1, 2, 5])):
            document[field] = rng.choice(values[field])
        twist = rng.randrange(20)
        if twist == 0:
            del document[rng.choice(names.STUDENT_FIELDS)]
        elif twist == 1:
            document[rng.choice(["grade", "Class", "", "name "])] = "x"
        elif twist == 2:
            document[rng.choice(names.STUDENT_FIELDS)] = rng.choice([None, 1, True, [], {}, ["SV001"]])
        elif twist == 3:
            documents.append(rng.choice([None, "SV001", [document], 1]))
            continue
        documents.append(document)
    return documents


DOCUMENTS = generated_documents(4_000)


def disagreements(schema_errors: Callable[[object], dict[str, str]]) -> list[tuple[object, bool]]:
    """The documents on which ``schema_errors`` and the gateway's model (jsonschema, draft 4) differ."""
    return [(doc, MODEL.is_valid(doc)) for doc in DOCUMENTS if MODEL.is_valid(doc) == bool(schema_errors(doc))]


def test_the_function_reads_the_schema_exactly_as_the_gateway_does() -> None:
    assert disagreements(validation.schema_errors) == []
    admitted = sum(MODEL.is_valid(doc) for doc in DOCUMENTS)
    # Both sides of the rules were explored, not one.
    assert 0.2 * len(DOCUMENTS) < admitted < 0.8 * len(DOCUMENTS)


def test_the_agreement_check_catches_a_function_that_trims_values() -> None:
    def trimming(doc: object) -> dict[str, str]:
        if isinstance(doc, dict):
            doc = {key: value.strip() if isinstance(value, str) else value for key, value in doc.items()}
        return validation.schema_errors(doc)

    # Mostly what the model refuses (" SV001") and the trimming function admits.
    assert any(not model_admits for _, model_admits in disagreements(trimming))


def test_what_the_model_refuses_the_function_refuses_and_only_extra_checks_refuse_more() -> None:
    today = date.today()
    extra_refusals = 0
    for doc in DOCUMENTS:
        try:
            parse_student(doc, today=today)
        except InvalidStudentError as invalid:
            if MODEL.is_valid(doc):
                # Admitted by the model: only a check no schema can make may refuse it.
                assert set(invalid.errors) <= set(validation.EXTRA_CHECKS), (doc, invalid.errors)
                extra_refusals += 1
        else:
            assert MODEL.is_valid(doc), doc
    assert extra_refusals > 0


def test_a_pattern_ending_in_dollar_would_admit_a_final_line_break() -> None:
    # Why the schema's patterns end in END: JSON Schema searches, and "$" matches before a final "\n".
    assert re.search(r"^[A-Za-z0-9_-]{1,32}$", "SV001\n")
    pattern = api_routes.student_schema()["properties"]["studentid"]["pattern"]
    assert pattern.endswith(student_schema.END)
    assert re.search(pattern, "SV001") and not re.search(pattern, "SV001\n")
    assert not MODEL.is_valid({**VALID, "studentid": "SV001\n"})


@pytest.mark.parametrize(
    "change",
    [
        {"format": "email"},
        {"type": ["string", "null"]},
        {"enum": ["SV001"]},
    ],
)
def test_a_schema_the_function_cannot_fully_apply_fails_loudly(change: dict[str, object]) -> None:
    schema = api_routes.student_schema()
    schema["properties"]["studentid"].update(change)
    with pytest.raises(validation.SchemaNotUnderstoodError):
        validation.string_rules(schema)
    assert validation.string_rules(api_routes.student_schema()) == validation.RULES


def test_an_open_or_differently_shaped_schema_fails_loudly() -> None:
    changes: list[dict[str, object]] = [{"additionalProperties": True}, {"required": ["studentid"]}, {"anyOf": []}]
    for change in changes:
        with pytest.raises(validation.SchemaNotUnderstoodError):
            validation.string_rules({**api_routes.student_schema(), **change})


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


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"limit": ["5", "6"]}, {"limit": "is given more than once"}),
        ({"studentid": ["SV001", "SV001"], "limit": ["5"]}, {"studentid": "is given more than once"}),
        ({"\ud800" * 100: ["1", "2"]}, {"\\ud800" * 10 + "…": "is given more than once"}),
    ],
)
def test_a_query_parameter_given_twice_is_400(query: dict[str, list[str]], errors: dict[str, str]) -> None:
    # API Gateway keeps only the last value in queryStringParameters; which one was meant is a guess.
    event = {**api_event("GET", "/students"), "multiValueQueryStringParameters": query}
    event["queryStringParameters"] = {name: values[-1] for name, values in query.items()}
    with pytest.raises(http.RequestError) as raised:
        http.query_parameters(event)
    assert (raised.value.status, raised.value.errors) == (400, errors)


def test_unknown_query_parameters_are_400_naming_each_shortened() -> None:
    with pytest.raises(http.RequestError) as raised:
        get_students.parse_request({"limit": "5", "Limit": "5", "x" * 100: "1", **{f"p{i}": "" for i in range(12)}})
    errors = raised.value.errors or {}
    assert errors["Limit"] == "unknown parameter"
    assert errors["query"] == "has 14 unknown parameters"
    assert len(errors) == 11
    assert all(len(name) <= http.ECHO_MAX for name in errors)


@pytest.mark.parametrize("limit", [" 5", "5 ", "5\n", "\u0665"])
def test_a_limit_is_digits_only(limit: str) -> None:
    with pytest.raises(http.RequestError) as raised:
        get_students.parse_request({"limit": limit})
    assert set(raised.value.errors or {}) == {"limit"}
    assert get_students.parse_request({"limit": "5"}).limit == 5


def test_an_event_of_another_method_is_405_for_the_reader_too() -> None:
    with function_environment():
        response = get_students.lambda_handler({**api_event("GET", "/students"), "httpMethod": "POST"}, FakeContext())
    assert (response["statusCode"], response["headers"]["Allow"]) == (405, "GET")
    assert json.loads(response["body"]) == {"message": "this resource accepts GET only"}


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


# --- Metrics ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "namespace"),
    [(None, "StudentManagement"), ("StudentManagement/staging", "StudentManagement/staging")],
    ids=["production: no variable", "staging: its own namespace"],
)
def test_metrics_go_to_the_namespace_the_environment_sets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str | None, namespace: str
) -> None:
    """Staging's backup metrics must not land where production's alarms watch (tests/modules/test_environments.py)."""
    if variable is None:
        monkeypatch.delenv(names.ENV_METRIC_NAMESPACE, raising=False)
    else:
        monkeypatch.setenv(names.ENV_METRIC_NAMESPACE, variable)
    metrics.emit(names.METRIC_BACKUP_FAILED)
    document = json.loads(capsys.readouterr().out)
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == namespace
    assert document[names.METRIC_BACKUP_FAILED] == 1
