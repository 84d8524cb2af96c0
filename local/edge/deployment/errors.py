"""What reading the deployment raises, whatever the service: shared by every module of the reader."""

from __future__ import annotations

from botocore.exceptions import ClientError


class DeploymentError(RuntimeError):
    """The deployment cannot be read (no outputs file, an output missing, the emulator gone)."""


class NotDeployed(LookupError):  # noqa: N818 - reads as what it reports: "not deployed"
    """The emulator holds no such resource (a deleted function, an API that is gone)."""


def error_code(error: ClientError) -> str:
    """The AWS error code of a refused call (``ResourceNotFoundException``); ``error`` when it names none."""
    return str(error.response.get("Error", {}).get("Code", "error"))
