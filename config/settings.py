"""The project's one configuration object, and where its values come from.

Values are read, in increasing precedence, from:

1. the defaults below (the tutorial's names and values);
2. the checked-in file ``config.toml`` (or the file named by ``STUDENT_MGMT_CONFIG``);
3. environment variables ``STUDENT_MGMT_<FIELD>`` (for example
   ``STUDENT_MGMT_NAME_SUFFIX``), and ``DEPLOY_TARGET`` for the target.

Every value is validated before any construct is built, so a bad value fails
synth with a message that names the field, where it came from, and the fix.
This module imports only the standard library: it must stay cheap to import,
because ``main.py`` validates the configuration before it loads cdktf and the
provider bindings, so a bad value fails in milliseconds, not seconds.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

PROJECT_ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE: Final = PROJECT_ROOT / "config.toml"
ENV_PREFIX: Final = "STUDENT_MGMT_"
ENV_CONFIG_FILE: Final = f"{ENV_PREFIX}CONFIG"
ENV_DEPLOY_TARGET: Final = "DEPLOY_TARGET"
#: The two Terraform stacks: the state bucket (local state), then the system
#: (state in that bucket). Their names are directory names under cdktf.out/stacks.
BOOTSTRAP_STACK: Final = "state-bootstrap"
APP_STACK: Final = "student-management"
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

    #: Where to deploy: ``aws`` (default) or ``local``. Env: ``DEPLOY_TARGET``.
    deploy_target: DeployTarget = DeployTarget.AWS
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
    #: Tags put on every resource through the provider's default tags.
    tags: Mapping[str, str] = field(
        default_factory=lambda: {"Project": "StudentManagement", "Environment": "Production"}
    )
    #: Loopback port of the local emulator (``DEPLOY_TARGET=local`` only).
    emulator_port: int = 4566
    #: Where the local emulator keeps its log, pid and the bootstrap stack's
    #: state (``DEPLOY_TARGET=local`` only); relative paths are under the project.
    emulator_state_dir: Path = PROJECT_ROOT / ".emulator"

    def __post_init__(self) -> None:
        _validate(self)

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
    def emulator_outputs_file(self) -> Path:
        """The deployed stacks' outputs, ``{stack: {name: value}}``, written by ``make up``."""
        return self.emulator_outdir / "outputs.json"

    def bucket(self, base: str) -> str:
        """A bucket name with the configured suffix applied."""
        return f"{base}-{self.name_suffix}" if self.name_suffix else base

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


# --- validation ---------------------------------------------------------------

_BUCKET_RE: Final = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SUFFIX_RE: Final = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
# Deliberately simple: one @, a dot in the domain, no spaces. SES verifies the rest.
_EMAIL_RE: Final = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_REGION_RE: Final = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_TABLE_RE: Final = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_STATE_KEY_RE: Final = re.compile(r"^[A-Za-z0-9!_.*'()/-]+\.tfstate$")
_TAG_KEY_RE: Final = re.compile(r"^[\w .:/=+@-]{1,128}$")
_ORIGIN_RE: Final = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_DOMAIN_RE: Final = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ACM_ARN_RE: Final = re.compile(r"^arn:aws:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]{36}$")
_PRICE_CLASSES: Final = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
_USER_POOL_NAME_RE: Final = re.compile(r"[\w +=,.@-]{1,128}")
#: The retention periods CloudWatch Logs accepts.
_LOG_RETENTION_DAYS: Final = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def _fail(name: str, value: object, problem: str, fix: str) -> ConfigError:
    env = f"{ENV_PREFIX}{name.upper()}" if name != "deploy_target" else ENV_DEPLOY_TARGET
    return ConfigError(
        f"invalid configuration field '{name}' (config.toml key '{name}' or env {env}): {value!r} {problem}. Fix: {fix}"
    )


def _bucket_problem(name: str) -> str | None:
    if not _BUCKET_RE.match(name):
        return (
            "is not a legal S3 bucket name (3-63 characters: lowercase letters, digits, '.', '-';"
            " starts and ends with a letter or digit)"
        )
    if ".." in name or ".-" in name or "-." in name:
        return "has adjacent '.'/'-' characters, which S3 rejects"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "is formatted like an IP address, which S3 rejects"
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(
        ("-s3alias", "--ol-s3", ".mrap", "--x-s3")
    ):
        return "uses a prefix or suffix S3 reserves"
    return None


