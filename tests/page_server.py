"""The website as it is published, and its API on the same origin, for the browser tests.

``PageServer`` serves the objects ``modules.site.assets.build_site`` writes, each
with its content type and cache policy and every header of
``modules.site.headers.SECURITY_HEADERS``, as the website's CDN does; ``/`` is
``index.html``. A request to an API route becomes the API Gateway REST proxy
event the real function receives, and the function's ``lambda_handler`` answers
it in-process, against whatever emulated account the test has set up (moto):
the page meets the functions' real validation, errors and paging, not canned
answers. Routes and handlers come from the function table
(``modules/functions/catalog.py``), as the deployed API's do.

Staff sign-in, as the local system serves it. ``config.json`` gains the ``auth``
object of the test's user pool (``StaffPool``, made by ``create_staff_pool`` in
moto) with the local system's endpoint, ``POST /_cognito/`` on this origin.
That path hands each Cognito call (the operations the local edge forwards, no
other) to moto's in-process Cognito through boto3 and relays the answer as
Cognito's JSON API does, errors as ``{"__type", "message"}``. Every API route
then requires an ID token of that pool and its app client, verified with
``joserfc`` against moto's signing keys: no token, a forged or foreign one is
401 ``Unauthorized``, an expired one 401 ``The incoming token has expired``,
and a valid one reaches the function with its claims in
``requestContext.authorizer.claims``, each a string as API Gateway passes them.
This is the page's stand-in for API Gateway's Cognito authorizer, enough to
exercise the page against it; the real enforcement (the deployed authorizer,
as the local edge applies it) is tested in ``tests/local/test_local_edge_auth.py``.

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

import boto3
from botocore import xform_name
from botocore.exceptions import ClientError, ParamValidationError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from moto.backends import get_backend
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.utilities.utils import load_resource
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from config.settings import LOCAL_COGNITO_PATH
from lambdas.common import names
from local.edge.apigateway.authorizer import EXPIRED, UNAUTHORIZED, claim_text
from local.edge.cloudfront.site import COGNITO_OPERATIONS, COGNITO_TARGET_PREFIX
from modules.functions.catalog import FUNCTIONS
from modules.site.assets import INDEX, RUNTIME_CONFIG, SiteObject, config_text
from modules.site.headers import SECURITY_HEADERS

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

STAGE: Final = "prod"
#: What the throttled server answers: the gateway's usage-plan refusal.
THROTTLED_BODY: Final = {"message": "Too Many Requests"}
RETRY_AFTER_SECONDS: Final = 2
#: moto signs every pool's tokens with this one key (its ``kid`` is ``dummy``).
MOTO_SIGNING_KEYS: Final = KeySet.import_key_set(load_resource("cognitoidp/resources/jwks-public.json"))
COGNITO_CONTENT_TYPE: Final = "application/x-amz-json-1.1"
#: The staff pool's password policy, as ``modules/identity/staff_directory.py`` sets it
#: (``tests/modules/test_staff_directory.py`` holds the construct to these values; the page states and checks them).
PASSWORD_MIN_LENGTH: Final = 14
PASSWORD_POLICY: Final = {
    "MinimumLength": PASSWORD_MIN_LENGTH,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
}


@dataclass(frozen=True)
class StaffPool:
    """The user pool and app client the page signs in with (``config.json``'s ``auth``)."""

    region: str
    user_pool_id: str
    client_id: str

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    def client(self) -> Any:
        """A boto3 Cognito client; under the test's mock its calls reach moto."""
        return boto3.client("cognito-idp", region_name=self.region)

    def add_member(self, email: str, password: str, *, groups: Sequence[str], temporary: bool) -> None:
        """Invite a member as ``make staff-add`` does; ``temporary=False`` skips the first sign-in's new password."""
        idp = self.client()
        idp.admin_create_user(
            UserPoolId=self.user_pool_id,
            Username=email,
            TemporaryPassword=password,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
        if not temporary:
            idp.admin_set_user_password(UserPoolId=self.user_pool_id, Username=email, Password=password, Permanent=True)
        for group in groups:
            idp.admin_add_user_to_group(UserPoolId=self.user_pool_id, Username=email, GroupName=group)


def create_staff_pool(region: str) -> StaffPool:
    """The staff pool in the test's emulated account, with the settings of ``StaffDirectory`` the page meets:
    sign-in by e-mail, the password policy, a public client with exactly the page's two flows, both groups."""
    idp = boto3.client("cognito-idp", region_name=region)
    pool = idp.create_user_pool(
        PoolName="student-management-staff",
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        UsernameConfiguration={"CaseSensitive": False},
        Policies={"PasswordPolicy": PASSWORD_POLICY},
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )["UserPool"]
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="student-management-page",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="ENABLED",
        EnableTokenRevocation=True,
    )["UserPoolClient"]
    for group in (names.STAFF_GROUP, names.ADMIN_GROUP):
        idp.create_group(UserPoolId=pool["Id"], GroupName=group)
    return StaffPool(region=region, user_pool_id=pool["Id"], client_id=client["ClientId"])


def cognito_error(kind: str, message: str, *, status: int = 400) -> Response:
    """An error as Cognito's JSON API answers one."""
    body = json.dumps({"__type": kind, "message": message})
    return Response(body, status=status, content_type=COGNITO_CONTENT_TYPE)


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
    #: The ``Authorization`` header: the ID token the page sent, if any.
    authorization: str | None = None


@dataclass(frozen=True)
class CognitoCall:
    """One call the page made to Cognito's JSON API, and what it was answered."""

    operation: str
    content_type: str | None
    body: Any
    status: int
    answer: Any


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of the Lambda runtime's context object the functions read."""

    aws_request_id: str
    function_name: str
    #: Where the function's own asynchronous invocations go (the backup's POST /backup).
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:page-server"


def proxy_event(request: Request, *, resource: str, claims: Mapping[str, str] | None = None) -> dict[str, Any]:
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
            **({"authorizer": {"claims": dict(claims)}} if claims is not None else {}),
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
    #: The pool the page signs in to; None: config.json names none and every API call is 401.
    staff: StaffPool | None = None
    #: Cognito calls received, in order, with their answers.
    cognito_calls: list[CognitoCall] = field(default_factory=list)
    #: Operation → (error type, message) Cognito answers instead, for errors moto does not produce.
    cognito_errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: False: RevokeToken fails as the local emulator's does (moto lacks it: 500).
    revoke_token_supported: bool = True
    origin: str = ""
    _expired: set[str] = field(default_factory=set)
    _issued: list[str] = field(default_factory=list)
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
        self.staff = None
        self.cognito_calls.clear()
        self.cognito_errors.clear()
        self.revoke_token_supported = True
        self._expired.clear()
        self._issued.clear()
        self.release_all()

    def expire_issued_tokens(self) -> None:
        """Every ID token Cognito has issued so far counts as expired from now on (tokens issued later do not)."""
        self._expired.update(self._issued)

    def issued(self, kind: str) -> list[str]:
        """The tokens of ``kind`` (``IdToken``, ``AccessToken``, ``RefreshToken``) Cognito handed the page, in order."""
        return [
            call.answer["AuthenticationResult"][kind]
            for call in self.cognito_calls
            if call.status == 200 and kind in call.answer.get("AuthenticationResult", {})
        ]

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
        if request.path == LOCAL_COGNITO_PATH:
            response = self._with_security_headers(self._cognito(request))
        else:
            response = self._api(request) if is_api else self._static(request)
        return response(environ, start_response)

    def _static(self, request: Request) -> Response:
        found = self._files.get(request.path)
        if found is None:
            return self._with_security_headers(Response("not found\n", status=404, mimetype="text/plain"))
        if request.method not in ("GET", "HEAD"):
            return self._with_security_headers(Response("method not allowed\n", status=405, mimetype="text/plain"))
        obj, content = found
        if obj.key == RUNTIME_CONFIG and self.staff is not None:
            content = self._with_sign_in(content)
        response = Response(content, status=200)
        response.headers["Content-Type"] = obj.content_type
        response.headers["Cache-Control"] = obj.cache_control
        return self._with_security_headers(response)

    @staticmethod
    def _with_security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        return response

    def _with_sign_in(self, content: bytes) -> bytes:
        """The published config.json with the ``auth`` object the local system's page gets."""
        assert self.staff is not None
        config = json.loads(content)
        config["auth"] = {
            "region": self.staff.region,
            "userPoolId": self.staff.user_pool_id,
            "clientId": self.staff.client_id,
            "endpoint": LOCAL_COGNITO_PATH,
        }
        return config_text(config).encode("utf-8")

    def _cognito(self, request: Request) -> Response:
        target = request.headers.get("X-Amz-Target", "")
        operation = target.removeprefix(COGNITO_TARGET_PREFIX) if target.startswith(COGNITO_TARGET_PREFIX) else ""
        try:
            body = json.loads(request.get_data(cache=True) or b"null")
        except ValueError:
            body = None
        response = self._cognito_answer(request.method, operation, body)
        try:
            answer = json.loads(response.get_data())
        except ValueError:
            answer = response.get_data(as_text=True)
        self.cognito_calls.append(
            CognitoCall(operation, request.headers.get("Content-Type"), body, response.status_code, answer)
        )
        return response

    def _cognito_answer(self, method: str, operation: str, body: Any) -> Response:
        if method != "POST":
            return Response(status=405, headers={"Allow": "POST"})
        if operation not in COGNITO_OPERATIONS:
            return cognito_error("UnsupportedOperationException", f"{operation or 'no operation'} is not forwarded")
        if self.staff is None:
            return cognito_error("ResourceNotFoundException", "no user pool is set up")
        if not isinstance(body, dict):
            return cognito_error("SerializationException", "the body is not a JSON object")
        if operation in self.cognito_errors:
            return cognito_error(*self.cognito_errors[operation])
        if operation == "RevokeToken":
            return self._revoke(body)
        try:
            answer = getattr(self.staff.client(), xform_name(operation))(**body)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            return cognito_error(error.response["Error"]["Code"], error.response["Error"]["Message"], status=status)
        except ParamValidationError as error:
            return cognito_error("InvalidParameterException", str(error))
        answer.pop("ResponseMetadata", None)
        issued = answer.get("AuthenticationResult", {}).get("IdToken")
        if issued:
            self._issued.append(issued)
        return Response(json.dumps(answer), status=200, content_type=COGNITO_CONTENT_TYPE)

    def _revoke(self, body: Mapping[str, Any]) -> Response:
        """RevokeToken, which moto lacks: the refresh token stops issuing tokens, as moto's sign-out marks it."""
        if not self.revoke_token_supported:
            # What the local emulator answers: moto server raises NotImplementedError.
            return Response("Internal Server Error", status=500, mimetype="text/html")
        assert self.staff is not None
        pool = get_backend("cognito-idp")[DEFAULT_ACCOUNT_ID][self.staff.region].user_pools[self.staff.user_pool_id]
        token = str(body.get("Token", ""))
        issued = pool.refresh_tokens.get(token)
        if issued is None or issued[0] != body.get("ClientId"):
            return cognito_error("UnauthorizedException", "not a refresh token of this client")
        pool.refresh_tokens[token] = None
        return Response("{}", status=200, content_type=COGNITO_CONTENT_TYPE)

    def _claims(self, request: Request) -> dict[str, str] | str:
        """The caller's ID token claims as the authorizer passes them on, or the 401 message refusing it."""
        token = request.headers.get("Authorization", "")
        if self.staff is None or not token:
            return UNAUTHORIZED
        try:
            claims = dict(jwt.decode(token, MOTO_SIGNING_KEYS, algorithms=["RS256"]).claims)
        except (JoseError, ValueError):
            return UNAUTHORIZED
        if (claims.get("iss"), claims.get("aud"), claims.get("token_use")) != (
            self.staff.issuer,
            self.staff.client_id,
            "id",
        ):
            return UNAUTHORIZED
        exp = claims.get("exp")
        if token in self._expired or not isinstance(exp, int | float) or exp <= time.time():
            return EXPIRED
        return {name: claim_text(name, value) for name, value in claims.items()}

    def _api(self, request: Request) -> Response:
        self.calls.append(
            ApiCall(
                method=request.method,
                path=request.path,
                query={name: values[-1] for name, values in request.args.lists()},
                content_type=request.headers.get("Content-Type"),
                body=request.get_data(cache=True).decode("utf-8", errors="replace"),
                authorization=request.headers.get("Authorization"),
            )
        )
        gate = self._held.get(request.path)
        if gate is not None:
            gate.wait(timeout=30)
        handler = self._handlers.get((request.path, request.method))
        if handler is None:
            # API Gateway's answer for a method the resource does not have.
            body = json.dumps({"message": "Missing Authentication Token"})
            return Response(body, status=403, mimetype="application/json")
        # The authorizer runs first; the usage plan (and its key) only for a caller it admits.
        claims = self._claims(request)
        if isinstance(claims, str):
            return Response(json.dumps({"message": claims}), status=401, mimetype="application/json")
        if self.throttled:
            # Stands in for the gateway's usage-plan answer (throttle or quota exceeded).
            throttled = Response(json.dumps(THROTTLED_BODY), status=429, mimetype="application/json")
            throttled.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return throttled
        event = proxy_event(request, resource=request.path, claims=claims)
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
