"""Staff sign-in through the local edge: the Cognito authorizer (``authorizer.py``) and the ``/_cognito/`` proxy.

The gateway tests state the API as ``tests/local/test_local_edge.py`` does, and run
its echo function in real workers, so a test sees the proxy event the function
got. The tokens are real: moto's Cognito, in-process, signs them with moto's
key, and the pools' app clients are read by ``Deployment``'s own code from
that same in-process Cognito. An expired or foreign-keyed token is minted here
with moto's private key (``moto/cognitoidp/resources/jwks-private.json``).

The last tests run against a private moto server (``local/emulator.sh``,
its own port and state directory) and a real edge on free ports: the page's
Cognito calls through ``POST /_cognito/`` on the site port, and an API whose
authorizer and methods the edge reads from that emulator.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from moto import mock_aws
from moto.utilities.utils import load_resource
from werkzeug.datastructures import Headers

from config.settings import APP_STACK, LOCAL_COGNITO_PATH
from lambdas.backup.handler import ADMIN_ONLY
from lambdas.common import names
from local.edge.apigateway.authorizer import claim_text
from local.edge.apigateway.gateway import Gateway
from local.edge.apigateway.request import ApiAnswer, ApiRequest
from local.edge.apigateway.usage import Meter
from local.edge.awslambda.functions import Functions
from local.edge.deployment.apigateway import Authorizer, GatewayResponse, Integration, Method, Resource, RestApi
from local.edge.deployment.awslambda import Function
from local.edge.deployment.cognito import UserPoolRef
from local.edge.deployment.errors import DeploymentError, NotDeployed
from local.edge.deployment.reader import Deployment
from local.edge.server import Edge, EdgeLog
from modules.functions.catalog import BACKUP, FUNCTIONS
from tests.conftest import ROOT, EmulatorSettings, free_port, run, tool_env
from tests.local.test_local_edge import (
    ACCOUNT,
    API_ID,
    CORS,
    HANDLER,
    KEY,
    ORIGIN,
    URI,
    function_config,
    local_config,
    rest_api,
    worker_pool,
)

REGION = "us-east-1"
PASSWORD = "Correct-Horse-Battery-9!"
AUTHORIZER_ID = "staffauth"
#: moto serves one key set for every pool, and signs every pool's tokens with its private half.
MOTO_JWKS = load_resource("cognitoidp/resources/jwks-public.json")
MOTO_KEY = RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
DATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$")


# --- moto's Cognito, in-process ------------------------------------------------------


@dataclass(frozen=True)
class Pool:
    id: str
    arn: str
    client_id: str


@dataclass(frozen=True)
class Tokens:
    id: str
    access: str


def make_pool(idp: Any, name: str) -> Pool:
    """A pool as ``modules/identity/staff_directory.py`` makes it: sign-in by e-mail, a public client, two groups."""
    pool = idp.create_user_pool(PoolName=name, UsernameAttributes=["email"])["UserPool"]
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="page",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    for group in (names.STAFF_GROUP, names.ADMIN_GROUP):
        idp.create_group(UserPoolId=pool["Id"], GroupName=group)
    return Pool(pool["Id"], pool["Arn"], client["ClientId"])


def add_member(idp: Any, pool: Pool, email: str, *groups: str, permanent: bool = True) -> None:
    idp.admin_create_user(
        UserPoolId=pool.id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        TemporaryPassword=PASSWORD,
        MessageAction="SUPPRESS",
    )
    if permanent:
        idp.admin_set_user_password(UserPoolId=pool.id, Username=email, Password=PASSWORD, Permanent=True)
    for group in groups:
        idp.admin_add_user_to_group(UserPoolId=pool.id, Username=email, GroupName=group)


def sign_in(idp: Any, pool: Pool, email: str) -> Tokens:
    result = idp.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return Tokens(result["IdToken"], result["AccessToken"])


def payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def minted(claims: dict[str, Any], key: RSAKey = MOTO_KEY, kid: str = "dummy") -> str:
    """A token with these claims, signed as moto signs (or with another key)."""
    return jwt.encode({"kid": kid, "alg": "RS256"}, claims, key)


def b64(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any]) -> str:
    """A token that claims no signature is needed (``alg`` ``none``)."""
    return f"{b64({'alg': 'none', 'kid': 'dummy'})}.{b64(claims)}."


def tampered(token: str, **changes: Any) -> str:
    """The token with its payload changed and its signature kept."""
    header, _, signature = token.split(".")
    return f"{header}.{b64({**payload(token), **changes})}.{signature}"


@dataclass(frozen=True)
class Cognito:
    idp: Any
    staff_pool: Pool
    other_pool: Pool
    staff: Tokens  #: a member of the ``staff`` group only
    admin: Tokens  #: a member of ``staff`` and ``admin``
    stranger: Tokens  #: a member of the other pool


@pytest.fixture(scope="module")
def cognito() -> Iterator[Cognito]:
    """The pools and members every test reads; a test that changes a pool makes one of its own."""
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name=REGION)
        staff_pool, other_pool = make_pool(idp, "staff"), make_pool(idp, "another")
        add_member(idp, staff_pool, "staff@example.com", names.STAFF_GROUP)
        add_member(idp, staff_pool, "admin@example.com", names.STAFF_GROUP, names.ADMIN_GROUP)
        add_member(idp, other_pool, "stranger@example.com", names.STAFF_GROUP)
        yield Cognito(
            idp=idp,
            staff_pool=staff_pool,
            other_pool=other_pool,
            staff=sign_in(idp, staff_pool, "staff@example.com"),
            admin=sign_in(idp, staff_pool, "admin@example.com"),
            stranger=sign_in(idp, other_pool, "stranger@example.com"),
        )


# --- the stated API, and the deployment the gateway reads ---------------------------------------


def secured_api(
    pool_arn: str, *, scopes: tuple[str, ...] = (), open_post: bool = False, expression: str = ""
) -> RestApi:
    """``/echo`` as the project deploys it: GET and POST need the key and a staff token; OPTIONS is open.

    ``open_post``: POST is deployed without the authorizer (the wiring mistake).
    """
    base = rest_api()
    proxy = Integration("AWS_PROXY", URI, {}, (), 29_000)
    methods = {
        "GET": Method("GET", True, None, {}, {}, proxy, "COGNITO_USER_POOLS", AUTHORIZER_ID, scopes),
        "POST": Method("POST", True, None, {}, {}, proxy)
        if open_post
        else Method("POST", True, None, {}, {}, proxy, "COGNITO_USER_POOLS", AUTHORIZER_ID, scopes),
        "OPTIONS": base.resources[1].methods["OPTIONS"],
    }
    authorizer = Authorizer(
        AUTHORIZER_ID, "staff", "COGNITO_USER_POOLS", (pool_arn,), "method.request.header.Authorization", expression
    )
    responses = {**base.gateway_responses, "UNAUTHORIZED": GatewayResponse(None, CORS, {})}
    return replace(
        base,
        resources=(Resource("echo", "/echo", methods),),
        gateway_responses=responses,
        authorizers={AUTHORIZER_ID: authorizer},
    )


class Stated:
    """The API and function the test states; user pools read by ``Deployment`` from moto's Cognito in-process."""

    def __init__(self, api: RestApi, pools: Deployment) -> None:
        self.api = api
        self.function_config: Function = function_config()
        self._pools = pools
        self.key_reads: list[str] = []
        self.keys_broken = False

    def rest_api(self, api_id: str, stage_name: str = "prod") -> RestApi:
        if api_id != self.api.id:
            raise NotDeployed(api_id)
        return self.api

    def function(self, arn: str) -> Function:
        if arn != self.function_config.arn:
            raise NotDeployed(arn)
        return self.function_config

    def user_pool(self, pool_id: str) -> Any:
        return self._pools.user_pool(pool_id)

    def signing_keys(self, pool: UserPoolRef) -> dict[str, Any]:
        self.key_reads.append(pool.id)
        if self.keys_broken:
            raise DeploymentError(f"cannot read the signing keys of user pool {pool.id}")
        return dict(MOTO_JWKS)


