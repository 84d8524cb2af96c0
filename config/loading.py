"""Reading the configuration's values: ``config.toml`` (or ``STUDENT_MGMT_CONFIG``'s file), then the environment.

Separate from the model (``config/settings.py``) because it is about text, not
meaning: it finds the values, refuses unknown keys and turns each value into
its field's type (``coerce``), naming the source of a value that does not
convert. ``load_config`` makes the ``AppConfig`` of what ``values`` returns,
which validates it. Standard library only, like the model.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from config.settings import (
    DEFAULT_CONFIG_FILE,
    ENV_CONFIG_FILE,
    ENV_DEPLOY_TARGET,
    ENV_PREFIX,
    PROJECT_ROOT,
    AppConfig,
    ConfigError,
    DeployTarget,
    fail,
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


def values(env: Mapping[str, str], config_file: Path | None) -> dict[str, Any]:
    """Every value set, by field: the file's, then the environment's over them, each coerced."""
    path = config_file or Path(env.get(ENV_CONFIG_FILE, DEFAULT_CONFIG_FILE))
    found: dict[str, Any] = {}
    if path.exists():
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from None
        for key, raw in document.items():
            if key not in FIELDS:
                known = ", ".join(sorted(FIELDS))
                raise ConfigError(f"configuration file {path}: unknown field '{key}'. Known fields: {known}")
            found[key] = coerce(key, raw, str(path))
    elif config_file is not None or ENV_CONFIG_FILE in env:
        raise ConfigError(f"configuration file {path} does not exist (set by {ENV_CONFIG_FILE})")
    for name in FIELDS:
        var = ENV_DEPLOY_TARGET if name == "deploy_target" else f"{ENV_PREFIX}{name.upper()}"
        if var in env and env[var] != "":
            found[name] = coerce(name, env[var], f"env {var}")
    return found
