"""``make drift ENV=<name>``: has the deployment changed outside Terraform? A refresh-only plan, summarized.

    python3 -m pipeline.drift STACK_DIR

Terraform reads every resource of the stack's state back from AWS
(``terraform plan -refresh-only``): what differs from the state is drift, a
change someone or something made outside this code (a console edit, a deleted
alarm, a policy loosened by hand). The plan (``<outdir>/plan/<stack>.drift.*``)
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


def changed_attributes(before: Any, after: Any) -> list[str]:
    """The top-level attributes whose values differ (``tags``, ``policy``, ...), sorted."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))


def summarize(plan: Mapping[str, Any]) -> list[str]:
    """One line per resource Terraform found changed outside it: deleted, or which attributes differ."""
    lines = []
    for drift in plan.get("resource_drift", []):
        change = drift["change"]
        if change["actions"] == ["delete"]:
            lines.append(f"{drift['address']}: deleted outside Terraform")
        else:
            attributes = ", ".join(changed_attributes(change.get("before"), change.get("after"))) or "changed"
            lines.append(f"{drift['address']}: {attributes}")
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
    lines = summarize(json.loads(shown.stdout))
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