@pytest.fixture(scope="module")
def pools(tmp_path_factory: pytest.TempPathFactory, cognito: Cognito) -> Deployment:
    """``Deployment``'s own reading of user pools, pointed at moto's in-process Cognito."""
    deployment = Deployment(local_config(tmp_path_factory.mktemp("pools")))
    deployment.cognito = cognito.idp
    return deployment


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[Functions, list[tuple[str, str]]]]:
    package = tmp_path / "code" / "app"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(textwrap.dedent(HANDLER))
    lines: list[tuple[str, str]] = []
    pool = worker_pool(local_config(tmp_path), lambda name, line: lines.append((name, line)))
    pool._code.directory = lambda function: tmp_path / "code"  # type: ignore[method-assign] # "extracted" already
    yield pool, lines
    pool.stop()


@dataclass
class Served:
    gateway: Gateway
    deployment: Stated
    notes: list[str]
    lines: list[tuple[str, str]]

    def call(
        self,
        token: str | None,
        *,
        method: str = "GET",
        key: str | None = KEY,
        path: str = "/prod/echo",
        query: tuple[tuple[str, str], ...] = (),
    ) -> ApiAnswer:
        headers = Headers({"Content-Type": "application/json", "User-Agent": "test"})
        if key is not None:
            headers["x-api-key"] = key
        if token is not None:
            headers["Authorization"] = token
        body = b'{"studentid": "SV1"}' if method == "POST" else b""
        return self.gateway.handle(ApiRequest(API_ID, method, path, query, headers, body, "127.0.0.1", "x"))


