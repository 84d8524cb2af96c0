"""CloudFront's part: the site's distribution, as deployed in the emulator, at ``http://localhost:<site_port>/``.

A request takes the first ordered cache behaviour whose path pattern matches
(else the default one); a method the behaviour does not allow is refused with
403. The behaviour's origin decides the rest:

- an S3 origin (``<bucket>.s3.<region>.amazonaws.com``) serves the object from
  that bucket with its stored ``Content-Type``, ``Cache-Control`` and ``ETag``
  (``/`` is the default root object), if the bucket's policy lets this
  distribution read it through origin access control (the emulator's IAM
  decides, and logs a refusal: ``s3:GetObject`` for ``cloudfront.amazonaws.com``
  with the distribution's ARN as ``AWS:SourceArn``), else S3's 403; a missing key is S3's 404 only where
  the policy also grants ``s3:ListBucket``, 403 otherwise; without origin
  access control the private bucket refuses CloudFront, 403;
- an API origin (``<api id>.execute-api.<region>.amazonaws.com``) is the
  gateway of that API, the origin path (``/prod``) before the request path,
  the viewer's headers and query string as the origin request policy forwards
  them, and the origin's custom headers (``x-api-key``) replacing any viewer
  header of the same name;
- any other origin cannot be reached from here: 502.

Nothing is cached: the API behaviours use CachingDisabled, and the page's
objects are read from the bucket on every request (so a deploy shows at once).
Differences from CloudFront: plain HTTP on loopback (no viewer protocol
policy, no redirect to HTTPS), no compression, no range requests.

One path is the edge's own, not the distribution's: ``POST /_cognito/``
(``LOCAL_COGNITO_PATH``, the local page's sign-in endpoint) forwards the
page's Cognito calls to the emulator (``CognitoProxy``). In AWS the page calls
``https://cognito-idp.<region>.amazonaws.com/`` directly and CloudFront has no
such behaviour; locally the emulator's HTTPS endpoint has a certificate of its
own CA, which a browser does not trust, and a path of the site's own origin
keeps the page's ``connect-src`` to ``'self'``.
"""

from __future__ import annotations

import json
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from botocore.exceptions import ClientError
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from config.settings import LOCAL_COGNITO_PATH, AppConfig
from local.edge.apigateway.gateway import Gateway
from local.edge.apigateway.request import ApiRequest
from local.edge.deployment.cloudfront import Behaviour, Distribution, Origin
from local.edge.deployment.errors import NotDeployed
from local.edge.deployment.reader import Deployment
from local.edge.policies import CLOUDFRONT
from modules.site.headers import SECURITY_HEADERS

_S3_ORIGIN: Final = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]+)\.s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com$")
_API_ORIGIN: Final = re.compile(r"^(?P<api>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")
#: ``X-Amz-Target`` of Cognito user pools' JSON API: ``<prefix>.<operation>``.
COGNITO_TARGET_PREFIX: Final = "AWSCognitoIdentityProviderService."
#: The operations a signed-in page makes without AWS credentials (sign in, the new-password
#: challenge, refresh, sign out, its own user): the only ones the proxy forwards. The
#: administrative ones (AdminCreateUser, ListUsers, ...) need SigV4 credentials in AWS.
COGNITO_OPERATIONS: Final = frozenset(
    {"InitiateAuth", "RespondToAuthChallenge", "GlobalSignOut", "RevokeToken", "GetUser", "ChangePassword"}
)
#: The request headers the proxy forwards; nothing else of the browser's reaches the emulator.
COGNITO_HEADERS: Final = ("X-Amz-Target", "Content-Type")
#: Seconds the proxy waits for the emulator's answer.
COGNITO_TIMEOUT_S: Final = 30
#: Headers that belong to one connection and are never forwarded.
_HOP_BY_HOP: Final = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host"}
)


@dataclass(frozen=True)
class Forwarding:
    """What an origin request policy sends the origin of the viewer's request."""

    all_headers: bool
    headers: frozenset[str]  #: lower-case names, when not all
    query_strings: bool
    host: bool  #: the viewer's Host (else the origin's domain)


#: The AWS managed origin request policies, by id (the same in every account).
MANAGED_ORIGIN_REQUEST_POLICIES: Final[Mapping[str, Forwarding]] = {
    # AllViewer
    "216adef6-5c7f-47e4-b989-5492eafa07d3": Forwarding(True, frozenset(), True, True),
    # AllViewerExceptHostHeader
    "b689b0a8-53d0-40ab-baf2-68738e2966ac": Forwarding(True, frozenset(), True, False),
    # AllViewerAndCloudFrontHeaders-2022-06
    "33f36d7e-f396-46d9-90e0-52428a34d9dc": Forwarding(True, frozenset(), True, True),
    # CORS-CustomOrigin
    "59781a5b-3903-41f3-afcb-af62929ccde1": Forwarding(False, frozenset({"origin"}), False, False),
    # CORS-S3Origin
    "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf": Forwarding(
        False, frozenset({"origin", "access-control-request-headers", "access-control-request-method"}), False, False
    ),
    # UserAgentRefererHeaders
    "acba4595-bd28-49b8-b9fe-13317c0390fa": Forwarding(False, frozenset({"user-agent", "referer"}), False, False),
}
#: No origin request policy: with CachingDisabled, nothing of the viewer's request but its method, path and body.
NOTHING_FORWARDED: Final = Forwarding(False, frozenset(), False, False)
#: A policy of the account's own: the edge cannot read it from the emulator, and forwards as AllViewerExceptHostHeader.
ALL_BUT_HOST: Final = MANAGED_ORIGIN_REQUEST_POLICIES["b689b0a8-53d0-40ab-baf2-68738e2966ac"]


