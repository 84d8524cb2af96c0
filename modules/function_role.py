"""Tutorial sections 2.1-2.3: the IAM role a Lambda function runs as."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from constructs import Construct


class FunctionRole(Construct):
    """A role only the Lambda service can assume, with no permissions of its own.

    Permissions are attached where both the role and the resource are visible
    (the function's construct), scoped to exact ARNs. Attribute: ``role``.
    """

    def __init__(self, scope: Construct, id_: str, *, role_name: str, description: str) -> None:
        super().__init__(scope, id_)
        trust = DataAwsIamPolicyDocument(
            self,
            "trust",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="LambdaAssumeRole",
                    effect="Allow",
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(
                            type="Service", identifiers=["lambda.amazonaws.com"]
                        )
                    ],
                    actions=["sts:AssumeRole"],
                )
            ],
        )
        self.role = IamRole(
            self,
            "role",
            name=role_name,
            description=description,
            assume_role_policy=trust.json,
        )
