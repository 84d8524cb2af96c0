"""insertStudentData: POST /students validates, saves atomically, and e-mails the student."""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.dynamodb.models.table import Table

from lambdas.common import aws, mail, names
from lambdas.get_students import handler as get_students
from lambdas.insert_student import handler as insert_student
from modules.functions.catalog import FUNCTIONS, INSERT
from tests.lambdas.scenarios import (
    ORIGIN,
    SENDER,
    STUDENT,
    LambdaContext,
    World,
    api_event,
    aws_world,
    inject_error,
    instant_retries,
    invoke,
    make_unavailable,
    response_json,
)

FIELDS = names.STUDENT_FIELDS
TIMEOUTS = {spec.key: spec.timeout_seconds for spec in FUNCTIONS}


def post(body: object, *, raw: bool = False, base64_encoded: bool = False) -> Any:
    text = body if raw else json.dumps(body, ensure_ascii=False)
    assert isinstance(text, str) or text is None
    return invoke(insert_student, api_event("POST", "/students", body=text, base64_encoded=base64_encoded))


def post_as(content_type: str | None, text: str, *, header: str = "Content-Type", multi_value: bool = False) -> Any:
    """POST ``text`` with this Content-Type (None: without one), under ``header`` in either header map."""
    event = api_event("POST", "/students", body=text)
    event["headers"] = {name: value for name, value in event["headers"].items() if name.lower() != "content-type"}
    if content_type is not None and multi_value:
        event["multiValueHeaders"] = {header: [content_type]}
    elif content_type is not None:
        event["headers"][header] = content_type
    return invoke(insert_student, event)


def assert_sendable(response: Any) -> None:
    """The reply survives the Lambda runtime: its JSON keeps non-ASCII text as is, then is sent as UTF-8."""
    json.dumps(response).encode("utf-8")
    json.dumps(response, ensure_ascii=False).encode("utf-8")
    response["body"].encode("utf-8")


def stored(world: World, studentid: str) -> dict[str, str] | None:
    item = world.dynamodb.get_item(TableName="studentData", Key={names.STUDENT_KEY: {"S": studentid}}).get("Item")
    return {key: value["S"] for key, value in item.items()} if item else None


def test_new_student_is_saved_and_confirmed_by_email(world: World) -> None:
    response = post(STUDENT)
    assert response["statusCode"] == 201
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert response_json(response) == {"student": STUDENT, "emailSent": True}
    assert stored(world, "SV001") == STUDENT

    [message] = world.sent_messages()
    assert message.source == SENDER
    assert message.destinations["ToAddresses"] == [STUDENT["email"]]
    assert message.subject == "Registration confirmed: Nguyễn Thị Ánh"
    assert "Hello Nguyễn Thị Ánh," in message.body
    assert "Student ID: SV001" in message.body


def test_vietnamese_names_round_trip_through_insert_and_get(world: World) -> None:
    names_in = ["Nguyễn Thị Ánh", "Trần Đức Lộc", "Đặng Thuỳ Dương", "Huỳnh Ngọc Hải Yến"]
    for number, name in enumerate(names_in):
        # Sent decomposed (NFD), as some keyboards produce it: stored and returned composed.
        body = {**STUDENT, "studentid": f"VN{number}", "name": unicodedata.normalize("NFD", name)}
        assert post(body)["statusCode"] == 201

    listed = response_json(invoke(get_students, api_event("GET", "/students")))["students"]
    assert sorted(s["name"] for s in listed) == sorted(names_in)
    single = response_json(invoke(get_students, api_event("GET", "/students", query={"studentid": "VN1"})))
    assert single["student"]["name"] == "Trần Đức Lộc"
    assert [m.subject for m in world.sent_messages()] == [f"Registration confirmed: {n}" for n in names_in]


def test_base64_encoded_body_is_accepted(world: World) -> None:
    response = post(STUDENT, base64_encoded=True)
    assert response["statusCode"] == 201
    assert stored(world, "SV001") == STUDENT


def test_duplicate_id_is_409_and_keeps_the_first_student(world: World) -> None:
    assert post(STUDENT)["statusCode"] == 201
    response = post({**STUDENT, "name": "Someone Else"})
    assert response["statusCode"] == 409
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert response_json(response) == {
        "message": "a student with this id already exists",
        "errors": {"studentid": "already exists"},
    }
    assert stored(world, "SV001") == STUDENT
    assert len(world.sent_messages()) == 1


