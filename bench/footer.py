"""The line every benchmark ends with: how long it ran and how loaded the machine was meanwhile.

Timings are compared within one run, but a reader of a result needs to know
whether other work shared the cores: the load average at the start and at the end.
"""

from __future__ import annotations

import os
import time


def run_facts(started: float, load_before: float) -> str:
    """``started`` is a ``time.monotonic()`` reading, ``load_before`` the 1-minute load average then."""
    return (
        f"\nwall time {time.monotonic() - started:.0f} s; load average (1 min) {load_before:.2f} at the start,"
        f" {os.getloadavg()[0]:.2f} at the end, on {os.cpu_count()} cores"
    )