def serve(api: RestApi, pools: Deployment, workers: tuple[Functions, list[tuple[str, str]]]) -> Served:
    deployment = Stated(api, pools)
    notes: list[str] = []
    gateway = Gateway(deployment, workers[0], Meter(), notes.append)  # type: ignore[arg-type] # duck-typed
    return Served(gateway, deployment, notes, workers[1])


def body(answer: ApiAnswer) -> Any:
    return json.loads(answer.response.get_data())


def claims_seen(answer: ApiAnswer) -> dict[str, str]:
    assert answer.response.status_code == 200, answer.response.get_data()
    claims: dict[str, str] = body(answer)["event"]["requestContext"]["authorizer"]["claims"]
    return claims


# --- the authorizer ---------------------------------------------------------------------------


def test_no_token_is_401_before_the_key_is_checked(cognito: Cognito, pools: Deployment, workers: Any) -> None:
    served = serve(secured_api(cognito.staff_pool.arn), pools, workers)
    for answer in (served.call(None), served.call(None, key=None), served.call("", key=None)):
        assert (answer.response.status_code, body(answer)) == (401, {"message": "Unauthorized"})
        assert answer.response.headers["x-amzn-ErrorType"] == "UnauthorizedException"
        # The UNAUTHORIZED gateway response carries CORS, so the page can read the refusal.
        assert answer.response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert served.lines == []  # no function ran


REFUSED = (
    "another pool's ID token",
    "another pool's issuer on this pool's app client",
    "an access token where an ID token is expected",
    "a token of another use with an audience",
    "a tampered payload (admin added, signature kept)",
    "a token of an app client the pool does not have",
    "a token signed by another key",
    "a token naming no key",
    "an unsigned token (alg none)",
    "not a JWT",
    "a JWT whose payload is not JSON",
    "a token without expiry",
)


def refused_tokens(cognito: Cognito) -> dict[str, str]:
    """Each token the authorizer must refuse (``REFUSED``), by why."""
    good = payload(cognito.staff.id)
    another_key = RSAKey.generate_key(2048)
    return {
        "another pool's ID token": cognito.stranger.id,
        # The issuer alone refuses this one: its audience is an app client of the pool.
        "another pool's issuer on this pool's app client": minted({**good, "iss": payload(cognito.stranger.id)["iss"]}),
        "an access token where an ID token is expected": cognito.staff.access,
        # The token use alone refuses this one.
        "a token of another use with an audience": minted({**good, "token_use": "access"}),
        "a tampered payload (admin added, signature kept)": tampered(
            cognito.staff.id, **{"cognito:groups": [names.STAFF_GROUP, names.ADMIN_GROUP]}
        ),
        "a token of an app client the pool does not have": minted({**good, "aud": "an-old-client"}),
        "a token signed by another key": minted(good, key=another_key),
        "a token naming no key": minted(good, kid="rotated-away"),
        "an unsigned token (alg none)": unsigned(good),
        "not a JWT": "not-a-token",
        "a JWT whose payload is not JSON": "e30.bm90IGpzb24.c2ln",
        "a token without expiry": minted({k: v for k, v in good.items() if k != "exp"}),
    }


@pytest.mark.parametrize("why", REFUSED)
def test_a_token_the_pool_did_not_issue_for_this_method_is_401(
    cognito: Cognito, pools: Deployment, workers: Any, why: str
) -> None:
    served = serve(secured_api(cognito.staff_pool.arn), pools, workers)
    token = refused_tokens(cognito)[why]
    for sent in (token, f"Bearer {token}"):
        answer = served.call(sent)
        assert (answer.response.status_code, body(answer)) == (401, {"message": "Unauthorized"}), why
    assert served.lines == []
    assert any("token refused" in note for note in served.notes)
    assert all(token not in note for note in served.notes if len(token) > 20)  # a token is never logged


