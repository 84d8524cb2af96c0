"""How fast is the backup against a raw scan of the same table, and does its memory stay flat?

For each table size (10k, 100k and 300k students by default) the script fills
a table of a private emulator (moto server on a free port and a temporary
state directory, started here and stopped at the end, so a running ``make up``
is never touched) with realistic students, and measures in the same run:

1. **raw scan** (the baseline): a paginated boto3 Scan of the whole table
   that only counts the items: what reading the table costs, nothing else;
2. **backup**: ``lambdas.backup.upload.backup_table`` with the function's own
   clients (``lambdas.common.aws``: its session, connect timeout and retries;
   a read timeout for the emulator, see ``function_clients``) pointed at the
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
(spawned, not forked) that holds nothing but what the function holds: Python,
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

The children import a copy of ``lambdas/`` taken at the start: a run lasts up
to an hour, and a checkout edited meanwhile must not give rows measured on
different code.

Run from the project root after ``make setup``: ``.venv/bin/python -m bench.backup``
(about 50 minutes on two cores); ``--quick`` for a smoke run (1,000 students, one
segment count, one round).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gc
import hashlib
import inspect
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Only what the function itself imports: every measurement runs in a child
# process that imports this module, and its memory is the result. The handler
# module is the one Lambda loads, so a child holds all of the function's code
# (``upload.backup_table`` alone would leave some of it out); it binds ``lambdas``.
import lambdas.backup.handler  # noqa: E402
from bench.footer import run_facts  # noqa: E402 - the project root is on sys.path by now
from lambdas.backup import upload  # noqa: E402
from lambdas.backup.scan import scan_items  # noqa: E402
from lambdas.common import aws, encoding, names  # noqa: E402
from modules.functions.catalog import BACKUP, spec  # noqa: E402

DEFAULT_SIZES: Final = (10_000, 100_000, 300_000)
QUICK_SIZES: Final = (1_000,)
DEFAULT_SEGMENTS: Final = (2, 4)
QUICK_SEGMENTS: Final = (2,)
#: Each measurement is run this many times, and its fastest run counts: the machines are shared.
DEFAULT_ROUNDS: Final = 2
#: The backup may take at most this many times the raw scan of the same table.
RATIO_GOAL: Final = 1.5
#: The largest table's memory growth may be at most this many times the smallest's.
FLAT_GOAL: Final = 2.0
#: The function's memory size, MiB (Lambda's "MB" are MiB).
MEMORY_LIMIT_MIB: Final = spec(BACKUP).memory_mb
#: The function's timeout, seconds; a projected backup must take at most ``TIMEOUT_SHARE`` of it.
TIMEOUT_S: Final = spec(BACKUP).timeout_seconds
TIMEOUT_SHARE: Final = 0.5
#: Lambda allocates CPU in proportion to memory: one full vCPU at 1,769 MB (AWS Lambda developer guide,
#: "Configure Lambda function memory").
FULL_VCPU_MB: Final = 1769
#: The memory sizes the backup is projected to, MB.
PROJECTED_MEMORY_MB: Final = (128, 256, 512, 1024)
#: AWS Lambda pricing page (https://aws.amazon.com/lambda/pricing/), x86, us-east-1: duration per
#: GB-second (first pricing tier) and requests per million. Free tier not counted.
PRICE_PER_GB_SECOND_USD: Final = 0.0000166667
PRICE_PER_MILLION_REQUESTS_USD: Final = 0.20
TABLE_PREFIX: Final = "bench-students-"
BUCKET: Final = "bench-backups"
#: BatchWriteItem's limit, and the requests in flight while seeding.
BATCH: Final = 25
SEED_THREADS: Final = 6
#: Seconds between two progress lines while seeding.
PROGRESS_EVERY_S: Final = 5.0
#: The measured clients' read timeout: see ``function_clients``.
EMULATOR_READ_TIMEOUT_S: Final = 600

FAMILY: Final = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
    "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trương", "Lương", "Mai",
)  # fmt: skip
MIDDLE: Final = (
    "Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu", "Quốc", "Hải", "Thanh", "Hữu",
    "Quang", "Hoài", "Xuân", "Bảo", "Gia", "Khánh", "Thùy", "Phương", "Anh", "Tuấn",
)  # fmt: skip
GIVEN: Final = (
    "An", "Anh", "Bảo", "Bình", "Châu", "Chi", "Cường", "Dũng", "Duy", "Giang",
    "Hà", "Hải", "Hạnh", "Hiếu", "Hòa", "Hùng", "Hương", "Huyền", "Khánh", "Khoa",
    "Lan", "Linh", "Lộc", "Long", "Mai", "Minh", "My", "Nam", "Nga", "Ngân",
    "Nhung", "Phúc", "Phương", "Quân", "Quỳnh", "Sơn", "Tâm", "Thảo", "Thắng", "Trang",
    "Trung", "Tú", "Tuấn", "Uyên", "Việt", "Vy", "Xuân", "Yến", "Đạt", "Ánh",
)  # fmt: skip
#: Programmes as Vietnamese universities abbreviate them.
MAJORS: Final = ("CNTT", "KTPM", "HTTT", "KHMT", "ATTT", "MMT", "DTVT", "CKCT", "QTKD", "KTTC", "NNA", "TKDH")


@dataclass(frozen=True)
class Emulator:
    """Where the children find the emulator: its endpoint and CA, and the emulator's (non-secret) credentials."""

    endpoint: str
    ca_bundle: str
    region: str
    credentials: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Job:
    """One measurement, run in a child process."""

    kind: str  # "raw scan", "backup" or "scan_items"
    table: str
    segments: int
    emulator: Emulator


