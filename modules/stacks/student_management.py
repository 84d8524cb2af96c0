"""The ``student-management`` stack: the whole system, composed step by step from the constructs of ``modules/``.

Every function, its role, grants, routes and schedule come from the function
table (``modules/functions/catalog.py``). Each step is a method that builds its
constructs directly in the stack, under the IDs they always had: the steps name
the parts of the system without adding a level to any construct path, so no
Terraform address changes.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence

import jsii
from constructs import Construct

from config.settings import AppConfig, cognito_origin
from engine.cdk import IResolveContext, IStringProducer, Lazy, TerraformOutput, TerraformStack
from lambdas.common import names
from modules.api import routes as api_routes
from modules.api.gateway_account import ApiGatewayAccountLogging
from modules.api.student_api import StudentApi, UsageLimits
from modules.backup.runs import BackupRuns
from modules.backup.schedule import BackupSchedule
from modules.backup.storage import BackupStorage
from modules.data.student_table import StudentTable
from modules.functions.catalog import FUNCTIONS, Access, FunctionKey, FunctionSpec
from modules.functions.catalog import routes as function_routes
from modules.functions.python_function import PythonFunction
from modules.functions.role import FunctionRole
from modules.identity.email_identities import EmailIdentities
from modules.identity.staff_directory import StaffDirectory
from modules.monitoring.alarms import Monitoring
from modules.shared.naming import use_qualifier
from modules.shared.scratch import scratch_dir
from modules.site import assets as site_assets
from modules.site.access_logs import SiteAccessLogs
from modules.site.firewall import FIREWALL_NAME, SiteFirewall
from modules.site.website import DISTRIBUTION_NAME, ApiOrigin, SiteCertificate, Website
from modules.stacks.terraform import configure_terraform, remote_state


class StudentManagementStack(TerraformStack):
    """The student management system, with its state in the bootstrap bucket.

    Composes the constructs of ``modules/``, one step per concern: the data,
    the functions' roles, the backup bucket and the mail they reach, the
    functions and their schedules, staff sign-in, the API, the site,
    monitoring, the outputs. Attributes: ``table``, ``backup_runs``,
    ``backup_storage``, ``email``, ``functions`` (key → ``PythonFunction``),
    ``schedules``, ``staff``, ``api``, ``website``, ``site_logs``, ``monitoring``.
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
        use_qualifier(self, config.name_qualifier)
        configure_terraform(self, config)
        remote_state(self, config)
        functions = [_qualified(row, config) for row in functions]
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
        self.backup_storage = self._backup_storage(config, writer=roles[_backup_writer(functions)])
        self.email = EmailIdentities(
            self, "email", sender=config.sender_email, recipients=config.recipient_emails, region=config.region
        )
        self.functions = {
            row.key: self._function(row, roles[row.key], config, origin=site_origin.value) for row in functions
        }
        self.schedules = self._schedules(functions)
        self.staff = self._staff(config)
        self.api = self._api(config, functions, origin=site_origin.value)
        self.website = self._website(config, functions)
        site_origin.resolve_to(self.website.url)
        self.site_logs = self._site_logs(config)
        self.monitoring = self._monitoring(config)
        self._outputs()

    def _backup_storage(self, config: AppConfig, *, writer: FunctionRole) -> BackupStorage:
        """Tutorial section 6.5: the backup bucket, written by one role only, and its access logs."""
        return BackupStorage(
            self,
            "backup-storage",
            bucket_name=config.backup_bucket,
            log_bucket_name=config.backup_log_bucket,
            writer_role=writer.role,
            noncurrent_version_retention_days=config.noncurrent_version_retention_days,
            access_log_retention_days=config.access_log_retention_days,
            backup_retention_days=config.backup_retention_days,
        )

    def _function(self, row: FunctionSpec, role: FunctionRole, config: AppConfig, *, origin: str) -> PythonFunction:
        """Tutorial sections 3.1-3.3: one function, given exactly the access its row lists."""
        environment = {names.ENV_ALLOWED_ORIGIN: origin}
        if config.name_qualifier:
            environment[names.ENV_METRIC_NAMESPACE] = config.metric_namespace
        function = PythonFunction(
            self,
            row.construct_id,
            spec=row,
            role=role,
            environment=environment,
            log_retention_days=config.log_retention_days,
        )
        grants: dict[Access, Callable[[PythonFunction], None]] = {
            Access.READ_STUDENTS: self.table.grant_read,
            Access.SCAN_STUDENTS: self.table.grant_scan,
            Access.ADD_STUDENTS: self.table.grant_add,
            Access.WRITE_BACKUPS: self.backup_storage.grant_write,
            Access.MAIL_STUDENTS: self.email.grant_send_to_anyone,
            Access.MAIL_RECIPIENTS: self.email.grant_send_to_recipients,
            Access.TRACK_BACKUP_RUNS: self.backup_runs.grant_track,
            Access.INVOKE_ITSELF: functools.partial(PythonFunction.grant_invoke_itself, region=config.region),
        }
        for access in row.access:
            grants[access](function)
        return function

    def _schedules(self, functions: Sequence[FunctionSpec]) -> list[BackupSchedule]:
        """Tutorial section 8.2: the daily schedule of each function whose row names one."""
        return [
            BackupSchedule(
                self, row.schedule_construct_id, schedule_name=row.schedule, function=self.functions[row.key].function
            )
            for row in functions
            if row.schedule
        ]

    def _staff(self, config: AppConfig) -> StaffDirectory:
        """Who may use the page and the API: the staff user pool (``modules/identity/staff_directory.py``)."""
        return StaffDirectory(
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

    def _api(self, config: AppConfig, functions: Sequence[FunctionSpec], *, origin: str) -> StudentApi:
        """Tutorial sections 4.1-4.9: the REST API over the functions' routes; section 10: the region's API logging."""
        account_logging = (
            ApiGatewayAccountLogging(self, "api-gateway-account") if config.manage_api_gateway_account else None
        )
        return StudentApi(
            self,
            "api",
            api_name=config.api_name,
            endpoint_type=config.api_endpoint_type,
            stage_name=config.api_stage_name,
            allowed_origin=origin,
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

    def _website(self, config: AppConfig, functions: Sequence[FunctionSpec]) -> Website:
        """Tutorial sections 5-7: the page, built from frontend/, behind CloudFront with the API."""
        site_dir = scratch_dir("student-site-")
        firewall = (
            SiteFirewall(self, "firewall", name=config.named(FIREWALL_NAME), rate_limit=config.site_waf_rate_limit)
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

    def _site_logs(self, config: AppConfig) -> SiteAccessLogs | None:
        """The distribution's access logs in a bucket of their own, when ``site_access_logs`` is on."""
        if not config.site_access_logs:
            return None
        return SiteAccessLogs(
            self,
            "site-logs",
            distribution=self.website.distribution,
            name=DISTRIBUTION_NAME,
            bucket_name=config.website_log_bucket,
            retention_days=config.access_log_retention_days,
        )

    def _monitoring(self, config: AppConfig) -> Monitoring:
        """Issue 12, nobody left uninformed (``modules/monitoring/alarms.py``).

        Every function's failed asynchronous invocations kept in a dead-letter
        queue, alarms e-mailed to the recipients, saved Logs Insights queries.
        """
        monitoring = Monitoring(
            self,
            "monitoring",
            recipients=config.recipient_emails,
            region=config.region,
            functions=list(self.functions.values()),
            schedules=self.schedules,
            api=self.api,
        )
        for function in self.functions.values():
            function.use_dead_letter_queue(monitoring.failed_invocations)
        return monitoring

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


def _qualified(row: FunctionSpec, config: AppConfig) -> FunctionSpec:
    """A function's row with the names it gives AWS qualified for the environment (its key and package stay).

    Its schedule keeps its base name: the schedule's construct qualifies the names it derives from it.
    """
    return dataclasses.replace(
        row,
        name=config.named(row.name),
        role_name=config.named(row.role_name),
    )
