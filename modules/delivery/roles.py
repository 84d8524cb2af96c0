"""The two roles GitHub Actions' jobs assume: one that plans (reads), one that applies a reviewed plan.

Their permissions come from ``modules/delivery/access.py``, one grant per
kind of resource: the planning role gets every refresh (read) action, the
apply role those and every create, update and destroy action but the ones
that lose data. Both reach the Terraform state the same way: read the state
objects, take and release S3-native locks (``<key>.tflock``); only the apply
role writes a state object.

The apply role's grants are longer than IAM allows inline (10,240 characters
per role), so each role's grants are packed, in order, into managed policies
of at most ``POLICY_BUDGET`` characters each, measured with the longest
partition and account id an ARN can have.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from constructs import Construct

from engine.aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
)
from engine.aws.iam_policy import IamPolicy
from engine.aws.iam_role import IamRole
from engine.aws.iam_role_policy_attachment import IamRolePolicyAttachment
from modules.delivery.access import ServiceAccess, accesses
from modules.delivery.arns import Arns
from modules.delivery.github import GithubOidcProvider
from modules.shared import iam

#: The longest a planning or apply job may hold its credentials: a plan or an apply of this system takes minutes.
SESSION_SECONDS: Final = 3600
#: IAM's limit on a managed policy (6,144 characters, white space not counted), less the document's envelope.
POLICY_BUDGET: Final = 6144 - 64
#: What ARNs are measured with: the longest partition and an account id's 12 digits.
WIDEST_PARTITION: Final = "aws-us-gov"
ACCOUNT_DIGITS: Final = "123456789012"


@dataclass(frozen=True)
class Grant:
    """One statement of a delivery role's policy, as plain data so its size is known before Terraform renders it."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[iam.Condition, ...] = ()

    def statement(self) -> DataAwsIamPolicyDocumentStatement:
        return iam.statement(self.sid, self.actions, self.resources, conditions=self.conditions)

    def size(self) -> int:
        """Its characters in IAM's JSON, without white space (how IAM counts)."""
        body = {
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": list(self.actions),
            "Resource": list(self.resources),
            "Condition": {c.test: {c.variable: c.values} for c in self.conditions},
        }
        return len(json.dumps(body, separators=(",", ":")))


#: What a role's grants are made of: the ARNs of one account (real, or the widest for measuring).
Grants = Callable[[Arns], list[Grant]]


def pack(sizes: Sequence[int], budget: int = POLICY_BUDGET) -> list[list[int]]:
    """Consecutive grants, by index, into as few policies as fit ``budget`` each (a grant is never split)."""
    policies: list[list[int]] = []
    used = budget + 1
    for index, size in enumerate(sizes):
        if size > budget:
            raise ValueError(f"grant {index} alone is {size} characters, more than a policy holds ({budget})")
        if used + size + 1 > budget:
            policies.append([])
            used = 0
        policies[-1].append(index)
        used += size + 1
    return policies


class DeliveryRole(Construct):
    """A role only the listed GitHub subjects may assume, with its grants in managed policies. Attribute: ``role``.

    Creates ``<id>/trust``, ``<id>/role``, and per policy ``n`` (from 1)
    ``<id>/permissions-n``, ``<id>/policy-n`` (named ``<name>-n``) and ``<id>/attachment-n``.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        github: GithubOidcProvider,
        name: str,
        description: str,
        subjects: Sequence[str],
        arns: Arns,
        grants: Grants,
    ) -> None:
        super().__init__(scope, id_)
        trust = github.trust(self, sid="GithubActionsAssumeRole", subjects=subjects)
        self.role = IamRole(
            self,
            "role",
            name=name,
            description=description,
            assume_role_policy=trust.json,
            max_session_duration=SESSION_SECONDS,
        )
        widest = Arns(partition=WIDEST_PARTITION, region=arns.region, account=ACCOUNT_DIGITS, names=arns.names)
        real = grants(arns)
        for number, indexes in enumerate(pack([grant.size() for grant in grants(widest)]), start=1):
            document = DataAwsIamPolicyDocument(
                self, f"permissions-{number}", statement=[real[i].statement() for i in indexes]
            )
            policy = IamPolicy(
                self,
                f"policy-{number}",
                name=f"{name}-{number}",
                description=f"{description} Part {number}.",
                policy=document.json,
            )
            IamRolePolicyAttachment(self, f"attachment-{number}", role=self.role.name, policy_arn=policy.arn)


def refresh_grants(arns: Arns) -> list[Grant]:
    """What ``terraform plan`` reads: every resource of the system, nothing in its tables or backups."""
    scoped = [
        Grant(f"{row.sid}Refresh", row.read, tuple(row.resources(arns)))
        for row in accesses()
        if row.read and row.resources(arns)
    ]
    # These list or describe many resources at once, or name one by an id of AWS's: IAM authorizes them on "*" only.
    listings = tuple(sorted({action for row in accesses() for action in row.unscoped_read}))
    return [*scoped, Grant("RefreshListings", listings, ("*",))]


def apply_grants(arns: Arns) -> list[Grant]:
    """What ``terraform apply`` does: refresh, create, update, and destroy what holds no data."""
    scoped = [
        Grant(row.sid, (*row.read, *_changes(row)), tuple(row.resources(arns)))
        for row in accesses()
        if row.resources(arns)
    ]
    listings = tuple(sorted({action for row in accesses() for action in row.unscoped_read}))
    return [
        *scoped,
        Grant("RefreshListings", listings, ("*",)),
        *(_unscoped(row, arns) for row in accesses() if row.unscoped_write),
        *_pass_roles(arns),
    ]


def _changes(row: ServiceAccess) -> tuple[str, ...]:
    return row.write if row.keeps_data else (*row.write, *row.delete)


def _unscoped(row: ServiceAccess, arns: Arns) -> Grant:
    """Actions IAM authorizes on "*" only, held to the region the system's calls of them go to."""
    region = iam.Condition("StringEquals", "aws:RequestedRegion", row.region(arns))
    return Grant(f"{row.sid}Unscoped", row.unscoped_write, ("*",), (region,))


def _pass_roles(arns: Arns) -> list[Grant]:
    """Each of the system's roles may be handed to the one service that uses it, no other."""
    names = arns.names
    passes = (
        ("PassFunctionRoles", names.function_roles, "lambda.amazonaws.com"),
        ("PassSchedulerRoles", names.scheduler_roles, "scheduler.amazonaws.com"),
        ("PassApiGatewayRoles", names.api_gateway_roles, "apigateway.amazonaws.com"),
    )
    return [
        Grant(
            sid,
            ("iam:PassRole",),
            tuple(arns.global_("iam", (f"role/{role}" for role in roles))),
            (iam.Condition("StringEquals", "iam:PassedToService", service),),
        )
        for sid, roles, service in passes
    ]


def state_grants(state_bucket: str, arns: Arns, *, write: bool) -> list[Grant]:
    """The state bucket: list it, read every environment's state, lock (S3-native); ``write``: save state too."""
    states = tuple(arns.s3([f"{state_bucket}/*.tfstate"]))
    return [
        Grant("ListState", ("s3:ListBucket",), tuple(arns.s3([state_bucket]))),
        Grant("ReadState", ("s3:GetObject",), states),
        *([Grant("WriteState", ("s3:PutObject",), states)] if write else []),
        # use_lockfile: a run writes <key>.tflock with a conditional put and deletes it when done.
        Grant(
            "LockState",
            ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
            tuple(arns.s3([f"{state_bucket}/*.tflock"])),
        ),
    ]
