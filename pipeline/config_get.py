"""Prints resolved configuration values, one a line, for the shell scripts.

    config_get.py FIELD [FIELD ...]

The scripts and the synthesized Terraform must agree on values such as the
emulator's port and endpoint; both read them through config/settings.py. A FIELD
is a configuration field or a value derived from them (``emulator_endpoint``,
``emulator_ca_bundle``); several are read with one Python start-up.
"""

from __future__ import annotations

import sys

from config.settings import ConfigError, load_config


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: config_get.py FIELD [FIELD ...]", file=sys.stderr)
        return 2
    try:
        config = load_config()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    values = []
    for name in argv:
        if not hasattr(config, name):
            print(f"error: no configuration field '{name}'", file=sys.stderr)
            return 2
        values.append(getattr(config, name))
    for value in values:
        print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