def test_two_concurrent_inserts_of_one_id_exactly_one_wins(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # DynamoDB applies a conditional write atomically; moto checks then writes in
    # Python. Serialising moto's put_item gives it DynamoDB's guarantee, so the
    # test judges the function's code, not the emulator's thread safety.
    moto_lock = threading.Lock()
    moto_put_item = Table.put_item

    def atomic_put_item(self: Table, *args: Any, **kwargs: Any) -> Any:
        with moto_lock:
            return moto_put_item(self, *args, **kwargs)

    monkeypatch.setattr(Table, "put_item", atomic_put_item)
    # Both requests reach PutItem before either is sent: code that read before
    # writing would have seen no student in both and saved twice.
    barrier = threading.Barrier(2)

    def meet_the_other_request(**_: Any) -> None:
        barrier.wait(timeout=10)

    aws.dynamodb().meta.events.register("before-call.dynamodb.PutItem", meet_the_other_request)
    aws.ses()

    bodies = [{**STUDENT, "name": "Nguyễn Thị Ánh"}, {**STUDENT, "name": "Trần Đức Lộc"}]
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(post, bodies))

    statuses = sorted(r["statusCode"] for r in responses)
    assert statuses == [201, 409]
    winner = next(response_json(r)["student"] for r in responses if r["statusCode"] == 201)
    assert stored(world, "SV001") == winner
    assert len(world.sent_messages()) == 1


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({k: v for k, v in STUDENT.items() if k != "email"}, {"email": "is required"}),
        ({**STUDENT, "grade": "A"}, {"grade": "unknown field"}),
        ({**STUDENT, "studentid": 1}, {"studentid": "must be a string"}),
        ({**STUDENT, "birthdate": "2004-02-30"}, {"birthdate": "is not a calendar date"}),
        ({**STUDENT, "email": "anh@"}, {"email": "must be an e-mail address of at most 254 characters"}),
        (["not", "an", "object"], {"body": "must be a JSON object"}),
    ],
)
def test_invalid_student_is_400_with_a_reason_per_field(world: World, body: object, errors: dict[str, str]) -> None:
    response = post(body)
    assert response["statusCode"] == 400
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert response_json(response) == {"message": "invalid student", "errors": errors}
    assert world.item_count() == 0
    assert world.sent_messages() == []


@pytest.mark.parametrize(
    ("text", "status", "message"),
    [
        ("{not json", 400, "request body is not valid JSON"),
        (None, 400, "request body is required"),
        ('{"studentid": "a", "studentid": "b"}', 400, "request body repeats a field"),
        (json.dumps({**STUDENT, "name": "x" * 17_000}), 413, "request body is larger than 16384 bytes"),
    ],
)
def test_unusable_body_is_refused_before_any_aws_call(
    world: World, text: str | None, status: int, message: str
) -> None:
    calls: list[str] = []
    aws.dynamodb().meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    response = post(text, raw=True)
    assert response["statusCode"] == status
    assert response_json(response)["message"] == message
    assert calls == []


@pytest.mark.parametrize(
    ("text", "message", "errors"),
    [
        ('{"\\ud800": 1, "\\ud800": 2}', "request body repeats a field", {"\\ud800": "appears more than once"}),
        (json.dumps({**STUDENT, "\ud800\u0007\u202e": 1}), "invalid student", {"\\ud800\\x07\\u202e": "unknown field"}),
    ],
)
def test_echoed_field_names_are_escaped_so_the_reply_can_be_sent(
    world: World, text: str, message: str, errors: dict[str, str]
) -> None:
    # A lone surrogate echoed as is makes the runtime's UTF-8 encoding fail: the caller would get a 502.
    response = post(text, raw=True)
    assert response["statusCode"] == 400
    assert_sendable(response)
    assert response_json(response) == {"message": message, "errors": errors}
    assert world.item_count() == 0


def test_a_long_repeated_field_name_is_echoed_shortened(world: World) -> None:
    name = "k" * 8_000
    response = post(f'{{"{name}": 1, "{name}": 2}}', raw=True)
    assert response["statusCode"] == 400
    [echoed] = response_json(response)["errors"]
    assert echoed == "k" * 63 + "\u2026"
    assert len(response["body"]) < 200


