"""Configuration variants no other test synthesizes: an edge-optimized API, an
API Gateway account setting left to someone else, a bucket-name suffix, the
site with every optional protection (custom domain, WAF, access logs), and the
account's delivery identity (its properties: tests/modules/test_delivery_identity.py).

Each variant is synthesized for ``DEPLOY_TARGET=aws`` by the project's own
``pipeline/synth.py`` (all at once, ``variants`` in tests/conftest.py) and
compared with the default aws synth: a snapshot per variant and stack, and the
property each setting exists for.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from config.settings import APP_STACK, BOOTSTRAP_STACK
from modules.api.student_api import ACCESS_LOG_FORMAT
from tests.conftest import STACKS, VARIANT_STACKS, VARIANTS, Synth
from tests.synth_helpers import (
    Doc,
    assert_valid_terraform,
    data_sources,
    normalise,
    ref,
    referenced,
    resource,
    resources,
    served_digest,
)

SUFFIX = "abc123"
API = f"{APP_STACK}/api"
ACCOUNT = f"{APP_STACK}/api-gateway-account"
#: What the stack builds only when it manages the region's API Gateway account setting.
ACCOUNT_ONLY = {
    "aws_api_gateway_account": f"{ACCOUNT}/account",
    "aws_iam_role": f"{ACCOUNT}/role",
    "aws_iam_role_policy": f"{ACCOUNT}/policy",
}
ACCOUNT_ONLY_DATA = (f"{ACCOUNT}/trust", f"{ACCOUNT}/permissions")


@pytest.fixture
def default(synth: dict[str, Synth]) -> Synth:
    return synth["aws"]


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def stacks(synthesized: Synth) -> dict[str, Doc]:
    """Both stacks, normalised (so two output directories compare by meaning)."""
    return {stack: normalise(synthesized.stack(stack), None) for stack in STACKS}


def remove(stack: Doc, section: str, kind: str, path: str) -> None:
    """Drop the resource (or data source) at a construct path from a stack, in place."""
    bodies = stack[section][kind]
    (name,) = [name for name, body in bodies.items() if body["//"]["metadata"]["path"] == path]
    del bodies[name]
    if not bodies:
        del stack[section][kind]


@pytest.mark.parametrize(
    ("variant", "stack"), [(variant, stack) for variant, stacks in VARIANT_STACKS.items() for stack in stacks]
)
def test_variant_matches_snapshot(
    variants: dict[str, Synth], json_snapshot: SnapshotAssertion, variant: str, stack: str
) -> None:
    assert normalise(variants[variant].stack(stack), None) == json_snapshot


# --- api_endpoint_type = "EDGE" ----------------------------------------------------------------------


def test_edge_endpoint_type_makes_the_rest_api_edge_optimized(variants: dict[str, Synth]) -> None:
    api = resource(variants["edge"].stack(APP_STACK), "aws_api_gateway_rest_api", f"{API}/api")
    assert api["endpoint_configuration"] == {"types": ["EDGE"]}
    assert api["lifecycle"] == {"create_before_destroy": True}


def test_edge_endpoint_type_changes_only_the_endpoint(variants: dict[str, Synth], default: Synth) -> None:
    edge, regional = stacks(variants["edge"]), stacks(default)
    edge_api = resource(edge[APP_STACK], "aws_api_gateway_rest_api", f"{API}/api")
    regional_api = resource(regional[APP_STACK], "aws_api_gateway_rest_api", f"{API}/api")
    assert regional_api["endpoint_configuration"] == {"types": ["REGIONAL"]}
    edge_api["endpoint_configuration"] = regional_api["endpoint_configuration"]
    # Nothing else: a new endpoint type replaces the API (before the old one goes), every method and
    # integration with it, so the stage's deployment digest changes and the stage is redeployed.
    assert edge_api["lifecycle"] == {"create_before_destroy": True}
    assert edge == regional


# --- manage_api_gateway_account = false --------------------------------------------------------------


def test_unmanaged_account_creates_no_api_gateway_account_nor_its_logging_role(
    variants: dict[str, Synth], default: Synth
) -> None:
    unmanaged, managed = variants["unmanaged-account"].stack(APP_STACK), default.stack(APP_STACK)
    assert resources(managed, "aws_api_gateway_account")  # the default does manage it
    assert resources(unmanaged, "aws_api_gateway_account") == {}
    for kind, path in ACCOUNT_ONLY.items():
        assert path in resources(managed, kind)
        assert path not in resources(unmanaged, kind)
    for path in ACCOUNT_ONLY_DATA:
        assert path in data_sources(managed, "aws_iam_policy_document")
        assert path not in data_sources(unmanaged, "aws_iam_policy_document")
    role_names = {role["name"] for role in resources(unmanaged, "aws_iam_role").values()}
    assert "ApiGatewayCloudWatchLogsRole" not in role_names
    assert "ApiGatewayCloudWatchLogsRole" in {role["name"] for role in resources(managed, "aws_iam_role").values()}


def test_unmanaged_account_stage_still_writes_access_logs(variants: dict[str, Synth], default: Synth) -> None:
    unmanaged, managed = variants["unmanaged-account"].stack(APP_STACK), default.stack(APP_STACK)
    stage = resource(unmanaged, "aws_api_gateway_stage", f"{API}/stage")
    log_group = resource(unmanaged, "aws_cloudwatch_log_group", f"{API}/access-logs")
    assert log_group["name"] == "/aws/apigateway/student/prod"
    settings = stage["access_log_settings"]
    assert settings["destination_arn"] == ref(unmanaged, "aws_cloudwatch_log_group", f"{API}/access-logs", "arn")
    assert settings["format"] == ACCESS_LOG_FORMAT
    assert settings == resource(managed, "aws_api_gateway_stage", f"{API}/stage")["access_log_settings"]
    assert stage["xray_tracing_enabled"] is True
    assert "depends_on" not in stage  # nothing to wait for: no account setting is written


def test_unmanaged_account_removes_only_the_account_setting(variants: dict[str, Synth], default: Synth) -> None:
    unmanaged, managed = stacks(variants["unmanaged-account"]), stacks(default)
    app = copy.deepcopy(managed[APP_STACK])
    for kind, path in ACCOUNT_ONLY.items():
        remove(app, "resource", kind, path)
    for path in ACCOUNT_ONLY_DATA:
        remove(app, "data", "aws_iam_policy_document", path)
    stage = resource(app, "aws_api_gateway_stage", f"{API}/stage")
    assert [dependency.split(".")[0] for dependency in stage.pop("depends_on")] == ["aws_api_gateway_account"]
    # The moved blocks that carry the setting's resources from their old addresses go with them.
    assert {block["to"].split(".")[0] for block in app.pop("moved")} == set(ACCOUNT_ONLY)
    assert set(app["//"]["metadata"].pop("moved")) == set(ACCOUNT_ONLY)
    assert unmanaged[APP_STACK] == app
    assert unmanaged[BOOTSTRAP_STACK] == managed[BOOTSTRAP_STACK]


# --- name_suffix = "abc123" --------------------------------------------------------------------------


def bucket_names(synthesized: Synth) -> dict[str, str]:
    """Every aws_s3_bucket's name in both stacks, by construct path."""
    return {
        path: body["bucket"]
        for stack in STACKS
        for path, body in resources(synthesized.stack(stack), "aws_s3_bucket").items()
    }


