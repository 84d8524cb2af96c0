"""Lambda's part: each deployed function runs its deployed zip in worker processes of its own.

A worker is one Lambda execution environment (``worker.py``): a ``runtime.py``
process started on first use, from the zip the emulator holds (``code.py``),
with the function's deployed environment and its execution role's temporary
credentials (``roles.py``); a worker is replaced before they expire. Like an
execution environment it serves one invocation at a time and is kept for the
next; concurrent invocations start more workers.

A worker belongs to one configuration: function name, ``CodeSha256``,
environment, handler, timeout and memory size. When any of them changes in the
emulator, the next invocation starts a worker of the new configuration and
the old workers are stopped (a busy one as soon as it answers). A worker
killed for its ``Timeout`` or its ``MemorySize`` is not kept: the next
invocation starts a fresh one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from config.settings import AppConfig
from local.edge.awslambda.code import CodeError, CodeStore
from local.edge.awslambda.roles import RoleCredentials, RoleSessions
from local.edge.awslambda.worker import Invocation, LogLine, Worker, WorkerKey
from local.edge.deployment.awslambda import Function

if TYPE_CHECKING:
    from local.edge.awslambda.telemetry import Telemetry


class Functions:
    """Invokes deployed functions; keeps idle workers per configuration, stops outdated ones."""

    def __init__(
        self,
        config: AppConfig,
        log: LogLine,
        credentials: Callable[[Function], RoleCredentials] | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._config = config
        self._log = log
        self._credentials = credentials or RoleSessions.of(config).assume
        self._telemetry = telemetry
        self._code = CodeStore(config)
        self._lock = threading.Lock()
        self._idle: dict[WorkerKey, list[Worker]] = {}
        self._current: dict[str, WorkerKey] = {}
        self._busy: set[Worker] = set()
        self._stopped = False

    def credentials(self, function: Function) -> RoleCredentials:
        """The function's execution role's credentials, as Lambda uses them for its own sends (a dead letter)."""
        return self._credentials(function)

    def invoke(self, function: Function, event: Mapping[str, Any], request_id: str) -> Future[Invocation]:
        """Start an invocation; the future holds Lambda's answer once the function answers or times out."""
        answer: Future[Invocation] = Future()
        answer.set_running_or_notify_cancel()
        threading.Thread(
            target=self._run, args=(function, event, request_id, answer), name=f"invoke-{function.name}", daemon=True
        ).start()
        return answer

    def _run(self, function: Function, event: Mapping[str, Any], request_id: str, answer: Future[Invocation]) -> None:
        try:
            worker = self._acquire(function)
        except (CodeError, OSError) as error:
            self._log(function.name, f"cannot start the function: {error}")
            answer.set_result(Invocation(error={"errorType": "ServiceException", "errorMessage": str(error)}))
            return
        worker.line(f"START RequestId: {request_id} Version: $LATEST")
        request = {"requestId": request_id, "functionArn": function.arn, "event": event}
        started = time.time()
        try:
            timeout = function.timeout_seconds
            result, usage = worker.call({**request, "timeoutMs": timeout * 1000}, timeout)
        finally:
            self._release(worker)
        worker.line(f"END RequestId: {request_id}")
        worker.line(usage.report(request_id))
        if self._telemetry is not None:
            failed = result.error is not None
            self._telemetry.invocation(function, worker.credentials, started=started, ended=time.time(), failed=failed)
        answer.set_result(result)

    def _acquire(self, function: Function) -> Worker:
        key = WorkerKey.of(function)
        with self._lock:
            if self._stopped:
                raise CodeError("the edge is stopping")
            outdated = self._current.get(function.name)
            if outdated is not None and outdated != key:
                for worker in self._idle.pop(outdated, []):
                    worker.stop()
                self._log(function.name, "configuration changed in the emulator: new workers from now on")
            self._current[function.name] = key
            idle = self._idle.setdefault(key, [])
            while idle:
                worker = idle.pop()
                if worker.alive and worker.credentials.fresh():
                    self._busy.add(worker)
                    return worker
                worker.stop()  # its credentials are about to expire: a new environment gets new ones
        credentials = self._credentials(function)
        worker = Worker(
            key,
            function,
            self._code.directory(function),
            self._config,
            log=self._log,
            credentials=credentials,
            telemetry=self._telemetry,
        )
        with self._lock:
            self._busy.add(worker)
        return worker

    def _release(self, worker: Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            if worker.alive and not self._stopped and self._current.get(worker.key.name) == worker.key:
                self._idle.setdefault(worker.key, []).append(worker)
                return
        worker.stop()

    def stop(self) -> None:
        """Stop every worker and remove the extracted code."""
        with self._lock:
            self._stopped = True
            workers = [w for idle in self._idle.values() for w in idle] + list(self._busy)
            self._idle.clear()
        for worker in workers:
            worker.stop()
        self._code.remove()
