#!/usr/bin/env python
"""Composes the serverless student management system as two Terraform stacks.

``state-bootstrap`` creates the S3 bucket that holds Terraform state (its own
state stays local). ``student-management`` is the system itself, with its state
in that bucket. ``DEPLOY_TARGET`` chooses a real AWS account (``aws``, the
default) or the local moto server emulator (``local``); see ``modules/config.py``
for every setting.
"""

from __future__ import annotations

import sys
from pathlib import Path

from modules import provider_bindings
from modules.config import APP_STACK, BOOTSTRAP_STACK, PROJECT_ROOT, AppConfig, ConfigError, load_config


def validated_config() -> AppConfig | None:
    """The configuration, or None once the reason it is invalid is printed."""
    try:
        return load_config()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return None


if __name__ == "__main__" and validated_config() is None:
    sys.exit(2)  # a bad value fails here, in milliseconds, before the bindings load
provider_bindings.install()

# Imported only after the configuration check and install() (modules/provider_bindings.py).
from cdktf import App, LocalBackend, S3Backend, S3BackendEndpointConfig, TerraformOutput, TerraformStack  # noqa: E402
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity  # noqa: E402
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (  # noqa: E402
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
)
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition  # noqa: E402
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints  # noqa: E402
from constructs import Construct  # noqa: E402

from lambdas.common import names  # noqa: E402
from modules.backup_schedule import BackupSchedule  # noqa: E402
from modules.backup_storage import BackupStorage  # noqa: E402
from modules.email_identities import EmailIdentities  # noqa: E402
from modules.function_role import FunctionRole  # noqa: E402
from modules.python_function import PythonFunction  # noqa: E402
from modules.state_bucket import StateBucket  # noqa: E402
from modules.student_api import StudentApi, UsageLimits  # noqa: E402
from modules.student_table import StudentTable  # noqa: E402

#: The provider bindings (cdktf-cdktf-provider-aws 21.x) are generated from
#: hashicorp/aws 6.25 and pin exactly that version. Every resource and argument
#: this project uses exists with the same meaning in 5.100 (the version the
#: offline test machines carry) and in 6.x (what a user with internet gets), so
#: the synthesized constraint admits both; 7.0 may break the bindings.
AWS_PROVIDER_CONSTRAINT = ">= 5.100.0, < 7.0.0"
#: S3-native state locking (use_lockfile) arrived in Terraform 1.10.
TERRAFORM_VERSION_CONSTRAINT = ">= 1.10.0"

#: Services the system calls, routed to the emulator when deploying locally.
EMULATED_SERVICES = (
    "apigateway",
    "cloudwatchlogs",
    "dynamodb",
    "iam",
    "lambda",
    "s3",
    "scheduler",
    "secretsmanager",
    "ses",
    "sts",
)


def configure_terraform(stack: TerraformStack, config: AppConfig) -> AwsProvider:
    """The AWS provider of a stack, with default tags and, locally, the emulator's endpoints."""
    endpoints = None
    if config.is_local:
        url = config.emulator_endpoint
        endpoints = [AwsProviderEndpoints(**{_python_arg(s): url for s in EMULATED_SERVICES})]
    provider = AwsProvider(
        stack,
        "aws",
        region=config.region,
        default_tags=[AwsProviderDefaultTags(tags=dict(config.tags))],
        endpoints=endpoints,
        # moto serves every bucket from one host; virtual-host addressing needs DNS it lacks.
        s3_use_path_style=True if config.is_local else None,
        custom_ca_bundle=str(config.emulator_ca_bundle) if config.is_local else None,
        skip_metadata_api_check="true" if config.is_local else None,
    )
    stack.add_override("terraform.required_providers.aws.version", AWS_PROVIDER_CONSTRAINT)
    stack.add_override("terraform.required_version", TERRAFORM_VERSION_CONSTRAINT)
    return provider


def _python_arg(service: str) -> str:
    return "lambda_" if service == "lambda" else service


