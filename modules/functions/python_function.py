"""Tutorial sections 3.1-3.3 and 10: a Python Lambda function, its code package and its logs.

Each function's zip holds the ``lambdas/`` package tree with only its own
handler package and ``lambdas/common`` (names, responses, validation), so
``lambdas.<package>.handler.lambda_handler`` imports the same way in AWS as in
the tests. The log group is created before the function, with a retention, so
Lambda never creates an unbounded one itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from constructs import Construct

from engine.aws.cloudwatch_log_group import CloudwatchLogGroup
from engine.aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from engine.aws.iam_role_policy import IamRolePolicy
from engine.aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionEnvironment,
    LambdaFunctionEphemeralStorage,
    LambdaFunctionTracingConfig,
)
from engine.cdk import AssetType, Fn, TerraformAsset
from modules.functions.catalog import FunctionSpec
from modules.functions.dead_letter_queue import DeadLetterQueue
from modules.functions.packaging import package_code
from modules.functions.role import FunctionRole
from modules.shared import iam

RUNTIME = "python3.13"


def log_group_name(function_name: str) -> str:
    """Where Lambda writes a function's logs: the group is created here, with a retention, before Lambda would."""
    return f"/aws/lambda/{function_name}"


class PythonFunction(Construct):
    """The Lambda function of one row of the function table, running as ``role``.

    The role's inline policy is the function's complete permission set: writing
    to its own log group and sending traces, plus what the resources that own
    the data grant it (``StudentTable.grant_read(fn)`` and the like call
    ``add_to_policy`` and ``add_environment``); ``grant_invoke_itself`` lets it
    start its own runs; ``use_dead_letter_queue`` keeps its failed asynchronous
    invocations. Attributes: ``spec``, ``function``, ``function_name`` (the
    literal name), ``role``, ``log_group``, ``policy_document``.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        spec: FunctionSpec,
        role: FunctionRole,
        environment: Mapping[str, str],
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, id_)
        self.spec = spec
        self.function_name = spec.name
        self.role = role.role
        self.log_group = CloudwatchLogGroup(
            self, "logs", name=log_group_name(spec.name), retention_in_days=log_retention_days
        )
        self._statements = [
            iam.statement("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{self.log_group.arn}:*"]),
            # Active tracing: the Lambda service sends the segments as the
            # function's role. X-Ray's write actions support no resource-level
            # permissions, so "*" is the only resource there is.
            iam.statement("WriteTraces", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]),
        ]
        self.policy_document, policy = iam.inline_policy(
            self, role=self.role, name=spec.policy_name, statements=self._statements
        )
        self._environment = dict(environment)
        self.function = self._function(spec, policy)

    def _function(self, spec: FunctionSpec, policy: IamRolePolicy) -> LambdaFunction:
        code = TerraformAsset(self, "code", path=str(package_code(spec.package)), type=AssetType.FILE)
        return LambdaFunction(
            self,
            "function",
            function_name=spec.name,
            description=spec.description,
            role=self.role.arn,
            runtime=RUNTIME,
            architectures=["x86_64"],
            handler=spec.handler,
            filename=code.path,
            source_code_hash=Fn.filebase64sha256(code.path),
            timeout=spec.timeout_seconds,
            memory_size=spec.memory_mb,
            ephemeral_storage=LambdaFunctionEphemeralStorage(size=spec.ephemeral_storage_mb),
            reserved_concurrent_executions=spec.reserved_concurrency,
            environment=LambdaFunctionEnvironment(variables=dict(self._environment)),
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            # The log group must exist (with its retention) before the first
            # invocation, and the role must hold its permissions.
            depends_on=[self.log_group, policy],
        )

    def add_to_policy(self, statement: DataAwsIamPolicyDocumentStatement) -> None:
        """Allows the function what ``statement`` allows (through its role's inline policy)."""
        self._statements.append(statement)
        self.policy_document.put_statement(self._statements)

    def grant_invoke_itself(self, *, region: str) -> None:
        """``lambda:InvokeFunction`` on the function's own ARN (``Access.INVOKE_ITSELF``).

        The ARN is spelled from the function's name and ``region``: the
        function's own ``arn`` attribute would make the policy wait for the
        function, which waits for its policy (a reference cycle).
        """
        identity = iam.StackIdentity.of(self)
        arn = f"arn:{identity.partition}:lambda:{region}:{identity.account_id}:function:{self.function_name}"
        self.add_to_policy(iam.statement("StartOwnRuns", ["lambda:InvokeFunction"], [arn]))

    def use_dead_letter_queue(self, queue: DeadLetterQueue) -> None:
        """Keeps in ``queue`` every asynchronous invocation that failed all of Lambda's retries.

        Lambda sends it there as the function's role, so the role may send to
        that queue (and to no other); Lambda checks this when the function is
        created or updated, which the function's ``depends_on`` on its policy
        already orders.
        """
        queue.grant_send(self)
        self.function.put_dead_letter_config(target_arn=queue.queue.arn)

    def add_environment(self, name: str, value: str) -> None:
        """Sets one environment variable of the function."""
        self._environment[name] = value
        self.function.put_environment(variables=dict(self._environment))
