"""``make destroy``: removes the deployed application stack without losing the students or their backups.

    .venv/bin/python -m ops.destroy --outdir DIR [--backups ask|keep|delete] [--delete-table]
                                        [--skip-final-backup] [--yes]

The README's "Removing a deployment", for either target (``DEPLOY_TARGET``):
``aws`` with your credentials, ``local`` in the running emulator. ``DIR`` is
the synthesized output whose application stack was deployed (``cdktf.out``
for ``aws``, ``.emulator/cdktf.out`` for ``local``; ``make destroy`` passes
the right one). In order:

1. **Looks** at what is deployed: the application stack's Terraform state, the
   table, the backup bucket and its log bucket. A state without resources is a
   deployment already removed: it says so, names what an earlier teardown
   kept, and exits 0 (unless a flag asks to delete those leftovers).
2. **Asks**, before anything changes: whether to delete the backups (a y/N
   question naming the bucket and its number of backup objects; ``--backups``
   answers it for scripts), the table's name when ``--delete-table`` asks to
   delete it, and ``yes`` to go on (``--yes`` answers both for scripts).
3. **Writes a final backup**: invokes the deployed backup function with a
   non-API event, which makes it run a backup inline and return its summary.
   A failed backup stops everything, with nothing changed. Skipped with
   ``--skip-final-backup``, and when the backups are to be deleted (it would be
   deleted with them).
4. **Releases** from the Terraform state what is kept: always the table
   (Terraform's ``prevent_destroy`` and AWS's deletion protection both refuse
   to delete it), and, when the backups are kept, the backup bucket and its log
   bucket with every setting of theirs (versioning, policy, public access
   block, lifecycle, logging): they stay exactly as they are, outside Terraform.
5. **Destroys the rest** with ``terraform destroy``, after emptying the buckets
   it is to delete (every version and delete marker). The objects Terraform
   uploaded into those buckets (the website's) go with that emptying and leave
   the state first: Terraform deletes an object it holds no version id of (one
   uploaded before the bucket's versioning was on) with a plain DeleteObject,
   which in a versioned bucket only adds a delete marker; in the emulator,
   deleting that key once the bucket's versioning is suspended (as destroying
   its versioning resource does) then fails, and the provider retries for an
   hour. Emptying the backup bucket is itself logged into the log bucket, so
   a destroy can stop at a bucket that filled again (``BucketNotEmpty``): it is
   emptied once more and the destroy rerun, ``DESTROY_PASSES`` times at most.
6. **Deletes the table** when asked: deletion protection off, then
   ``DeleteTable``. Backup buckets released by an earlier teardown are deleted
   when ``--backups delete`` says so.
7. **Reports** what was kept and what was removed, and what to know before
   deploying again.

Any failure ends with a non-zero exit and a message saying what failed and
what had been done; a rerun picks up from there.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, Protocol, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from config.settings import APP_STACK, BOOTSTRAP_STACK, AppConfig, ConfigError, load_config
from lambdas.common import names
from local.deploy import (
    PARALLELISM,
    PROGRESS,
    DeployError,
    emulator_client,
    ensure_init,
    exclusive,
    terraform_env,
)
from local.edge.awslambda.functions import Functions
from local.edge.deployment.errors import NotDeployed
from local.edge.deployment.reader import Deployment
from modules.functions import catalog as functions

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

#: What the backup function receives: not an API Gateway event, so it runs a
#: backup inline and returns its summary (or fails) instead of starting a run.
FINAL_BACKUP_EVENT: Final = {"source": "make-destroy"}
#: Destroy passes at most: the log bucket can fill again while the first runs.
DESTROY_PASSES: Final = 3
#: Lambda's longest timeout; the read timeout of the final backup's Invoke covers it.
LAMBDA_MAX_TIMEOUT_SECONDS: Final = 900
#: Beyond the function's timeout: the invocation's start and the answer's way back.
INVOKE_GRACE_SECONDS: Final = 60
#: A long step says it is still going this often.
TICK_SECONDS: Final = 30.0
#: Terraform's lines worth echoing while it destroys.
DESTROY_PROGRESS: Final = re.compile(f"{PROGRESS.pattern}|^Destroy complete!")
#: S3's DeleteObjects limit.
DELETE_BATCH: Final = 1000
#: Kinds of resource the report names one by one.
REPORTED_KINDS: Final = 8
#: Lines of a failing function's log shown with its error.
LOG_TAIL_LINES: Final = 20


class TeardownError(RuntimeError):
    """The teardown cannot go on; the message says why, and what had been done."""


class NothingDeployed(Exception):  # noqa: N818 - reads as what it reports
    """There is no deployment to look at (no state bucket, no emulator); the message says which."""


class BackupChoice(StrEnum):
    """What becomes of the backup bucket and its log bucket."""

    ASK = "ask"
    KEEP = "keep"
    DELETE = "delete"


@dataclass(frozen=True)
class Options:
    """The command line: each field is a question answered in advance, or a step skipped on purpose."""

    backups: BackupChoice = BackupChoice.ASK
    delete_table: bool = False
    final_backup: bool = True
    assume_yes: bool = False

    @property
    def deletes_leftovers(self) -> bool:
        """Whether this run may delete what an earlier teardown kept."""
        return self.delete_table or self.backups is BackupChoice.DELETE


#: How each option is spelled with ``make destroy`` and on this script's command line.
HINTS: Final = {
    "backups": "BACKUPS=delete (--backups delete)",
    "delete_table": "DELETE_TABLE=1 (--delete-table)",
    "skip_final_backup": "SKIP_FINAL_BACKUP=1 (--skip-final-backup)",
    "yes": "YES=1 (--yes)",
}

#: Asks one question; returns the answer, or None when there is no one to answer (end of input).
Ask = Callable[[str], str | None]
#: Prints one line of progress.
Say = Callable[[str], None]


def ask_stdin(question: str) -> str | None:
    try:
        return input(question).strip()
    except EOFError:
        print()
        return None


def say(line: str) -> None:
    print(line, flush=True)


# --- what the Terraform state holds ----------------------------------------------------


@dataclass(frozen=True)
class StateResource:
    address: str
    type: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class State:
    """The managed resources and outputs of ``terraform show -json`` (values hold secrets: never printed)."""

    resources: tuple[StateResource, ...]
    outputs: Mapping[str, Any]

    @classmethod
    def parse(cls, document: Mapping[str, Any]) -> State:
        values = document.get("values") or {}
        found: list[StateResource] = []
        modules = [values.get("root_module") or {}]
        while modules:
            module = modules.pop()
            found += [
                StateResource(item["address"], item["type"], item.get("values") or {})
                for item in module.get("resources", [])
                if item.get("mode") == "managed"
            ]
            modules += module.get("child_modules", [])
        outputs = {name: output.get("value") for name, output in (values.get("outputs") or {}).items()}
        return cls(tuple(found), outputs)

    def bucket(self, name: str) -> StateResource | None:
        return next((r for r in self.resources if r.type == "aws_s3_bucket" and r.values.get("bucket") == name), None)

    def of_bucket(self, name: str) -> tuple[StateResource, ...]:
        """The bucket and every resource that configures it (all name it in their ``bucket`` argument)."""
        return tuple(r for r in self.resources if r.type.startswith("aws_s3_bucket") and r.values.get("bucket") == name)

    def table(self, name: str) -> StateResource | None:
        return next(
            (r for r in self.resources if r.type == "aws_dynamodb_table" and r.values.get("name") == name), None
        )

    def without(self, addresses: Sequence[str]) -> State:
        return State(tuple(r for r in self.resources if r.address not in addresses), self.outputs)


@dataclass(frozen=True)
class Names:
    """What the teardown treats specially: from the state's outputs, or the configuration when there are none."""

    table: str
    backup_bucket: str
    backup_log_bucket: str
    backup_function: str

    @classmethod
    def of(cls, config: AppConfig, state: State) -> Names:
        outputs = state.outputs
        return cls(
            table=str(outputs.get(names.OUTPUT_TABLE_NAME) or config.table_name),
            backup_bucket=str(outputs.get(names.OUTPUT_BACKUP_BUCKET) or config.backup_bucket),
            backup_log_bucket=str(outputs.get(names.OUTPUT_BACKUP_LOG_BUCKET) or config.backup_log_bucket),
            backup_function=functions.spec(functions.BACKUP).name,
        )