@dataclass
class SiteAnswer:
    response: Response
    function: str | None = None


class Site:
    """Answers viewer requests as the deployed distribution would."""

    def __init__(self, deployment: Deployment, gateway: Gateway, log: Callable[[str], None]) -> None:
        self._deployment = deployment
        self._gateway = gateway
        self._log = log
        self._cognito = CognitoProxy(deployment.config, log)

    def handle(self, request: Request) -> SiteAnswer:
        if request.path == LOCAL_COGNITO_PATH:
            answer = SiteAnswer(self._cognito.forward(request))
        else:
            answer = self._answer(request)
        # The aws target's response-headers policy sets these on every response (overriding the
        # origin's); the emulator cannot store a response-headers policy, so the edge adds them.
        for name, value in SECURITY_HEADERS.items():
            answer.response.headers[name] = value
        answer.response.headers["Via"] = "1.1 local-edge (CloudFront)"
        return answer

    def _answer(self, request: Request) -> SiteAnswer:
        try:
            distribution = self._deployment.distribution(self._deployment.outputs().distribution_id)
        except NotDeployed as missing:
            self._log(f"site: {missing}")
            return SiteAnswer(_cloudfront_error(404, "The request could not be satisfied."))
        if not distribution.enabled:
            return SiteAnswer(_cloudfront_error(403, "The distribution is disabled."))
        behaviour = distribution.behaviour_for(request.path)
        if request.method not in behaviour.allowed_methods:
            return SiteAnswer(
                _cloudfront_error(403, "This distribution is not configured to allow the HTTP request method.")
            )
        origin = distribution.origins.get(behaviour.origin_id)
        if origin is None:
            self._log(f"site: behaviour {behaviour.path_pattern or 'default'} names no origin {behaviour.origin_id}")
            return SiteAnswer(_cloudfront_error(502, "The request could not be satisfied."))
        if _S3_ORIGIN.match(origin.domain_name):
            return SiteAnswer(self._object(request, distribution, origin))
        api = _API_ORIGIN.match(origin.domain_name)
        if api is not None:
            answer = self._gateway.handle(forwarded(request, origin, behaviour, api.group("api")))
            return SiteAnswer(answer.response, answer.function)
        self._log(f"site: origin {origin.id} ({origin.domain_name}) is neither a bucket nor an API of the emulator")
        return SiteAnswer(_cloudfront_error(502, "CloudFront wasn't able to connect to the origin."))

    def _object(self, request: Request, distribution: Distribution, origin: Origin) -> Response:
        found = _S3_ORIGIN.match(origin.domain_name)
        assert found is not None  # noqa: S101 - only S3 origins come here
        if not origin.origin_access_control_id:
            # Unsigned, CloudFront is an anonymous caller of a bucket that admits only this distribution.
            return _s3_error(403, "AccessDenied", "Access Denied")
        path = request.path
        if path == "/" and distribution.default_root_object:
            path = "/" + distribution.default_root_object
        key = (origin.path.strip("/") + path).lstrip("/")
        bucket = found.group("bucket")

        def may(action: str, resource: str) -> bool:
            context = {"AWS:SourceArn": distribution.arn}
            return self._deployment.service_may(CLOUDFRONT, action=action, resource=resource, context=context).allowed

        if not may("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}"):
            self._log(f"site: AccessDenied: the policy of {bucket} does not let {distribution.arn} read {key}")
            return _s3_error(403, "AccessDenied", "Access Denied")
        try:
            stored = self._deployment.s3.get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404"):
                if not may("s3:ListBucket", f"arn:aws:s3:::{bucket}"):
                    return _s3_error(403, "AccessDenied", "Access Denied")  # S3 hides what it does not list
                return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
            self._log(f"site: s3 get_object {key}: {code}")
            return _s3_error(403, code or "AccessDenied", "Access Denied")
        etag = stored.get("ETag", "")
        headers = Headers()
        for name, field in (("Content-Type", "ContentType"), ("Cache-Control", "CacheControl"), ("ETag", "ETag")):
            if stored.get(field):
                headers[name] = stored[field]
        if stored.get("LastModified"):
            headers["Last-Modified"] = stored["LastModified"].strftime("%a, %d %b %Y %H:%M:%S GMT")
        if etag and etag in [tag.strip() for tag in (request.headers.get("If-None-Match") or "").split(",")]:
            stored["Body"].close()
            return Response(status=304, headers=headers)
        return Response(stored["Body"].read(), status=200, headers=headers)


