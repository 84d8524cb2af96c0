"""Starts moto server with routes of its own and corrections of moto's behaviour.

Health route. ``GET /_emulator/health`` answers 200 with this server's pid,
without touching any service. local/emulator.sh asks it whether the emulator
answers: moto's own ``/moto-api/data.json`` describes every resource and answers
500 as soon as a Lambda function exists (moto then tries to reach Docker), which
made a running emulator look stopped. The pid lets the script check that the
server answering on the port is the process it started. Bucket names cannot
contain ``_``, so the path cannot shadow an S3 path-style request.

Two read-outs for the local system. ``GET /_emulator/lambda-code/<region>/<name>``
answers a function's deployed zip (moto's ``GetFunction`` names a location it
does not serve), which the local edge runs; ``GET /_emulator/ses-messages/<region>``
answers every e-mail SES accepted, which ``make emails`` shows.

IAM. Every request is authorized before moto sees it (``local/emulator/iam.py``):
a role session's by its role's policies and the resource's policy, the
administrator's by the resource policies' explicit denies. moto's own reading
of bucket policies (which evaluated only ``StringEquals`` and took any other
condition as holding) is switched off: ``FakeBucket.get_permission`` answers
"neutral", so a policy is read once, by the evaluator the edge uses too.
``GET /_emulator/iam/denials`` answers the refusals; ``POST /_emulator/iam/
authorize`` decides a call made to the local edge.

CloudWatch alarm actions. moto does nothing with them; here a change of an
alarm's state notifies its SNS topics as CloudWatch would, through the topic's
and its key's policies (``local/emulator/alarms.py``);
``GET /_emulator/alarm-notifications/<region>`` answers every attempt.

Repeated CreateFunction. moto answers any ``CreateFunction`` for a name that
exists with 409 ``ResourceConflictException``. Under load the AWS provider's
create reached the emulator twice (the transport repeated it after the first
had succeeded); the provider retries a 409 for 5 minutes and then fails the
apply, although the function it asked for exists. A create repeated after the
first succeeded is the same function, so the emulator answers it as created:
201 with the answer the first create got. The patch sits in moto's response
handler (``LambdaResponse.create_function``, where moto raises the 409), and
applies only when the request is the same in substance (every field it
carries; the zip compared by its SHA-256) as the create that made the function,
and the function has not changed since (configuration, tags, reserved
concurrency). Any other create for an existing name still gets moto's 409, as in
AWS. Creates are serialised so that two identical ones racing cannot both
create.

CloudFront distributions. moto answers ``GetDistribution`` with a config that
differs from the one it was given, so every ``terraform plan`` after an apply
showed the distribution changed (and every ``make up`` rewrote it): it drops
each origin's ``OriginAccessControlId``, adds ``ForwardedValues`` to cache
behaviours that use a cache policy (AWS sends none: the two are exclusive), and
invents ``SSLSupportMethod: sni-only`` for the default certificate. The patches
below keep what was sent and add nothing.

Cognito user pools. moto answers ``UpdateUserPool`` by replacing the pool's
whole configuration with the request's (over its defaults). The request cannot
carry what only ``CreateUserPool`` sets (``UsernameAttributes``,
``AliasAttributes``, ``UsernameConfiguration``), and the AWS provider sends no
``UserPoolTags`` with it (tags have calls of their own, which moto's Cognito
lacks), so after any change to the pool (turning ``staff_mfa`` on, say) moto
described a pool without sign-in by e-mail and without tags: the next plan
replaced the pool, and with it every staff account. AWS keeps all of these
across an update; so does this emulator: each is kept when the update does
not name it.
Lambda dead-letter queues. moto ignores a function's ``DeadLetterConfig`` (in
``CreateFunction`` and ``UpdateFunctionConfiguration``) and never answers one,
so every plan after an apply wanted to add it again. The patches keep the
configuration that was sent (a ``TargetArn`` of ``""`` removes it, as in AWS)
and answer it in the function's configuration. Nothing is ever sent to the
queue: the emulator invokes no function.

CloudWatch Logs query definitions. moto 5.2 has no ``PutQueryDefinition``,
``DescribeQueryDefinitions`` or ``DeleteQueryDefinition`` (the saved Logs
Insights queries of ``modules/monitoring/alarms.py``). They are answered here as AWS
does: a definition is stored per account and region with its name, query, log
groups and time of change; a put with an id replaces that definition (an
unknown id is ``ResourceNotFoundException``), one without creates a new id;
the listing filters on the name prefix, in pages of ``maxResults`` (at most
1000). No query runs: moto does not run Logs Insights queries either.

SES identities and the sandbox. moto takes an identity as verified the moment
it is asked for, and sends to any recipient. In AWS an identity stays
``Pending`` until someone follows the link SES e-mails to it, and an account in
the SES sandbox (every new one) sends only from and to verified identities. So
here: an identity made by ``VerifyEmailIdentity``, ``VerifyEmailAddress``,
``VerifyDomainIdentity`` or SESv2's ``CreateEmailIdentity`` is pending (its
verification attributes say ``Pending``); ``POST /_emulator/ses-verify/<region>/
<identity>`` does what following the link does (``make up`` for the configured
sender and recipients, ``make verify-email`` for another address); a message
whose sender or any recipient (To, Cc, Bcc) is not verified, as an address or
by its domain, is ``MessageRejected`` with AWS's text, and nothing is sent.
Deleting an identity works whatever its state (moto deleted only verified ones).
The emulator's account stays in the sandbox: it cannot be given production access.

API Gateway deployments. moto keeps no snapshot: a stage's deployment is an id
and a date. API Gateway serves a stage from its deployment, a snapshot of the
API taken when the deployment was made, so a change with no new deployment is
not served. Here ``CreateDeployment`` keeps what the API held then (its
resources with their methods and integrations, authorizers, request
validators, models, gateway responses), in the shapes of their ``Get*``
answers; ``GET /_emulator/apigateway-deployment/<region>/<api>/<deployment>``
answers it, and the local edge serves a stage from it.

API Gateway methods. moto does not implement ``UpdateMethod`` either (500),
which Terraform calls for any change to a method (its key requirement, its
validator, its authorizer): a ``make up`` over such a change hung as over a
model's. The operations API Gateway accepts on a method's own fields are
applied (``replace`` of a scalar, ``add``/``replace``/``remove`` of one
request model or parameter); any other is ``BadRequestException``.

API Gateway models. moto does not implement ``UpdateModel``: it answers 500,
which the AWS provider retries for over a quarter of an hour, so a ``make up``
over a deployment whose request model changed (a new field rule) hung. The
patch operations API Gateway accepts on a model, ``replace`` of ``/schema`` and
``/description``, are applied; any other is ``BadRequestException``, as in AWS.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import email
import functools
import hashlib
import json
import logging
import os
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import getaddresses, parseaddr
from typing import Any

import moto.server
from moto.apigateway.exceptions import BadRequestException
from moto.apigateway.models import RestAPI, apigateway_backends
from moto.apigateway.responses import APIGatewayResponse
from moto.awslambda.exceptions import InvalidParameterValueException, UnknownFunctionException
from moto.awslambda.models import LambdaFunction, lambda_backends
from moto.awslambda.responses import LambdaResponse
from moto.cloudfront import models as cloudfront_models
from moto.cognitoidp.models import CognitoIdpBackend
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.iam.access_control import PermissionResult
from moto.logs.exceptions import InvalidParameterException, ResourceNotFoundException
from moto.logs.models import LogsBackend
from moto.logs.responses import LogsResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3.models import FakeBucket
from moto.ses.exceptions import MessageRejectedError
from moto.ses.models import SESBackend, ses_backends

from local.emulator import alarms as emulator_alarms
from local.emulator import iam as emulator_iam

LAMBDA_LOG = logging.getLogger("moto_server.lambda")
HEALTH_PATH = "/_emulator/health"
#: ``GET /_emulator/lambda-code/<region>/<function name>``: the function's deployed zip. Like the
#: health route, it cannot shadow an S3 path-style request (bucket names have no ``_``).
LAMBDA_CODE_PATH = "/_emulator/lambda-code/"
#: ``GET /_emulator/ses-messages/<region>``: every e-mail SES accepted, as JSON.
SES_MESSAGES_PATH = "/_emulator/ses-messages/"
#: ``GET /_emulator/apigateway-deployment/<region>/<api>/<deployment>``: what the deployment serves.
DEPLOYMENT_SNAPSHOT_PATH = "/_emulator/apigateway-deployment/"
#: ``POST /_emulator/ses-verify/<region>/<identity>``: follow the link of an identity's verification e-mail.
SES_VERIFY_PATH = "/_emulator/ses-verify/"

# --- health route ------------------------------------------------------------


class DispatcherWithHealth(DomainDispatcherApplication):
    """moto's dispatcher, with the emulator's own routes answered before any service sees the request."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = str(environ.get("PATH_INFO", ""))
        if environ.get("REQUEST_METHOD") == "GET" and path == HEALTH_PATH:
            body = json.dumps({"emulator": "student-management", "pid": os.getpid()}).encode()
            return _answer(start_response, "200 OK", "application/json", body)
        if environ.get("REQUEST_METHOD") == "GET" and path.startswith(LAMBDA_CODE_PATH):
            return _function_code(path.removeprefix(LAMBDA_CODE_PATH), start_response)
        if environ.get("REQUEST_METHOD") == "GET" and path.startswith(SES_MESSAGES_PATH):
            return _sent_messages(path.removeprefix(SES_MESSAGES_PATH), start_response)
        if environ.get("REQUEST_METHOD") == "GET" and path.startswith(DEPLOYMENT_SNAPSHOT_PATH):
            return _deployment_snapshot(path.removeprefix(DEPLOYMENT_SNAPSHOT_PATH), start_response)
        if environ.get("REQUEST_METHOD") == "POST" and path.startswith(SES_VERIFY_PATH):
            return _verify_identity(path.removeprefix(SES_VERIFY_PATH), start_response)
        if environ.get("REQUEST_METHOD") == "GET" and path.startswith(emulator_alarms.NOTIFICATIONS_PATH):
            region = path.removeprefix(emulator_alarms.NOTIFICATIONS_PATH)
            body = json.dumps({"notifications": emulator_alarms.notifications(region)}).encode()
            return _answer(start_response, "200 OK", "application/json", body)
        if environ.get("REQUEST_METHOD") == "GET" and path == emulator_iam.DENIALS_PATH:
            return _denials(str(environ.get("QUERY_STRING", "")), start_response)
        if environ.get("REQUEST_METHOD") == "POST" and path == emulator_iam.AUTHORIZE_PATH:
            return _authorize_call(environ, start_response)
        refused = emulator_iam.authorize(environ)
        if refused is not None:
            return emulator_iam.answer(*refused, environ, start_response)
        return super().__call__(environ, start_response)