# --- the table and the buckets, as AWS has them --------------------------------------------


@dataclass(frozen=True)
class TableInfo:
    name: str
    status: str
    #: DynamoDB's own count: exact in the emulator, refreshed about every six hours in AWS.
    item_count: int
    deletion_protection: bool


@dataclass(frozen=True)
class BucketContents:
    name: str
    #: Objects whose latest version is not a delete marker.
    current: int
    #: Every version and delete marker: what emptying deletes.
    versions: int
    #: Current objects under the backup prefix.
    backups: int


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def table_info(dynamodb: DynamoDBClient, name: str) -> TableInfo | None:
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
    except ClientError as error:
        if _code(error) == "ResourceNotFoundException":
            return None
        raise
    return TableInfo(
        name=name,
        status=str(table.get("TableStatus", "")),
        item_count=int(table.get("ItemCount", 0)),
        deletion_protection=bool(table.get("DeletionProtectionEnabled", False)),
    )


def bucket_contents(s3: S3Client, bucket: str) -> BucketContents | None:
    """What the bucket holds, counted over every version; None when there is no such bucket."""
    current = versions = backups = 0
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for version in page.get("Versions", []):
                versions += 1
                if version.get("IsLatest"):
                    current += 1
                    backups += version["Key"].startswith(names.BACKUP_PREFIX)
            versions += len(page.get("DeleteMarkers", []))
    except ClientError as error:
        if _code(error) == "NoSuchBucket":
            return None
        raise
    return BucketContents(bucket, current, versions, backups)