def test_name_suffix_ends_every_bucket_name_in_both_stacks(variants: dict[str, Synth], default: Synth) -> None:
    suffixed, plain = bucket_names(variants["suffix"]), bucket_names(default)
    assert set(suffixed) == set(plain)
    assert {path.split("/")[0] for path in suffixed} == set(STACKS)
    assert suffixed == {path: f"{name}-{SUFFIX}" for path, name in plain.items()}
    assert sorted(suffixed.values()) == [
        f"student-backup-20250706-{SUFFIX}",
        f"student-backup-logs-20250706-{SUFFIX}",
        f"student-management-tfstate-{SUFFIX}",
        f"student-management-website-2025-{SUFFIX}",
    ]


def test_name_suffix_puts_the_application_state_in_the_suffixed_state_bucket(variants: dict[str, Synth]) -> None:
    suffixed = variants["suffix"]
    backend = suffixed.stack(APP_STACK)["terraform"]["backend"]["s3"]
    state_bucket = resource(suffixed.stack(BOOTSTRAP_STACK), "aws_s3_bucket", f"{BOOTSTRAP_STACK}/state/state/bucket")
    assert backend["bucket"] == state_bucket["bucket"] == f"student-management-tfstate-{SUFFIX}"
    assert backend["key"] == "student-management/terraform.tfstate"