def _answer(start_response: Any, status: str, content_type: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def _sent_messages(region: str, start_response: Any) -> list[bytes]:
    """What SES "sent" in a region, oldest first: ``make emails`` shows it (moto delivers nothing)."""
    messages = [
        {
            "id": message.id,
            "source": message.source,
            "destinations": message.destinations,
            "subject": getattr(message, "subject", None),
            "body": getattr(message, "body", None),
            "raw": getattr(message, "raw_data", None),
        }
        for message in ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages
    ]
    return _answer(start_response, "200 OK", "application/json", json.dumps({"messages": messages}).encode())


def _function_code(region_and_name: str, start_response: Any) -> list[bytes]:
    """The zip a function was deployed with, as moto keeps it: what the local edge runs.

    moto's ``GetFunction`` names a code location on an S3 host it does not
    serve; this route hands out the same bytes, whose SHA-256 the caller checks
    against the function's ``CodeSha256``.
    """
    region, _, name = region_and_name.partition("/")
    try:
        function = lambda_backends[DEFAULT_ACCOUNT_ID][region].get_function(name, None)
    except (UnknownFunctionException, KeyError):
        return _answer(start_response, "404 Not Found", "application/json", b'{"message": "no such function"}')
    return _answer(start_response, "200 OK", "application/zip", bytes(function.code_bytes))


# moto.server.main builds its application from this module attribute.
moto.server.DomainDispatcherApplication = DispatcherWithHealth  # type: ignore[attr-defined]

# --- IAM ---------------------------------------------------------------------------


def _no_bucket_policy_of_moto(self: FakeBucket, action: str, resource: str) -> PermissionResult:
    """moto's bucket-policy check, answered "neutral": ``emulator_iam`` has decided before moto was asked."""
    return PermissionResult.NEUTRAL


FakeBucket.get_permission = _no_bucket_policy_of_moto  # type: ignore[method-assign]
emulator_alarms.install()


def _denials(query: str, start_response: Any) -> list[bytes]:
    after = urllib.parse.parse_qs(query).get("after", ["0"])[0]
    denials = emulator_iam.DENIALS.after(int(after) if after.isdigit() else 0)
    return _answer(start_response, "200 OK", "application/json", json.dumps({"denials": denials}).encode())


def _authorize_call(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    try:
        request = json.loads(emulator_iam.request_body(environ) or b"{}")
        decision = emulator_iam.authorize_call(request)
    except (ValueError, KeyError) as error:
        body = json.dumps({"message": f"expected accessKeyId, sessionToken, action and resource: {error}"}).encode()
        return _answer(start_response, "400 Bad Request", "application/json", body)
    return _answer(start_response, "200 OK", "application/json", json.dumps(decision).encode())


# --- repeated CreateFunction -------------------------------------------------

# Kept on moto's function object, so it goes with the function (delete, reset).
_CREATION_ATTRIBUTE = "_student_mgmt_creation"
_CREATE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Creation:
    """What made a function: the create request, the function it made, moto's answer."""

    request: str
    function: str
    answer: Any


def function_name(request: dict[str, Any]) -> str:
    """The name a create request names, as moto reads it (a name or an ARN)."""
    return str(request["FunctionName"]).rsplit(":", 1)[-1]


def canonical_request(request: dict[str, Any]) -> str:
    """The request in substance: every field it carries, key order aside, the zip by its digest."""
    canonical = copy.deepcopy(request)
    canonical["FunctionName"] = function_name(request)
    code = canonical.get("Code")
    if isinstance(code, dict) and isinstance(code.get("ZipFile"), str):
        # Not base64: compared as sent.
        with contextlib.suppress(binascii.Error, ValueError):
            code["ZipFile"] = "sha256:" + hashlib.sha256(base64.b64decode(code["ZipFile"])).hexdigest()
    return json.dumps(canonical, sort_keys=True, default=str)


def function_state(function: Any) -> str:
    """What a later change to the function would change."""
    state = {
        "configuration": function.get_configuration(),
        "tags": function.tags,
        "reserved_concurrency": function.reserved_concurrency,
    }
    return json.dumps(state, sort_keys=True, default=str)


_moto_create_function = LambdaResponse.create_function


def create_function(self: LambdaResponse) -> Any:
    request = self.json_body
    name = function_name(request)
    with _CREATE_LOCK:
        try:
            existing = self.backend.get_function(name, None)
        except UnknownFunctionException:
            existing = None
        if existing is None:
            # moto mutates the spec it is given (Code gains UUID and S3Key), so the
            # request is recorded from its own parse of the body.
            status, headers, answer = _moto_create_function(self)
            created = self.backend.get_function(name, None)
            setattr(created, _CREATION_ATTRIBUTE, Creation(canonical_request(request), function_state(created), answer))
            return status, headers, answer
        creation = getattr(existing, _CREATION_ATTRIBUTE, None)
        if (
            isinstance(creation, Creation)
            and creation.request == canonical_request(request)
            and creation.function == function_state(existing)
        ):
            # A warning, so that it shows in moto.log without any logging set-up.
            LAMBDA_LOG.warning("CreateFunction %s repeated unchanged: answered as created", name)
            return 201, {"status": 201}, creation.answer
        return _moto_create_function(self)  # moto's 409 ResourceConflictException


LambdaResponse.create_function = create_function  # type: ignore[method-assign]


# --- CloudFront: answer with the distribution that was created ---------------


def _keep_origin_access_control(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def wrapped(self: Any, origin: dict[str, Any]) -> None:
        init(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId", "")

    return wrapped


def _forwarded_values_only_if_given(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def wrapped(self: Any, config: dict[str, Any]) -> None:
        init(self, config)
        if "ForwardedValues" not in config:
            self.forwarded_values = None

    return wrapped


def _ssl_support_method_only_if_given(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def wrapped(self: Any, config: dict[str, Any]) -> None:
        init(self, config)
        if not config.get("SSLSupportMethod"):
            self.ssl_support_method = None

    return wrapped


cloudfront_models.Origin.__init__ = _keep_origin_access_control(cloudfront_models.Origin.__init__)  # type: ignore[method-assign]
cloudfront_models.DefaultCacheBehaviour.__init__ = _forwarded_values_only_if_given(  # type: ignore[method-assign]
    cloudfront_models.DefaultCacheBehaviour.__init__
)
cloudfront_models.ViewerCertificate.__init__ = _ssl_support_method_only_if_given(  # type: ignore[method-assign]
    cloudfront_models.ViewerCertificate.__init__
)


# --- Cognito: an update keeps what it does not name --------------------------

#: Set by CreateUserPool only (UpdateUserPool has no such parameters), or, for the
#: tags, by calls of their own: an update leaves them as they are, in AWS.
USER_POOL_KEPT_BY_UPDATE = ("UsernameAttributes", "AliasAttributes", "UsernameConfiguration", "UserPoolTags")

_moto_update_user_pool = CognitoIdpBackend.update_user_pool


def update_user_pool(self: CognitoIdpBackend, user_pool_id: str, extended_config: dict[str, Any]) -> None:
    current = self.describe_user_pool(user_pool_id).extended_config
    kept = {key: current[key] for key in USER_POOL_KEPT_BY_UPDATE if key in current and key not in extended_config}
    _moto_update_user_pool(self, user_pool_id, {**extended_config, **kept})


CognitoIdpBackend.update_user_pool = update_user_pool  # type: ignore[method-assign]
# --- Lambda: keep a function's dead-letter queue ------------------------------

# Kept on moto's function object, so it goes with the function (delete, reset).
_DEAD_LETTER_ATTRIBUTE = "_student_mgmt_dead_letter_config"


def _set_dead_letter_config(function: Any, config: Any) -> None:
    """``config`` as AWS takes it: a ``TargetArn``, or none (``""`` or no config) for no queue.

    As Lambda does, the execution role must be allowed to send to the target
    (``sqs:SendMessage`` on a queue, ``sns:Publish`` on a topic), or the
    function is not created or changed.
    """
    target = config.get("TargetArn") if isinstance(config, dict) else None
    if target:
        service, action = ("SNS", "sns:Publish") if ":sns:" in target else ("SQS", "sqs:SendMessage")
        if not emulator_iam.role_may(function.role, action, target).allowed:
            verb = action.split(":")[1]
            raise InvalidParameterValueException(
                f"The provided execution role does not have permissions to call {verb} on {service}"
            )
    setattr(function, _DEAD_LETTER_ATTRIBUTE, {"TargetArn": target} if target else None)


def _keep_dead_letter_config(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def wrapped(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        init(self, account_id, spec, *args, **kwargs)
        _set_dead_letter_config(self, spec.get("DeadLetterConfig"))

    return wrapped


def _update_dead_letter_config(update: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @functools.wraps(update)
    def wrapped(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            _set_dead_letter_config(self, config_updates["DeadLetterConfig"])
        return update(self, config_updates)

    return wrapped


def _answer_dead_letter_config(get_configuration: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @functools.wraps(get_configuration)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = get_configuration(self, *args, **kwargs)
        dead_letter = getattr(self, _DEAD_LETTER_ATTRIBUTE, None)
        if dead_letter:
            config["DeadLetterConfig"] = dict(dead_letter)
        return config

    return wrapped


LambdaFunction.__init__ = _keep_dead_letter_config(LambdaFunction.__init__)  # type: ignore[method-assign]
LambdaFunction.update_configuration = _update_dead_letter_config(  # type: ignore[method-assign]
    LambdaFunction.update_configuration
)
LambdaFunction.get_configuration = _answer_dead_letter_config(  # type: ignore[method-assign]
    LambdaFunction.get_configuration
)

# --- CloudWatch Logs: saved queries (query definitions) ------------------------

# Kept on moto's logs backend of each account and region, so a reset clears them.
_QUERY_DEFINITIONS_ATTRIBUTE = "_student_mgmt_query_definitions"
#: DescribeQueryDefinitions' largest page (and its default), as in AWS.
MAX_QUERY_DEFINITIONS = 1000


def query_definitions(backend: LogsBackend) -> dict[str, dict[str, Any]]:
    """The backend's query definitions by id, created empty on first use."""
    definitions: dict[str, dict[str, Any]] | None = getattr(backend, _QUERY_DEFINITIONS_ATTRIBUTE, None)
    if definitions is None:
        definitions = {}
        setattr(backend, _QUERY_DEFINITIONS_ATTRIBUTE, definitions)
    return definitions


def put_query_definition(self: LogsResponse) -> str:
    definitions = query_definitions(self.logs_backend)
    definition_id = self._get_param("queryDefinitionId")
    if definition_id and definition_id not in definitions:
        raise ResourceNotFoundException(f"Query definition {definition_id} does not exist.")
    name, query = self._get_param("name"), self._get_param("queryString")
    if not name or not query:
        raise InvalidParameterException("name and queryString are required.")
    definition_id = definition_id or str(uuid.uuid4())
    definition: dict[str, Any] = {
        "queryDefinitionId": definition_id,
        "name": name,
        "queryString": query,
        "lastModified": int(time.time() * 1000),
        "logGroupNames": list(self._get_param("logGroupNames") or []),
    }
    if self._get_param("queryLanguage"):
        definition["queryLanguage"] = self._get_param("queryLanguage")
    definitions[definition_id] = definition
    return json.dumps({"queryDefinitionId": definition_id})


def describe_query_definitions(self: LogsResponse) -> str:
    prefix = self._get_param("queryDefinitionNamePrefix") or ""
    page_size = int(self._get_param("maxResults") or MAX_QUERY_DEFINITIONS)
    if not 1 <= page_size <= MAX_QUERY_DEFINITIONS:
        raise InvalidParameterException(f"maxResults must be from 1 to {MAX_QUERY_DEFINITIONS}.")
    matching = sorted(
        (d for d in query_definitions(self.logs_backend).values() if d["name"].startswith(prefix)),
        key=lambda d: (d["name"], d["queryDefinitionId"]),
    )
    start = int(self._get_param("nextToken") or 0)
    answer: dict[str, Any] = {"queryDefinitions": matching[start : start + page_size]}
    if start + page_size < len(matching):
        answer["nextToken"] = str(start + page_size)
    return json.dumps(answer)


def delete_query_definition(self: LogsResponse) -> str:
    definition_id = self._get_param("queryDefinitionId")
    if query_definitions(self.logs_backend).pop(definition_id, None) is None:
        raise ResourceNotFoundException(f"Query definition {definition_id} does not exist.")
    return json.dumps({"success": True})


# moto's response handler dispatches an action to the method of its snake_case name.
LogsResponse.put_query_definition = put_query_definition  # type: ignore[attr-defined]
LogsResponse.describe_query_definitions = describe_query_definitions  # type: ignore[attr-defined]
LogsResponse.delete_query_definition = delete_query_definition  # type: ignore[attr-defined]


# --- API Gateway models ---------------------------------------------------------------------

_MODEL_PATCH_PATHS = {"/schema": "schema", "/description": "description"}


def update_model(self: APIGatewayResponse) -> str:
    _, _, rest_api_id, _, model_name = self.path.split("/")[:5]
    model = self.backend.get_model(rest_api_id, model_name)  # ModelNotFound (404) when there is none
    operations = self._get_param("patchOperations") or []
    for operation in operations:
        attribute = _MODEL_PATCH_PATHS.get(operation.get("path", ""))
        if operation.get("op") != "replace" or attribute is None:
            raise BadRequestException(f"Invalid patch operation: {operation.get('op')} {operation.get('path')}")
    for operation in operations:
        setattr(model, _MODEL_PATCH_PATHS[operation["path"]], operation.get("value"))
    return json.dumps(model.to_json())


def _boolean(value: str) -> bool:
    return value.lower() == "true"


#: A method's scalar fields that ``replace`` sets, and how a patch value (always a string) is read.
_METHOD_FIELDS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "/apiKeyRequired": ("api_key_required", _boolean),
    "/authorizationType": ("authorization_type", str),
    "/authorizerId": ("authorizer_id", str),
    "/requestValidatorId": ("request_validator_id", str),
    "/operationName": ("operation_name", str),
}
#: A method's maps whose entries ``add``, ``replace`` and ``remove`` change, one key per operation.
_METHOD_MAPS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "/requestModels/": ("request_models", str),
    "/requestParameters/": ("request_parameters", _boolean),
}


def update_method(self: APIGatewayResponse) -> str:
    _, _, rest_api_id, _, resource_id, _, method_type = self.path.split("/")[:7]
    method = self.backend.get_method(rest_api_id, resource_id, method_type)  # 404 when there is none
    operations = self._get_param("patchOperations") or []
    changes: list[Callable[[], None]] = []
    for operation in operations:
        op, path, value = operation.get("op"), operation.get("path", ""), operation.get("value")
        field = _METHOD_FIELDS.get(path)
        prefix = next((p for p in _METHOD_MAPS if path.startswith(p) and len(path) > len(p)), None)
        if field is not None and op == "replace":
            attribute, read = field
            changes.append(functools.partial(setattr, method, attribute, read(str(value))))
        elif prefix is not None and op in ("add", "replace", "remove"):
            attribute, read = _METHOD_MAPS[prefix]
            key = path.removeprefix(prefix).replace("~1", "/")
            changes.append(
                functools.partial(_patch_entry, method, attribute, key, None if op == "remove" else read(str(value)))
            )
        else:
            raise BadRequestException(f"Invalid patch operation: {op} {path}")
    for change in changes:  # all or nothing: every operation was checked first
        change()
    return json.dumps(method.to_json())


def _patch_entry(method: Any, attribute: str, key: str, value: Any) -> None:
    entries = dict(getattr(method, attribute) or {})
    if value is None:
        entries.pop(key, None)
    else:
        entries[key] = value
    setattr(method, attribute, entries or None)


# moto's REST dispatcher calls the method of the operation's snake_case name.
APIGatewayResponse.update_model = update_model  # type: ignore[attr-defined]
APIGatewayResponse.update_method = update_method  # type: ignore[attr-defined]

# --- API Gateway: a deployment keeps what the API held ------------------------------------------

_SNAPSHOT_ATTRIBUTE = "_student_mgmt_snapshot"
_moto_create_deployment = RestAPI.create_deployment


def snapshot(api: RestAPI) -> dict[str, Any]:
    """What a deployment of ``api`` made now serves, as moto answers each part (a deep copy, as JSON)."""
    served = {
        "resources": [resource.to_dict() for resource in api.resources.values()],
        "authorizers": [authorizer.to_json() for authorizer in api.authorizers.values()],
        "requestValidators": [validator.to_dict() for validator in api.get_request_validators()],
        "models": [model.to_json() for model in api.models.values()],
        "gatewayResponses": [response.to_json() for response in api.gateway_responses.values()],
    }
    copied: dict[str, Any] = json.loads(json.dumps(served, default=str))
    return copied


def create_deployment(self: RestAPI, name: str, description: str, stage_variables: Any = None) -> Any:
    deployment = _moto_create_deployment(self, name, description, stage_variables)
    setattr(deployment, _SNAPSHOT_ATTRIBUTE, snapshot(self))
    return deployment


def _deployment_snapshot(region_api_deployment: str, start_response: Any) -> list[bytes]:
    region, _, rest = region_api_deployment.partition("/")
    api_id, _, deployment_id = rest.partition("/")
    try:
        api = apigateway_backends[DEFAULT_ACCOUNT_ID][region].apis[api_id]
        served = getattr(api.deployments[deployment_id], _SNAPSHOT_ATTRIBUTE)
    except (KeyError, AttributeError):
        body = json.dumps({"message": f"no deployment {deployment_id} of API {api_id} in {region}"}).encode()
        return _answer(start_response, "404 Not Found", "application/json", body)
    return _answer(start_response, "200 OK", "application/json", json.dumps(served).encode())


RestAPI.create_deployment = create_deployment  # type: ignore[method-assign]

# --- SES: identities pending until verified; the sandbox's recipients ----------------------

#: SESv2's verification states; SES v1 answers them as ``Pending`` and ``Success``.
PENDING, VERIFIED = "PENDING", "SUCCESS"
_V1_STATUS = {PENDING: "Pending", VERIFIED: "Success"}
_moto_create_email_identity = SESBackend.create_email_identity_v2
_moto_send_email = SESBackend.send_email
_moto_send_templated_email = SESBackend.send_templated_email
_moto_send_raw_email = SESBackend.send_raw_email


def create_email_identity(self: SESBackend, email_identity: str, *args: Any, **kwargs: Any) -> Any:
    """Every way of asking for an identity ends here: it starts pending, as in AWS."""
    existing = self.email_identities.get(email_identity)
    identity = _moto_create_email_identity(self, email_identity, *args, **kwargs)
    identity.verification_status = existing.verification_status if existing is not None else PENDING
    identity.verified_for_sending_status = identity.verification_status == VERIFIED
    return identity


def is_verified(self: SESBackend, address: str) -> bool:
    """Verified as the address itself or as its domain, and not merely pending."""
    _, plain = parseaddr(address)
    for name in (plain, plain.split("@", 1)[-1].lower()):
        identity = self.email_identities.get(name)
        if identity is not None and identity.verification_status == VERIFIED:
            return True
    return False


def _refuse_unverified(backend: SESBackend, source: str, recipients: list[str]) -> None:
    """The sandbox: a sender and every recipient must be verified, or nothing is sent."""
    failed = [address for address in [source, *recipients] if not is_verified(backend, address)]
    if failed:
        backend.rejected_messages_count += 1
        raise MessageRejectedError(
            "Email address is not verified. The following identities failed the check in region "
            f"{backend.region_name.upper()}: {', '.join(failed)}"
        )


def send_email(self: SESBackend, source: str, subject: str, body: str, destinations: dict[str, list[str]]) -> Any:
    _refuse_unverified(self, source, [address for addresses in destinations.values() for address in addresses])
    return _moto_send_email(self, source, subject, body, destinations)


def send_templated_email(self: SESBackend, source: str, template: str, template_data: str, destinations: Any) -> Any:
    _refuse_unverified(self, source, [address for addresses in destinations.values() for address in addresses])
    return _moto_send_templated_email(self, source, template, template_data, destinations)


def send_raw_email(self: SESBackend, source: str, destinations: list[str], raw_data: str) -> Any:
    message = email.message_from_string(raw_data)
    sender = source or message.get("From", "")
    recipients = list(destinations) or [address for _, address in getaddresses(message.get_all("To", []))]
    _refuse_unverified(self, sender, recipients)
    return _moto_send_raw_email(self, source, destinations, raw_data)


def get_identity_verification_attributes(
    self: SESBackend, identities: list[str] | None = None
) -> dict[str, dict[str, str]]:
    return {
        name: {"VerificationStatus": _V1_STATUS[identity.verification_status]}
        for name, identity in self.email_identities.items()
        if identities is not None and name in identities
    }


def delete_identity(self: SESBackend, identity: str) -> None:
    self.email_identities.pop(identity, None)


def _verify_identity(region_and_identity: str, start_response: Any) -> list[bytes]:
    """What following the link of SES's verification e-mail does: the identity becomes verified."""
    region, _, name = region_and_identity.partition("/")
    name = urllib.parse.unquote(name)
    try:
        identity = ses_backends[DEFAULT_ACCOUNT_ID][region].email_identities[name]
    except KeyError:
        body = json.dumps({"message": f"no identity {name!r} in {region}: ask SES to verify it first"}).encode()
        return _answer(start_response, "404 Not Found", "application/json", body)
    identity.verification_status = VERIFIED
    identity.verified_for_sending_status = True
    body = json.dumps({"identity": name, "VerificationStatus": _V1_STATUS[VERIFIED]}).encode()
    return _answer(start_response, "200 OK", "application/json", body)


SESBackend.create_email_identity_v2 = create_email_identity  # type: ignore[method-assign]
SESBackend._is_verified_address = is_verified  # type: ignore[method-assign,assignment]
SESBackend.send_email = send_email  # type: ignore[method-assign]
SESBackend.send_templated_email = send_templated_email  # type: ignore[method-assign]
SESBackend.send_raw_email = send_raw_email  # type: ignore[method-assign]
SESBackend.get_identity_verification_attributes = get_identity_verification_attributes  # type: ignore[method-assign]
SESBackend.delete_identity = delete_identity  # type: ignore[method-assign]

if __name__ == "__main__":
    moto.server.main()
