"""The questions, all asked before anything changes: what is there, and what the operator decides about it.

Apart from the steps: ``decide`` is the one place a teardown can still stop
with nothing changed, and the tests drive it with answers of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from ops.destroy.buckets import BucketContents
from ops.destroy.console import Ask, Say
from ops.destroy.errors import TeardownError
from ops.destroy.options import HINTS, BackupChoice, Options
from ops.destroy.report import count
from ops.destroy.state import Names, State
from ops.destroy.table import TableInfo


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
