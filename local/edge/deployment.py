"""The deployed system, read from the emulator: the only source of what the edge does.

Terraform's outputs (``<emulator_state_dir>/cdktf.out/outputs.json``, written
by ``make up``) name the API, the distribution and the website bucket; every
other setting is read with boto3 from the emulator, as AWS's own services
would read it from their control planes: an API's methods with their
authorization and its authorizers, a user pool's app clients. Each answer is
kept at most ``MAX_AGE_SECONDS``, so a change made in the emulator (a
function's environment, a deleted method, a new usage plan limit, a deleted
app client) is served about a second later, without restarting the edge. A
pool's signing keys are the exception: read over HTTPS from the emulator's
``/<pool id>/.well-known/jwks.json`` and kept by the authorizer for as long as
the edge runs, as a verifier of Cognito's tokens keeps them.

The classes below hold the parts of each resource the edge acts on, in the
shape API Gateway, Lambda and CloudFront give them; nothing here decides how
a request is answered.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

from botocore.exceptions import ClientError

from config.settings import APP_STACK, AppConfig
from lambdas.common import names
from local.deploy import emulator_client, emulator_route

#: How long an answer of the emulator is used before it is asked again.
MAX_AGE_SECONDS: Final = 1.0
#: The route of local/emulator/moto_server.py that answers what a deployment of a REST API serves.
SNAPSHOT_ROUTE: Final = "/_emulator/apigateway-deployment"
#: The route of local/emulator/moto_server.py that decides a call made to the edge, as IAM would (emulator_iam.py).
AUTHORIZE_ROUTE: Final = "/_emulator/iam/authorize"
#: API Gateway's integration timeout when a method's integration names none.
DEFAULT_INTEGRATION_TIMEOUT_MS: Final = 29_000
#: ``arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations``
_LAMBDA_URI: Final = re.compile(
    r"^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/[0-9-]+/functions/(?P<function>.+)/invocations$"
)

Value = TypeVar("Value")


class DeploymentError(RuntimeError):
    """The deployment cannot be read (no outputs file, an output missing, the emulator gone)."""


class NotDeployed(LookupError):  # noqa: N818 - reads as what it reports: "not deployed"
    """The emulator holds no such resource (a deleted function, an API that is gone)."""


# --- Terraform outputs --------------------------------------------------------


@dataclass(frozen=True)
class Outputs:
    """The application stack's outputs the edge starts from."""

    api_id: str
    distribution_id: str
    website_bucket: str

    @classmethod
    def read(cls, path: Path) -> Outputs:
        try:
            stacks = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DeploymentError(f"{path} does not exist: run 'make up' (DEPLOY_TARGET=local) first") from None
        except (OSError, ValueError) as error:
            raise DeploymentError(f"{path} is not readable JSON: {error}") from None
        outputs = stacks.get(APP_STACK, {}) if isinstance(stacks, dict) else {}
        wanted = (names.OUTPUT_API_ID, names.OUTPUT_SITE_DISTRIBUTION_ID, names.OUTPUT_WEBSITE_BUCKET)
        missing = [name for name in wanted if not isinstance(outputs.get(name), str)]
        if missing:
            raise DeploymentError(f"{path} has no output {', '.join(missing)} of stack {APP_STACK}: run 'make up'")
        return cls(*(str(outputs[name]) for name in wanted))


# --- API Gateway ----------------------------------------------------------------


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


#: ``arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>``
_USER_POOL_ARN: Final = re.compile(
    r"^arn:aws[a-z-]*:cognito-idp:(?P<region>[a-z0-9-]+):[0-9]{12}:userpool/(?P<pool>[\w-]+_[0-9A-Za-z]+)$"
)


