"""Backup runs: who is running, and what each run did, in the ``BackupRuns`` table.

One item per run, keyed by its run id, says ``running``, ``done`` (with the
item count, the objects and whether the mail went out) or ``failed`` (with a
reason fit for a user); it expires ``RUN_RETENTION_DAYS`` after it started
(the table's TTL attribute ``expiresAt``). ``GET /backup`` reads them.

One more item, ``LOCK_ID``, is the lease that keeps two runs from racing: a
run starts only by writing it when it is absent or its lease has run out
(``attribute_not_exists(runId) OR leaseUntil < :now``, one conditional
``PutItem``, so two starts in the same millisecond cannot both win), and gives
it back when it ends. A run that dies without giving it back (a timeout, a
crash) blocks others only until its lease, the function's timeout plus a
margin, has passed; its record then reads as failed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

#: Partition key of the runs table.
KEY: Final = "runId"
#: The lease item's key: run ids start with a date, so none can be this.
LOCK_ID: Final = "lock"
#: Seconds a lease outlives the function's timeout: after that no run can still be writing.
LEASE_MARGIN_S: Final = 60
#: Days a run's record is kept (the TTL attribute).
RUN_RETENTION_DAYS: Final = 35
TTL_ATTRIBUTE: Final = "expiresAt"
#: Random bytes in a run id, after its UTC start time.
RUN_ID_BYTES: Final = 4
RUNNING: Final = "running"
DONE: Final = "done"
FAILED: Final = "failed"
#: What a run that ended without a word (killed at its timeout, crashed) reports.
LOST: Final = "the run stopped before it finished (timed out or crashed); no backup was written"
#: How many runs ``GET /backup`` lists.
RECENT_RUNS: Final = 10


def new_run_id(started: datetime) -> str:
    """``YYYYMMDD-HHMMSS-<8 hex>``: sorts by start time, unique even for runs started in the same second."""
    return f"{started.astimezone(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(RUN_ID_BYTES)}"


@dataclass(frozen=True)
class Busy:
    """Another run holds the lease."""

    run_id: str


class RunStore:
    """Run records and the lease, in one DynamoDB table (low-level client, conditional writes)."""

    def __init__(self, client: DynamoDBClient, table_name: str, *, lease_seconds: float) -> None:
        self._client = client
        self._table = table_name
        self._lease = timedelta(seconds=lease_seconds + LEASE_MARGIN_S)

    def start(self, run_id: str, *, trigger: str, started: datetime) -> Busy | None:
        """Take the lease for ``run_id`` and record it as running; ``Busy`` if another run holds the lease."""
        lease_until = started + self._lease
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    KEY: {"S": LOCK_ID},
                    "holder": {"S": run_id},
                    "leaseUntil": {"N": str(int(lease_until.timestamp()))},
                },
                ConditionExpression="attribute_not_exists(#key) OR leaseUntil < :now",
                ExpressionAttributeNames={"#key": KEY},
                ExpressionAttributeValues={":now": {"N": str(int(started.timestamp()))}},
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise
            return Busy(self._holder() or "unknown")
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    KEY: {"S": run_id},
                    "state": {"S": RUNNING},
                    "trigger": {"S": trigger},
                    "startedAt": {"S": _iso(started)},
                    "leaseUntil": {"N": str(int(lease_until.timestamp()))},
                    TTL_ATTRIBUTE: {"N": str(int((started + timedelta(days=RUN_RETENTION_DAYS)).timestamp()))},
                },
                ConditionExpression="attribute_not_exists(#key)",
                ExpressionAttributeNames={"#key": KEY},
            )
        except Exception:
            self.release(run_id)
            raise
        return None

    def renew(self, run_id: str, *, now: datetime) -> bool:
        """Extend ``run_id``'s lease from ``now`` (its asynchronous invocation has begun); False if it lost it.

        Lambda may queue an asynchronous invocation for a while: the lease taken
        when the run was started must cover the run from when it really starts.
        """
        lease_until = {"N": str(int((now + self._lease).timestamp()))}
        try:
            self._client.update_item(
                TableName=self._table,
                Key={KEY: {"S": LOCK_ID}},
                UpdateExpression="SET leaseUntil = :until",
                ConditionExpression="holder = :run",
                ExpressionAttributeValues={":run": {"S": run_id}, ":until": lease_until},
            )
            self._client.update_item(
                TableName=self._table,
                Key={KEY: {"S": run_id}},
                UpdateExpression="SET leaseUntil = :until",
                ConditionExpression="#state = :running",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":running": {"S": RUNNING}, ":until": lease_until},
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def finish(self, run_id: str, *, state: str, finished: datetime, fields: dict[str, Any]) -> None:
        """Record the outcome of a running run (``done`` or ``failed``); a run that already ended is left alone."""
        values: dict[str, Any] = {
            ":state": {"S": state},
            ":finished": {"S": _iso(finished)},
            ":running": {"S": RUNNING},
        }
        assignments = ["#state = :state", "finishedAt = :finished"]
        for number, value in enumerate(fields.values()):
            values[f":v{number}"] = value
            assignments.append(f"#f{number} = :v{number}")
        try:
            self._client.update_item(
                TableName=self._table,
                Key={KEY: {"S": run_id}},
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression="#state = :running",
                ExpressionAttributeNames={"#state": "state", **{f"#f{n}": name for n, name in enumerate(fields)}},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise

    def release(self, run_id: str) -> None:
        """Give the lease back, if ``run_id`` still holds it."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key={KEY: {"S": LOCK_ID}},
                ConditionExpression="holder = :run",
                ExpressionAttributeValues={":run": {"S": run_id}},
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise

    def get(self, run_id: str) -> dict[str, Any] | None:
        """The raw record of ``run_id``, or None."""
        item = self._client.get_item(TableName=self._table, Key={KEY: {"S": run_id}}, ConsistentRead=True)
        return item.get("Item")

    def recent(self, limit: int = RECENT_RUNS) -> list[dict[str, Any]]:
        """The latest ``limit`` run records, newest first (the table holds a few weeks of daily runs)."""
        records: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": self._table}
        while True:
            page = self._client.scan(**request)
            records += [item for item in page.get("Items", []) if item[KEY]["S"] != LOCK_ID]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        records.sort(key=lambda item: item[KEY]["S"], reverse=True)
        return records[:limit]

    def _holder(self) -> str | None:
        item = self._client.get_item(TableName=self._table, Key={KEY: {"S": LOCK_ID}}, ConsistentRead=True)
        holder = item.get("Item", {}).get("holder", {}).get("S")
        return holder


def describe(record: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """A run record as the API answers it; a run whose lease ran out without a word reads as failed."""
    plain: dict[str, Any] = {
        "runId": record[KEY]["S"],
        "state": record["state"]["S"],
        "trigger": record.get("trigger", {}).get("S", ""),
        "startedAt": record.get("startedAt", {}).get("S", ""),
    }
    if "finishedAt" in record:
        plain["finishedAt"] = record["finishedAt"]["S"]
    if plain["state"] == RUNNING and int(record["leaseUntil"]["N"]) < now.timestamp():
        plain["state"] = FAILED
        plain["error"] = LOST
    for name in ("items",):
        if name in record:
            plain[name] = int(record[name]["N"])
    if "objects" in record:
        plain["objects"] = [
            {"key": obj["M"]["key"]["S"], "bytes": int(obj["M"]["bytes"]["N"]), "uri": obj["M"]["uri"]["S"]}
            for obj in record["objects"]["L"]
        ]
    if "emailSent" in record:
        plain["emailSent"] = record["emailSent"]["BOOL"]
    for name in ("emailError", "error"):
        if name in record:
            plain[name] = record[name]["S"]
    return plain


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
