"""``make alarm-test``: sets an alarm to ALARM and back to OK, and shows where CloudWatch delivered each notification.

    .venv/bin/python -m ops.alarm_test [--alarm NAME]

As ``aws cloudwatch set-alarm-state`` does; the emulator records each
notification's delivery, which this reads back.
"""

from __future__ import annotations

import argparse
import sys

from config.settings import AppConfig
from local.deploy import emulator_client, emulator_route
from ops.local_system import OpsError, run_operation


def alarm_test(config: AppConfig, name: str | None) -> None:
    """Try an alarm's actions as AWS documents it: ``SetAlarmState`` to ALARM, then to OK; each must notify."""
    cloudwatch = emulator_client("cloudwatch", config)
    alarms = sorted(a["AlarmName"] for a in cloudwatch.describe_alarms(AlarmTypes=["MetricAlarm"])["MetricAlarms"])
    if not alarms:
        raise OpsError("no alarm is deployed: run `make up`")
    alarm = name or alarms[0]
    if alarm not in alarms:
        raise OpsError(f"no alarm {alarm!r}: ALARM= one of {', '.join(alarms)}")
    route = f"/_emulator/alarm-notifications/{config.region}"
    current = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"]
    # Only a change of state notifies: an alarm left in ALARM goes to OK first.
    for state in ("OK", "ALARM", "OK") if current == "ALARM" else ("ALARM", "OK"):
        seen = len(emulator_route(config, route)["notifications"])
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue=state, StateReason=f"make alarm-test: {state}")
        attempts = emulator_route(config, route)["notifications"][seen:]
        if not attempts:
            raise OpsError(f"{alarm} went to {state} and notified nothing: are its actions enabled?")
        for attempt in attempts:
            if not attempt["delivered"]:
                raise OpsError(f"{alarm} -> {state}: {attempt['error']}")
            print(f"==> {alarm} -> {state}: {attempt['subject']!r} delivered to {', '.join(attempt['deliveredTo'])}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarm", help="the alarm's name (default: the first deployed)")
    args = parser.parse_args(argv)
    return run_operation(lambda config: alarm_test(config, args.alarm))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