def test_another_pools_token_verifies_with_moto_keys_so_the_issuer_check_refuses_it(cognito: Cognito) -> None:
    # The premise of the test above: moto signs every pool's tokens with one key, so only the issuer tells.
    assert jwt.decode(cognito.stranger.id, KeySet.import_key_set(MOTO_JWKS)).claims["token_use"] == "id"
    assert payload(cognito.stranger.id)["iss"] != payload(cognito.staff.id)["iss"]


def test_an_expired_token_is_401_with_api_gateways_message(cognito: Cognito, pools: Deployment, workers: Any) -> None:
    served = serve(secured_api(cognito.staff_pool.arn), pools, workers)
    now = int(time.time())
    expired = minted({**payload(cognito.staff.id), "iat": now - 3600, "auth_time": now - 3600, "exp": now - 1})
    answer = served.call(expired)
    assert (answer.response.status_code, body(answer)) == (401, {"message": "The incoming token has expired"})
    # The same claims, still valid: the expiry alone refused it.
    assert served.call(minted({**payload(cognito.staff.id), "exp": now + 60})).response.status_code == 200


def test_a_staff_token_reaches_the_function_with_its_claims_as_strings(
    cognito: Cognito, pools: Deployment, workers: Any
) -> None:
    served = serve(secured_api(cognito.staff_pool.arn), pools, workers)
    issued = payload(cognito.staff.id)
    for sent in (cognito.staff.id, f"Bearer {cognito.staff.id}"):
        claims = claims_seen(served.call(sent))
        assert all(isinstance(value, str) for value in claims.values())
        assert claims["cognito:groups"] == names.STAFF_GROUP
        assert claims["token_use"] == "id"
        assert claims["aud"] == cognito.staff_pool.client_id
        assert claims["email"] == "staff@example.com"
        assert claims["sub"] == issued["sub"]
        assert claims["auth_time"] == str(issued["auth_time"])
        assert DATE.match(claims["exp"]) and DATE.match(claims["iat"]), claims
    admin = claims_seen(served.call(cognito.admin.id, method="POST"))
    # A list claim is one string, its items joined by commas (moto lists a user's groups in no fixed order).
    assert sorted(admin["cognito:groups"].split(",")) == [names.ADMIN_GROUP, names.STAFF_GROUP]


def test_a_valid_token_still_needs_the_api_key(cognito: Cognito, pools: Deployment, workers: Any) -> None:
    served = serve(secured_api(cognito.staff_pool.arn), pools, workers)
    answer = served.call(cognito.staff.id, key=None)
    assert (answer.response.status_code, body(answer)) == (403, {"message": "Forbidden"})
    assert served.lines == []


def test_a_method_deployed_without_the_authorizer_is_open(cognito: Cognito, pools: Deployment, workers: Any) -> None:
    served = serve(secured_api(cognito.staff_pool.arn, open_post=True), pools, workers)
    answer = served.call(None, method="POST")
    assert answer.response.status_code == 200, answer.response.get_data()
    assert "authorizer" not in body(answer)["event"]["requestContext"]
    assert served.call(None).response.status_code == 401  # GET kept its authorizer
    assert served.call(None, method="OPTIONS", key=None).response.status_code == 200  # the preflight stays open


def test_an_authorizer_naming_another_pool_refuses_this_pools_tokens(
    cognito: Cognito, pools: Deployment, workers: Any
) -> None:
    served = serve(secured_api(cognito.other_pool.arn), pools, workers)
    assert served.call(cognito.staff.id).response.status_code == 401
    assert served.call(cognito.stranger.id).response.status_code == 200


def test_with_scopes_the_method_wants_an_access_token_with_one_of_them(
    cognito: Cognito, pools: Deployment, workers: Any
) -> None:
    scoped = serve(secured_api(cognito.staff_pool.arn, scopes=("aws.cognito.signin.user.admin",)), pools, workers)
    assert claims_seen(scoped.call(cognito.staff.access))["token_use"] == "access"
    assert scoped.call(cognito.staff.id).response.status_code == 401
    other_scope = serve(secured_api(cognito.staff_pool.arn, scopes=("students/read",)), pools, workers)
    assert other_scope.call(cognito.staff.access).response.status_code == 401


def test_the_identity_validation_expression_must_match_the_audience(
    cognito: Cognito, pools: Deployment, workers: Any
) -> None:
    client = cognito.staff_pool.client_id
    matching = serve(secured_api(cognito.staff_pool.arn, expression=re.escape(client)), pools, workers)
    assert matching.call(cognito.staff.id).response.status_code == 200
    other = serve(secured_api(cognito.staff_pool.arn, expression="^nobody$"), pools, workers)
    assert other.call(cognito.staff.id).response.status_code == 401


