"""API Gateway's part of the deployment: a REST API as its stage serves it.

What is live (stages, usage plans, API keys) is read with ``Get*`` calls;
what the stage's deployment serves (resources and methods, authorizers,
request validators and models, gateway responses) from the deployment's
snapshot, which the emulator keeps (``SNAPSHOT_ROUTE``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from botocore.exceptions import ClientError

from local.edge.deployment.errors import NotDeployed, error_code

#: The emulator's route that answers what a deployment of a REST API serves (local/emulator/corrections/apigateway.py).
SNAPSHOT_ROUTE: Final = "/_emulator/apigateway-deployment"
#: API Gateway's integration timeout when a method's integration names none.
DEFAULT_INTEGRATION_TIMEOUT_MS: Final = 29_000
#: ``arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations``
_LAMBDA_URI: Final = re.compile(
    r"^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/[0-9-]+/functions/(?P<function>.+)/invocations$"
)


@dataclass(frozen=True)
class IntegrationResponse:
    status_code: str
    selection_pattern: str  #: empty: the default response
    parameters: Mapping[str, str]
    templates: Mapping[str, str]


@dataclass(frozen=True)
class Integration:
    type: str  #: AWS_PROXY, MOCK, ...
    uri: str
    request_templates: Mapping[str, str]
    responses: tuple[IntegrationResponse, ...]
    timeout_ms: int

    @property
    def function_arn(self) -> str | None:
        """The function a Lambda integration invokes, from its URI."""
        found = _LAMBDA_URI.match(self.uri)
        return found.group("function") if found else None


@dataclass(frozen=True)
class Validator:
    body: bool
    parameters: bool


@dataclass(frozen=True)
class Method:
    http_method: str
    api_key_required: bool
    validator: Validator | None
    #: Content type → the model's JSON schema (parsed).
    request_models: Mapping[str, Any]
    #: ``method.request.querystring.limit`` → required?
    request_parameters: Mapping[str, bool]
    integration: Integration | None
    #: ``NONE`` (open to anyone with the key, if one is required), ``COGNITO_USER_POOLS``,
    #: ``AWS_IAM`` or ``CUSTOM``.
    authorization_type: str = "NONE"
    #: The API's authorizer the method names (``authorizerId``), empty for none.
    authorizer_id: str = ""
    #: OAuth scopes a Cognito authorizer demands of an access token; none: it expects an ID token.
    authorization_scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Authorizer:
    """One of the API's authorizers (``GetAuthorizers``), as a method names it by ``authorizer_id``."""

    id: str
    name: str
    type: str  #: COGNITO_USER_POOLS, TOKEN or REQUEST
    #: The user pools whose tokens it accepts: ``arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>``.
    provider_arns: tuple[str, ...]
    #: Where the token is: ``method.request.header.Authorization``.
    identity_source: str
    #: A regular expression the token's audience (its app client) must match; empty for none.
    identity_validation_expression: str = ""


@dataclass(frozen=True)
class Resource:
    id: str
    path: str
    methods: Mapping[str, Method]

    def matches(self, path: str) -> bool:
        """Whether a request path falls on this resource (``{name}`` one segment, ``{name+}`` the rest)."""
        pattern = "".join(
            "/.+" if part.endswith("+}") else "/[^/]+" if part.startswith("{") else "/" + re.escape(part)
            for part in self.path.strip("/").split("/")
            if part
        )
        return re.fullmatch(pattern or "/", path or "/") is not None

    def path_parameters(self, path: str) -> dict[str, str]:
        values = path.strip("/").split("/")
        found: dict[str, str] = {}
        for index, part in enumerate(self.path.strip("/").split("/")):
            if part.endswith("+}"):
                found[part[1:-2]] = "/".join(values[index:])
            elif part.startswith("{"):
                found[part[1:-1]] = values[index]
        return found


@dataclass(frozen=True)
class Throttle:
    rate_per_second: float
    burst: int


@dataclass(frozen=True)
class Quota:
    limit: int
    period: str  #: DAY, WEEK or MONTH


@dataclass(frozen=True)
class UsagePlan:
    id: str
    throttle: Throttle | None
    quota: Quota | None
    key_ids: frozenset[str]


