"""``make denials``: what the emulator's IAM refused (AccessDenied), oldest first.

    .venv/bin/python -m ops.denials

``access_denials`` is also how the least-privilege tests read what was refused.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from config.settings import AppConfig
from local.deploy import emulator_route
from ops.local_system import run_operation


def access_denials(config: AppConfig, after: int = 0) -> list[dict[str, Any]]:
    """The requests the emulator's IAM refused (numbered ``seq``), those after ``after``, oldest first."""
    denials: list[dict[str, Any]] = emulator_route(config, f"/_emulator/iam/denials?after={after}")["denials"]
    return denials


def denials(config: AppConfig) -> None:
    found = access_denials(config)
    for denial in found:
        stamp = time.strftime("%H:%M:%S", time.localtime(denial["time"]))
        print(f"{stamp} {denial['code']}: {denial['message']}")
    print(f"==> {len(found)} request(s) refused by the emulator's IAM (the last 1,000 are kept)")


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    return run_operation(denials)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
