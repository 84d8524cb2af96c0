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

Run from the project root after ``make setup``: ``.venv/bin/python -m bench.api``
(about 3 minutes, ``make up`` included).
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.footer import run_facts  # noqa: E402 - the project root is on sys.path by now
from config.settings import AppConfig, load_config  # noqa: E402
from lambdas.common import aws, log  # noqa: E402
from lambdas.get_students import handler as get_students  # noqa: E402
from lambdas.insert_student import handler as insert_student  # noqa: E402
from local.edge.awslambda.roles import RoleSessions  # noqa: E402
from local.edge.awslambda.worker import worker_environment  # noqa: E402
from local.edge.deployment.awslambda import Function  # noqa: E402
from local.edge.deployment.outputs import Outputs  # noqa: E402
from local.edge.deployment.reader import Deployment  # noqa: E402
from ops.api_key import api_key  # noqa: E402
from ops.local_system import OpsError  # noqa: E402
from ops.seed import sample_students  # noqa: E402
from ops.staff_token import staff_id_token  # noqa: E402
from tests.conftest import free_port, tool_env  # noqa: E402

PAGE: Final = 100
SEEDED: Final = 150
#: Each measurement is split into this many rounds, edge and direct alternating.
ROUNDS: Final = 2
#: Usage plan limits high enough that the benchmark is never throttled.
LIMITS: Final = {
    "STUDENT_MGMT_API_RATE_LIMIT": "10000",
    "STUDENT_MGMT_API_BURST_LIMIT": "10000",
    "STUDENT_MGMT_API_DAILY_QUOTA": "1000000",
}
RESOURCE: Final = "/students"
#: What every new student of the measurements is, but for the id and e-mail address.
STUDENT: Final = sample_students(2)[1]

