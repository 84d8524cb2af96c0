"""What both sides of ``bench.api`` share: the load they are put under and the check of each answer.

The edge (``bench.api_edge``) and the direct side (``bench.api_direct``) are
measured with the same load generator, the same budget, the same new students
and the same checks of what a request answered, so the two differ only in
how a request reaches the handler. Separate from ``bench.api``, which runs
the rounds and prints the report, because both sides import these.
"""

from __future__ import annotations

import http.client
import json
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final

from ops.seed import sample_students

PAGE: Final = 100
RESOURCE: Final = "/students"
#: What every new student of the measurements is, but for the id and e-mail address.
STUDENT: Final = sample_students(2)[1]

#: One request: its latency in seconds and what was wrong with the answer (None: nothing).
Call = Callable[[int], tuple[float, str | None]]


@dataclass(frozen=True)
class Budget:
    requests: int
    seconds: float
    concurrency: int


@dataclass
class Measured:
    """Latencies (seconds) and errors of one measurement, over its rounds."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: Measured) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.seconds += other.seconds

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] * 1000


def load(call: Call, budget: Budget) -> Measured:
    """``budget.concurrency`` threads call ``call(index)`` until the request count or the time runs out."""
    lock = threading.Lock()
    issued = 0
    measured = Measured()
    deadline = time.monotonic() + budget.seconds

    def client() -> None:
        nonlocal issued
        while time.monotonic() < deadline:
            with lock:
                if issued >= budget.requests:
                    return
                index = issued
                issued += 1
            started = time.perf_counter()
            try:
                seconds, problem = call(index)
            except (OSError, http.client.HTTPException) as error:
                seconds, problem = time.perf_counter() - started, f"{type(error).__name__}: {error}"
            with lock:
                measured.latencies.append(seconds)
                if problem:
                    measured.errors.append(problem)

    started = time.perf_counter()
    with ThreadPoolExecutor(budget.concurrency) as pool:
        for running in [pool.submit(client) for _ in range(budget.concurrency)]:
            running.result()
    measured.seconds = time.perf_counter() - started
    return measured


def new_student(label: str, index: int) -> dict[str, str]:
    """A valid student whose id no other request of the run uses."""
    student = dict(STUDENT)
    student["studentid"] = f"{label}-{index:06d}"
    student["email"] = f"{label.lower()}-{index}@example.com"
    return student


def page_problem(status: int, body: str | bytes) -> str | None:
    if status != 200:
        return f"GET answered {status}: {body[:200]!r}"
    count = json.loads(body)["count"]
    return None if count == PAGE else f"GET answered a page of {count} students, not {PAGE}"


def created_problem(status: int, body: str | bytes) -> str | None:
    return None if status == 201 else f"POST answered {status}: {body[:200]!r}"
