"""Over a thousand generated bad requests through the handlers: each a 4xx JSON answer the runtime can send.

The requests are ``bad_requests.generate()``: malformed JSON, wrong types,
missing and extra fields, lone surrogates, huge strings and keys, repeated
keys, nested junk, bodies not declared JSON, bad query parameters and methods.
Each reaches its handler as API Gateway's REST proxy event would carry it
(a body that is no UTF-8 arrives base64-encoded), with no gateway in front:
as a body sent as ``text/plain`` does in AWS, since the gateway checks only
``application/json`` bodies against its model.

For every one: a 4xx status (the one the request calls for), a JSON body with
a message, a reply the Lambda runtime can encode (a lone surrogate in it
would make the caller's answer a 502), the CORS header, and no AWS call at all:
the table and the mails sent are as they were. The same requests go through
the local edge in ``tests/system/test_make_up.py``.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from lambdas.common import http, names, validation
from lambdas.get_students import handler as get_students
from lambdas.insert_student import handler as insert_student
from tests.lambdas.bad_requests import BadRequest, answer_problems, generate
from tests.lambdas.scenarios import ORIGIN, TABLE, CallRecorder, World, api_event, aws_world, invoke

REQUESTS = generate()
HANDLED = [request for request in REQUESTS if request.reaches_a_handler]
#: The route each method is served by; a request of any other method is handed to both, as if miswired.
HANDLERS = {"POST": (insert_student,), "GET": (get_students,)}


def proxy_event(request: BadRequest) -> dict[str, Any]:
    """The REST API (v1) proxy event API Gateway builds from ``request``."""
    event = api_event(request.method, request.path)
    headers = {name: value for name, value in event["headers"].items() if name != "Content-Type"}
    if request.content_type is not None:
        headers["Content-Type"] = request.content_type
    event["headers"] = headers
    event["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
    multi: dict[str, list[str]] = {}
    for name, value in request.query:
        multi.setdefault(name, []).append(value)
    # The single-value map keeps the last value of a repeated parameter.
    event["queryStringParameters"] = {name: values[-1] for name, values in multi.items()} or None
    event["multiValueQueryStringParameters"] = multi or None
    try:
        event["body"], event["isBase64Encoded"] = request.body.decode("utf-8"), False
    except UnicodeDecodeError:
        event["body"], event["isBase64Encoded"] = base64.b64encode(request.body).decode("ascii"), True
    if not request.body:
        event["body"] = None
    return event


def reply_problems(request: BadRequest, response: dict[str, Any]) -> list[str]:
    """What is wrong with a handler's reply to ``request``, as the runtime would send it."""
    try:
        # The runtime's serialisation: non-ASCII kept as is, then UTF-8.
        json.dumps(response, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return ["the runtime cannot encode the reply (the caller would get a 502)"]
    problems = answer_problems(
        response["statusCode"], response["headers"], response["body"].encode("utf-8"), origin=ORIGIN
    )
    if response["statusCode"] not in request.statuses:
        problems.append(f"status {response['statusCode']}, expected one of {sorted(request.statuses)}")
    errors = json.loads(response["body"]).get("errors", {}) if not problems else {}
    if any(len(name) > http.ECHO_MAX for name in errors):
        problems.append("an echoed name longer than http.ECHO_MAX")
    return problems


def run_suite(world: World, requests: list[BadRequest]) -> tuple[list[str], Counter[int]]:
    """Every request through its handlers; the problems found (one line each) and how often each status came."""
    before = world.scan_all()
    problems: list[str] = []
    statuses: Counter[int] = Counter()
    for number, request in enumerate(requests):
        for handler in HANDLERS.get(request.method, (insert_student, get_students)):
            response = invoke(handler, proxy_event(request))
            statuses[response["statusCode"]] += 1
            found = reply_problems(request, response)
            if world.scan_all() != before:
                found.append("the table changed")
                restore(world, before)
            problems += [f"#{number} {request.label} → {handler.__name__}: {problem}" for problem in found]
    return problems, statuses


def restore(world: World, items: list[dict[str, Any]]) -> None:
    """Put the table back as it was, so one request that changed it does not blame every later one."""
    kept = {json.dumps(item[names.STUDENT_KEY]) for item in items}
    for item in world.scan_all():
        if json.dumps(item[names.STUDENT_KEY]) not in kept:
            world.dynamodb.delete_item(TableName=TABLE, Key={names.STUDENT_KEY: item[names.STUDENT_KEY]})
    world.put_items(items)


SEEDED = [
    {
        "studentid": "KEEP1",
        "name": "Nguyễn Thị Ánh",
        "class": "CNTT1",
        "birthdate": "2003-04-05",
        "email": "a@example.com",
    }
]


@pytest.fixture
def seeded_world() -> Iterator[World]:
    with aws_world() as world:
        world.put_students(SEEDED)
        yield world


def test_over_a_thousand_bad_requests_each_get_a_4xx_json_reply_and_change_nothing(seeded_world: World) -> None:
    assert len(HANDLED) >= 1_000
    recorder = CallRecorder()
    recorder.attach()
    problems, statuses = run_suite(seeded_world, HANDLED)
    assert problems == [], f"{len(problems)} of {len(HANDLED)} requests answered badly:\n" + "\n".join(problems[:40])
    # Refused before any AWS call: nothing read, nothing written, no mail.
    assert recorder.actions == set()
    assert seeded_world.sent_messages() == []
    # Every kind of refusal was exercised.
    assert {400, 405, 413, 415} <= set(statuses), statuses


def test_the_suite_catches_a_reply_that_cannot_be_sent(seeded_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Echoing request text as is (the defect of issue 12) makes the suite fail, naming each reply.
    for module in (http, validation, get_students):
        monkeypatch.setattr(module, "echo", lambda text: text)
    echoing = [request for request in HANDLED if "surrogate" in request.label or "huge key" in request.label]
    problems, _ = run_suite(seeded_world, echoing)
    assert any("runtime cannot encode" in problem for problem in problems)
    assert any("came back whole" in problem for problem in problems)


def test_the_suite_catches_a_bad_request_that_is_saved(seeded_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # A function that trims surrounding spaces again (the old, looser rules) saves " SV001".
    def trimming_parse(payload: object, *, today: date) -> validation.Student:
        if isinstance(payload, dict):
            payload = {key: value.strip() if isinstance(value, str) else value for key, value in payload.items()}
        return validation.parse_student(payload, today=today)

    monkeypatch.setattr(insert_student, "parse_student", trimming_parse)
    spaced = [
        request for request in HANDLED if request.label.startswith(("studentid ' SV001'", "studentid 'SV001\\n'"))
    ]
    assert len(spaced) == 2
    problems, _ = run_suite(seeded_world, spaced)
    assert any("status 201" in problem for problem in problems)
    assert any("the table changed" in problem for problem in problems)


def test_each_answer_check_catches_its_break() -> None:
    good = {"message": "invalid student"}
    cors = {"Access-Control-Allow-Origin": ORIGIN}
    assert answer_problems(400, cors, json.dumps(good).encode(), origin=ORIGIN) == []
    assert answer_problems(502, cors, json.dumps(good).encode(), origin=ORIGIN) == ["status 502, not 4xx"]
    assert "no CORS" in answer_problems(400, {}, json.dumps(good).encode(), origin=ORIGIN)[0]
    assert "not UTF-8 JSON" in answer_problems(400, cors, b"\xed\xa0\x80", origin=ORIGIN)[0]
    assert "no message" in answer_problems(400, cors, b'{"errors": {}}', origin=ORIGIN)[0]
    assert (
        "came back whole" in answer_problems(400, cors, json.dumps({"message": "x" * 5000}).encode(), origin=ORIGIN)[0]
    )
