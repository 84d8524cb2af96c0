"""Every item of a table, read by one Scan or by a parallel Scan of several segments.

``scan_items(client, table, segments=N)`` yields each item exactly once, as the
low-level attribute-value map the client returns (``{"studentid": {"S": ...}}``).
Items are not deserialized: a backup written in DynamoDB JSON must keep every
type exactly as stored (numbers of 38 digits, binary, sets), which Python values
would not.

Why segments. One Scan reads one 1 MB page at a time, and the next request waits
until the reader has used the page: the time to fetch and the time to write the
backup add up. With ``segments`` > 1 the table is split into that many segments
(Scan's ``Segment``/``TotalSegments``), each read by a thread of its own, so the
next pages are being fetched while the consumer writes the current one, and
DynamoDB serves the segments in parallel.

Memory bound. A full 1 MB page of student records (~7,800 items of ~130
bytes) takes about 15 MB as Python objects, and twice that while botocore
parses it (the JSON document and the parsed page coexist). The backup function
has 128 MB, about 55 of them taken by Python, boto3 and the clients before the
first page, and its upload buffers need room too (``bench/backup.py`` measures
it). So however large the table and however slow the consumer, at most
``pages_held`` pages exist at once. A page is counted from the moment its
request is sent (its response is read and parsed into memory then) until the
consumer has taken its last item and asks for the next page. A thread that
would exceed the bound waits before sending its request, so the bound also caps
the requests in flight: with more segments than slots, segments take turns.
The default, ``DEFAULT_PAGES_HELD`` (2), is one page being consumed while the
next is fetched: more pages in flight can be parsing at the same moment, each
at twice its size (three reached ~70 MB above the ready process). Pages are
not all: each thread also allocates from a malloc arena of its own, which
keeps memory another thread freed, so more segments cost more even with the
same pages held. ``bench/backup.py`` measured the backup of 300k students at a
peak of 94 MiB with one segment, 112 with two and 125 with four. With
``segments=1`` there are no threads: one page is requested after the previous
one is used up, exactly as a plain paginated scan.

Failure and early stop. An error in any segment stops the others (each finishes
at most the request it has in flight, bounded by the client's timeouts) and is
raised to the consumer as it was raised (a ``ClientError`` stays one). When the
consumer stops early (it breaks out of its loop or closes the generator), the
threads are stopped and joined before ``close()`` returns, so none outlives it.

Context. Each thread runs in a copy of the consumer's ``contextvars`` context,
so per-invocation settings (the time budget of ``lambdas.common.aws``, the
request id in the logs) apply to its requests too. botocore's low-level clients
are safe to share between threads; one beyond the client's connection pool
(``max_pool_connections``, 10 by default) would open connections that are not kept.
"""

from __future__ import annotations

import collections
import contextvars
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import ScanInputTypeDef

#: DynamoDB's limit on ``TotalSegments``.
MAX_SEGMENTS: Final = 1_000_000
#: Pages held at once unless the caller says otherwise: one being consumed
#: while the next is fetched (see the module docstring for why no more).
DEFAULT_PAGES_HELD: Final = 2

#: One item as the low-level client returns it: attribute name to attribute-value map.
Item = dict[str, Any]


def scan_items(
    client: DynamoDBClient,
    table_name: str,
    *,
    segments: int = 1,
    pages_held: int = DEFAULT_PAGES_HELD,
) -> Iterator[Item]:
    """Every item of ``table_name`` exactly once, as low-level DynamoDB JSON.

    ``segments``: how many segments to scan in parallel (1: one Scan, no threads).
    ``pages_held``: how many pages may exist at once with segments (with one,
    always one; see the module docstring).

    Arguments are checked here, before anything is read: the returned iterator
    starts no thread and sends no request until it is first advanced.
    """
    if not 1 <= segments <= MAX_SEGMENTS:
        raise ValueError(f"segments must be between 1 and {MAX_SEGMENTS:,}, not {segments}")
    if pages_held < 1:
        raise ValueError(f"pages_held must be at least 1, not {pages_held}")
    request: ScanInputTypeDef = {"TableName": table_name}
    if segments == 1:
        return _scan_one(client, request)
    return _scan_parallel(client, request, segments=segments, pages_held=pages_held)


