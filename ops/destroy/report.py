"""The report ``make destroy`` ends with: what was kept, what was removed, and what to know before deploying again.

Also the wording the progress lines share with it (counts, resource kinds,
the final backup's objects), so both say the same thing the same way.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from config.settings import APP_STACK
from ops.destroy.state import State, StateResource

#: Kinds of resource the report names one by one.
REPORTED_KINDS: Final = 8


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


def secret_notes(destroyed: State) -> list[str]:
    """Secrets Manager keeps a deleted secret for its recovery window: its name cannot be reused until then."""
    return [
        f"Secret {r.values.get('name')} is scheduled for deletion and kept {r.values['recovery_window_in_days']} "
        "days; a deploy within them needs another api_key_secret_name."
        for r in destroyed.resources
        if r.type == "aws_secretsmanager_secret" and r.values.get("recovery_window_in_days")
    ]
