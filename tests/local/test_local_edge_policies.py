"""``local/edge/policies.py``: the website bucket's policy, read as S3 reads it for CloudFront.

What the emulator answers the edge for the site (``local.emulator.iam.decision.authorize_call``
with the service principal): ``decide`` for ``cloudfront.amazonaws.com``, with
the distribution's ARN as ``AWS:SourceArn``.

The policy is the one the stack synthesizes (``modules/site/website.py``), as S3 hands
it back, with the references filled in; then each way it could be wrong.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from local.edge.policies import CLOUDFRONT, Caller, Decision, allows, decide

BUCKET = "student-management-website-2025"
DISTRIBUTION = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL"
OTHER_DISTRIBUTION = "arn:aws:cloudfront::123456789012:distribution/EOTHER000000"
OBJECT = f"arn:aws:s3:::{BUCKET}/index.html"
LISTING = f"arn:aws:s3:::{BUCKET}"
READ, DENY = "AllowCloudFrontReadObjects", "DenyInsecureTransport"

#: The website bucket's policy as deployed (its three statements, as IAM JSON).
POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowCloudFrontReadObjects",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
            "Condition": {"StringEquals": {"AWS:SourceArn": DISTRIBUTION}},
        },
        {
            "Sid": "AllowCloudFrontListKeys",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {"StringEquals": {"AWS:SourceArn": DISTRIBUTION}},
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ],
}


def may(
    policy: dict[str, Any] | None,
    action: str = "s3:GetObject",
    resource: str = OBJECT,
    distribution: str = DISTRIBUTION,
) -> bool:
    context = {"aws:SecureTransport": "true", "AWS:SourceArn": distribution}
    return allows(policy, service=CLOUDFRONT, action=action, resource=resource, context=context)


def changed(sid: str, **fields: Any) -> dict[str, Any]:
    policy = copy.deepcopy(POLICY)
    statement = next(s for s in policy["Statement"] if s["Sid"] == sid)
    statement.update(fields)
    return policy


def test_the_deployed_policy_admits_its_distribution_to_read_and_list() -> None:
    assert may(POLICY)
    assert may(POLICY, "s3:ListBucket", LISTING)
    assert not may(POLICY, "s3:PutObject")
    assert not may(POLICY, distribution=OTHER_DISTRIBUTION)


@pytest.mark.parametrize(
    ("mistake", "policy"),
    [
        ("no policy", None),
        (
            "another distribution",
            changed(READ, Condition={"StringEquals": {"AWS:SourceArn": OTHER_DISTRIBUTION}}),
        ),
        ("another principal", changed(READ, Principal={"Service": "lambda.amazonaws.com"})),
        ("another action", changed(READ, Action="s3:GetObjectVersion")),
        ("the bucket, not its objects", changed(READ, Resource=LISTING)),
        ("another bucket", changed(READ, Resource="arn:aws:s3:::other/*")),
        (
            "a condition not evaluated here",
            changed(READ, Condition={"NumericLessThan": {"x": "1"}}),
        ),
        ("a deny of every read", changed(DENY, Condition={})),
        ("a deny that cannot be evaluated", changed(DENY, Condition={"NumericLessThan": {"aws:SecureTransport": "1"}})),
        ("a deny by NotPrincipal", changed(DENY, NotPrincipal={"AWS": "x"}, Condition={})),
    ],
)
def test_a_wrong_policy_keeps_the_distribution_out(mistake: str, policy: dict[str, Any] | None) -> None:
    assert not may(policy), mistake


def test_a_missing_key_is_a_404_only_where_the_policy_grants_listing() -> None:
    unlisted = copy.deepcopy(POLICY)
    unlisted["Statement"] = [s for s in unlisted["Statement"] if s["Sid"] != "AllowCloudFrontListKeys"]
    assert may(unlisted) and not may(unlisted, "s3:ListBucket", LISTING)


def test_wildcards_and_conditions_if_exists_read_as_iam_reads_them() -> None:
    wildcard = changed(
        "AllowCloudFrontReadObjects",
        Action="s3:Get*",
        Condition={"ArnLike": {"aws:sourcearn": "arn:aws:cloudfront::*:distribution/E2Q*"}},
    )
    assert may(wildcard)
    if_exists = changed(READ, Condition={"StringEqualsIfExists": {"aws:Referer": "x"}})
    assert may(if_exists), "an absent key satisfies an ...IfExists condition"
    assert not may(changed(READ, Condition={"StringEquals": {"aws:Referer": "x"}}))


# --- a role session's requests, as the emulator decides them (``local/emulator/iam/``) ---------------

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/DynamoDBBackupRole"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/DynamoDBBackupRole/BackupDynamoDBAndSendEmail"
BACKUP = Caller(account=ACCOUNT, arns=(ROLE, SESSION))
ADMINISTRATOR = Caller(account=ACCOUNT, arns=(f"arn:aws:iam::{ACCOUNT}:user/moto",))
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/studentData"
BACKUP_OBJECT = "arn:aws:s3:::student-backup-20250706/backups/backup-1.json"
IDENTITY = {"Statement": [{"Sid": "ScanStudents", "Effect": "Allow", "Action": "dynamodb:Scan", "Resource": TABLE}]}
#: The backup bucket's two grants and denies (modules/backup/storage.py), as S3 hands them back.
BACKUP_BUCKET_POLICY = {
    "Statement": [
        {
            "Sid": "AllowBackupRolePutObject",
            "Effect": "Allow",
            "Principal": {"AWS": ROLE},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::student-backup-20250706/backups/*",
        },
        {
            "Sid": "DenyPutObjectExceptBackupRole",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::student-backup-20250706/*",
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": ROLE}},
        },
    ]
}


def as_caller(caller: Caller, action: str, resource: str, **extra: str) -> Decision:
    context = {"aws:SecureTransport": "true", "aws:PrincipalArn": caller.arns[0], **extra}
    identity = None if caller is ADMINISTRATOR else [IDENTITY]
    policy = BACKUP_BUCKET_POLICY if resource.startswith("arn:aws:s3") else None
    return decide(
        caller, action=action, resources=[resource], identity=identity, resource_policy=policy, context=context
    )


def test_a_role_may_do_what_its_identity_policy_allows_on_the_named_resource_only() -> None:
    assert as_caller(BACKUP, "dynamodb:Scan", TABLE).allowed
    refused = as_caller(BACKUP, "dynamodb:Scan", TABLE + "-other")
    assert not refused.allowed
    assert refused.reason == (
        f"User: {SESSION} is not authorized to perform: dynamodb:Scan on resource: {TABLE}-other "
        "because no identity-based policy allows the dynamodb:Scan action"
    )
    assert not as_caller(BACKUP, "dynamodb:PutItem", TABLE).allowed


def test_a_bucket_policy_naming_the_role_grants_it_and_its_arn_not_equals_deny_refuses_everyone_else() -> None:
    assert as_caller(BACKUP, "s3:PutObject", BACKUP_OBJECT).allowed  # the bucket's grant; none in its identity
    refused = as_caller(ADMINISTRATOR, "s3:PutObject", BACKUP_OBJECT)
    assert not refused.allowed
    assert refused.reason.endswith("with an explicit deny in a resource-based policy (DenyPutObjectExceptBackupRole)")
    assert as_caller(ADMINISTRATOR, "s3:GetObject", BACKUP_OBJECT).allowed


def test_a_negated_condition_holds_when_the_request_lacks_the_key_and_others_fail() -> None:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}
    for operator, applies in (("ArnNotEquals", True), ("StringNotLike", True), ("ArnEquals", False)):
        policy = {"Statement": [{**deny, "Condition": {operator: {"aws:SourceVpce": "vpce-1"}}}]}
        decision = decide(
            ADMINISTRATOR, action="s3:GetObject", resources=["*"], identity=None, resource_policy=policy, context={}
        )
        assert decision.allowed is not applies, operator
    absent = {"Statement": [{**deny, "Condition": {"Null": {"aws:SourceVpce": "true"}}}]}
    assert not decide(
        ADMINISTRATOR, action="s3:GetObject", resources=["*"], identity=None, resource_policy=absent, context={}
    ).allowed


def test_the_account_as_principal_grants_nothing_by_itself_but_its_deny_applies_to_every_identity() -> None:
    root = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    grant = {"Statement": [{"Effect": "Allow", "Principal": root, "Action": "s3:GetObject", "Resource": "*"}]}
    assert not decide(
        BACKUP, action="s3:GetObject", resources=["*"], identity=[IDENTITY], resource_policy=grant, context={}
    ).allowed
    refuse = {"Statement": [{"Effect": "Deny", "Principal": root, "Action": "s3:GetObject", "Resource": "*"}]}
    assert not decide(
        ADMINISTRATOR, action="s3:GetObject", resources=["*"], identity=None, resource_policy=refuse, context={}
    ).allowed


def test_what_cannot_be_evaluated_allows_nothing_and_denies_everything() -> None:
    unknown = {"NumericLessThan": {"s3:max-keys": "10"}}
    allow = {"Statement": [{"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": TABLE, "Condition": unknown}]}
    assert not decide(
        BACKUP,
        action="dynamodb:Scan",
        resources=[TABLE],
        identity=[allow],
        resource_policy=None,
        context={"s3:max-keys": "5"},
    ).allowed
    deny = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*", "Condition": unknown}]}
    assert not decide(
        BACKUP,
        action="dynamodb:Scan",
        resources=[TABLE],
        identity=[IDENTITY],
        resource_policy=deny,
        context={"s3:max-keys": "5"},
    ).allowed
