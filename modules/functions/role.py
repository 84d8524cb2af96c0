"""Tutorial sections 2.1-2.3: the IAM role a Lambda function runs as."""

from __future__ import annotations

from constructs import Construct

from modules.shared import iam


class FunctionRole(Construct):
    """A role only the Lambda service can assume, with no permissions of its own.

    Its permissions are the function's inline policy, assembled from what the
    function is granted (``PythonFunction.add_to_policy``). Attribute: ``role``.
    """

    def __init__(self, scope: Construct, id_: str, *, role_name: str, description: str) -> None:
        super().__init__(scope, id_)
        self.role = iam.service_role(self, service="lambda.amazonaws.com", name=role_name, description=description)
