"""GitHub Actions' OpenID Connect provider, and the trust a role gives to some of the repository's jobs.

A workflow job asks GitHub for a token (``permissions: id-token: write``)
whose ``sub`` claim says where it runs: ``repo:<owner/name>:pull_request``
for a pull request, ``repo:<owner/name>:ref:refs/heads/main`` for a run on
main outside an environment, ``repo:<owner/name>:environment:<name>`` for a
job of a GitHub environment. A role trusts exactly the subjects it lists
(``StringEquals``, never a wildcard) and only tokens minted for STS
(``aud``), so no other repository, branch or kind of job can assume it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from constructs import Construct

from engine.aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from engine.aws.iam_openid_connect_provider import IamOpenidConnectProvider
from modules.shared import iam

#: GitHub Actions' token issuer; its host prefixes the claims' condition keys.
ISSUER_HOST: Final = "token.actions.githubusercontent.com"
ISSUER_URL: Final = f"https://{ISSUER_HOST}"
#: The audience configure-aws-credentials asks GitHub for.
AUDIENCE: Final = "sts.amazonaws.com"
#: The GitHub environments whose jobs may apply, in deploy order.
ENVIRONMENTS: Final = ("staging", "production")
#: The branch whose scheduled runs (drift reports) may plan.
MAIN_BRANCH: Final = "main"


def pull_request(repository: str) -> str:
    """The subject of a pull request's jobs."""
    return f"repo:{repository}:pull_request"


def branch(repository: str, name: str = MAIN_BRANCH) -> str:
    """The subject of a job on a branch that names no environment (a scheduled run)."""
    return f"repo:{repository}:ref:refs/heads/{name}"


def environment(repository: str, name: str) -> str:
    """The subject of a job of a GitHub environment (``environment: <name>``)."""
    return f"repo:{repository}:environment:{name}"


class GithubOidcProvider(Construct):
    """The account's trust in GitHub Actions' tokens. Attribute: ``provider``.

    No thumbprint: for GitHub's issuer IAM verifies the token's signing keys
    against its own library of trusted certificate authorities and ignores
    configured thumbprints, and AWS provider 5.81 and later make the argument
    optional (docs/DEPLOYING.md: "Delivery from GitHub").
    """

    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(scope, id_)
        self.provider = IamOpenidConnectProvider(self, "provider", url=ISSUER_URL, client_id_list=[AUDIENCE])

    def trust(self, scope: Construct, *, sid: str, subjects: Sequence[str]) -> DataAwsIamPolicyDocument:
        """``<scope>/trust``: tokens of exactly these subjects, minted for STS, may assume the role."""
        return DataAwsIamPolicyDocument(
            scope,
            "trust",
            statement=[
                iam.statement(
                    sid,
                    ["sts:AssumeRoleWithWebIdentity"],
                    principal=iam.Principal.federated(self.provider.arn),
                    conditions=[
                        iam.Condition("StringEquals", f"{ISSUER_HOST}:aud", AUDIENCE),
                        iam.Condition("StringEquals", f"{ISSUER_HOST}:sub", tuple(subjects)),
                    ],
                )
            ],
        )