def empty_bucket(s3: S3Client, bucket: str, progress: Say) -> int:
    """Deletes every version and delete marker; returns how many. Lists again until nothing is left.

    Listing afresh after each batch, rather than paging through one listing,
    also catches what arrives meanwhile (access logs being delivered).
    """
    deleted = 0
    while True:
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=DELETE_BATCH)
        batch: list[ObjectIdentifierTypeDef] = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        if not batch:
            return deleted
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        errors = answer.get("Errors", [])
        if errors:
            first = errors[0]
            raise TeardownError(
                f"could not delete {len(errors)} object version(s) from bucket {bucket} "
                f"(first: {first.get('Key')}: {first.get('Code')} {first.get('Message')})"
            )
        deleted += len(batch)
        progress(f"    {bucket}: {deleted} object version(s) deleted")


def delete_bucket(s3: S3Client, bucket: str, progress: Say) -> None:
    """Empties and deletes a bucket Terraform no longer holds, emptying again if access logs arrived meanwhile."""
    for _ in range(DESTROY_PASSES):
        empty_bucket(s3, bucket, progress)
        try:
            s3.delete_bucket(Bucket=bucket)
        except ClientError as error:
            if _code(error) != "BucketNotEmpty":
                raise
            continue
        return
    raise TeardownError(f"bucket {bucket} filled again {DESTROY_PASSES} times while it was deleted; rerun")


def delete_table(dynamodb: DynamoDBClient, name: str) -> None:
    """Turns deletion protection off, deletes the table, waits until it is gone."""
    dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
    dynamodb.delete_table(TableName=name)
    dynamodb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 120})


