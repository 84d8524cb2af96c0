"""getStudentData: GET /students lists every student, page by page, or returns one."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from lambdas.common import aws, names
from lambdas.get_students import handler as get_students
from modules.functions.catalog import FUNCTIONS, READ
from tests.lambdas.scenarios import (
    ORIGIN,
    STUDENT,
    TABLE,
    LambdaContext,
    World,
    api_event,
    inject_error,
    instant_retries,
    invoke,
    response_json,
)

TIMEOUTS = {spec.key: spec.timeout_seconds for spec in FUNCTIONS}
STUDENTS = [
    STUDENT,
    {
        "studentid": "SV002",
        "name": "Trần Đức Lộc",
        "class": "CNTT2",
        "birthdate": "2002-11-30",
        "email": "loc@example.com",
    },
    {
        "studentid": "SV003",
        "name": "Lê Văn Bảo",
        "class": "KTPM1",
        "birthdate": "2001-01-15",
        "email": "bao@example.com",
    },
]


def get(query: dict[str, str] | None = None) -> Any:
    return invoke(get_students, api_event("GET", "/students", query=query))


def list_everything(limit: int) -> tuple[list[dict[str, Any]], list[int]]:
    """Follow nextToken to the end; the students and the size of every page."""
    students: list[dict[str, Any]] = []
    sizes: list[int] = []
    query = {"limit": str(limit)}
    while True:
        response = get(query)
        assert response["statusCode"] == 200
        body = response_json(response)
        assert body["count"] == len(body["students"])
        students += body["students"]
        sizes.append(body["count"])
        if body["nextToken"] is None:
            return students, sizes
        query = {"limit": str(limit), "nextToken": body["nextToken"]}


def test_lists_students_as_json_with_cors_for_the_website(world: World) -> None:
    world.put_students(STUDENTS)
    response = get()
    assert response["statusCode"] == 200
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert response["headers"]["Vary"] == "Origin"
    assert response["headers"]["Content-Type"] == "application/json; charset=utf-8"
    body = response_json(response)
    assert body["count"] == 3
    assert body["nextToken"] is None
    assert sorted(body["students"], key=lambda s: s["studentid"]) == STUDENTS
    assert list(body["students"][0]) == list(names.STUDENT_FIELDS)
    # Vietnamese names travel as UTF-8 characters, not \\u escapes.
    assert "Trần Đức Lộc" in response["body"]


def test_empty_table_is_an_empty_list(world: World) -> None:
    assert response_json(get()) == {"students": [], "count": 0, "nextToken": None}


def test_table_larger_than_one_scan_page_is_listed_completely(world: World) -> None:
    # 2.5 KB items: one 1 MB Scan page holds about 400, fewer than a 500-student page,
    # so every full page needs two Scan calls.
    padding = "ghi chú " * 300
    items = [
        {"studentid": {"S": f"BULK{i:05d}"}, "name": {"S": f"Nguyễn Văn {i}"}, "notes": {"S": padding}}
        for i in range(1_500)
    ]
    world.put_items(items)
    scanned = world.dynamodb.scan(TableName=TABLE, Limit=500)
    assert len(scanned["Items"]) < 500, "the test needs Scan pages that stop at 1 MB"

    students, sizes = list_everything(limit=500)

    # A page that ends exactly at the table's end may be followed by an empty one.
    assert sizes in ([500, 500, 500], [500, 500, 500, 0])
    assert len(students) == 1_500
    assert {s["studentid"] for s in students} == {f"BULK{i:05d}" for i in range(1_500)}
    assert all(s["notes"] == padding for s in students)


def test_small_pages_cover_the_table_without_repeats(world: World) -> None:
    world.put_students([{**STUDENT, "studentid": f"SV{i:03d}"} for i in range(23)])
    students, sizes = list_everything(limit=5)
    assert [s["studentid"] for s in students] == list(dict.fromkeys(s["studentid"] for s in students))
    assert len(students) == 23
    assert sizes[:4] == [5, 5, 5, 5]


def test_page_stops_early_below_the_response_size_limit(world: World) -> None:
    world.put_students([{**STUDENT, "studentid": f"SV{i:03d}"} for i in range(40)])
    seen: list[str] = []
    key = None
    pages = 0
    while True:
        page = get_students.list_students(aws.dynamodb(), TABLE, limit=500, start_key=key, max_bytes=1_000)
        pages += 1
        seen += [str(s["studentid"]) for s in page.students]
        if page.next_key is None:
            break
        key = page.next_key
    assert pages > 5
    assert sorted(seen) == [f"SV{i:03d}" for i in range(40)]


def test_numbers_and_sets_are_returned_as_json(world: World) -> None:
    world.put_items(
        [
            {
                "studentid": {"S": "SV100"},
                "name": {"S": "Phạm Minh Châu"},
                "credits": {"N": "120"},
                "gpa": {"N": "3.45"},
                "clubs": {"SS": ["robotics", "chess"]},
                "scores": {"NS": ["9.5", "7", "10"]},
            }
        ]
    )
    listed = response_json(get())["students"][0]
    single = response_json(get({"studentid": "SV100"}))["student"]
    for student in (listed, single):
        assert student["credits"] == 120
        assert student["gpa"] == 3.45
        assert student["clubs"] == ["chess", "robotics"]
        assert student["scores"] == [7, 9.5, 10]


def test_single_student_by_id(world: World) -> None:
    world.put_students(STUDENTS)
    response = get({"studentid": "SV002"})
    assert response["statusCode"] == 200
    assert response_json(response) == {"student": STUDENTS[1]}


def test_absent_student_is_404_json(world: World) -> None:
    response = get({"studentid": "SV999"})
    assert response["statusCode"] == 404
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert response_json(response) == {"message": "student not found"}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "2.5"}, "limit"),
        ({"limit": ""}, "limit"),
        ({"limit": "1e2"}, "limit"),
        ({"nextToken": "!!!"}, "nextToken"),
        ({"nextToken": "abc"}, "nextToken"),
        ({"nextToken": "A" * 5000}, "nextToken"),
        ({"nextToken": base64.urlsafe_b64encode(b"[1, 2]").decode()}, "nextToken"),
        ({"nextToken": base64.urlsafe_b64encode(b'{"other": {"S": "x"}}').decode()}, "nextToken"),
        ({"nextToken": base64.urlsafe_b64encode(b'{"studentid": {"N": "1"}}').decode()}, "nextToken"),
        ({"nextToken": base64.urlsafe_b64encode(b'{"studentid": {"S": ""}}').decode()}, "nextToken"),
        ({"nextToken": base64.urlsafe_b64encode(b'{"studentid": {"S": "\\ud800"}}').decode()}, "nextToken"),
        ({"nextToken": "1"}, "nextToken"),
        ({"nextToken": "1U1YwMDE="}, "nextToken"),
        ({"nextToken": "1U1YwMDF"}, "nextToken"),
        ({"nextToken": "1U1YwMD"}, "nextToken"),
        ({"nextToken": "1" + base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("=")}, "nextToken"),
        ({"nextToken": "1" + base64.urlsafe_b64encode(b"\xed\xa0\x80").decode()}, "nextToken"),
        ({"nextToken": "1" + base64.urlsafe_b64encode(b"x" * 2049).decode().rstrip("=")}, "nextToken"),
        ({"studentid": "SV 001"}, "studentid"),
        ({"studentid": "x" * 33}, "studentid"),
        ({"studentid": "SV001", "limit": "5"}, "studentid"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_parameter(world: World, query: dict[str, str], parameter: str) -> None:
    response = get(query)
    assert response["statusCode"] == 400
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    body = response_json(response)
    assert body["message"] == "invalid query parameters"
    assert parameter in body["errors"]


def test_next_token_is_opaque_base64url_of_the_last_key(world: World) -> None:
    world.put_students(STUDENTS)
    body = response_json(get({"limit": "1"}))
    token = body["nextToken"]
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    [student] = body["students"]
    assert get_students.decode_token(token) == {names.STUDENT_KEY: {names.STUDENT_KEY_TYPE: student["studentid"]}}


#: Partition keys at DynamoDB's limit of 2048 UTF-8 bytes, made of the
#: characters that grow the most when a token escapes or encodes them.
LARGEST_KEYS = {
    "three-byte": "ữ" * 682 + "SV",
    "four-byte": "𝓐" * 512,
    "quotes": '"' * 2048,
    "backslashes": "\\" * 2048,
    "control characters": "\x00\x1f" * 1024,
}


@pytest.mark.parametrize("studentid", LARGEST_KEYS.values(), ids=LARGEST_KEYS.keys())
def test_next_token_round_trips_every_key_at_dynamodbs_size_limit(studentid: str) -> None:
    assert len(studentid.encode("utf-8")) == 2048
    key = {names.STUDENT_KEY: {names.STUDENT_KEY_TYPE: studentid}}
    token = get_students.encode_token(key)
    assert len(token) == get_students.MAX_TOKEN_LENGTH
    assert get_students.decode_token(token) == key
    assert get_students.parse_request({"nextToken": token}).start_key == key
    # One byte more is past DynamoDB's limit: no such key, so no such token.
    with pytest.raises(ValueError, match="malformed token"):
        get_students.decode_token(
            get_students.encode_token({names.STUDENT_KEY: {names.STUDENT_KEY_TYPE: studentid + "x"}})
        )


def test_paging_continues_after_keys_at_dynamodbs_size_limit(world: World) -> None:
    ids = [*LARGEST_KEYS.values(), "SV001", "SV002"]
    world.put_students([{**STUDENT, "studentid": studentid} for studentid in ids])
    students, sizes = list_everything(limit=1)
    assert sorted(s["studentid"] for s in students) == sorted(ids)
    assert sizes[: len(ids)] == [1] * len(ids)


def test_throttled_scan_is_retried_until_it_succeeds(world: World) -> None:
    world.put_students(STUDENTS)
    throttle = inject_error(aws.dynamodb(), "Scan", "ProvisionedThroughputExceededException", status=400, times=2)
    context = LambdaContext.starting_now(TIMEOUTS[READ])
    with instant_retries() as clock:
        response = get_students.lambda_handler(api_event("GET", "/students"), context)
    assert response["statusCode"] == 200
    assert response_json(response)["count"] == 3
    assert throttle.attempts == 3
    assert len(clock.sleeps) == 2


def test_database_failure_is_500_without_internals(world: World, function_logs: list[dict[str, Any]]) -> None:
    inject_error(aws.dynamodb(), "Scan", "ResourceNotFoundException", status=400)
    response = get()
    assert response["statusCode"] == 500
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert response_json(response) == {"message": "internal error"}
    assert any("ResourceNotFoundException" in entry.get("exception", "") for entry in function_logs)
