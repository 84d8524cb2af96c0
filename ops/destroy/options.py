"""``make destroy``'s flags: each a question answered in advance, or a step skipped on purpose.

Apart from the steps, so that the questions, the steps and the command line
read one definition of what can be asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


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


#: How each option is spelled with ``make destroy`` and on the command line (``python -m ops.destroy``).
HINTS: Final = {
    "backups": "BACKUPS=delete (--backups delete)",
    "delete_table": "DELETE_TABLE=1 (--delete-table)",
    "skip_final_backup": "SKIP_FINAL_BACKUP=1 (--skip-final-backup)",
    "yes": "YES=1 (--yes)",
}
