"""Usage plans and stage throttling as API Gateway applies them: token buckets and quotas.

Throttling is a token bucket: ``burst`` tokens at most, refilled at ``rate``
per second, one taken per request; an empty bucket is 429 THROTTLED. A quota
counts requests per key per period (a UTC day, an ISO week or a calendar
month); once ``limit`` requests were admitted in the period, 429
QUOTA_EXCEEDED. A usage plan has one bucket and one count per API key; a
stage's method settings have one bucket per method, shared by every caller.
The limits are read from the deployment on every request, so a changed plan
applies at once; the counts live as long as the edge.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Final

from local.edge.deployment.apigateway import Quota, Throttle

THROTTLED: Final = "THROTTLED"
QUOTA_EXCEEDED: Final = "QUOTA_EXCEEDED"


class _Bucket:
    def __init__(self, throttle: Throttle, now: float) -> None:
        self.tokens = float(throttle.burst)
        self.updated = now

    def take(self, throttle: Throttle, now: float) -> bool:
        # The limits may have changed since the last request: refill at today's rate, cap at today's burst.
        self.tokens = min(float(throttle.burst), self.tokens + (now - self.updated) * throttle.rate_per_second)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def quota_period(period: str, moment: datetime) -> str:
    """The name of the quota period ``moment`` (UTC) falls in."""
    if period == "WEEK":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "MONTH":
        return moment.strftime("%Y-%m")
    return moment.strftime("%Y-%m-%d")


class Meter:
    """The buckets and counts of every key and method, safe to use from the server's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, ...], _Bucket] = {}
        self._counts: dict[tuple[str, ...], int] = {}

    def throttle(self, owner: tuple[str, ...], throttle: Throttle) -> bool:
        """Take a token from ``owner``'s bucket; False when it is empty."""
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.setdefault(owner, _Bucket(throttle, now))
            return bucket.take(throttle, now)

    def admit_plan(self, plan_id: str, key_id: str, throttle: Throttle | None, quota: Quota | None) -> str | None:
        """Count one request of a key under a plan: None when admitted, else the gateway response type."""
        if throttle is not None and not self.throttle(("plan", plan_id, key_id), throttle):
            return THROTTLED
        if quota is None:
            return None
        period = quota_period(quota.period, datetime.now(UTC))
        with self._lock:
            counted = ("quota", plan_id, key_id, period)
            if self._counts.get(counted, 0) >= quota.limit:
                return QUOTA_EXCEEDED
            self._counts[counted] = self._counts.get(counted, 0) + 1
        return None