def label(kind: str, segments: int) -> str:
    return kind if kind == "raw scan" else f"{kind}, segments={segments}"


@dataclass(frozen=True)
class Measured:
    kind: str
    segments: int
    items: int
    seconds: float
    #: CPU time of the child (every thread) meanwhile: the function's own work, not the emulator's.
    cpu_seconds: float
    #: The child's RSS once ready (clients made, one call done), and its peak during the measurement; KiB.
    ready_kib: int
    peak_kib: int
    objects: tuple[str, ...] = ()
    #: ``code_fingerprint()`` as the child saw it.
    code: str = ""

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024

    @property
    def growth_mib(self) -> float:
        return (self.peak_kib - self.ready_kib) / 1024

    @property
    def label(self) -> str:
        return label(self.kind, self.segments)


@dataclass(frozen=True)
class SizeResult:
    students: int
    item_bytes: float
    json_bytes: float
    seed_seconds: float
    rows: tuple[Measured, ...]

    @property
    def baseline(self) -> Measured:
        return next(row for row in self.rows if row.kind == "raw scan")

    @property
    def backups(self) -> list[Measured]:
        return [row for row in self.rows if row.kind == "backup"]

    def backup(self, segments: int) -> Measured:
        return next(row for row in self.backups if row.segments == segments)


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why."""


# --- the students ------------------------------------------------------------


def ascii_fold(text: str) -> str:
    """``Nguyễn Đức`` → ``Nguyen Duc``: what an e-mail address can hold."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def student(number: int) -> dict[str, dict[str, str]]:
    """Student ``number`` as a low-level item: the same student for the same number, in any process."""
    pick = random.Random(number)  # noqa: S311 - test data, not secrets
    family, middle, given = pick.choice(FAMILY), pick.sample(MIDDLE, pick.choice((1, 1, 2))), pick.choice(GIVEN)
    name = " ".join((family, *middle, given))
    born = date(2001, 1, 1) + timedelta(days=pick.randrange(6 * 365))
    cohort = born.year + 18 - 1955  # K67 entered in 2022: born in 2004
    surname = ascii_fold("".join((family, *middle))).lower()
    return {
        names.STUDENT_KEY: {"S": f"SV{born.year + 18}{number:07d}"},
        "name": {"S": name},
        "class": {"S": f"{pick.choice(MAJORS)}-K{cohort}-{pick.randint(1, 12):02d}"},
        "birthdate": {"S": born.isoformat()},
        "email": {"S": f"{ascii_fold(given).lower()}.{surname}.{born.year + 18}{number:07d}@sv.example.edu.vn"},
    }


def item_size(item: dict[str, dict[str, str]]) -> int:
    """DynamoDB's item size: attribute names plus string values, UTF-8."""
    return sum(len(key.encode()) + len(value["S"].encode()) for key, value in item.items())


def json_size(item: dict[str, dict[str, str]]) -> int:
    """Bytes of the item as DynamoDB JSON (what a Scan returns and the backup writes), UTF-8."""
    return len(encoding.dumps(item).encode())


# --- the parent: emulator, table, seeding ---------------------------------------


