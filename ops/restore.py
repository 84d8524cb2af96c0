"""Load a backup into a DynamoDB table: ``make restore BACKUP=<key>|latest [TABLE=...] [OVERWRITE=1]``.

    restore.py --backup backup-20250706-000005-0a1b2c3d   # or a key of any of its objects, or "latest"
               [--table NAME] [--bucket NAME] [--overwrite]

The backup is what ``BackupDynamoDBAndSendEmail`` wrote for one run: its
manifest (``.manifest.json``) and its items as DynamoDB JSON lines
(``.dynamodb.json``, the format of DynamoDB's own export). Steps:

1. read the manifest, and refuse a backup it does not describe completely;
2. download the items to a temporary file, checking their size, SHA-256 and
   item count against the manifest: nothing is written unless all three match;
3. check the table exists and every item carries its key attributes;
4. write, with a progress bar: by default each item with a conditional
   ``PutItem`` (``attribute_not_exists`` of the partition key), so an item
   already in the table is kept, never overwritten; with ``--overwrite``,
   ``BatchWriteItem`` in batches of 25, retrying unprocessed items with
   back-off until they are written;
5. report what it did: written, kept (already present), failed.

The environment is the one ``ENV`` chooses: without it, ``local`` (the emulator
that ``make up`` runs); an AWS environment (``ENV=production``, ...) with your
credentials, in the configured region. Bucket and table default to the
environment's (``config.toml``). Exit status 0 when every item
of the backup is in the table (written or kept), 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from config.settings import AppConfig, ConfigError, load_config
from lambdas.backup import upload
from lambdas.common import dynamodb_json, names
from local.deploy import emulator_client

#: BatchWriteItem's limit.
BATCH_SIZE: Final = 25
#: Parallel writers: enough to keep an on-demand table busy from one laptop.
WRITERS: Final = 8
#: Rounds of retrying unprocessed items before giving up on them.
UNPROCESSED_ROUNDS: Final = 10
#: Botocore's own retries of throttled or failed requests, in its standard mode.
CLIENT_RETRIES: Final = Config(retries={"mode": "standard", "max_attempts": 10})


class RestoreError(RuntimeError):
    """The restore cannot go on; the message says why and what to do."""


@dataclass
class Tally:
    """What happened to the backup's items, shared by the writer threads."""

    total: int
    written: int = 0
    kept: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, *, written: int = 0, kept: int = 0, failed: int = 0, error: str | None = None) -> None:
        with self._lock:
            self.written += written
            self.kept += kept
            self.failed += failed
            if error and len(self.errors) < 5:
                self.errors.append(error)

    @property
    def done(self) -> int:
        return self.written + self.kept + self.failed


@dataclass(frozen=True)
class Backup:
    """One run's manifest and where its items are."""

    bucket: str
    manifest_key: str
    manifest: dict[str, Any]

    @property
    def items_object(self) -> dict[str, Any]:
        [items] = [obj for obj in self.manifest["objects"] if obj.get("role") == "items"]
        return dict(items)

    @property
    def name(self) -> str:
        return self.manifest_key.removeprefix(names.BACKUP_PREFIX).removesuffix(upload.MANIFEST_SUFFIX)


# --- Finding and checking the backup ------------------------------------------------


def manifest_key(s3: Any, bucket: str, name: str) -> str:
    """The manifest of the backup ``name`` names: ``latest``, a run's stem, or any of its keys."""
    if name == "latest":
        manifests = [key for key in _keys(s3, bucket, names.BACKUP_PREFIX) if key.endswith(upload.MANIFEST_SUFFIX)]
        if not manifests:
            raise RestoreError(f"no backup in s3://{bucket}/{names.BACKUP_PREFIX}: run a backup first")
        return max(manifests)  # run ids start with their UTC start time
    stem = name.removeprefix(names.BACKUP_PREFIX)
    for suffix in (upload.MANIFEST_SUFFIX, upload.ITEMS_SUFFIX, upload.CSV_SUFFIX):
        stem = stem.removesuffix(suffix)
    return f"{names.BACKUP_PREFIX}{stem}{upload.MANIFEST_SUFFIX}"


def read_manifest(s3: Any, bucket: str, key: str) -> Backup:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if _code(error) in {"NoSuchKey", "404"}:
            raise RestoreError(
                f"s3://{bucket}/{key} does not exist: name a backup that has a manifest "
                "(`make backups` lists them locally; backups written before manifests existed cannot be restored)"
            ) from None
        raise
    try:
        manifest = json.loads(body)
        valid = (
            manifest["format"] == upload.MANIFEST_FORMAT
            and manifest["formatVersion"] == upload.MANIFEST_VERSION
            and len([obj for obj in manifest["objects"] if obj.get("role") == "items"]) == 1
        )
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise RestoreError(f"s3://{bucket}/{key} is not a backup manifest this command reads")
    return Backup(bucket=bucket, manifest_key=key, manifest=manifest)


