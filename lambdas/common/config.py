"""Each function's settings, read from its environment once and validated.

A missing or malformed variable raises ``ConfigError`` naming the variable, so
a misconfigured deployment fails loudly on its first invocation instead of
half-working (for example answering with a CORS header the page cannot use).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Self

from lambdas.common import names
from lambdas.common.validation import is_email_address

#: SES accepts at most 50 recipients per message.
MAX_RECIPIENTS: Final = 50

# An origin is scheme://host[:port] with nothing after it; browsers compare it
# byte for byte with the page's origin, so a trailing slash would never match.
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?", re.ASCII)


class ConfigError(RuntimeError):
    """The function's environment is missing a variable or holds an invalid value."""


def required(environ: Mapping[str, str], name: str) -> str:
    """The stripped value of ``name``; ``ConfigError`` if it is unset or blank."""
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is not set; the function cannot run without it")
    return value


def allowed_origin(environ: Mapping[str, str]) -> str:
    """The single origin allowed to call the API (the website's CloudFront domain)."""
    name = names.ENV_ALLOWED_ORIGIN
    value = required(environ, name)
    if value == "*":
        raise ConfigError(f"environment variable {name} must name the website's origin, not '*'")
    if not _ORIGIN.fullmatch(value):
        raise ConfigError(
            f"environment variable {name}={value!r} is not an origin; expected e.g. 'https://d123.cloudfront.net'"
        )
    return value


def email_address(environ: Mapping[str, str], name: str) -> str:
    """One e-mail address."""
    value = required(environ, name)
    if not is_email_address(value):
        raise ConfigError(f"environment variable {name}={value!r} is not an e-mail address")
    return value


def email_addresses(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of e-mail addresses (at least one, at most ``MAX_RECIPIENTS``)."""
    values = tuple(part.strip() for part in required(environ, name).split(",") if part.strip())
    bad = [value for value in values if not is_email_address(value)]
    if bad:
        raise ConfigError(f"environment variable {name} holds invalid e-mail addresses: {', '.join(map(repr, bad))}")
    if not values:
        raise ConfigError(f"environment variable {name} holds no e-mail address")
    if len(values) > MAX_RECIPIENTS:
        raise ConfigError(f"environment variable {name} lists {len(values)} addresses; SES accepts {MAX_RECIPIENTS}")
    return values


@dataclass(frozen=True)
class ReadSettings:
    """Settings of ``getStudentData``."""

    table_name: str
    allowed_origin: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        return cls(
            table_name=required(environ, names.ENV_TABLE_NAME),
            allowed_origin=allowed_origin(environ),
        )


@dataclass(frozen=True)
class InsertSettings:
    """Settings of ``insertStudentData``."""

    table_name: str
    sender_email: str
    allowed_origin: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        return cls(
            table_name=required(environ, names.ENV_TABLE_NAME),
            sender_email=email_address(environ, names.ENV_SENDER_EMAIL),
            allowed_origin=allowed_origin(environ),
        )


@dataclass(frozen=True)
class BackupSettings:
    """Settings of ``BackupDynamoDBAndSendEmail``.

    ``allowed_origin`` is required even though the schedule does not need it:
    the same function answers POST /backup, and a deployment that forgot it
    should fail on the first run rather than on the first click.
    """

    table_name: str
    bucket: str
    sender_email: str
    recipients: tuple[str, ...]
    allowed_origin: str
    #: The table of backup runs and the lease that keeps two from racing.
    runs_table_name: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        return cls(
            table_name=required(environ, names.ENV_TABLE_NAME),
            runs_table_name=required(environ, names.ENV_RUNS_TABLE_NAME),
            bucket=required(environ, names.ENV_BACKUP_BUCKET),
            sender_email=email_address(environ, names.ENV_SENDER_EMAIL),
            recipients=email_addresses(environ, names.ENV_RECIPIENT_EMAIL),
            allowed_origin=allowed_origin(environ),
        )
