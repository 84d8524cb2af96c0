"""IAM in one place: statements with typed conditions, service roles, inline policies.

Every role of the system (the three function roles, the scheduler's role, API
Gateway's logging role) is made by ``service_role`` and given its permissions
by ``inline_policy``; every policy statement (roles' and buckets') is made by
``statement``. The account id and partition are looked up once per stack
(``StackIdentity.of``), the way the AWS CDK's ``Stack.of(this).account`` works.

Helpers create their resources directly in the scope they are given, under
fixed construct IDs, so using them changes no Terraform address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from constructs import Construct

from engine.aws.data_aws_caller_identity import DataAwsCallerIdentity
from engine.aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from engine.aws.data_aws_partition import DataAwsPartition
from engine.aws.iam_role import IamRole
from engine.aws.iam_role_policy import IamRolePolicy
from engine.cdk import TerraformStack

ConditionTest = Literal["StringEquals", "ArnLike", "ArnNotEquals", "Bool"]


@dataclass(frozen=True)
class Condition:
    """One condition of a statement, e.g. ``Condition("StringEquals", "ses:FromAddress", sender)``.

    ``value`` may be several values (a tuple): the condition holds when the
    request's value is any one of them.
    """

    test: ConditionTest
    variable: str
    value: str | tuple[str, ...]

    @property
    def values(self) -> list[str]:
        return [self.value] if isinstance(self.value, str) else list(self.value)


@dataclass(frozen=True)
class Principal:
    """Who a resource policy or trust policy applies to."""

    type: Literal["AWS", "Service", "Federated", "*"]
    identifier: str

    @classmethod
    def service(cls, service: str) -> Principal:
        return cls("Service", service)

    @classmethod
    def federated(cls, provider_arn: str) -> Principal:
        """An identity provider of the account (an OIDC provider's ARN), for ``sts:AssumeRoleWithWebIdentity``."""
        return cls("Federated", provider_arn)

    @classmethod
    def anyone(cls) -> Principal:
        return cls("*", "*")


def statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str] | None = None,
    *,
    effect: Literal["Allow", "Deny"] = "Allow",
    principal: Principal | None = None,
    conditions: Sequence[Condition] = (),
) -> DataAwsIamPolicyDocumentStatement:
    """A policy statement; ``principal`` only in resource and trust policies."""
    return DataAwsIamPolicyDocumentStatement(
        sid=sid,
        effect=effect,
        actions=list(actions),
        resources=list(resources) if resources is not None else None,
        principals=[
            DataAwsIamPolicyDocumentStatementPrincipals(type=principal.type, identifiers=[principal.identifier])
        ]
        if principal
        else None,
        condition=[
            DataAwsIamPolicyDocumentStatementCondition(test=c.test, variable=c.variable, values=c.values)
            for c in conditions
        ]
        or None,
    )


class Grantee(Protocol):
    """What a grant needs of a function: its role, its policy and its environment.

    Resources grant access the way the AWS CDK's do (``table.grant_read(fn)``):
    the owner knows the actions, ARNs and settings; the function only collects
    them (``modules/functions/python_function.py``).
    """

    role: IamRole

    def add_to_policy(self, statement: DataAwsIamPolicyDocumentStatement) -> None: ...

    def add_environment(self, name: str, value: str) -> None: ...


class StackIdentity(Construct):
    """The account id and partition the stack deploys into, one data source each per stack.

    Use ``StackIdentity.of(scope)``; the first call in a stack creates it.
    Attributes: ``account_id``, ``partition`` (Terraform expressions).
    """

    _ID = "identity"

    def __init__(self, stack: TerraformStack) -> None:
        super().__init__(stack, self._ID)
        # The data sources sit at the stack's top level, where the addresses
        # data.aws_caller_identity.account / data.aws_partition.partition were.
        self.account_id = DataAwsCallerIdentity(stack, "account").account_id
        self.partition = DataAwsPartition(stack, "partition").partition

    @classmethod
    def of(cls, scope: Construct) -> StackIdentity:
        stack = TerraformStack.of(scope)
        found = stack.node.try_find_child(cls._ID)
        return found if isinstance(found, StackIdentity) else cls(stack)


def service_role(
    scope: Construct,
    *,
    service: str,
    name: str,
    description: str,
    source_account: str | None = None,
    sid: str | None = None,
) -> IamRole:
    """A role only ``service`` (e.g. ``lambda.amazonaws.com``) may assume, with no permissions yet.

    ``source_account`` adds the confused-deputy guard ``aws:SourceAccount``
    where the service supports it. ``sid`` names the trust statement (default:
    ``LambdaAssumeRole`` for ``lambda.amazonaws.com``). Creates
    ``<scope>/trust`` and ``<scope>/role``.
    """
    short = service.split(".", 1)[0]
    sid = sid or f"{short[0].upper()}{short[1:]}AssumeRole"
    trust = DataAwsIamPolicyDocument(
        scope,
        "trust",
        statement=[
            statement(
                sid,
                ["sts:AssumeRole"],
                principal=Principal.service(service),
                conditions=[Condition("StringEquals", "aws:SourceAccount", source_account)] if source_account else (),
            )
        ],
    )
    return IamRole(scope, "role", name=name, description=description, assume_role_policy=trust.json)


def inline_policy(
    scope: Construct,
    *,
    role: IamRole,
    name: str,
    statements: Sequence[DataAwsIamPolicyDocumentStatement],
) -> tuple[DataAwsIamPolicyDocument, IamRolePolicy]:
    """``role``'s inline policy ``name``: ``<scope>/permissions`` (the document) and ``<scope>/policy``."""
    document = DataAwsIamPolicyDocument(scope, "permissions", statement=list(statements))
    policy = IamRolePolicy(scope, "policy", name=name, role=role.id, policy=document.json)
    return document, policy