@dataclass(frozen=True)
class ApiKey:
    id: str
    value: str
    enabled: bool


@dataclass(frozen=True)
class GatewayResponse:
    status_code: str | None
    parameters: Mapping[str, str]
    templates: Mapping[str, str]


@dataclass(frozen=True)
class Stage:
    name: str
    variables: Mapping[str, str]
    #: ``*/*`` or ``students/GET`` → the method settings' throttle.
    throttles: Mapping[str, Throttle]


@dataclass(frozen=True)
class RestApi:
    """One REST API with everything its data plane needs."""

    id: str
    resources: tuple[Resource, ...]
    stages: Mapping[str, Stage]
    #: Only the plans bound to the stage: stage name → plans.
    usage_plans: Mapping[str, tuple[UsagePlan, ...]]
    keys: tuple[ApiKey, ...]
    gateway_responses: Mapping[str, GatewayResponse]
    #: Authorizer id → authorizer.
    authorizers: Mapping[str, Authorizer] = field(default_factory=dict)

    def resource_for(self, path: str) -> Resource | None:
        """The resource a path falls on; a literal path wins over one with parameters, as in API Gateway."""
        matching = [resource for resource in self.resources if resource.matches(path)]
        matching.sort(key=lambda resource: (resource.path.count("{"), -len(resource.path)))
        return matching[0] if matching else None

    def plan_of(self, key: ApiKey, stage: str) -> UsagePlan | None:
        return next((plan for plan in self.usage_plans.get(stage, ()) if key.id in plan.key_ids), None)


@dataclass(frozen=True)
class Served:
    """What a deployment serves: the API's resources with their methods, its authorizers, its gateway responses."""

    resources: tuple[Resource, ...]
    authorizers: Mapping[str, Authorizer]
    gateway_responses: Mapping[str, GatewayResponse]


def parse_snapshot(snapshot: Mapping[str, Any]) -> Served:
    """A deployment's snapshot, in the shapes of API Gateway's ``Get*`` answers, read as the edge serves it."""
    validators = {
        item["id"]: Validator(bool(item.get("validateRequestBody")), bool(item.get("validateRequestParameters")))
        for item in snapshot.get("requestValidators", [])
    }
    models = {item["name"]: item.get("schema") or "{}" for item in snapshot.get("models", [])}
    resources = tuple(
        Resource(
            id=item["id"],
            path=item["path"],
            methods={
                verb: _method(method, validators, models)
                for verb, method in (item.get("resourceMethods") or {}).items()
            },
        )
        for item in snapshot.get("resources", [])
    )
    authorizers = {
        item["id"]: Authorizer(
            id=item["id"],
            name=item.get("name", ""),
            type=item.get("type", ""),
            provider_arns=tuple(item.get("providerARNs") or ()),
            identity_source=item.get("identitySource") or "",
            identity_validation_expression=item.get("identityValidationExpression") or "",
        )
        for item in snapshot.get("authorizers", [])
    }
    responses = {
        item["responseType"]: GatewayResponse(
            status_code=item.get("statusCode"),
            parameters=item.get("responseParameters") or {},
            templates=item.get("responseTemplates") or {},
        )
        for item in snapshot.get("gatewayResponses", [])
    }
    return Served(resources, authorizers, responses)


