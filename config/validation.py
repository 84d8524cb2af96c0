"""Validation of ``AppConfig``: one check per group of fields, run when a configuration is made.

Separate from the model (``config/settings.py``) because the rules are most of
the configuration's code and change on their own: a new field's check lands
here, its default and documentation there. ``AppConfig.__post_init__`` runs
``validate``, which raises ``settings.fail``'s error for the first invalid
field. Standard library only, like the model.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Final

from config.settings import CDK_ENGINES, DeployTarget, fail

if TYPE_CHECKING:
    from config.settings import AppConfig

_BUCKET_RE: Final = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_QUALIFIER_RE: Final = re.compile(r"^[a-z][a-z0-9-]{0,14}[a-z0-9]$")
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
#: GitHub's rules for owner (user or organization) and repository names.
_GITHUB_REPOSITORY_RE: Final = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
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
    if not _QUALIFIER_RE.match(cfg.environment):
        raise fail("environment", cfg.environment, "is not an environment name", "use 2-16 of a-z 0-9 -")
    if cfg.name_qualifier and not _QUALIFIER_RE.match(cfg.name_qualifier):
        raise fail("name_qualifier", cfg.name_qualifier, "is not a name qualifier", "use 2-16 of a-z 0-9 -")
    if not isinstance(cfg.deploy_target, DeployTarget):
        raise fail("deploy_target", cfg.deploy_target, "is not a deploy target", "use 'aws' or 'local'")
    if cfg.cdk_engine not in CDK_ENGINES:
        raise fail("cdk_engine", cfg.cdk_engine, "is not a CDK engine", f"use {' or '.join(map(repr, CDK_ENGINES))}")
    if not _REGION_RE.match(cfg.region):
        raise fail("region", cfg.region, "is not an AWS region name", "use a region such as 'us-east-1'")
    if cfg.name_suffix and not _SUFFIX_RE.match(cfg.name_suffix):
        raise fail(
            "name_suffix",
            cfg.name_suffix,
            "is not a usable bucket-name suffix",
            "use 1-32 lowercase letters, digits or '-', starting and ending with a letter or digit",
        )
    for name in ("table_name", "backup_runs_table_name"):
        value = getattr(cfg, name)
        if not _TABLE_RE.match(value):
            raise fail(name, value, "is not a DynamoDB table name", "use 3-255 of A-Z a-z 0-9 _ . -")
    if cfg.backup_runs_table_name == cfg.table_name:
        raise fail(
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
            raise fail(name, full, problem, "choose another name or name_suffix")
    buckets = [cfg.backup_bucket, cfg.backup_log_bucket, cfg.state_bucket, cfg.website_bucket, cfg.website_log_bucket]
    if len(set(buckets)) != len(buckets):
        raise fail("backup_log_bucket_name", buckets, "names two buckets alike", "give every bucket its own name")


def _check_emails(cfg: AppConfig) -> None:
    if not _EMAIL_RE.match(cfg.sender_email):
        raise fail(
            "sender_email", cfg.sender_email, "is not an e-mail address", "use an address such as 'ops@example.org'"
        )
    if not cfg.recipient_emails:
        raise fail("recipient_emails", cfg.recipient_emails, "is empty", "name at least one recipient address")
    for address in cfg.recipient_emails:
        if not _EMAIL_RE.match(address):
            raise fail(
                "recipient_emails",
                address,
                "is not an e-mail address",
                "use addresses such as 'ops@example.org', comma-separated in the environment variable",
            )


def _check_retention_and_origin(cfg: AppConfig) -> None:
    for name in ("access_log_retention_days", "noncurrent_version_retention_days", "backup_retention_days"):
        days = getattr(cfg, name)
        if not _whole_number_in(days, 1, 36500):
            raise fail(name, days, "is not a number of days", "use a whole number from 1 to 36500")
    if cfg.allowed_origin and not _ORIGIN_RE.match(cfg.allowed_origin):
        raise fail(
            "allowed_origin",
            cfg.allowed_origin,
            "is not a single web origin ('*' is refused on purpose)",
            "use scheme://host[:port] with nothing after it, e.g. 'https://d123.cloudfront.net', or leave it"
            " empty for the site's own origin",
        )
    if cfg.log_retention_days not in _LOG_RETENTION_DAYS:
        raise fail(
            "log_retention_days",
            cfg.log_retention_days,
            "is not a retention CloudWatch Logs offers",
            f"use one of {', '.join(map(str, _LOG_RETENTION_DAYS))}",
        )


def _check_api(cfg: AppConfig) -> None:
    if cfg.api_endpoint_type not in ("REGIONAL", "EDGE"):
        raise fail("api_endpoint_type", cfg.api_endpoint_type, "is not an endpoint type", "use 'REGIONAL' or 'EDGE'")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", cfg.api_stage_name):
        raise fail("api_stage_name", cfg.api_stage_name, "is not a stage name", "use letters, digits, '-' or '_'")
    if not re.fullmatch(r"[A-Za-z0-9 _.-]{1,128}", cfg.api_name):
        raise fail("api_name", cfg.api_name, "is not an API name", "use letters, digits, spaces, '.', '-' or '_'")
    if not re.fullmatch(r"[A-Za-z0-9/_+=.@-]{1,512}", cfg.api_key_secret_name):
        raise fail(
            "api_key_secret_name", cfg.api_key_secret_name, "is not a secret name", "use letters, digits and /_+=.@-"
        )
    for name in ("api_rate_limit", "api_burst_limit", "api_daily_quota"):
        value = getattr(cfg, name)
        if not _whole_number_in(value, 1, 1_000_000):
            raise fail(name, value, "is not a positive whole number", "use a whole number from 1 to 1000000")
    if cfg.api_burst_limit < cfg.api_rate_limit:
        raise fail(
            "api_burst_limit", cfg.api_burst_limit, "is below api_rate_limit", "make the burst at least the rate"
        )


def _check_staff(cfg: AppConfig) -> None:
    if not _USER_POOL_NAME_RE.fullmatch(cfg.staff_user_pool_name):
        raise fail(
            "staff_user_pool_name",
            cfg.staff_user_pool_name,
            "is not a Cognito user pool name",
            "use 1-128 letters, digits, spaces or + = , . @ -",
        )
    if cfg.staff_mfa is not None and not isinstance(cfg.staff_mfa, bool):
        raise fail("staff_mfa", cfg.staff_mfa, "is not true or false", "use true, false, or leave it unset")
    if not _whole_number_in(cfg.staff_token_validity_minutes, 5, 1440):
        raise fail(
            "staff_token_validity_minutes",
            cfg.staff_token_validity_minutes,
            "is not a token validity Cognito accepts",
            "use a whole number of minutes from 5 to 1440 (one day)",
        )
    if not _whole_number_in(cfg.staff_refresh_token_validity_hours, 1, 87_600):
        raise fail(
            "staff_refresh_token_validity_hours",
            cfg.staff_refresh_token_validity_hours,
            "is not a refresh token validity Cognito accepts",
            "use a whole number of hours from 1 to 87600 (ten years)",
        )
    if cfg.staff_refresh_token_validity_hours * 60 <= cfg.staff_token_validity_minutes:
        raise fail(
            "staff_refresh_token_validity_hours",
            cfg.staff_refresh_token_validity_hours,
            f"does not outlast the {cfg.staff_token_validity_minutes}-minute tokens it renews",
            "make the sign-in (hours) longer than staff_token_validity_minutes",
        )


def _check_state_tags_and_emulator(cfg: AppConfig) -> None:
    if not _STATE_KEY_RE.match(cfg.state_key) or cfg.state_key.startswith("/"):
        raise fail("state_key", cfg.state_key, "is not a state object key", "use a relative key ending in '.tfstate'")
    for key, value in {**cfg.account_tags, **cfg.tags}.items():
        if not _TAG_KEY_RE.match(key) or key.lower().startswith("aws:") or len(value) > 256:
            raise fail(
                "tags",
                {key: value},
                "is not a valid AWS tag",
                "use keys of 1-128 characters without the 'aws:' prefix and values up to 256",
            )
    if cfg.github_repository and not _GITHUB_REPOSITORY_RE.match(cfg.github_repository):
        raise fail(
            "github_repository",
            cfg.github_repository,
            "is not a GitHub repository",
            "use owner/name, e.g. 'example-school/student-management'",
        )
    if not _whole_number_in(cfg.emulator_port, 1024, 65535):
        raise fail("emulator_port", cfg.emulator_port, "is not a usable port", "use a number from 1024 to 65535")


def _check_site(cfg: AppConfig) -> None:
    if cfg.site_price_class not in _PRICE_CLASSES:
        raise fail(
            "site_price_class", cfg.site_price_class, "is not a price class", f"use one of {', '.join(_PRICE_CLASSES)}"
        )
    if cfg.site_domain_name and not _DOMAIN_RE.match(cfg.site_domain_name):
        raise fail(
            "site_domain_name",
            cfg.site_domain_name,
            "is not a domain name",
            "use a name such as 'students.example.org'",
        )
    if cfg.site_certificate_arn and not _ACM_ARN_RE.match(cfg.site_certificate_arn):
        raise fail(
            "site_certificate_arn",
            cfg.site_certificate_arn,
            "is not an ACM certificate ARN in us-east-1 (CloudFront reads certificates only there)",
            "use arn:aws:acm:us-east-1:<account>:certificate/<id>",
        )
    if bool(cfg.site_domain_name) != bool(cfg.site_certificate_arn):
        missing = "site_certificate_arn" if cfg.site_domain_name else "site_domain_name"
        raise fail(
            missing,
            "",
            "is empty while the other half of the custom domain is set",
            "set both site_domain_name and site_certificate_arn, or neither",
        )
    for name, what in (("site_waf", "web ACLs"), ("site_access_logs", "log deliveries")):
        if getattr(cfg, name) and cfg.is_local:
            raise fail(name, True, "is on for the local target", f"the emulator has no CloudFront {what}: leave it off")
        if getattr(cfg, name) and cfg.region != "us-east-1":
            raise fail(
                name,
                True,
                f"is on in {cfg.region}, but CloudFront's {what} exist only in us-east-1",
                f"deploy in us-east-1 or turn {name} off",
            )
    if not _whole_number_in(cfg.site_waf_rate_limit, 10, 2_000_000_000):
        raise fail(
            "site_waf_rate_limit", cfg.site_waf_rate_limit, "is not a WAF rate limit", "use a whole number from 10 up"
        )
    for name in ("site_port", "api_port"):
        if not _whole_number_in(getattr(cfg, name), 1024, 65535):
            raise fail(name, getattr(cfg, name), "is not a usable port", "use a number from 1024 to 65535")
    if len({cfg.site_port, cfg.api_port, cfg.emulator_port}) != 3:
        raise fail(
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


def validate(cfg: AppConfig) -> None:
    """Raise ``ConfigError`` naming the first invalid field, checked group by group."""
    for check in _CHECKS:
        check(cfg)
