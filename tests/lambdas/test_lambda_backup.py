"""BackupDynamoDBAndSendEmail: the whole table to S3 as JSON and CSV, both or neither, then a summary e-mail."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdas.backup import handler as backup
from lambdas.common import aws, encoding, names
from tests.lambdas.scenarios import (
    BUCKET,
    ORIGIN,
    RECIPIENTS,
    SENDER,
    STUDENT,
    TABLE,
    World,
    api_event,
    inject_error,
    instant_retries,
    invoke,
    is_csv_request,
    make_unavailable,
    response_json,
    scheduler_event,
)

STUDENTS = [
    STUDENT,
    {
        "studentid": "SV002",
        "name": "Trần Đức Lộc",
        "class": "CNTT2",
        "birthdate": "2002-11-30",
        "email": "loc@example.com",
    },
]
KEY_PATTERN = re.compile(r"backups/backup-\d{8}-\d{6}-[0-9a-f]{8}\.(json|csv)")


def backup_via_api() -> Any:
    return invoke(backup, api_event("POST", "/backup"))


def json_backup(world: World) -> list[dict[str, Any]]:
    [key] = [key for key in world.object_keys() if key.endswith(".json")]
    items = json.loads(world.read_object(key).decode("utf-8"))
    assert isinstance(items, list)
    return items


def csv_backup(world: World) -> list[list[str]]:
    [key] = [key for key in world.object_keys() if key.endswith(".csv")]
    data = world.read_object(key)
    assert data.startswith(backup.CSV_BOM)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def frozen_clock(instant: datetime) -> type[datetime]:
    """A stand-in for the handler's ``datetime`` whose ``now`` is always ``instant``."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:
            return instant.astimezone(tz)

    return Frozen


def assert_nothing_written(world: World) -> None:
    assert world.object_keys() == []
    assert world.pending_uploads() == []


def test_api_backup_writes_json_and_csv_and_emails_the_recipients(world: World) -> None:
    world.put_students(STUDENTS)
    response = backup_via_api()

    assert response["statusCode"] == 200
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    body = response_json(response)
    assert body["items"] == 2
    assert body["emailSent"] is True
    keys = world.object_keys()
    assert len(keys) == 2
    assert all(KEY_PATTERN.fullmatch(key) for key in keys)
    assert keys[0].removesuffix(".csv") == keys[1].removesuffix(".json")
    sizes = {obj["key"]: obj["bytes"] for obj in body["objects"]}
    for key in keys:
        assert sizes[key] == len(world.read_object(key))
        assert {"key": key, "bytes": sizes[key], "uri": f"s3://{BUCKET}/{key}"} in body["objects"]

    assert sorted(json_backup(world), key=lambda s: s["studentid"]) == STUDENTS
    rows = csv_backup(world)
    assert rows[0] == list(names.STUDENT_FIELDS)
    assert sorted(rows[1:]) == sorted([list(s.values()) for s in STUDENTS])

    [message] = world.sent_messages()
    assert message.source == SENDER
    assert message.destinations["ToAddresses"] == list(RECIPIENTS)
    assert "2 items" in message.subject
    for key in keys:
        assert f"s3://{BUCKET}/{key}  ({sizes[key]:,} bytes)" in message.body
    assert f"console.aws.amazon.com/s3/buckets/{BUCKET}" in message.body
    # No presigned link: it would need s3:GetObject and die with the session credentials.
    assert "X-Amz-Signature" not in message.body
    assert "X-Amz-Credential" not in message.body
    assert not re.search(r"https://[^ ]*\.s3[.-][^ ]*amazonaws\.com", message.body)


def test_scheduled_backup_returns_a_plain_summary(world: World) -> None:
    world.put_students(STUDENTS)
    result = invoke(backup, scheduler_event())
    assert "statusCode" not in result
    assert result["items"] == 2
    assert result["emailSent"] is True
    assert [obj["key"] for obj in result["objects"]] == world.object_keys()[::-1]
    assert "daily schedule" in world.sent_messages()[0].body


def test_empty_table_gives_an_empty_array_and_a_header_only_csv(world: World) -> None:
    result = invoke(backup, scheduler_event())
    assert result["items"] == 0
    assert json_backup(world) == []
    assert csv_backup(world) == [list(names.STUDENT_FIELDS)]


