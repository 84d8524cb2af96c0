"""What stops a teardown, and how AWS's errors are told apart: every step of ``make destroy`` raises or reads these."""

from __future__ import annotations

from botocore.exceptions import ClientError


class TeardownError(RuntimeError):
    """The teardown cannot go on; the message says why, and what had been done."""


class NothingDeployed(Exception):  # noqa: N818 - reads as what it reports
    """There is no deployment to look at (no state bucket, no emulator); the message says which."""


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