@contextlib.contextmanager
def ticking(what: str, progress: Say, every: float = TICK_SECONDS) -> Iterator[None]:
    """Says every ``every`` seconds that ``what`` is still going, until the block ends."""
    stop = threading.Event()
    started = time.monotonic()

    def tick() -> None:
        while not stop.wait(every):
            progress(f"    ... {what}: {time.monotonic() - started:.0f} s")

    thread = threading.Thread(target=tick, name="tick", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# --- the final backup ----------------------------------------------------------------------


class FinalBackupError(TeardownError):
    """The backup function failed or could not be invoked: nothing was changed."""


class BackupInvoker(Protocol):
    """Runs the deployed backup function once and returns what it returned."""

    def deployed(self, name: str) -> bool: ...

    def invoke(self, name: str, event: Mapping[str, Any]) -> Any: ...


class LambdaInvoker:
    """AWS: ``lambda:Invoke``, RequestResponse, with a read timeout beyond any function's timeout and no retry.

    A retried Invoke would run a second backup; the function reserves a
    concurrency of 1, so while another backup runs, Lambda refuses this one.
    """

    def __init__(self, client: LambdaClient) -> None:
        self._client = client

    @classmethod
    def for_region(cls, region: str) -> LambdaInvoker:
        config = Config(
            connect_timeout=10,
            read_timeout=LAMBDA_MAX_TIMEOUT_SECONDS + INVOKE_GRACE_SECONDS,
            retries={"total_max_attempts": 1},
        )
        return cls(boto3.client("lambda", region_name=region, config=config))

    def deployed(self, name: str) -> bool:
        try:
            self._client.get_function_configuration(FunctionName=name)
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                return False
            raise
        return True

    def invoke(self, name: str, event: Mapping[str, Any]) -> Any:
        try:
            answer = self._client.invoke(
                FunctionName=name, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
            )
        except ClientError as error:
            if _code(error) == "TooManyRequestsException":
                raise FinalBackupError(
                    f"{name} is busy (it runs one backup at a time): wait for the running backup, then rerun"
                ) from None
            raise FinalBackupError(f"invoking {name} failed: {error}") from None
        except BotoCoreError as error:
            raise FinalBackupError(f"invoking {name} failed: {error}") from None
        payload = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            details = payload if isinstance(payload, dict) else {}
            raise FinalBackupError(
                f"{name} failed: {details.get('errorType', answer['FunctionError'])}: "
                f"{details.get('errorMessage', payload)} (its log: /aws/lambda/{name} in CloudWatch Logs)"
            )
        return payload


class EmulatorInvoker:
    """The emulator runs no function code: the local edge's machinery does, without the edge running.

    ``local/edge``: the function's deployed zip (checked against its
    ``CodeSha256``) in a worker process with exactly its deployed environment,
    pointed at the emulator, and its own timeout enforced.
    """

    def __init__(self, config: AppConfig) -> None:
        self._config = config
        self._deployment = Deployment(config)

    def deployed(self, name: str) -> bool:
        try:
            self._deployment.function(name)
        except NotDeployed:
            return False
        return True

    def invoke(self, name: str, event: Mapping[str, Any]) -> Any:
        function = self._deployment.function(name)
        log: list[str] = []
        pool = Functions(self._config, lambda _function, line: log.append(line))
        try:
            invocation = pool.invoke(function, event, str(uuid.uuid4())).result(
                timeout=function.timeout_seconds + INVOKE_GRACE_SECONDS
            )
        finally:
            pool.stop()
        if invocation.error is not None:
            tail = "\n".join(f"    {line}" for line in log[-LOG_TAIL_LINES:])
            raise FinalBackupError(
                f"{name} failed: {invocation.error.get('errorType')}: {invocation.error.get('errorMessage')}\n"
                f"  the end of its log:\n{tail}"
            )
        return invocation.result


# --- Terraform ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DestroyRun:
    succeeded: bool
    output: str
    #: Where the whole output is kept.
    log: str


class Terraform(Protocol):
    """What the teardown asks of Terraform in the application stack's directory."""

    def state(self) -> State: ...

    def release(self, addresses: Sequence[str]) -> None: ...

    def destroy(self) -> DestroyRun: ...


class TerraformCli:
    """The real one: ``terraform`` in the synthesized stack directory, its state in the state bucket."""

    def __init__(self, stack_dir: Path, env: dict[str, str], log: Path) -> None:
        self.stack_dir = stack_dir
        self.env = env
        self.log = log

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["terraform", *args], cwd=self.stack_dir, env=self.env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise TeardownError(f"terraform {args[0]} failed in {self.stack_dir}:\n{result.stdout}{result.stderr}")
        return result

    def state(self) -> State:
        return State.parse(json.loads(self._run("show", "-json", "-no-color").stdout or "{}"))

    def release(self, addresses: Sequence[str]) -> None:
        if addresses:
            self._run("state", "rm", "-no-color", *addresses)

    def destroy(self) -> DestroyRun:
        """One ``terraform destroy``: every line into the log, progress lines echoed."""
        process = subprocess.Popen(
            ["terraform", "destroy", "-auto-approve", "-input=false", "-no-color", f"-parallelism={PARALLELISM}"],
            cwd=self.stack_dir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = []
        with self.log.open("a", encoding="utf-8") as log:
            for line in cast(IO[str], process.stdout):  # set: stdout=PIPE
                log.write(line)
                lines.append(line)
                if DESTROY_PROGRESS.search(line):
                    say(f"  [{APP_STACK}] {line.rstrip()}")
        return DestroyRun(process.wait() == 0, "".join(lines), str(self.log))


def error_lines(output: str, limit: int = 40) -> str:
    """Terraform's output from its first error on (or its end)."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Error:")), max(len(lines) - limit, 0))
    return "\n".join(lines[start : start + limit])


# --- the report ---------------------------------------------------------------------------------


@dataclass
class Report:
    """What the teardown kept and removed, and what to know before deploying again."""

    where: str
    already_removed: bool = False
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Commands to copy, printed whole on lines of their own.
    commands: list[str] = field(default_factory=list)
    #: The steps that changed something, in order: what a failure says was done before it.
    done: list[str] = field(default_factory=list)

    def render(self) -> str:
        if self.already_removed:
            head = f"==> make destroy: nothing to destroy in {self.where}: the {APP_STACK} stack is already removed"
        else:
            head = f"==> make destroy: done in {self.where}"
        lines = [head]
        for title, entries in (("Kept", self.kept), ("Removed", self.removed), ("Good to know", self.notes)):
            if entries:
                lines.append(f"{title}:")
                lines += [wrap(entry) for entry in entries]
        if self.commands:
            lines.append("To deploy again with what was kept, import it first:")
            lines += [f"    {command}" for command in self.commands]
        return "\n".join(lines)


def wrap(entry: str) -> str:
    """One report entry as an indented paragraph; keys, names and paths are never split."""
    return textwrap.fill(
        entry, 110, initial_indent="  - ", subsequent_indent="    ", break_long_words=False, break_on_hyphens=False
    )


def count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def by_type(resources: Sequence[StateResource], shown: int = REPORTED_KINDS) -> str:
    """The most frequent kinds by name, the rest counted."""
    kinds = sorted(Counter(resource.type for resource in resources).items(), key=lambda item: (-item[1], item[0]))
    named = ", ".join(f"{n} {kind}" for kind, n in kinds[:shown])
    rest = kinds[shown:]
    if not rest:
        return named
    return f"{named}, and {count(sum(n for _, n in rest), 'resource')} of {count(len(rest), 'other kind')}"


def describe_objects(summary: Mapping[str, Any]) -> str:
    """The summary's objects, whatever fields they carry besides a key and a size."""
    objects = summary.get("objects")
    described = []
    for item in objects if isinstance(objects, list) else []:
        if isinstance(item, Mapping) and "key" in item:
            size = item.get("bytes")
            described.append(f"{item['key']} ({size:,} bytes)" if isinstance(size, int) else str(item["key"]))
    return ", ".join(described) or "no objects listed"


# --- the teardown ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inventory:
    """What is there before anything changes."""

    state: State
    names: Names
    table: TableInfo | None
    backups: BucketContents | None
    logs: BucketContents | None
    function_deployed: bool

    @property
    def backups_in_state(self) -> bool:
        return self.state.bucket(self.names.backup_bucket) is not None


@dataclass(frozen=True)
class Decisions:
    delete_backups: bool
    delete_table: bool
    final_backup: bool


def decide(options: Options, inventory: Inventory, ask: Ask, progress: Say) -> Decisions:
    """Every question, before anything changes. Raises TeardownError when something is not confirmed."""
    names_ = inventory.names
    delete_table = options.delete_table and inventory.table is not None
    if options.backups is BackupChoice.ASK:
        delete_backups = ask_about_backups(inventory, ask, progress)
    else:
        delete_backups = options.backups is BackupChoice.DELETE and (
            inventory.backups is not None or inventory.logs is not None
        )
    final_backup = options.final_backup and not delete_backups
    if delete_table and final_backup and not inventory.function_deployed:
        raise TeardownError(
            f"{names_.backup_function} is not deployed, so no final backup can be written before table "
            f"{names_.table} is deleted; nothing was changed. To delete it without one: "
            f"{HINTS['skip_final_backup']}"
        )
    if delete_table and not options.assume_yes:
        answer = ask(
            f"Delete table {names_.table} (about {count(cast(TableInfo, inventory.table).item_count, 'item')}) "
            "for good? Type its name to delete it: "
        )
        if answer != names_.table:
            raise TeardownError(f"table {names_.table} not confirmed: nothing was changed")
    if not options.assume_yes:
        answer = ask("Go on with the teardown above? Only 'yes' goes on: ")
        if answer != "yes":
            hint = "" if answer is not None else f" (no answer: in a script, {HINTS['yes']})"
            raise TeardownError(f"not confirmed{hint}: nothing was changed")
    return Decisions(delete_backups=delete_backups, delete_table=delete_table, final_backup=final_backup)


def ask_about_backups(inventory: Inventory, ask: Ask, progress: Say) -> bool:
    """The y/N question, asked only while Terraform still holds the backup bucket (else an earlier run decided)."""
    backups, logs = inventory.backups, inventory.logs
    if backups is None or not inventory.backups_in_state:
        return False
    held = f"; its access logs are in {logs.name}, {count(logs.current, 'object')}" if logs is not None else ""
    answer = ask(
        f"Bucket {backups.name} holds {count(backups.backups, 'backup object')} "
        f"({count(backups.versions, 'object version')} in all){held}. "
        "Delete the backups, every version, and both buckets? [y/N] "
    )
    delete = (answer or "").lower() in ("y", "yes")
    progress(f"    {'deleting' if delete else 'keeping'} the backups{'' if answer is not None else ' (no answer)'}")
    return delete


@dataclass
class Teardown:
    """The steps, on the clients and the Terraform they are given (tests give fakes where no real part is needed)."""

    config: AppConfig
    where: str
    stack_dir: Path
    s3: S3Client
    dynamodb: DynamoDBClient
    terraform: Terraform
    invoker: BackupInvoker
    ask: Ask = ask_stdin
    progress: Say = say

    def inspect(self) -> Inventory:
        state = self.terraform.state()
        names_ = Names.of(self.config, state)
        return Inventory(
            state=state,
            names=names_,
            table=table_info(self.dynamodb, names_.table),
            backups=bucket_contents(self.s3, names_.backup_bucket),
            logs=bucket_contents(self.s3, names_.backup_log_bucket),
            function_deployed=self.invoker.deployed(names_.backup_function),
        )

    def run(self, options: Options) -> Report:
        inventory = self.inspect()
        if not inventory.state.resources and not (options.deletes_leftovers and self._leftovers(inventory)):
            return self._already_removed(inventory)
        self._announce(options, inventory)
        decisions = decide(options, inventory, self.ask, self.progress)
        report = Report(self.where)
        summary = self._final_backup(decisions, inventory, report)
        if summary is not None:
            report.done.append(f"the final backup ({describe_objects(summary)})")
        try:
            state = self._release(decisions, inventory, report)
            self._destroy(state, report)
            self._delete_leftovers(decisions, inventory, state, report)
        except (TeardownError, ClientError, BotoCoreError) as error:
            done = "; ".join(report.done) or "nothing"
            raise TeardownError(f"{error}\nDone before it stopped: {done}. Rerun make destroy to go on.") from None
        self._report_kept(decisions, inventory, summary, report)
        return report

    def _leftovers(self, inventory: Inventory) -> bool:
        return any(thing is not None for thing in (inventory.table, inventory.backups, inventory.logs))

    def _announce(self, options: Options, inventory: Inventory) -> None:
        names_, table = inventory.names, inventory.table
        self.progress(f"==> make destroy: the {APP_STACK} stack in {self.where}")
        self.progress(f"    {count(len(inventory.state.resources), 'resource')} in its Terraform state")
        if options.final_backup and options.backups is not BackupChoice.DELETE:
            self.progress(f"    first a final backup: {names_.backup_function} runs once, now")
        if table is not None:
            fate = "deleted (DELETE_TABLE)" if options.delete_table else "kept, released from the Terraform state"
            self.progress(f"    table {names_.table} (about {count(table.item_count, 'item')}): {fate}")
        if inventory.backups is not None:
            fate = {"ask": "you are asked", "keep": "kept", "delete": "deleted (BACKUPS=delete)"}[options.backups]
            self.progress(
                f"    backups in {names_.backup_bucket} ({count(inventory.backups.backups, 'backup object')}) "
                f"and its log bucket {names_.backup_log_bucket}: {fate}"
            )
        if inventory.state.resources:
            self.progress("    everything else: destroyed by Terraform")

    def _already_removed(self, inventory: Inventory) -> Report:
        report = Report(self.where, already_removed=True)
        table, names_ = inventory.table, inventory.names
        if table is not None:
            report.kept.append(
                f"table {table.name}: {table.status}, about {count(table.item_count, 'item')}, not in the Terraform "
                f"state (to delete it: {HINTS['delete_table']})"
            )
        for contents in (inventory.backups, inventory.logs):
            if contents is not None:
                what = (
                    count(contents.backups, "backup object")
                    if contents.name == names_.backup_bucket
                    else count(contents.current, "object")
                )
                report.kept.append(
                    f"bucket {contents.name}: {what}, not in the Terraform state (to delete it: {HINTS['backups']})"
                )
        return report

    def _final_backup(self, decisions: Decisions, inventory: Inventory, report: Report) -> dict[str, Any] | None:
        name = inventory.names.backup_function
        if not decisions.final_backup:
            reason = "it would be deleted with the backups" if decisions.delete_backups else HINTS["skip_final_backup"]
            report.notes.append(f"No final backup was written ({reason}).")
            return None
        if not inventory.function_deployed:
            report.notes.append(f"No final backup was written: {name} is no longer deployed.")
            return None
        self.progress(f"==> final backup: invoking {name} (it may take up to its timeout)")
        started = time.monotonic()
        try:
            with ticking("the final backup is running", self.progress):
                summary = self.invoker.invoke(name, FINAL_BACKUP_EVENT)
            if not isinstance(summary, dict):
                raise FinalBackupError(f"{name} answered {str(summary)[:200]!r}, not a backup summary")
            self._check_written(inventory.names.backup_bucket, summary)
        except FinalBackupError as error:
            raise FinalBackupError(
                f"the final backup failed, so nothing was changed: {error}\n"
                f"To tear down without a final backup: {HINTS['skip_final_backup']}"
            ) from None
        self.progress(
            f"    {summary.get('items', '?')} items backed up in {time.monotonic() - started:.0f} s: "
            f"{describe_objects(summary)}"
        )
        if summary.get("emailSent") is False:
            report.notes.append(
                f"The final backup's e-mail was not sent: {summary.get('emailError', 'no reason given')}."
            )
        return summary

    def _check_written(self, bucket: str, summary: Mapping[str, Any]) -> None:
        """Every object the summary names is in the bucket: the teardown trusts the backup no further than that."""
        objects = summary.get("objects")
        for item in objects if isinstance(objects, list) else []:
            key = item.get("key") if isinstance(item, Mapping) else None
            if not isinstance(key, str):
                continue
            try:
                self.s3.head_object(Bucket=bucket, Key=key)
            except ClientError as error:
                raise FinalBackupError(
                    f"its summary names s3://{bucket}/{key}, which cannot be read ({_code(error)})"
                ) from None

    def _release(self, decisions: Decisions, inventory: Inventory, report: Report) -> State:
        """``terraform state rm`` of what is kept, and of the objects emptied with their buckets.

        Returns the state that is left for Terraform to destroy.
        """
        state, names_ = inventory.state, inventory.names
        kept = [resource.address for resource in [state.table(names_.table)] if resource is not None]
        if not decisions.delete_backups:
            for bucket in (names_.backup_bucket, names_.backup_log_bucket):
                kept += [resource.address for resource in state.of_bucket(bucket)]
        kept += self._protected_staff_pools(state, report)
        doomed = {str(r.values.get("bucket")) for r in state.without(kept).resources if r.type == "aws_s3_bucket"}
        objects = [r.address for r in state.resources if r.type == "aws_s3_object" and r.values.get("bucket") in doomed]
        if kept:
            self.progress(f"==> releasing {count(len(kept), 'resource')} from the Terraform state (kept as they are)")
        if objects:
            self.progress(
                f"==> releasing {count(len(objects), 'object')} from the state: emptying their buckets deletes them"
            )
            report.removed.append(
                f"{count(len(objects), 'object')} uploaded by Terraform, deleted with every version when their "
                "buckets were emptied"
            )
        if kept or objects:
            self.terraform.release([*kept, *objects])
            report.done.append(f"{count(len(kept) + len(objects), 'resource')} released from the Terraform state")
        return state.without([*kept, *objects])

    def _protected_staff_pools(self, state: State, report: Report) -> list[str]:
        """A staff pool AWS keeps from deletion (the aws target's), with its client and groups: released, kept.

        Its deletion protection would make ``terraform destroy`` fail; deleting its
        app client and groups alone would leave the members signed out and without
        their groups. The pool stays whole, with every member, for a later deploy
        to import, or for someone to delete on purpose.
        """
        pools = {
            str(r.values.get("id")): r
            for r in state.resources
            if r.type == "aws_cognito_user_pool" and r.values.get("deletion_protection") == "ACTIVE"
        }
        parts = [
            r.address
            for r in state.resources
            if r.type in ("aws_cognito_user_pool_client", "aws_cognito_user_group")
            and str(r.values.get("user_pool_id")) in pools
        ]
        for pool_id, pool in pools.items():
            report.kept.append(
                f"staff user pool {pool.values.get('name')} ({pool_id}), with its members, app client and groups: "
                "it has deletion protection. To delete it on purpose: aws cognito-idp update-user-pool "
                f"--user-pool-id {pool_id} --deletion-protection INACTIVE (keeping its other settings), then "
                f"aws cognito-idp delete-user-pool --user-pool-id {pool_id}"
            )
        return [pool.address for pool in pools.values()] + parts

    def _destroy(self, state: State, report: Report) -> None:
        planned = state
        if not planned.resources:
            return
        for attempt in range(1, DESTROY_PASSES + 1):
            self._empty_buckets(state, report)
            self.progress(f"==> terraform destroy ({count(len(state.resources), 'resource')}, pass {attempt})")
            with ticking("terraform destroy is running", self.progress):
                run = self.terraform.destroy()
            if run.succeeded:
                report.done.append("terraform destroy")
                report.removed.append(
                    f"{count(len(planned.resources), 'resource')} destroyed by Terraform: {by_type(planned.resources)}"
                )
                report.notes += secret_notes(planned)
                return
            if "BucketNotEmpty" not in run.output:
                raise TeardownError(f"terraform destroy failed (log: {run.log}):\n{error_lines(run.output)}")
            self.progress("    a bucket filled again while it was destroyed (access logs): emptying it once more")
            state = self.terraform.state()
        raise TeardownError(
            f"terraform destroy still finds a bucket not empty after {DESTROY_PASSES} passes:\n"
            f"{error_lines(run.output)}"
        )

    def _empty_buckets(self, state: State, report: Report) -> None:
        """Every bucket Terraform is to delete, ``force_destroy`` or not (see the module's step 5)."""
        for bucket in state.resources:
            if bucket.type != "aws_s3_bucket":
                continue
            name = str(bucket.values.get("bucket"))
            contents = bucket_contents(self.s3, name)
            if contents is not None and contents.versions:
                self.progress(f"==> emptying bucket {name} ({count(contents.versions, 'object version')})")
                empty_bucket(self.s3, name, self.progress)
                report.done.append(f"bucket {name} emptied")

    def _delete_leftovers(self, decisions: Decisions, inventory: Inventory, state: State, report: Report) -> None:
        """The table when asked; backup buckets that no Terraform state holds any more, when asked."""
        names_ = inventory.names
        if decisions.delete_table:
            self.progress(f"==> deleting table {names_.table}: deletion protection off, then DeleteTable")
            with ticking(f"table {names_.table} is being deleted", self.progress):
                delete_table(self.dynamodb, names_.table)
            report.done.append(f"table {names_.table} deleted")
            report.removed.append(f"table {names_.table}, deleted after its deletion protection was turned off")
            report.notes.append(
                "AWS keeps a system backup of a table deleted with point-in-time recovery on for 35 days "
                "(DynamoDB console, Backups, restore deleted table)."
            )
        if not decisions.delete_backups:
            return
        destroyed = {str(r.values.get("bucket")) for r in state.resources if r.type == "aws_s3_bucket"}
        for contents in (inventory.backups, inventory.logs):
            if contents is None:
                continue
            if contents.name not in destroyed:
                self.progress(f"==> deleting bucket {contents.name}, released by an earlier teardown")
                delete_bucket(self.s3, contents.name, self.progress)
                report.done.append(f"bucket {contents.name} deleted")
            what = "backup object" if contents.name == names_.backup_bucket else "access log object"
            report.removed.append(
                f"bucket {contents.name} with {count(contents.current, what)} ({count(contents.versions, 'version')})"
            )

    def _report_kept(
        self, decisions: Decisions, inventory: Inventory, summary: Mapping[str, Any] | None, report: Report
    ) -> None:
        names_ = inventory.names
        table = table_info(self.dynamodb, names_.table)
        if table is not None:
            items = (
                f"{summary['items']} items at the final backup"
                if summary and "items" in summary
                else (f"about {count(table.item_count, 'item')}")
            )
            protection = "on" if table.deletion_protection else "OFF"
            report.kept.append(
                f"table {table.name}: {table.status}, {items}, deletion protection {protection}; no longer in the "
                f"Terraform state. It still bills its storage and point-in-time recovery. To deploy again with it, "
                "import it (below) or set another table_name."
            )
            report.commands.append(
                f"terraform -chdir={self.stack_dir} import {self._table_address(table.name)} {table.name}"
            )
        if not decisions.delete_backups:
            for bucket in (names_.backup_bucket, names_.backup_log_bucket):
                contents = bucket_contents(self.s3, bucket)
                if contents is None:
                    continue
                if bucket == names_.backup_bucket:
                    final = f"; the final backup: {describe_objects(summary)}" if summary else ""
                    what = f"{count(contents.backups, 'backup object')}{final}"
                else:
                    what = f"{count(contents.current, 'access log object')}"
                report.kept.append(f"bucket {bucket}: {what}; no longer in the Terraform state, settings unchanged")
            report.notes.append(
                "A later deploy with the same names finds the kept buckets in the way: import them "
                "(terraform import) or set another name_suffix."
            )
        report.kept.append(
            f"bucket {self.config.state_bucket}: the Terraform state ({BOOTSTRAP_STACK} stack), now without resources"
        )

    def _table_address(self, table: str) -> str:
        """The table's Terraform address, as the synthesized stack declares it (for ``terraform import``)."""
        declared = json.loads((self.stack_dir / "cdk.tf.json").read_text(encoding="utf-8"))
        tables = declared.get("resource", {}).get("aws_dynamodb_table", {})
        return next(
            (f"aws_dynamodb_table.{key}" for key, body in tables.items() if body.get("name") == table),
            "aws_dynamodb_table.<its address in cdk.tf.json>",
        )


def secret_notes(destroyed: State) -> list[str]:
    """Secrets Manager keeps a deleted secret for its recovery window: its name cannot be reused until then."""
    return [
        f"Secret {r.values.get('name')} is scheduled for deletion and kept {r.values['recovery_window_in_days']} "
        "days; a deploy within them needs another api_key_secret_name."
        for r in destroyed.resources
        if r.type == "aws_secretsmanager_secret" and r.values.get("recovery_window_in_days")
    ]


# --- the two targets -----------------------------------------------------------------------------


def clients(config: AppConfig) -> tuple[S3Client, DynamoDBClient]:
    if config.is_local:
        return emulator_client("s3", config), emulator_client("dynamodb", config)
    return boto3.client("s3", region_name=config.region), boto3.client("dynamodb", region_name=config.region)


def where(config: AppConfig) -> str:
    """Which account or emulator: said before anything changes."""
    if config.is_local:
        return f"the emulator at {config.emulator_endpoint}"
    try:
        account = boto3.client("sts", region_name=config.region).get_caller_identity()["Account"]
    except (ClientError, BotoCoreError) as error:
        raise TeardownError(f"your AWS credentials do not work ({error}): set AWS_PROFILE or the like") from None
    return f"AWS account {account}, region {config.region}"


def check_state_bucket(s3: S3Client, config: AppConfig, place: str) -> None:
    """Raises NothingDeployed when the state bucket (or the emulator) is not there: nothing can be deployed."""
    try:
        s3.head_bucket(Bucket=config.state_bucket)
    except ClientError as error:
        if _code(error) in ("404", "NoSuchBucket"):
            raise NothingDeployed(
                f"nothing to destroy in {place}: there is no state bucket {config.state_bucket}, "
                "so nothing was deployed with this configuration"
            ) from None
        raise TeardownError(f"cannot read the state bucket {config.state_bucket}: {error}") from None
    except BotoCoreError as error:
        if config.is_local:
            raise NothingDeployed(
                f"nothing to destroy: the emulator at {config.emulator_endpoint} does not answer ({error}); "
                "a stopped emulator holds nothing ('make down' discards what was deployed)"
            ) from None
        raise TeardownError(f"cannot reach S3 to read the state bucket: {error}") from None


def forget_outputs(outdir: Path) -> None:
    """The application stack's outputs describe nothing any more: tools reading them then say 'deploy first'."""
    path = outdir / "outputs.json"
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(outputs, dict) and outputs.pop(APP_STACK, None) is not None:
        path.write_text(json.dumps(outputs, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def teardown(config: AppConfig, outdir: Path, options: Options) -> Report:
    stack_dir = outdir / "stacks" / APP_STACK
    if not (stack_dir / "cdk.tf.json").is_file():
        raise TeardownError(f"{stack_dir / 'cdk.tf.json'} does not exist: synthesize first (make destroy does)")
    s3, dynamodb = clients(config)
    place = where(config)
    check_state_bucket(s3, config, place)
    if config.is_local:
        env = terraform_env()
        log_dir = config.emulator_state_dir / "logs"
    else:
        env = {**os.environ, "TF_IN_AUTOMATION": "1"}
        log_dir = outdir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    ensure_init(stack_dir, env)
    invoker: BackupInvoker = EmulatorInvoker(config) if config.is_local else LambdaInvoker.for_region(config.region)
    terraform = TerraformCli(stack_dir, env, log_dir / f"{APP_STACK}.destroy.log")
    report = Teardown(config, place, stack_dir, s3, dynamodb, terraform, invoker).run(options)
    if not report.already_removed:
        forget_outputs(outdir)
        if config.is_local:
            report.notes.append(
                "The local edge, if it runs, serves nothing now: 'make down' stops it and the emulator."
            )
    return report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, required=True, help="the synthesized output that was deployed")
    parser.add_argument(
        "--backups",
        type=BackupChoice,
        choices=list(BackupChoice),
        default=BackupChoice.ASK,
        help="the backup bucket and its log bucket: ask (default), keep them, or delete them",
    )
    parser.add_argument("--delete-table", action="store_true", help="delete the table too (asks for its name)")
    parser.add_argument("--skip-final-backup", action="store_true", help="do not write a final backup first")
    parser.add_argument("--yes", action="store_true", help="go on without asking (the table's name included)")
    args = parser.parse_args(argv)
    options = Options(
        backups=args.backups,
        delete_table=args.delete_table,
        final_backup=not args.skip_final_backup,
        assume_yes=args.yes,
    )
    try:
        config = load_config()
        with exclusive(config) if config.is_local else contextlib.nullcontext():
            report = teardown(config, args.outdir.resolve(), options)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except NothingDeployed as nothing:
        print(f"==> make destroy: {nothing}")
        return 0
    except (TeardownError, DeployError) as error:
        print(f"error: make destroy stopped: {error}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as error:
        print(f"error: make destroy stopped: an AWS request failed: {error}", file=sys.stderr)
        return 1
    print(report.render(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
