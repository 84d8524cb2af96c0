"""The ``delivery-identity`` stack: what lets GitHub Actions plan and apply the system in this account.

Account-level and deployed once, like the state bucket (``make identity``),
with its own state in a local file: it must exist before any workflow can
reach the account, and it serves every environment there (docs/DEPLOYING.md:
"Delivery from GitHub"). It holds GitHub's OIDC provider and two roles:

- ``StudentManagementPlan``: read-only, for pull requests' plans and the
  scheduled drift report on main;
- ``StudentManagementApply``: for the jobs of the GitHub environments
  (``staging``, ``production``) that apply a reviewed plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from constructs import Construct

from config.settings import AppConfig
from engine.cdk import TerraformOutput, TerraformResource, TerraformStack
from modules.delivery import github
from modules.delivery.access import RESOURCE_TYPES
from modules.delivery.arns import Arns
from modules.delivery.names import SystemNames
from modules.delivery.roles import DeliveryRole, apply_grants, refresh_grants, state_grants
from modules.functions.catalog import FUNCTIONS, FunctionSpec
from modules.shared.iam import StackIdentity
from modules.stacks.terraform import configure_terraform, local_state

PLAN_ROLE: Final = "StudentManagementPlan"
APPLY_ROLE: Final = "StudentManagementApply"
OUTPUT_PLAN_ROLE_ARN: Final = "plan_role_arn"
OUTPUT_APPLY_ROLE_ARN: Final = "apply_role_arn"


class UncoveredResourceTypeError(ValueError):
    """The application stack has a resource type the apply role has no permissions for."""


def wanted(config: AppConfig) -> bool:
    """A delivery identity for a real account whose repository is named: the emulator has no GitHub to trust."""
    return bool(config.github_repository) and not config.is_local


def resource_types(stack: TerraformStack) -> set[str]:
    """Every Terraform resource type a stack creates (data sources excluded)."""
    return {node.terraform_resource_type for node in stack.node.find_all() if isinstance(node, TerraformResource)}


def check_covered(types: Iterable[str]) -> None:
    """Refuse an application stack the apply role could not apply, naming each type to add."""
    missing = sorted(set(types) - set(RESOURCE_TYPES))
    if missing:
        raise UncoveredResourceTypeError(
            f"the application stack creates {', '.join(missing)}, which the delivery identity's apply role "
            "has no permissions for: add a row to RESOURCE_TYPES in modules/delivery/access.py"
        )


class DeliveryIdentityStack(TerraformStack):
    """GitHub's OIDC provider and the planning and apply roles. Attributes: ``github``, ``plan``, ``apply``.

    ``application`` is the application stack of the same app, built from
    ``functions``: the synth fails if it creates a resource type the apply role
    has no row for, and the roles' names cover every function of the table.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: AppConfig,
        environments: Sequence[AppConfig],
        application: TerraformStack,
        functions: Sequence[FunctionSpec] = FUNCTIONS,
    ) -> None:
        super().__init__(scope, id_)
        check_covered(resource_types(application))
        configure_terraform(self, config, account_level=True)
        local_state(self, config)
        identity = StackIdentity.of(self)
        arns = Arns(
            partition=identity.partition,
            region=config.region,
            account=identity.account_id,
            names=SystemNames.of(environments, functions),
        )
        repository = config.github_repository
        self.github = github.GithubOidcProvider(self, "github")
        self.plan = DeliveryRole(
            self,
            "plan",
            github=self.github,
            name=PLAN_ROLE,
            description="Plans the student management system (read-only): pull requests and main's drift report.",
            subjects=[github.pull_request(repository), github.branch(repository)],
            arns=arns,
            grants=lambda a: [*refresh_grants(a), *state_grants(config.state_bucket, a, write=False)],
        )
        self.apply = DeliveryRole(
            self,
            "apply",
            github=self.github,
            name=APPLY_ROLE,
            description="Applies reviewed plans of the student management system: GitHub environments only.",
            subjects=[github.environment(repository, environment.environment) for environment in environments],
            arns=arns,
            grants=lambda a: [*apply_grants(a), *state_grants(config.state_bucket, a, write=True)],
        )
        TerraformOutput(self, OUTPUT_PLAN_ROLE_ARN, value=self.plan.role.arn)
        TerraformOutput(self, OUTPUT_APPLY_ROLE_ARN, value=self.apply.role.arn)