def download_items(s3: Any, found: Backup, target: IO[bytes], progress: Callable[[int], None]) -> int:
    """Copy the items object into ``target``, checking it against the manifest; returns the item count."""
    expected = found.items_object
    digest = hashlib.sha256()
    size = lines = 0
    try:
        body = s3.get_object(Bucket=found.bucket, Key=expected["key"])["Body"]
    except ClientError as error:
        raise RestoreError(f"cannot read s3://{found.bucket}/{expected['key']}: {_code(error)}") from None
    for chunk in body.iter_chunks(1024 * 1024):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
        lines += chunk.count(b"\n")
        progress(size)
    target.flush()
    problems = []
    if size != expected["bytes"]:
        problems.append(f"{size:,} bytes where the manifest says {expected['bytes']:,}")
    if digest.hexdigest() != expected["sha256"]:
        problems.append("its SHA-256 differs from the manifest's")
    if lines != expected["itemCount"] or lines != found.manifest["itemCount"]:
        problems.append(f"{lines:,} items where the manifest says {found.manifest['itemCount']:,}")
    if problems:
        raise RestoreError(
            f"s3://{found.bucket}/{expected['key']} is not the backup its manifest describes: "
            + "; ".join(problems)
            + ". Nothing was written."
        )
    return lines


def key_attributes(dynamodb: Any, table: str) -> tuple[str, ...]:
    try:
        schema = dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
    except ClientError as error:
        if _code(error) == "ResourceNotFoundException":
            raise RestoreError(
                f"table {table} does not exist: deploy the system first (`make up` locally, "
                "`make deploy ENV=<name>` on AWS) or name an existing table with TABLE=..."
            ) from None
        raise
    return tuple(element["AttributeName"] for element in sorted(schema, key=lambda e: e["KeyType"] != "HASH"))


