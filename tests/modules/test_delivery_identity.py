"""The delivery identity: who may assume each role, and what each may do.

Read from the ``delivery`` variant's synthesized ``delivery-identity`` stack
(``tests/conftest.py``), its policies rendered as AWS will evaluate them
(``tests/iam_policies.py``) and read with parliament's copy of IAM's service
authorization reference (each action's access level and resource types). The
apply role is held to the application stack as synthesized: every resource
type it creates has its permissions, every name it gives falls in the role's
ARNs, and nothing else does.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from parliament import analyze_policy_string, expand_action, iam_definition

from config.settings import APP_STACK, BOOTSTRAP_STACK, DELIVERY_STACK, account_environments, load_config
from modules.delivery import github
from modules.delivery.access import RESOURCE_TYPES, ServiceAccess, accesses
from modules.delivery.names import SystemNames
from modules.delivery.roles import POLICY_BUDGET, pack
from modules.functions.catalog import FUNCTIONS
from modules.stacks import delivery_identity
from modules.stacks.delivery_identity import UncoveredResourceTypeError, check_covered
from pipeline.plan_summary import STATEFUL_TYPES
from tests.conftest import VARIANTS, Synth
from tests.iam_policies import ACCOUNT, policy_documents
from tests.modules.test_function_table import REPORT
from tests.synth_helpers import Doc, assert_valid_terraform, normalise, resources

#: What staging's names end with (before a bucket's suffix): config.toml's staging, qualified by its name.
STAGING_QUALIFIER = "-staging"

REPOSITORY = VARIANTS["delivery"]["STUDENT_MGMT_GITHUB_REPOSITORY"]
SUFFIX = VARIANTS["delivery"]["STUDENT_MGMT_NAME_SUFFIX"]
PLAN, APPLY = f"{DELIVERY_STACK}/plan", f"{DELIVERY_STACK}/apply"
#: Access levels that change nothing.
READ_LEVELS = {"Read", "List"}


@pytest.fixture(scope="module")
def stack(variants: dict[str, Synth]) -> Doc:
    return variants["delivery"].stack(DELIVERY_STACK)


@pytest.fixture(scope="module")
def documents(stack: Doc) -> dict[str, Any]:
    return {path: json.loads(policy) for path, policy in policy_documents(stack).items()}


def permissions(documents: dict[str, Any], role: str) -> list[Doc]:
    """Every statement of a role's managed policies."""
    found = [s for path, doc in documents.items() if path.startswith(f"{role}/permissions-") for s in doc["Statement"]]
    assert found, f"no policy of {role}"
    return found


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def conditions(statement: Doc) -> dict[str, dict[str, list[str]]]:
    return {test: {k: as_list(v) for k, v in keys.items()} for test, keys in statement.get("Condition", {}).items()}


@cache
def privilege(service: str, action: str) -> Doc:
    for definition in iam_definition:
        if definition["prefix"] == service:
            for entry in definition["privileges"]:
                if entry["privilege"].lower() == action.lower():
                    return dict(entry)
    raise AssertionError(f"{service}:{action} is not in IAM's reference")


def granted(statements: list[Doc]) -> Iterator[tuple[str, Doc, Doc]]:
    """Each action a statement grants (wildcards expanded), with its IAM reference entry and the statement."""
    for statement in statements:
        for pattern in as_list(statement["Action"]):
            for found in expand_action(pattern):
                name = f"{found['service']}:{found['action']}"
                yield name, privilege(found["service"], found["action"]), statement


def changes_something(entry: Doc) -> bool:
    return entry["access_level"] not in READ_LEVELS


def unscoped_in_iam(entry: Doc) -> bool:
    """IAM authorizes the action on "*" only: its reference names no resource type for it."""
    return all(resource["resource_type"] == "" for resource in entry["resource_types"])


# --- who may assume the roles -----------------------------------------------------------------------


def trust(documents: dict[str, Any], role: str) -> Doc:
    (statement,) = documents[f"{role}/trust"]["Statement"]
    return dict(statement)


def test_oidc_provider_is_githubs_for_sts_without_a_thumbprint(stack: Doc) -> None:
    (provider,) = resources(stack, "aws_iam_openid_connect_provider").values()
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    assert "thumbprint_list" not in provider  # IAM trusts GitHub's CA itself; the provider no longer needs one


