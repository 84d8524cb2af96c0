"""How fast is the backup against a raw scan of the same table, and does its memory stay flat?

For each table size (10k, 100k and 300k students by default) the script fills
a table of a private emulator (moto server on a free port and a temporary
state directory, started here and stopped at the end, so a running ``make up``
is never touched) with realistic students, and measures in the same run:

1. **raw scan** (the baseline): a paginated boto3 Scan of the whole table
   that only counts the items: what reading the table costs, nothing else;
2. **backup**: ``lambdas.backup.upload.backup_table`` with the function's own
   clients (``lambdas.common.aws``: its session, connect timeout and retries;
   a read timeout for the emulator, see
   ``bench.backup_measurement.function_clients``) pointed at the
   emulator: from the Scan pages to its objects in S3. If it takes a
   ``segments`` argument (a parallel Scan, ``lambdas.backup.scan``), it is run
   with ``segments=1``, with each of ``--segments`` and with the count the
   function uses (``backup_table``'s default), which is the one held to the
   goals; the others are noted with what they would change;
3. otherwise **scan_items** with each of ``--segments``: the parallel Scan
   alone, to show what segments would gain when reading.

Each measurement runs ``--rounds`` times (every other round in reverse order,
so a drift in the machine's load falls on all alike), and its fastest round
counts. It prints one row per measurement (seconds, items per second, ratio to
the raw scan, the measuring process's CPU time, peak memory), then a verdict
per goal:

- time: the backup takes at most ``RATIO_GOAL`` (1.5) times the raw scan, at
  every size;
- memory: the backup's peak memory is flat across sizes (the largest table's
  growth at most ``FLAT_GOAL`` times the smallest's, while the data grows 30
  times) and within the function's 128 MB.

How memory is measured. Every measurement runs in a fresh child process
(``bench.backup_measurement`` in a new interpreter, not a fork of this one)
that holds nothing but what the function holds: Python,
boto3, the function's modules and clients. The emulator runs in a process of
its own, so unlike an in-process moto (``bench/backup_memory.py``, which has to
subtract moto's copies with tracemalloc) nothing of the emulated side is
counted. Once its clients have made a call each, the child lowers its peak
resident set size (``VmHWM``) to the current one (``5`` into
``/proc/self/clear_refs``) and notes its RSS; after the measurement it reads the
peak. RSS, because it is what the Lambda service holds against the memory
size, and it sees every allocation, C ones included (TLS buffers, the JSON
decoder's, the upload buffers); tracemalloc would miss those, and slows a run
several times over. The peak is held to 128 MB; the growth over the ready
process, what the table size could change, is held to flatness.
(``getrusage``'s ``ru_maxrss`` would not do: Linux carries the parent's peak
across ``exec`` into a spawned child.)

Timing. Each measurement is timed from its first request to its last
response, with clients already connected. The emulator is one Python process:
its Scan of a page is CPU-bound, and slower for larger tables (moto serialises
every item it returns, and sorts the whole table for each page), so absolute
numbers are moto's, not DynamoDB's. The ratios between measurements of the
same table are the result. Timings never fail the run: exit 0 with the
verdicts, 1 when the emulator cannot start or a measurement reads or writes a
wrong number of items.

Projected AWS duration and cost. Lambda gives a function CPU in proportion
to its memory: one full vCPU at 1,769 MB, M/1769 of one below. Each backup
row is projected to the memory sizes ``PROJECTED_MEMORY_MB`` (128 to 1,024
MB): its CPU seconds stretched by 1769/M, its waiting (wall less CPU seconds)
kept as measured, ``cpu_s * max(1, 1769/M) + (wall_s - cpu_s)``, and priced
at Lambda's x86 us-east-1 rates (GB-seconds plus the request). The waiting
is the emulator's Scan, slower than DynamoDB's, so the projection is an upper
bound. A verdict names the memory size of lowest cost per run whose projected
duration at the largest table is within half the function's timeout (from
``modules/functions/catalog.py``: 900 s, so 450 s) and whose measured peak RSS fits:
PASS when it is the function's configured size (also from that table).

The children import a copy of ``lambdas/`` taken at the start (first on their
``PYTHONPATH``): a run lasts up to an hour, and a checkout edited meanwhile
must not give rows measured on different code.

The parts: ``bench.local_system`` starts and stops the private emulator;
``bench.backup_students`` makes the students and fills the tables;
``bench.backup_measurement`` is one measurement, what a child runs;
``bench.backup_report`` the table, the verdicts and the projection to AWS;
this module runs the sizes and the rounds.

Run from the project root after ``make setup``: ``.venv/bin/python -m bench.backup``
(about 50 minutes on two cores); ``--quick`` for a smoke run (1,000 students, one
segment count, one round).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bench.backup_measurement import (
    BUCKET,
    Emulator,
    Job,
    Measured,
    backup_takes_segments,
    fingerprint,
    function_segments,
    job_to_json,
    label,
    measured_from_json,
)
from bench.backup_report import SizeResult, projection, report, verdicts
from bench.backup_students import SEED_THREADS, create_table, item_size, json_size, seed, student
from bench.footer import run_facts
from bench.local_system import BenchError, PrivateEmulator
from config.settings import EMULATOR_CREDENTIALS, PROJECT_ROOT, AppConfig

DEFAULT_SIZES: Final = (10_000, 100_000, 300_000)
QUICK_SIZES: Final = (1_000,)
DEFAULT_SEGMENTS: Final = (2, 4)
QUICK_SEGMENTS: Final = (2,)
#: Each measurement is run this many times, and its fastest run counts: the machines are shared.
DEFAULT_ROUNDS: Final = 2
TABLE_PREFIX: Final = "bench-students-"


@dataclass(frozen=True)
class FrozenCode:
    """The copy of ``lambdas/`` the children import: the directory that holds it, and its fingerprint."""

    directory: Path
    fingerprint: str


def freeze_code(base: Path) -> FrozenCode:
    """A copy of ``lambdas/`` taken now, for every child to import: where it is, and its fingerprint.

    A run lasts up to an hour, each child imports the function code afresh, and
    the checkout may be edited meanwhile: rows measured on different code would
    be compared as if they were not. The copy is what a deployment zips, taken
    once; ``in_child`` puts it first on every child's ``PYTHONPATH``.
    """
    copy = base / "code"
    shutil.copytree(PROJECT_ROOT / "lambdas", copy / "lambdas", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return FrozenCode(copy, fingerprint(copy / "lambdas"))


def child_settings(config: AppConfig) -> Emulator:
    """Where the children find the emulator of ``config``: its endpoint and CA, and its (non-secret) credentials."""
    return Emulator(
        endpoint=config.emulator_endpoint,
        ca_bundle=str(config.emulator_ca_bundle),
        region=config.region,
        credentials=tuple(EMULATOR_CREDENTIALS.items()),
    )


#: A child's interpreter; ``-P`` keeps the working directory (a checkout, its own ``lambdas/``) off ``sys.path``.
CHILD_PYTHON: Final = (sys.executable, "-P")


def child_env(code: Path) -> dict[str, str]:
    """This process's environment, with the copy of ``lambdas/`` in ``code`` and then the project on ``PYTHONPATH``."""
    inherited = os.environ.get("PYTHONPATH")
    python_path = [str(code), str(PROJECT_ROOT), *([inherited] if inherited else [])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(python_path)}


