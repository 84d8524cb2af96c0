"""pipeline/plan_summary.py on small plans in Terraform's JSON plan format (`terraform show -json`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline import plan_summary
from tests.conftest import ROOT

SCRIPT = ROOT / "pipeline" / "plan_summary.py"
TABLE = "aws_dynamodb_table.students_table_AD3F94AA"
BUCKET = "aws_s3_bucket.backup-storage_backups_bucket_C8865D09"


def change(address: str, actions: list[str], **extra: Any) -> dict[str, Any]:
    """One `resource_changes` entry, as Terraform writes it."""
    resource_type, name = address.split(".", 1)
    before = None if actions == ["create"] else {"id": name}
    after = None if actions == ["delete"] else {"id": name}
    return {
        "address": address,
        "mode": "managed",
        "type": resource_type,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": {},
            "before_sensitive": {} if before is not None else False,
            "after_sensitive": {} if after is not None else False,
        },
        **extra,
    }


def plan(*changes: dict[str, Any], outputs: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """A plan document: format_version, planned_values, resource_changes (omitted when empty, as Terraform does)."""
    document: dict[str, Any] = {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "planned_values": {"root_module": {}},
        "configuration": {"root_module": {}},
        "timestamp": "2025-07-06T00:00:00Z",
        "applyable": bool(changes or outputs),
        "complete": True,
        "errored": False,
    }
    if changes:
        document["resource_changes"] = list(changes)
    if outputs:
        document["output_changes"] = {
            name: {"actions": actions, "before": None, "after": "x", "after_unknown": False}
            for name, actions in outputs.items()
        }
    return document


def write(tmp_path: Path, stack: str, document: dict[str, Any]) -> Path:
    path = tmp_path / f"{stack}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


DANGEROUS = plan(
    change("aws_lambda_function.read-function_321B0B3F", ["create"]),
    change("aws_lambda_function.insert-function_1ED0ED91", ["update"]),
    change("aws_iam_role_policy.read-function_policy_88E67C57", ["update"]),
    change(TABLE, ["delete", "create"], action_reason="replace_because_cannot_update"),
    change(BUCKET, ["delete"], action_reason="delete_because_no_resource_config"),
    change("aws_s3_bucket_versioning.backup-storage_backups_versioning_C7FE74EC", ["delete"]),
    change("aws_api_gateway_deployment.api_deployment_3C116365", ["create", "delete"]),
    change("aws_secretsmanager_secret_version.api_key-secret-value_60804429", ["delete", "create"]),
    change("aws_ses_email_identity.email_adminexamplecom_50FA10D8", ["no-op"]),
    {**change("data.aws_caller_identity.current", ["read"]), "mode": "data", "type": "aws_caller_identity"},
)


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str], **environ: str) -> tuple[int, str, str]:
    status = plan_summary.main(argv, environ)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_summary_counts_changes_by_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_main([str(write(tmp_path, "student-management", DANGEROUS))], capsys)
    assert status == 0
    assert "== student-management: 1 to add, 2 to change, 3 to replace, 2 to destroy" in out
    rows = {line.split()[0]: line.split()[1:5] for line in out.splitlines() if line.startswith("   aws_")}
    assert rows == {
        "aws_api_gateway_deployment": [".", ".", "1", "."],
        "aws_dynamodb_table": [".", ".", "1", "."],
        "aws_iam_role_policy": [".", "1", ".", "."],
        "aws_lambda_function": ["1", "1", ".", "."],
        "aws_s3_bucket": [".", ".", ".", "1"],
        "aws_s3_bucket_versioning": [".", ".", ".", "1"],
        "aws_secretsmanager_secret_version": [".", ".", "1", "."],
    }
    assert "aws_ses_email_identity" not in out and "aws_caller_identity" not in out


def test_replaced_table_and_destroyed_bucket_are_listed_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bootstrap = write(tmp_path, "state-bootstrap", plan())
    app = write(tmp_path, "student-management", DANGEROUS)
    _, out, _ = run_main([str(bootstrap), str(app)], capsys)
    lines = out.splitlines()
    assert lines[0].startswith("!!!!") and "2 STATEFUL RESOURCE(S) WOULD BE DESTROYED OR REPLACED" in lines[1]
    banner = "\n".join(lines[: lines.index(lines[0], 1) + 1])
    assert f"REPLACE  {TABLE}" in banner and f"DESTROY  {BUCKET}" in banner
    assert "student-management" in banner and "data in it is lost" in banner
    # Sub-resources of a bucket, other replacements and the secret's version are not stateful.
    assert "versioning" not in banner and "api_deployment" not in banner and "secret-value" not in banner
    assert out.index("== state-bootstrap: no changes") > out.index(BUCKET)


def test_guard_refuses_stateful_losses_naming_them(tmp_path: Path) -> None:
    path = write(tmp_path, "student-management", DANGEROUS)
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.plan_summary", "--guard", str(path)],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    for address, resource_type, action in (
        (TABLE, "aws_dynamodb_table", "REPLACE"),
        (BUCKET, "aws_s3_bucket", "DESTROY"),
    ):
        line = next(line for line in result.stderr.splitlines() if address in line)
        assert action in line and resource_type in line
    assert result.stderr.count("data in it is lost") == 2
    assert "ALLOW_REPLACE=1 make deploy" in result.stderr


def test_allow_replace_passes_the_guard_with_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "student-management", DANGEROUS)
    status, out, _ = run_main(["--guard", str(path)], capsys, ALLOW_REPLACE="1")
    assert status == 0
    assert out.startswith("WARNING: ALLOW_REPLACE=1") and TABLE in out and BUCKET in out
    status, _, err = run_main(["--guard", str(path)], capsys, ALLOW_REPLACE="yes")
    assert status == 2 and TABLE in err


def test_creating_and_updating_stateful_resources_passes_the_guard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        "student-management",
        plan(
            change(TABLE, ["update"]),
            change(BUCKET, ["create"]),
            change("aws_cloudwatch_log_group.read-function_logs_DD305A83", ["create"]),
            change("aws_secretsmanager_secret.api_key-secret_209F768E", ["update"]),
            change("aws_s3_bucket_policy.backup-storage_backups_policy_A134DA73", ["delete", "create"]),
        ),
    )
    status, out, _ = run_main(["--guard", str(path)], capsys)
    assert (status, out) == (0, "guard: no stateful resource is destroyed or replaced\n")
    _, out, _ = run_main([str(path)], capsys)
    assert "!!!" not in out and "== student-management: 2 to add, 2 to change, 1 to replace, 0 to destroy" in out


def test_no_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = write(tmp_path, "state-bootstrap", plan())
    noop = write(tmp_path, "student-management", plan(change(TABLE, ["no-op"]), outputs={"table_name": ["no-op"]}))
    status, out, _ = run_main([str(empty), str(noop)], capsys)
    assert status == 0
    assert out == "== state-bootstrap: no changes\n== student-management: no changes\n"
    assert run_main(["--guard", str(empty), str(noop)], capsys)[0] == 0


def test_a_file_that_is_not_a_plan_fails_with_status_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = write(tmp_path, "terraform", {"version": 4, "resources": []})
    status, _, err = run_main(["--guard", str(state)], capsys)
    assert status == 1 and "not a Terraform plan" in err