def test_table_larger_than_a_scan_page_and_a_part_is_backed_up_completely(world: World) -> None:
    # About 6 MB: six 1 MB Scan pages, and a JSON object of two multipart parts.
    padding = "Ghi chú: sinh viên năm nhất. " * 80
    items = [
        {
            "studentid": {"S": f"BULK{i:05d}"},
            "name": {"S": f"Nguyễn Văn {i}"},
            "class": {"S": "CNTT1"},
            "birthdate": {"S": "2003-01-02"},
            "email": {"S": f"sv{i}@example.com"},
            "notes": {"S": padding},
        }
        for i in range(2_400)
    ]
    world.put_items(items)
    table = {item["studentid"]["S"]: item for item in world.scan_all()}
    assert len(table) == 2_400

    result = invoke(backup, scheduler_event())

    assert result["items"] == 2_400
    backed_up = json_backup(world)
    assert len(backed_up) == 2_400
    assert {s["studentid"]: s for s in backed_up} == {
        sid: {key: value["S"] for key, value in item.items()} for sid, item in table.items()
    }
    rows = csv_backup(world)
    assert len(rows) == 2_401
    expected_rows = [[item[field]["S"] for field in names.STUDENT_FIELDS] for item in table.values()]
    assert sorted(rows[1:]) == sorted(expected_rows)
    json_key = next(obj["key"] for obj in result["objects"] if obj["key"].endswith(".json"))
    head = world.s3.head_object(Bucket=BUCKET, Key=json_key)
    assert head["ETag"].strip('"').endswith("-2"), "a JSON object over 5 MiB is uploaded in two parts"
    assert head["ContentType"] == "application/json; charset=utf-8"


def test_vietnamese_names_survive_json_csv_and_email(world: World) -> None:
    world.put_students(STUDENTS)
    invoke(backup, scheduler_event())
    raw_json = world.read_object(next(k for k in world.object_keys() if k.endswith(".json"))).decode("utf-8")
    raw_csv = world.read_object(next(k for k in world.object_keys() if k.endswith(".csv"))).decode("utf-8-sig")
    for name in ("Nguyễn Thị Ánh", "Trần Đức Lộc"):
        assert name in raw_json
        assert name in raw_csv
    assert "Student data backup: 2 items" in world.sent_messages()[0].subject


def test_numbers_and_sets_are_converted_in_json_and_csv(world: World) -> None:
    world.put_items(
        [
            {
                "studentid": {"S": "SV100"},
                "name": {"S": "Phạm Minh Châu"},
                "class": {"SS": ["B2", "A1"]},
                "birthdate": {"S": "2001-02-03"},
                "email": {"S": "chau@example.com"},
                "credits": {"N": "120"},
                "gpa": {"N": "3.45"},
                "scores": {"NS": ["9.5", "7", "10"]},
            }
        ]
    )
    invoke(backup, scheduler_event())
    assert json_backup(world) == [
        {
            "studentid": "SV100",
            "name": "Phạm Minh Châu",
            "class": ["A1", "B2"],
            "birthdate": "2001-02-03",
            "email": "chau@example.com",
            "credits": 120,
            "gpa": 3.45,
            "scores": [7, 9.5, 10],
        }
    ]
    assert csv_backup(world)[1] == ["SV100", "Phạm Minh Châu", "A1;B2", "2001-02-03", "chau@example.com"]


def test_csv_quotes_per_rfc_4180_and_defuses_formulas(world: World) -> None:
    world.put_students(
        [
            {**STUDENT, "studentid": "SV1", "name": 'Lê "Bé", Út'},
            {**STUDENT, "studentid": "SV2", "name": '=HYPERLINK("http://evil")'},
            {**STUDENT, "studentid": "SV3", "name": "-2+3"},
            {**STUDENT, "studentid": "SV4", "name": "dòng\r\nhai"},
        ]
    )
    invoke(backup, scheduler_event())
    [key] = [k for k in world.object_keys() if k.endswith(".csv")]
    raw = world.read_object(key).decode("utf-8-sig")
    assert '"Lê ""Bé"", Út"' in raw
    assert raw.endswith("\r\n")
    names_by_id = {row[0]: row[1] for row in csv_backup(world)[1:]}
    assert names_by_id == {
        "SV1": 'Lê "Bé", Út',
        "SV2": '\'=HYPERLINK("http://evil")',
        "SV3": "'-2+3",
        "SV4": "dòng\r\nhai",
    }


#: Where a spreadsheet may start a new cell inside one of ours: a field
#: separator of any common dialect (',' ';' tab) or a line break. Stated here
#: rather than taken from ``encoding.CELL_BREAKS``, so narrowing that one fails.
CELL_BREAKS = ",;\t\r\n"


def formula_starts(cell: str) -> list[int]:
    """Where a reader that splits ``cell`` at a break would see a cell that starts a formula.

    A fragment may also open with quotes, which such a reader strips.
    """
    return [
        i
        for i in range(len(cell))
        if (i == 0 or cell[i - 1] in CELL_BREAKS) and cell[i:].lstrip('"').startswith(encoding.FORMULA_PREFIXES)
    ]