def test_planning_role_trusts_pull_requests_and_main_only(documents: dict[str, Any]) -> None:
    statement = trust(documents, PLAN)
    assert as_list(statement["Action"]) == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["Principal"] == {
        "Federated": [f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"]
    }
    assert conditions(statement) == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": ["sts.amazonaws.com"],
            "token.actions.githubusercontent.com:sub": [
                f"repo:{REPOSITORY}:pull_request",
                f"repo:{REPOSITORY}:ref:refs/heads/main",
            ],
        }
    }


def test_apply_role_trusts_the_environments_jobs_only(documents: dict[str, Any]) -> None:
    statement = trust(documents, APPLY)
    subjects = conditions(statement)["StringEquals"]["token.actions.githubusercontent.com:sub"]
    # Every AWS environment of config.toml (local has no account to apply to), in the order of their names.
    assert subjects == [f"repo:{REPOSITORY}:environment:production", f"repo:{REPOSITORY}:environment:staging"]
    assert github.pull_request(REPOSITORY) not in subjects  # a pull request cannot apply
    assert github.branch(REPOSITORY) not in subjects  # nor a run on main outside an environment
    assert conditions(statement)["StringEquals"]["token.actions.githubusercontent.com:aud"] == ["sts.amazonaws.com"]


@pytest.mark.parametrize("role", [PLAN, APPLY])
def test_trust_names_this_repository_exactly(documents: dict[str, Any], role: str) -> None:
    """Only StringEquals: no wildcard could admit another repository, branch or environment."""
    statement = trust(documents, role)
    assert set(conditions(statement)) == {"StringEquals"}
    for subject in conditions(statement)["StringEquals"]["token.actions.githubusercontent.com:sub"]:
        assert subject.startswith(f"repo:{REPOSITORY}:")
        assert not set(subject) & set("*?")


# --- what the roles may do ------------------------------------------------------------------------


def application_types(*stacks: Doc) -> set[str]:
    return {kind for stack in stacks for kind in stack.get("resource", {})}


def uncovered(types: set[str], statements: list[Doc]) -> list[str]:
    """Each action a type's rows need that the apply role does not grant, as ``type: action``."""
    actions = {name.lower() for name, _, _ in granted(statements)}
    missing = [f"{kind}: no row in RESOURCE_TYPES" for kind in sorted(types - set(RESOURCE_TYPES))]
    for kind in sorted(types & set(RESOURCE_TYPES)):
        for row in RESOURCE_TYPES[kind]:
            needed = (*row.read, *row.write, *row.unscoped_write, *(() if row.keeps_data else row.delete))
            for pattern in needed:
                missing += [
                    f"{kind}: {name}"
                    for found in expand_action(pattern)
                    if (name := f"{found['service']}:{found['action']}").lower() not in actions
                ]
    return missing


def test_apply_role_covers_every_resource_type_the_application_stack_creates(
    synth: dict[str, Synth], variants: dict[str, Synth], documents: dict[str, Any]
) -> None:
    types = application_types(synth["aws"].stack(APP_STACK), variants["protected-site"].stack(APP_STACK))
    assert len(types) > 40
    assert uncovered(types, permissions(documents, APPLY)) == []
    # No row outlives the resource type it was written for.
    assert set(RESOURCE_TYPES) == types
    # And a new type without a row is named, here and by the synth itself.
    assert uncovered({*types, "aws_sfn_state_machine"}, permissions(documents, APPLY)) == [
        "aws_sfn_state_machine: no row in RESOURCE_TYPES"
    ]
    with pytest.raises(UncoveredResourceTypeError, match=r"aws_sfn_state_machine, .*modules/delivery/access\.py"):
        check_covered({*types, "aws_sfn_state_machine"})


def test_a_missing_permission_is_named(documents: dict[str, Any]) -> None:
    """The coverage check sees one action taken away."""
    statements = [
        {**s, "Action": [a for a in as_list(s["Action"]) if a != "dynamodb:UpdateTimeToLive"]}
        for s in permissions(documents, APPLY)
    ]
    assert uncovered({"aws_dynamodb_table"}, statements) == ["aws_dynamodb_table: dynamodb:UpdateTimeToLive"]


