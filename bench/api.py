"""How much does the local edge add to an API request, over calling the handler directly?

The local edge (``local/edge``, started by ``make up``) serves the
deployed REST API: an HTTP server, the Cognito authorizer (each request's ID
token verified: signature, issuer, audience, expiry), the API key and usage
plan checks, the request validator, and a worker process per concurrent
invocation that runs the function's deployed zip. This benchmark brings up a private local system
(``local/up.sh`` on free ports and a temporary state directory, so a running
``make up`` is never touched; usage plan limits raised so nothing is
throttled), seeds 150 students through the API, and measures two requests:

- ``GET /students?limit=100`` with the key and the local staff member's ID
  token (``ops/staff_token.py`` signs in before each round, so no round
  outlives its token): a full page of 100 students;
- ``POST /students`` with a new student each time: 201 expected (saved, and a
  confirmation e-mail sent through the emulator's SES).

Each is measured two ways, against the same emulator:

1. **edge**: over loopback HTTP (``http.client``, one keep-alive connection
   per client thread) to ``http://127.0.0.1:<api_port>/<stage>``;
2. **direct** (the baseline): the same handler modules from ``lambdas/``,
   called in this process with a proxy event, with the function's deployed
   environment (read from the emulator, as the edge's workers get it) and the
   emulator's endpoint, CA and credentials. Their log lines go to a file, as
   the workers' go through a pipe to ``functions.log``.

Both sides do the same DynamoDB and SES calls against the same moto server, so
the difference is what the edge adds: HTTP, the token's verification, the key
and plan checks, validation, the proxy event, the worker's pipe and JSON. The direct side runs
its threads in one process (one GIL); the edge's functions run in processes
of their own.

The machines this runs on are small and shared (2 cores, often running a
test suite), so absolute numbers move from run to run. That is why the
baseline is measured in the same run, and why the edge and the direct side
alternate, in ``ROUNDS`` rounds of half the budget each: a burst of load from
elsewhere falls on both. Read the ratios, not the absolute numbers.

Each measurement stops at ``--requests`` requests or ``--seconds`` seconds,
whichever comes first, after a short warm-up (``2 x --concurrency`` requests,
not counted; worker processes are started then). It prints requests, errors,
requests per second, p50 and p99 latency for each, and the edge/direct ratios.
Exit 0 with the numbers (timings never fail it); exit 1 when the system cannot
be brought up or a request answers anything but the expected status and page.

The parts: ``bench.local_system`` brings the private system up and stops it;
``bench.api_edge`` and ``bench.api_direct`` are the two sides;
``bench.api_load`` the load, the budget and the checks of the answers they
share; this module runs the rounds and prints the report.

Run from the project root after ``make setup``: ``.venv/bin/python -m bench.api``
(about 3 minutes, ``make up`` included).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from bench.api_direct import deployed_environment, deployed_functions, direct_get, direct_post, log_functions_to
from bench.api_edge import EdgeClient
from bench.api_load import PAGE, RESOURCE, Budget, Call, Measured, created_problem, load
from bench.footer import run_facts
from bench.local_system import BenchError, LocalSystem
from config.settings import AppConfig
from local.edge.deployment.awslambda import Function
from ops.api_key import api_key
from ops.seed import sample_students

SEEDED: Final = 150
#: Each measurement is split into this many rounds, edge and direct alternating.
ROUNDS: Final = 2
#: Usage plan limits high enough that the benchmark is never throttled.
LIMITS: Final = {
    "STUDENT_MGMT_API_RATE_LIMIT": "10000",
    "STUDENT_MGMT_API_BURST_LIMIT": "10000",
    "STUDENT_MGMT_API_DAILY_QUOTA": "1000000",
}


# --- the measurements ----------------------------------------------------------------------


def warm_up(call: Call, budget: Budget) -> None:
    """One request alone, then ``2 x concurrency`` together; none counted.

    The first is the cold start (clients created, settings read: boto3 must not
    create clients in two threads at once); the concurrent ones make the edge
    start a worker per request in flight. Their ids follow the measured ones.
    """
    first = budget.requests
    _, problem = call(first)
    together = load(lambda index: call(first + 1 + index), Budget(2 * budget.concurrency, 60, budget.concurrency))
    problem = problem or next(iter(together.errors), None)
    if problem:
        raise BenchError(f"warm-up: {problem}")


def measure(
    edge_call: Callable[[str], Call],
    direct_call: Callable[[str], Call],
    function: Function,
    *,
    config: AppConfig,
    edge: EdgeClient,
    budget: Budget,
) -> tuple[Measured, Measured]:
    """Edge, then direct with ``function``'s environment, alternating for ``ROUNDS`` rounds.

    ``edge_call(label)`` and ``direct_call(label)`` give a round's calls; the
    label (side and round) keeps the ids of each round's new students apart.
    """
    share = Budget(max(1, budget.requests // ROUNDS), budget.seconds / ROUNDS, budget.concurrency)
    edge_total, direct_total = Measured(), Measured()
    for round_ in range(ROUNDS):
        edge.sign_in()
        call = edge_call(f"E{round_}")
        warm_up(call, share)
        edge_total.add(load(call, share))
        edge.close()
        with deployed_environment(function, config):
            call = direct_call(f"D{round_}")
            warm_up(call, share)
            direct_total.add(load(call, share))
    return edge_total, direct_total


def seed(edge: EdgeClient, concurrency: int) -> float:
    """``SEEDED`` students through the edge; the seconds it took."""
    students = sample_students(SEEDED)

    def call(index: int) -> tuple[float, str | None]:
        seconds, status, body = edge.request("POST", body=students[index])
        return seconds, created_problem(status, body)

    seeded = load(call, Budget(SEEDED, 300, concurrency))
    if seeded.errors or len(seeded.latencies) != SEEDED:
        raise BenchError(f"seeding failed: {seeded.errors[:1] or 'it ran out of time'}")
    _, problem = edge.get_page(0)
    if problem:
        raise BenchError(f"after seeding: {problem}")
    return seeded.seconds


def report(results: dict[str, tuple[Measured, Measured]], budget: Budget) -> None:
    print(
        f"\neach: up to {budget.requests} requests or {budget.seconds:g} s, {budget.concurrency} concurrent,"
        f" in {ROUNDS} alternating rounds\n"
    )
    print(f"{'request':<24} {'side':<12} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, (edge, direct) in results.items():
        for side, measured in (("edge", edge), ("direct", direct)):
            print(
                f"{name:<24} {side:<12} {len(measured.latencies):>8} {len(measured.errors):>6}"
                f" {measured.rate:>8.1f} {measured.percentile_ms(0.5):>8.1f} {measured.percentile_ms(0.99):>8.1f}"
            )
        rate = edge.rate / direct.rate if direct.rate else math.nan
        p50 = edge.percentile_ms(0.5) / direct.percentile_ms(0.5)
        p99 = edge.percentile_ms(0.99) / direct.percentile_ms(0.99)
        print(f"{name:<24} {'edge/direct':<12} {'':>8} {'':>6} {rate:>7.2f}x {p50:>7.2f}x {p99:>7.2f}x")


def run(system: LocalSystem, budget: Budget) -> dict[str, tuple[Measured, Measured]]:
    print("bringing up a private local system (local/up.sh) ...", flush=True)
    print(f"  up in {system.up():.1f} s", flush=True)
    config = system.config
    functions = deployed_functions(config)
    log_functions_to(config.emulator_state_dir / "logs" / "direct-functions.log")
    edge = EdgeClient(config, api_key(config))
    print(f"seeding {SEEDED} students through the edge ...", flush=True)
    print(f"  seeded in {seed(edge, budget.concurrency):.1f} s", flush=True)
    results = {}
    print(f"measuring GET {RESOURCE}?limit={PAGE} ...", flush=True)
    results[f"GET ?limit={PAGE}"] = measure(
        lambda _: edge.get_page, lambda _: direct_get, functions["GET"], config=config, edge=edge, budget=budget
    )
    print(f"measuring POST {RESOURCE} (a new student each) ...", flush=True)
    results["POST (201)"] = measure(edge.post, direct_post, functions["POST"], config=config, edge=edge, budget=budget)
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per measurement at most (default 400)")
    parser.add_argument("--seconds", type=float, default=20, help="seconds per measurement at most (default 20)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    args = parser.parse_args(argv)
    if args.requests < ROUNDS or args.seconds <= 0 or args.concurrency < 1:
        parser.error(f"--requests must be at least {ROUNDS}, --seconds and --concurrency positive")
    budget = Budget(args.requests, args.seconds, args.concurrency)
    base = Path(tempfile.mkdtemp(prefix="bench-api-"))
    system = LocalSystem(base, limits=LIMITS)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    try:
        results = run(system, budget)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        system.stop()
        shutil.rmtree(base, ignore_errors=True)
    report(results, budget)
    print(run_facts(started, load_before))
    errors = [error for measured in results.values() for side in measured for error in side.errors]
    if errors:
        print(f"error: {len(errors)} request(s) did not answer as expected; the first: {errors[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
