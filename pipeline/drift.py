"""``make drift ENV=<name>``: has the deployment changed outside Terraform? A refresh-only plan, summarized.

    python3 -m pipeline.drift STACK_DIR

Terraform reads every resource of the stack's state back from AWS
(``terraform plan -refresh-only``): what differs from the state, in an
attribute the configuration sets, is drift: a change someone or something made
outside this code (a console edit, a deleted alarm, a policy loosened by hand).
A refresh also reads back what the configuration leaves to AWS or to another
resource, and AWS's spelling of an empty value: neither is reported. The plan (``<outdir>/plan/<stack>.drift.*``)
changes nothing; applying it would only record the drift in the state, so the
fix is a reviewed change of the code or a deploy. Prints one line per drifted
resource with the attributes that changed; exit status 0 when nothing drifted,
2 when something did (the scheduled pipeline fails then), 1 on an error.
Standard library only, like the plan summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from config.settings import EMULATOR_CREDENTIALS, load_config

DRIFT: Final = 2
META_ARGUMENTS: Final = frozenset({"depends_on", "lifecycle", "provider", "count", "for_each", "provisioner"})


#: Attributes no resource's configuration names, set through the provider: drift in them is drift too.
PROVIDER_SET: Final = frozenset({"tags_all"})


def normal(value: Any) -> Any:
    """A value as it means: empty is absent (AWS answers ``{}`` where the state holds null), JSON text parsed."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        kept = {key: normal(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item is not None} or None
    if isinstance(value, list):
        items = [normal(item) for item in value]
        return None if all(item is None for item in items) else items
    return None if value == "" else value


def changed_attributes(before: Any, after: Any, configured: frozenset[str]) -> list[str]:
    """The configured attributes whose meaning differs, sorted.

    Only those the configuration sets (and the provider's default tags): an attribute the stack leaves to AWS or
    to another resource (a bucket's ``policy``, set by its ``aws_s3_bucket_policy``) is read back by a refresh
    as a change, but nothing changed it outside Terraform.
    """
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    keys = (before.keys() | after.keys()) & (configured | PROVIDER_SET)
    return sorted(key for key in keys if normal(before.get(key)) != normal(after.get(key)))


def configured_attributes(stack: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Each resource's address and the attributes its synthesized configuration sets."""
    return {
        f"{kind}.{name}": frozenset(key for key in body if not key.startswith("//") and key not in META_ARGUMENTS)
        for kind, bodies in stack.get("resource", {}).items()
        for name, body in bodies.items()
    }


def summarize(plan: Mapping[str, Any], configured: Mapping[str, frozenset[str]]) -> list[str]:
    """One line per resource changed outside Terraform: deleted, or the configured attributes that differ."""
    lines = []
    for drift in plan.get("resource_drift", []):
        change = drift["change"]
        if change["actions"] == ["delete"]:
            lines.append(f"{drift['address']}: deleted outside Terraform")
            continue
        attributes = changed_attributes(
            change.get("before"), change.get("after"), configured.get(drift["address"], frozenset())
        )
        if attributes:
            lines.append(f"{drift['address']}: {', '.join(attributes)}")
    return lines


def terraform(stack_dir: Path, *args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["terraform", f"-chdir={stack_dir}", *args], env=dict(env), capture_output=True, text=True, check=False
    )


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python3 -m pipeline.drift STACK_DIR", file=sys.stderr)
        return 1
    stack_dir = Path(argv[0]).resolve()
    config = load_config()
    env = {**os.environ, **(EMULATOR_CREDENTIALS if config.is_local else {})}
    plan_dir = stack_dir.parent.parent / "plan"
    plan_dir.mkdir(parents=True, exist_ok=True)
    saved = plan_dir / f"{stack_dir.name}.drift.tfplan"
    print(f"==> drift of {stack_dir.name} ({config.environment}): terraform plan -refresh-only", flush=True)
    steps = (
        ("init", "-reconfigure", "-input=false", "-no-color"),
        ("plan", "-refresh-only", "-input=false", "-no-color", f"-out={saved}"),
    )
    for step in steps:
        result = terraform(stack_dir, *step, env=env)
        if result.returncode != 0:
            print(result.stdout[-4000:] + result.stderr[-4000:], file=sys.stderr)
            return 1
    shown = terraform(stack_dir, "show", "-json", str(saved), env=env)
    if shown.returncode != 0:
        print(shown.stderr, file=sys.stderr)
        return 1
    (plan_dir / f"{stack_dir.name}.drift.json").write_text(shown.stdout, encoding="utf-8")
    stack = json.loads((stack_dir / "cdk.tf.json").read_text(encoding="utf-8"))
    lines = summarize(json.loads(shown.stdout), configured_attributes(stack))
    if not lines:
        print(f"No drift: {stack_dir.name} in {config.environment} is as its state says.")
        return 0
    print(f"DRIFT: {len(lines)} resource(s) of {stack_dir.name} in {config.environment} changed outside Terraform:")
    for line in lines:
        print(f"  - {line}")
    print("Fix it with a reviewed change (or a deploy of the code as it is); the plan: " + str(saved))
    return DRIFT


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
