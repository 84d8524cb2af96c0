"""Does the backup's memory stay flat as the table grows? Measured under moto, in-process.

For each table size the script fills an emulated table with ~4 KB items, runs
the backup function's logic (``backup_table``: Scan pages → JSON and CSV →
two S3 multipart uploads), and measures the peak Python memory the backup
allocated. The smallest size is the baseline: the run passes if no larger
table needed more than ``--max-growth`` times the baseline's peak.

What is measured, and why that way: tracemalloc starts after the table is
filled and the clients exist, so only what happens during the backup is
traced. moto runs in the same process, and two of its habits would count
against the function although no real Lambda holds that memory: it keeps
every uploaded part and object in memory, and it concatenates all parts into
one bytes object when an upload completes. So:

- moto's S3 storage is moved to disk (``MOTO_S3_DEFAULT_KEY_BUFFER_SIZE=1``
  makes each stored part and object spill to a temporary file at once);
- moto's record of every model object it created (``reset_model_data``, kept
  for its dashboard; each Scan adds a copy of every item it returns) is
  dropped, and garbage collected, before each reading;
- instead of tracemalloc's own peak, which would include moto's transient
  concatenation (twice the object size), the script reads the current traced
  total at every API call boundary of the backup's clients: before a request
  reaches moto, and when its response has been parsed while the raw body is
  still held. Those are the moments the function holds the most: a full part
  buffer about to be sent, or a freshly parsed 1 MB Scan page. Between them it
  only formats one item at a time.

The process-wide tracemalloc peak, moto's transients included, is printed
beside it to show why it is not the measure.

Run from the project root: ``.venv/bin/python -m bench.backup_memory``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.core.model_instances import reset_model_data

from lambdas.backup import upload
from lambdas.common import aws
from tests.lambdas.scenarios import BUCKET, TABLE, World, aws_world

#: Item counts; the first is the baseline. With ~4 KB items the baseline
#: (about 6.5 MB) already fills a 5 MiB part: below one part the function
#: buffers everything by design, so a smaller baseline would measure the
#: buffer filling up to its cap rather than growth with the table.
DEFAULT_SIZES = (1_600, 16_000)
#: Approximate bytes per item (student fields plus a ``notes`` attribute).
#: Larger than a real student record because moto's time goes per attribute,
#: not per byte: 4 KB items put 65 MB through the backup in about a minute.
DEFAULT_ITEM_BYTES = 4_000
#: One frame per trace is all the totals need, and deeper tracebacks slow moto down 5-fold.
TRACEBACK_FRAMES = 1
BATCH = 25


@dataclass(frozen=True)
class Measurement:
    items: int
    table_bytes: int
    backup_bytes: int
    peak_bytes: int
    process_peak_bytes: int
    samples: int
    seconds: float


def make_item(number: int, item_bytes: int) -> dict[str, Any]:
    padding = max(0, item_bytes - 110)
    return {
        "studentid": {"S": f"SV{number:07d}"},
        "name": {"S": f"Nguyễn Thị Ánh {number}"},
        "class": {"S": f"CNTT{number % 9}"},
        "birthdate": {"S": "2003-04-05"},
        "email": {"S": f"sv{number}@example.com"},
        "notes": {"S": ("Ghi chu " * (padding // 8 + 1))[:padding]},
    }


def size_of(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values, UTF-8."""
    return sum(len(name.encode()) + len(value["S"].encode()) for name, value in item.items())


def fill(world: World, count: int, item_bytes: int) -> int:
    size = 0
    batch: list[Any] = []
    for number in range(count):
        item = make_item(number, item_bytes)
        size += size_of(item)
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == BATCH:
            world.dynamodb.batch_write_item(RequestItems={TABLE: batch})
            batch = []
    if batch:
        world.dynamodb.batch_write_item(RequestItems={TABLE: batch})
    return size


