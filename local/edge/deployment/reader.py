"""The deployment reader: the one object the edge asks what is deployed, each answer kept about a second.

It holds the emulator's boto3 clients (made once: sharing them between
threads is safe, creating them is not) and reads the emulator's own routes;
each service's answers are read into their shapes by that service's module
of this package.
"""

from __future__ import annotations

import threading
import time
import urllib.error
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from config.settings import AppConfig
from local.deploy import emulator_client, emulator_route
from local.edge.deployment.apigateway import SNAPSHOT_ROUTE, RestApi, Served, parse_snapshot, read_rest_api
from local.edge.deployment.awslambda import Function, read_function
from local.edge.deployment.cloudfront import Distribution, read_distribution
from local.edge.deployment.cognito import UserPool, UserPoolRef, read_user_pool
from local.edge.deployment.errors import DeploymentError
from local.edge.deployment.iam import AUTHORIZE_ROUTE, Authorization
from local.edge.deployment.outputs import Outputs
from local.edge.deployment.scheduler import Schedule, read_schedule

#: How long an answer of the emulator is used before it is asked again.
MAX_AGE_SECONDS: Final = 1.0

Value = TypeVar("Value")


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
        self._snapshots: dict[tuple[str, str], Served] = {}
        self._snapshots_lock = threading.Lock()
        self._recent = _Recent()

    def outputs(self) -> Outputs:
        return self._recent.get("outputs", lambda: Outputs.read(self.outputs_path))

    def rest_api(self, api_id: str, stage_name: str) -> RestApi:
        """The API as ``stage_name`` serves it: its deployment's snapshot, with today's stages, plans and keys."""
        return self._recent.get(
            ("api", api_id, stage_name), lambda: read_rest_api(self.apigateway, api_id, stage_name, self.served)
        )

    def function(self, name_or_arn: str) -> Function:
        return self._recent.get(("function", name_or_arn), lambda: read_function(self.awslambda, name_or_arn))

    def distribution(self, distribution_id: str) -> Distribution:
        return self._recent.get(
            ("distribution", distribution_id), lambda: read_distribution(self.cloudfront, distribution_id)
        )

    def user_pool(self, pool_id: str) -> UserPool:
        return self._recent.get(("user pool", pool_id), lambda: read_user_pool(self.cognito, pool_id))

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

    # -- API Gateway: a deployment's snapshot -------------------------------------------

    def served(self, api_id: str, deployment_id: str) -> Served:
        """A deployment's snapshot, read once: a deployment never changes."""
        key = (api_id, deployment_id)
        with self._snapshots_lock:
            if key not in self._snapshots:
                self._snapshots[key] = parse_snapshot(self._read_snapshot(api_id, deployment_id))
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
        return read_schedule(self.scheduler, name, group)
