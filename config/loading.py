"""Reading the configuration's values: ``config.toml`` (or ``STUDENT_MGMT_CONFIG``'s file), then the environment.

Separate from the model (``config/settings.py``) because it is about text, not
meaning: it finds the values, refuses unknown keys and turns each value into
its field's type (``coerce``), naming the source of a value that does not
convert. ``load_config`` makes the ``AppConfig`` of what ``values`` returns,
which validates it. Standard library only, like the model.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Final

from config.settings import (
    CDK_ENGINES,
    DEFAULT_CONFIG_FILE,
    ENV_CONFIG_FILE,
    ENV_DEPLOY_TARGET,
    ENV_ENGINE,
    ENV_ENVIRONMENT,
    ENVIRONMENT_DEFAULTS,
    LOCAL_ENVIRONMENT,
    PRODUCTION_ENVIRONMENT,
    PROJECT_ROOT,
    AppConfig,
    ConfigError,
    DeployTarget,
    env_variable,
    fail,
    qualify,
)

FIELDS: Final = {f.name: f for f in dataclasses.fields(AppConfig)}


def coerce(name: str, raw: Any, source: str) -> Any:
    """Turn a value from TOML or the environment into the field's type."""
    kind = FIELDS[name].type
    if name == "deploy_target":
        try:
            return DeployTarget(str(raw).strip().lower())
        except ValueError:
            raise fail(
                name, raw, f"from {source} is not a deploy target", "set DEPLOY_TARGET to 'aws' or 'local'"
            ) from None
    if kind == "int":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        try:
            return int(str(raw).strip())
        except ValueError:
            raise fail(name, raw, f"from {source} is not a whole number", "use digits only") from None
    if kind in ("bool", "bool | None"):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text not in ("true", "false", "1", "0", "yes", "no"):
            raise fail(name, raw, f"from {source} is not true or false", "use true or false")
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
            raise fail(name, raw, f"from {source} is not a tag list", "write tags as Key=Value,Key2=Value2")
        return {k.strip(): v.strip() for k, v in (p.split("=", 1) for p in pairs)}
    if not isinstance(raw, str):
        raise fail(name, raw, f"from {source} is not a string", "quote the value")
    return raw.strip()


#: Names an environment qualifies with ``-<qualifier>`` unless its own table sets them.
QUALIFIED_NAMES: Final = (
    "table_name",
    "backup_runs_table_name",
    "backup_bucket_name",
    "backup_log_bucket_name",
    "website_bucket_name",
    "website_log_bucket_name",
    "api_name",
    "api_key_secret_name",
    "staff_user_pool_name",
)
#: Addresses an environment qualifies as ``name+<qualifier>@domain`` (its own SES identities, in the
#: same mailboxes) unless its own table sets them.
QUALIFIED_ADDRESSES: Final = ("sender_email", "recipient_emails")
#: Keys of the account, which every environment in it shares: an environment's table may not set them.
ACCOUNT_KEYS: Final = ("region", "name_suffix", "state_bucket_name", "github_repository", "account_tags")
#: Keys of the checkout's tools, which no environment changes: an environment's table may not set them.
CHECKOUT_KEYS: Final = ("cdk_engine",)
_ENVIRONMENT_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9-]{0,14}[a-z0-9]$")


def values(env: Mapping[str, str], config_file: Path | None) -> dict[str, Any]:
    """Every value set, by field: the file's, the environment's over them, then the variables', each coerced."""
    path = config_file or Path(env.get(ENV_CONFIG_FILE, DEFAULT_CONFIG_FILE))
    document = _read(path, explicit=config_file is not None or ENV_CONFIG_FILE in env)
    tables = _environment_tables(document.pop("environments", {}), path)
    if "name_qualifier" in document:
        raise fail(
            "name_qualifier",
            document["name_qualifier"],
            f"is set at the top of {path}",
            "set it in an [environments.<name>] table",
        )
    found = {key: coerce(key, raw, str(path)) for key, raw in _known(document, path).items()}
    name = _environment_name(env, tables)
    own = dict(ENVIRONMENT_DEFAULTS.get(name, {}))
    own.update(tables.get(name, {}))
    for key, raw in own.items():
        if key in ACCOUNT_KEYS:
            raise fail(key, raw, f"is set for environment '{name}', but it is the account's", "set it at the top")
        if key in CHECKOUT_KEYS:
            raise fail(
                key, raw, f"is set for environment '{name}', but it chooses the checkout's tools", "set it at the top"
            )
    own = {key: coerce(key, raw, f"{path} [environments.{name}]") for key, raw in _known(own, path).items()}
    qualifier_variable = env_variable("name_qualifier")
    if env.get(qualifier_variable):  # before the names are qualified: it qualifies them all
        own["name_qualifier"] = coerce("name_qualifier", env[qualifier_variable], f"env {qualifier_variable}")
    found.update(_environment_values(name, found, own))
    for field_name in FIELDS:
        var = env_variable(field_name)
        if var in env and env[var] != "" and field_name not in ("environment", "name_qualifier"):
            found[field_name] = coerce(field_name, env[var], f"env {var}")
    if "deploy_target" not in found:
        found["deploy_target"] = DeployTarget.LOCAL if name == LOCAL_ENVIRONMENT else DeployTarget.AWS
    return found


