"""IAM policy documents of a synthesized stack, as the JSON AWS will evaluate.

Typed ``aws_iam_policy_document`` data sources become policy JSON at apply
time; here each is rendered the same way, with every Terraform reference
replaced by a realistic value of its kind, so linters can read it. A
reference of an unknown kind fails loudly rather than being guessed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.synth_helpers import Doc, data_sources

ACCOUNT = "123456789012"
_REFERENCE = re.compile(r"\$\{([^}]+)\}")
_PLACEHOLDERS = {
    ("aws_s3_bucket", "arn"): lambda name: f"arn:aws:s3:::bucket-{name.lower()}",
    ("aws_iam_role", "arn"): lambda name: f"arn:aws:iam::{ACCOUNT}:role/{name}",
    ("aws_dynamodb_table", "arn"): lambda name: f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}",
    ("aws_lambda_function", "arn"): lambda name: f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}",
    ("aws_cloudwatch_log_group", "arn"): lambda name: f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/{name}",
    ("aws_ses_email_identity", "arn"): lambda name: f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/{name}@example.com",
    ("aws_cloudfront_distribution", "arn"): lambda name: f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2QWRUHAPOMQZL",
    ("aws_sqs_queue", "arn"): lambda name: f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}",
    ("aws_sns_topic", "arn"): lambda name: f"arn:aws:sns:us-east-1:{ACCOUNT}:{name}",
    ("aws_iam_openid_connect_provider", "arn"): lambda name: (
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    ),
    ("data.aws_caller_identity", "account_id"): lambda name: ACCOUNT,
    ("data.aws_partition", "partition"): lambda name: "aws",
    ("data.aws_region", "name"): lambda name: "us-east-1",
}


def _resolve(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        parts = match.group(1).split(".")
        kind = ".".join(parts[:2]) if parts[0] == "data" else parts[0]
        name = parts[2] if parts[0] == "data" else parts[1]
        attribute = parts[-1]
        placeholder = _PLACEHOLDERS.get((kind, attribute))
        if placeholder is None:
            raise AssertionError(
                f"no placeholder for reference ${{{match.group(1)}}}: add one to tests/iam_policies.py"
            )
        return placeholder(name.replace("_", "-")[:40])

    return _REFERENCE.sub(replace, text)


def _render_statement(statement: Doc) -> dict[str, Any]:
    rendered: dict[str, Any] = {"Effect": statement.get("effect", "Allow")}
    if "sid" in statement:
        rendered["Sid"] = statement["sid"]
    for key, name in (("actions", "Action"), ("not_actions", "NotAction"), ("resources", "Resource")):
        if key in statement:
            rendered[name] = statement[key]
    if "principals" in statement:
        principals: dict[str, list[str]] = {}
        for principal in statement["principals"]:
            principals.setdefault(principal["type"], []).extend(principal["identifiers"])
        rendered["Principal"] = "*" if principals == {"*": ["*"]} else principals
    if "condition" in statement:
        conditions: dict[str, dict[str, list[str]]] = {}
        for condition in statement["condition"]:
            values = condition["values"]
            # One value is written as a scalar, as AWS itself returns it (and
            # parliament can only read Bool conditions that way).
            conditions.setdefault(condition["test"], {})[condition["variable"]] = (
                values[0] if len(values) == 1 else values
            )
        rendered["Condition"] = conditions
    return rendered


def policy_documents(stack: Doc) -> dict[str, str]:
    """Every typed policy document of the stack, by construct path, as IAM policy JSON."""
    documents = {}
    for path, document in data_sources(stack, "aws_iam_policy_document").items():
        policy = {"Version": "2012-10-17", "Statement": [_render_statement(s) for s in document["statement"]]}
        documents[path] = _resolve(json.dumps(policy))
    return documents


def is_trust_policy(policy: str) -> bool:
    return all(
        statement.get("Action") in (["sts:AssumeRole"], "sts:AssumeRole")
        for statement in json.loads(policy)["Statement"]
    )


def is_key_policy(policy: str) -> bool:
    """A KMS key policy: every statement names a principal and only ``kms:`` actions on ``*`` (the key itself)."""
    statements = json.loads(policy)["Statement"]
    return all(
        "Principal" in statement
        and statement.get("Resource") in (["*"], "*")
        and all(action.startswith("kms:") for action in statement.get("Action", []))
        for statement in statements
    )
