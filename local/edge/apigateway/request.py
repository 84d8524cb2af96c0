"""A request on its way through the gateway, and the gateway's own refusal: what every step of it shares."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response

from local.edge.deployment.apigateway import ApiKey, Resource, RestApi, Stage


@dataclass(frozen=True)
class ApiRequest:
    """A request as it reaches the API's host: from a client of the invoke URL, or from CloudFront."""

    api_id: str
    method: str
    path: str  #: ``/<stage>/<resource path>``
    query: tuple[tuple[str, str], ...]
    headers: Headers
    body: bytes
    source_ip: str
    host: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass
class ApiAnswer:
    response: Response
    function: str | None = None


class GatewayError(Exception):
    """An answer of the gateway itself: its gateway response type, message and status."""

    def __init__(self, response_type: str, message: str, *, function: str | None = None) -> None:
        super().__init__(message)
        self.response_type = response_type
        self.message = message
        self.function = function


def missing_token() -> GatewayError:
    return GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")


@dataclass
class Call:
    """One request on its way through the gateway: what later steps and the answer need."""

    request: ApiRequest
    request_id: str
    started: float = field(default_factory=time.time)
    api: RestApi | None = None
    stage: Stage | None = None
    resource: Resource | None = None
    key: ApiKey | None = None
    #: The authorizer's claims (``requestContext.authorizer.claims``); None when the method has no authorizer.
    claims: dict[str, str] | None = None

    @property
    def stage_name(self) -> str:
        return self.request.path.lstrip("/").partition("/")[0]

    @property
    def resource_path(self) -> str:
        return "/" + self.request.path.lstrip("/").partition("/")[2]

    def context(self) -> dict[str, str]:
        """``$context`` variables a gateway response may use."""
        return {
            "requestId": self.request_id,
            "extendedRequestId": self.request_id,
            "apiId": self.request.api_id,
            "stage": self.stage_name,
            "httpMethod": self.request.method,
            "path": self.request.path,
            "resourcePath": self.resource.path if self.resource else self.resource_path,
            "domainName": self.request.host,
            "identity.sourceIp": self.request.source_ip,
            "identity.apiKeyId": self.key.id if self.key else "",
        }