def test_a_deleted_app_client_or_pool_no_longer_admits_its_tokens(
    cognito: Cognito, pools: Deployment, workers: Any
) -> None:
    pool = make_pool(cognito.idp, "short-lived")
    add_member(cognito.idp, pool, "leaver@example.com", names.STAFF_GROUP)
    token = sign_in(cognito.idp, pool, "leaver@example.com").id
    served = serve(secured_api(pool.arn), pools, workers)
    assert served.call(token).response.status_code == 200
    cognito.idp.delete_user_pool_client(UserPoolId=pool.id, ClientId=pool.client_id)
    time.sleep(1.1)  # Deployment keeps what it read about a second
    assert served.call(token).response.status_code == 401
    cognito.idp.delete_user_pool(UserPoolId=pool.id)
    time.sleep(1.1)
    assert served.call(token).response.status_code == 401
    assert any("ResourceNotFoundException" in note for note in served.notes)


def test_signing_keys_are_read_once_per_pool_and_a_failed_read_is_not_kept(
    cognito: Cognito, pools: Deployment, workers: Any
) -> None:
    served = serve(secured_api(cognito.staff_pool.arn), pools, workers)
    served.deployment.keys_broken = True
    broken = served.call(cognito.staff.id)
    assert (broken.response.status_code, body(broken)) == (500, {"message": "Internal server error"})
    served.deployment.keys_broken = False
    for _ in range(3):
        assert served.call(cognito.staff.id).response.status_code == 200
    assert served.deployment.key_reads == [cognito.staff_pool.id] * 2  # the failed read, then one that is kept


@pytest.mark.parametrize(
    ("authorization_type", "authorizer_id"),
    [("COGNITO_USER_POOLS", "not-an-authorizer"), ("AWS_IAM", ""), ("CUSTOM", AUTHORIZER_ID)],
)
def test_an_authorizer_the_edge_cannot_apply_is_a_500_never_an_open_door(
    cognito: Cognito, pools: Deployment, workers: Any, authorization_type: str, authorizer_id: str
) -> None:
    api = secured_api(cognito.staff_pool.arn)
    get = replace(api.resources[0].methods["GET"], authorization_type=authorization_type, authorizer_id=authorizer_id)
    broken = replace(api, resources=(Resource("echo", "/echo", {**api.resources[0].methods, "GET": get}),))
    served = serve(broken, pools, workers)
    answer = served.call(cognito.staff.id)
    assert answer.response.status_code == 500
    assert served.lines == []


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("cognito:groups", ["admin", "staff"], "admin,staff"),
        ("cognito:groups", ["staff"], "staff"),
        ("email_verified", True, "true"),
        ("exp", 1544116103, "Thu Dec 06 17:08:23 UTC 2018"),
        ("iat", 1544112503, "Thu Dec 06 16:08:23 UTC 2018"),
        ("auth_time", 1544112503, "1544112503"),
        ("email", "Nguyễn@example.com", "Nguyễn@example.com"),
    ],
)
def test_claims_are_passed_as_api_gateway_passes_them(name: str, value: Any, text: str) -> None:
    assert claim_text(name, value) == text


# --- the backup function's own refusal, through the edge ---------------------------------------


