"""Tutorial section 10 (API logs): the region's API Gateway account setting.

API Gateway writes execution and access logs to CloudWatch as one role per
account and region, set on the ``aws_api_gateway_account`` singleton. It is
not a property of the student API: another API in the same region shares it,
and an account that already manages it elsewhere turns this construct off
(``manage_api_gateway_account = false`` in ``config.toml``).
"""

from __future__ import annotations

from typing import Final

from constructs import Construct

from engine.aws.api_gateway_account import ApiGatewayAccount
from modules.shared import iam
from modules.shared.naming import qualified

#: Where these resources were before this construct existed (inside the API's
#: construct, ``student-management/api/...``): each carries a ``moved`` block
#: from that address, so a deployment made then keeps its role and setting.
PREVIOUS_ADDRESSES = {
    "role": "aws_iam_role.api_logging-role_E87CA9AF",
    "policy": "aws_iam_role_policy.api_logging-policy_29262786",
    "account": "aws_api_gateway_account.api_account_3AA7F073",
}


#: The role API Gateway logs with (one per region's account setting).
ROLE_NAME: Final = "ApiGatewayCloudWatchLogsRole"


class ApiGatewayAccountLogging(Construct):
    """The role API Gateway logs to CloudWatch with, set as this region's account setting.

    Attributes: ``role``, ``account`` (stages that log depend on it).
    """

    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(scope, id_)
        self.role = iam.service_role(
            self,
            service="apigateway.amazonaws.com",
            sid="ApiGatewayAssumeRole",
            name=qualified(self, ROLE_NAME),
            description="API Gateway (this region) writes execution and access logs with this role.",
        )
        partition = iam.StackIdentity.of(self).partition
        _, policy = iam.inline_policy(
            self,
            role=self.role,
            name="write-logs",
            statements=[
                # DescribeLogGroups has no resource-level permissions.
                iam.statement("ListLogGroups", ["logs:DescribeLogGroups"], ["*"]),
                iam.statement(
                    "WriteApiGatewayLogs",
                    ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    # API Gateway names execution-log groups after the API id
                    # it has not yet got, and lists groups account-wide: the
                    # account's log groups is the narrowest scope that works.
                    [f"arn:{partition}:logs:*:*:log-group:*"],
                ),
            ],
        )
        self.account = ApiGatewayAccount(self, "account", cloudwatch_role_arn=self.role.arn, depends_on=[policy])
        self.role.move_from_id(PREVIOUS_ADDRESSES["role"])
        policy.move_from_id(PREVIOUS_ADDRESSES["policy"])
        self.account.move_from_id(PREVIOUS_ADDRESSES["account"])