def _scan_one(client: DynamoDBClient, request: ScanInputTypeDef) -> Iterator[Item]:
    # A Scan stops at 1 MB; following LastEvaluatedKey until it is absent is
    # what makes a backup complete (the tutorial's code stopped at page one).
    while True:
        page = client.scan(**request)
        last_key = page.get("LastEvaluatedKey")
        yield from page.get("Items", [])
        # Released before the next request, so two pages are never held at once.
        del page
        if not last_key:
            return
        request["ExclusiveStartKey"] = last_key


def _scan_parallel(
    client: DynamoDBClient, request: ScanInputTypeDef, *, segments: int, pages_held: int
) -> Iterator[Item]:
    pages = _PageBuffer(capacity=pages_held, producers=segments)
    threads = [
        threading.Thread(
            target=contextvars.copy_context().run,
            args=(_read_segment, client, {**request, "Segment": segment, "TotalSegments": segments}, pages),
            name=f"scan-{request['TableName']}-{segment}-of-{segments}",
            # Never keeps the interpreter alive; a generator dropped unfinished is closed (and joins them) first.
            daemon=True,
        )
        for segment in range(segments)
    ]
    for thread in threads:
        thread.start()
    try:
        while (items := pages.take()) is not None:
            yield from items
            del items
            pages.release()
    finally:
        pages.stop()
        for thread in threads:
            thread.join()


def _read_segment(client: DynamoDBClient, request: ScanInputTypeDef, pages: _PageBuffer) -> None:
    """One segment, page by page, into ``pages``; whatever it raises goes to the consumer."""
    try:
        while pages.reserve():
            try:
                page = client.scan(**request)
            except BaseException:
                pages.release()
                raise
            last_key = page.get("LastEvaluatedKey")
            pages.put(page.get("Items", []))
            del page
            if not last_key:
                break
            request["ExclusiveStartKey"] = last_key
    except BaseException as error:  # handed to the consumer, which raises it
        pages.finish(error)
    else:
        pages.finish(None)


class _PageBuffer:
    """Pages between the segment threads and the consumer, at most ``capacity`` of them in existence.

    A slot is reserved before a page's request is sent and released once the
    consumer is done with the page, so pages being fetched, waiting and being
    consumed all count. One condition guards the whole state: a thread waiting
    for a slot wakes on a release as well as on a stop.
    """

    def __init__(self, *, capacity: int, producers: int) -> None:
        self._changed = threading.Condition()
        self._free = capacity
        self._ready: collections.deque[list[Item]] = collections.deque()
        self._running = producers
        self._stopped = False
        self._error: BaseException | None = None

    # --- the segment threads ---

    def reserve(self) -> bool:
        """Waits for a free slot and takes it; False once the scan is stopped."""
        with self._changed:
            self._changed.wait_for(lambda: self._free > 0 or self._stopped)
            if self._stopped:
                return False
            self._free -= 1
            return True

    def put(self, items: list[Item]) -> None:
        with self._changed:
            self._ready.append(items)
            self._changed.notify_all()

    def finish(self, error: BaseException | None) -> None:
        """A thread is done: its segment is read (``error`` None) or failed, which stops every other."""
        with self._changed:
            self._running -= 1
            if error is not None and self._error is None:
                self._error = error
                self._stopped = True
            self._changed.notify_all()

    # --- the consumer ---

    def take(self) -> list[Item] | None:
        """The next page's items; None when every segment is read; a segment's error raised as it was."""
        with self._changed:
            self._changed.wait_for(lambda: self._ready or self._error is not None or self._running == 0)
            if self._error is not None:
                raise self._error
            return self._ready.popleft() if self._ready else None

    def release(self) -> None:
        with self._changed:
            self._free += 1
            self._changed.notify_all()

    def stop(self) -> None:
        """No thread sends another request; pages not yet taken are dropped."""
        with self._changed:
            self._stopped = True
            self._ready.clear()
            self._changed.notify_all()