@pytest.mark.parametrize(
    ("kind", "attribute"),
    [
        ("aws_dynamodb_table", "name"),
        ("aws_lambda_function", "function_name"),
        ("aws_iam_role", "name"),
        ("aws_cloudwatch_log_group", "name"),
        ("aws_api_gateway_rest_api", "name"),
        ("aws_secretsmanager_secret", "name"),
        ("aws_scheduler_schedule", "name"),
    ],
)
def test_name_suffix_leaves_names_other_than_buckets_unchanged(
    variants: dict[str, Synth], default: Synth, kind: str, attribute: str
) -> None:
    suffixed = {path: body[attribute] for path, body in resources(variants["suffix"].stack(APP_STACK), kind).items()}
    plain = {path: body[attribute] for path, body in resources(default.stack(APP_STACK), kind).items()}
    assert plain  # the default stack has some, so the comparison means something
    assert suffixed == plain
    assert not any(SUFFIX in name for name in suffixed.values())


def test_name_suffix_changes_nothing_but_bucket_names_and_their_arns(
    variants: dict[str, Synth], default: Synth
) -> None:
    suffixed, plain = stacks(variants["suffix"]), stacks(default)
    assert suffixed != plain
    expected = json.dumps(plain, sort_keys=True)
    for name in bucket_names(default).values():
        # The name as a value ("name") and inside ARNs (s3:::name or s3:::name/key).
        expected = re.sub(rf'(?<=[":]){re.escape(name)}(?=["/])', f"{name}-{SUFFIX}", expected)
    assert suffixed == json.loads(expected)


PROTECTED = "protected-site"
SITE = f"{APP_STACK}/website"
DOMAIN = "students.example.org"


def test_custom_domain_gets_its_certificate_and_a_modern_tls_floor(variants: dict[str, Synth]) -> None:
    stack = variants[PROTECTED].stack(APP_STACK)
    distribution = resource(stack, "aws_cloudfront_distribution", f"{SITE}/distribution")
    assert distribution["aliases"] == [DOMAIN]
    assert distribution["viewer_certificate"] == {
        "acm_certificate_arn": VARIANTS[PROTECTED]["STUDENT_MGMT_SITE_CERTIFICATE_ARN"],
        "ssl_support_method": "sni-only",
        "minimum_protocol_version": "TLSv1.2_2021",
    }
    assert stack["output"]["site_url"]["value"] == f"https://{DOMAIN}"


def test_custom_domain_is_the_origin_the_api_admits(variants: dict[str, Synth]) -> None:
    stack = variants[PROTECTED].stack(APP_STACK)
    origin = f"https://{DOMAIN}"
    for body in resources(stack, "aws_lambda_function").values():
        assert body["environment"]["variables"]["ALLOWED_ORIGIN"] == origin
    deployment = resource(stack, "aws_api_gateway_deployment", f"{API}/deployment")
    # Known at synth: the CORS answers carrying the origin are digested as they are, no reference to follow.
    assert deployment["triggers"]["served"] == served_digest(stack)
    assert not any("aws_cloudfront_distribution" in reference for reference in referenced(deployment))
    preflight = resource(stack, "aws_api_gateway_integration_response", f"{API}/options-students-integration-response")
    assert preflight["response_parameters"]["method.response.header.Access-Control-Allow-Origin"] == f"'{origin}'"


