"""API Gateway's Cognito user pool authorizer (``COGNITO_USER_POOLS``) for REST APIs, played on loopback.

A method whose ``authorizationType`` is ``COGNITO_USER_POOLS`` names one of
the API's authorizers; the authorizer names its user pools (``providerARNs``)
and where the token is (``identitySource``, a request header). The edge checks
the token as API Gateway does, and refuses with 401 UNAUTHORIZED:

- no header, or an empty one: ``Unauthorized``;
- a value that is not a signed JWT (a ``Bearer `` prefix is taken off first:
  API Gateway's Cognito authorizer is seen to accept the token with or without
  it; the page sends it without);
- an issuer (``iss``) that is not ``https://cognito-idp.<region>.amazonaws.com/<pool id>``
  of one of the authorizer's pools;
- a signature that the pool's signing keys do not verify (RS256 only; the key
  named by the token's ``kid``);
- the wrong kind of token: without ``authorizationScopes`` on the method, API
  Gateway expects an ID token (``token_use`` ``id``, ``aud`` one of the pool's
  app clients); with them, an access token (``token_use`` ``access``,
  ``client_id`` one of the pool's app clients, a ``scope`` the method lists);
- an audience that does not match the authorizer's ``identityValidationExpression``;
- an expired token: ``The incoming token has expired``.

A token that passes gives the proxy event ``requestContext.authorizer.claims``,
every claim a string as API Gateway passes them: a list joined with commas
(``cognito:groups`` ``admin,staff``), ``exp`` and ``iat`` as
``Thu Dec 06 17:08:23 UTC 2018``, other numbers and booleans as their JSON text.

Signature and claims are verified with ``joserfc`` (a maintained JOSE library,
the one moto itself signs with). A pool's signing keys are its JSON Web Key Set,
fetched from the emulator (``GET <endpoint>/<pool id>/.well-known/jwks.json``,
where Cognito publishes them at ``https://cognito-idp.<region>.amazonaws.com/<pool id>/...``)
the first time a token names the pool, and kept: they change only with the pool.

Difference from AWS: moto signs the tokens of every pool with one fixed key
(``kid`` ``dummy``), where Cognito gives each pool keys of its own. A token of
another pool therefore has a signature that verifies here: the issuer check
(made first, as a verifier chooses a pool's keys by the token's issuer) and the
audience check (each pool has app clients of its own) are what tell pools
apart, and each is tested on its own. Verdicts are never cached here, whatever
the authorizer's ``authorizerResultTtlInSeconds``: every request's token is
checked, which is what the project's authorizer (a TTL of 0) asks of AWS too.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

from local.edge.deployment.apigateway import Authorizer, Method
from local.edge.deployment.cognito import UserPool, UserPoolRef
from local.edge.deployment.errors import DeploymentError, NotDeployed

COGNITO_USER_POOLS: Final = "COGNITO_USER_POOLS"
#: The only algorithm Cognito signs tokens with.
ALGORITHMS: Final = ("RS256",)
HEADER_SOURCE: Final = "method.request.header."
UNAUTHORIZED: Final = "Unauthorized"
EXPIRED: Final = "The incoming token has expired"
#: Claims API Gateway passes as a date, in Java's ``Date.toString()`` form (always UTC there).
DATE_CLAIMS: Final = frozenset({"exp", "iat"})
_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Refused(Exception):  # noqa: N818 - reads as what it reports: the token is refused
    """The request is not authorized: ``message`` is the caller's answer, ``reason`` the edge's log line."""

    def __init__(self, reason: str, message: str = UNAUTHORIZED) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


class Misconfigured(Exception):  # noqa: N818 - reads as what it reports
    """The method's authorizer cannot be applied (missing, of a kind the edge does not serve): a 500."""


class Unavailable(Exception):  # noqa: N818 - reads as what it reports
    """The pool's signing keys cannot be read from the emulator: a 500, and nothing is admitted."""


class Pools(Protocol):
    """What the authorizer reads of the deployment (``Deployment`` in the edge)."""

    def user_pool(self, pool_id: str) -> UserPool: ...

    def signing_keys(self, pool: UserPoolRef) -> dict[str, Any]: ...


