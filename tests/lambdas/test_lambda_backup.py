"""BackupDynamoDBAndSendEmail: the whole table to S3, restorably, all or nothing, then a summary e-mail.

``POST /backup`` answers 202 and hands the run to an asynchronous invocation
of the same function; ``AsyncInvocations`` stands in for Lambda's queue (moto
cannot run functions) and delivers those events to the handler. The API calls
here come from a signed-in member of the ``admin`` group (``api_event``'s
default claims) unless a test says otherwise: only they may back up.
"""

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
from lambdas.backup import runs, upload, writers
from lambdas.common import aws, dynamodb_json, encoding, names
from tests.lambdas.scenarios import (
    ADMIN_CLAIMS,
    BACKUP_FUNCTION_ARN,
    BUCKET,
    ORIGIN,
    RECIPIENTS,
    SENDER,
    STAFF_CLAIMS,
    STUDENT,
    TABLE,
    AsyncInvocations,
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
KEY_PATTERN = re.compile(r"backups/backup-\d{8}-\d{6}-[0-9a-f]{8}\.(dynamodb\.json|csv|manifest\.json)")


def low_level(student: dict[str, str]) -> dict[str, Any]:
    return {key: {"S": value} for key, value in student.items()}


def items_backup(world: World) -> list[dict[str, Any]]:
    """The low-level items of the one backup in the bucket, from its DynamoDB JSON lines."""
    [key] = [key for key in world.object_keys() if key.endswith(upload.ITEMS_SUFFIX)]
    return [dynamodb_json.parse_line(line) for line in world.read_object(key).splitlines()]


def manifest_of(world: World) -> dict[str, Any]:
    [key] = [key for key in world.object_keys() if key.endswith(upload.MANIFEST_SUFFIX)]
    return json.loads(world.read_object(key))


def csv_backup(world: World) -> list[list[str]]:
    [key] = [key for key in world.object_keys() if key.endswith(".csv")]
    data = world.read_object(key)
    assert data.startswith(writers.CSV_BOM)
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


def metrics_written(output: str) -> list[str]:
    """The names of the embedded-metric-format datapoints among the function's stdout lines."""
    found = []
    for line in output.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            [directive] = document["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == names.METRIC_NAMESPACE
            assert directive["Dimensions"] == [[]]
            found += [metric["Name"] for metric in directive["Metrics"] if document[metric["Name"]] == 1]
    return found


def start_via_api() -> dict[str, Any]:
    response = invoke(backup, api_event("POST", "/backup"))
    assert response["statusCode"] == 202, response
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    return response_json(response)


def status(run_id: str | None = None) -> dict[str, Any]:
    response = invoke(backup, api_event("GET", "/backup", query={"runId": run_id} if run_id else None))
    assert response["statusCode"] == 200, response
    return response_json(response)


def backup_via_api() -> dict[str, Any]:
    """Start a run through the API, let Lambda deliver it, and answer its final status."""
    lambda_service = AsyncInvocations(aws.lambda_())
    started = start_via_api()
    lambda_service.deliver()
    return status(started["runId"])


# --- The asynchronous API ---------------------------------------------------------


def test_post_answers_202_with_a_run_id_and_runs_nothing_itself(world: World) -> None:
    world.put_students(STUDENTS)
    lambda_service = AsyncInvocations(aws.lambda_())
    started = start_via_api()

    assert started["state"] == "running"
    assert backup.RUN_ID.fullmatch(started["runId"])
    # The run is handed to Lambda: the function invokes itself, asynchronously, with the run id only.
    assert lambda_service.queued == [(BACKUP_FUNCTION_ARN, {"backupRun": started["runId"]})]
    assert world.object_keys() == []
    assert world.sent_messages() == []
    assert status(started["runId"])["state"] == "running"
    assert [run["runId"] for run in status()["runs"]] == [started["runId"]]


def test_api_run_writes_items_csv_and_manifest_and_emails_the_recipients(world: World) -> None:
    world.put_students(STUDENTS)
    final = backup_via_api()

    assert final["state"] == "done"
    assert final["items"] == 2
    assert final["emailSent"] is True
    assert final["trigger"] == "api"
    keys = world.object_keys()
    assert len(keys) == 3
    assert all(KEY_PATTERN.fullmatch(key) for key in keys)
    assert (
        len(
            {
                KEY_PATTERN.sub("", key.replace(".manifest.json", "").replace(".dynamodb.json", "").replace(".csv", ""))
                for key in keys
            }
        )
        == 1
    )
    assert all(final["runId"] in key for key in keys)
    sizes = {obj["key"]: obj["bytes"] for obj in final["objects"]}
    assert sorted(sizes) == keys
    for key in keys:
        assert sizes[key] == len(world.read_object(key))
        assert {"key": key, "bytes": sizes[key], "uri": f"s3://{BUCKET}/{key}"} in final["objects"]

    assert sorted(items_backup(world), key=lambda item: item["studentid"]["S"]) == [low_level(s) for s in STUDENTS]
    rows = csv_backup(world)
    assert rows[0] == list(names.STUDENT_FIELDS)
    assert sorted(rows[1:]) == sorted([list(s.values()) for s in STUDENTS])

    [message] = world.sent_messages()
    assert message.source == SENDER
    assert message.destinations["ToAddresses"] == list(RECIPIENTS)
    assert "2 items" in message.subject
    assert "requested through the API" in message.body
    for key in keys:
        assert f"s3://{BUCKET}/{key}  ({sizes[key]:,} bytes)" in message.body
    assert f"make restore BACKUP=backup-{final['runId']}" in message.body
    assert f"console.aws.amazon.com/s3/buckets/{BUCKET}" in message.body
    # No presigned link: it would need s3:GetObject and die with the session credentials.
    assert "X-Amz-Signature" not in message.body
    assert "X-Amz-Credential" not in message.body
    assert not re.search(r"https://[^ ]*\.s3[.-][^ ]*amazonaws\.com", message.body)


def test_manifest_counts_and_checksums_every_object(world: World) -> None:
    world.put_students(STUDENTS)
    result = invoke(backup, scheduler_event())
    manifest = manifest_of(world)
    assert manifest["format"] == "DYNAMODB_JSON"
    assert manifest["runId"] == result["runId"]
    assert manifest["table"] == TABLE
    assert manifest["itemCount"] == 2
    assert {obj["role"] for obj in manifest["objects"]} == {"items", "csv"}
    for obj in manifest["objects"]:
        data = world.read_object(obj["key"])
        assert obj["bytes"] == len(data)
        assert obj["sha256"] == __import__("hashlib").sha256(data).hexdigest()
        assert obj["itemCount"] == 2


def test_second_start_while_a_run_holds_the_lease_is_refused_with_its_id(world: World) -> None:
    lambda_service = AsyncInvocations(aws.lambda_())
    first = start_via_api()
    second = invoke(backup, api_event("POST", "/backup"))
    assert second["statusCode"] == 409
    assert response_json(second)["runId"] == first["runId"]
    # The schedule, too, leaves the running backup alone and says so.
    assert invoke(backup, scheduler_event()) == {"skipped": True, "runningRunId": first["runId"]}
    assert len(lambda_service.queued) == 1
    lambda_service.deliver()
    # Once it ended, the next one may start.
    assert invoke(backup, api_event("POST", "/backup"))["statusCode"] == 202


def test_a_delivered_run_is_not_run_twice(world: World) -> None:
    world.put_students(STUDENTS)
    lambda_service = AsyncInvocations(aws.lambda_())
    started = start_via_api()
    [(_, event)] = lambda_service.queued
    lambda_service.deliver()
    # Lambda may deliver an asynchronous event again, or retry it.
    assert invoke(backup, event) == {"runId": started["runId"], "skipped": True}
    assert len(world.object_keys()) == 3
    assert len(world.sent_messages()) == 1


def test_a_run_that_died_reads_as_failed_and_frees_the_lease(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    AsyncInvocations(aws.lambda_())  # accepted, never delivered: the run dies silently
    started = start_via_api()
    later = datetime.now(UTC) + timedelta(seconds=backup.LAMBDA_MAX_TIMEOUT_S + runs.LEASE_MARGIN_S + 5)
    monkeypatch.setattr(backup, "datetime", frozen_clock(later))
    report = status(started["runId"])
    assert report["state"] == "failed"
    assert report["error"] == runs.LOST
    assert invoke(backup, api_event("POST", "/backup"))["statusCode"] == 202


def test_a_run_delivered_late_renews_its_lease_from_when_it_begins(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.put_students(STUDENTS)
    lambda_service = AsyncInvocations(aws.lambda_())
    started = start_via_api()
    # Lambda held the event in its queue for ten minutes before delivering it.
    late = datetime.now(UTC) + timedelta(minutes=10)
    monkeypatch.setattr(backup, "datetime", frozen_clock(late))
    lambda_service.deliver()
    [run] = [r for r in world.run_records() if r["runId"]["S"] == started["runId"]]
    assert int(run["leaseUntil"]["N"]) >= int((late + timedelta(seconds=backup.LAMBDA_MAX_TIMEOUT_S)).timestamp())
    assert run["state"]["S"] == "done"


def test_status_of_an_unknown_or_malformed_run(world: World) -> None:
    unknown = invoke(backup, api_event("GET", "/backup", query={"runId": "20250101-000000-00000000"}))
    assert unknown["statusCode"] == 404
    for bad in ("latest", "20250101-000000-0000000g", "../" * 40, "\ud800"):
        response = invoke(backup, api_event("GET", "/backup", query={"runId": bad}))
        assert response["statusCode"] == 400
        json.dumps(response_json(response)).encode("utf-8")
    extra = invoke(backup, api_event("GET", "/backup", query={"id": "x"}))
    assert extra["statusCode"] == 400


def test_lambda_refusing_the_invocation_is_502_and_frees_the_lease(world: World) -> None:
    refused = inject_error(aws.lambda_(), "Invoke", "TooManyRequestsException", status=429, times=1 + aws.MAX_RETRIES)
    with instant_retries():
        response = invoke(backup, api_event("POST", "/backup"))
    assert response["statusCode"] == 502
    assert refused.attempts == 1 + aws.MAX_RETRIES
    [record] = world.run_records()
    assert record["state"]["S"] == "failed"
    AsyncInvocations(aws.lambda_())
    assert invoke(backup, api_event("POST", "/backup"))["statusCode"] == 202


# --- Who may back up ---------------------------------------------------------------

#: Callers the API lets through (every method requires a staff token) who may not back up.
NOT_ADMINS = {
    "staff only": STAFF_CLAIMS,
    "in no group": {key: value for key, value in STAFF_CLAIMS.items() if key != names.GROUPS_CLAIM},
    "a look-alike group": {**STAFF_CLAIMS, names.GROUPS_CLAIM: "[staff administrators]"},
    "the group's name in capitals": {**STAFF_CLAIMS, names.GROUPS_CLAIM: "Admin"},
    # A method wired without the authorizer would send no claims at all: refused, never assumed.
    "no authorizer": None,
}


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("caller", sorted(NOT_ADMINS))
def test_backup_routes_answer_403_to_anyone_outside_the_admin_group(
    world: World, method: str, caller: str, function_logs: list[dict[str, Any]]
) -> None:
    world.put_students(STUDENTS)
    lambda_service = AsyncInvocations(aws.lambda_())
    response = invoke(backup, api_event(method, "/backup", claims=NOT_ADMINS[caller]))
    assert response["statusCode"] == 403
    assert response_json(response) == {"message": "only staff in the admin group may run or read backups"}
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert (world.run_records(), lambda_service.queued, world.object_keys(), world.sent_messages()) == ([], [], [], [])
    [refusal] = [entry for entry in function_logs if entry["message"].startswith("backup refused")]
    assert "teacher@example.com" not in json.dumps(function_logs), "the caller's e-mail was logged"
    assert refusal.get("caller") == (NOT_ADMINS[caller] or {}).get("sub")


@pytest.mark.parametrize("groups", ["admin", "staff,admin", "[staff admin]", "[admin]"])
def test_backup_starts_for_the_admin_group_however_the_claim_is_written(world: World, groups: str) -> None:
    AsyncInvocations(aws.lambda_())
    claims = {**ADMIN_CLAIMS, names.GROUPS_CLAIM: groups}
    assert invoke(backup, api_event("POST", "/backup", claims=claims))["statusCode"] == 202
    assert invoke(backup, api_event("GET", "/backup", claims=claims))["statusCode"] == 200


# --- The schedule -------------------------------------------------------------------


def test_scheduled_backup_returns_a_plain_summary(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.put_students(STUDENTS)
    result = invoke(backup, scheduler_event())
    assert "statusCode" not in result
    assert result["state"] == "done"
    assert result["items"] == 2
    assert result["emailSent"] is True
    assert sorted(obj["key"] for obj in result["objects"]) == world.object_keys()
    assert "daily schedule" in world.sent_messages()[0].body
    assert metrics_written(capsys.readouterr().out) == [names.METRIC_BACKUP_SUCCEEDED]
    [record] = world.run_records()
    assert record["state"]["S"] == "done"
    assert record["trigger"]["S"] == "schedule"


def test_empty_table_gives_an_empty_items_file_and_a_header_only_csv(world: World) -> None:
    result = invoke(backup, scheduler_event())
    assert result["items"] == 0
    assert items_backup(world) == []
    assert csv_backup(world) == [list(names.STUDENT_FIELDS)]
    assert manifest_of(world)["itemCount"] == 0


@pytest.mark.slow  # megabytes through moto: make test's
def test_table_larger_than_a_scan_page_and_a_part_is_backed_up_completely(world: World) -> None:
    # About 6 MB: six 1 MB Scan pages, and an items object of two multipart parts.
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
    backed_up = items_backup(world)
    assert len(backed_up) == 2_400
    assert {item["studentid"]["S"]: item for item in backed_up} == table
    rows = csv_backup(world)
    assert len(rows) == 2_401
    expected_rows = [[item[field]["S"] for field in names.STUDENT_FIELDS] for item in table.values()]
    assert sorted(rows[1:]) == sorted(expected_rows)
    items_key = next(obj["key"] for obj in result["objects"] if obj["key"].endswith(upload.ITEMS_SUFFIX))
    head = world.s3.head_object(Bucket=BUCKET, Key=items_key)
    assert int(head["ETag"].strip('"').rsplit("-", 1)[1]) >= 2, "an object over 5 MiB is uploaded in parts"
    assert head["ContentType"] == writers.ITEMS_CONTENT_TYPE


def test_vietnamese_names_survive_items_csv_and_email(world: World) -> None:
    world.put_students(STUDENTS)
    invoke(backup, scheduler_event())
    raw_csv = world.read_object(next(k for k in world.object_keys() if k.endswith(".csv"))).decode("utf-8-sig")
    names_backed_up = {item["name"]["S"] for item in items_backup(world)}
    for name in ("Nguyễn Thị Ánh", "Trần Đức Lộc"):
        assert name in names_backed_up
        assert name in raw_csv
    assert "Student data backup: 2 items" in world.sent_messages()[0].subject


def test_items_keep_every_type_exactly_and_csv_shows_them_for_people(world: World) -> None:
    # Defect 4 of the issue: numbers lost digits, binary became text, sets became lists.
    item = {
        "studentid": {"S": "SV100"},
        "name": {"S": "Phạm Minh Châu"},
        "class": {"SS": ["B2", "A1"]},
        "birthdate": {"S": "2001-02-03"},
        "email": {"S": "chau@example.com"},
        "big": {"N": "12345678901234567.89"},
        "digits38": {"N": "1234567890123456789012345678901234567.8"},
        "photo": {"B": bytes(range(256))},
        "scores": {"NS": ["9.5", "7", "10"]},
    }
    world.put_items([item])
    invoke(backup, scheduler_event())
    [restored] = items_backup(world)
    assert restored["big"] == {"N": "12345678901234567.89"}
    assert restored["digits38"] == {"N": "1234567890123456789012345678901234567.8"}
    assert restored["photo"] == {"B": bytes(range(256))}
    assert sorted(restored["class"]["SS"]) == ["A1", "B2"]
    assert sorted(restored["scores"]["NS"], key=float) == ["7", "9.5", "10"]
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


def test_failed_api_run_records_why_writes_nothing_and_mails_nobody(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.put_students(STUDENTS)
    denied = inject_error(aws.s3(), "UploadPart", "AccessDenied", status=403)
    final = backup_via_api()
    assert denied.attempts == 1
    assert final["state"] == "failed"
    assert final["error"] == backup.STORAGE_FAILED
    assert "objects" not in final
    assert_nothing_written(world)
    assert world.sent_messages() == []
    assert metrics_written(capsys.readouterr().out) == [names.METRIC_BACKUP_FAILED]
    # The lease is free again.
    assert [record["runId"]["S"] for record in world.run_records()] == [final["runId"]]


def test_denied_upload_on_schedule_raises_for_the_retry_policy(world: World) -> None:
    world.put_students(STUDENTS)
    inject_error(aws.s3(), "CreateMultipartUpload", "AccessDenied", status=403)
    with pytest.raises(backup.BackupError, match=TABLE):
        invoke(backup, scheduler_event())
    assert_nothing_written(world)
    assert world.sent_messages() == []
    [record] = world.run_records()
    assert record["state"]["S"] == "failed"


def test_earlier_objects_are_removed_when_the_csv_fails(world: World) -> None:
    world.put_students(STUDENTS)
    denied = inject_error(aws.s3(), "CompleteMultipartUpload", "AccessDenied", status=403, when=is_csv_request)
    with pytest.raises(backup.BackupError):
        invoke(backup, scheduler_event())
    assert denied.attempts == 1
    assert_nothing_written(world)
    assert world.sent_messages() == []
    # Versioning keeps the removed items object as a noncurrent version under a
    # delete marker until the lifecycle rule expires it; no current object remains.
    versions = world.s3.list_object_versions(Bucket=BUCKET, Prefix=names.BACKUP_PREFIX)
    markers = [marker["Key"] for marker in versions.get("DeleteMarkers", [])]
    assert len(markers) == 1
    assert markers[0].endswith(upload.ITEMS_SUFFIX)


def test_failed_manifest_discards_the_run(world: World) -> None:
    world.put_students(STUDENTS)
    inject_error(aws.s3(), "PutObject", "AccessDenied", status=403, when=lambda r: b"manifest" in r.url.encode())
    with pytest.raises(backup.BackupError):
        invoke(backup, scheduler_event())
    assert_nothing_written(world)
    assert world.sent_messages() == []


def test_failed_backup_in_the_same_second_leaves_the_earlier_one_current(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Defect 3 of the issue: two runs in one second shared keys, and the failed
    # one's clean-up hid the good one's JSON.
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
    # The failed run deleted its own items object, under a key of its own, and nothing else.
    versions = world.s3.list_object_versions(Bucket=BUCKET, Prefix=names.BACKUP_PREFIX)
    [marker] = versions.get("DeleteMarkers", [])
    assert marker["Key"].endswith(upload.ITEMS_SUFFIX)
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
    final = backup_via_api()
    assert final["state"] == "failed"
    assert_nothing_written(world)
    assert world.sent_messages() == []


def test_backup_is_kept_when_the_mail_service_is_down(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.put_students(STUDENTS)
    outage = make_unavailable(aws.ses())
    with instant_retries():
        final = backup_via_api()
    assert final["state"] == "done"
    assert final["emailSent"] is False
    assert final["emailError"] == "the e-mail service is unavailable"
    assert outage.attempts == 1 + aws.MAX_RETRIES
    assert len(world.object_keys()) == 3
    assert len(items_backup(world)) == 2
    assert metrics_written(capsys.readouterr().out) == [
        names.METRIC_BACKUP_SUCCEEDED,
        names.METRIC_BACKUP_EMAIL_FAILED,
    ]


def test_mail_failure_on_schedule_is_a_failure_signal_but_keeps_the_backup(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Defect 7 of the issue: a scheduled backup whose e-mail failed returned
    # success and told nobody. Raising would make the scheduler retry, writing
    # the same backup again; the metric sets off the alarm instead.
    inject_error(aws.ses(), "SendEmail", "MessageRejected", status=400)
    result = invoke(backup, scheduler_event())
    assert result["emailSent"] is False
    assert result["emailError"] == "the e-mail service refused the message"
    assert len(world.object_keys()) == 3
    assert names.METRIC_BACKUP_EMAIL_FAILED in metrics_written(capsys.readouterr().out)


def test_throttled_scan_is_retried_and_the_backup_completes(world: World) -> None:
    world.put_students(STUDENTS)
    throttle = inject_error(aws.dynamodb(), "Scan", "ProvisionedThroughputExceededException", status=400, times=2)
    with instant_retries() as clock:
        result = invoke(backup, scheduler_event())
    assert throttle.attempts == 3
    assert len(clock.sleeps) == 2
    assert result["items"] == 2
    assert len(items_backup(world)) == 2


def test_unexpected_error_is_recorded_without_internals(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(writers, "write_backup", broken)
    final = backup_via_api()
    assert final["state"] == "failed"
    assert final["error"] == backup.INTERNAL_FAILED
    assert "secret" not in json.dumps(final)
    assert_nothing_written(world)


def test_objects_are_named_by_the_run_id(world: World) -> None:
    started = datetime(2025, 7, 6, 7, 0, 5, tzinfo=timezone(timedelta(hours=7)))
    result = upload.backup_table(
        dynamodb=aws.dynamodb(),
        s3=aws.s3(),
        table_name=TABLE,
        bucket=BUCKET,
        started=started,
        run_id="20250706-000005-0a1b2c3d",
    )
    assert [obj.key for obj in result.objects] == [
        "backups/backup-20250706-000005-0a1b2c3d.dynamodb.json",
        "backups/backup-20250706-000005-0a1b2c3d.csv",
        "backups/backup-20250706-000005-0a1b2c3d.manifest.json",
    ]
    # Without a run id each run draws its own from its UTC start, so runs of the same second never share a key.
    keys = {
        obj.key
        for _ in range(2)
        for obj in upload.backup_table(
            dynamodb=aws.dynamodb(), s3=aws.s3(), table_name=TABLE, bucket=BUCKET, started=started
        ).objects
    }
    assert len(keys) == 6
    assert all(KEY_PATTERN.fullmatch(key) and "-20250706-000005-" in key for key in keys)


def test_many_small_parts_reassemble_exactly(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # moto enforces S3's 5 MiB minimum part; lowering it for this test lets
    # a small table exercise dozens of parts.
    monkeypatch.setattr("moto.s3.models.S3_UPLOAD_PART_MIN_SIZE", 1_024)
    world.put_students([{**STUDENT, "studentid": f"SV{i:04d}"} for i in range(300)])
    expected_items: list[bytes] = []
    expected_csv: list[bytes] = []
    count = writers.write_backup(
        world.scan_all(),  # the same order the Scan returns
        items_out=expected_items.append,
        csv_out=expected_csv.append,
    )
    result = upload.backup_table(
        dynamodb=aws.dynamodb(),
        s3=aws.s3(),
        table_name=TABLE,
        bucket=BUCKET,
        started=datetime.now(UTC),
        part_size=1_024,
    )
    assert result.items == count == 300
    items_key, csv_key, _ = (obj.key for obj in result.objects)
    assert world.read_object(items_key) == b"".join(expected_items)
    assert world.read_object(csv_key) == b"".join(expected_csv)
    parts = int(world.s3.head_object(Bucket=BUCKET, Key=items_key)["ETag"].strip('"').rsplit("-", 1)[1])
    assert parts > 20
