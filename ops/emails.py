"""``make emails``: what the emulator's SES accepted: to, subject, body.

    .venv/bin/python -m ops.emails

``sent_messages`` is also how the tests read what the system e-mailed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from config.settings import AppConfig
from local.deploy import emulator_route
from ops.local_system import run_operation


def sent_messages(config: AppConfig) -> list[dict[str, Any]]:
    """Every e-mail the emulator's SES accepted, oldest first (its ``/_emulator/ses-messages`` route)."""
    messages: list[dict[str, Any]] = emulator_route(config, f"/_emulator/ses-messages/{config.region}")["messages"]
    return messages


def emails(config: AppConfig) -> None:
    messages = sent_messages(config)
    for message in messages:
        to = ", ".join(message["destinations"].get("ToAddresses", []) if message["destinations"] else [])
        print(f"--- to {to} from {message['source']}\n    subject: {message['subject']}")
        for line in (message["body"] or message["raw"] or "").splitlines():
            print(f"    {line}")
    print(f"==> {len(messages)} e-mail(s) accepted by the emulator's SES")


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    return run_operation(emails)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
