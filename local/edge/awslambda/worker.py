"""One Lambda execution environment: a ``runtime.py`` process of one configuration of a function.

It runs in the function's extracted zip (``code.py``) with exactly the
function's deployed environment plus the variables AWS documents that the
Lambda runtime sets (``RUNTIME_VARIABLES``) and what reaches the emulator (its
endpoint and CA bundle). Nothing else of the edge's environment or working
tree reaches it. Its credentials are its execution role's, as Lambda gives
them (``roles.py``). It serves one invocation at a time.

The function's own ``Timeout`` is enforced here: a worker that has not
answered in time is killed and the invocation fails as Lambda's would
(``Sandbox.Timedout``).

So is its ``MemorySize``: a worker whose resident memory (the whole process,
as Lambda counts the whole execution environment) goes past it is killed and
the invocation fails with ``Runtime.OutOfMemory``, which the gateway answers
502. The resident set is watched while the function runs and its peak
(``VmHWM``) is checked when it answers, so a short spike between two looks is
caught too.

The interpreter is ``.venv-runtime``'s (``RUNTIME_PYTHON``): Python 3.13, the
deployed runtime, with the SDK the Lambda runtime bundles; the worker's first
log line names both. Each invocation's ``REPORT`` line gives, besides Lambda's
figures, the CPU time the worker used and the duration it would take in AWS
at the function's memory: Lambda gives a function ``memory / 1,769 MB`` of
one vCPU, so its CPU time is scaled by ``1,769 / memory`` (at least 1), and
the rest of the wall time, spent waiting, is kept as it is.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, cast

from config.settings import PROJECT_ROOT, AppConfig
from local.edge.awslambda.code import CodeError
from local.edge.awslambda.roles import RoleCredentials
from local.edge.deployment.awslambda import Function

if TYPE_CHECKING:
    from local.edge.awslambda.telemetry import Telemetry

RUNTIME: Final = Path(__file__).with_name("runtime.py")
#: The workers' interpreter: the deployed runtime's Python and SDK (``make setup``: requirements-runtime.lock).
RUNTIME_PYTHON: Final = PROJECT_ROOT / ".venv-runtime" / "bin" / "python"
#: Lambda gives a function one full vCPU at this memory size, and a share in proportion below it.
FULL_VCPU_MB: Final = 1769
#: How often a busy worker's resident memory is looked at (its peak is checked at the end as well).
MEMORY_POLL_S: Final = 0.02
#: The variables AWS documents that the Lambda runtime sets ("Defined runtime environment variables"), less
#: ``AWS_LAMBDA_RUNTIME_API`` (no runtime API here: a pipe) and ``_X_AMZN_TRACE_ID`` (set only when traced).
#: Not among them: ``AWS_LAMBDA_FUNCTION_TIMEOUT``; a function learns its time from the context's clock.
RUNTIME_VARIABLES: Final = frozenset(
    {
        "_HANDLER",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "TZ",
        "LANG",
        "PATH",
        "LD_LIBRARY_PATH",
        "PYTHONPATH",
    }
)
#: What points a worker at the local world instead of AWS's endpoints.
EMULATOR_VARIABLES: Final = frozenset({"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_CA_BUNDLE"})
#: What Lambda's runtime puts on PATH (there it also holds /var/lang/bin and /opt/bin).
RUNTIME_PATH: Final = "/usr/local/bin:/usr/bin:/bin"
#: Writes one line of a function's log: (function name, line).
LogLine = Callable[[str, str], None]


@dataclass(frozen=True)
class Invocation:
    """What Lambda answers: the result as the runtime encoded it (``payload``), or the error."""

    payload: str | None = None
    error: Mapping[str, str] | None = None

    @property
    def result(self) -> Any:
        """The payload read as strict JSON, as API Gateway reads it; ValueError when it is not (e.g. ``NaN``)."""
        if self.payload is None:
            return None
        return json.loads(self.payload, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def runtime_python() -> str:
    """The workers' interpreter, ``.venv-runtime``'s; a ``CodeError`` that says what to do when it is missing."""
    if not RUNTIME_PYTHON.exists():
        raise CodeError(f"the functions' runtime environment is missing ({RUNTIME_PYTHON}): run `make setup`")
    return str(RUNTIME_PYTHON)


@dataclass(frozen=True)
class Usage:
    """What one invocation used, as Lambda's ``REPORT`` line gives it, and its projection to AWS."""

    duration_s: float
    cpu_s: float
    max_memory_mb: int
    memory_mb: int

    @property
    def projected_aws_s(self) -> float:
        """The duration at the function's memory in AWS: CPU time scaled to its vCPU share, plus the waiting."""
        return self.cpu_s * max(1.0, FULL_VCPU_MB / self.memory_mb) + max(0.0, self.duration_s - self.cpu_s)

    def report(self, request_id: str) -> str:
        billed = math.ceil(self.duration_s * 1000)
        return (
            f"REPORT RequestId: {request_id}\tDuration: {self.duration_s * 1000:.2f} ms\tBilled Duration: {billed} ms"
            f"\tMemory Size: {self.memory_mb} MB\tMax Memory Used: {self.max_memory_mb} MB"
            f"\tCPU Time: {self.cpu_s * 1000:.0f} ms\tProjected AWS Duration: {self.projected_aws_s * 1000:.0f} ms"
        )


