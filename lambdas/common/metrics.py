"""The system's own metrics, written as CloudWatch embedded metric format (EMF) log lines.

A line on stdout that is a JSON object with an ``_aws`` member becomes a
metric datapoint when Lambda's log lands in CloudWatch Logs: no
``cloudwatch:PutMetricData`` right, no extra call, nothing to time out. The
alarms in ``modules/`` watch these names (``names.METRIC_*``) in the
environment's namespace (``names.ENV_METRIC_NAMESPACE``, which only an
environment with qualified names sets; ``names.METRIC_NAMESPACE`` otherwise),
with no dimensions.
"""

from __future__ import annotations

import json
import os
import sys
import time

from lambdas.common import names


def namespace() -> str:
    """The environment's namespace of the system's metrics."""
    return os.environ.get(names.ENV_METRIC_NAMESPACE) or names.METRIC_NAMESPACE


def emit(name: str, value: float = 1, *, unit: str = "Count") -> None:
    """Write one datapoint of ``name`` (one EMF line on stdout)."""
    line = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                # One empty dimension set: the metric is published without dimensions.
                {"Namespace": namespace(), "Dimensions": [[]], "Metrics": [{"Name": name, "Unit": unit}]}
            ],
        },
        name: value,
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
