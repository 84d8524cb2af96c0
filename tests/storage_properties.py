"""The storage requirements (issue: data and backup storage), as checks over a synthesized stack.

Each check raises AssertionError when the stack breaks one requirement. The
tests run them on the real synthesized JSON, and on mutated copies to prove
each check catches the break it is named for.
"""

from __future__ import annotations

from collections.abc import Callable

from config.settings import APP_STACK
from lambdas.common import names
from tests.synth_helpers import Doc, is_local, policy_statements, ref, resource

#: Construct paths of the checked resources start with the application stack's name.
APP = APP_STACK
TABLE = f"{APP}/students/table"
BACKUPS = f"{APP}/backup-storage/backups"
LOGS = f"{APP}/backup-storage/logs"
BACKUP_ROLE = f"{APP}/backup-role/role"
TAGS = {"Project": "StudentManagement", "Environment": "Production"}
#: The local environment's tags: the emulator is an account of its own.
LOCAL_TAGS = {"Project": "StudentManagement", "Environment": "Local"}


def check_table_schema(stack: Doc) -> None:
    table = resource(stack, "aws_dynamodb_table", TABLE)
    assert table["name"] == "studentData"
    assert table["hash_key"] == names.STUDENT_KEY == "studentid"
    assert "range_key" not in table
    assert table["attribute"] == [{"name": "studentid", "type": "S"}]
    assert table["billing_mode"] == "PAY_PER_REQUEST"


def check_table_protection(stack: Doc) -> None:
    table = resource(stack, "aws_dynamodb_table", TABLE)
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"] == {"enabled": True}
    assert table["deletion_protection_enabled"] is True
    assert table["lifecycle"] == {"prevent_destroy": True}


def check_tags(stack: Doc) -> None:
    assert stack["provider"]["aws"][0]["default_tags"] == [{"tags": LOCAL_TAGS if is_local(stack) else TAGS}]


def check_versioning(stack: Doc) -> None:
    for bucket in (BACKUPS, LOGS):
        versioning = resource(stack, "aws_s3_bucket_versioning", f"{bucket}/versioning")
        assert versioning["versioning_configuration"] == {"status": "Enabled"}
        assert versioning["bucket"] == ref(stack, "aws_s3_bucket", f"{bucket}/bucket", "id")


def check_public_access_block(stack: Doc) -> None:
    for bucket in (BACKUPS, LOGS):
        block = resource(stack, "aws_s3_bucket_public_access_block", f"{bucket}/public-access-block")
        for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
            assert block[flag] is True, flag


def check_ownership_enforced(stack: Doc) -> None:
    for bucket in (BACKUPS, LOGS):
        rule = resource(stack, "aws_s3_bucket_ownership_controls", f"{bucket}/ownership")["rule"]
        assert rule == {"object_ownership": "BucketOwnerEnforced"}


def check_encryption(stack: Doc) -> None:
    for bucket in (BACKUPS, LOGS):
        config = resource(stack, "aws_s3_bucket_server_side_encryption_configuration", f"{bucket}/encryption")
        assert config["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] in ("AES256", "aws:kms")


def check_lifecycle(stack: Doc) -> None:
    backup_rules = resource(stack, "aws_s3_bucket_lifecycle_configuration", f"{BACKUPS}/lifecycle")["rule"]
    assert any(rule.get("noncurrent_version_expiration") and rule["status"] == "Enabled" for rule in backup_rules)
    log_rules = resource(stack, "aws_s3_bucket_lifecycle_configuration", f"{LOGS}/lifecycle")["rule"]
    assert any(rule.get("expiration") and rule["status"] == "Enabled" for rule in log_rules)
    for rule in backup_rules + log_rules:
        assert rule["abort_incomplete_multipart_upload"][0]["days_after_initiation"] > 0


def check_access_logging(stack: Doc) -> None:
    logging = resource(stack, "aws_s3_bucket_logging", f"{BACKUPS}/logging")
    assert logging["bucket"] == ref(stack, "aws_s3_bucket", f"{BACKUPS}/bucket", "id")
    assert logging["target_bucket"] == ref(stack, "aws_s3_bucket", f"{LOGS}/bucket", "id")
    assert logging["target_prefix"] == "student-backup/"
    assert resource(stack, "aws_s3_bucket", f"{LOGS}/bucket")["bucket"] == "student-backup-logs-20250706"
    statement = policy_statements(stack, f"{LOGS}/policy-document")["S3ServerAccessLogsPolicy"]
    assert statement["principals"] == [{"type": "Service", "identifiers": ["logging.s3.amazonaws.com"]}]
    assert statement["actions"] == ["s3:PutObject"]
    tests = {condition["variable"]: condition for condition in statement["condition"]}
    assert tests["aws:SourceArn"]["values"][0].endswith(":s3:::student-backup-20250706")
    assert tests["aws:SourceAccount"]["values"][0].endswith(".account_id}")


def check_backup_policy(stack: Doc) -> None:
    assert resource(stack, "aws_s3_bucket", f"{BACKUPS}/bucket")["bucket"] == "student-backup-20250706"
    statements = policy_statements(stack, f"{BACKUPS}/policy-document")
    allows = [s for s in statements.values() if s["effect"] == "Allow"]
    assert len(allows) == 1
    allow = allows[0]
    assert allow["principals"] == [{"type": "AWS", "identifiers": [ref(stack, "aws_iam_role", BACKUP_ROLE, "arn")]}]
    assert allow["actions"] == ["s3:PutObject"]
    assert len(allow["resources"]) == 1
    assert allow["resources"][0].endswith(":s3:::student-backup-20250706/backups/*")
    assert "condition" not in allow


def check_tls_only(stack: Doc) -> None:
    for bucket in (BACKUPS, LOGS):
        statements = policy_statements(stack, f"{bucket}/policy-document")
        assert "DenyInsecureTransport" in statements, f"{bucket} has no TLS-only statement"
        deny = statements["DenyInsecureTransport"]
        assert deny["effect"] == "Deny"
        assert deny["principals"] == [{"type": "*", "identifiers": ["*"]}]
        assert deny["actions"] == ["s3:*"]
        arn = ref(stack, "aws_s3_bucket", f"{bucket}/bucket", "arn")
        assert sorted(deny["resources"]) == sorted([arn, f"{arn}/*"])
        assert deny["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]


def check_ses_identities(stack: Doc) -> None:
    identities = stack["resource"]["aws_ses_email_identity"].values()
    assert sorted(identity["email"] for identity in identities) == ["admin@example.com", "noreply@example.com"]


CHECKS: dict[str, Callable[[Doc], None]] = {
    check.__name__: check
    for check in (
        check_table_schema,
        check_table_protection,
        check_tags,
        check_versioning,
        check_public_access_block,
        check_ownership_enforced,
        check_encryption,
        check_lifecycle,
        check_access_logging,
        check_backup_policy,
        check_tls_only,
        check_ses_identities,
    )
}