class Sampler:
    """Reads tracemalloc's current total at every API call boundary of the backup's clients."""

    def __init__(self) -> None:
        self.peak = 0
        self.samples = 0

    def attach(self, client: Any) -> None:
        events = client.meta.events
        # Before moto sees the request: the function's state alone (a full part buffer, say).
        events.register_first("before-send", self.sample)
        # After the response is parsed while its raw body is still held: a page's largest moment.
        events.register("needs-retry", self.sample)

    def sample(self, **_: Any) -> None:
        # moto remembers every model object it ever creates (for its dashboard),
        # including the copy of each item a Scan returns; forget those, then
        # count live memory only, not garbage awaiting a full collection.
        reset_model_data()
        gc.collect()
        self.peak = max(self.peak, tracemalloc.get_traced_memory()[0])
        self.samples += 1


def measure(count: int, item_bytes: int) -> Measurement:
    with aws_world({"MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": "1"}) as world:
        table_bytes = fill(world, count, item_bytes)
        dynamodb, s3 = aws.dynamodb(), aws.s3()
        sampler = Sampler()
        sampler.attach(dynamodb)
        sampler.attach(s3)
        reset_model_data()
        gc.collect()
        # The emulated table (millions of objects) is never garbage: leave it
        # out of the sampler's collections, which then take milliseconds.
        gc.freeze()
        started = time.perf_counter()
        tracemalloc.start(TRACEBACK_FRAMES)
        try:
            result = upload.backup_table(
                dynamodb=dynamodb, s3=s3, table_name=TABLE, bucket=BUCKET, started=datetime.now(UTC)
            )
            sampler.sample()
            process_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            gc.unfreeze()
        seconds = time.perf_counter() - started
        if result.items != count:
            raise AssertionError(f"backup holds {result.items} items, the table {count}")
        stored = sum(world.s3.head_object(Bucket=BUCKET, Key=obj.key)["ContentLength"] for obj in result.objects)
        return Measurement(
            items=count,
            table_bytes=table_bytes,
            backup_bytes=stored,
            peak_bytes=sampler.peak,
            process_peak_bytes=process_peak,
            samples=sampler.samples,
            seconds=seconds,
        )


def report(measurements: Sequence[Measurement], max_growth: float) -> bool:
    baseline = measurements[0]
    header = (
        f"{'items':>8} {'table bytes':>13} {'backup bytes':>13} {'peak bytes':>12} "
        f"{'peak x':>7} {'data x':>7} {'process peak (incl. moto)':>26} {'samples':>8} {'seconds':>8}"
    )
    print(header)
    print("-" * len(header))
    passed = True
    for m in measurements:
        peak_growth = m.peak_bytes / baseline.peak_bytes
        data_growth = m.table_bytes / baseline.table_bytes
        print(
            f"{m.items:>8,} {m.table_bytes:>13,} {m.backup_bytes:>13,} {m.peak_bytes:>12,} "
            f"{peak_growth:>7.2f} {data_growth:>7.1f} {m.process_peak_bytes:>26,} {m.samples:>8} {m.seconds:>8.1f}"
        )
        if m is not baseline and peak_growth >= max_growth:
            passed = False
    print()
    largest = measurements[-1]
    verdict = "PASS" if passed else "FAIL"
    print(
        f"{verdict}: data grew {largest.table_bytes / baseline.table_bytes:.1f}x, "
        f"backup peak memory {largest.peak_bytes / baseline.peak_bytes:.2f}x (limit {max_growth:.1f}x); "
        f"part size {upload.PART_SIZE:,} bytes"
    )
    return passed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="item counts; the first is the baseline"
    )
    parser.add_argument("--item-bytes", type=int, default=DEFAULT_ITEM_BYTES, help="approximate size of one item")
    parser.add_argument("--max-growth", type=float, default=2.0, help="largest allowed peak growth over the baseline")
    args = parser.parse_args(argv)
    measurements = [measure(count, args.item_bytes) for count in args.sizes]
    return 0 if report(measurements, args.max_growth) else 1


if __name__ == "__main__":
    sys.exit(main())
