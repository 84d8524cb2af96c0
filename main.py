#!/usr/bin/env python
"""Composes the serverless student management system as two Terraform stacks.

``state-bootstrap`` creates the S3 bucket that holds Terraform state (its own
state stays local). ``student-management`` is the system itself, with its state
in that bucket. ``DEPLOY_TARGET`` chooses a real AWS account (``aws``, the
default) or the local moto server emulator (``local``); see ``config/settings.py``
for every setting.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from config.settings import (
    APP_STACK,
    AWS_PROVIDER_CONSTRAINT,
    BOOTSTRAP_STACK,
    PROJECT_ROOT,
    TERRAFORM_VERSION_CONSTRAINT,
    AppConfig,
    ConfigError,
    cognito_origin,
    load_config,
)
from engine import provider_bindings


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

# Imported only after the configuration check and install() (engine/provider_bindings.py).

import jsii  # noqa: E402
from cdktf import (  # noqa: E402
    App,
    IResolveContext,
    IStringProducer,
    Lazy,
    LocalBackend,
    S3Backend,
    S3BackendEndpointConfig,
    TerraformOutput,
    TerraformStack,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints  # noqa: E402
from constructs import Construct  # noqa: E402

from lambdas.common import names  # noqa: E402
from modules.api import routes as api_routes  # noqa: E402
from modules.api.gateway_account import ApiGatewayAccountLogging  # noqa: E402
from modules.api.student_api import StudentApi, UsageLimits  # noqa: E402
from modules.backup.runs import BackupRuns  # noqa: E402
from modules.backup.schedule import BackupSchedule  # noqa: E402
from modules.backup.storage import BackupStorage  # noqa: E402
from modules.data.student_table import StudentTable  # noqa: E402
from modules.functions.catalog import FUNCTIONS, Access, FunctionKey, FunctionSpec  # noqa: E402
from modules.functions.catalog import routes as function_routes  # noqa: E402
from modules.functions.python_function import PythonFunction  # noqa: E402
from modules.functions.role import FunctionRole  # noqa: E402
from modules.identity.email_identities import EmailIdentities  # noqa: E402
from modules.identity.staff_directory import StaffDirectory  # noqa: E402
from modules.monitoring.alarms import Monitoring  # noqa: E402
from modules.shared import iam  # noqa: E402
from modules.shared.scratch import scratch_dir  # noqa: E402
from modules.site import assets as site_assets  # noqa: E402
from modules.site.access_logs import SiteAccessLogs  # noqa: E402
from modules.site.firewall import SiteFirewall  # noqa: E402
from modules.site.website import DISTRIBUTION_NAME, ApiOrigin, SiteCertificate, Website  # noqa: E402
from modules.state.state_bucket import StateBucket  # noqa: E402

#: Services the system calls, routed to the emulator when deploying locally.
EMULATED_SERVICES = (
    "apigateway",
    "cloudfront",
    "cloudwatch",
    "cloudwatchlogs",
    "dynamodb",
    "iam",
    "kms",
    "lambda",
    "s3",
    "scheduler",
    "cognitoidp",
    "secretsmanager",
    "ses",
    "sns",
    "sqs",
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
            # dies with it (local/emulator.sh deletes it on a fresh start).
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
    """The student management system, with its state in the bootstrap bucket.

    Composes the constructs of ``modules/``: every function, its role, grants,
    routes and schedule come from ``functions`` (the table in ``modules/functions/catalog.py``).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: AppConfig,
        functions: Sequence[FunctionSpec] = FUNCTIONS,
    ) -> None:
        super().__init__(scope, id_)
        configure_terraform(self, config)
        self._remote_state(config)
        # The page's origin is the distribution's domain, which exists only
        # after the API it fronts: the functions and the API's CORS answers
        # read it through a lazy value the website fills in below.
        site_origin = _SiteOrigin(config.fixed_site_origin)
        self.table = StudentTable(self, "students", table_name=config.table_name)
        self.backup_runs = BackupRuns(self, "backup-runs", table_name=config.backup_runs_table_name)
        roles = {
            row.key: FunctionRole(
                self, row.role_construct_id, role_name=row.role_name, description=row.role_description
            )
            for row in functions
        }
        self.backup_storage = BackupStorage(
            self,
            "backup-storage",
            bucket_name=config.backup_bucket,
            log_bucket_name=config.backup_log_bucket,
            writer_role=roles[_backup_writer(functions)].role,
            noncurrent_version_retention_days=config.noncurrent_version_retention_days,
            access_log_retention_days=config.access_log_retention_days,
            backup_retention_days=config.backup_retention_days,
        )
        self.email = EmailIdentities(
            self, "email", sender=config.sender_email, recipients=config.recipient_emails, region=config.region
        )
        self.functions = {
            row.key: self._function(row, roles[row.key], config, origin=site_origin.value) for row in functions
        }
        self.schedules = [
            BackupSchedule(
                self, row.schedule_construct_id, schedule_name=row.schedule, function=self.functions[row.key].function
            )
            for row in functions
            if row.schedule
        ]
        self.staff = StaffDirectory(
            self,
            "staff",
            pool_name=config.staff_user_pool_name,
            mfa=config.staff_mfa_enabled,
            # In AWS the pool holds every staff account: Cognito refuses to delete
            # it until this is turned off. The emulator's pool goes with `make down`.
            deletion_protection=not config.is_local,
            token_validity_minutes=config.staff_token_validity_minutes,
            refresh_token_validity_hours=config.staff_refresh_token_validity_hours,
        )
        account_logging = (
            ApiGatewayAccountLogging(self, "api-gateway-account") if config.manage_api_gateway_account else None
        )
        self.api = StudentApi(
            self,
            "api",
            api_name=config.api_name,
            endpoint_type=config.api_endpoint_type,
            stage_name=config.api_stage_name,
            allowed_origin=site_origin.value,
            handlers=[(route, self.functions[key]) for key, route in function_routes(functions)],
            staff=self.staff,
            limits=UsageLimits(
                rate_per_second=config.api_rate_limit,
                burst=config.api_burst_limit,
                quota_per_day=config.api_daily_quota,
            ),
            log_retention_days=config.log_retention_days,
            key_secret_name=config.api_key_secret_name,
            stage_depends_on=[account_logging.account] if account_logging else (),
        )
        self.website = self._website(config, functions)
        site_origin.resolve_to(self.website.url)
        self.site_logs = (
            SiteAccessLogs(
                self,
                "site-logs",
                distribution=self.website.distribution,
                name=DISTRIBUTION_NAME,
                bucket_name=config.website_log_bucket,
                retention_days=config.access_log_retention_days,
            )
            if config.site_access_logs
            else None
        )
        # Issue 12, nobody left uninformed: every function's failed asynchronous
        # invocations kept in a dead-letter queue, alarms e-mailed to the
        # recipients, saved Logs Insights queries (modules/monitoring/alarms.py).
        self.monitoring = Monitoring(
            self,
            "monitoring",
            recipients=config.recipient_emails,
            region=config.region,
            functions=list(self.functions.values()),
            schedules=self.schedules,
            api=self.api,
        )
        for function in self.functions.values():
            function.use_dead_letter_queue(self.monitoring.failed_invocations)
        self._outputs()

    def _website(self, config: AppConfig, functions: Sequence[FunctionSpec]) -> Website:
        """Tutorial sections 5-7: the page, built from frontend/, behind CloudFront with the API."""
        site_dir = scratch_dir("student-site-")
        firewall = (
            SiteFirewall(self, "firewall", name="StudentWebsiteFirewall", rate_limit=config.site_waf_rate_limit)
            if config.site_waf
            else None
        )
        return Website(
            self,
            "website",
            bucket_name=config.website_bucket,
            api=ApiOrigin(
                domain_name=f"{self.api.api.id}.execute-api.{config.region}.amazonaws.com",
                stage_path=f"/{config.api_stage_name}",
                api_key_value=self.api.api_key.value,
                paths=list(api_routes.paths(route for _, route in function_routes(functions))),
            ),
            site=site_assets.build_site(
                site_dir,
                config=site_assets.runtime_config(
                    functions,
                    sign_in=site_assets.StaffSignIn(
                        region=config.region,
                        user_pool_id=self.staff.user_pool.id,
                        client_id=self.staff.client.id,
                        endpoint=config.staff_sign_in_endpoint,
                    ),
                ),
            ),
            site_dir=site_dir,
            # The one difference between the targets: the emulator cannot create
            # a response-headers policy, so the local distribution names AWS's
            # managed security-headers policy instead (the local system serves
            # the headers of modules/site/headers.py itself).
            own_response_headers_policy=not config.is_local,
            certificate=SiteCertificate(
                domain_name=config.site_domain_name, certificate_arn=config.site_certificate_arn
            )
            if config.site_domain_name
            else None,
            price_class=config.site_price_class,
            noncurrent_version_retention_days=config.noncurrent_version_retention_days,
            web_acl_arn=firewall.web_acl.arn if firewall else None,
            # The page signs staff in with Cognito's endpoint in AWS; locally through
            # its own origin ('self'), which the local edge forwards to the emulator.
            connect_to=() if config.is_local else [cognito_origin(config.region)],
        )

    def _remote_state(self, config: AppConfig) -> None:
        """State in the bootstrap bucket (the emulator's, locally), locked by S3 itself."""
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

    def _function(self, row: FunctionSpec, role: FunctionRole, config: AppConfig, *, origin: str) -> PythonFunction:
        """Tutorial sections 3.1-3.3: one function, given exactly the access its row lists."""
        function = PythonFunction(
            self,
            row.construct_id,
            spec=row,
            role=role,
            environment={names.ENV_ALLOWED_ORIGIN: origin},
            log_retention_days=config.log_retention_days,
        )
        grants: dict[Access, Callable[[iam.Grantee], None]] = {
            Access.READ_STUDENTS: self.table.grant_read,
            Access.SCAN_STUDENTS: self.table.grant_scan,
            Access.ADD_STUDENTS: self.table.grant_add,
            Access.WRITE_BACKUPS: self.backup_storage.grant_write,
            Access.MAIL_STUDENTS: self.email.grant_send_to_anyone,
            Access.MAIL_RECIPIENTS: self.email.grant_send_to_recipients,
            Access.TRACK_BACKUP_RUNS: self.backup_runs.grant_track,
            Access.INVOKE_ITSELF: functools.partial(_grant_invoke_itself, self, name=row.name, region=config.region),
        }
        for access in row.access:
            grants[access](function)
        return function

    def _outputs(self) -> None:
        TerraformOutput(self, names.OUTPUT_TABLE_NAME, value=self.table.table.name)
        TerraformOutput(self, names.OUTPUT_TABLE_ARN, value=self.table.table.arn)
        TerraformOutput(self, names.OUTPUT_RUNS_TABLE_NAME, value=self.backup_runs.table.name)
        TerraformOutput(self, names.OUTPUT_BACKUP_BUCKET, value=self.backup_storage.bucket.bucket.bucket)
        TerraformOutput(self, names.OUTPUT_BACKUP_LOG_BUCKET, value=self.backup_storage.log_bucket.bucket.bucket)
        TerraformOutput(self, names.OUTPUT_API_URL, value=self.api.invoke_url)
        TerraformOutput(self, names.OUTPUT_API_ID, value=self.api.api.id)
        TerraformOutput(self, names.OUTPUT_API_KEY_SECRET_ARN, value=self.api.key_secret.arn)
        TerraformOutput(self, names.OUTPUT_SES_IDENTITIES, value=[identity.email for identity in self.email.all])
        TerraformOutput(self, names.OUTPUT_SITE_URL, value=self.website.url)
        TerraformOutput(self, names.OUTPUT_SITE_DISTRIBUTION_ID, value=self.website.distribution.id)
        TerraformOutput(self, names.OUTPUT_WEBSITE_BUCKET, value=self.website.bucket.bucket.bucket)
        TerraformOutput(self, names.OUTPUT_STAFF_USER_POOL_ID, value=self.staff.user_pool.id)
        TerraformOutput(self, names.OUTPUT_STAFF_USER_POOL_CLIENT_ID, value=self.staff.client.id)


