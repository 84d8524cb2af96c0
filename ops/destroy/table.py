"""The table as DynamoDB has it: what the teardown looks at, and its deletion when ``--delete-table`` asks.

Apart from the Terraform state: the table is released from the state and kept
by default, so its fate is decided against what DynamoDB reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ops.destroy.errors import error_code

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class TableInfo:
    name: str
    status: str
    #: DynamoDB's own count: exact in the emulator, refreshed about every six hours in AWS.
    item_count: int
    deletion_protection: bool


def table_info(dynamodb: DynamoDBClient, name: str) -> TableInfo | None:
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise
    return TableInfo(
        name=name,
        status=str(table.get("TableStatus", "")),
        item_count=int(table.get("ItemCount", 0)),
        deletion_protection=bool(table.get("DeletionProtectionEnabled", False)),
    )


def delete_table(dynamodb: DynamoDBClient, name: str) -> None:
    """Turns deletion protection off, deletes the table, waits until it is gone."""
    dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
    dynamodb.delete_table(TableName=name)
    dynamodb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 120})
