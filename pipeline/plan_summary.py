"""One screen per stack of a Terraform plan, stateful losses first; ``--guard`` refuses them.

    python3 -m pipeline.plan_summary [--guard] PLAN.json [PLAN.json ...]

Each file is the JSON of a saved plan (``terraform show -json <stack>.tfplan``,
Terraform's documented JSON plan format); the stack's name is the file's stem.
Every replacement or destruction of a stateful resource (``STATEFUL_TYPES``)
is printed first, under a banner, then each stack's adds / changes / replaces /
destroys by resource type. With ``--guard`` only the verdict is printed (the
summary is what ``pipeline/plan.sh`` printed): exit 2, naming each such resource,
unless the environment sets ``ALLOW_REPLACE=1`` (then a warning, and exit 0).
Standard library only: ``make plan`` runs it with any Python 3.11.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NoReturn

#: Resource types whose destruction loses data that no apply brings back, and
#: what is lost. The one list the summary and the guard read.
#: Not listed: ``aws_s3_bucket_*`` sub-resources (versioning, policy, ...) are
#: settings re-created from the configuration, the objects live in the bucket;
#: ``aws_secretsmanager_secret_version`` is one value of the secret: replacing
#: it writes a new current version into the same secret (the old one stays, as
#: AWSPREVIOUS), and the value it holds is the API key's, which is guarded
#: itself (the deploy tests replace the version on purpose).
STATEFUL_TYPES: Final[Mapping[str, str]] = {
    "aws_dynamodb_table": "every student item in the table",
    "aws_s3_bucket": "every object (and object version) in the bucket",
    "aws_secretsmanager_secret": "the secret and all its versions",
    "aws_api_gateway_api_key": "the key value every client uses (a new key gets a new value)",
    "aws_cloudwatch_log_group": "every log event in the group",
    "aws_cognito_user_pool": "every staff account, its password and groups (a new pool has no users)",
}
#: Exit status of ``--guard`` when it refuses (1 is an unreadable plan).
GUARD_REFUSED: Final = 2
ALLOW_ENV: Final = "ALLOW_REPLACE"
OVERRIDE_HINT: Final = f"{ALLOW_ENV}=1 make deploy"
#: Summary columns, in order.
KINDS: Final = ("add", "change", "replace", "destroy")


class PlanError(ValueError):
    """A file is not a readable Terraform JSON plan."""


@dataclass(frozen=True)
class Change:
    """One managed resource instance of the plan and what the plan does to it (``kind`` "no-op": nothing)."""

    stack: str
    address: str
    type: str
    actions: tuple[str, ...]  #: Terraform's actions, e.g. ("delete", "create")
    reason: str  #: Terraform's action_reason, "" when absent
    deposed: bool
    previous_address: str = ""  #: where a moved resource was, "" when it did not move

    @property
    def kind(self) -> str:
        """One of KINDS, "no-op" for nothing to do, else the raw actions joined by ","."""
        return kind_of(self.actions) or "no-op"

    @property
    def loses_data(self) -> bool:
        return self.type in STATEFUL_TYPES and self.kind in ("replace", "destroy")

    def describe(self) -> str:
        what = f"{self.kind.upper():8} {self.address}  ({self.type}{', deposed object' if self.deposed else ''})"
        why = f"  [{self.reason}]" if self.reason else ""
        moved = f"\n      moved from {self.previous_address}" if self.previous_address else ""
        lost = f"\n      data in it is lost: {STATEFUL_TYPES[self.type]}" if self.type in STATEFUL_TYPES else ""
        return f"{what}{why}{moved}{lost}"


@dataclass(frozen=True)
class Plan:
    stack: str
    resources: tuple[Change, ...]  #: every managed resource instance, no-ops included
    output_changes: int

    @property
    def changes(self) -> tuple[Change, ...]:
        """The resources the plan does something to."""
        return tuple(change for change in self.resources if change.kind != "no-op")


def kind_of(actions: Sequence[str]) -> str | None:
    """What an action list means: a KINDS entry, None for nothing to do, else the actions themselves."""
    match list(actions):
        case ["no-op"] | ["read"] | []:
            return None
        case ["create"]:
            return "add"
        case ["update"]:
            return "change"
        case ["delete", "create"] | ["create", "delete"]:
            return "replace"
        case ["delete"]:
            return "destroy"
        case other:
            return ",".join(other)


def read_plan(path: Path) -> Plan:
    stack = path.name.removesuffix(".json")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PlanError(f"{path}: cannot read a JSON plan: {error}") from error
    if not isinstance(document, dict) or "format_version" not in document or "planned_values" not in document:
        raise PlanError(f"{path}: not a Terraform plan (expected the output of `terraform show -json <plan>`)")
    resources = tuple(
        Change(
            stack=stack,
            address=entry["address"],
            type=entry["type"],
            actions=tuple(entry["change"]["actions"]),
            reason=entry.get("action_reason", ""),
            deposed="deposed" in entry,
            previous_address=entry.get("previous_address", ""),
        )
        for entry in document.get("resource_changes") or []
        if entry.get("mode", "managed") == "managed"
    )
    outputs = sum(
        1 for change in (document.get("output_changes") or {}).values() if kind_of(change["actions"]) is not None
    )
    return Plan(stack, resources, outputs)


def banner(losses: Sequence[Change]) -> list[str]:
    if not losses:
        return []
    rule = "!" * 100
    lines = [rule, f"!!! {len(losses)} STATEFUL RESOURCE(S) WOULD BE DESTROYED OR REPLACED: THE DATA IN THEM IS LOST"]
    for change in losses:
        lines += [f"!!!   {line}" for line in f"{change.stack}: {change.describe()}".splitlines()]
    return [*lines, rule]


def summary(plan: Plan) -> list[str]:
    if not plan.changes:
        extra = f" ({plan.output_changes} output value(s) change)" if plan.output_changes else ""
        return [f"== {plan.stack}: no changes{extra}"]
    by_type: dict[str, Counter[str]] = {}
    for change in plan.changes:
        by_type.setdefault(change.type, Counter())[change.kind] += 1
    totals: Counter[str] = Counter(change.kind for change in plan.changes)
    head = ", ".join(f"{totals[kind]} to {kind}" for kind in KINDS)
    others = sorted(set(totals) - set(KINDS))
    head += "".join(f", {totals[kind]} other ({kind})" for kind in others)
    width = max(len(name) for name in by_type)
    lines = [f"== {plan.stack}: {head}", f"   {'resource type':{width}}  {'  '.join(f'{k:>7}' for k in KINDS)}"]
    for name in sorted(by_type):
        counts = by_type[name]
        mark = "  <- stateful" if name in STATEFUL_TYPES and (counts["replace"] or counts["destroy"]) else ""
        row = "  ".join(f"{counts[kind] or '.':>7}" for kind in KINDS)
        rest = "".join(f"  {counts[kind]} {kind}" for kind in others if counts[kind])
        lines.append(f"   {name:{width}}  {row}{rest}{mark}")
    return lines


def guard(losses: Sequence[Change], environ: Mapping[str, str]) -> tuple[int, list[str]]:
    """The verdict on the plans' stateful losses: exit status and the lines to print (to stderr)."""
    if not losses:
        return 0, ["guard: no stateful resource is destroyed or replaced"]
    named = [f"  - {change.stack}: {change.describe()}" for change in losses]
    if environ.get(ALLOW_ENV) == "1":
        return 0, [f"WARNING: {ALLOW_ENV}=1: going ahead although these stateful resources are lost:", *named]
    return GUARD_REFUSED, [
        f"REFUSED: the plan destroys or replaces {len(losses)} stateful resource(s); the data in them is lost:",
        *named,
        "Change the configuration so they stay (or move them with a `moved` block), or, if losing that data",
        f"is really meant: {OVERRIDE_HINT}",
    ]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # exit 1: 2 is the guard's refusal
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = _Parser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("plans", type=Path, nargs="+", metavar="PLAN.json", help="terraform show -json output")
    parser.add_argument(
        "--guard",
        action="store_true",
        help=f"only the verdict: exit {GUARD_REFUSED} if a stateful resource is destroyed or replaced "
        f"(unless {ALLOW_ENV}=1)",
    )
    args = parser.parse_args(argv)
    try:
        plans = [read_plan(path) for path in args.plans]
    except PlanError as error:
        print(f"plan_summary: {error}", file=sys.stderr)
        return 1
    losses = [change for plan in plans for change in plan.changes if change.loses_data]
    if args.guard:
        status, lines = guard(losses, os.environ if environ is None else environ)
        print("\n".join(lines), file=sys.stderr if status else sys.stdout)
        return status
    lines = banner(losses)
    for plan in plans:
        lines += summary(plan)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