def _whole_number_in(value: object, low: int, high: int) -> bool:
    """Whether ``value`` is an int from ``low`` to ``high`` (``True`` is an int to Python, not here)."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _check_target_and_names(cfg: AppConfig) -> None:
    if not isinstance(cfg.deploy_target, DeployTarget):
        raise _fail("deploy_target", cfg.deploy_target, "is not a deploy target", "use 'aws' or 'local'")
    if not _REGION_RE.match(cfg.region):
        raise _fail("region", cfg.region, "is not an AWS region name", "use a region such as 'us-east-1'")
    if cfg.name_suffix and not _SUFFIX_RE.match(cfg.name_suffix):
        raise _fail(
            "name_suffix",
            cfg.name_suffix,
            "is not a usable bucket-name suffix",
            "use 1-32 lowercase letters, digits or '-', starting and ending with a letter or digit",
        )
    for name in ("table_name", "backup_runs_table_name"):
        value = getattr(cfg, name)
        if not _TABLE_RE.match(value):
            raise _fail(name, value, "is not a DynamoDB table name", "use 3-255 of A-Z a-z 0-9 _ . -")
    if cfg.backup_runs_table_name == cfg.table_name:
        raise _fail(
            "backup_runs_table_name", cfg.backup_runs_table_name, "is the student table's name", "name another table"
        )


def _check_buckets(cfg: AppConfig) -> None:
    """Each bucket name is checked with the suffix applied: that is the name S3 sees."""
    for name in (
        "backup_bucket_name",
        "backup_log_bucket_name",
        "state_bucket_name",
        "website_bucket_name",
        "website_log_bucket_name",
    ):
        full = cfg.bucket(getattr(cfg, name))
        problem = _bucket_problem(full)
        if problem:
            raise _fail(name, full, problem, "choose another name or name_suffix")
    buckets = [cfg.backup_bucket, cfg.backup_log_bucket, cfg.state_bucket, cfg.website_bucket, cfg.website_log_bucket]
    if len(set(buckets)) != len(buckets):
        raise _fail("backup_log_bucket_name", buckets, "names two buckets alike", "give every bucket its own name")


def _check_emails(cfg: AppConfig) -> None:
    if not _EMAIL_RE.match(cfg.sender_email):
        raise _fail(
            "sender_email", cfg.sender_email, "is not an e-mail address", "use an address such as 'ops@example.org'"
        )
    if not cfg.recipient_emails:
        raise _fail("recipient_emails", cfg.recipient_emails, "is empty", "name at least one recipient address")
    for address in cfg.recipient_emails:
        if not _EMAIL_RE.match(address):
            raise _fail(
                "recipient_emails",
                address,
                "is not an e-mail address",
                "use addresses such as 'ops@example.org', comma-separated in the environment variable",
            )


def _check_retention_and_origin(cfg: AppConfig) -> None:
    for name in ("access_log_retention_days", "noncurrent_version_retention_days", "backup_retention_days"):
        days = getattr(cfg, name)
        if not _whole_number_in(days, 1, 36500):
            raise _fail(name, days, "is not a number of days", "use a whole number from 1 to 36500")
    if cfg.allowed_origin and not _ORIGIN_RE.match(cfg.allowed_origin):
        raise _fail(
            "allowed_origin",
            cfg.allowed_origin,
            "is not a single web origin ('*' is refused on purpose)",
            "use scheme://host[:port] with nothing after it, e.g. 'https://d123.cloudfront.net', or leave it"
            " empty for the site's own origin",
        )
    if cfg.log_retention_days not in _LOG_RETENTION_DAYS:
        raise _fail(
            "log_retention_days",
            cfg.log_retention_days,
            "is not a retention CloudWatch Logs offers",
            f"use one of {', '.join(map(str, _LOG_RETENTION_DAYS))}",
        )


def _check_api(cfg: AppConfig) -> None:
    if cfg.api_endpoint_type not in ("REGIONAL", "EDGE"):
        raise _fail("api_endpoint_type", cfg.api_endpoint_type, "is not an endpoint type", "use 'REGIONAL' or 'EDGE'")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", cfg.api_stage_name):
        raise _fail("api_stage_name", cfg.api_stage_name, "is not a stage name", "use letters, digits, '-' or '_'")
    if not re.fullmatch(r"[A-Za-z0-9 _.-]{1,128}", cfg.api_name):
        raise _fail("api_name", cfg.api_name, "is not an API name", "use letters, digits, spaces, '.', '-' or '_'")
    if not re.fullmatch(r"[A-Za-z0-9/_+=.@-]{1,512}", cfg.api_key_secret_name):
        raise _fail(
            "api_key_secret_name", cfg.api_key_secret_name, "is not a secret name", "use letters, digits and /_+=.@-"
        )
    for name in ("api_rate_limit", "api_burst_limit", "api_daily_quota"):
        value = getattr(cfg, name)
        if not _whole_number_in(value, 1, 1_000_000):
            raise _fail(name, value, "is not a positive whole number", "use a whole number from 1 to 1000000")
    if cfg.api_burst_limit < cfg.api_rate_limit:
        raise _fail(
            "api_burst_limit", cfg.api_burst_limit, "is below api_rate_limit", "make the burst at least the rate"
        )


def _check_staff(cfg: AppConfig) -> None:
    if not _USER_POOL_NAME_RE.fullmatch(cfg.staff_user_pool_name):
        raise _fail(
            "staff_user_pool_name",
            cfg.staff_user_pool_name,
            "is not a Cognito user pool name",
            "use 1-128 letters, digits, spaces or + = , . @ -",
        )
    if cfg.staff_mfa is not None and not isinstance(cfg.staff_mfa, bool):
        raise _fail("staff_mfa", cfg.staff_mfa, "is not true or false", "use true, false, or leave it unset")
    if not _whole_number_in(cfg.staff_token_validity_minutes, 5, 1440):
        raise _fail(
            "staff_token_validity_minutes",
            cfg.staff_token_validity_minutes,
            "is not a token validity Cognito accepts",
            "use a whole number of minutes from 5 to 1440 (one day)",
        )
    if not _whole_number_in(cfg.staff_refresh_token_validity_hours, 1, 87_600):
        raise _fail(
            "staff_refresh_token_validity_hours",
            cfg.staff_refresh_token_validity_hours,
            "is not a refresh token validity Cognito accepts",
            "use a whole number of hours from 1 to 87600 (ten years)",
        )
    if cfg.staff_refresh_token_validity_hours * 60 <= cfg.staff_token_validity_minutes:
        raise _fail(
            "staff_refresh_token_validity_hours",
            cfg.staff_refresh_token_validity_hours,
            f"does not outlast the {cfg.staff_token_validity_minutes}-minute tokens it renews",
            "make the sign-in (hours) longer than staff_token_validity_minutes",
        )


def _check_state_tags_and_emulator(cfg: AppConfig) -> None:
    if not _STATE_KEY_RE.match(cfg.state_key) or cfg.state_key.startswith("/"):
        raise _fail("state_key", cfg.state_key, "is not a state object key", "use a relative key ending in '.tfstate'")
    for key, value in cfg.tags.items():
        if not _TAG_KEY_RE.match(key) or key.lower().startswith("aws:") or len(value) > 256:
            raise _fail(
                "tags",
                {key: value},
                "is not a valid AWS tag",
                "use keys of 1-128 characters without the 'aws:' prefix and values up to 256",
            )
    if not _whole_number_in(cfg.emulator_port, 1024, 65535):
        raise _fail("emulator_port", cfg.emulator_port, "is not a usable port", "use a number from 1024 to 65535")


def _check_site(cfg: AppConfig) -> None:
    if cfg.site_price_class not in _PRICE_CLASSES:
        raise _fail(
            "site_price_class", cfg.site_price_class, "is not a price class", f"use one of {', '.join(_PRICE_CLASSES)}"
        )
    if cfg.site_domain_name and not _DOMAIN_RE.match(cfg.site_domain_name):
        raise _fail(
            "site_domain_name",
            cfg.site_domain_name,
            "is not a domain name",
            "use a name such as 'students.example.org'",
        )
    if cfg.site_certificate_arn and not _ACM_ARN_RE.match(cfg.site_certificate_arn):
        raise _fail(
            "site_certificate_arn",
            cfg.site_certificate_arn,
            "is not an ACM certificate ARN in us-east-1 (CloudFront reads certificates only there)",
            "use arn:aws:acm:us-east-1:<account>:certificate/<id>",
        )
    if bool(cfg.site_domain_name) != bool(cfg.site_certificate_arn):
        missing = "site_certificate_arn" if cfg.site_domain_name else "site_domain_name"
        raise _fail(
            missing,
            "",
            "is empty while the other half of the custom domain is set",
            "set both site_domain_name and site_certificate_arn, or neither",
        )
    for name, what in (("site_waf", "web ACLs"), ("site_access_logs", "log deliveries")):
        if getattr(cfg, name) and cfg.is_local:
            raise _fail(
                name, True, "is on for the local target", f"the emulator has no CloudFront {what}: leave it off"
            )
        if getattr(cfg, name) and cfg.region != "us-east-1":
            raise _fail(
                name,
                True,
                f"is on in {cfg.region}, but CloudFront's {what} exist only in us-east-1",
                f"deploy in us-east-1 or turn {name} off",
            )
    if not _whole_number_in(cfg.site_waf_rate_limit, 10, 2_000_000_000):
        raise _fail(
            "site_waf_rate_limit", cfg.site_waf_rate_limit, "is not a WAF rate limit", "use a whole number from 10 up"
        )
    for name in ("site_port", "api_port"):
        if not _whole_number_in(getattr(cfg, name), 1024, 65535):
            raise _fail(name, getattr(cfg, name), "is not a usable port", "use a number from 1024 to 65535")
    if len({cfg.site_port, cfg.api_port, cfg.emulator_port}) != 3:
        raise _fail(
            "api_port",
            cfg.api_port,
            "is the port of another local service",
            "give site_port, api_port and emulator_port each their own",
        )


#: The checks in the order they run: the first field found invalid is the one reported.
_CHECKS: Final = (
    _check_target_and_names,
    _check_buckets,
    _check_emails,
    _check_retention_and_origin,
    _check_api,
    _check_site,
    _check_staff,
    _check_state_tags_and_emulator,
)


def _validate(cfg: AppConfig) -> None:
    """Raise ``ConfigError`` naming the first invalid field, checked group by group."""
    for check in _CHECKS:
        check(cfg)


# --- loading -----------------------------------------------------------------

_FIELDS: Final = {f.name: f for f in dataclasses.fields(AppConfig)}


def _coerce(name: str, raw: Any, source: str) -> Any:
    """Turn a value from TOML or the environment into the field's type."""
    kind = _FIELDS[name].type
    if name == "deploy_target":
        try:
            return DeployTarget(str(raw).strip().lower())
        except ValueError:
            raise _fail(
                name, raw, f"from {source} is not a deploy target", "set DEPLOY_TARGET to 'aws' or 'local'"
            ) from None
    if kind == "int":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        try:
            return int(str(raw).strip())
        except ValueError:
            raise _fail(name, raw, f"from {source} is not a whole number", "use digits only") from None
    if kind in ("bool", "bool | None"):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text not in ("true", "false", "1", "0", "yes", "no"):
            raise _fail(name, raw, f"from {source} is not true or false", "use true or false")
        return text in ("true", "1", "yes")
    if kind == "Path":
        path = Path(str(raw).strip())
        return path if path.is_absolute() else PROJECT_ROOT / path
    if kind == "tuple[str, ...]":
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return tuple(str(item).strip() for item in items if str(item).strip())
    if kind == "Mapping[str, str]":
        if isinstance(raw, dict):
            return {str(k): str(v) for k, v in raw.items()}
        pairs = [p for p in str(raw).split(",") if p.strip()]
        if not all("=" in p for p in pairs):
            raise _fail(name, raw, f"from {source} is not a tag list", "write tags as Key=Value,Key2=Value2")
        return {k.strip(): v.strip() for k, v in (p.split("=", 1) for p in pairs)}
    if not isinstance(raw, str):
        raise _fail(name, raw, f"from {source} is not a string", "quote the value")
    return raw.strip()


def load_config(
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> AppConfig:
    """Build the configuration from the file and the environment, validated."""
    env = os.environ if environ is None else environ
    path = config_file or Path(env.get(ENV_CONFIG_FILE, DEFAULT_CONFIG_FILE))
    values: dict[str, Any] = {}
    if path.exists():
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from None
        for key, raw in document.items():
            if key not in _FIELDS:
                known = ", ".join(sorted(_FIELDS))
                raise ConfigError(f"configuration file {path}: unknown field '{key}'. Known fields: {known}")
            values[key] = _coerce(key, raw, str(path))
    elif config_file is not None or ENV_CONFIG_FILE in env:
        raise ConfigError(f"configuration file {path} does not exist (set by {ENV_CONFIG_FILE})")
    for name in _FIELDS:
        var = ENV_DEPLOY_TARGET if name == "deploy_target" else f"{ENV_PREFIX}{name.upper()}"
        if var in env and env[var] != "":
            values[name] = _coerce(name, env[var], f"env {var}")
    return AppConfig(**values)
