"""One measurement of ``bench.backup``, in a child process of its own: ``python -P -m bench.backup_measurement``.

The child holds what the function holds (Python, boto3, the function's
modules and its two clients) and nothing else, because its memory is the
result: this module imports only what the function itself imports, and the
parent (``bench.backup``) runs it in a fresh interpreter for every
measurement. The parent writes the ``Job`` as JSON to the child's standard
input; the child writes its ``Measured``, or its error, as JSON into the file
named by its one argument. Its standard output and error are the parent's: a
log line of the function's shows in the benchmark's output.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import inspect
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import lambdas

# The handler module is the one Lambda loads, so a child holds all of the function's code
# (``upload.backup_table`` alone would leave some of it out).
import lambdas.backup.handler
from lambdas.backup import upload
from lambdas.backup.scan import scan_items
from lambdas.common import aws
from modules.functions.catalog import BACKUP, spec

BUCKET: Final = "bench-backups"
#: The measured clients' read timeout: see ``function_clients``.
EMULATOR_READ_TIMEOUT_S: Final = 600


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
    raise RuntimeError(f"/proc/self/status has no {field}")


def fingerprint(package: Path) -> str:
    """SHA-256 of the Python files of ``package``, names and contents."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def code_fingerprint() -> str:
    """The fingerprint of the function code this process imported (the ``lambdas`` package)."""
    return fingerprint(Path(lambdas.__file__).parent)


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


def job_to_json(job: Job) -> str:
    """``job`` as the child reads it from its standard input."""
    return json.dumps(dataclasses.asdict(job))


def job_from_json(text: str) -> Job:
    """The job ``job_to_json`` wrote: the JSON lists back to tuples."""
    fields = json.loads(text)
    emulator = fields.pop("emulator")
    credentials = tuple((name, value) for name, value in emulator.pop("credentials"))
    return Job(**fields, emulator=Emulator(**emulator, credentials=credentials))


def measured_from_json(fields: dict[str, Any]) -> Measured:
    """A child's ``Measured`` as it wrote it."""
    return Measured(**{**fields, "objects": tuple(fields["objects"])})


def main(answer: Path) -> int:
    """The child: the job from standard input; its ``Measured``, or what went wrong, as JSON into ``answer``."""
    job = job_from_json(sys.stdin.read())
    try:
        outcome: dict[str, Any] = {"measured": dataclasses.asdict(measure(job))}
    except Exception as error:  # the parent reports it and stops the run
        outcome = {"error": f"{type(error).__name__}: {error}"}
    answer.write_text(json.dumps(outcome), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