#: One request: its latency in seconds and what was wrong with the answer (None: nothing).
Call = Callable[[int], tuple[float, str | None]]


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why."""


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


# --- the private local system ------------------------------------------------------


class LocalSystem:
    """``make up`` on free ports and a temporary state directory, with the benchmark's usage plan limits."""

    def __init__(self, base: Path) -> None:
        ports: set[int] = set()
        while len(ports) < 3:
            ports.add(free_port())
        emulator, site, api = sorted(ports)
        # The tests' tool environment: no real AWS credentials, the project's Terraform settings.
        self.env = tool_env(
            DEPLOY_TARGET="local",
            STUDENT_MGMT_EMULATOR_PORT=str(emulator),
            STUDENT_MGMT_EMULATOR_STATE_DIR=str(base / "emulator"),
            STUDENT_MGMT_SITE_PORT=str(site),
            STUDENT_MGMT_API_PORT=str(api),
            **LIMITS,
        )
        self.config: AppConfig = load_config(self.env)

    def up(self) -> float:
        """Seconds ``local/up.sh`` took; ``BenchError`` with its output when it fails."""
        started = time.monotonic()
        result = subprocess.run(
            [str(ROOT / "local" / "up.sh")], cwd=ROOT, env=self.env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise BenchError(f"local/up.sh failed:\n{(result.stdout + result.stderr)[-4000:]}")
        return time.monotonic() - started

    def stop(self) -> None:
        for script in ("edge.sh", "emulator.sh"):
            subprocess.run([str(ROOT / "local" / script), "stop"], env=self.env, capture_output=True, check=False)

    def functions(self) -> dict[str, Function]:
        """The deployed function behind each method of ``RESOURCE``, read from the emulator as the edge reads it."""
        deployment = Deployment(self.config)
        api = deployment.rest_api(Outputs.read(deployment.outputs_path).api_id, self.config.api_stage_name)
        resource = api.resource_for(RESOURCE)
        found = {}
        for method in ("GET", "POST"):
            integration = resource.methods[method].integration if resource and method in resource.methods else None
            arn = integration.function_arn if integration else None
            if arn is None:
                raise BenchError(f"{method} {RESOURCE} has no Lambda integration in the deployed API")
            found[method] = deployment.function(arn)
        return found


# --- edge: HTTP over loopback ------------------------------------------------------------


class EdgeClient:
    """Requests to the edge with the key and a staff ID token, one keep-alive connection per thread."""

    def __init__(self, config: AppConfig, key: str) -> None:
        self._config = config
        self._port = config.api_port
        self._path = f"/{config.api_stage_name}{RESOURCE}"
        self._key = key
        self._token = ""
        self.sign_in()

    def sign_in(self) -> None:
        """A fresh ID token of the local staff member (they last ``staff_token_validity_minutes``)."""
        try:
            self._token = staff_id_token(self._config)
        except OpsError as error:
            raise BenchError(f"signing in as the local staff member: {error}") from None
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def request(self, method: str, query: str = "", body: object = None) -> tuple[float, int, bytes]:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=60)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        headers = {"x-api-key": self._key, "Authorization": self._token}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        connection.request(method, self._path + query, body=data, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        return time.perf_counter() - started, response.status, answer

    def get_page(self, _: int) -> tuple[float, str | None]:
        seconds, status, body = self.request("GET", f"?limit={PAGE}")
        return seconds, page_problem(status, body)

    def post(self, label: str) -> Call:
        def call(index: int) -> tuple[float, str | None]:
            seconds, status, body = self.request("POST", body=new_student(label, index))
            return seconds, created_problem(status, body)

        return call

    def close(self) -> None:
        for connection in self._connections:
            connection.close()
        self._connections.clear()
        self._local = threading.local()


# --- direct: the handlers in this process ------------------------------------------------


def proxy_event(method: str, *, query: Mapping[str, str] | None = None, body: object = None) -> dict[str, Any]:
    """A REST API (v1) Lambda proxy event, shaped as the edge builds it."""
    request_id = str(uuid.uuid4())
    headers = {"Host": "127.0.0.1", "User-Agent": "bench", "x-api-key": "direct"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return {
        "resource": RESOURCE,
        "path": RESOURCE,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": RESOURCE,
            "httpMethod": method,
            "requestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "bench"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def invoke(handler: Callable[[dict[str, Any], object], Any], event: dict[str, Any]) -> tuple[float, int, str]:
    context = types.SimpleNamespace(aws_request_id=event["requestContext"]["requestId"])
    started = time.perf_counter()
    response = handler(event, context)
    return time.perf_counter() - started, int(response["statusCode"]), str(response["body"])


def direct_get(_: int) -> tuple[float, str | None]:
    seconds, status, body = invoke(get_students.lambda_handler, proxy_event("GET", query={"limit": str(PAGE)}))
    return seconds, page_problem(status, body)


def direct_post(label: str) -> Call:
    def call(index: int) -> tuple[float, str | None]:
        event = proxy_event("POST", body=new_student(label, index))
        seconds, status, body = invoke(insert_student.lambda_handler, event)
        return seconds, created_problem(status, body)

    return call


@contextmanager
def deployed_environment(function: Function, config: AppConfig) -> Iterator[None]:
    """This process's environment as the function's workers get it, and its cached clients and settings dropped.

    Every other ``AWS_*`` variable is removed meanwhile: an inherited CA bundle,
    profile or endpoint would send the calls elsewhere. ``PATH`` is kept: the
    runtime's means nothing to an in-process call. The credentials are the
    execution role's, as the workers' are, so the emulator evaluates the same
    policies for both sides.
    """
    saved = dict(os.environ)
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        del os.environ[name]
    credentials = RoleSessions.of(config).assume(function)
    environment = worker_environment(function, config, ROOT, credentials)
    os.environ.update({k: v for k, v in environment.items() if k != "PATH"})
    os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    forget_function_state()
    try:
        yield
    finally:
        forget_function_state()
        os.environ.clear()
        os.environ.update(saved)


def forget_function_state() -> None:
    """Drop cached clients and settings, as a fresh execution environment has none."""
    aws.reset()
    get_students.settings.cache_clear()
    insert_student.settings.cache_clear()


def log_functions_to(path: Path) -> None:
    """The handlers' JSON log lines into a file instead of this benchmark's output."""
    logger = logging.getLogger(log.ROOT_LOGGER)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(log.JsonFormatter())
    logger.handlers[:] = [handler]


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
    functions = system.functions()
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
    system = LocalSystem(base)
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
