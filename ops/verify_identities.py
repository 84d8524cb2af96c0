"""``make up``'s SES step: verifies the configured sender and recipients, as the people behind them would.

    .venv/bin/python -m ops.verify_identities

SES keeps a new identity pending until someone follows the link it e-mails,
and its sandbox sends only between verified ones: ``local/up.sh`` runs this
after each deploy.
"""

from __future__ import annotations

import argparse
import sys

from config.settings import AppConfig
from ops.local_system import run_operation
from ops.verify_email import follow_verification_link


def verify_identities(config: AppConfig) -> None:
    """The configured sender and recipients, verified as the people behind them would after ``make up``."""
    for address in (config.sender_email, *config.recipient_emails):
        follow_verification_link(config, address)
    print(f"==> SES: verified the sender and {len(config.recipient_emails)} recipient(s) (the sandbox's rule)")


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    return run_operation(verify_identities)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
