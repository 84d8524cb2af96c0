"""Prints one resolved configuration value, for the shell scripts.

The scripts and the synthesized Terraform must agree on values such as the
emulator's port; both read them through modules/config.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from modules.config import ConfigError, load_config


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: config_get.py FIELD", file=sys.stderr)
        return 2
    try:
        value = getattr(load_config(), argv[0])
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except AttributeError:
        print(f"error: no configuration field '{argv[0]}'", file=sys.stderr)
        return 2
    print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