@pytest.mark.parametrize(
    ("content_type", "header", "multi_value"),
    [
        ("text/plain", "Content-Type", False),
        ("text/plain; charset=utf-8", "content-type", False),
        ("application/x-www-form-urlencoded", "Content-Type", False),
        ("multipart/form-data; boundary=x", "CONTENT-TYPE", True),
        ("application/jsonp", "Content-Type", False),
        ("application/json-patch+json", "Content-Type", False),
        (None, "Content-Type", False),
    ],
)
def test_a_body_that_is_not_declared_json_is_415_and_changes_nothing(
    world: World, content_type: str | None, header: str, multi_value: bool
) -> None:
    # The gateway checks the body against the model for application/json only; anything else arrives unchecked.
    calls: list[str] = []
    aws.dynamodb().meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    response = post_as(content_type, json.dumps(STUDENT), header=header, multi_value=multi_value)
    assert response["statusCode"] == 415
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert response_json(response) == {"message": "request body must be application/json"}
    assert calls == []
    assert world.item_count() == 0
    assert world.sent_messages() == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_an_event_of_another_method_is_405_and_changes_nothing(world: World, method: str) -> None:
    # The gateway invokes the function for POST only; an event of another method was wired by mistake.
    response = invoke(
        insert_student, {**api_event("POST", "/students", body=json.dumps(STUDENT)), "httpMethod": method}
    )
    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "POST"
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert response_json(response) == {"message": "this resource accepts POST only"}
    assert world.item_count() == 0


def test_a_request_without_any_headers_is_415(world: World) -> None:
    event = {**api_event("POST", "/students", body=json.dumps(STUDENT)), "headers": None, "multiValueHeaders": None}
    response = invoke(insert_student, event)
    assert response["statusCode"] == 415
    assert world.item_count() == 0


@pytest.mark.parametrize(
    ("content_type", "header", "multi_value"),
    [
        ("application/json; charset=utf-8", "Content-Type", False),
        ("Application/JSON", "Content-Type", False),
        ("application/json ; charset=UTF-8", "content-type", False),
        ("application/json", "CONTENT-TYPE", True),
    ],
)
def test_json_is_recognised_whatever_the_case_and_parameters(
    world: World, content_type: str, header: str, multi_value: bool
) -> None:
    response = post_as(content_type, json.dumps(STUDENT), header=header, multi_value=multi_value)
    assert response["statusCode"] == 201
    assert stored(world, "SV001") == STUDENT


def test_student_is_saved_when_the_mail_service_is_down(world: World) -> None:
    outage = make_unavailable(aws.ses())
    # The deployed timeout, on the runtime's clock, leaves time for every retry.
    context = LambdaContext.starting_now(TIMEOUTS[INSERT])
    with instant_retries():
        response = insert_student.lambda_handler(api_event("POST", "/students", body=json.dumps(STUDENT)), context)
    assert response["statusCode"] == 201
    assert response_json(response) == {
        "student": STUDENT,
        "emailSent": False,
        "emailError": "the e-mail service is unavailable",
    }
    assert outage.attempts == 1 + aws.MAX_RETRIES
    assert stored(world, "SV001") == STUDENT
    assert world.sent_messages() == []


def test_student_is_saved_when_ses_rejects_the_message(world: World) -> None:
    inject_error(aws.ses(), "SendEmail", "MessageRejected", status=400)
    response = post(STUDENT)
    assert response["statusCode"] == 201
    body = response_json(response)
    assert body["emailSent"] is False
    assert body["emailError"] == "the e-mail service refused the message"
    assert "MessageRejected" not in response["body"]


def test_student_whose_address_the_ses_sandbox_refuses_is_saved_and_told_why(world: World) -> None:
    sandbox = "Email address is not verified. The following identities failed the check in region US-EAST-1: x@y.z"
    inject_error(aws.ses(), "SendEmail", "MessageRejected", status=400, message=sandbox)
    response = post(STUDENT)
    assert response["statusCode"] == 201
    body = response_json(response)
    assert (body["emailSent"], body["emailError"]) == (False, mail.NOT_VERIFIED)
    assert "x@y.z" not in response["body"], "SES's text is not echoed"
    assert stored(world, "SV001") == STUDENT


def test_database_failure_is_500_without_internals(world: World, function_logs: list[dict[str, Any]]) -> None:
    inject_error(aws.dynamodb(), "PutItem", "AccessDeniedException", status=400)
    response = post(STUDENT)
    assert response["statusCode"] == 500
    assert response_json(response) == {"message": "internal error"}
    assert any("AccessDeniedException" in entry.get("exception", "") for entry in function_logs)
    assert world.sent_messages() == []