def _proc_status_kb(pid: int, field: str) -> int:
    """A ``kB`` figure of ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``); 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of the process so far; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class WorkerKey:
    """Everything that makes two execution environments of a function different."""

    name: str
    code_sha256: str
    environment: tuple[tuple[str, str], ...]
    handler: str
    timeout_seconds: int
    memory_mb: int

    @classmethod
    def of(cls, function: Function) -> WorkerKey:
        return cls(
            function.name,
            function.code_sha256,
            function.environment,
            function.handler,
            function.timeout_seconds,
            function.memory_mb,
        )


def worker_environment(
    function: Function, config: AppConfig, task_root: Path, credentials: RoleCredentials
) -> dict[str, str]:
    """The deployed variables, then what Lambda's runtime sets (it reserves those names), then the emulator.

    Exactly ``RUNTIME_VARIABLES``, ``EMULATOR_VARIABLES`` and the function's configured environment: the
    test of this module compares them.
    """
    return {
        **dict(function.environment),
        "_HANDLER": function.handler,
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{os.urandom(16).hex()}",
        **credentials.environment(),
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(RUNTIME.parent),
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": RUNTIME_PATH,
        "LD_LIBRARY_PATH": f"{task_root}:{task_root}/lib",
        # Lambda's is its runtime directory; -I keeps it off sys.path here, where runtime.py sets the path.
        "PYTHONPATH": str(RUNTIME.parent),
        "AWS_ENDPOINT_URL": config.emulator_endpoint,
        # Lambda itself is the edge (service.py): moto cannot run functions.
        "AWS_ENDPOINT_URL_LAMBDA": f"http://127.0.0.1:{config.api_port}",
        "AWS_CA_BUNDLE": str(config.emulator_ca_bundle),
    }


class Worker:
    """One execution environment: a ``runtime.py`` process, its log copied line by line."""

    def __init__(
        self,
        key: WorkerKey,
        function: Function,
        code: Path,
        config: AppConfig,
        *,
        log: LogLine,
        credentials: RoleCredentials,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.key = key
        self.arn = function.arn
        self.function = function
        self.credentials = credentials
        self._telemetry = telemetry
        environment = worker_environment(function, config, code, credentials)
        self._stream = environment["AWS_LAMBDA_LOG_STREAM_NAME"]
        self._log = log
        self._answers, answers_end = os.pipe()
        try:
            self._process = subprocess.Popen(
                [runtime_python(), "-I", "-u", str(RUNTIME), str(answers_end)],
                cwd=code,
                env=environment,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(answers_end,),
                # Its own process group: stopping it stops anything the function started.
                start_new_session=True,
            )
        finally:
            os.close(answers_end)
        self._buffer = b""
        self._peak_kb = 0
        self._cpu_at_end = 0.0
        self._calling = threading.Lock()
        stdout = cast(IO[bytes], self._process.stdout)  # set: stdout=PIPE
        threading.Thread(target=self._copy_log, args=(stdout,), name=f"log-{key.name}", daemon=True).start()

    def _copy_log(self, stream: IO[bytes]) -> None:
        for line in stream:
            self.line(line.decode("utf-8", "replace").rstrip("\n"))

    def line(self, text: str) -> None:
        """One line of this environment's log: to the edge's log and, as Lambda sends it, to CloudWatch Logs."""
        self._log(self.key.name, text)
        if self._telemetry is not None:
            self._telemetry.line(self.function, self._stream, self.credentials, text)

    def call(self, request: Mapping[str, Any], timeout_seconds: float) -> tuple[Invocation, Usage]:
        """Send one invocation and wait for its answer; killed (and the error returned) when it runs too long
        or uses more memory than its function has."""
        with self._calling:
            started, cpu_before = time.monotonic(), _cpu_seconds(self._process.pid)
            try:
                invocation = self._call(request, timeout_seconds)
                peak_kb = _proc_status_kb(self._process.pid, "VmHWM")
                if invocation.error is None and peak_kb > self.key.memory_mb * 1024:
                    invocation = self._out_of_memory(request, peak_kb)
                cpu_s = max(0.0, _cpu_seconds(self._process.pid) - cpu_before) if self.alive else self._cpu_at_end
                usage = Usage(
                    duration_s=time.monotonic() - started,
                    cpu_s=cpu_s,
                    max_memory_mb=min(max(peak_kb, self._peak_kb) // 1024, self.key.memory_mb),
                    memory_mb=self.key.memory_mb,
                )
                return invocation, usage
            finally:
                if not self.alive:
                    self._close_answers()

    def _call(self, request: Mapping[str, Any], timeout_seconds: float) -> Invocation:
        stdin = cast(IO[bytes], self._process.stdin)  # set: stdin=PIPE
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
            stdin.flush()
        except OSError:
            return self._exited()
        deadline = time.monotonic() + timeout_seconds
        limit_kb = self.key.memory_mb * 1024
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                message = f"{stamp} {request['requestId']} Task timed out after {timeout_seconds:.2f} seconds"
                return Invocation(error={"errorType": "Sandbox.Timedout", "errorMessage": message})
            if not select.select([self._answers], [], [], min(remaining, MEMORY_POLL_S))[0]:
                resident_kb = _proc_status_kb(self._process.pid, "VmRSS")
                if resident_kb > limit_kb:
                    return self._out_of_memory(request, _proc_status_kb(self._process.pid, "VmHWM"))
                continue
            chunk = os.read(self._answers, 1 << 16)
            if not chunk:
                return self._exited()
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        answer = json.loads(line)
        return Invocation(payload=answer.get("payload"), error=answer.get("error"))

    def _out_of_memory(self, request: Mapping[str, Any], peak_kb: int) -> Invocation:
        """Lambda ends an execution environment that goes past its memory: kill the worker, say why."""
        self._peak_kb = peak_kb
        self._cpu_at_end = _cpu_seconds(self._process.pid)
        self.stop()
        self._log(
            self.key.name,
            f"{request['requestId']} Runtime.OutOfMemory: the function ran out of memory: it used"
            f" {peak_kb // 1024} MB of its {self.key.memory_mb} MB (Lambda ends it: signal: killed)",
        )
        message = f"RequestId: {request['requestId']} Error: Runtime exited with error: signal: killed"
        return Invocation(error={"errorType": "Runtime.OutOfMemory", "errorMessage": message})

    def _exited(self) -> Invocation:
        self.stop()
        code = self._process.returncode
        return Invocation(error={"errorType": "Runtime.ExitError", "errorMessage": f"Runtime exited with code {code}"})

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> None:
        """Kill the process (and whatever it started); safe from any thread, and more than once."""
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        # A call in progress reads the answer pipe until it sees the end: it closes the pipe itself.
        if self._calling.acquire(blocking=False):
            try:
                self._close_answers()
            finally:
                self._calling.release()

    def _close_answers(self) -> None:
        if self._answers >= 0:
            os.close(self._answers)
            self._answers = -1