@pytest.mark.parametrize("role", [PLAN, APPLY])
def test_no_write_action_is_granted_on_every_resource_unless_iam_has_no_other(
    documents: dict[str, Any], role: str
) -> None:
    """A change on "*" only for actions IAM authorizes on "*" only, and then only in the region they go to."""
    config = load_config(environ={})
    for name, entry, statement in granted(permissions(documents, role)):
        if "*" not in as_list(statement["Resource"]) or not changes_something(entry):
            continue
        assert unscoped_in_iam(entry), f"{name} changes something on '*' though IAM can scope it"
        region = conditions(statement)["StringEquals"]["aws:RequestedRegion"]
        assert region in ([config.region], ["us-east-1"]), (name, region)
    for statement in permissions(documents, role):
        for pattern in as_list(statement["Action"]):
            if "*" in pattern:
                assert all(not changes_something(entry) for _, entry, _ in granted([{**statement, "Action": pattern}]))


def test_planning_role_changes_nothing_but_its_lock_objects(documents: dict[str, Any]) -> None:
    writes = {
        (name, resource)
        for name, entry, statement in granted(permissions(documents, PLAN))
        if changes_something(entry)
        for resource in as_list(statement["Resource"])
    }
    lock = "arn:aws:s3:::student-management-tfstate-abc123/*.tflock"
    assert writes == {("s3:PutObject", lock), ("s3:DeleteObject", lock)}


def test_planning_role_reads_the_state_but_no_data(documents: dict[str, Any]) -> None:
    reads = {(name, r) for name, _, s in granted(permissions(documents, PLAN)) for r in as_list(s["Resource"])}
    assert ("s3:GetObject", "arn:aws:s3:::student-management-tfstate-abc123/*.tfstate") in reads
    assert ("s3:ListBucket", "arn:aws:s3:::student-management-tfstate-abc123") in reads
    readable_objects = {r for name, r in reads if name == "s3:GetObject"}
    assert not any("backup" in r for r in readable_objects)  # never a student's backup
    assert not {name for name, _ in reads} & {"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query"}


def test_apply_role_destroys_nothing_that_holds_data(documents: dict[str, Any]) -> None:
    granted_pairs = {(n, r) for n, _, s in granted(permissions(documents, APPLY)) for r in as_list(s["Resource"])}
    names = {name for name, _ in granted_pairs}
    for row in accesses():
        if row.keeps_data:
            assert not {f"{a}" for a in row.delete if "apigateway" not in a} & names, row.sid
    assert not any(n == "apigateway:DELETE" and "/apikeys" in r for n, r in granted_pairs)
    # Every type whose loss the plan guard refuses is such a row.
    for kind in STATEFUL_TYPES:
        assert all(row.keeps_data for row in RESOURCE_TYPES[kind]), kind


def test_pass_role_only_for_the_systems_roles_to_their_one_service(documents: dict[str, Any]) -> None:
    passes = [s for s in permissions(documents, APPLY) if "iam:PassRole" in as_list(s["Action"])]
    services = {}
    for statement in passes:
        assert as_list(statement["Action"]) == ["iam:PassRole"]
        (service,) = conditions(statement)["StringEquals"]["iam:PassedToService"]
        for role in as_list(statement["Resource"]):
            assert "*" not in role
            services[role.rsplit("/", 1)[1]] = service
    assert services["LambdaGetStudentRole"] == services["DynamoDBBackupRole"] == "lambda.amazonaws.com"
    assert services["DailyDynamoDBBackupSchedulerRole-staging"] == "scheduler.amazonaws.com"
    assert services["ApiGatewayCloudWatchLogsRole"] == "apigateway.amazonaws.com"
    assert not {"StudentManagementPlan", "StudentManagementApply"} & set(services)


# --- the names the apply role is scoped to -------------------------------------------------------