def cdk_engine(env: Mapping[str, str], config_file: Path | None = None) -> str:
    """The CDK engine alone (``CDK_ENGINE``, else the file's top-level ``cdk_engine``, else the default), checked.

    What ``values`` gives the field, without the rest of the configuration: the
    engine is chosen before any construct is imported (``engine/choice.py``) and
    by ``make setup``, whatever else the configuration holds.
    """
    raw, source = env.get(ENV_ENGINE, "").strip(), f"env {ENV_ENGINE}"
    if not raw:
        path = config_file or Path(env.get(ENV_CONFIG_FILE, DEFAULT_CONFIG_FILE))
        document = _read(path, explicit=config_file is not None or ENV_CONFIG_FILE in env)
        raw, source = document.get("cdk_engine", FIELDS["cdk_engine"].default), str(path)
    value = coerce("cdk_engine", raw, source)
    if value not in CDK_ENGINES:
        raise fail(
            "cdk_engine", value, f"from {source} is not a CDK engine", f"use {' or '.join(map(repr, CDK_ENGINES))}"
        )
    return str(value)


def _read(path: Path, *, explicit: bool) -> dict[str, Any]:
    if not path.exists():
        if explicit:
            raise ConfigError(f"configuration file {path} does not exist (set by {ENV_CONFIG_FILE})")
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from None


def _known(document: Mapping[str, Any], path: Path) -> Mapping[str, Any]:
    """The document itself, once every key is known to be a field the file may set."""
    for key in document:
        if key not in FIELDS or key in ("environment", "account_tags"):
            known = ", ".join([*sorted(set(FIELDS) - {"environment", "account_tags"}), "environments"])
            raise ConfigError(f"configuration file {path}: unknown field '{key}'. Known fields: {known}")
    return document


def _environment_tables(raw: object, path: Path) -> dict[str, dict[str, Any]]:
    """The file's ``[environments.<name>]`` tables, each name checked."""
    if not isinstance(raw, dict) or not all(isinstance(table, dict) for table in raw.values()):
        raise ConfigError(f"configuration file {path}: 'environments' must hold [environments.<name>] tables")
    for name in raw:
        if not _ENVIRONMENT_NAME_RE.match(name):
            raise fail("environment", name, f"in {path} is not an environment name", "use 2-16 of a-z 0-9 -")
    return raw


def environment_choices(environ: Mapping[str, str] | None = None, config_file: Path | None = None) -> list[str]:
    """Every environment there is: the built-in ones and the configuration file's tables."""
    env = os.environ if environ is None else environ
    path = config_file or Path(env.get(ENV_CONFIG_FILE, DEFAULT_CONFIG_FILE))
    document = _read(path, explicit=config_file is not None or ENV_CONFIG_FILE in env)
    return sorted(set(ENVIRONMENT_DEFAULTS) | set(_environment_tables(document.get("environments", {}), path)))


def aws_environment_choices(environ: Mapping[str, str] | None = None, config_file: Path | None = None) -> list[str]:
    """Every environment that lives in an AWS account: all but local."""
    return [name for name in environment_choices(environ, config_file) if name != LOCAL_ENVIRONMENT]


def _environment_name(env: Mapping[str, str], tables: Mapping[str, object]) -> str:
    """``ENV``'s environment; without it, ``local``, or ``production`` for ``DEPLOY_TARGET=aws``."""
    choices = sorted(set(ENVIRONMENT_DEFAULTS) | set(tables))
    name = env.get(ENV_ENVIRONMENT, "").strip()
    if not name:
        return PRODUCTION_ENVIRONMENT if env.get(ENV_DEPLOY_TARGET, "").strip().lower() == "aws" else LOCAL_ENVIRONMENT
    if name not in choices:
        raise fail("environment", name, "is not an environment", f"use one of {', '.join(choices)}")
    return name


def _environment_values(name: str, top: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """What the environment changes: its own values, its tags over the top's, and its qualified names."""
    defaults = {f.name: f.default_factory() if callable(f.default_factory) else f.default for f in FIELDS.values()}
    top_tags = dict(top.get("tags", defaults["tags"]))
    built_in = name in (LOCAL_ENVIRONMENT, PRODUCTION_ENVIRONMENT)
    qualifier = own.get("name_qualifier", "" if built_in else name)
    tags = {**top_tags, **({} if built_in else {"Environment": name.capitalize()}), **own.get("tags", {})}
    # The emulator is the local environment's account of its own: its state bucket carries its tags.
    account_tags = tags if name == LOCAL_ENVIRONMENT else top_tags
    changed: dict[str, Any] = {"environment": name, "name_qualifier": qualifier, "account_tags": account_tags}
    changed.update(own)
    changed["tags"] = tags
    if qualifier:
        for key in QUALIFIED_NAMES:
            if key not in own:
                changed[key] = qualify(top.get(key, defaults[key]), qualifier)
        if "sender_email" not in own:
            changed["sender_email"] = _plus(top.get("sender_email", defaults["sender_email"]), qualifier)
        if "recipient_emails" not in own:
            addresses = top.get("recipient_emails", defaults["recipient_emails"])
            changed["recipient_emails"] = tuple(_plus(address, qualifier) for address in addresses)
    if not built_in and "state_key" not in own:
        state = PurePosixPath(top.get("state_key", defaults["state_key"]))
        changed["state_key"] = str(state.parent / name / state.name)
    return changed


def _plus(address: str, qualifier: str) -> str:
    """``name+<qualifier>@domain``: an address of its own that SES verifies apart, delivered to the same mailbox."""
    local, at, domain = address.partition("@")
    return f"{local}+{qualifier}{at}{domain}" if at else address