def in_child(job: Job, code: Path) -> Measured:
    """``measure(job)`` in a fresh interpreter (nothing of this process's heap) that imports the copy in ``code``."""
    with tempfile.TemporaryDirectory(prefix="bench-backup-child-") as scratch:
        answer = Path(scratch) / "answer.json"
        result = subprocess.run(
            [*CHILD_PYTHON, "-m", "bench.backup_measurement", str(answer)],
            input=job_to_json(job),
            text=True,
            env=child_env(code),
            check=False,
        )
        outcome: dict[str, Any] = (
            json.loads(answer.read_text(encoding="utf-8"))
            if answer.exists()
            else {"error": f"the child exited with status {result.returncode}"}
        )
    if "error" in outcome:
        raise BenchError(f"{label(job.kind, job.segments)} failed: {outcome['error']}")
    return measured_from_json(outcome["measured"])


# --- one table size ------------------------------------------------------------------


def jobs_for(table: str, emulator: Emulator, segment_choices: Sequence[int]) -> list[Job]:
    """The baseline and the backup; then the backup with each segment count if it takes one, else the scan alone."""
    jobs = [Job("raw scan", table, 1, emulator)]
    if not backup_takes_segments():
        jobs.append(Job("backup", table, 1, emulator))
        return jobs + [Job("scan_items", table, segments, emulator) for segments in segment_choices]
    counts = sorted({1, function_segments(), *segment_choices})
    return jobs + [Job("backup", table, segments, emulator) for segments in counts]