HOSTILE_CELLS = {
    "set member after ';'": {"SS": ["0", "=1+1"]},
    "command after ';'": {"S": "x;=cmd|' /C calc'!A0"},
    "formula after ','": {"S": 'Lê,=HYPERLINK("http://evil")'},
    "formula after a tab": {"S": "a\t@SUM(1)"},
    "formula on a second line": {"S": "dòng\r\n-1+1"},
    "formula after a line feed": {"S": "dòng\n+1"},
    "quoted formula after ';'": {"S": 'x;"=1+1"'},
    "tab then formula after ';'": {"S": "x;\t=1"},
    "formula at the start": {"S": "=1+1;2"},
}


def test_csv_neutralises_formulas_wherever_a_cell_may_start(world: World) -> None:
    items = [
        {"studentid": {"S": f"SV{i}"}, "name": cell, "class": cell, "birthdate": cell, "email": cell}
        for i, cell in enumerate(HOSTILE_CELLS.values())
    ]
    world.put_items(items)
    invoke(backup, scheduler_event())
    rows = {row[0]: row for row in csv_backup(world)[1:]}
    assert len(rows) == len(HOSTILE_CELLS)
    for i, (case, cell) in enumerate(HOSTILE_CELLS.items()):
        for written in rows[f"SV{i}"][1:]:
            assert formula_starts(written) == [], f"{case}: {written!r}"
            value = cell.get("S") or ";".join(sorted(cell["SS"]))
            assert written.replace("'", "") == value.replace("'", ""), f"{case}: only quotes are added"


HOSTILE_TEXT = st.text(alphabet=st.sampled_from(list("=+-@\t\r\n,;\"' aữ1")), max_size=24)


@given(st.one_of(HOSTILE_TEXT, st.frozensets(HOSTILE_TEXT, min_size=1, max_size=4)))
def test_every_csv_cell_is_neutralised_whatever_it_holds(value: str | frozenset[str]) -> None:
    text = value if isinstance(value, str) else encoding.CSV_SET_SEPARATOR.join(sorted(value))
    cell = encoding.csv_cell(value)
    assert formula_starts(cell) == []
    # Only quotes are added, and only where a formula could start.
    assert cell.replace("'", "") == text.replace("'", "")
    if not formula_starts(text):
        assert cell == text


def test_denied_upload_leaves_no_object_and_sends_no_email(world: World) -> None:
    world.put_students(STUDENTS)
    denied = inject_error(aws.s3(), "UploadPart", "AccessDenied", status=403)
    response = backup_via_api()
    assert denied.attempts == 1
    assert response["statusCode"] == 502
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert response_json(response) == {"message": "backup failed: the database or the backup bucket refused a request"}
    assert_nothing_written(world)
    assert world.sent_messages() == []


def test_denied_upload_on_schedule_raises_for_the_retry_policy(world: World) -> None:
    world.put_students(STUDENTS)
    inject_error(aws.s3(), "CreateMultipartUpload", "AccessDenied", status=403)
    with pytest.raises(backup.BackupError, match=TABLE):
        invoke(backup, scheduler_event())
    assert_nothing_written(world)
    assert world.sent_messages() == []


def test_first_object_is_removed_when_the_second_fails(world: World) -> None:
    world.put_students(STUDENTS)
    denied = inject_error(aws.s3(), "CompleteMultipartUpload", "AccessDenied", status=403, when=is_csv_request)
    response = backup_via_api()
    assert denied.attempts == 1
    assert response["statusCode"] == 502
    assert_nothing_written(world)
    assert world.sent_messages() == []
    # Versioning keeps the removed JSON as a noncurrent version under a delete
    # marker until the lifecycle rule expires it; no current object remains.
    versions = world.s3.list_object_versions(Bucket=BUCKET, Prefix=names.BACKUP_PREFIX)
    assert [marker["Key"].endswith(".json") for marker in versions.get("DeleteMarkers", [])] == [True]


def test_failed_backup_in_the_same_second_leaves_the_earlier_one_current(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup, "datetime", frozen_clock(datetime(2025, 7, 6, 0, 0, 5, tzinfo=UTC)))
    world.put_students(STUDENTS)
    first = invoke(backup, scheduler_event())
    written = {key: world.read_object(key) for key in world.object_keys()}
    assert sorted(obj["key"] for obj in first["objects"]) == sorted(written)

    world.put_students([{**STUDENT, "studentid": "SV003"}])
    denied = inject_error(aws.s3(), "CompleteMultipartUpload", "AccessDenied", status=403, when=is_csv_request)
    with pytest.raises(backup.BackupError):
        invoke(backup, scheduler_event())

    assert denied.attempts == 1
    assert {key: world.read_object(key) for key in world.object_keys()} == written
    assert world.pending_uploads() == []
    # The failed run deleted its own JSON, under a key of its own, and nothing else.
    versions = world.s3.list_object_versions(Bucket=BUCKET, Prefix=names.BACKUP_PREFIX)
    [marker] = versions.get("DeleteMarkers", [])
    assert marker["Key"].endswith(".json")
    assert marker["Key"] not in written
    assert all(version["Key"] in written or version["Key"] == marker["Key"] for version in versions["Versions"])


