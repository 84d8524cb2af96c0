"""Backup, empty the table, ``ops/restore.py``: the very same items come back, of every DynamoDB type."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import pytest

from lambdas.backup import handler as backup
from lambdas.backup import upload
from lambdas.common import dynamodb_json, names
from ops import restore
from tests.lambdas.scenarios import BUCKET, STUDENT, TABLE, World, invoke, scheduler_event

#: Items of every attribute type DynamoDB has, at the edges of what it holds.
EVERY_TYPE: list[dict[str, Any]] = [
    {
        "studentid": {"S": "SV-types"},
        "name": {"S": "Nguyễn Thị Ánh 🎓"},
        "digits38": {"N": "12345678901234567890123456789012345678"},
        "fraction38": {"N": "0.12345678901234567890123456789012345678"},
        "negative": {"N": "-9.9999999999999999999999999999999999999E+125"},
        "tiny": {"N": "1E-130"},
        "issue_number": {"N": "12345678901234567.89"},
        "photo": {"B": bytes(range(256))},
        "empty_binary": {"B": b""},
        "tags": {"SS": ["a", "ă", "=1+1", "x;=cmd"]},
        "scores": {"NS": ["7", "9.5", "10", "12345678901234567890123456789012345678"]},
        "blobs": {"BS": [b"\x00", b"\xff\xfe", b"plain"]},
        "profile": {
            "M": {
                "nested": {"M": {"deep": {"L": [{"N": "1"}, {"NULL": True}, {"BOOL": False}]}}},
                "bytes": {"B": b"\x01\x02"},
                "set": {"SS": ["one"]},
            }
        },
        "history": {"L": [{"S": "x"}, {"N": "2.50"}, {"B": b"\x00"}, {"L": []}, {"M": {}}]},
        "nothing": {"NULL": True},
        "active": {"BOOL": True},
        "inactive": {"BOOL": False},
        "empty_string": {"S": ""},
    },
    {key: {"S": value} for key, value in STUDENT.items()},
]


def canonical(item: dict[str, Any]) -> dict[str, Any]:
    """An item with its sets in a fixed order (DynamoDB keeps no order in a set) and numbers by value."""

    def value(typed: dict[str, Any]) -> Any:
        [(kind, inner)] = typed.items()
        if kind in {"SS", "BS"}:
            return {kind: sorted(inner)}
        if kind == "NS":
            return {kind: sorted(Decimal(n) for n in inner)}
        if kind == "N":
            return {kind: Decimal(inner)}
        if kind == "M":
            return {kind: {name: value(member) for name, member in inner.items()}}
        if kind == "L":
            return {kind: [value(member) for member in inner]}
        return typed

    return {name: value(typed) for name, typed in item.items()}


def table_items(world: World) -> dict[str, dict[str, Any]]:
    return {item["studentid"]["S"]: canonical(item) for item in world.scan_all()}


def empty_table(world: World) -> None:
    for item in world.scan_all():
        world.dynamodb.delete_item(TableName=TABLE, Key={"studentid": item["studentid"]})
    assert world.item_count() == 0


def run_restore(world: World, name: str, **options: Any) -> tuple[restore.Tally, str]:
    out = io.StringIO()
    tally = restore.restore(
        s3=world.s3, dynamodb=world.dynamodb, bucket=BUCKET, name=name, table=TABLE, out=out, **options
    )
    return tally, out.getvalue()


def test_every_type_round_trips_exactly(world: World) -> None:
    world.put_items(EVERY_TYPE)
    before = table_items(world)
    assert len(before) == 2
    result = invoke(backup, scheduler_event())
    empty_table(world)

    tally, progress = run_restore(world, "latest")

    assert (tally.written, tally.kept, tally.failed) == (2, 0, 0)
    assert table_items(world) == before
    # Not only equal in value: the stored number text keeps every digit.
    restored = {item["studentid"]["S"]: item for item in world.scan_all()}["SV-types"]
    assert restored["digits38"] == {"N": "12345678901234567890123456789012345678"}
    assert restored["photo"] == {"B": bytes(range(256))}
    assert f"backup-{result['runId']}" in progress
    assert "restore" in progress and "2/2 items" in progress


def test_restore_keeps_what_is_already_there_unless_told_to_overwrite(world: World) -> None:
    world.put_students([STUDENT, {**STUDENT, "studentid": "SV002"}])
    result = invoke(backup, scheduler_event())
    name = f"backup-{result['runId']}"
    changed = {**STUDENT, "name": "Đã sửa"}
    world.put_students([changed])
    world.dynamodb.delete_item(TableName=TABLE, Key={"studentid": {"S": "SV002"}})

    tally, _ = run_restore(world, name)
    assert (tally.written, tally.kept, tally.failed) == (1, 1, 0)
    rows = {item["studentid"]["S"]: item["name"]["S"] for item in world.scan_all()}
    assert rows == {"SV001": "Đã sửa", "SV002": STUDENT["name"]}

    tally, _ = run_restore(world, f"{names.BACKUP_PREFIX}{name}{upload.CSV_SUFFIX}", overwrite=True)
    assert (tally.written, tally.kept, tally.failed) == (2, 0, 0)
    assert {item["studentid"]["S"]: item["name"]["S"] for item in world.scan_all()}["SV001"] == STUDENT["name"]


def test_unprocessed_items_are_retried_until_written(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.put_students([{**STUDENT, "studentid": f"SV{i:03d}"} for i in range(60)])
    invoke(backup, scheduler_event())
    empty_table(world)
    real = world.dynamodb.batch_write_item
    calls: list[int] = []

    def half_processed(**request: Any) -> dict[str, Any]:
        [(table, writes)] = request["RequestItems"].items()
        calls.append(len(writes))
        if len(writes) > 1:  # DynamoDB under load: the second half comes back unprocessed
            real(RequestItems={table: writes[: len(writes) // 2]})
            return {"UnprocessedItems": {table: writes[len(writes) // 2 :]}}
        return real(**request)

    monkeypatch.setattr(world.dynamodb, "batch_write_item", half_processed)
    tally, _ = run_restore(world, "latest", overwrite=True, sleep=lambda _: None)
    assert (tally.written, tally.failed) == (60, 0)
    assert world.item_count() == 60
    assert len(calls) > 3


def test_a_backup_that_differs_from_its_manifest_writes_nothing(world: World) -> None:
    world.put_students([STUDENT])
    result = invoke(backup, scheduler_event())
    empty_table(world)
    [items_key] = [obj["key"] for obj in result["objects"] if obj["key"].endswith(upload.ITEMS_SUFFIX)]
    original = world.read_object(items_key)
    tampered = original.replace(b"SV001", b"SV666")
    world.s3.put_object(Bucket=BUCKET, Key=items_key, Body=tampered)

    with pytest.raises(restore.RestoreError, match="SHA-256 differs"):
        run_restore(world, "latest")
    world.s3.put_object(
        Bucket=BUCKET,
        Key=items_key,
        Body=original + dynamodb_json.item_line({"studentid": {"S": "extra"}}),
    )
    with pytest.raises(restore.RestoreError, match="bytes where the manifest says"):
        run_restore(world, "latest")
    assert world.item_count() == 0


def test_missing_backup_table_or_manifest_is_a_clear_error(world: World) -> None:
    with pytest.raises(restore.RestoreError, match="no backup in"):
        run_restore(world, "latest")
    with pytest.raises(restore.RestoreError, match="does not exist: name a backup"):
        run_restore(world, "backup-20250101-000000-00000000")
    world.put_students([STUDENT])
    invoke(backup, scheduler_event())
    with pytest.raises(restore.RestoreError, match="table nope does not exist"):
        restore.restore(
            s3=world.s3, dynamodb=world.dynamodb, bucket=BUCKET, name="latest", table="nope", out=io.StringIO()
        )
    manifest_key = next(key for key in world.object_keys() if key.endswith(upload.MANIFEST_SUFFIX))
    world.s3.put_object(Bucket=BUCKET, Key=manifest_key, Body=json.dumps({"format": "CSV"}).encode())
    with pytest.raises(restore.RestoreError, match="not a backup manifest"):
        run_restore(world, "latest")


def test_items_without_the_tables_key_are_refused(world: World) -> None:
    world.dynamodb.create_table(
        TableName="byEmail",
        KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    world.put_items([{"studentid": {"S": "SV-noemail"}}])
    invoke(backup, scheduler_event())
    with pytest.raises(restore.RestoreError, match="lacks the table's key email"):
        restore.restore(
            s3=world.s3, dynamodb=world.dynamodb, bucket=BUCKET, name="latest", table="byEmail", out=io.StringIO()
        )


def test_a_string_utf8_cannot_encode_still_round_trips() -> None:
    # An unpaired surrogate, as another writer's client may store: escaped on its line, read back the same.
    item = {"studentid": {"S": "SV-\ud800"}, "name": {"S": "Nguyễn"}}
    line = dynamodb_json.item_line(item)
    assert line.endswith(b"\n")
    assert dynamodb_json.parse_line(line) == item
    assert "Nguyễn".encode() in dynamodb_json.item_line({"name": {"S": "Nguyễn"}})
