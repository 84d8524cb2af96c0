"""The website as it is published, and its API on the same origin, for the browser tests.

``PageServer`` serves the objects ``modules.site_assets.build_site`` writes, each
with its content type and cache policy and every header of
``modules.site_headers.SECURITY_HEADERS``, as the website's CDN does; ``/`` is
``index.html``. A request to an API route becomes the API Gateway REST proxy
event the real function receives, and the function's ``lambda_handler`` answers
it in-process, against whatever emulated account the test has set up (moto):
the page meets the functions' real validation, errors and paging, not canned
answers. Routes and handlers come from the function table
(``modules/functions.py``), as the deployed API's do.

The server runs in a thread on 127.0.0.1 with a port the system picks, so test
workers never compete for one.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import importlib
import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from modules.functions import FUNCTIONS
from modules.site_assets import INDEX, SiteObject
from modules.site_headers import SECURITY_HEADERS

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

STAGE: Final = "prod"
#: What the throttled server answers: the gateway's usage-plan refusal.
THROTTLED_BODY: Final = {"message": "Too Many Requests"}
RETRY_AFTER_SECONDS: Final = 2


def function_handlers() -> dict[tuple[str, str], ModuleType]:
    """``(path, method)`` → the handler module of the function the API routes it to."""
    return {
        (route.path, route.method): importlib.import_module(f"lambdas.{spec.package}.handler")
        for spec in FUNCTIONS
        for route in spec.routes
    }


@dataclass(frozen=True)
class ApiCall:
    """One request the page made to the API, as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    content_type: str | None
    body: str


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of the Lambda runtime's context object the functions read."""

    aws_request_id: str
    function_name: str
    #: Where the function's own asynchronous invocations go (the backup's POST /backup).
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:page-server"


def proxy_event(request: Request, *, resource: str) -> dict[str, Any]:
    """The REST API (v1) Lambda proxy event API Gateway sends for ``request`` on the ``prod`` stage."""
    raw = request.get_data(cache=True)
    try:
        body: str | None = raw.decode("utf-8")
        encoded = False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(raw).decode("ascii"), True
    headers = {name: value for name, value in request.headers.items()}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        multi_headers.setdefault(name, []).append(value)
    # API Gateway keeps the last value of a repeated parameter in the single-value map.
    query = {name: values[-1] for name, values in request.args.lists()}
    multi_query = dict(request.args.lists())
    return {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": request.method,
            "path": f"/{STAGE}{request.path}",
            "stage": STAGE,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": request.remote_addr, "userAgent": request.user_agent.string},
        },
        "body": body or None,
        "isBase64Encoded": encoded,
    }


