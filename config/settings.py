"""The project's one configuration object, and where its values come from.

Values are read, in increasing precedence, from:

1. the defaults below (the tutorial's names and values);
2. the checked-in file ``config.toml`` (or the file named by ``STUDENT_MGMT_CONFIG``);
3. the environment chosen by ``ENV`` (``local``, ``staging``, ``production``,
   or any ``[environments.<name>]`` table of the file): its built-in defaults
   (``ENVIRONMENT_DEFAULTS``), then the file's table for it;
4. environment variables ``STUDENT_MGMT_<FIELD>`` (for example
   ``STUDENT_MGMT_NAME_SUFFIX``), and ``DEPLOY_TARGET`` for the target (which
   otherwise follows the environment: ``local`` is the emulator, every other
   environment an AWS account).

An environment other than production and local qualifies every name it did not
set itself with ``-<name>`` (``studentData-staging``), so environments can share
one account; production keeps the tutorial's names.

Every value is validated before any construct is built, so a bad value fails
synth with a message that names the field, where it came from, and the fix.
This module holds the model (``AppConfig``, its defaults and derived values),
the project's constants, ``load_config`` and ``fail`` (the error of an invalid
field, which the checks and the loader raise); the checks are in
``config/validation.py`` and the reading of the file and the environment in
``config/loading.py``. All three import only the standard library: they must
stay cheap to import, because ``main.py`` validates the configuration before
it loads cdktf and the provider bindings, so a bad value fails in
milliseconds, not seconds.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

PROJECT_ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE: Final = PROJECT_ROOT / "config.toml"
ENV_PREFIX: Final = "STUDENT_MGMT_"
ENV_CONFIG_FILE: Final = f"{ENV_PREFIX}CONFIG"
ENV_DEPLOY_TARGET: Final = "DEPLOY_TARGET"
#: The variable that chooses the environment (``make plan ENV=staging``).
ENV_ENVIRONMENT: Final = "ENV"
#: The variable that chooses the CDK engine (``cdk_engine``; ``engine/choice.py``).
ENV_ENGINE: Final = "CDK_ENGINE"
#: The CDK engines the app synthesizes with: CDKTF (the default) and CDK Terrain, its community continuation.
CDK_ENGINES: Final = ("cdktf", "cdktn")
#: The emulator's environment (``make up``), and the one that keeps the tutorial's names on AWS.
LOCAL_ENVIRONMENT: Final = "local"
PRODUCTION_ENVIRONMENT: Final = "production"
#: What each built-in environment sets before the file's ``[environments.<name>]`` table.
#: An environment the file adds starts from nothing but its qualified names and its
#: ``Environment`` tag (its name, capitalized).
ENVIRONMENT_DEFAULTS: Final[Mapping[str, Mapping[str, object]]] = {
    LOCAL_ENVIRONMENT: {"tags": {"Environment": "Local"}},
    "staging": {
        # One account holds one API Gateway logging role setting: production's (docs/DEPLOYING.md).
        "manage_api_gateway_account": False,
    },
    PRODUCTION_ENVIRONMENT: {},
}
#: The two Terraform stacks: the state bucket (local state), then the system
#: (state in that bucket). Their names are directory names under cdktf.out/stacks.
BOOTSTRAP_STACK: Final = "state-bootstrap"
APP_STACK: Final = "student-management"
#: The account's delivery identity (GitHub's OIDC provider, the planning and
#: apply roles; local state), synthesized only when ``github_repository`` is set.
DELIVERY_STACK: Final = "delivery-identity"
#: moto accepts any credentials: these name the caller of the emulator, they
#: are not secrets, and the scripts use them so no real credentials reach it.
EMULATOR_CREDENTIALS: Final = {"AWS_ACCESS_KEY_ID": "emulator", "AWS_SECRET_ACCESS_KEY": "emulator"}
#: The provider bindings (cdktf-cdktf-provider-aws 21.x) are generated from
#: hashicorp/aws 6.25 and pin exactly that version. Every resource and argument
#: this project uses exists with the same meaning in 5.100 (the version the
#: offline test machines carry) and in 6.x (what a user with internet gets), so
#: the synthesized constraint admits both; 7.0 may break the bindings.
AWS_PROVIDER_CONSTRAINT: Final = ">= 5.100.0, < 7.0.0"
#: S3-native state locking (use_lockfile) arrived in Terraform 1.10.
TERRAFORM_VERSION_CONSTRAINT: Final = ">= 1.10.0"
#: Where the local system's page reaches Cognito: a path of the site's own
#: origin, which the local edge forwards to the emulator (the page's CSP then
#: needs no other origin in ``connect-src``).
LOCAL_COGNITO_PATH: Final = "/_cognito/"


def cognito_origin(region: str) -> str:
    """The origin of Cognito user pools' API in ``region``: what the page's CSP admits in ``connect-src``."""
    return f"https://cognito-idp.{region}.amazonaws.com"


def cognito_endpoint(region: str) -> str:
    """Cognito user pools' JSON API in ``region`` (``InitiateAuth``, ``RespondToAuthChallenge``, ``RevokeToken``)."""
    return f"{cognito_origin(region)}/"


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the field and the fix."""


def env_variable(name: str) -> str:
    """The environment variable that sets the field ``name`` (``STUDENT_MGMT_<NAME>`` but for three)."""
    special = {"deploy_target": ENV_DEPLOY_TARGET, "environment": ENV_ENVIRONMENT, "cdk_engine": ENV_ENGINE}
    return special.get(name, f"{ENV_PREFIX}{name.upper()}")


def qualify(base: str, qualifier: str, separator: str = "-") -> str:
    """A name as an environment with ``qualifier`` gives it (``getStudentData-staging``); unqualified: ``base``."""
    return f"{base}{separator}{qualifier}" if qualifier else base


def fail(name: str, value: object, problem: str, fix: str) -> ConfigError:
    """The error of an invalid field: its name, where it is set, the value, the problem and the fix."""
    if name == "environment":
        where = f"env {ENV_ENVIRONMENT}, or a config.toml [environments.<name>] table"
    else:
        where = f"config.toml key '{name}' or env {env_variable(name)}"
    return ConfigError(f"invalid configuration field '{name}' ({where}): {value!r} {problem}. Fix: {fix}")


class DeployTarget(enum.Enum):
    """Where the synthesized Terraform is meant to be applied."""

    AWS = "aws"  #: a real AWS account, with the credentials of the caller
    LOCAL = "local"  #: the local moto server emulator started by ``make up``


@dataclass(frozen=True, kw_only=True)
class AppConfig:
    """Everything that varies between deployments of the system.

    Each field's default is the tutorial's value. Bucket names are global in
    AWS: set ``name_suffix`` when a name is taken (tutorial section 6.5
    suggests ``student-backup-20250706-abc123``).
    """

    #: The environment these values are for (``ENV``): ``production`` keeps the
    #: tutorial's names; ``local`` is the emulator of ``make up``.
    environment: str = PRODUCTION_ENVIRONMENT
    #: Appended as ``-<qualifier>`` to every name the system gives AWS (tables,
    #: buckets, functions, roles, queues, alarms, ...), so environments can share
    #: one account. Empty for production and local; the environment's name for
    #: the others, unless their table sets it.
    name_qualifier: str = ""
    #: Where to deploy: ``aws`` (default) or ``local``. Env: ``DEPLOY_TARGET``;
    #: otherwise the environment's: ``local`` for the local environment.
    deploy_target: DeployTarget = DeployTarget.AWS
    #: The CDK engine that synthesizes the stacks: ``cdktf`` (CDKTF, the default)
    #: or ``cdktn`` (CDK Terrain); the same Terraform either way (docs/ENGINES.md).
    #: Env: ``CDK_ENGINE``. A key of the checkout's tools, not of an environment:
    #: the top of the file only.
    cdk_engine: str = CDK_ENGINES[0]
    #: AWS region of every resource. The tutorial uses us-east-1.
    region: str = "us-east-1"
    #: Appended as ``-<suffix>`` to every S3 bucket name; empty for none.
    name_suffix: str = ""
    #: DynamoDB table of students (tutorial section 2.4).
    table_name: str = "studentData"
    #: DynamoDB table of backup runs (their state, and the lease that keeps two from racing).
    backup_runs_table_name: str = "studentBackupRuns"
    #: Bucket the backup function writes to (tutorial section 6.5).
    backup_bucket_name: str = "student-backup-20250706"
    #: Bucket that receives the backup bucket's server access logs.
    backup_log_bucket_name: str = "student-backup-logs-20250706"
    #: Days before access-log objects expire.
    access_log_retention_days: int = 365
    #: Days before a superseded (noncurrent) backup object version expires.
    noncurrent_version_retention_days: int = 90
    #: Days a backup is kept under ``backups/`` before it expires (S3 lifecycle);
    #: an expired backup stays restorable, as a noncurrent version, for
    #: ``noncurrent_version_retention_days`` more. 35: five weeks of dailies.
    backup_retention_days: int = 35
    #: Verified SES sender of confirmations and backup notices (section 2.5).
    sender_email: str = "noreply@example.com"
    #: Recipients of backup notices; each becomes a verified SES identity.
    recipient_emails: tuple[str, ...] = ("admin@example.com",)
    #: The one web origin the API answers with CORS headers (never ``*``). Empty
    #: (the default): the site's own origin, i.e. ``https://`` and the
    #: distribution's domain (or ``site_domain_name``) for ``aws``, and
    #: ``http://localhost:<site_port>`` for ``local``. The page itself calls the
    #: API on its own origin; this is for other origins you choose to admit.
    allowed_origin: str = ""
    #: Website bucket holding the page (tutorial section 6.1).
    website_bucket_name: str = "student-management-website-2025"
    #: A custom domain for the site, e.g. ``students.example.org`` (optional).
    #: Only with a custom domain can CloudFront refuse TLS before 1.2; set
    #: ``site_certificate_arn`` with it.
    site_domain_name: str = ""
    #: ACM certificate (in us-east-1) for ``site_domain_name``.
    site_certificate_arn: str = ""
    #: CloudFront price class: ``PriceClass_200`` (default) includes Asia's
    #: edge locations, where the tutorial's users are; ``PriceClass_100`` is
    #: North America and Europe only, ``PriceClass_All`` every location.
    site_price_class: str = "PriceClass_200"
    #: Put an AWS WAF web ACL (managed common rules + a per-address rate rule)
    #: in front of the site; about $5/month plus $1/rule and per-request fees
    #: (docs/COST.md). ``aws`` target in us-east-1 only.
    site_waf: bool = False
    #: Requests one address may send in five minutes before the web ACL blocks it.
    site_waf_rate_limit: int = 1000
    #: Deliver CloudFront's access logs (standard logging v2) to their own
    #: bucket; $0.25 per GB delivered plus storage (docs/COST.md). ``aws``
    #: target in us-east-1 only. Kept ``access_log_retention_days``.
    site_access_logs: bool = False
    #: Bucket that receives the site's access logs when ``site_access_logs`` is on.
    website_log_bucket_name: str = "student-management-website-logs-2025"
    #: Loopback port the local system serves the site on (``DEPLOY_TARGET=local``).
    site_port: int = 8000
    #: Loopback port of the local invoke URL, ``http://localhost:<port>/<stage>`` (``local`` only).
    api_port: int = 8001
    #: REST API name (tutorial section 4.1).
    api_name: str = "student"
    #: ``REGIONAL`` (default: CloudFront fronts the API, and an edge-optimized
    #: API behind it would pass through CloudFront twice) or ``EDGE`` (the tutorial's).
    api_endpoint_type: str = "REGIONAL"
    #: Stage the API is deployed to (section 4.8).
    api_stage_name: str = "prod"
    #: StudentUsagePlan (section 4.3): steady requests per second.
    api_rate_limit: int = 5
    #: StudentUsagePlan: burst size.
    api_burst_limit: int = 10
    #: StudentUsagePlan: requests per day.
    api_daily_quota: int = 1000
    #: Create the region's one API Gateway CloudWatch logging role setting.
    #: Turn off when something else in the account already manages it.
    manage_api_gateway_account: bool = True
    #: Secrets Manager secret that holds the API key's value for operators.
    api_key_secret_name: str = "student-management/api-key"  # noqa: S105 - a name, not a secret
    #: Cognito user pool of the staff who may use the page and the API
    #: (``modules/identity/staff_directory.py``); staff sign in with their e-mail address.
    staff_user_pool_name: str = "student-management-staff"
    #: Optional TOTP multi-factor sign-in (an authenticator app) for staff.
    #: None (the default): on for ``aws``, off for ``local``, whose page is
    #: exercised without an authenticator app.
    staff_mfa: bool | None = None
    #: Minutes a staff member's ID and access tokens stay valid (5-1440). Short:
    #: a token that leaks is useful only this long; the page refreshes it.
    staff_token_validity_minutes: int = 15
    #: Hours a sign-in lasts without a password (the refresh token), 1-87600
    #: (ten years); the page refreshes the short tokens with it. Signing out
    #: revokes it.
    staff_refresh_token_validity_hours: int = 12
    #: Days the functions' CloudWatch log groups keep their logs.
    log_retention_days: int = 365
    #: Bucket that holds Terraform state; created by the bootstrap stack.
    state_bucket_name: str = "student-management-tfstate"
    #: Object key of the application stack's state in the state bucket.
    state_key: str = "student-management/terraform.tfstate"
    #: Tags put on every resource through the provider's default tags: the
    #: file's top-level ``tags``, then the environment's over them.
    tags: Mapping[str, str] = field(
        default_factory=lambda: {"Project": "StudentManagement", "Environment": "Production"}
    )
    #: Tags of the account-level stacks (the state bucket, the delivery identity),
    #: which every environment of the account shares: the top-level ``tags``.
    account_tags: Mapping[str, str] = field(
        default_factory=lambda: {"Project": "StudentManagement", "Environment": "Production"}
    )
    #: The GitHub repository (``owner/name``) whose workflows may deploy this
    #: system, for the account's delivery identity (``make identity``,
    #: docs/DEPLOYING.md); empty: no delivery identity. An account-level key.
    github_repository: str = ""
    #: Loopback port of the local emulator (``DEPLOY_TARGET=local`` only).
    emulator_port: int = 4566
    #: Where the local emulator keeps its log, pid and the bootstrap stack's
    #: state (``DEPLOY_TARGET=local`` only); relative paths are under the project.
    emulator_state_dir: Path = PROJECT_ROOT / ".emulator"

    def __post_init__(self) -> None:
        validation.validate(self)

    # -- derived values ---------------------------------------------------
    @property
    def is_local(self) -> bool:
        return self.deploy_target is DeployTarget.LOCAL

    @property
    def staff_mfa_enabled(self) -> bool:
        """``staff_mfa``, or its target's default when unset: on for ``aws``, off for ``local``."""
        return (not self.is_local) if self.staff_mfa is None else self.staff_mfa

    @property
    def staff_sign_in_endpoint(self) -> str:
        """Where the page calls Cognito's JSON API: the region's endpoint, or locally a path of the site's origin."""
        return LOCAL_COGNITO_PATH if self.is_local else cognito_endpoint(self.region)

    @property
    def emulator_endpoint(self) -> str:
        return f"https://127.0.0.1:{self.emulator_port}"

    @property
    def emulator_ca_bundle(self) -> Path:
        """The CA that signed the emulator's certificate (made by local/emulator.sh)."""
        return self.emulator_state_dir / "tls" / "ca.pem"

    @property
    def emulator_outdir(self) -> Path:
        """Where ``make up`` synthesizes the local stacks (apart from ``make synth``'s cdktf.out)."""
        return self.emulator_state_dir / "cdktf.out"

    @property
    def deployment_outdir(self) -> Path:
        """Where the environment's deployed stacks are synthesized: ``make up``'s for local, ``make synth``'s else."""
        return self.emulator_outdir if self.environment == LOCAL_ENVIRONMENT else PROJECT_ROOT / "cdktf.out"

    @property
    def emulator_outputs_file(self) -> Path:
        """The deployed stacks' outputs, ``{stack: {name: value}}``, written by ``make up``."""
        return self.emulator_outdir / "outputs.json"

    def bucket(self, base: str) -> str:
        """A bucket name with the configured suffix applied."""
        return f"{base}-{self.name_suffix}" if self.name_suffix else base

    def named(self, base: str) -> str:
        """A name the system gives AWS, qualified for this environment (``getStudentData-staging``)."""
        return qualify(base, self.name_qualifier)

    @property
    def metric_namespace(self) -> str:
        """Where the functions put the system's metrics and the alarms watch them: one per environment."""
        return qualify(names.METRIC_NAMESPACE, self.name_qualifier, separator="/")

    @property
    def fixed_site_origin(self) -> str | None:
        """The site's origin when it is known before deploying; None: the distribution's domain decides."""
        if self.allowed_origin:
            return self.allowed_origin
        if self.is_local:
            return f"http://localhost:{self.site_port}"
        if self.site_domain_name:
            return f"https://{self.site_domain_name}"
        return None

    @property
    def website_bucket(self) -> str:
        return self.bucket(self.website_bucket_name)

    @property
    def website_log_bucket(self) -> str:
        return self.bucket(self.website_log_bucket_name)

    @property
    def backup_bucket(self) -> str:
        return self.bucket(self.backup_bucket_name)

    @property
    def backup_log_bucket(self) -> str:
        return self.bucket(self.backup_log_bucket_name)

    @property
    def state_bucket(self) -> str:
        return self.bucket(self.state_bucket_name)


def load_config(
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> AppConfig:
    """Build the configuration from the file and the environment, validated."""
    return AppConfig(**loading.values(os.environ if environ is None else environ, config_file))


def account_environments(environ: Mapping[str, str] | None = None, config_file: Path | None = None) -> list[AppConfig]:
    """Every AWS environment's configuration (local excepted): what the account's delivery identity serves."""
    env = dict(os.environ if environ is None else environ)
    return [
        load_config({**env, ENV_ENVIRONMENT: name}, config_file)
        for name in loading.aws_environment_choices(env, config_file)
    ]


# The checks and the loader read the types above: imported once they exist
# (whichever of the three modules is imported first).
from config import loading, validation  # noqa: E402
from lambdas.common import names  # noqa: E402  (standard library only)
