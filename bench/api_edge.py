"""The edge side of ``bench.api``: requests over loopback HTTP to the local edge.

What a client of the deployed API does: the API key and a staff member's ID
token on every request, one keep-alive connection per client thread. Separate
from the direct side (``bench.api_direct``), which calls the same handlers in
the benchmark's own process: the two are the halves of every comparison.
"""

from __future__ import annotations

import http.client
import json
import threading
import time

from bench.api_load import PAGE, RESOURCE, Call, created_problem, new_student, page_problem
from bench.local_system import BenchError
from config.settings import AppConfig
from ops.local_system import OpsError
from ops.staff_token import staff_id_token


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