class PrivateEmulator:
    """``local/emulator.sh`` on a free port and a temporary state directory."""

    def __init__(self, base: Path) -> None:
        # Only the parent needs these; the children, which import this module, must not (pytest alone is 5 MiB).
        from config.settings import EMULATOR_CREDENTIALS, load_config  # noqa: PLC0415
        from local.deploy import emulator_client  # noqa: PLC0415
        from tests.conftest import free_port, tool_env  # noqa: PLC0415

        self.env = tool_env(
            STUDENT_MGMT_EMULATOR_PORT=str(free_port()), STUDENT_MGMT_EMULATOR_STATE_DIR=str(base / "emulator")
        )
        self.config = load_config(self.env)
        self._client = emulator_client
        self.settings = Emulator(
            endpoint=self.config.emulator_endpoint,
            ca_bundle=str(self.config.emulator_ca_bundle),
            region=self.config.region,
            credentials=tuple(EMULATOR_CREDENTIALS.items()),
        )

    def start(self) -> None:
        result = subprocess.run(
            [str(ROOT / "local" / "emulator.sh"), "start"], env=self.env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise BenchError(f"the emulator did not start:\n{(result.stdout + result.stderr)[-3000:]}")

    def stop(self) -> None:
        subprocess.run([str(ROOT / "local" / "emulator.sh"), "stop"], env=self.env, capture_output=True, check=False)

    def client(self, service: str) -> Any:
        return self._client(service, self.config)


def create_table(dynamodb: Any, table: str) -> None:
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": names.STUDENT_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": names.STUDENT_KEY, "AttributeType": names.STUDENT_KEY_TYPE}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(TableName=table)


def batches(count: int) -> Iterator[range]:
    for start in range(0, count, BATCH):
        yield range(start, min(start + BATCH, count))


def write_batch(dynamodb: Any, table: str, numbers: range) -> int:
    """One BatchWriteItem of ``numbers``, unprocessed items sent again until none is left."""
    requests: list[Any] = [{"PutRequest": {"Item": student(number)}} for number in numbers]
    for attempt in range(10):
        left = dynamodb.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems", {})
        requests = left.get(table, [])
        if not requests:
            return len(numbers)
        time.sleep(0.05 * 2**attempt)
    raise BenchError(f"{len(requests)} items still unprocessed after 10 BatchWriteItem attempts")


def seed(dynamodb: Any, table: str, count: int) -> float:
    """``count`` students in ``table`` by parallel BatchWriteItem, with a progress line every few seconds."""
    started = time.monotonic()
    written = 0
    shown = started
    with concurrent.futures.ThreadPoolExecutor(SEED_THREADS) as pool:
        # Submitted in windows, so a 300k table does not queue 12,000 futures at once.
        pending: set[concurrent.futures.Future[int]] = set()
        work = batches(count)
        for numbers in work:
            pending.add(pool.submit(write_batch, dynamodb, table, numbers))
            if len(pending) < 4 * SEED_THREADS:
                continue
            done, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            written += sum(future.result() for future in done)
            now = time.monotonic()
            if now - shown >= PROGRESS_EVERY_S:
                shown = now
                rate = written / (now - started)
                left = (count - written) / rate if rate else 0
                print(
                    f"  seeded {written:>9,} of {count:,} ({written / count:4.0%}), {rate:,.0f} items/s, "
                    f"about {left:.0f} s left",
                    flush=True,
                )
        for future in pending:
            written += future.result()
    if written != count:
        raise BenchError(f"seeded {written} items, not {count}")
    return time.monotonic() - started


# --- the children: one measurement each ----------------------------------------------


def backup_takes_segments() -> bool:
    """Whether ``backup_table`` accepts a ``segments`` argument (the parallel Scan)."""
    return "segments" in inspect.signature(upload.backup_table).parameters


def function_segments() -> int:
    """The segments the function scans with: ``backup_table``'s default (1 when it takes none)."""
    parameter = inspect.signature(upload.backup_table).parameters.get("segments")
    return 1 if parameter is None or parameter.default is inspect.Parameter.empty else int(parameter.default)


def function_environment(emulator: Emulator) -> dict[str, str]:
    """The function's environment as the Lambda service sets it, with the emulator as its endpoint."""
    function = spec(BACKUP)
    return {
        "AWS_REGION": emulator.region,
        "AWS_DEFAULT_REGION": emulator.region,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_ENDPOINT_URL": emulator.endpoint,
        "AWS_CA_BUNDLE": emulator.ca_bundle,
        # Nothing from the developer's ~/.aws (profiles, endpoints, retry settings).
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        **dict(emulator.credentials),
    }