def test_scan_failure_mid_table_aborts_both_uploads(world: World) -> None:
    world.put_items([{"studentid": {"S": f"BIG{i:04d}"}, "notes": {"S": "x" * 2_000}} for i in range(800)])
    # The first page succeeds, the second (after ExclusiveStartKey) is denied.
    inject_error(
        aws.dynamodb(),
        "Scan",
        "AccessDeniedException",
        status=400,
        when=lambda request: b"ExclusiveStartKey" in request.body,
    )
    response = backup_via_api()
    assert response["statusCode"] == 502
    assert_nothing_written(world)
    assert world.sent_messages() == []


def test_backup_is_kept_when_the_mail_service_is_down(world: World) -> None:
    world.put_students(STUDENTS)
    outage = make_unavailable(aws.ses())
    with instant_retries():
        response = backup_via_api()
    assert response["statusCode"] == 200
    body = response_json(response)
    assert body["emailSent"] is False
    assert body["emailError"] == "the e-mail service is unavailable"
    assert outage.attempts == 1 + aws.MAX_RETRIES
    assert len(world.object_keys()) == 2
    assert len(json_backup(world)) == 2


def test_mail_failure_on_schedule_does_not_fail_the_run(world: World) -> None:
    # Raising would make the scheduler retry, writing the same backup again.
    inject_error(aws.ses(), "SendEmail", "MessageRejected", status=400)
    result = invoke(backup, scheduler_event())
    assert result["emailSent"] is False
    assert result["emailError"] == "the e-mail service refused the message"
    assert len(world.object_keys()) == 2


def test_throttled_scan_is_retried_and_the_backup_completes(world: World) -> None:
    world.put_students(STUDENTS)
    throttle = inject_error(aws.dynamodb(), "Scan", "ProvisionedThroughputExceededException", status=400, times=2)
    with instant_retries() as clock:
        result = invoke(backup, scheduler_event())
    assert throttle.attempts == 3
    assert len(clock.sleeps) == 2
    assert result["items"] == 2
    assert len(json_backup(world)) == 2


def test_unexpected_error_is_500_without_internals(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(backup, "write_backup", broken)
    response = backup_via_api()
    assert response["statusCode"] == 500
    assert response_json(response) == {"message": "internal error"}
    assert_nothing_written(world)


def test_objects_are_named_by_the_utc_start_time_and_their_run(world: World) -> None:
    started = datetime(2025, 7, 6, 7, 0, 5, tzinfo=timezone(timedelta(hours=7)))
    result = backup.backup_table(
        dynamodb=aws.dynamodb(), s3=aws.s3(), table_name=TABLE, bucket=BUCKET, started=started, run_id="0a1b2c3d"
    )
    assert [obj.key for obj in result.objects] == [
        "backups/backup-20250706-000005-0a1b2c3d.json",
        "backups/backup-20250706-000005-0a1b2c3d.csv",
    ]
    # Without a run id each run draws its own, so runs of the same second never share a key.
    keys = {
        obj.key
        for _ in range(2)
        for obj in backup.backup_table(
            dynamodb=aws.dynamodb(), s3=aws.s3(), table_name=TABLE, bucket=BUCKET, started=started
        ).objects
    }
    assert len(keys) == 4
    assert all(KEY_PATTERN.fullmatch(key) and "-20250706-000005-" in key for key in keys)


def test_many_small_parts_reassemble_exactly(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # moto enforces S3's 5 MiB minimum part; lowering it for this test lets
    # a small table exercise dozens of parts.
    monkeypatch.setattr("moto.s3.models.S3_UPLOAD_PART_MIN_SIZE", 1_024)
    world.put_students([{**STUDENT, "studentid": f"SV{i:04d}"} for i in range(300)])
    expected_json: list[bytes] = []
    expected_csv: list[bytes] = []
    count = backup.write_backup(
        (  # the same order the Scan returns
            {key: value["S"] for key, value in item.items()} for item in world.scan_all()
        ),
        json_out=expected_json.append,
        csv_out=expected_csv.append,
    )
    result = backup.backup_table(
        dynamodb=aws.dynamodb(),
        s3=aws.s3(),
        table_name=TABLE,
        bucket=BUCKET,
        started=datetime.now(UTC),
        part_size=1_024,
    )
    assert result.items == count == 300
    json_key, csv_key = (obj.key for obj in result.objects)
    assert world.read_object(json_key) == b"".join(expected_json)
    assert world.read_object(csv_key) == b"".join(expected_csv)
    parts = int(world.s3.head_object(Bucket=BUCKET, Key=json_key)["ETag"].strip('"').rsplit("-", 1)[1])
    assert parts > 20
