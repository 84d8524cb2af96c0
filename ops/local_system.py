"""What every operation on the local system (`make up`) shares: its outputs, the local edge, one way to fail.

Each operator command of the local system is a module of its own
(``python -m ops.<name>``, or its make target; without ``ENV`` they act on the
local environment, and any other environment is refused):
``api_key``, ``staff_user``, ``staff_token``, ``seed``, ``emails``,
``denials``, ``alarm_test``, ``backups``, ``backup_now``, ``verify_email``,
``verify_identities``. Here is what more than one of them needs, and
``run_operation``, which gives each the same configuration check and the same
one-line errors: a local system that is not running (no emulator state, or no
emulator answering) is one ``error:`` line naming ``make up``, never a traceback.

Everything is read from what `make up` deployed: outputs.json, the emulator's
resources, and the local edge (local/edge.sh). Nothing here knows a name,
key or route of its own.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from botocore.exceptions import EndpointConnectionError

from config.settings import APP_STACK, AppConfig, ConfigError, load_config
from ops.staff import StaffError


class OpsError(RuntimeError):
    """An operation cannot be done; the message says why and what to run."""


def outputs(config: AppConfig) -> dict[str, Any]:
    path = config.emulator_outputs_file
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))[APP_STACK])
    except FileNotFoundError:
        raise OpsError(f"{path} does not exist: run `make up` first") from None


def invoke_url(config: AppConfig) -> str:
    return f"http://localhost:{config.api_port}/{config.api_stage_name}"


def call(
    url: str, *, method: str = "GET", body: object = None, key: str | None = None, token: str | None = None
) -> tuple[int, Any]:
    """One request to the local edge (with the API key and a staff ID token, when given): status and JSON body."""
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback http of ours
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("x-api-key", key)
    if token:
        request.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - a loopback URL of ours
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
    except urllib.error.URLError as error:
        raise OpsError(f"the local edge does not answer at {url} ({error.reason}): run `make up`") from None


def not_running(why: str) -> OpsError:
    """The error of a local system that is not running: why, and the command that starts it."""
    return OpsError(f"the local system is not running ({why}): run `make up`")


def check_running(config: AppConfig) -> None:
    """Raises ``not_running`` unless ``make up`` left the emulator's state: its CA, which every call trusts."""
    if not config.emulator_ca_bundle.is_file():
        raise not_running(f"no emulator state in {config.emulator_state_dir}")


def run_operation(operation: Callable[[AppConfig], object]) -> int:
    """Runs one operation on the local system; what stops it is one ``error:`` line and exit code 1."""
    try:
        config = load_config()
        if not config.is_local:
            raise OpsError(
                f"this command acts on the local system only, not on {config.environment}: run it without ENV"
            )
        check_running(config)
        operation(config)
    except (ConfigError, OpsError, StaffError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except EndpointConnectionError:
        print(f"error: {not_running(f'no emulator answers at {config.emulator_endpoint}')}", file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        if isinstance(error, urllib.error.HTTPError):  # an answer: not a system that is down
            raise
        print(
            f"error: {not_running(f'no emulator answers at {config.emulator_endpoint}: {error.reason}')}",
            file=sys.stderr,
        )
        return 1
    return 0