def test_logs_name_the_student_id_but_no_personal_data(world: World, function_logs: list[dict[str, Any]]) -> None:
    post(STUDENT)
    post(STUDENT)
    text = json.dumps(function_logs, ensure_ascii=False)
    assert {entry.get("studentid") for entry in function_logs} == {"SV001"}
    for personal in (STUDENT["name"], STUDENT["email"], STUDENT["birthdate"]):
        assert personal not in text
    assert all(entry["requestId"] for entry in function_logs)


# --- Property-based: no bad body gets through, and none changes the table ----------------

TODAY = datetime.now(UTC).date()
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    json_scalars | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
non_string_values = (
    json_scalars | st.lists(json_values, max_size=3) | st.dictionaries(st.text(max_size=5), json_values, max_size=3)
)


def _normalised(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _with(field: str) -> Callable[[object], dict[str, object]]:
    return lambda value: {**STUDENT, field: value}


bad_ids = st.text(max_size=40).filter(lambda s: not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", _normalised(s)))
bad_names = (
    st.builds(lambda a, b: a + "7" + b, st.text(max_size=20), st.text(max_size=20))
    | st.sampled_from(["", " ", "\t", "...", "--", "Ánh\u0000", "Lộc@home"])
    | st.integers(101, 3_000).map(lambda n: "Ánh" * (n // 3 + 1))
)
bad_classes = st.builds(lambda a, b: a + "/" + b, st.text(max_size=10), st.text(max_size=10)) | st.integers(
    33, 500
).map(lambda n: "C" * n)
bad_dates = (
    st.text(max_size=12).filter(lambda s: not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", _normalised(s)))
    | st.dates(max_value=date(1899, 12, 31)).map(date.isoformat)
    | st.dates(min_value=TODAY + timedelta(days=2)).map(date.isoformat)
    | st.builds(
        lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}", st.integers(1900, 2020), st.integers(0, 99), st.integers(32, 99)
    )
    | st.builds(lambda y: f"{y:04d}-02-30", st.integers(1900, 2020))
)
ascii_words = st.from_regex(r"[a-z]{1,10}", fullmatch=True)
bad_emails = (
    st.text(max_size=30).filter(lambda s: "@" not in s)
    | st.builds(lambda a: f"{a}@", st.from_regex(r"[a-z]{1,10}", fullmatch=True))
    | st.builds(lambda a: f"@{a}.com", st.from_regex(r"[a-z]{1,10}", fullmatch=True))
    | st.builds(
        lambda a, b: f"{a}@{b}",
        st.from_regex(r"[a-z]{1,10}", fullmatch=True),
        st.from_regex(r"[a-z]{1,10}", fullmatch=True),
    )
    | st.builds(lambda a: f"{a} x@example.com", st.from_regex(r"[a-z]{1,10}", fullmatch=True))
    | st.sampled_from(["a@@example.com", "ánh@example.com", "a@exa mple.com", "a@-example.com"])
    | st.integers(255, 2_000).map(lambda n: "a" * n + "@example.com")
)
wrong_types = st.sampled_from(FIELDS).flatmap(lambda field: non_string_values.map(_with(field)))
missing_fields = st.sets(st.sampled_from(FIELDS), min_size=1).map(
    lambda gone: {k: v for k, v in STUDENT.items() if k not in gone}
)
extra_fields = st.builds(
    lambda key, value: {**STUDENT, key: value}, st.text(max_size=20).filter(lambda k: k not in FIELDS), json_values
)
huge_strings = st.builds(
    lambda field, n: {**STUDENT, field: "A" * n}, st.sampled_from(FIELDS), st.integers(255, 40_000)
)
bad_objects = (
    wrong_types
    | missing_fields
    | extra_fields
    | huge_strings
    | bad_ids.map(_with("studentid"))
    | bad_names.map(_with("name"))
    | bad_classes.map(_with("class"))
    | bad_dates.map(_with("birthdate"))
    | bad_emails.map(_with("email"))
)
not_objects = (json_scalars | st.text(max_size=20) | st.lists(json_values, max_size=4)).map(json.dumps)
not_json = st.text(max_size=200).filter(lambda s: not _parses(s)) | st.integers(0, 120).map(
    lambda cut: json.dumps(STUDENT, ensure_ascii=False)[:cut]
)
bad_bodies = st.tuples(
    bad_objects.map(lambda body: json.dumps(body, ensure_ascii=False)) | not_objects | not_json, st.booleans()
)


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_no_bad_body_is_accepted_and_none_changes_the_table() -> None:
    with aws_world() as world:
        world.put_students([{**STUDENT, "studentid": "KEEP1"}])
        before = world.scan_all()
        checked = 0

        @settings(
            max_examples=600,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(bad_bodies)
        def check(case: tuple[str, bool]) -> None:
            nonlocal checked
            checked += 1
            text, base64_encoded = case
            response = post(text, raw=True, base64_encoded=base64_encoded)
            assert 400 <= response["statusCode"] < 500, text
            assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
            assert isinstance(response_json(response)["message"], str)
            assert world.scan_all() == before

        check()
        assert checked >= 500
        assert world.sent_messages() == []


lone_surrogates = st.characters(categories=["Cs"])
any_text = st.text(st.characters(exclude_categories=()) | lone_surrogates, max_size=12)
any_keys = (
    st.sampled_from(FIELDS)
    | st.sampled_from(["\ud800", "\udfff\u0000", "x"])
    | any_text
    | st.integers(60, 9_000).map(lambda n: "\udc00" * n)
)
any_values = st.recursive(
    json_scalars | any_text | st.sampled_from(list(STUDENT.values())),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def any_bodies(draw: st.DrawFn) -> tuple[str, bool]:
    """JSON-ish text: a student with pairs added (keys may repeat), any value, or broken text; maybe base64."""
    pairs = list(STUDENT.items()) if draw(st.booleans()) else []
    pairs += draw(st.lists(st.tuples(any_keys, any_values), max_size=6))
    ascii_only = draw(st.booleans())
    members = ", ".join(
        f"{json.dumps(key, ensure_ascii=ascii_only)}: {json.dumps(value, ensure_ascii=ascii_only)}"
        for key, value in draw(st.permutations(pairs))
    )
    text = draw(
        st.sampled_from(["{" + members + "}", "{" + members, "[" + members + "]"])
        | any_values.map(lambda value: json.dumps(value, ensure_ascii=ascii_only))
    )
    # A body that is no UTF-8 cannot be base64-encoded by the test; the gateway never sends one anyway.
    return text, ascii_only and draw(st.booleans())


def test_any_body_gets_a_2xx_or_4xx_reply_the_runtime_can_send() -> None:
    with aws_world():
        counter = iter(range(1_000_000))
        statuses: set[int] = set()

        @settings(
            max_examples=400,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(any_bodies(), st.sampled_from(["application/json", "Application/JSON; charset=utf-8", "text/plain"]))
        def check(case: tuple[str, bool], content_type: str) -> None:
            text, base64_encoded = case
            # A fresh id per example, so a valid body is saved (201) rather than refused as taken.
            text = text.replace(STUDENT["studentid"], f"ANY{next(counter)}")
            event = api_event("POST", "/students", body=text, base64_encoded=base64_encoded)
            event["headers"]["Content-Type"] = content_type
            response = invoke(insert_student, event)
            assert 200 <= response["statusCode"] < 300 or 400 <= response["statusCode"] < 500
            assert_sendable(response)
            assert all(len(field) <= 64 for field in response_json(response).get("errors", {}))
            statuses.add(response["statusCode"])

        check()
        # Valid bodies, refused bodies and refused media types were all among the examples.
        assert {201, 400, 415} <= statuses


vietnamese_letters = st.sampled_from(
    list("aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")
)
vietnamese_words = st.lists(vietnamese_letters, min_size=1, max_size=8).map(lambda letters: "".join(letters).title())
vietnamese_names = st.lists(vietnamese_words, min_size=1, max_size=4).map(" ".join).filter(lambda n: len(n) <= 100)


def test_any_valid_vietnamese_name_is_saved_exactly() -> None:
    with aws_world() as world:
        counter = iter(range(1_000_000))

        @settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
        @given(vietnamese_names, st.sampled_from(["NFC", "NFD"]))
        def check(name: str, form: Literal["NFC", "NFD"]) -> None:
            studentid = f"P{next(counter)}"
            response = post({**STUDENT, "studentid": studentid, "name": unicodedata.normalize(form, name)})
            assert response["statusCode"] == 201
            assert response_json(response)["student"]["name"] == unicodedata.normalize("NFC", name)
            saved = stored(world, studentid)
            assert saved is not None
            assert saved["name"] == unicodedata.normalize("NFC", name)

        check()
