"""The checkov gate: every check passes on the synthesized stacks, or the gate fails.

    checkov_gate.py STACK_JSON [STACK_JSON ...]

Runs checkov (``--framework terraform_json``) on each synthesized
``cdk.tf.json`` and fails unless, for every file, checkov parsed it without
error, ran at least one check, and every failed check is allowed by an entry of
``security/checkov-skips.toml`` (check id + construct path + reason). Checkov
exits 0 having run nothing on a file it cannot parse, and ignores skip comments
in JSON: both are why this gate exists instead of plain ``checkov -f``.

Checkov cannot parse a ``terraform.required_version`` setting or a ``moved``
block in JSON (it reports a parsing error and runs no check); the gate scans a
copy without them. Neither configures a resource: ``moved`` only tells
Terraform a resource's old address, so nothing checkov checks is lost.
With ``--all-stacks``, a skip that no longer matches any failure fails the
gate too, so the list cannot go stale.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.settings import PROJECT_ROOT

DEFAULT_SKIPS = PROJECT_ROOT / "security" / "checkov-skips.toml"
DEFAULT_CHECKOV = PROJECT_ROOT / ".venv-checkov" / "bin" / "checkov"


@dataclass(frozen=True)
class Skip:
    check: str
    path: str
    reason: str

    def matches(self, check: str, path: str) -> bool:
        return self.check == check and fnmatch.fnmatchcase(path, self.path)


def load_skips(path: Path) -> list[Skip]:
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    skips = []
    for entry in document.get("skip", []):
        missing = {"check", "path", "reason"} - entry.keys()
        if missing or not str(entry.get("reason", "")).strip():
            raise SystemExit(f"{path}: every [[skip]] needs check, path and a non-empty reason: {entry}")
        skips.append(Skip(entry["check"], entry["path"], entry["reason"]))
    return skips


def construct_paths(document: dict[str, Any]) -> dict[str, str]:
    """Terraform address ("aws_s3_bucket.name") → construct path ("stack/state/bucket").

    Checkov names some resources "resource.<name>" instead of "<type>.<name>"
    (seen for aws_dynamodb_table), and data sources "data.<name>", so each
    path is also filed under that name.
    """
    paths = {}
    for kind, resources in document.get("resource", {}).items():
        for name, body in resources.items():
            path = body.get("//", {}).get("metadata", {}).get("path", f"{kind}.{name}")
            paths[f"{kind}.{name}"] = path
            paths[f"resource.{name}"] = path
    for kind, sources in document.get("data", {}).items():
        for name, body in sources.items():
            path = body.get("//", {}).get("metadata", {}).get("path", f"data.{kind}.{name}")
            paths[f"data.{kind}.{name}"] = path
            paths[f"data.{name}"] = path
    return paths


def scan(stack_json: Path, checkov: Path) -> tuple[dict[str, Any], dict[str, str]]:
    document = json.loads(stack_json.read_text(encoding="utf-8"))
    document.get("terraform", {}).pop("required_version", None)
    document.pop("moved", None)
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / "cdk.tf.json"
        copy.write_text(json.dumps(document), encoding="utf-8")
        run = subprocess.run(
            [
                str(checkov),
                "--framework",
                "terraform_json",
                "--skip-download",
                "--quiet",
                "-o",
                "json",
                "-f",
                str(copy),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        raise SystemExit(
            f"checkov produced no JSON report for {stack_json} (exit {run.returncode}):\n{run.stderr[-2000:]}"
        ) from None
    if isinstance(report, list):
        raise SystemExit(f"checkov reported several frameworks for {stack_json}; expected terraform_json only")
    return report, construct_paths(document)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stacks", nargs="+", type=Path)
    parser.add_argument("--skips", type=Path, default=DEFAULT_SKIPS)
    parser.add_argument("--checkov", type=Path, default=DEFAULT_CHECKOV)
    parser.add_argument(
        "--all-stacks", action="store_true", help="the files are every stack: also fail on a skip that matched nothing"
    )
    args = parser.parse_args(argv)
    skips = load_skips(args.skips)
    used: set[Skip] = set()
    problems: list[str] = []
    for stack_json in args.stacks:
        try:
            report, paths = scan(stack_json, args.checkov)
        except (OSError, ValueError) as error:
            problems.append(f"{stack_json}: cannot be read as JSON: {error}")
            continue
        summary = report.get("summary", {})
        passed, failed = summary.get("passed", 0), summary.get("failed", 0)
        if summary.get("parsing_errors", 0):
            problems.append(f"{stack_json}: checkov could not parse it (parsing_errors={summary['parsing_errors']})")
        if passed + failed == 0:
            problems.append(f"{stack_json}: checkov ran no check at all")
        allowed = 0
        for result in report.get("results", {}).get("failed_checks", []):
            path = paths.get(result["resource"], result["resource"])
            skip = next((s for s in skips if s.matches(result["check_id"], path)), None)
            if skip:
                used.add(skip)
                allowed += 1
            else:
                problems.append(f"{stack_json}: {result['check_id']} failed on {path}: {result['check_name']}")
        print(f"checkov {stack_json}: {passed} passed, {failed - allowed} failed, {allowed} skipped with a reason")
    if args.all_stacks:
        problems += [
            f"{args.skips}: skip {skip.check} {skip.path} matched no failed check: remove it"
            for skip in skips
            if skip not in used
        ]
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