class CognitoAuthorizer:
    """Checks a request's token for a method, as the method's Cognito authorizer would."""

    def __init__(self, pools: Pools) -> None:
        self._pools = pools
        self._keys: dict[str, KeySet] = {}
        self._lock = threading.Lock()

    def claims(
        self, authorizer: Authorizer | None, method: Method, header: Callable[[str], str | None]
    ) -> dict[str, str]:
        """The token's claims as API Gateway passes them; raises ``Refused``, ``Misconfigured`` or ``Unavailable``."""
        if authorizer is None:
            raise Misconfigured(f"names authorizer {method.authorizer_id or '(none)'}, which the API does not have")
        if authorizer.type != COGNITO_USER_POOLS:
            raise Misconfigured(f"authorizer {authorizer.name} is of type {authorizer.type}, not served by the edge")
        if not authorizer.identity_source.startswith(HEADER_SOURCE):
            raise Misconfigured(f"authorizer {authorizer.name} reads {authorizer.identity_source}, not a header")
        token = _token(header(authorizer.identity_source.removeprefix(HEADER_SOURCE)))
        pools = {ref.issuer: ref for ref in map(UserPoolRef.of, authorizer.provider_arns) if ref is not None}
        unverified = _unverified(token)
        pool = pools.get(str(unverified.get("iss")))
        if pool is None:
            raise Refused(f"issuer {unverified.get('iss')!r} is none of authorizer {authorizer.name}'s pools")
        claims = self._verified(token, pool)
        _check_kind(claims, method, self._clients(pool), authorizer)
        try:
            jwt.JWTClaimsRegistry(exp={"essential": True}).validate(claims)
        except ExpiredTokenError:
            raise Refused("the token has expired", EXPIRED) from None
        except JoseError as error:
            raise Refused(f"claims: {error}") from None
        return {name: claim_text(name, value) for name, value in claims.items()}

    def _verified(self, token: str, pool: UserPoolRef) -> dict[str, Any]:
        """The token's claims once its signature verifies with the pool key its ``kid`` names."""
        try:
            kid = jws.extract_compact(token.encode()).headers().get("kid")
            key = self._key_set(pool).get_by_kid(kid) if isinstance(kid, str) else None
        except (JoseError, ValueError):
            key = None
        if key is None:
            raise Refused(f"no signing key of pool {pool.id} is named by the token")
        try:
            return dict(jwt.decode(token, key, algorithms=list(ALGORITHMS)).claims)
        except (JoseError, ValueError) as error:
            raise Refused(f"the signature does not verify: {type(error).__name__}") from None

    def _key_set(self, pool: UserPoolRef) -> KeySet:
        with self._lock:
            kept = self._keys.get(pool.id)
            if kept is not None:
                return kept
            try:
                keys = KeySet.import_key_set(self._pools.signing_keys(pool))  # type: ignore[arg-type] # a JWKS document
            except DeploymentError as error:
                raise Unavailable(str(error)) from None
            except (JoseError, ValueError, TypeError) as error:
                raise Unavailable(f"the signing keys of pool {pool.id} are not a key set: {error}") from None
            self._keys[pool.id] = keys
            return keys

    def _clients(self, pool: UserPoolRef) -> frozenset[str]:
        try:
            return self._pools.user_pool(pool.id).client_ids
        except NotDeployed as missing:
            raise Refused(f"{missing}: its tokens are refused") from None


def _token(value: str | None) -> str:
    token = (value or "").strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise Refused("no token in the authorizer's header")
    return token


def _unverified(token: str) -> Mapping[str, Any]:
    """The payload, read before any check: only to find the pool whose keys verify it."""
    try:
        claims = json.loads(jws.extract_compact(token.encode()).payload)
    except (JoseError, ValueError, UnicodeError):
        raise Refused("the token is not a JSON Web Token") from None
    if not isinstance(claims, dict):
        raise Refused("the token's payload is not a JSON object")
    return claims


def _check_kind(claims: Mapping[str, Any], method: Method, clients: frozenset[str], authorizer: Authorizer) -> None:
    """ID token or access token, as the method's scopes decide, for one of the pool's app clients."""
    scopes = method.authorization_scopes
    expected, audience_claim = ("access", "client_id") if scopes else ("id", "aud")
    if claims.get("token_use") != expected:
        raise Refused(f"a {claims.get('token_use')!r} token where an {expected!r} token is expected")
    audience = claims.get(audience_claim)
    if not isinstance(audience, str) or audience not in clients:
        raise Refused(f"{audience_claim} is not an app client of the pool")
    pattern = authorizer.identity_validation_expression
    if pattern and re.fullmatch(pattern, audience) is None:
        raise Refused(f"{audience_claim} does not match the authorizer's identity validation expression")
    if scopes and not set(str(claims.get("scope", "")).split()) & set(scopes):
        raise Refused(f"the token has none of the method's scopes {', '.join(scopes)}")


def claim_text(name: str, value: object) -> str:
    """A claim as API Gateway hands it to the function: always a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if name in DATE_CLAIMS and isinstance(value, int | float):
        try:
            moment = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):  # past year 9999: no date to write
            return json.dumps(value)
        day, month = _DAYS[moment.weekday()], _MONTHS[moment.month - 1]
        return f"{day} {month} {moment:%d %H:%M:%S} UTC {moment.year}"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join(item if isinstance(item, str) else json.dumps(item) for item in value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
