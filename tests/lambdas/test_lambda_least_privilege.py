"""The AWS calls each function makes, as IAM actions: what its role must allow, and nothing more."""

from __future__ import annotations

from tests.lambdas.scenarios import SCENARIOS, record_handler_calls

#: Written out on purpose: a code change that makes a new call fails this test
#: until the role policy (modules/) and this list are updated together.
EXPECTED_ACTIONS = {
    "get_students": {"dynamodb:Scan", "dynamodb:GetItem"},
    "insert_student": {"dynamodb:PutItem", "ses:SendEmail"},
    "backup": {
        "dynamodb:Scan",
        # The runs table: the run records and the lease (modules/backup/runs.py).
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        # POST /backup hands the run to an asynchronous invocation of itself.
        "lambda:InvokeFunction",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:DeleteObject",
        "ses:SendEmail",
    },
}


def test_each_function_calls_exactly_the_actions_its_role_grants() -> None:
    assert record_handler_calls() == EXPECTED_ACTIONS


def test_scenarios_cover_every_function() -> None:
    assert set(SCENARIOS) == set(EXPECTED_ACTIONS)