def read_rest_api(client: Any, api_id: str, stage_name: str, served_by: Callable[[str, str], Served]) -> RestApi:
    """What is live (stages, usage plans, keys) and what the stage's deployment serves (the rest).

    API Gateway serves a stage from its deployment: a change to a method,
    an authorizer or a gateway response is served only once the stage has a
    new deployment. The emulator keeps each deployment's snapshot
    (``local/emulator/corrections/apigateway.py``), which ``served_by`` reads; a stage that does not exist
    serves nothing.
    """
    try:
        client.get_rest_api(restApiId=api_id)
    except ClientError as error:
        raise NotDeployed(f"REST API {api_id}: {error_code(error)}") from None
    stage_items = client.get_stages(restApiId=api_id).get("item", [])
    stages = {item["stageName"]: _stage(item) for item in stage_items}
    deployment_id = next((item.get("deploymentId") for item in stage_items if item["stageName"] == stage_name), None)
    served = served_by(api_id, deployment_id) if deployment_id else Served((), {}, {})
    plans: dict[str, list[UsagePlan]] = {}
    for item in _items(client.get_usage_plans):
        bound = [s["stage"] for s in item.get("apiStages", []) if s.get("apiId") == api_id]
        if not bound:
            continue
        plan = _usage_plan(item, _items(client.get_usage_plan_keys, usagePlanId=item["id"]))
        for stage in bound:
            plans.setdefault(stage, []).append(plan)
    keys = tuple(
        ApiKey(id=item["id"], value=item.get("value", ""), enabled=bool(item.get("enabled")))
        for item in _items(client.get_api_keys, includeValues=True)
    )
    return RestApi(
        id=api_id,
        resources=served.resources,
        stages=stages,
        usage_plans={stage: tuple(found) for stage, found in plans.items()},
        keys=keys,
        gateway_responses=served.gateway_responses,
        authorizers=served.authorizers,
    )


def _items(operation: Callable[..., Any], **arguments: Any) -> list[dict[str, Any]]:
    """Every item of a paged API Gateway listing."""
    found: list[dict[str, Any]] = []
    position: str | None = None
    while True:
        page = operation(**arguments, **({"position": position} if position else {}), limit=500)
        found += page.get("items", [])
        position = page.get("position")
        if not position:
            return found


def _method(item: Mapping[str, Any], validators: Mapping[str, Validator], models: Mapping[str, str]) -> Method:
    integration = item.get("methodIntegration")
    request_models = {}
    for content_type, model in (item.get("requestModels") or {}).items():
        # A method naming a model the API does not have could not be deployed; here it validates nothing.
        if model in models:
            request_models[content_type.lower()] = json.loads(models[model])
    return Method(
        http_method=item["httpMethod"],
        api_key_required=bool(item.get("apiKeyRequired")),
        validator=validators.get(item.get("requestValidatorId") or ""),
        request_models=request_models,
        request_parameters={str(k): bool(v) for k, v in (item.get("requestParameters") or {}).items()},
        integration=_integration(integration) if integration else None,
        authorization_type=item.get("authorizationType") or "NONE",
        authorizer_id=item.get("authorizerId") or "",
        authorization_scopes=tuple(item.get("authorizationScopes") or ()),
    )


def _integration(item: Mapping[str, Any]) -> Integration:
    return Integration(
        type=item.get("type", ""),
        uri=item.get("uri", ""),
        request_templates=item.get("requestTemplates") or {},
        responses=tuple(
            IntegrationResponse(
                status_code=str(response.get("statusCode", "")),
                selection_pattern=response.get("selectionPattern") or "",
                parameters=response.get("responseParameters") or {},
                templates=response.get("responseTemplates") or {},
            )
            for response in (item.get("integrationResponses") or {}).values()
        ),
        timeout_ms=int(item.get("timeoutInMillis") or DEFAULT_INTEGRATION_TIMEOUT_MS),
    )


def _throttle(settings: Mapping[str, Any], rate: str, burst: str) -> Throttle | None:
    if settings.get(rate) is None or settings.get(burst) is None:
        return None
    return Throttle(rate_per_second=float(settings[rate]), burst=int(settings[burst]))


def _stage(item: Mapping[str, Any]) -> Stage:
    throttles = {}
    for path, settings in (item.get("methodSettings") or {}).items():
        throttle = _throttle(settings, "throttlingRateLimit", "throttlingBurstLimit")
        if throttle is not None:
            throttles[str(path)] = throttle
    return Stage(name=item["stageName"], variables=item.get("variables") or {}, throttles=throttles)


def _usage_plan(item: Mapping[str, Any], keys: list[dict[str, Any]]) -> UsagePlan:
    quota = item.get("quota")
    return UsagePlan(
        id=item["id"],
        throttle=_throttle(item.get("throttle") or {}, "rateLimit", "burstLimit"),
        quota=Quota(limit=int(quota["limit"]), period=str(quota.get("period", "DAY"))) if quota else None,
        key_ids=frozenset(key["id"] for key in keys if key.get("type", "API_KEY") == "API_KEY"),
    )
