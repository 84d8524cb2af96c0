"""Security gates over the synthesized JSON: checkov and parliament, and proof that each can fail."""

from __future__ import annotations

import copy
import json
import subprocess
import tomllib
from pathlib import Path

import pytest
from parliament import analyze_policy_string

from config.settings import APP_STACK, DELIVERY_STACK
from tests.conftest import ROOT, STACKS, TARGETS, Synth
from tests.iam_policies import is_key_policy, is_trust_policy, policy_documents

#: `make check` leaves this module to `make test`: checkov and parliament over every stack.
pytestmark = pytest.mark.slow

GATE = [str(ROOT / ".venv" / "bin" / "python"), "-m", "pipeline.checkov_gate"]


def run_gate(*files: Path, all_stacks: bool = False, skips: Path | None = None) -> subprocess.CompletedProcess[str]:
    options = [*(["--all-stacks"] if all_stacks else []), *(["--skips", str(skips)] if skips else [])]
    return subprocess.run([*GATE, *options, *map(str, files)], capture_output=True, text=True, check=False, timeout=600)


#: The variant with every optional resource of the site (WAF, access logs, custom domain).
PROTECTED_SITE = "protected-site"


def every_stack(synth: dict[str, Synth], variants: dict[str, Synth]) -> list[Path]:
    """Both stacks of both targets, the application stack with every optional resource on, the delivery identity."""
    default = [synth[target].stack_dir(stack) / "cdk.tf.json" for target in TARGETS for stack in STACKS]
    return [
        *default,
        variants[PROTECTED_SITE].stack_dir(APP_STACK) / "cdk.tf.json",
        variants["delivery"].stack_dir(DELIVERY_STACK) / "cdk.tf.json",
    ]


def test_checkov_gate_passes_on_every_synthesized_stack(synth: dict[str, Synth], variants: dict[str, Synth]) -> None:
    files = every_stack(synth, variants)
    gate = run_gate(*files, all_stacks=True)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    reports = [line for line in gate.stdout.splitlines() if line.startswith("checkov ")]
    assert len(reports) == len(files)
    for line in reports:
        assert ", 0 failed," in line
        passed = int(line.split(": ")[1].split(" passed")[0])
        assert passed > 10, line


def test_checkov_gate_fails_on_a_known_bad_resource(synth: dict[str, Synth], tmp_path: Path) -> None:
    stack = copy.deepcopy(synth["aws"].stack(APP_STACK))
    del stack["resource"]["aws_s3_bucket_public_access_block"]
    bad = tmp_path / "cdk.tf.json"
    bad.write_text(json.dumps(stack))
    gate = run_gate(bad)
    assert gate.returncode == 1
    assert f"CKV2_AWS_6 failed on {APP_STACK}/backup-storage/backups/bucket" in gate.stderr


def test_checkov_gate_fails_on_json_it_cannot_parse(tmp_path: Path) -> None:
    broken = tmp_path / "cdk.tf.json"
    broken.write_text('{"resource": {"aws_s3_bucket": ')
    gate = run_gate(broken)
    assert gate.returncode == 1
    assert "cannot be read as JSON" in gate.stderr


def test_checkov_gate_fails_when_checkov_runs_no_check(tmp_path: Path) -> None:
    empty = tmp_path / "cdk.tf.json"
    empty.write_text("{}")
    gate = run_gate(empty)
    assert gate.returncode == 1
    assert "ran no check" in gate.stderr


def test_checkov_gate_fails_on_a_stale_skip(
    synth: dict[str, Synth], variants: dict[str, Synth], tmp_path: Path
) -> None:
    skips = tmp_path / "skips.toml"
    skips.write_text(
        (ROOT / "security" / "checkov-skips.toml").read_text()
        + '\n[[skip]]\ncheck = "CKV_AWS_21"\npath = "*/bucket"\nreason = "versioning is on: this never matches"\n'
    )
    gate = run_gate(*every_stack(synth, variants), all_stacks=True, skips=skips)
    assert gate.returncode == 1
    assert "CKV_AWS_21 */bucket matched no failed check" in gate.stderr


def _allowed() -> list[dict[str, str]]:
    return tomllib.loads((ROOT / "security" / "parliament-allow.toml").read_text())["allow"]


def _findings(policy: str) -> list[tuple[str, str]]:
    result = analyze_policy_string(policy, ignore_private_auditors=True, include_community_auditors=True)
    return [(finding.issue, str(finding.detail)) for finding in result.findings]


def _is_allowed(issue: str, detail: str, policy: str) -> dict[str, str] | None:
    kind = "trust" if is_trust_policy(policy) else "key" if is_key_policy(policy) else "other"
    return next((a for a in _allowed() if (a["issue"], a["detail"], a["kind"]) == (issue, detail, kind)), None)


def test_parliament_finds_nothing_in_any_policy_document(synth: dict[str, Synth], variants: dict[str, Synth]) -> None:
    unexpected, used = [], set()
    documents = 0
    stacks = [(target, synth[target].stack(stack)) for target in TARGETS for stack in STACKS]
    stacks.append((PROTECTED_SITE, variants[PROTECTED_SITE].stack(APP_STACK)))
    for name, stack in stacks:
        for path, policy in policy_documents(stack).items():
            documents += 1
            for issue, detail in _findings(policy):
                allowed = _is_allowed(issue, detail, policy)
                if allowed is None:
                    unexpected.append(f"{name} {path}: {issue} {detail}")
                else:
                    used.add(allowed["detail"])
    assert documents >= 8
    assert unexpected == []
    assert used == {allowed["detail"] for allowed in _allowed()}, "an allow-list entry matches nothing"


@pytest.mark.parametrize(
    ("statement", "issue"),
    [
        ({"Effect": "Allow", "Action": "s3:PutObjekt", "Resource": "arn:aws:s3:::b/*"}, "UNKNOWN_ACTION"),
        (
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/t",
            },
            "RESOURCE_MISMATCH",
        ),
    ],
)
def test_parliament_reports_a_bad_policy(statement: dict[str, str], issue: str) -> None:
    findings = _findings(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    assert issue in [found for found, _ in findings]
