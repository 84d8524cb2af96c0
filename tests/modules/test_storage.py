"""Tutorial sections 2.4, 2.5 and 6.5: table, backup bucket, log bucket, SES."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import TARGETS, Synth
from tests.storage_properties import APP, BACKUPS, CHECKS, LOGS, TABLE
from tests.synth_helpers import Doc, assert_check_catches, data_sources, resource


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("target", TARGETS)
def test_storage_requirement_holds(synth: dict[str, Synth], target: str, check: str) -> None:
    CHECKS[check](synth[target].stack(APP))


def _statement(stack: Doc, bucket: str, sid: str) -> Doc:
    document = data_sources(stack, "aws_iam_policy_document")[f"{bucket}/policy-document"]
    return next(s for s in document["statement"] if s.get("sid") == sid)


def _set(path: str, kind: str, key: str, value: object) -> Callable[[Doc], None]:
    def mutate(stack: Doc) -> None:
        resource(stack, kind, path)[key] = value

    return mutate


def _widen_principal(stack: Doc) -> None:
    _statement(stack, BACKUPS, "AllowBackupRolePutObject")["principals"] = [{"type": "AWS", "identifiers": ["*"]}]


def _add_action(stack: Doc) -> None:
    _statement(stack, BACKUPS, "AllowBackupRolePutObject")["actions"].append("s3:GetObject")


def _drop_tls_deny(stack: Doc) -> None:
    document = data_sources(stack, "aws_iam_policy_document")[f"{LOGS}/policy-document"]
    document["statement"] = [s for s in document["statement"] if s.get("sid") != "DenyInsecureTransport"]


def _drop_tag(stack: Doc) -> None:
    del stack["provider"]["aws"][0]["default_tags"][0]["tags"]["Environment"]


MUTATIONS: dict[str, tuple[Callable[[Doc], None], str]] = {
    "versioning suspended": (
        _set(f"{BACKUPS}/versioning", "aws_s3_bucket_versioning", "versioning_configuration", {"status": "Suspended"}),
        "check_versioning",
    ),
    "bucket policy principal widened": (_widen_principal, "check_backup_policy"),
    "bucket policy action added": (_add_action, "check_backup_policy"),
    "TLS deny removed": (_drop_tls_deny, "check_tls_only"),
    "public ACLs allowed": (
        _set(f"{LOGS}/public-access-block", "aws_s3_bucket_public_access_block", "block_public_acls", False),
        "check_public_access_block",
    ),
    "ACLs re-enabled": (
        _set(f"{BACKUPS}/ownership", "aws_s3_bucket_ownership_controls", "rule", {"object_ownership": "ObjectWriter"}),
        "check_ownership_enforced",
    ),
    "PITR off": (
        _set(TABLE, "aws_dynamodb_table", "point_in_time_recovery", {"enabled": False}),
        "check_table_protection",
    ),
    "deletion protection off": (
        _set(TABLE, "aws_dynamodb_table", "deletion_protection_enabled", False),
        "check_table_protection",
    ),
    "sort key added": (_set(TABLE, "aws_dynamodb_table", "range_key", "name"), "check_table_schema"),
    "provisioned capacity": (_set(TABLE, "aws_dynamodb_table", "billing_mode", "PROVISIONED"), "check_table_schema"),
    "log prefix changed": (
        _set(f"{BACKUPS}/logging", "aws_s3_bucket_logging", "target_prefix", ""),
        "check_access_logging",
    ),
    "tag dropped": (_drop_tag, "check_tags"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_property_checks_catch_a_broken_requirement(synth: dict[str, Synth], mutation: str) -> None:
    mutate, check = MUTATIONS[mutation]
    assert_check_catches(synth["aws"].stack(APP), CHECKS[check], mutate)
