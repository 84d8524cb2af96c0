"""``make drift``'s reading of a refresh-only plan (pipeline/drift.py): real drift named, a refresh's noise not."""

from __future__ import annotations

from typing import Any

from pipeline.drift import configured_attributes, summarize

STACK = {
    "resource": {
        "aws_lambda_function": {"read": {"//": {}, "function_name": "getStudentData", "timeout": 10, "depends_on": []}},
        "aws_s3_bucket": {"site": {"//": {}, "bucket": "student-management-website-2025"}},
        "aws_api_gateway_model": {"student": {"//": {}, "schema": '{"type":"object"}'}},
    }
}


def drift(
    address: str, before: dict[str, Any], after: dict[str, Any], actions: list[str] | None = None
) -> dict[str, Any]:
    return {"address": address, "change": {"actions": actions or ["update"], "before": before, "after": after}}


def lines(*drifts: dict[str, Any]) -> list[str]:
    return summarize({"resource_drift": list(drifts)}, configured_attributes(STACK))


def test_a_configured_attribute_changed_by_hand_is_drift() -> None:
    found = lines(drift("aws_lambda_function.read", {"timeout": 10}, {"timeout": 29}))
    assert found == ["aws_lambda_function.read: timeout"]


def test_default_tags_changed_by_hand_are_drift() -> None:
    before, after = {"tags_all": {"Environment": "Production"}}, {"tags_all": {"Environment": "Test"}}
    assert lines(drift("aws_s3_bucket.site", before, after)) == ["aws_s3_bucket.site: tags_all"]


def test_a_resource_deleted_by_hand_is_drift() -> None:
    assert lines(drift("aws_s3_bucket.site", {"bucket": "x"}, {}, ["delete"])) == [
        "aws_s3_bucket.site: deleted outside Terraform"
    ]


def test_what_a_refresh_reads_back_that_nothing_changed_is_not_drift() -> None:
    """An empty value spelled otherwise, JSON reformatted, an attribute another resource manages."""
    assert not lines(
        drift("aws_lambda_function.read", {"layers": None, "timeout": 10}, {"layers": [], "timeout": 10}),
        drift("aws_api_gateway_model.student", {"schema": '{"type":"object"}'}, {"schema": '{"type": "object"}'}),
        # a bucket's policy is its aws_s3_bucket_policy's: the bucket's own configuration does not set it
        drift("aws_s3_bucket.site", {"policy": "", "tags": None}, {"policy": '{"Statement": []}', "tags": {}}),
    )


def test_a_meta_argument_is_not_an_attribute() -> None:
    assert configured_attributes(STACK)["aws_lambda_function.read"] == frozenset({"function_name", "timeout"})