def rss_kib(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (the peak) of this process, KiB, from ``/proc/self/status``."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise BenchError(f"/proc/self/status has no {field}")


def fingerprint(package: Path) -> str:
    """SHA-256 of the Python files of ``package``, names and contents."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def code_fingerprint() -> str:
    """The fingerprint of the function code this process imported (the ``lambdas`` package)."""
    return fingerprint(Path(lambdas.__file__).parent)


def freeze_code(base: Path) -> str:
    """Make every child import a copy of ``lambdas/`` taken now; its fingerprint.

    A run lasts up to an hour, each child imports the function code afresh, and
    the checkout may be edited meanwhile: rows measured on different code would
    be compared as if they were not. The copy is what a deployment zips, taken
    once; spawned children get this process's ``sys.path``, copy first.
    """
    copy = base / "code"
    shutil.copytree(ROOT / "lambdas", copy / "lambdas", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    sys.path.insert(0, str(copy))
    return fingerprint(copy / "lambdas")


def reset_peak_rss() -> None:
    """Lower ``VmHWM`` to the current RSS (Linux 4.0+), so the peak read later is the measurement's own."""
    Path("/proc/self/clear_refs").write_text("5", encoding="ascii")


def function_clients() -> tuple[Any, Any]:
    """DynamoDB and S3 clients as the function makes them (``lambdas.common.aws``), but for the read timeout.

    The function reads for at most 30 s, which a DynamoDB page never needs.
    moto needs more: it sorts the whole table for every Scan page, so a page of
    a 300k-item table takes it tens of seconds, longer with two at once, and a
    timed-out page is sent again while moto still works on the first.
    """
    config = aws.Timeouts(connect_s=aws.CONNECT_TIMEOUT_S, read_s=EMULATOR_READ_TIMEOUT_S).client_config()
    session = aws.session()
    return session.client("dynamodb", config=config), session.client("s3", config=config)


def measure(job: Job) -> Measured:
    """In a child process: one measurement, timed from its first request to its last response."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        del os.environ[name]
    os.environ.update(function_environment(job.emulator))
    dynamodb, s3 = function_clients()
    # One call each: connections up, endpoints resolved, TLS contexts loaded, as after a warm start.
    dynamodb.describe_table(TableName=job.table)
    s3.head_bucket(Bucket=BUCKET)
    gc.collect()
    reset_peak_rss()
    ready = rss_kib("VmRSS")
    cpu_started = time.process_time()
    started = time.perf_counter()
    objects: tuple[str, ...] = ()
    if job.kind == "raw scan":
        items = sum(len(page.get("Items", [])) for page in dynamodb.get_paginator("scan").paginate(TableName=job.table))
    elif job.kind == "scan_items":
        items = sum(1 for _ in scan_items(dynamodb, job.table, segments=job.segments))
    else:
        options: dict[str, Any] = {"segments": job.segments} if backup_takes_segments() else {}
        result = upload.backup_table(
            dynamodb=dynamodb, s3=s3, table_name=job.table, bucket=BUCKET, started=datetime.now(UTC), **options
        )
        items = result.items
        objects = tuple(obj.key for obj in result.objects)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    peak = rss_kib("VmHWM")
    return Measured(job.kind, job.segments, items, seconds, cpu_seconds, ready, peak, objects, code_fingerprint())


def in_child(job: Job) -> Measured:
    """``measure(job)`` in a fresh process (spawned, not forked: nothing of the parent's heap)."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        try:
            return pool.submit(measure, job).result()
        except Exception as error:
            raise BenchError(f"{label(job.kind, job.segments)} failed: {type(error).__name__}: {error}") from error


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
    emulator: PrivateEmulator, count: int, segment_choices: Sequence[int], rounds: int, code: str
) -> SizeResult:
    dynamodb, s3 = emulator.client("dynamodb"), emulator.client("s3")
    table = f"{TABLE_PREFIX}{count}"
    create_table(dynamodb, table)
    try:
        print(f"{count:,} students: seeding {table} ({SEED_THREADS} threads of BatchWriteItem) ...", flush=True)
        seed_seconds = seed(dynamodb, table, count)
        print(f"  seeded in {seed_seconds:.0f} s ({count / seed_seconds:,.0f} items/s)", flush=True)
        jobs = jobs_for(table, emulator.settings, segment_choices)
        measured: dict[Job, list[Measured]] = {job: [] for job in jobs}
        for round_ in range(rounds):
            # Every other round backwards: a drift in the machine's load falls on every measurement alike.
            for job in jobs if round_ % 2 == 0 else reversed(jobs):
                print(f"  round {round_ + 1}/{rounds}: {label(job.kind, job.segments)} ...", flush=True)
                row = in_child(job)
                for key in row.objects:
                    s3.delete_object(Bucket=BUCKET, Key=key)
                if row.items != count:
                    raise BenchError(f"{row.label} read {row.items:,} items of {count:,}")
                if row.code != code:
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


# --- the report --------------------------------------------------------------------------


def report(results: Sequence[SizeResult]) -> None:
    header = (
        f"{'students':>9} {'measurement':<24} {'seconds':>8} {'items/s':>9} {'x raw scan':>10} "
        f"{'client CPU s':>12} {'peak RSS MiB':>12} {'growth MiB':>10}"
    )
    print()
    print(header)
    print("-" * len(header))
    for result in results:
        baseline = result.baseline
        for row in result.rows:
            print(
                f"{result.students:>9,} {row.label:<24} {row.seconds:>8.2f} {row.rate:>9,.0f} "
                f"{row.seconds / baseline.seconds:>9.2f}x {row.cpu_seconds:>12.2f} {row.peak_mib:>12.1f}"
                f" {row.growth_mib:>10.1f}"
            )
    sizes = ", ".join(
        f"{r.students:,}: {r.item_bytes:.0f} B/item ({r.json_bytes:.0f} B as DynamoDB JSON)" for r in results
    )
    print(f"\nitem sizes (DynamoDB's measure): {sizes}")
    print("client CPU: the measuring process's own CPU time (every thread); the emulator's is not in it")
    print("growth: peak RSS less the RSS of the ready child (clients made, one call done)")


def verdicts(results: Sequence[SizeResult], function: int) -> list[str]:
    """One line per goal, PASS, FAIL or SKIP, on the backup as the function runs it (``function`` segments).

    Then a note per other segment count measured: what it would change.
    """
    shipped = [(r.students, r.backup(function), r.baseline) for r in results]
    ratios = ", ".join(f"{n:,}: {row.seconds / base.seconds:.2f}x" for n, row, base in shipped)
    worst = max(row.seconds / base.seconds for _, row, base in shipped)
    name = f"the backup as the function runs it (segments={function})"
    lines = [f"{'PASS' if worst <= RATIO_GOAL else 'FAIL'} time: {name} <= {RATIO_GOAL}x the raw scan ({ratios})"]
    first, last = shipped[0][1], shipped[-1][1]
    if len(results) < 2:
        lines.append("SKIP memory flat: needs two table sizes")
    else:
        growth = last.growth_mib / first.growth_mib if first.growth_mib > 0 else float("inf")
        lines.append(
            f"{'PASS' if growth <= FLAT_GOAL else 'FAIL'} memory flat: its growth {first.growth_mib:.1f} ->"
            f" {last.growth_mib:.1f} MiB ({growth:.2f}x, limit {FLAT_GOAL}x) while the table grew"
            f" {results[-1].students / results[0].students:.0f}x"
        )
    peak = max(row.peak_mib for _, row, _ in shipped)
    lines.append(
        f"{'PASS' if peak < MEMORY_LIMIT_MIB else 'FAIL'} memory limit: its peak RSS {peak:.1f} MiB"
        f" (limit {MEMORY_LIMIT_MIB} MiB, the function's memory size)"
    )
    lines.append(memory_choice(results, function))
    others = sorted({row.segments for r in results for row in r.backups} - {function})
    for segments in others:
        rows = [(r.backup(segments), r.baseline) for r in results]
        lines.append(
            f"note: backup, segments={segments}: {min(row.seconds / base.seconds for row, base in rows):.2f}x to"
            f" {max(row.seconds / base.seconds for row, base in rows):.2f}x the raw scan, growth"
            f" {rows[0][0].growth_mib:.1f} -> {rows[-1][0].growth_mib:.1f} MiB,"
            f" peak RSS {max(row.peak_mib for row, _ in rows):.1f} MiB"
        )
    return lines


# --- the projection to AWS -------------------------------------------------------------------


def projected_seconds(wall_s: float, cpu_s: float, memory_mb: int) -> float:
    """A measured run's duration on Lambda at ``memory_mb``: its CPU work stretched, its waiting as measured.

    Below 1,769 MB the function has ``memory_mb / 1769`` of a vCPU, so its CPU
    seconds take ``1769 / memory_mb`` times as long; above, at least one vCPU,
    the single-threaded work runs no faster than measured. The waiting (wall
    less CPU time) is the emulator's Scan here, slower than DynamoDB's: an
    upper bound.
    """
    return cpu_s * max(1.0, FULL_VCPU_MB / memory_mb) + max(0.0, wall_s - cpu_s)


def cost_per_run_usd(seconds: float, memory_mb: int) -> float:
    """What one run of ``seconds`` at ``memory_mb`` costs on Lambda: GB-seconds and the request (x86, us-east-1)."""
    return memory_mb / 1024 * seconds * PRICE_PER_GB_SECOND_USD + PRICE_PER_MILLION_REQUESTS_USD / 1_000_000


def projection(results: Sequence[SizeResult], memory_sizes: Sequence[int] = PROJECTED_MEMORY_MB) -> list[str]:
    """A table: every backup row's projected duration and cost per run at each of ``memory_sizes``."""
    columns = "".join(f" {f'{mb} MB s':>10} {'$/run':>10}" for mb in memory_sizes)
    header = f"{'students':>9} {'measurement':<24}{columns}"
    lines = [
        f"projected on AWS Lambda (x86, us-east-1): CPU seconds x max(1, {FULL_VCPU_MB}/MB) + waiting as measured;",
        "an upper bound: the waiting is the emulator's Scan, slower than DynamoDB's",
        header,
        "-" * len(header),
    ]
    for result in results:
        for row in result.backups:
            cells = ""
            for mb in memory_sizes:
                seconds = projected_seconds(row.seconds, row.cpu_seconds, mb)
                cells += f" {seconds:>10.1f} {cost_per_run_usd(seconds, mb):>10.7f}"
            lines.append(f"{result.students:>9,} {row.label:<24}{cells}")
    return lines


def memory_choice(
    results: Sequence[SizeResult],
    function: int,
    configured_mb: int = MEMORY_LIMIT_MIB,
    memory_sizes: Sequence[int] = PROJECTED_MEMORY_MB,
) -> str:
    """The verdict on the memory size: the lowest-cost one that fits, PASS when it is the function's.

    A size fits when the backup as the function runs it (``function``
    segments), projected to it, takes at most ``TIMEOUT_SHARE`` of the timeout
    at the largest table, and its peak RSS at any size is under it. The costs
    are those of the largest table; a tie goes to the smaller size.
    """
    largest = results[-1]
    row = largest.backup(function)
    peak = max(r.backup(function).peak_mib for r in results)
    limit_s = TIMEOUT_S * TIMEOUT_SHARE
    fitting = []
    for mb in memory_sizes:
        seconds = projected_seconds(row.seconds, row.cpu_seconds, mb)
        if seconds <= limit_s and peak < mb:
            fitting.append((cost_per_run_usd(seconds, mb), mb, seconds))
    sizes = ", ".join(str(mb) for mb in memory_sizes)
    if not fitting:
        return (
            f"FAIL memory size: none of {sizes} MB fits: {largest.students:,} students projected over"
            f" {limit_s:.0f} s (half the {TIMEOUT_S} s timeout) or a peak RSS of {peak:.1f} MiB over the size"
        )
    cost, chosen, seconds = min(fitting)
    reason = (
        f"of {sizes} MB, the lowest cost per run (${cost:.7f} at {largest.students:,} students) among those"
        f" whose projected duration at {largest.students:,} students is within {limit_s:.0f} s, half the"
        f" {TIMEOUT_S} s timeout ({seconds:.0f} s at {chosen} MB), and that hold the peak RSS ({peak:.1f} MiB)"
    )
    if chosen == configured_mb:
        return f"PASS memory size: {chosen} MB, the function's: {reason}"
    return f"FAIL memory size: {chosen} MB, not the function's {configured_mb} MB: {reason}"


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
    print(f"starting a private emulator at {emulator.settings.endpoint} ...", flush=True)
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
        print(f"function code: a copy of lambdas/ taken now (sha256 {code[:12]})", flush=True)
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
