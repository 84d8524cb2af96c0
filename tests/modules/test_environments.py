"""Environments side by side in one account (issue 23): staging and production synthesized as ``make synth ENV=...``.

Both are variants of tests/conftest.py (``VARIANTS``), synthesized by the project's
own ``pipeline/synth.py`` and snapshot-tested by tests/modules/test_variants.py.
Here: production is the tutorial's system exactly (the aws target's default);
staging shares no name AWS would see with it, keeps its state under a key of its
own in the same bucket, is tagged as itself, and its functions put their metrics
where its own alarms watch; the account's stack is the same from either.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import pytest

from config.settings import APP_STACK, BOOTSTRAP_STACK
from lambdas.common import names
from tests.conftest import STACKS, Synth
from tests.synth_helpers import Doc, normalise, resources

#: Attributes that hold a name AWS knows a resource by.
NAME_ATTRIBUTES: Final = (
    "name",
    "name_prefix",
    "bucket",
    "function_name",
    "alarm_name",
    "email",
    "role_name",
)
#: Resource types whose names are scoped to a parent resource of their own stack (an API, a user pool, a
#: role), never to the account: two environments may use the same one.
SCOPED_TO_A_PARENT: Final = frozenset(
    {
        "aws_api_gateway_authorizer",  # to the REST API
        "aws_api_gateway_model",
        "aws_api_gateway_request_validator",
        "aws_cognito_user_group",  # to the user pool
        "aws_cognito_user_pool_client",
        "aws_iam_role_policy",  # to the role
    }
)


@pytest.fixture
def production(variants: dict[str, Synth]) -> Synth:
    return variants["production"]


@pytest.fixture
def staging(variants: dict[str, Synth]) -> Synth:
    return variants["staging"]


def account_names(stack: Doc) -> Iterator[tuple[str, str, str]]:
    """(type, attribute, value) of every literal name the stack gives AWS outside a parent's scope."""
    for kind, bodies in stack.get("resource", {}).items():
        if kind in SCOPED_TO_A_PARENT:
            continue
        for body in bodies.values():
            for attribute in NAME_ATTRIBUTES:
                value = body.get(attribute)
                if isinstance(value, str) and "${" not in value:
                    yield kind, attribute, value


def test_production_is_the_tutorial_system_unchanged(production: Synth, synth: dict[str, Synth]) -> None:
    """``ENV=production`` synthesizes exactly what the aws target did before environments: names, key, tags."""
    for stack in STACKS:
        assert normalise(production.stack(stack), None) == normalise(synth["aws"].stack(stack), None), stack


def test_staging_and_production_give_aws_no_name_in_common(production: Synth, staging: Synth) -> None:
    ours = {value for _, _, value in account_names(staging.stack(APP_STACK))}
    theirs = {value for _, _, value in account_names(production.stack(APP_STACK))}
    assert len(theirs) > 40, sorted(theirs)  # every kind of name is read: buckets, functions, alarms, ...
    assert not ours & theirs, sorted(ours & theirs)


def test_every_staging_name_is_qualified(staging: Synth) -> None:
    """Each name ends with the qualifier (or carries it, where AWS reads a name as a path or an address)."""
    for kind, attribute, value in account_names(staging.stack(APP_STACK)):
        assert "staging" in value, (kind, attribute, value)


def test_the_name_check_sees_a_name_two_environments_share(production: Synth, staging: Synth) -> None:
    """The comparison above would fail on one unqualified name: proven on a copy of staging with one."""
    stack = staging.stack(APP_STACK)
    queue = next(iter(stack["resource"]["aws_sqs_queue"].values()))
    unqualified = {
        **stack,
        "resource": {"aws_sqs_queue": {"q": {**queue, "name": queue["name"].replace("-staging", "")}}},
    }
    theirs = {value for _, _, value in account_names(production.stack(APP_STACK))}
    assert {value for _, _, value in account_names(unqualified)} & theirs


def test_each_environment_keeps_its_state_under_its_own_key_in_the_account_bucket(
    production: Synth, staging: Synth
) -> None:
    backends = [synthesized.stack(APP_STACK)["terraform"]["backend"]["s3"] for synthesized in (production, staging)]
    assert backends[0]["bucket"] == backends[1]["bucket"] == "student-management-tfstate"
    assert backends[0]["key"] == "student-management/terraform.tfstate"
    assert backends[1]["key"] == "student-management/staging/terraform.tfstate"
    assert all(backend["use_lockfile"] is True for backend in backends)  # each key its own lock object


def test_each_environment_is_tagged_as_itself(production: Synth, staging: Synth) -> None:
    tags = [synthesized.stack(APP_STACK)["provider"]["aws"][0]["default_tags"] for synthesized in (production, staging)]
    assert tags[0] == [{"tags": {"Project": "StudentManagement", "Environment": "Production"}}]
    assert tags[1] == [{"tags": {"Project": "StudentManagement", "Environment": "Staging"}}]


def test_the_account_stack_is_the_same_from_either_environment(production: Synth, staging: Synth) -> None:
    """The state bucket is the account's: planning it from staging must not retag or rename production's."""
    assert normalise(staging.stack(BOOTSTRAP_STACK), None) == normalise(production.stack(BOOTSTRAP_STACK), None)


def test_staging_functions_put_their_metrics_where_staging_alarms_watch(production: Synth, staging: Synth) -> None:
    stack = staging.stack(APP_STACK)
    namespaces = {
        alarm["namespace"]
        for alarm in resources(stack, "aws_cloudwatch_metric_alarm").values()
        if alarm["metric_name"] in (names.METRIC_BACKUP_SUCCEEDED, names.METRIC_BACKUP_FAILED)
    }
    assert namespaces == {"StudentManagement/staging"}
    for function in resources(stack, "aws_lambda_function").values():
        assert function["environment"]["variables"][names.ENV_METRIC_NAMESPACE] == "StudentManagement/staging"
    # Production's functions are unchanged: no variable, the default namespace its alarms watch.
    for function in resources(production.stack(APP_STACK), "aws_lambda_function").values():
        assert names.ENV_METRIC_NAMESPACE not in function["environment"]["variables"]


def test_staging_mails_from_and_to_addresses_of_its_own(staging: Synth) -> None:
    identities = {body["email"] for body in resources(staging.stack(APP_STACK), "aws_ses_email_identity").values()}
    assert identities == {"noreply+staging@example.com", "admin+staging@example.com"}


def test_staging_leaves_the_account_api_gateway_logging_role_to_production(production: Synth, staging: Synth) -> None:
    """One API Gateway account setting per region and account: two environments managing it would fight."""
    assert "aws_api_gateway_account" in production.stack(APP_STACK)["resource"]
    assert "aws_api_gateway_account" not in staging.stack(APP_STACK)["resource"]
