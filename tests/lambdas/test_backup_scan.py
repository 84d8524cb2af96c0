"""``lambdas.backup.scan``: every item exactly once, in one Scan or parallel segments, with memory bounded.

The table holds items of ~40 KB, so moto's 1 MB page limit gives 25 items a
page and a 400-item table takes 16 pages: every segment count from 1 to 8 then
reads more than one page in some segment, and the LastEvaluatedKey loop is
exercised per segment.
"""

from __future__ import annotations

import contextvars
import json
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdas.backup.scan import scan_items
from lambdas.common import aws
from tests.lambdas.scenarios import TABLE, World, inject_error

#: `make check` leaves this module to `make test`: a 16 MB table through moto in each test (the backup's own
#: tests, with small tables, stay in `make check`).
pytestmark = pytest.mark.slow

ITEMS = 400
#: Large enough that a 1 MB page holds at most 25 items (moto enforces DynamoDB's page limit).
NOTES_BYTES = 40_000
#: The fewest pages a whole scan of the table can take.
PAGES = ITEMS * NOTES_BYTES // 1_000_000
#: Items of every attribute type, exactly as the low-level client returns them.
TYPED_ITEM = {
    "studentid": {"S": "SV-TYPED"},
    "name": {"S": "Nguyễn Thị Ánh"},
    "precise": {"N": "12345678901234567890123456789012345678"},
    "small": {"N": "-0.000000000000000000000000000000000001"},
    "photo": {"B": b"\x00\xff\x10binary"},
    "tags": {"SS": ["a", "b;=1+1"]},
    "scores": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b"\x01", b"\x02"]},
    "address": {"M": {"city": {"S": "Hà Nội"}, "zip": {"N": "100000"}}},
    "history": {"L": [{"S": "x"}, {"N": "1"}, {"NULL": True}, {"BOOL": False}]},
    "missing": {"NULL": True},
    "active": {"BOOL": True},
}