def test_a_non_admin_starting_or_reading_a_backup_is_refused_by_the_backup_function(
    tmp_path: Path, cognito: Cognito, pools: Deployment
) -> None:
    """The edge admits any staff token; the backup function itself (its deployed code) refuses non-admins."""
    spec = next(spec for spec in FUNCTIONS if spec.key == BACKUP)
    code = tmp_path / "backup-code"
    # What the function's zip holds (modules/functions/packaging.py, stage): lambdas/common and its package.
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "lambdas" / "common", code / "lambdas" / "common", ignore=ignore)
    shutil.copytree(ROOT / "lambdas" / spec.package, code / "lambdas" / spec.package, ignore=ignore)
    shutil.copy2(ROOT / "lambdas" / "__init__.py", code / "lambdas" / "__init__.py")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{spec.name}"
    environment = {
        names.ENV_TABLE_NAME: "studentData",
        names.ENV_RUNS_TABLE_NAME: "studentBackupRuns",
        names.ENV_BACKUP_BUCKET: "student-backup",
        names.ENV_SENDER_EMAIL: "sender@example.com",
        names.ENV_RECIPIENT_EMAIL: "office@example.com",
        names.ENV_ALLOWED_ORIGIN: ORIGIN,
    }
    backup = replace(
        function_config(),
        name=spec.name,
        arn=arn,
        handler=spec.handler,
        timeout_seconds=30,
        environment=tuple(sorted(environment.items())),
        policy=(
            {
                "Effect": "Allow",
                "Principal": {"Service": "apigateway.amazonaws.com"},
                "Action": "lambda:InvokeFunction",
                "Resource": arn,
                "Condition": {"ArnLike": {"AWS:SourceArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/*/*"}},
            },
        ),
    )
    api = secured_api(cognito.staff_pool.arn)
    uri = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"
    integration = Integration("AWS_PROXY", uri, {}, (), 29_000)
    methods = {
        verb: Method(verb, True, None, {}, {}, integration, "COGNITO_USER_POOLS", AUTHORIZER_ID)
        for verb in ("GET", "POST")
    }
    lines: list[tuple[str, str]] = []
    workers = worker_pool(local_config(tmp_path), lambda name, line: lines.append((name, line)))
    workers._code.directory = lambda function: code  # type: ignore[method-assign] # "extracted" already
    try:
        served = serve(replace(api, resources=(Resource("backup", "/backup", methods),)), pools, (workers, lines))
        served.deployment.function_config = backup
        for method in ("POST", "GET"):
            refused = served.call(cognito.staff.id, method=method, path="/prod/backup")
            assert (refused.response.status_code, body(refused)["message"]) == (403, ADMIN_ONLY), method
            assert refused.function == spec.name  # the function answered, not the gateway
        # An admin passes the same check: the function goes on to read the query (and refuses it, before any AWS call).
        admitted = served.call(cognito.admin.id, path="/prod/backup", query=(("unknown", "1"),))
        assert (admitted.response.status_code, body(admitted)["message"]) == (400, "unknown query parameter")
    finally:
        workers.stop()
    assert any("caller not in the admin group" in line for _, line in lines)


# --- what deployment.py reads --------------------------------------------------------------------


def test_deployment_reads_authorizers_methods_and_pool_clients(tmp_path: Path, cognito: Cognito) -> None:
    apigateway = boto3.client("apigateway", region_name=REGION)
    api_id = apigateway.create_rest_api(name="student")["id"]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    students = apigateway.create_resource(restApiId=api_id, parentId=root, pathPart="students")["id"]
    authorizer = apigateway.create_authorizer(
        restApiId=api_id,
        name="staff",
        type="COGNITO_USER_POOLS",
        providerARNs=[cognito.staff_pool.arn],
        identitySource="method.request.header.Authorization",
        authorizerResultTtlInSeconds=0,
    )["id"]
    apigateway.put_method(
        restApiId=api_id,
        resourceId=students,
        httpMethod="GET",
        authorizationType="COGNITO_USER_POOLS",
        authorizerId=authorizer,
        apiKeyRequired=True,
    )
    apigateway.put_method(restApiId=api_id, resourceId=students, httpMethod="OPTIONS", authorizationType="NONE")
    for verb in ("GET", "OPTIONS"):  # API Gateway deploys only methods with an integration
        apigateway.put_integration(restApiId=api_id, resourceId=students, httpMethod=verb, type="MOCK")
    apigateway.create_deployment(restApiId=api_id, stageName="prod")
    deployment = Deployment(local_config(tmp_path))
    deployment.apigateway, deployment.cognito = apigateway, cognito.idp
    # What the emulator's deployment route answers (corrections/apigateway.py): the Get* answers when deployed.
    snapshot = {
        "resources": apigateway.get_resources(restApiId=api_id, embed=["methods"])["items"],
        "authorizers": apigateway.get_authorizers(restApiId=api_id)["items"],
        "requestValidators": apigateway.get_request_validators(restApiId=api_id)["items"],
        "models": apigateway.get_models(restApiId=api_id)["items"],
        "gatewayResponses": apigateway.get_gateway_responses(restApiId=api_id)["items"],
    }
    deployment._read_snapshot = lambda api, deployed: snapshot  # type: ignore[method-assign]
    api = deployment.rest_api(api_id, "prod")
    read = api.authorizers[authorizer]
    assert (read.type, read.provider_arns, read.identity_source) == (
        "COGNITO_USER_POOLS",
        (cognito.staff_pool.arn,),
        "method.request.header.Authorization",
    )
    methods = next(resource for resource in api.resources if resource.path == "/students").methods
    assert (methods["GET"].authorization_type, methods["GET"].authorizer_id) == ("COGNITO_USER_POOLS", authorizer)
    assert (methods["OPTIONS"].authorization_type, methods["OPTIONS"].authorizer_id) == ("NONE", "")
    ref = UserPoolRef.of(read.provider_arns[0])
    assert ref is not None and ref.issuer == payload(cognito.staff.id)["iss"]
    assert deployment.user_pool(cognito.staff_pool.id).client_ids == {cognito.staff_pool.client_id}
    with pytest.raises(NotDeployed):
        deployment.user_pool(f"{REGION}_nosuchpool")


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:cognito-idp:us-east-1:123456789012:userpool/",
        "arn:aws:cognito-identity:us-east-1:123456789012:identitypool/us-east-1_abc",
        "arn:aws:lambda:us-east-1:123456789012:function:staff",
    ],
)
def test_a_provider_arn_that_names_no_user_pool_admits_no_token(arn: str) -> None:
    assert UserPoolRef.of(arn) is None