class BootstrapStack(TerraformStack):
    """The state bucket; its own state is a local file (see the README)."""

    def __init__(self, scope: Construct, id_: str, *, config: AppConfig) -> None:
        super().__init__(scope, id_)
        configure_terraform(self, config)
        if config.is_local:
            # The emulator keeps resources in memory only: this state lives and
            # dies with it (scripts/emulator.sh deletes it on a fresh start).
            LocalBackend(self, path=str(config.emulator_state_dir / "bootstrap.tfstate"))
        else:
            LocalBackend(self, path=str(PROJECT_ROOT / f"terraform.{id_}.tfstate"))
        self.state = StateBucket(
            self,
            "state",
            bucket_name=config.state_bucket,
            noncurrent_version_retention_days=config.noncurrent_version_retention_days,
        )
        TerraformOutput(self, names.OUTPUT_STATE_BUCKET, value=self.state.bucket.bucket.bucket)


class StudentManagementStack(TerraformStack):
    """The student management system, with its state in the bootstrap bucket."""

    def __init__(self, scope: Construct, id_: str, *, config: AppConfig) -> None:
        super().__init__(scope, id_)
        configure_terraform(self, config)
        local = config.is_local
        S3Backend(
            self,
            bucket=config.state_bucket,
            key=config.state_key,
            region=config.region,
            encrypt=True,
            endpoints=S3BackendEndpointConfig(s3=config.emulator_endpoint, sts=config.emulator_endpoint)
            if local
            else None,
            use_path_style=True if local else None,
            custom_ca_bundle=str(config.emulator_ca_bundle) if local else None,
            skip_metadata_api_check=True if local else None,
        )
        # cdktf 0.21's S3Backend predates S3-native locking (Terraform >= 1.10):
        # a conditional write of <key>.tflock, no DynamoDB lock table needed.
        self.add_override("terraform.backend.s3.use_lockfile", True)

        self.table = StudentTable(self, "students", table_name=config.table_name)
        self.read_role = FunctionRole(
            self,
            "read-role",
            role_name="LambdaGetStudentRole",
            description="Runs getStudentData: reads studentData.",
        )
        self.insert_role = FunctionRole(
            self,
            "insert-role",
            role_name="LambdaInsertStudentRole",
            description="Runs insertStudentData: adds a student, e-mails a confirmation.",
        )
        self.backup_role = FunctionRole(
            self,
            "backup-role",
            role_name="DynamoDBBackupRole",
            description="Runs BackupDynamoDBAndSendEmail: reads studentData, writes backups, e-mails a notice.",
        )
        self.backup_storage = BackupStorage(
            self,
            "backup-storage",
            bucket_name=config.backup_bucket,
            log_bucket_name=config.backup_log_bucket,
            writer_role=self.backup_role.role,
            noncurrent_version_retention_days=config.noncurrent_version_retention_days,
            access_log_retention_days=config.access_log_retention_days,
        )
        self.email = EmailIdentities(self, "email", sender=config.sender_email, recipients=config.recipient_emails)

        self._functions(config)
        self.api = StudentApi(
            self,
            "api",
            api_name=config.api_name,
            endpoint_type=config.api_endpoint_type,
            stage_name=config.api_stage_name,
            allowed_origin=config.allowed_origin,
            functions={
                "read": self.read_function,
                "insert": self.insert_function,
                "backup": self.backup_function,
            },
            limits=UsageLimits(
                rate_per_second=config.api_rate_limit,
                burst=config.api_burst_limit,
                quota_per_day=config.api_daily_quota,
            ),
            log_retention_days=config.log_retention_days,
            manage_account_logging_role=config.manage_api_gateway_account,
            key_secret_name=config.api_key_secret_name,
        )

        TerraformOutput(self, names.OUTPUT_TABLE_NAME, value=self.table.table.name)
        TerraformOutput(self, names.OUTPUT_TABLE_ARN, value=self.table.table.arn)
        TerraformOutput(self, names.OUTPUT_BACKUP_BUCKET, value=self.backup_storage.bucket.bucket.bucket)
        TerraformOutput(self, names.OUTPUT_BACKUP_LOG_BUCKET, value=self.backup_storage.log_bucket.bucket.bucket)
        TerraformOutput(self, names.OUTPUT_API_URL, value=self.api.invoke_url)
        TerraformOutput(self, names.OUTPUT_API_ID, value=self.api.api.id)
        TerraformOutput(self, names.OUTPUT_API_KEY_SECRET_ARN, value=self.api.key_secret.arn)
        TerraformOutput(self, names.OUTPUT_SES_IDENTITIES, value=[identity.email for identity in self.email.all])

    def _functions(self, config: AppConfig) -> None:
        """Tutorial sections 3.1-3.3, 8 and 10: the three functions, each with exactly what its code calls."""
        table = self.table.table
        backup_bucket = self.backup_storage.bucket.bucket
        account = DataAwsCallerIdentity(self, "account").account_id
        partition = DataAwsPartition(self, "partition").partition
        common_env = {names.ENV_TABLE_NAME: table.name, names.ENV_ALLOWED_ORIGIN: config.allowed_origin}

        def allow(
            sid: str, actions: list[str], resources: list[str], **condition: str
        ) -> DataAwsIamPolicyDocumentStatement:
            return DataAwsIamPolicyDocumentStatement(
                sid=sid,
                effect="Allow",
                actions=actions,
                resources=resources,
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(test="StringEquals", variable=key, values=[value])
                    for key, value in condition.items()
                ]
                or None,
            )

        from_sender = {"ses:FromAddress": config.sender_email}
        self.read_function = PythonFunction(
            self,
            "read-function",
            function_name="getStudentData",
            description="GET /students: lists students page by page, or returns one by studentid.",
            package="get_students",
            role=self.read_role,
            environment=common_env,
            statements=[allow("ReadStudents", ["dynamodb:GetItem", "dynamodb:Scan"], [table.arn])],
            timeout_seconds=10,
            log_retention_days=config.log_retention_days,
        )
        self.insert_function = PythonFunction(
            self,
            "insert-function",
            function_name="insertStudentData",
            description="POST /students: validates and saves a student, e-mails a confirmation.",
            package="insert_student",
            role=self.insert_role,
            environment={**common_env, names.ENV_SENDER_EMAIL: config.sender_email},
            statements=[
                allow("InsertStudent", ["dynamodb:PutItem"], [table.arn]),
                # The recipient is each new student, whose SES identity (needed
                # while the account is in the sandbox) is verified outside
                # Terraform: every identity of the account, but only as the sender.
                allow(
                    "SendConfirmation",
                    ["ses:SendEmail"],
                    [f"arn:{partition}:ses:{config.region}:{account}:identity/*"],
                    **from_sender,
                ),
            ],
            timeout_seconds=15,
            log_retention_days=config.log_retention_days,
        )
        self.backup_function = PythonFunction(
            self,
            "backup-function",
            function_name="BackupDynamoDBAndSendEmail",
            description="POST /backup and daily: streams studentData to JSON and CSV in S3, e-mails a summary.",
            package="backup",
            role=self.backup_role,
            environment={
                **common_env,
                names.ENV_BACKUP_BUCKET: backup_bucket.bucket,
                names.ENV_SENDER_EMAIL: config.sender_email,
                names.ENV_RECIPIENT_EMAIL: ",".join(config.recipient_emails),
            },
            statements=[
                allow("ScanStudents", ["dynamodb:Scan"], [table.arn]),
                allow(
                    "WriteBackups",
                    ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"],
                    [f"{backup_bucket.arn}/{names.BACKUP_PREFIX}*"],
                ),
                allow("SendSummary", ["ses:SendEmail"], [identity.arn for identity in self.email.all], **from_sender),
            ],
            # The tutorial's sizes: streaming keeps memory flat whatever the table size.
            memory_mb=128,
            ephemeral_storage_mb=512,
            timeout_seconds=900,
            # Two backups at once would race to write the same keys.
            reserved_concurrency=1,
            log_retention_days=config.log_retention_days,
        )
        self.schedule = BackupSchedule(
            self, "daily-backup", schedule_name="DailyDynamoDBBackup", function=self.backup_function.function
        )


def build_app(config: AppConfig, outdir: Path | None = None) -> App:
    """Both stacks of the system for one configuration, ready to synthesize."""
    app = App(outdir=str(outdir)) if outdir else App()
    BootstrapStack(app, BOOTSTRAP_STACK, config=config)
    StudentManagementStack(app, APP_STACK, config=config)
    return app


def main() -> int:
    config = validated_config()
    if config is None:
        return 2
    build_app(config).synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
