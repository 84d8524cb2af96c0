"""The names of the system's resources in every environment of an account, for the delivery roles' ARNs.

The delivery identity is deployed once per account and serves every AWS
environment there (config.toml's ``[environments]``, local excepted):
production keeps the tutorial's names, the others' names carry their
qualifier (``config.named``; in a bucket name before the suffix, which keeps
it globally unique). The apply role may touch only resources with
these names, so each name here comes from where the application stack takes
it (the configuration, the function table, the constructs' own constants and
name functions); ``tests/modules/test_delivery_identity.py`` checks every name
the synthesized application stack uses against them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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

#: Alarms named for no other resource start with this (``backup-failed``, ``backup-missing-26h``, ...).
BACKUP_ALARM_PREFIX: Final = "backup-"


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
    def of(cls, environments: Sequence[AppConfig], functions: Sequence[FunctionSpec] = FUNCTIONS) -> SystemNames:
        """The names the account's environments give the system, each as its configuration qualifies them."""
        schedules = [row.schedule for row in functions if row.schedule]

        def each(name: Callable[[AppConfig], Iterable[str]]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(value for config in environments for value in name(config)))

        def queues(c: AppConfig) -> list[str]:
            return [c.named(FAILED_INVOCATIONS_QUEUE), *(c.named(undelivered_queue_name(s)) for s in schedules)]

        return cls(
            tables=each(lambda c: [c.table_name, c.backup_runs_table_name]),
            buckets=each(lambda c: [c.backup_bucket, c.backup_log_bucket, c.website_bucket, c.website_log_bucket]),
            site_buckets=each(lambda c: [c.website_bucket]),
            functions=each(lambda c: [c.named(row.name) for row in functions]),
            function_roles=each(lambda c: [c.named(row.role_name) for row in functions]),
            scheduler_roles=each(lambda c: [c.named(scheduler_role_name(s)) for s in schedules]),
            api_gateway_roles=each(lambda c: [c.named(API_GATEWAY_LOGS_ROLE)]),
            log_groups=each(
                lambda c: [
                    *(log_group_name(c.named(row.name)) for row in functions),
                    access_log_group_name(c.api_name, c.api_stage_name),
                ]
            ),
            queues=each(queues),
            topics=each(lambda c: [c.named(TOPIC_NAME)]),
            key_aliases=each(lambda c: [c.named(TOPIC_KEY_ALIAS)]),
            secrets=each(lambda c: [c.api_key_secret_name]),
            schedules=each(lambda c: [c.named(s) for s in schedules]),
            web_acls=each(lambda c: [c.named(FIREWALL_NAME)]),
            delivery_sources=each(lambda c: [c.named(DISTRIBUTION_NAME)]),
            delivery_destinations=each(lambda c: [c.named(destination_name(DISTRIBUTION_NAME))]),
            alarm_prefixes=(
                *each(
                    lambda c: [
                        *(f"{c.named(row.name)}-" for row in functions),
                        *(f"{queue}-" for queue in queues(c)),
                        f"{c.api_name}-{c.api_stage_name}-",
                    ]
                ),
                BACKUP_ALARM_PREFIX,
            ),
        )
