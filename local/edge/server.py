"""The edge's two servers (site and API, loopback only) and its log.

Each is werkzeug's threaded WSGI server: werkzeug parses HTTP, the edge only
answers. The site port also answers the page's sign-in calls (``POST /_cognito/``,
``site.CognitoProxy``); their bodies hold passwords and tokens, and like every
body they are never logged. The log file gets one line per request (time, server, method, path,
status, the function that ran or ``-``, duration), the functions' own log
lines prefixed with their names, and the edge's notes. Never a body, a query
string or a header value: the API key travels in a header.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final

from werkzeug.datastructures import Headers
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from config.settings import AppConfig
from local.edge.apigateway.gateway import Gateway
from local.edge.apigateway.request import ApiRequest
from local.edge.apigateway.usage import Meter
from local.edge.awslambda.functions import Functions
from local.edge.awslambda.service import LambdaService
from local.edge.awslambda.telemetry import Telemetry
from local.edge.cloudfront.site import Site
from local.edge.deployment.errors import DeploymentError, NotDeployed
from local.edge.deployment.reader import Deployment

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

HEALTH_PATH: Final = "/_edge/health"
HEALTH_NAME: Final = "student-management"
#: ``POST /_edge/schedules/<schedule name>`` on the API port: fire a deployed schedule, as EventBridge Scheduler does.
SCHEDULES_PATH: Final = "/_edge/schedules/"
#: ``GET /_edge/invocations/<request id>``: what became of an asynchronous invocation.
INVOCATIONS_PATH: Final = "/_edge/invocations/"


class EdgeLog:
    """The edge's log file: whole lines, from any thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] = path.open("a", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()

    def _write(self, text: str) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        with self._lock:
            self._file.write(f"{stamp} {text}\n")

    def request(self, server: str, request: Request, status: int, function: str | None, started: float) -> None:
        elapsed = (time.monotonic() - started) * 1000
        self._write(f"{server} {request.method} {request.path} {status} {function or '-'} {elapsed:.0f}ms")

    def function_line(self, name: str, line: str) -> None:
        self._write(f"[{name}] {line}")

    def note(self, text: str) -> None:
        self._write(f"edge: {text}")

    def close(self) -> None:
        with self._lock:
            self._file.close()


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without its access log: that one prints query strings; the edge logs its own lines."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class Edge:
    """The site and the API, built on one reading of the deployment, one meter and one set of workers."""

    def __init__(self, config: AppConfig, log: EdgeLog, function_log: EdgeLog | None = None) -> None:
        self.config = config
        self.log = log
        self.deployment = Deployment(config)
        self.telemetry = Telemetry(config, log.note)
        self.functions = Functions(config, (function_log or log).function_line, telemetry=self.telemetry)
        self.gateway = Gateway(self.deployment, self.functions, Meter(), log.note)
        self.site = Site(self.deployment, self.gateway, log.note)
        self.lambda_service = LambdaService(self.deployment, self.functions, log.note)
        self._servers: list[BaseWSGIServer] = []
        self._serving = False

    def bind(self) -> None:
        """Both servers on 127.0.0.1; OSError names the port that could not be bound."""
        for port, app in ((self.config.site_port, self.site_app), (self.config.api_port, self.api_app)):
            # Bound here rather than by werkzeug, which answers a taken port by exiting the process.
            try:
                listening = socket.create_server(("127.0.0.1", port))
            except OSError as error:
                self.close()
                reason = os.strerror(error.errno) if error.errno else str(error)
                raise OSError(error.errno, f"cannot listen on 127.0.0.1:{port}: {reason}") from None
            with listening:
                self._servers.append(
                    make_server(
                        "127.0.0.1", port, app, threaded=True, request_handler=_QuietHandler, fd=listening.fileno()
                    )
                )

    def serve(self) -> None:
        """Both servers answer from now on, each in a thread of its own."""
        self._serving = True
        for server in self._servers:
            threading.Thread(target=server.serve_forever, name=f"serve-{server.port}", daemon=True).start()

    def close(self) -> None:
        for server in self._servers:
            if self._serving:  # shutdown() waits for serve_forever, which never ran otherwise
                server.shutdown()
            server.server_close()
        self._servers.clear()
        self.functions.stop()
        self.telemetry.close()

    # -- the two applications ----------------------------------------------------------

    def site_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        started = time.monotonic()
        function = None
        try:
            answer = self.site.handle(request)
            response, function = answer.response, answer.function
        except Exception as error:  # one broken request must not stop the server
            self._failed("site", request, error)
            response = Response("The request could not be satisfied.", status=502, content_type="text/plain")
        self.log.request("site", request, response.status_code, function, started)
        return response(environ, start_response)

    def api_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        started = time.monotonic()
        if request.path == HEALTH_PATH and request.method == "GET":
            health = json.dumps({"edge": HEALTH_NAME, "pid": os.getpid()})
            return Response(health, content_type="application/json")(environ, start_response)
        if request.path.startswith(SCHEDULES_PATH) and request.method == "POST":
            return self._fire(request, started)(environ, start_response)
        if request.path.startswith(INVOCATIONS_PATH) and request.method == "GET":
            return self._invocation(request, started)(environ, start_response)
        function = None
        if self.lambda_service.handles(request):
            try:
                response, function = self.lambda_service.handle(request)
            except Exception as error:  # one broken request must not stop the server
                self._failed("lambda", request, error)
                response = Response(json.dumps({"message": "ServiceException"}), 500, content_type="application/json")
            self.log.request("lambda", request, response.status_code, function, started)
            return response(environ, start_response)
        try:
            answer = self.gateway.handle(
                ApiRequest(
                    api_id=self.deployment.outputs().api_id,
                    method=request.method,
                    path=request.path,
                    query=tuple(request.args.items(multi=True)),
                    headers=Headers(request.headers.items()),
                    body=request.get_data(),
                    source_ip=request.remote_addr or "127.0.0.1",
                    host=request.host,
                )
            )
            response, function = answer.response, answer.function
        except Exception as error:  # one broken request must not stop the server
            self._failed("api", request, error)
            body = json.dumps({"message": "Internal server error"})
            response = Response(body, status=500, content_type="application/json")
        self.log.request("api", request, response.status_code, function, started)
        return response(environ, start_response)

    def _fire(self, request: Request, started: float) -> Response:
        """The scheduler's part (``make backup-now``): fire the deployed schedule now, as at its time.

        What EventBridge Scheduler does: it invokes the schedule's target,
        asynchronously, with the schedule's input and as the schedule's role
        (``LambdaService.deliver``); Lambda retries a failed run twice and then
        sends the event to the function's dead-letter queue. 202 with the
        request ID; ``GET /_edge/invocations/<id>`` follows it.
        """
        name = request.path.removeprefix(SCHEDULES_PATH)
        try:
            schedule = self.deployment.schedule(name, request.args.get("group", "default"))
            request_id = self.lambda_service.deliver(schedule)
        except ValueError:
            response = _json_response({"message": f"the input of schedule {name} is not JSON"}, 400)
        except (DeploymentError, NotDeployed) as error:
            response = _json_response({"message": str(error)}, 404)
        else:
            target = schedule.target_arn.rsplit(":", 1)[-1]
            response = _json_response({"requestId": request_id, "function": target, "schedule": name}, 202)
        self.log.request("api", request, response.status_code, name, started)
        return response

    def _invocation(self, request: Request, started: float) -> Response:
        """What became of an asynchronous invocation: running, succeeded or failed, with its attempts."""
        outcome = self.lambda_service.status(request.path.removeprefix(INVOCATIONS_PATH))
        response = _json_response(outcome, 200) if outcome else _json_response({"message": "no such invocation"}, 404)
        self.log.request("api", request, response.status_code, None, started)
        return response

    def _failed(self, server: str, request: Request, error: Exception) -> None:
        if isinstance(error, DeploymentError):
            self.log.note(f"{server} {request.method} {request.path}: {error}")
        else:
            trace = "".join(traceback.format_exception(error)).rstrip()
            self.log.note(f"{server} {request.method} {request.path} failed (the emulator may be down):\n{trace}")


def _json_response(body: object, status: int) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, content_type="application/json")


def serve_until(edge: Edge, stopped: Callable[[float], bool]) -> None:
    """Serve until ``stopped`` (an ``Event.wait``) says so, then close everything."""
    try:
        while not stopped(1.0):
            pass
    finally:
        edge.close()