def test_waf_web_acl_guards_the_distribution(variants: dict[str, Synth]) -> None:
    stack = variants[PROTECTED].stack(APP_STACK)
    acl = resource(stack, "aws_wafv2_web_acl", f"{APP_STACK}/firewall/web-acl")
    assert acl["scope"] == "CLOUDFRONT"
    assert acl["default_action"] == {"allow": {}}
    rules = {rule["name"]: rule for rule in acl["rule"]}
    assert rules["AWSManagedRulesCommonRuleSet"]["statement"] == {
        "managed_rule_group_statement": {"name": "AWSManagedRulesCommonRuleSet", "vendor_name": "AWS"}
    }
    assert rules["AWSManagedRulesCommonRuleSet"]["override_action"] == {"none": {}}
    assert rules["RateLimitPerAddress"]["statement"] == {
        "rate_based_statement": {"limit": 1000, "aggregate_key_type": "IP"}
    }
    assert rules["RateLimitPerAddress"]["action"] == {"block": {}}
    distribution = resource(stack, "aws_cloudfront_distribution", f"{SITE}/distribution")
    assert distribution["web_acl_id"] == ref(stack, "aws_wafv2_web_acl", f"{APP_STACK}/firewall/web-acl", "arn")


def test_access_logs_are_delivered_to_their_own_bucket(variants: dict[str, Synth]) -> None:
    stack = variants[PROTECTED].stack(APP_STACK)
    logs = f"{APP_STACK}/site-logs"
    source = resource(stack, "aws_cloudwatch_log_delivery_source", f"{logs}/source")
    assert source["log_type"] == "ACCESS_LOGS"
    assert source["resource_arn"] == ref(stack, "aws_cloudfront_distribution", f"{SITE}/distribution", "arn")
    destination = resource(stack, "aws_cloudwatch_log_delivery_destination", f"{logs}/destination")
    assert destination["delivery_destination_configuration"] == [
        {"destination_resource_arn": ref(stack, "aws_s3_bucket", f"{logs}/bucket/bucket", "arn")}
    ]
    delivery = resource(stack, "aws_cloudwatch_log_delivery", f"{logs}/delivery")
    assert delivery["delivery_source_name"] == ref(
        stack, "aws_cloudwatch_log_delivery_source", f"{logs}/source", "name"
    )
    assert delivery["delivery_destination_arn"] == ref(
        stack, "aws_cloudwatch_log_delivery_destination", f"{logs}/destination", "arn"
    )
    assert resource(stack, "aws_s3_bucket", f"{logs}/bucket/bucket")["bucket"] == "student-management-website-logs-2025"
    (statement,) = [
        s
        for s in data_sources(stack, "aws_iam_policy_document")[f"{logs}/bucket/policy-document"]["statement"]
        if s["sid"] == "AllowLogDeliveryWrite"
    ]
    assert statement["principals"] == [{"type": "Service", "identifiers": ["delivery.logs.amazonaws.com"]}]
    assert statement["actions"] == ["s3:PutObject"]
    assert {c["variable"] for c in statement["condition"]} == {"s3:x-amz-acl", "aws:SourceAccount", "aws:SourceArn"}


def test_default_site_has_no_waf_and_no_access_logs(default: Synth) -> None:
    stack = default.stack(APP_STACK)
    assert "aws_wafv2_web_acl" not in stack["resource"]
    assert "aws_cloudwatch_log_delivery" not in stack["resource"]
    assert "web_acl_id" not in resource(stack, "aws_cloudfront_distribution", f"{SITE}/distribution")


@pytest.mark.slow  # terraform validate: make test's
def test_protected_site_is_valid_terraform(variants: dict[str, Synth], tmp_path: Path) -> None:
    """The optional resources exist with these arguments in the provider version of the test machines."""
    assert_valid_terraform(variants[PROTECTED], APP_STACK, tmp_path)