#: Where each named resource type keeps its name, and its ARN (``{}``: the name).
NAMED = {
    "aws_dynamodb_table": ("name", "arn:aws:dynamodb:us-east-1:{account}:table/{}"),
    "aws_s3_bucket": ("bucket", "arn:aws:s3:::{}"),
    "aws_lambda_function": ("function_name", "arn:aws:lambda:us-east-1:{account}:function:{}"),
    "aws_iam_role": ("name", "arn:aws:iam::{account}:role/{}"),
    "aws_cloudwatch_log_group": ("name", "arn:aws:logs:us-east-1:{account}:log-group:{}"),
    "aws_sqs_queue": ("name", "arn:aws:sqs:us-east-1:{account}:{}"),
    "aws_sns_topic": ("name", "arn:aws:sns:us-east-1:{account}:{}"),
    "aws_kms_alias": ("name", "arn:aws:kms:us-east-1:{account}:{}"),
    "aws_secretsmanager_secret": ("name", "arn:aws:secretsmanager:us-east-1:{account}:secret:{}-AbC123"),
    "aws_scheduler_schedule": ("name", "arn:aws:scheduler:us-east-1:{account}:schedule/default/{}"),
    "aws_wafv2_web_acl": ("name", "arn:aws:wafv2:us-east-1:{account}:global/webacl/{}/0a1b2c3d"),
    "aws_cloudwatch_log_delivery_source": ("name", "arn:aws:logs:us-east-1:{account}:delivery-source:{}"),
    "aws_cloudwatch_log_delivery_destination": ("name", "arn:aws:logs:us-east-1:{account}:delivery-destination:{}"),
    "aws_cloudwatch_metric_alarm": ("alarm_name", "arn:aws:cloudwatch:us-east-1:{account}:alarm:{}"),
}
_REFERENCE = re.compile(r"\$\{(\w+)\.([\w-]+)\.(\w+)\}")
#: Log group names are built from the function and API names (the staging ones: test_staging_names_...).
LOG_GROUP = "aws_cloudwatch_log_group"


def literal(stack: Doc, value: str) -> str:
    """A name with each ``${type.name.attribute}`` replaced by that attribute's value in the stack."""
    return _REFERENCE.sub(lambda m: str(stack["resource"][m[1]][m[2]][m[3]]), value)


def named_arns(stack: Doc) -> Iterator[tuple[str, str]]:
    for kind, (attribute, arn) in NAMED.items():
        for body in stack.get("resource", {}).get(kind, {}).values():
            yield kind, arn.format(literal(stack, body[attribute]), account=ACCOUNT)


def in_scope(arn: str, kind: str, statements: list[Doc]) -> bool:
    """The ARN matches a resource of a statement granting the type's first write action."""
    action = RESOURCE_TYPES[kind][0].write[0]
    return any(
        action in as_list(s["Action"]) and any(fnmatch.fnmatchcase(arn, r) for r in as_list(s["Resource"]))
        for s in statements
    )


