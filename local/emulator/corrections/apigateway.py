"""API Gateway: ``UpdateMethod`` and ``UpdateModel``, and a deployment that keeps what the API held.

API Gateway deployments. moto keeps no snapshot: a stage's deployment is an id
and a date. API Gateway serves a stage from its deployment, a snapshot of the
API taken when the deployment was made, so a change with no new deployment is
not served. Here ``CreateDeployment`` keeps what the API held then (its
resources with their methods and integrations, authorizers, request
validators, models, gateway responses), in the shapes of their ``Get*``
answers; ``GET /_emulator/apigateway-deployment/<region>/<api>/<deployment>``
answers it, and the local edge serves a stage from it.

API Gateway models. moto does not implement ``UpdateModel``: it answers 500,
which the AWS provider retries for over a quarter of an hour, so a ``make up``
over a deployment whose request model changed (a new field rule) hung. The
patch operations API Gateway accepts on a model, ``replace`` of ``/schema`` and
``/description``, are applied; any other is ``BadRequestException``, as in AWS.

API Gateway methods. moto does not implement ``UpdateMethod`` either (500),
which Terraform calls for any change to a method (its key requirement, its
validator, its authorizer): a ``make up`` over such a change hung as over a
model's. The operations API Gateway accepts on a method's own fields are
applied (``replace`` of a scalar, ``add``/``replace``/``remove`` of one
request model or parameter); any other is ``BadRequestException``.

API Gateway usage plans. moto keeps a patched quota limit as text; the AWS
provider cannot read the plan back then, so every plan or destroy after a
change of ``api_daily_quota`` failed. The limit and offset stay numbers.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, Final

from moto.apigateway.exceptions import BadRequestException
from moto.apigateway.models import RestAPI, UsagePlan, apigateway_backends
from moto.apigateway.responses import APIGatewayResponse
from moto.core.models import DEFAULT_ACCOUNT_ID

from local.emulator.wsgi import answer

#: ``GET /_emulator/apigateway-deployment/<region>/<api>/<deployment>``: what the deployment serves.
DEPLOYMENT_SNAPSHOT_PATH: Final = "/_emulator/apigateway-deployment/"

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


def deployment_snapshot(region_api_deployment: str, start_response: Any) -> list[bytes]:
    region, _, rest = region_api_deployment.partition("/")
    api_id, _, deployment_id = rest.partition("/")
    try:
        api = apigateway_backends[DEFAULT_ACCOUNT_ID][region].apis[api_id]
        served = getattr(api.deployments[deployment_id], _SNAPSHOT_ATTRIBUTE)
    except (KeyError, AttributeError):
        body = json.dumps({"message": f"no deployment {deployment_id} of API {api_id} in {region}"}).encode()
        return answer(start_response, "404 Not Found", "application/json", body)
    return answer(start_response, "200 OK", "application/json", json.dumps(served).encode())


_moto_apply_usage_plan_patch = UsagePlan.apply_patch_operations


def apply_usage_plan_patch(self: UsagePlan, patch_operations: Any) -> None:
    """``UpdateUsagePlan`` as AWS answers it: a quota's limit and offset stay numbers.

    moto keeps a patched ``/quota/limit`` as the patch's text ("999"); AWS's answer has an integer, and the
    AWS provider fails to read a usage plan whose limit is a string (every later plan or destroy of it).
    """
    _moto_apply_usage_plan_patch(self, patch_operations)
    for field in ("limit", "offset"):
        if isinstance(self.quota.get(field), str):
            self.quota[field] = int(self.quota[field])


def install() -> None:
    """Patch moto (once: ``moto_server.py`` installs every correction as it starts)."""
    UsagePlan.apply_patch_operations = apply_usage_plan_patch  # type: ignore[method-assign]
    # moto's REST dispatcher calls the method of the operation's snake_case name.
    APIGatewayResponse.update_model = update_model  # type: ignore[attr-defined]
    APIGatewayResponse.update_method = update_method  # type: ignore[attr-defined]
    RestAPI.create_deployment = create_deployment  # type: ignore[method-assign]
