"""What the application stack's Terraform state holds, and the names the teardown treats specially.

Read from ``terraform show -json`` once, before anything changes; every later
step (what to release, what Terraform destroys, what the report names) works
on this parsed form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from config.settings import AppConfig
from lambdas.common import names
from modules.functions import catalog as functions


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
