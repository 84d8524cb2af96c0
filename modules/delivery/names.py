"""The names of the system's resources in every environment of an account, for the delivery roles' ARNs.

The delivery identity is deployed once per account and serves every
environment there: production keeps the tutorial's names, staging's names
carry ``STAGING_QUALIFIER`` (before the bucket-name suffix, which keeps a
bucket name globally unique). The apply role may touch only resources with
these names, so each name here comes from where the application stack takes
it (the configuration, the function table, the constructs' own constants and
name functions); ``tests/modules/test_delivery_identity.py`` checks every name
the synthesized application stack uses against them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from config.settings import AppConfig
from modules.api.gateway_account import ROLE_NAME as API_GATEWAY_LOGS_ROLE
from modules.api.student_api import access_log_group_name
from modules.backup.schedule import scheduler_role_name, undelivered_queue_name
from modules.functions.catalog import FUNCTIONS, FunctionSpec
from modules.functions.python_function import log_group_name
from modules.monitoring.spec import FAILED_INVOCATIONS_QUEUE, TOPIC_KEY_ALIAS, TOPIC_NAME
from modules.site.access_logs import destination_name
from modules.site.firewall import FIREWALL_NAME
from modules.site.website import DISTRIBUTION_NAME

#: What staging's names carry; production's carry nothing.
STAGING_QUALIFIER: Final = "-staging"
QUALIFIERS: Final = ("", STAGING_QUALIFIER)
#: Alarms named for no other resource start with this (``backup-failed``, ``backup-missing-26h``, ...).
BACKUP_ALARM_PREFIX: Final = "backup-"


def qualified(names: Iterable[str]) -> tuple[str, ...]:
    """Each name as production and staging name it."""
    return tuple(f"{name}{qualifier}" for name in names for qualifier in QUALIFIERS)


@dataclass(frozen=True, kw_only=True)
class SystemNames:
    """Every name of the system that an ARN can be scoped to, in both environments."""

    tables: tuple[str, ...]
    buckets: tuple[str, ...]
    #: The buckets whose objects Terraform writes (the page's files).
    site_buckets: tuple[str, ...]
    functions: tuple[str, ...]
    function_roles: tuple[str, ...]
    scheduler_roles: tuple[str, ...]
    api_gateway_roles: tuple[str, ...]
    log_groups: tuple[str, ...]
    queues: tuple[str, ...]
    topics: tuple[str, ...]
    key_aliases: tuple[str, ...]
    secrets: tuple[str, ...]
    schedules: tuple[str, ...]
    web_acls: tuple[str, ...]
    delivery_sources: tuple[str, ...]
    delivery_destinations: tuple[str, ...]
    #: What every alarm name starts with: the function, queue or API stage it watches and a dash (staging's
    #: qualifier comes after it), or ``backup-``.
    alarm_prefixes: tuple[str, ...]

    @property
    def roles(self) -> tuple[str, ...]:
        return (*self.function_roles, *self.scheduler_roles, *self.api_gateway_roles)

    @classmethod
    def of(cls, config: AppConfig, functions: Sequence[FunctionSpec] = FUNCTIONS) -> SystemNames:
        """The names ``config`` gives the system, in production and in staging."""
        schedules = [row.schedule for row in functions if row.schedule]
        function_names = qualified(row.name for row in functions)
        queue_names = [FAILED_INVOCATIONS_QUEUE, *map(undelivered_queue_name, schedules)]
        apis = qualified([config.api_name])
        return cls(
            tables=qualified([config.table_name, config.backup_runs_table_name]),
            buckets=_buckets(
                config,
                config.backup_bucket_name,
                config.backup_log_bucket_name,
                config.website_bucket_name,
                config.website_log_bucket_name,
            ),
            site_buckets=_buckets(config, config.website_bucket_name),
            functions=function_names,
            function_roles=qualified(row.role_name for row in functions),
            scheduler_roles=qualified(map(scheduler_role_name, schedules)),
            api_gateway_roles=qualified([API_GATEWAY_LOGS_ROLE]),
            log_groups=(
                *map(log_group_name, function_names),
                *(access_log_group_name(api, config.api_stage_name) for api in apis),
            ),
            queues=qualified(queue_names),
            topics=qualified([TOPIC_NAME]),
            key_aliases=qualified([TOPIC_KEY_ALIAS]),
            secrets=qualified([config.api_key_secret_name]),
            schedules=qualified(schedules),
            web_acls=qualified([FIREWALL_NAME]),
            delivery_sources=qualified([DISTRIBUTION_NAME]),
            delivery_destinations=qualified([destination_name(DISTRIBUTION_NAME)]),
            alarm_prefixes=(
                *(f"{name}-" for name in [*(row.name for row in functions), *queue_names]),
                *(f"{api}-{config.api_stage_name}-" for api in apis),
                BACKUP_ALARM_PREFIX,
            ),
        )


def _buckets(config: AppConfig, *bases: str) -> tuple[str, ...]:
    """Bucket names: the environment's qualifier, then the configured suffix (``config.bucket``)."""
    return tuple(config.bucket(name) for name in qualified(bases))
