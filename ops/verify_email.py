"""``make verify-email``: verifies an address with the local SES, as its owner following SES's link would.

    .venv/bin/python -m ops.verify_email --email name@example.org

``follow_verification_link`` is also what ``verify_identities`` (``make up``)
and the tests do for an identity already asked for.
"""

from __future__ import annotations

import argparse
import re
import sys
import urllib.error
import urllib.parse
from typing import Final

from config.settings import AppConfig
from local.deploy import emulator_client, emulator_route
from ops.local_system import OpsError, run_operation

#: What ``make verify-email`` takes for an address (SES checks the rest).
EMAIL_PATTERN: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def follow_verification_link(config: AppConfig, identity: str) -> None:
    """What the person at ``identity`` does with SES's verification e-mail: follow the link (the emulator's route)."""
    route = f"/_emulator/ses-verify/{config.region}/{urllib.parse.quote(identity, safe='@')}"
    try:
        emulator_route(config, route, {})
    except urllib.error.HTTPError as error:
        raise OpsError(f"{identity}: SES has no such identity to verify ({error.code}): is it deployed?") from None


def verify_email(config: AppConfig, address: str) -> None:
    """Ask SES to verify ``address`` (it e-mails a link), then follow the link, as its owner would."""
    if not EMAIL_PATTERN.fullmatch(address):
        raise OpsError(f"EMAIL must be an e-mail address, not {address!r}: make verify-email EMAIL=name@example.org")
    emulator_client("ses", config).verify_email_identity(EmailAddress=address)
    follow_verification_link(config, address)
    print(f"==> {address}: verified in the local SES; e-mails to it are sent from now on")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--email", required=True, help="the address")
    args = parser.parse_args(argv)
    return run_operation(lambda config: verify_email(config, args.email))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