# --- through a real edge, against a private emulator ----------------------------------------------


@dataclass
class Live:
    settings: EmulatorSettings
    edge: Edge

    @property
    def site(self) -> str:
        return f"http://127.0.0.1:{self.settings.site_port}"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.settings.api_port}/prod"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A private moto server (the project's script) and an edge serving from it."""
    settings = EmulatorSettings(
        port=free_port(),
        state_dir=tmp_path_factory.mktemp("emulator-auth"),
        site_port=free_port(),
        api_port=free_port(),
    )
    script = [str(ROOT / "local" / "emulator.sh")]
    env = tool_env(**settings.env())
    started = run([*script, "start"], cwd=ROOT, env=env, timeout=120)
    assert started.returncode == 0, started.stdout + started.stderr
    edge = Edge(settings.config, EdgeLog(settings.state_dir / "logs" / "edge.log"))
    try:
        edge.bind()
        edge.serve()
        yield Live(settings, edge)
    finally:
        edge.close()
        run([*script, "stop"], cwd=ROOT, env=env, timeout=60)


def cognito_call(
    live: Live, operation: str, request: dict[str, Any], *, method: str = "POST", extra: dict[str, str] | None = None
) -> tuple[int, str, Any]:
    """A call of the page: ``fetch`` of ``/_cognito/`` on the site's own origin. (status, content type, JSON)."""
    sent = urllib.request.Request(  # noqa: S310 - the test's own edge
        live.site + LOCAL_COGNITO_PATH,
        data=json.dumps(request).encode() if method == "POST" else None,
        headers={
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            **(extra or {}),
        },
        method=method,
    )
    try:
        with urllib.request.urlopen(sent, timeout=30) as answer:  # noqa: S310 - the test's own edge
            return answer.status, answer.headers.get("Content-Type", ""), json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as refused:
        with refused:
            text = refused.read()
            return refused.code, refused.headers.get("Content-Type", ""), json.loads(text) if text else None


@pytest.mark.slow  # a moto server and an edge of its own
def test_the_pages_cognito_calls_reach_the_emulator_through_the_site(live: Live) -> None:
    idp = live.settings.client("cognito-idp")
    pool = make_pool(idp, "staff")
    add_member(idp, pool, "new@example.com", names.STAFF_GROUP, permanent=False)
    sign_in_request = {
        "ClientId": pool.client_id,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "new@example.com", "PASSWORD": PASSWORD},
    }
    # First sign-in: the invitation's temporary password, then the new-password challenge.
    status, _, challenge = cognito_call(live, "InitiateAuth", sign_in_request)
    assert (status, challenge["ChallengeName"]) == (200, "NEW_PASSWORD_REQUIRED")
    status, _, answered = cognito_call(
        live,
        "RespondToAuthChallenge",
        {
            "ClientId": pool.client_id,
            "ChallengeName": "NEW_PASSWORD_REQUIRED",
            "Session": challenge["Session"],
            "ChallengeResponses": {"USERNAME": "new@example.com", "NEW_PASSWORD": PASSWORD + "x"},
        },
    )
    assert status == 200, answered
    tokens = answered["AuthenticationResult"]
    assert payload(tokens["IdToken"])["cognito:groups"] == [names.STAFF_GROUP]
    # The browser's own credentials (a stale Authorization, cookies) never reach the emulator.
    status, _, user = cognito_call(
        live, "GetUser", {"AccessToken": tokens["AccessToken"]}, extra={"Authorization": "stale", "Cookie": "a=b"}
    )
    assert (status, user["Username"]) == (200, payload(tokens["AccessToken"])["username"])
    # Cognito's own refusal comes back as Cognito sent it.
    status, content_type, wrong = cognito_call(live, "InitiateAuth", sign_in_request)  # the old password
    assert (status, wrong["__type"]) == (400, "NotAuthorizedException")
    assert content_type.split(";")[0] in ("application/json", "application/x-amz-json-1.1")  # moto's, relayed
    # An administrative call never reaches the emulator: nobody is added.
    status, _, refused = cognito_call(
        live, "AdminCreateUser", {"UserPoolId": pool.id, "Username": "intruder@example.com"}
    )
    assert (status, refused["__type"]) == (400, "UnsupportedOperationException")
    assert [user["Username"] for user in idp.list_users(UserPoolId=pool.id)["Users"]] == [
        payload(tokens["AccessToken"])["username"]
    ]
    assert cognito_call(live, "InitiateAuth", sign_in_request, method="GET")[0] == 405