def read_items(path: Path, keys: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Each item of the downloaded file, checked to carry the table's key attributes."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                item = dynamodb_json.parse_line(line)
            except dynamodb_json.FormatError as error:
                raise RestoreError(f"item {number} of the backup: {error}. Nothing more was written.") from None
            missing = [key for key in keys if key not in item]
            if missing:
                raise RestoreError(f"item {number} of the backup lacks the table's key {', '.join(missing)}")
            yield item


# --- Writing ----------------------------------------------------------------------------


def put_if_absent(dynamodb: Any, table: str, partition_key: str, item: dict[str, Any], tally: Tally) -> None:
    try:
        dynamodb.put_item(
            TableName=table,
            Item=item,
            ConditionExpression="attribute_not_exists(#key)",
            ExpressionAttributeNames={"#key": partition_key},
        )
    except ClientError as error:
        if _code(error) == "ConditionalCheckFailedException":
            tally.add(kept=1)
        else:
            tally.add(failed=1, error=f"{_describe_key(item, partition_key)}: {_code(error)}")
    except BotoCoreError as error:
        tally.add(failed=1, error=f"{_describe_key(item, partition_key)}: {type(error).__name__}")
    else:
        tally.add(written=1)


def write_batch(
    dynamodb: Any, table: str, batch: list[dict[str, Any]], tally: Tally, *, sleep: Callable[[float], None]
) -> None:
    """Write ``batch`` with BatchWriteItem, retrying what DynamoDB left unprocessed, with jittered back-off."""
    requests = [{"PutRequest": {"Item": item}} for item in batch]
    for attempt in range(UNPROCESSED_ROUNDS):
        try:
            response = dynamodb.batch_write_item(RequestItems={table: requests})
        except (ClientError, BotoCoreError) as error:
            code = _code(error) if isinstance(error, ClientError) else type(error).__name__
            tally.add(failed=len(requests), error=f"a batch of {len(requests)}: {code}")
            return
        unprocessed = response.get("UnprocessedItems", {}).get(table, [])
        tally.add(written=len(requests) - len(unprocessed))
        if not unprocessed:
            return
        requests = unprocessed
        sleep(min(5.0, 0.05 * 2**attempt) * (0.5 + random.random()))  # noqa: S311 - jitter, not a secret
    tally.add(failed=len(requests), error=f"{len(requests)} items still unprocessed after {UNPROCESSED_ROUNDS} rounds")


def restore(
    *,
    s3: Any,
    dynamodb: Any,
    bucket: str,
    name: str,
    table: str,
    overwrite: bool = False,
    out: IO[str] = sys.stderr,
    sleep: Callable[[float], None] = time.sleep,
) -> Tally:
    """Load the backup ``name`` from ``bucket`` into ``table``; returns the tally (see the module docstring)."""
    found = read_manifest(s3, bucket, manifest_key(s3, bucket, name))
    keys = key_attributes(dynamodb, table)
    total = int(found.manifest["itemCount"])
    print(
        f"==> Backup {found.name}: {total:,} items of table {found.manifest['table']}, "
        f"started {found.manifest['startedAt']}",
        file=out,
    )
    with tempfile.TemporaryDirectory(prefix="restore-") as scratch:
        path = Path(scratch) / "items.json"
        with path.open("wb") as target:
            bar = ProgressBar("download", found.items_object["bytes"], out, unit="bytes")
            download_items(s3, found, target, bar.update)
            bar.finish()
        how = "overwriting items with the same key" if overwrite else "keeping items already in the table"
        print(f"==> Checked against the manifest; writing into {table} ({how})", file=out)
        tally = Tally(total=total)
        bar = ProgressBar("restore", total, out, unit="items")
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            pending: list[Any] = []
            if overwrite:
                for batch in _batches(read_items(path, keys), BATCH_SIZE):
                    pending.append(pool.submit(write_batch, dynamodb, table, batch, tally, sleep=sleep))
                    _drain(pending, tally, bar)
            else:
                for item in read_items(path, keys):
                    pending.append(pool.submit(put_if_absent, dynamodb, table, keys[0], item, tally))
                    _drain(pending, tally, bar)
            for future in pending:
                future.result()
            bar.update(tally.done)
        bar.finish()
    return tally


def _drain(pending: list[Any], tally: Tally, bar: ProgressBar) -> None:
    # Bounded queue of submitted work: the file is read as fast as it is written, not into memory.
    while len(pending) >= WRITERS * 4:
        pending.pop(0).result()
    bar.update(tally.done)


def _batches(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class ProgressBar:
    """``[#####.....]  1,234/5,000 items  810/s`` on a terminal (redrawn at most 10 times a second); lines otherwise."""

    WIDTH: Final = 30

    def __init__(self, label: str, total: int, out: IO[str], *, unit: str) -> None:
        self._label, self._total, self._out, self._unit = label, max(total, 0), out, unit
        self._tty = out.isatty()
        self._started = time.monotonic()
        self._drawn = 0.0
        self._next_step = 0.1
        self._value = 0

    def update(self, value: int) -> None:
        self._value = value
        now = time.monotonic()
        if self._tty:
            if now - self._drawn >= 0.1:
                self._drawn = now
                self._out.write("\r" + self._line(now))
                self._out.flush()
        elif self._total and value / self._total >= self._next_step:
            # Without a terminal (CI, a log file): a line at every tenth.
            self._next_step = int(value / self._total * 10) / 10 + 0.1
            print(self._line(now), file=self._out)

    def finish(self) -> None:
        line = self._line(time.monotonic())
        self._out.write(("\r" + line + "\n") if self._tty else (line + "\n"))
        self._out.flush()

    def _line(self, now: float) -> str:
        fraction = self._value / self._total if self._total else 1.0
        filled = int(self.WIDTH * min(fraction, 1.0))
        rate = self._value / max(now - self._started, 1e-6)
        return (
            f"    {self._label:<8} [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
            f"{self._value:,}/{self._total:,} {self._unit}  {rate:,.0f}/s"
        )


# --- The command ---------------------------------------------------------------------------


def clients(config: AppConfig) -> tuple[Any, Any]:
    """S3 and DynamoDB clients of the target: the emulator's, or the account's from your credentials."""
    if config.is_local:
        return emulator_client("s3", config), emulator_client("dynamodb", config)
    session = boto3.session.Session(region_name=config.region)
    return session.client("s3", config=CLIENT_RETRIES), session.client("dynamodb", config=CLIENT_RETRIES)


def report(tally: Tally, *, table: str, name: str, seconds: float, overwrite: bool) -> str:
    lines = [
        f"==> Restored backup {name} into {table} in {seconds:.1f} s:",
        f"    {tally.written:,} written" + (" (any item with the same key replaced)" if overwrite else ""),
    ]
    if not overwrite:
        lines.append(f"    {tally.kept:,} already in the table, kept as they are (OVERWRITE=1 replaces them)")
    lines.append(f"    {tally.failed:,} failed")
    lines += [f"      {error}" for error in tally.errors]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backup", required=True, help="'latest', a run's name (backup-<run id>) or any of its keys")
    parser.add_argument("--table", help="the table to load into (default: the configured student table)")
    parser.add_argument("--bucket", help="the backup bucket (default: the configured one)")
    parser.add_argument("--overwrite", action="store_true", help="replace items that already exist")
    args = parser.parse_args(argv)
    if not args.backup.strip():
        parser.error("name a backup: make restore BACKUP=latest, or BACKUP=backup-<run id>")
    try:
        config = load_config()
        s3, dynamodb = clients(config)
        table = args.table or config.table_name
        started = time.monotonic()
        tally = restore(
            s3=s3,
            dynamodb=dynamodb,
            bucket=args.bucket or config.backup_bucket,
            name=args.backup.strip(),
            table=table,
            overwrite=args.overwrite,
        )
    except (RestoreError, ConfigError) as error:
        print(f"make restore: {error}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as error:
        print(f"make restore: AWS refused a request: {error}", file=sys.stderr)
        return 1
    print(report(tally, table=table, name=args.backup, seconds=time.monotonic() - started, overwrite=args.overwrite))
    return 0 if tally.failed == 0 and tally.done == tally.total else 1


def _keys(s3: Any, bucket: str, prefix: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            yield obj["Key"]


def _describe_key(item: dict[str, Any], partition_key: str) -> str:
    value = next(iter(item[partition_key].values()))
    return f"item {str(value)[:40]!r}"


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


if __name__ == "__main__":
    sys.exit(main())
