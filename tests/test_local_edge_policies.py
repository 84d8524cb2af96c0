"""``scripts/local_edge/policies.py``: the website bucket's policy, read as S3 reads it for CloudFront.

The policy is the one the stack synthesizes (``modules/website.py``), as S3 hands
it back, with the references filled in; then each way it could be wrong.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from scripts.local_edge.policies import cloudfront_may

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


def may(policy: dict[str, Any] | None, action: str = "s3:GetObject", resource: str = OBJECT) -> bool:
    return cloudfront_may(policy, action=action, resource=resource, distribution_arn=DISTRIBUTION)


def changed(sid: str, **fields: Any) -> dict[str, Any]:
    policy = copy.deepcopy(POLICY)
    statement = next(s for s in policy["Statement"] if s["Sid"] == sid)
    statement.update(fields)
    return policy


def test_the_deployed_policy_admits_its_distribution_to_read_and_list() -> None:
    assert may(POLICY)
    assert may(POLICY, "s3:ListBucket", LISTING)
    assert not may(POLICY, "s3:PutObject")
    assert not cloudfront_may(POLICY, action="s3:GetObject", resource=OBJECT, distribution_arn=OTHER_DISTRIBUTION)


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