def proxy_response(answer: Mapping[str, Any]) -> Response:
    """The HTTP response API Gateway makes of a function's proxy response, status, headers and body unchanged."""
    body = answer.get("body") or ""
    try:
        data = base64.b64decode(body, validate=True) if answer.get("isBase64Encoded") else body.encode("utf-8")
    except binascii.Error:
        return Response("bad proxy response", status=502)
    response = Response(data, status=int(answer["statusCode"]))
    response.headers.clear()
    for name, value in (answer.get("headers") or {}).items():
        response.headers[name] = value
    for name, values in (answer.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(name, value)
    return response


@dataclass
class PageServer:
    """The website's objects and the API's routes on one origin, with switches for the tests."""

    objects: Sequence[SiteObject]
    #: API requests received, in order.
    calls: list[ApiCall] = field(default_factory=list)
    #: When true, every API request gets the gateway's 429 instead of reaching a function.
    throttled: bool = False
    origin: str = ""
    _files: dict[str, tuple[SiteObject, bytes]] = field(default_factory=dict)
    _handlers: dict[tuple[str, str], ModuleType] = field(default_factory=function_handlers)
    _held: dict[str, threading.Event] = field(default_factory=dict)
    #: Lambda's asynchronous invocations (``tests.lambdas.scenarios.AsyncInvocations``), when the
    #: test's account accepts them: what a function queues is delivered right after it answers.
    lambda_service: Any = None
    # Lambda gives a container one request at a time; the functions' cached clients rely on it.
    _invoke_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._files = {f"/{obj.key}": (obj, obj.source.read_bytes()) for obj in self.objects}
        self._files["/"] = self._files[f"/{INDEX}"]

    @classmethod
    @contextlib.contextmanager
    def running(cls, objects: Sequence[SiteObject]) -> Iterator[PageServer]:
        server = cls(objects)
        httpd: BaseWSGIServer = make_server("127.0.0.1", 0, server.wsgi, threaded=True)
        server.origin = f"http://127.0.0.1:{httpd.server_port}"
        thread = threading.Thread(target=httpd.serve_forever, name="page-server", daemon=True)
        thread.start()
        try:
            yield server
        finally:
            server.release_all()
            httpd.shutdown()
            thread.join(timeout=10)
            httpd.server_close()

    def reset(self) -> None:
        """Forget the calls and switches of the previous test."""
        self.calls.clear()
        self.throttled = False
        self.lambda_service = None
        self.release_all()

    @contextlib.contextmanager
    def holding(self, path: str) -> Iterator[threading.Event]:
        """Hold requests to ``path`` until the yielded event is set (or the block ends)."""
        gate = self._held[path] = threading.Event()
        try:
            yield gate
        finally:
            gate.set()
            self._held.pop(path, None)

    def release_all(self) -> None:
        for gate in self._held.values():
            gate.set()
        self._held.clear()

    def api_calls(self, method: str | None = None) -> list[ApiCall]:
        return [call for call in self.calls if method is None or call.method == method]

    def wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        is_api = any(path == request.path for path, _ in self._handlers)
        response = self._api(request) if is_api else self._static(request)
        return response(environ, start_response)

    def _static(self, request: Request) -> Response:
        found = self._files.get(request.path)
        if found is None:
            return self._with_security_headers(Response("not found\n", status=404, mimetype="text/plain"))
        if request.method not in ("GET", "HEAD"):
            return self._with_security_headers(Response("method not allowed\n", status=405, mimetype="text/plain"))
        obj, content = found
        response = Response(content, status=200)
        response.headers["Content-Type"] = obj.content_type
        response.headers["Cache-Control"] = obj.cache_control
        return self._with_security_headers(response)

    @staticmethod
    def _with_security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        return response

    def _api(self, request: Request) -> Response:
        self.calls.append(
            ApiCall(
                method=request.method,
                path=request.path,
                query={name: values[-1] for name, values in request.args.lists()},
                content_type=request.headers.get("Content-Type"),
                body=request.get_data(cache=True).decode("utf-8", errors="replace"),
            )
        )
        gate = self._held.get(request.path)
        if gate is not None:
            gate.wait(timeout=30)
        if self.throttled:
            # Stands in for the gateway's usage-plan answer (throttle or quota exceeded),
            # which the next issue's local edge will enforce from the deployed plan.
            throttled = Response(json.dumps(THROTTLED_BODY), status=429, mimetype="application/json")
            throttled.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return throttled
        handler = self._handlers.get((request.path, request.method))
        if handler is None:
            # API Gateway's answer for a method the resource does not have.
            body = json.dumps({"message": "Missing Authentication Token"})
            return Response(body, status=403, mimetype="application/json")
        event = proxy_event(request, resource=request.path)
        context = LambdaContext(aws_request_id=event["requestContext"]["requestId"], function_name=handler.__name__)
        with self._invoke_lock:
            answer = handler.lambda_handler(event, context)
            queued = self.lambda_service is not None and bool(self.lambda_service.queued)
        if queued:
            # As Lambda does, shortly after: the caller already has its answer.
            threading.Thread(target=self._deliver, name="async-invocations", daemon=True).start()
        return proxy_response(answer)

    def _deliver(self) -> None:
        with self._invoke_lock:
            self.lambda_service.deliver()
