"""``make backup-now``: runs the schedule's target with its deployed input, as the scheduler would.

    .venv/bin/python -m ops.backup_now

The local edge fires the schedule (as its role, asynchronously, with Lambda's
retries); this follows the invocation until it is over. Apart from
``backups``, which only reads what the runs wrote.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.parse
from typing import Any, Final, cast

from config.settings import AppConfig
from local.deploy import emulator_client
from ops.local_system import OpsError, call, run_operation

#: How often ``backup-now`` asks the edge what became of the invocation.
FOLLOW_EVERY_S: Final = 0.5


def backup_now(config: AppConfig) -> None:
    """Fire each deployed schedule now, as the scheduler would at its time (as its role), then follow the run."""
    scheduler = emulator_client("scheduler", config)
    schedules = scheduler.list_schedules()["Schedules"]
    if not schedules:
        raise OpsError("no schedule is deployed: run `make up`")
    for summary in schedules:
        name, group = summary["Name"], summary.get("GroupName", "default")
        status, queued = call(
            f"http://localhost:{config.api_port}/_edge/schedules/{name}?group={urllib.parse.quote(group)}",
            method="POST",
        )
        if status != 202:
            raise OpsError(f"the edge did not fire the schedule {name} ({status}): {queued}")
        function = queued["function"]
        print(f"==> {name}: invoking {function} with its deployed input, asynchronously as the scheduler does")
        outcome = _follow(config, queued["requestId"])
        if outcome["state"] == "succeeded":
            print(f"==> {function} succeeded (attempt {outcome['attempts']}):")
            print(json.dumps(outcome["result"], indent=2, ensure_ascii=False))
            continue
        print(json.dumps(outcome["error"], indent=2, ensure_ascii=False))
        where = (
            f"; its event is in the dead-letter queue {outcome['deadLetterQueue']}"
            if outcome["deadLetterQueue"]
            else ""
        )
        if not outcome["attempts"]:
            raise OpsError(f"the scheduler could not invoke {function} as the schedule's role{where}")
        raise OpsError(f"{function} failed {outcome['attempts']} times, as Lambda tries an asynchronous event{where}")


def _follow(config: AppConfig, request_id: str) -> dict[str, Any]:
    """Ask the edge what became of an asynchronous invocation until it is over; print each new attempt."""
    url = f"http://localhost:{config.api_port}/_edge/invocations/{request_id}"
    reported = 0
    while True:
        status, outcome = call(url)
        if status != 200:
            raise OpsError(f"the edge lost the invocation {request_id} ({status}): was it restarted?")
        if outcome["attempts"] > reported and outcome["state"] == "running":
            reported = outcome["attempts"]
            print(f"    attempt {reported} failed ({(outcome['error'] or {}).get('errorType')}); Lambda retries it")
        if outcome["state"] != "running":
            return cast(dict[str, Any], outcome)
        time.sleep(FOLLOW_EVERY_S)


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    return run_operation(backup_now)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