def test_every_name_the_application_stack_gives_is_in_the_apply_roles_scope(
    variants: dict[str, Synth], documents: dict[str, Any]
) -> None:
    """The delivery variant's application stack: every optional resource on, bucket names suffixed."""
    statements = permissions(documents, APPLY)
    arns = list(named_arns(variants["delivery"].stack(APP_STACK)))
    assert {kind for kind, _ in arns} == set(NAMED)
    assert [arn for kind, arn in arns if not in_scope(arn, kind, statements)] == []
    # Staging's names too (the qualifier before the suffix), and nothing beside the system's: not a match-all.
    for kind, arn in arns:
        if kind not in ("aws_secretsmanager_secret", "aws_wafv2_web_acl", "aws_cloudwatch_metric_alarm", LOG_GROUP):
            staging = re.sub(rf"(-{SUFFIX})?$", lambda m: f"{STAGING_QUALIFIER}{m[0]}", arn, count=1)
            assert in_scope(staging, kind, statements), staging
    assert not in_scope(f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/otherTable", "aws_dynamodb_table", statements)
    assert not in_scope("arn:aws:s3:::student-backup-20250706", "aws_s3_bucket", statements)  # without the suffix


def test_staging_names_carry_the_qualifier_before_the_suffix() -> None:
    names = SystemNames.of(account_environments(environ={"STUDENT_MGMT_NAME_SUFFIX": SUFFIX}))
    assert "student-backup-20250706-staging-abc123" in names.buckets
    assert {"studentData", "studentData-staging"} <= set(names.tables)
    assert "/aws/apigateway/student-staging/prod" in names.log_groups
    assert all(len(getattr(names, field)) % 2 == 0 for field in ("tables", "buckets", "functions", "roles"))


# --- how the policies are kept -------------------------------------------------------------------


def test_policies_fit_iams_limits_and_attach_to_their_role(stack: Doc, documents: dict[str, Any]) -> None:
    for role in (PLAN, APPLY):
        parts = [path for path in documents if path.startswith(f"{role}/permissions-")]
        assert 1 <= len(parts) <= 10  # managed policies a role may have
        for path in parts:
            assert len(json.dumps(documents[path], separators=(",", ":"))) <= 6144, path
    attachments = resources(stack, "aws_iam_role_policy_attachment")
    for path, body in attachments.items():
        role = path.split("/")[1]  # delivery-identity/<role>/attachment-<n>
        assert body["role"].startswith(f"${{aws_iam_role.{role}_role_"), path
    assert len(attachments) == len([p for p in documents if "/permissions-" in p])


def test_pack_fills_each_policy_in_order_and_refuses_a_grant_too_large() -> None:
    assert pack([4000, 3000, 50], budget=6100) == [[0], [1, 2]]
    assert pack([10, 20, 30]) == [[0, 1, 2]]
    with pytest.raises(ValueError, match="grant 1 alone"):
        pack([10, POLICY_BUDGET + 1])


@pytest.mark.parametrize("role", [PLAN, APPLY])
def test_parliament_knows_every_action_and_each_resource_fits_its_action(documents: dict[str, Any], role: str) -> None:
    """IAM's reference has every action, and each action has a resource of a type it applies to."""
    wrong = {"UNKNOWN_ACTION", "UNKNOWN_PREFIX", "RESOURCE_MISMATCH", "MALFORMED", "UNKNOWN_CONDITION_FOR_ACTION"}
    for path, document in documents.items():
        if path.startswith(f"{role}/permissions-"):
            found = analyze_policy_string(json.dumps(document), include_community_auditors=True).findings
            assert [(f.issue, f.detail) for f in found if f.issue in wrong] == [], path


def test_every_row_has_actions_and_resources_for_them() -> None:
    for row in accesses():
        assert isinstance(row, ServiceAccess)
        assert row.read or row.unscoped_read, row.sid
        assert row.write or row.unscoped_write, row.sid


# --- where the stack is synthesized --------------------------------------------------------------


def test_only_a_configured_repository_gets_a_delivery_identity(synth: dict[str, Synth]) -> None:
    for target in ("aws", "local"):
        assert not synth[target].stack_dir(DELIVERY_STACK).exists(), target
    repository = {"STUDENT_MGMT_GITHUB_REPOSITORY": REPOSITORY}
    assert delivery_identity.wanted(load_config(environ={"DEPLOY_TARGET": "aws", **repository}))
    assert not delivery_identity.wanted(load_config(environ={"DEPLOY_TARGET": "local", **repository}))
    assert not delivery_identity.wanted(load_config(environ={"DEPLOY_TARGET": "aws"}))


def test_the_roles_cover_every_function_of_the_table() -> None:
    """A function added to the table is in the roles' names as the application stack builds it."""
    names = SystemNames.of(account_environments(environ={}), (*FUNCTIONS, REPORT))
    assert {"reportStudentData", "reportStudentData-staging"} <= set(names.functions)
    assert {"LambdaReportStudentRole", "LambdaReportStudentRole-staging"} <= set(names.function_roles)
    assert "/aws/lambda/reportStudentData-staging" in names.log_groups


def test_the_repository_changes_no_other_stack(variants: dict[str, Synth]) -> None:
    """The delivery variant's other stacks are the protected site's with every bucket name suffixed."""
    delivery, protected = variants["delivery"], variants["protected-site"]
    stacks = (BOOTSTRAP_STACK, APP_STACK)
    buckets = [
        body["bucket"] for stack in stacks for body in resources(protected.stack(stack), "aws_s3_bucket").values()
    ]
    for stack in stacks:
        expected = json.dumps(normalise(protected.stack(stack), None), sort_keys=True)
        for name in buckets:
            expected = re.sub(rf'(?<=[":]){re.escape(name)}(?=["/])', f"{name}-{SUFFIX}", expected)
        assert normalise(delivery.stack(stack), None) == json.loads(expected), stack


@pytest.mark.slow  # terraform validate: make test's
def test_delivery_identity_is_valid_terraform(variants: dict[str, Synth], tmp_path: Path) -> None:
    """Its resources and arguments exist in the provider of the test machines (5.100): no thumbprint needed."""
    assert_valid_terraform(variants["delivery"], DELIVERY_STACK, tmp_path)
