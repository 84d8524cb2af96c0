"""API Gateway's request validator: a method's required parameters, then its body against the model's schema.

Applied before any function runs: 400 BAD_REQUEST_PARAMETERS or BAD_REQUEST_BODY.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import SchemaError

from local.edge.apigateway.request import ApiRequest, GatewayError
from local.edge.deployment.apigateway import Method, Resource


def validate(method: Method, request: ApiRequest, resource: Resource, path: str) -> None:
    """The method's request validator: required parameters, then the body against its model."""
    validator = method.validator
    if validator is None:
        return
    if validator.parameters:
        query = {name for name, _ in request.query}
        present = {
            "querystring": lambda name: name in query,
            "header": lambda name: request.header(name) is not None,
            "path": lambda name: name in resource.path_parameters(path),
        }
        missing = []
        for parameter, required in method.request_parameters.items():
            _, _, location_and_name = parameter.partition("method.request.")
            location, _, name = location_and_name.partition(".")
            check = present.get(location)
            if required and check is not None and not check(name):
                missing.append(name)
        if missing:
            raise GatewayError("BAD_REQUEST_PARAMETERS", f"Missing required request parameters: [{', '.join(missing)}]")
    if validator.body:
        media_type = (request.header("Content-Type") or "application/json").split(";")[0].strip().lower()
        schema = method.request_models.get(media_type, method.request_models.get("$default"))
        if schema is not None and not body_matches(schema, request.body):
            raise GatewayError("BAD_REQUEST_BODY", "Invalid request body")


def body_matches(schema: Mapping[str, Any], body: bytes) -> bool:
    """Whether the body is JSON that the model's schema (draft 4, as API Gateway speaks) accepts."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        # RecursionError: nested deeper than Python's JSON parser goes (~1,000
        # levels); API Gateway refuses such a body as invalid too.
        return False
    try:
        return bool(Draft4Validator(schema).is_valid(document))
    except (SchemaError, RecursionError):
        return False