@dataclass(frozen=True)
class UserPoolRef:
    """A user pool an authorizer names: where its tokens come from."""

    id: str
    region: str

    @classmethod
    def of(cls, arn: str) -> UserPoolRef | None:
        """The pool of a provider ARN; None for an ARN that names no user pool."""
        found = _USER_POOL_ARN.match(arn)
        return cls(id=found.group("pool"), region=found.group("region")) if found else None

    @property
    def issuer(self) -> str:
        """The ``iss`` claim of every token the pool issues."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.id}"


@dataclass(frozen=True)
class UserPool:
    """A user pool as its tokens are checked: its app clients (a token's ``aud`` or ``client_id``)."""

    id: str
    client_ids: frozenset[str]


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


# --- Lambda -----------------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    """A function's configuration: every field that decides how it runs, and its resource policy."""

    name: str
    arn: str
    handler: str
    runtime: str
    timeout_seconds: int
    memory_mb: int
    code_sha256: str
    environment: tuple[tuple[str, str], ...]
    #: The resource policy's statements (who may invoke it), empty when it has none.
    policy: tuple[Mapping[str, Any], ...]
    #: Where failed asynchronous invocations go (an SQS queue or SNS topic ARN), empty for none.
    dead_letter_target: str = ""
    #: The execution role's ARN: the worker acts with its temporary credentials.
    role: str = ""
    #: ``Active``: each invocation sends a trace segment to X-Ray (``PassThrough``: none of its own).
    tracing_mode: str = "PassThrough"


@dataclass(frozen=True)
class Schedule:
    """An EventBridge Scheduler schedule's target: what it invokes, as whom, with what, and where undelivered go."""

    name: str
    target_arn: str
    role_arn: str
    input: str
    #: The SQS queue for events the scheduler could not deliver, empty for none.
    dead_letter_arn: str = ""
    #: Deliveries after the first before an event counts as undelivered.
    max_retries: int = 185


@dataclass(frozen=True)
class Authorization:
    """The emulator's IAM decision on a call: allowed, or AWS's ``AccessDenied`` message."""

    allowed: bool
    principal: str = ""
    code: str = ""
    message: str = ""

    @classmethod
    def of(cls, decision: Mapping[str, Any]) -> Authorization:
        """From the answer of the emulator's ``/_emulator/iam/authorize``."""
        return cls(
            allowed=bool(decision.get("allowed")),
            principal=str(decision.get("principal", "")),
            code=str(decision.get("code", "")),
            message=str(decision.get("message", "")),
        )


# --- CloudFront ---------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    id: str
    domain_name: str
    path: str
    custom_headers: tuple[tuple[str, str], ...]
    origin_access_control_id: str


@dataclass(frozen=True)
class Behaviour:
    path_pattern: str  #: empty for the default behaviour
    origin_id: str
    allowed_methods: frozenset[str]
    origin_request_policy_id: str

    def matches(self, path: str) -> bool:
        """CloudFront's path pattern: ``*`` any characters, ``?`` exactly one, case-sensitive, whole path."""
        pattern = self.path_pattern if self.path_pattern.startswith("/") else "/" + self.path_pattern
        expression = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        return re.fullmatch(expression, path, flags=re.DOTALL) is not None


@dataclass(frozen=True)
class Distribution:
    id: str
    #: ``arn:aws:cloudfront::<account>:distribution/<id>``: what a bucket policy names as ``AWS:SourceArn``.
    arn: str
    enabled: bool
    default_root_object: str
    origins: Mapping[str, Origin]
    ordered: tuple[Behaviour, ...]
    default: Behaviour

    def behaviour_for(self, path: str) -> Behaviour:
        """The first ordered behaviour whose pattern matches, else the default one."""
        return next((behaviour for behaviour in self.ordered if behaviour.matches(path)), self.default)


# --- reading ----------------------------------------------------------------------------


class _Recent:
    """Answers kept at most ``MAX_AGE_SECONDS``; one reader per key at a time, the others wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[object, threading.Lock] = {}
        self._values: dict[object, tuple[float, object]] = {}

    def get(self, key: object, load: Callable[[], Value]) -> Value:
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            kept = self._values.get(key)
            if kept is not None and time.monotonic() - kept[0] < MAX_AGE_SECONDS:
                return kept[1]  # type: ignore[return-value] # stored by this very key's loader
            value = load()
            self._values[key] = (time.monotonic(), value)
            return value


class Deployment:
    """What the emulator holds, read on demand and kept about a second."""

    def __init__(self, config: AppConfig) -> None:
        self.config = config
        self.outputs_path = config.emulator_outputs_file
        # boto3 clients are safe to share between threads; creating them is not, so all are made here.
        self.apigateway = emulator_client("apigateway", config)
        self.awslambda = emulator_client("lambda", config)
        self.cloudfront = emulator_client("cloudfront", config)
        self.s3 = emulator_client("s3", config)
        self.cognito = emulator_client("cognito-idp", config)
        self.scheduler = emulator_client("scheduler", config)
        self._snapshots: dict[tuple[str, str], _Served] = {}
        self._snapshots_lock = threading.Lock()
        self._recent = _Recent()

    def outputs(self) -> Outputs:
        return self._recent.get("outputs", lambda: Outputs.read(self.outputs_path))

    def rest_api(self, api_id: str, stage_name: str) -> RestApi:
        """The API as ``stage_name`` serves it: its deployment's snapshot, with today's stages, plans and keys."""
        return self._recent.get(("api", api_id, stage_name), lambda: self._read_api(api_id, stage_name))

    def function(self, name_or_arn: str) -> Function:
        return self._recent.get(("function", name_or_arn), lambda: self._read_function(name_or_arn))

    def distribution(self, distribution_id: str) -> Distribution:
        return self._recent.get(("distribution", distribution_id), lambda: self._read_distribution(distribution_id))

    def user_pool(self, pool_id: str) -> UserPool:
        return self._recent.get(("user pool", pool_id), lambda: self._read_user_pool(pool_id))

    def signing_keys(self, pool: UserPoolRef) -> dict[str, Any]:
        """The pool's JSON Web Key Set, from the emulator's ``/<pool id>/.well-known/jwks.json``.

        Read on every call (the caller keeps it): as in Cognito, a pool's keys
        are published at a well-known address for anyone to fetch, and they
        change only with the pool. Raises ``DeploymentError`` when the
        emulator cannot be reached or answers something that is not a key set.
        """
        route = f"/{pool.id}/.well-known/jwks.json"
        document = self._emulator_route(route, None, f"the signing keys of user pool {pool.id}")
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise DeploymentError(f"{self.config.emulator_endpoint}{route} answered no JSON Web Key Set")
        return document

    # -- API Gateway ---------------------------------------------------------------

    def _read_api(self, api_id: str, stage_name: str) -> RestApi:
        """What is live (stages, usage plans, keys) and what the stage's deployment serves (the rest).

        API Gateway serves a stage from its deployment: a change to a method,
        an authorizer or a gateway response is served only once the stage has a
        new deployment. The emulator keeps each deployment's snapshot
        (``local/emulator/moto_server.py``); a stage that does not exist serves nothing.
        """
        client = self.apigateway
        try:
            client.get_rest_api(restApiId=api_id)
        except ClientError as error:
            raise NotDeployed(f"REST API {api_id}: {_code(error)}") from None
        stage_items = client.get_stages(restApiId=api_id).get("item", [])
        stages = {item["stageName"]: _stage(item) for item in stage_items}
        deployment_id = next(
            (item.get("deploymentId") for item in stage_items if item["stageName"] == stage_name), None
        )
        served = self.served(api_id, deployment_id) if deployment_id else _Served((), {}, {})
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

    def served(self, api_id: str, deployment_id: str) -> _Served:
        """A deployment's snapshot, read once: a deployment never changes."""
        key = (api_id, deployment_id)
        with self._snapshots_lock:
            if key not in self._snapshots:
                self._snapshots[key] = _served(self._read_snapshot(api_id, deployment_id))
            return self._snapshots[key]

    def _read_snapshot(self, api_id: str, deployment_id: str) -> Mapping[str, Any]:
        route = f"{SNAPSHOT_ROUTE}/{self.config.region}/{api_id}/{deployment_id}"
        return self._emulator_route(route, None, f"deployment {deployment_id} of API {api_id}")

    def _emulator_route(self, route: str, body: Mapping[str, Any] | None, what: str) -> Mapping[str, Any]:
        """One of the emulator's own routes (``deploy_local.emulator_route``); ``DeploymentError`` when it fails."""
        try:
            document: Mapping[str, Any] = emulator_route(self.config, route, body)
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise DeploymentError(f"cannot read {what} ({self.config.emulator_endpoint}{route}): {error}") from None
        return document

    # -- IAM and the scheduler ---------------------------------------------------------

    def authorize(self, *, access_key_id: str, session_token: str, action: str, resource: str) -> Authorization:
        """The emulator's IAM decision on a call made to the edge (never kept: a policy may change at any time)."""
        body = {"accessKeyId": access_key_id, "sessionToken": session_token, "action": action, "resource": resource}
        return Authorization.of(self._emulator_route(AUTHORIZE_ROUTE, body, f"the decision on {action}"))

    def service_may(self, service: str, *, action: str, resource: str, context: Mapping[str, str]) -> Authorization:
        """The emulator's IAM decision on a service principal's call (CloudFront reading the site's bucket)."""
        body = {"service": service, "action": action, "resource": resource, "context": dict(context)}
        return Authorization.of(self._emulator_route(AUTHORIZE_ROUTE, body, f"the decision on {action}"))

    def schedule(self, name: str, group: str = "default") -> Schedule:
        """A deployed schedule's target (``NotDeployed`` when there is no such schedule)."""
        try:
            target = self.scheduler.get_schedule(Name=name, GroupName=group)["Target"]
        except ClientError as error:
            raise NotDeployed(f"schedule {group}/{name}: {_code(error)}") from None
        return Schedule(
            name=name,
            target_arn=target["Arn"],
            role_arn=target.get("RoleArn", ""),
            input=target.get("Input") or "{}",
            dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn", ""),
            max_retries=int((target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 185)),
        )

    # -- Cognito -----------------------------------------------------------------------

    def _read_user_pool(self, pool_id: str) -> UserPool:
        client_ids: set[str] = set()
        arguments: dict[str, Any] = {"UserPoolId": pool_id, "MaxResults": 60}
        try:
            while True:
                page = self.cognito.list_user_pool_clients(**arguments)
                client_ids.update(item["ClientId"] for item in page.get("UserPoolClients", []))
                if not page.get("NextToken"):
                    break
                arguments["NextToken"] = page["NextToken"]
        except ClientError as error:
            raise NotDeployed(f"user pool {pool_id}: {_code(error)}") from None
        return UserPool(id=pool_id, client_ids=frozenset(client_ids))

    # -- Lambda ----------------------------------------------------------------------

    def _read_function(self, name_or_arn: str) -> Function:
        try:
            configuration = self.awslambda.get_function(FunctionName=name_or_arn)["Configuration"]
        except ClientError as error:
            raise NotDeployed(f"function {name_or_arn}: {_code(error)}") from None
        try:
            policy = json.loads(self.awslambda.get_policy(FunctionName=name_or_arn)["Policy"])
        except ClientError as error:
            if _code(error) != "ResourceNotFoundException":
                raise
            policy = {}
        variables = (configuration.get("Environment") or {}).get("Variables") or {}
        return Function(
            name=configuration["FunctionName"],
            arn=configuration["FunctionArn"],
            handler=configuration["Handler"],
            runtime=configuration.get("Runtime", ""),
            timeout_seconds=int(configuration.get("Timeout", 3)),
            memory_mb=int(configuration.get("MemorySize", 128)),
            code_sha256=configuration["CodeSha256"],
            environment=tuple(sorted((str(k), str(v)) for k, v in variables.items())),
            policy=tuple(policy.get("Statement", [])),
            dead_letter_target=(configuration.get("DeadLetterConfig") or {}).get("TargetArn", ""),
            role=configuration.get("Role", ""),
            tracing_mode=(configuration.get("TracingConfig") or {}).get("Mode", "PassThrough"),
        )

    # -- CloudFront ------------------------------------------------------------------

    def _read_distribution(self, distribution_id: str) -> Distribution:
        try:
            described = self.cloudfront.get_distribution(Id=distribution_id)["Distribution"]
        except ClientError as error:
            raise NotDeployed(f"distribution {distribution_id}: {_code(error)}") from None
        config = described["DistributionConfig"]
        origins = {
            item["Id"]: Origin(
                id=item["Id"],
                domain_name=item["DomainName"],
                path=item.get("OriginPath") or "",
                custom_headers=tuple(
                    (header["HeaderName"], header["HeaderValue"])
                    for header in (item.get("CustomHeaders") or {}).get("Items") or []
                ),
                origin_access_control_id=item.get("OriginAccessControlId") or "",
            )
            for item in (config.get("Origins") or {}).get("Items") or []
        }
        return Distribution(
            id=distribution_id,
            arn=described["ARN"],
            enabled=bool(config.get("Enabled")),
            default_root_object=config.get("DefaultRootObject") or "",
            origins=origins,
            ordered=tuple(_behaviour(item) for item in (config.get("CacheBehaviors") or {}).get("Items") or []),
            default=_behaviour(config["DefaultCacheBehavior"]),
        )


@dataclass(frozen=True)
class _Served:
    """What a deployment serves: the API's resources with their methods, its authorizers, its gateway responses."""

    resources: tuple[Resource, ...]
    authorizers: Mapping[str, Authorizer]
    gateway_responses: Mapping[str, GatewayResponse]


def _served(snapshot: Mapping[str, Any]) -> _Served:
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
    return _Served(resources, authorizers, responses)


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


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "error"))


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


def _behaviour(item: Mapping[str, Any]) -> Behaviour:
    return Behaviour(
        path_pattern=item.get("PathPattern") or "",
        origin_id=item["TargetOriginId"],
        allowed_methods=frozenset((item.get("AllowedMethods") or {}).get("Items") or ("GET", "HEAD")),
        origin_request_policy_id=item.get("OriginRequestPolicyId") or "",
    )