class CognitoProxy:
    """``POST /_cognito/``: the page's Cognito calls, forwarded to the emulator's Cognito endpoint.

    Only the body and the ``X-Amz-Target`` and ``Content-Type`` headers are
    sent (never the browser's cookies or ``Authorization``), over HTTPS to
    the emulator with its CA bundle, as the deployment reader's clients reach it;
    the emulator's status, body and content type come back unchanged, Cognito's
    errors (``NotAuthorizedException``, ...) included. An operation outside
    ``COGNITO_OPERATIONS`` is answered 400 here and never reaches the emulator;
    another method than POST is 405.
    """

    def __init__(self, config: AppConfig, log: Callable[[str], None]) -> None:
        self._config = config
        self._log = log

    def forward(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(status=405, headers={"Allow": "POST"})
        target = request.headers.get("X-Amz-Target", "")
        operation = target.removeprefix(COGNITO_TARGET_PREFIX) if target.startswith(COGNITO_TARGET_PREFIX) else ""
        if operation not in COGNITO_OPERATIONS:
            return _cognito_error(
                "UnsupportedOperationException",
                f"the local edge forwards only {', '.join(sorted(COGNITO_OPERATIONS))} to Cognito",
            )
        headers = {name: request.headers[name] for name in COGNITO_HEADERS if name in request.headers}
        sent = urllib.request.Request(  # noqa: S310 - the emulator's https URL
            f"{self._config.emulator_endpoint}/", data=request.get_data(), headers=headers, method="POST"
        )
        try:
            tls = ssl.create_default_context(cafile=str(self._config.emulator_ca_bundle))
            with urllib.request.urlopen(sent, timeout=COGNITO_TIMEOUT_S, context=tls) as answer:  # noqa: S310 - the emulator's https URL
                return _relayed(answer.status, answer.read(), answer.headers.get("Content-Type"))
        except urllib.error.HTTPError as refused:  # Cognito's own error answer: relayed as it is
            with refused:
                return _relayed(refused.code, refused.read(), refused.headers.get("Content-Type"))
        except (urllib.error.URLError, OSError) as error:
            self._log(f"site: {operation} cannot reach the emulator's Cognito endpoint: {error}")
            return _cognito_error("ServiceUnavailableException", "the emulator cannot be reached", status=502)


def _relayed(status: int, body: bytes, content_type: str | None) -> Response:
    return Response(body, status=status, content_type=content_type or "application/x-amz-json-1.1")


def _cognito_error(kind: str, message: str, *, status: int = 400) -> Response:
    """An error in Cognito's JSON shape (``__type``, ``message``), which the page reads as Cognito's own."""
    body = json.dumps({"__type": kind, "message": message})
    return Response(body, status=status, content_type="application/x-amz-json-1.1")


def forwarded(request: Request, origin: Origin, behaviour: Behaviour, api_id: str) -> ApiRequest:
    """The request CloudFront sends the API origin: the policy's viewer headers and query, the custom headers."""
    policy = behaviour.origin_request_policy_id
    forwarding = MANAGED_ORIGIN_REQUEST_POLICIES.get(policy, NOTHING_FORWARDED if not policy else ALL_BUT_HOST)
    headers = Headers()
    for name, value in request.headers.items():
        lowered = name.lower()
        if lowered in _HOP_BY_HOP or lowered == "content-length":
            continue
        if forwarding.all_headers or lowered in forwarding.headers:
            headers.add(name, value)
    custom = {name.lower() for name, _ in origin.custom_headers}
    for name in [name for name in headers.keys() if name.lower() in custom]:  # noqa: SIM118 - a copy: headers change
        del headers[name]
    for name, value in origin.custom_headers:
        headers.add(name, value)
    headers["Host"] = request.host if forwarding.host else origin.domain_name
    headers["X-Forwarded-For"] = request.remote_addr or "127.0.0.1"
    headers["Via"] = "1.1 local-edge (CloudFront)"
    return ApiRequest(
        api_id=api_id,
        method=request.method,
        path=origin.path.rstrip("/") + request.path,
        query=tuple(request.args.items(multi=True)) if forwarding.query_strings else (),
        headers=headers,
        body=request.get_data(),
        source_ip=request.remote_addr or "127.0.0.1",
        host=origin.domain_name,
    )


def _cloudfront_error(status: int, reason: str) -> Response:
    body = (
        f"<!DOCTYPE html><html><head><title>ERROR: The request could not be satisfied</title></head>"
        f"<body><h1>{status} ERROR</h1><h2>The request could not be satisfied.</h2><p>{reason}</p>"
        f"<p>Generated by the local edge (CloudFront).</p></body></html>"
    )
    response = Response(body, status=status, content_type="text/html")
    response.headers["X-Cache"] = "Error from cloudfront"
    return response


def _s3_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    response = Response(body, status=status, content_type="application/xml")
    response.headers["X-Cache"] = "Error from cloudfront"
    return response