def api_call(live: Live, path: str, token: str | None, *, method: str = "GET") -> tuple[int, Any]:
    headers = {"Authorization": token} if token is not None else {}
    sent = urllib.request.Request(f"{live.api}{path}", headers=headers, method=method)  # noqa: S310 - the test's own edge
    try:
        with urllib.request.urlopen(sent, timeout=30) as answer:  # noqa: S310 - the test's own edge
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        with refused:
            return refused.code, json.loads(refused.read())


@pytest.mark.slow  # a moto server and an edge of its own
def test_the_edge_enforces_the_authorizer_it_reads_from_the_emulator(live: Live) -> None:
    idp = live.settings.client("cognito-idp")
    apigateway = live.settings.client("apigateway")
    pool, other = make_pool(idp, "staff"), make_pool(idp, "other")
    add_member(idp, pool, "member@example.com", names.STAFF_GROUP)
    token = sign_in(idp, pool, "member@example.com").id
    api_id = apigateway.create_rest_api(name="student")["id"]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    authorizers = {
        name: apigateway.create_authorizer(
            restApiId=api_id,
            name=name,
            type="COGNITO_USER_POOLS",
            providerARNs=[named.arn],
            identitySource="method.request.header.Authorization",
        )["id"]
        for name, named in (("staff", pool), ("wrong-pool", other))
    }
    # /students as deployed; /forgotten without its authorizer; /wired-wrong with an authorizer of another pool.
    for path, authorizer in (("students", "staff"), ("forgotten", None), ("wired-wrong", "wrong-pool")):
        resource = apigateway.create_resource(restApiId=api_id, parentId=root, pathPart=path)["id"]
        apigateway.put_method(
            restApiId=api_id,
            resourceId=resource,
            httpMethod="GET",
            authorizationType="COGNITO_USER_POOLS" if authorizer else "NONE",
            **({"authorizerId": authorizers[authorizer]} if authorizer else {}),
        )
        apigateway.put_integration(
            restApiId=api_id,
            resourceId=resource,
            httpMethod="GET",
            type="MOCK",
            requestTemplates={"application/json": '{"statusCode": 200}'},
        )
        apigateway.put_method_response(restApiId=api_id, resourceId=resource, httpMethod="GET", statusCode="200")
        apigateway.put_integration_response(
            restApiId=api_id,
            resourceId=resource,
            httpMethod="GET",
            statusCode="200",
            responseTemplates={"application/json": '{"served": true}'},
        )
    apigateway.create_deployment(restApiId=api_id, stageName="prod")
    outputs = live.settings.config.emulator_outputs_file
    outputs.parent.mkdir(parents=True, exist_ok=True)
    outputs.write_text(
        json.dumps(
            {
                APP_STACK: {
                    names.OUTPUT_API_ID: api_id,
                    names.OUTPUT_SITE_DISTRIBUTION_ID: "none",
                    names.OUTPUT_WEBSITE_BUCKET: "none",
                }
            }
        ),
        encoding="utf-8",
    )
    assert api_call(live, "/students", None) == (401, {"message": "Unauthorized"})
    assert api_call(live, "/students", token) == (200, {"served": True})
    assert api_call(live, "/forgotten", None) == (200, {"served": True})  # the wiring mistake shows
    assert api_call(live, "/wired-wrong", token) == (401, {"message": "Unauthorized"})
    edge_log = (live.settings.state_dir / "logs" / "edge.log").read_text(encoding="utf-8")
    assert "is none of authorizer wrong-pool's pools" in edge_log
    assert token not in edge_log