def fastest(rounds: Sequence[Measured]) -> Measured:
    """A measurement over its rounds: the fastest round's time, the highest peak and growth of any."""
    best = min(rounds, key=lambda row: row.seconds)
    peak = max(rounds, key=lambda row: row.peak_kib - row.ready_kib)
    return Measured(best.kind, best.segments, best.items, best.seconds, best.cpu_seconds, peak.ready_kib, peak.peak_kib)


def measure_size(
    emulator: PrivateEmulator, count: int, segment_choices: Sequence[int], rounds: int, code: FrozenCode
) -> SizeResult:
    dynamodb, s3 = emulator.client("dynamodb"), emulator.client("s3")
    table = f"{TABLE_PREFIX}{count}"
    create_table(dynamodb, table)
    try:
        print(f"{count:,} students: seeding {table} ({SEED_THREADS} threads of BatchWriteItem) ...", flush=True)
        seed_seconds = seed(dynamodb, table, count)
        print(f"  seeded in {seed_seconds:.0f} s ({count / seed_seconds:,.0f} items/s)", flush=True)
        jobs = jobs_for(table, child_settings(emulator.config), segment_choices)
        measured: dict[Job, list[Measured]] = {job: [] for job in jobs}
        for round_ in range(rounds):
            # Every other round backwards: a drift in the machine's load falls on every measurement alike.
            for job in jobs if round_ % 2 == 0 else reversed(jobs):
                print(f"  round {round_ + 1}/{rounds}: {label(job.kind, job.segments)} ...", flush=True)
                row = in_child(job, code.directory)
                for key in row.objects:
                    s3.delete_object(Bucket=BUCKET, Key=key)
                if row.items != count:
                    raise BenchError(f"{row.label} read {row.items:,} items of {count:,}")
                if row.code != code.fingerprint:
                    raise BenchError(f"{row.label} measured other code than the copy of lambdas/ taken at the start")
                print(f"    {row.seconds:.1f} s, {row.rate:,.0f} items/s, peak RSS {row.peak_mib:.1f} MiB", flush=True)
                measured[job].append(row)
    finally:
        # moto keeps every table in memory: release it before the next, larger one.
        dynamodb.delete_table(TableName=table)
    rows = [fastest(measured[job]) for job in jobs]
    sample = [student(number) for number in range(0, count, max(1, count // 1000))]
    return SizeResult(
        students=count,
        item_bytes=sum(map(item_size, sample)) / len(sample),
        json_bytes=sum(map(json_size, sample)) / len(sample),
        seed_seconds=seed_seconds,
        rows=tuple(rows),
    )


def parse_counts(text: str) -> list[int]:
    try:
        values = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive numbers, got {text!r}")
    return values


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes", type=parse_counts, help="students per table, comma-separated (default 10000,100000,300000)"
    )
    parser.add_argument("--segments", type=parse_counts, help="parallel segment counts to try (default 2,4)")
    parser.add_argument("--rounds", type=int, help="runs of every measurement; the fastest counts (default 2)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 students, segments 2, one round")
    args = parser.parse_args(argv)
    sizes = sorted(args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES))
    segment_choices = args.segments or (QUICK_SEGMENTS if args.quick else DEFAULT_SEGMENTS)
    rounds = args.rounds or (1 if args.quick else DEFAULT_ROUNDS)
    if 1 in segment_choices:
        parser.error("--segments: 1 is always measured; give the counts above it")
    if rounds < 1:
        parser.error("--rounds must be at least 1")

    base = Path(tempfile.mkdtemp(prefix="bench-backup-"))
    emulator = PrivateEmulator(base)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    print(f"starting a private emulator at {emulator.config.emulator_endpoint} ...", flush=True)
    results: list[SizeResult] = []
    failure: BenchError | None = None
    try:
        emulator.start()
        emulator.client("s3").create_bucket(Bucket=BUCKET)
        print(
            "backup_table takes segments: "
            + (f"yes, the function scans with {function_segments()}" if backup_takes_segments() else "no"),
            flush=True,
        )
        code = freeze_code(base)
        print(f"function code: a copy of lambdas/ taken now (sha256 {code.fingerprint[:12]})", flush=True)
        for count in sizes:
            results.append(measure_size(emulator, count, segment_choices, rounds, code))
    except BenchError as error:
        failure = error
    finally:
        emulator.stop()
        shutil.rmtree(base, ignore_errors=True)
    if results:
        # Even when a larger size failed: an hour of measurements is not thrown away.
        report(results)
        print()
        for line in projection(results):
            print(line)
    if failure is not None:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    print()
    for line in verdicts(results, function_segments()):
        print(line)
    print(run_facts(started, load_before))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