def student(number: int) -> dict[str, Any]:
    return {
        "studentid": {"S": f"SV{number:05d}"},
        "name": {"S": f"Trần Đức Lộc {number}"},
        "class": {"S": f"CNTT{number % 7}"},
        # "Ghi chú " is 9 bytes in UTF-8.
        "notes": {"S": "Ghi chú " * (NOTES_BYTES // 9 + 1)},
    }


@pytest.fixture
def table(world: World) -> World:
    world.put_items([student(number) for number in range(ITEMS)])
    return world


def scan_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith(f"scan-{TABLE}-")]


class ScanLog:
    """Every Scan request the functions' client sends: (segment, has ExclusiveStartKey), in order."""

    def __init__(self) -> None:
        self.requests: list[tuple[int | None, bool]] = []
        self._lock = threading.Lock()
        aws.dynamodb().meta.events.register("before-parameter-build.dynamodb.Scan", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.requests.append((params.get("Segment"), "ExclusiveStartKey" in params))


class _Page(list[dict[str, Any]]):
    """A page's items that can be watched for release (plain lists take no weak references)."""


class PageCountingClient:
    """The client, with a count of pages in existence: from a Scan's request until its items are released."""

    def __init__(self, client: Any, seen: contextvars.ContextVar[str] | None = None) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._seen = seen
        self.live = 0
        self.most = 0
        self.contexts: set[str] = set()

    def scan(self, **request: Any) -> dict[str, Any]:
        with self._lock:
            self.live += 1
            self.most = max(self.most, self.live)
            if self._seen is not None:
                self.contexts.add(self._seen.get())
        try:
            page = self._client.scan(**request)
        except BaseException:
            self._released()
            raise
        page["Items"] = _Page(page.get("Items", []))
        weakref.finalize(page["Items"], self._released)
        return page

    def _released(self) -> None:
        with self._lock:
            self.live -= 1


def slowly(items: Iterator[dict[str, Any]]) -> list[str]:
    """A consumer slower than the emulator, so the segment threads run ahead as far as they may."""
    keys = []
    for item in items:
        keys.append(item["studentid"]["S"])
        time.sleep(0.002)
    return keys


@pytest.mark.parametrize("segments", range(1, 9))
def test_every_item_exactly_once_as_the_client_returns_it(table: World, segments: int) -> None:
    table.put_items([TYPED_ITEM])
    log = ScanLog()
    items = list(scan_items(aws.dynamodb(), TABLE, segments=segments))
    keys = [item["studentid"]["S"] for item in items]
    assert len(keys) == len(set(keys)) == ITEMS + 1
    by_key = {item["studentid"]["S"]: item for item in table.scan_all()}
    assert {item["studentid"]["S"]: item for item in items} == by_key
    # Low-level DynamoDB JSON, every type untouched: not Decimal, set or Binary.
    assert by_key["SV-TYPED"] == TYPED_ITEM
    assert next(item for item in items if item["studentid"]["S"] == "SV-TYPED") == TYPED_ITEM
    # Each segment was asked for, and at least one followed its LastEvaluatedKey.
    expected_segments = {None} if segments == 1 else set(range(segments))
    assert {segment for segment, _ in log.requests} == expected_segments
    assert any(continued for _, continued in log.requests)
    assert len(log.requests) >= PAGES


def test_the_tables_pages_are_small() -> None:
    # What the tests above rely on: 400 items of 40 KB cannot fit in one 1 MB page per segment, even for 8.
    assert len(student(0)["notes"]["S"].encode()) >= NOTES_BYTES
    assert PAGES == 16


@pytest.mark.parametrize("page", ["first", "later"])
def test_failure_in_one_segment_stops_the_others_and_reaches_the_consumer(table: World, page: str) -> None:
    segments = 4
    log = ScanLog()
    failed_at: list[int] = []

    def segment_two(request: Any) -> bool:
        body = json.loads(request.body)
        if body.get("Segment") != 2 or ("ExclusiveStartKey" in body) != (page == "later"):
            return False
        failed_at.append(len(log.requests))
        return True

    inject_error(aws.dynamodb(), "Scan", "AccessDeniedException", status=400, when=segment_two)
    received = 0
    with pytest.raises(ClientError) as raised:
        for _ in scan_items(aws.dynamodb(), TABLE, segments=segments):
            received += 1
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert received < ITEMS
    assert scan_threads() == []
    # Once the failure is known no segment starts another page; at most one request
    # of each other segment may have slipped in while the failing thread reported it.
    assert failed_at
    assert len(log.requests) - failed_at[0] <= segments - 1
    settled = len(log.requests)
    time.sleep(0.2)
    assert len(log.requests) == settled


def test_closing_early_stops_and_joins_the_threads(table: World) -> None:
    log = ScanLog()
    items = scan_items(aws.dynamodb(), TABLE, segments=4)
    first = next(items)
    assert first["studentid"]["S"].startswith("SV")
    assert scan_threads()
    items.close()
    assert scan_threads() == []
    stopped_at = len(log.requests)
    assert stopped_at < PAGES
    time.sleep(0.2)
    assert len(log.requests) == stopped_at


def test_breaking_out_of_the_loop_stops_the_threads(table: World) -> None:
    for count, _ in enumerate(scan_items(aws.dynamodb(), TABLE, segments=3), start=1):
        if count == 30:
            break
    # The abandoned generator is closed when its last reference goes (CPython), which joins its threads.
    assert scan_threads() == []


@pytest.mark.parametrize(
    ("segments", "pages_held", "bound"), [(1, None, 1), (2, None, 2), (8, None, 2), (2, 1, 1), (4, 3, 3), (4, 5, 5)]
)
def test_pages_held_at_once_never_exceed_the_bound(
    table: World, segments: int, pages_held: int | None, bound: int
) -> None:
    client = PageCountingClient(aws.dynamodb())
    options = {} if pages_held is None else {"pages_held": pages_held}
    keys = slowly(scan_items(client, TABLE, segments=segments, **options))  # type: ignore[arg-type]
    assert len(set(keys)) == ITEMS
    # Reached (the slow consumer let the threads run ahead) and never passed.
    assert client.most == bound
    assert client.live == 0


def test_the_page_count_sees_pages_beyond_a_smaller_bound(table: World) -> None:
    # The check above can fail: allowed eight, four segments hold more than five pages at once.
    client = PageCountingClient(aws.dynamodb())
    slowly(scan_items(client, TABLE, segments=4, pages_held=8))  # type: ignore[arg-type]
    assert client.most > 5


def test_segment_threads_run_in_the_consumers_context(table: World) -> None:
    # The time budget and the request id of lambdas.common live in context variables.
    seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="unset")
    seen.set("the invocation's")
    client = PageCountingClient(aws.dynamodb(), seen)
    assert len(list(scan_items(client, TABLE, segments=4))) == ITEMS  # type: ignore[arg-type]
    assert client.contexts == {"the invocation's"}


def test_nothing_is_read_before_the_first_item_is_asked_for(table: World) -> None:
    log = ScanLog()
    items = scan_items(aws.dynamodb(), TABLE, segments=4)
    assert scan_threads() == []
    assert log.requests == []
    items.close()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"segments": 0}, "segments must be between 1 and 1,000,000, not 0"),
        ({"segments": 1_000_001}, "segments must be between 1 and 1,000,000, not 1000001"),
        ({"segments": 2, "pages_held": 0}, "pages_held must be at least 1, not 0"),
    ],
)
def test_bad_arguments_are_refused_at_the_call(world: World, arguments: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        scan_items(aws.dynamodb(), TABLE, **arguments)