def _grant_invoke_itself(scope: Construct, grantee: iam.Grantee, *, name: str, region: str) -> None:
    """``lambda:InvokeFunction`` on the function's own ARN, spelled from its name (no reference cycle)."""
    identity = iam.StackIdentity.of(scope)
    arn = f"arn:{identity.partition}:lambda:{region}:{identity.account_id}:function:{name}"
    grantee.add_to_policy(iam.statement("StartOwnRuns", ["lambda:InvokeFunction"], [arn]))


@jsii.implements(IStringProducer)
class _SiteOrigin:
    """The site's origin: fixed by the configuration, or the website's URL once it exists."""

    def __init__(self, fixed: str | None) -> None:
        self._url: str | None = None
        self.value = fixed or Lazy.string_value(self)

    def resolve_to(self, url: str) -> None:
        self._url = url

    def produce(self, context: IResolveContext) -> str:
        if self._url is None:
            raise ValueError("the site's origin was read before the website was built")
        return self._url


def _backup_writer(functions: Sequence[FunctionSpec]) -> FunctionKey:
    """The one function granted ``WRITE_BACKUPS``: the backup bucket's policy admits a single writer role."""
    writers = [row.key for row in functions if Access.WRITE_BACKUPS in row.access]
    if len(writers) != 1:
        raise ValueError(f"exactly one function may write backups (the bucket admits one role); granted to: {writers}")
    return writers[0]


def build_app(config: AppConfig, outdir: Path | None = None, *, functions: Sequence[FunctionSpec] = FUNCTIONS) -> App:
    """Both stacks of the system for one configuration (and function table), ready to synthesize."""
    app = App(outdir=str(outdir)) if outdir else App()
    BootstrapStack(app, BOOTSTRAP_STACK, config=config)
    StudentManagementStack(app, APP_STACK, config=config, functions=functions)
    return app


def main() -> int:
    config = validated_config()
    if config is None:
        return 2
    build_app(config).synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
