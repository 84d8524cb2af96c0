"""An emulated AWS for the function code, its failure modes, and the calls each function makes.

Everything runs in-process under ``moto.mock_aws``: no network, no server.
``aws_world()`` builds what the infrastructure builds (the table from
``names.STUDENT_KEY``/``STUDENT_KEY_TYPE``, a versioned backup bucket, verified
SES identities) with a boto3 session of its own, so set-up calls never pass
through the functions' clients.

``record_handler_calls()`` runs every scenario the tests cover (happy paths and
each failure path) and returns, per function, the IAM actions of the AWS calls
it made. The IAM role policies are checked against it: a code change that adds
a call changes these sets, and ``test_lambda_least_privilege`` fails until the
expected sets (and the policies) are updated on purpose.

Importable as ``tests.lambdas.scenarios`` from the project root (and as
``scenarios`` by pytest, which puts this directory on ``sys.path``).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast
from unittest import mock
from urllib.parse import unquote

import boto3
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from moto import mock_aws
from moto.backends import get_backend
from moto.core.models import DEFAULT_ACCOUNT_ID, botocore_stubber

from lambdas.backup import handler as backup
from lambdas.backup import runs
from lambdas.common import aws, names
from lambdas.get_students import handler as get_students
from lambdas.insert_student import handler as insert_student

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from botocore.model import OperationModel
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ses import SESClient

REGION: Final = "us-east-1"
TABLE: Final = "studentData"
BUCKET: Final = "student-backup-20250706-test"
RUNS_TABLE: Final = "studentBackupRuns"
BACKUP_FUNCTION_ARN: Final = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:BackupDynamoDBAndSendEmail"
SENDER: Final = "noreply@example.com"
RECIPIENTS: Final = ("admin@example.com", "ops@example.com")
ORIGIN: Final = "https://d111111abcdef8.cloudfront.net"

#: The functions' environment, as the infrastructure sets it (plus fake credentials).
ENVIRONMENT: Final = {
    names.ENV_TABLE_NAME: TABLE,
    names.ENV_RUNS_TABLE_NAME: RUNS_TABLE,
    names.ENV_BACKUP_BUCKET: BUCKET,
    names.ENV_SENDER_EMAIL: SENDER,
    names.ENV_RECIPIENT_EMAIL: ", ".join(RECIPIENTS),
    names.ENV_ALLOWED_ORIGIN: ORIGIN,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    # Nothing from the developer's ~/.aws (profiles, endpoints, retry settings).
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}

#: Every operation the functions may call, and the IAM action that authorises it.
#: S3's multipart operations are authorised by s3:PutObject, not by actions of their own names.
IAM_ACTIONS: Final = {
    ("dynamodb", "Scan"): "dynamodb:Scan",
    ("dynamodb", "Query"): "dynamodb:Query",
    ("dynamodb", "GetItem"): "dynamodb:GetItem",
    ("dynamodb", "PutItem"): "dynamodb:PutItem",
    ("dynamodb", "UpdateItem"): "dynamodb:UpdateItem",
    ("dynamodb", "DeleteItem"): "dynamodb:DeleteItem",
    ("dynamodb", "BatchGetItem"): "dynamodb:BatchGetItem",
    ("dynamodb", "BatchWriteItem"): "dynamodb:BatchWriteItem",
    ("dynamodb", "DescribeTable"): "dynamodb:DescribeTable",
    ("s3", "PutObject"): "s3:PutObject",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
    ("s3", "AbortMultipartUpload"): "s3:AbortMultipartUpload",
    ("s3", "ListParts"): "s3:ListMultipartUploadParts",
    ("s3", "ListMultipartUploads"): "s3:ListBucketMultipartUploads",
    ("s3", "DeleteObject"): "s3:DeleteObject",
    ("s3", "GetObject"): "s3:GetObject",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("ses", "SendEmail"): "ses:SendEmail",
    ("ses", "SendRawEmail"): "ses:SendRawEmail",
    ("lambda", "Invoke"): "lambda:InvokeFunction",
}

FUNCTION_MODULES: Final = (get_students, insert_student, backup)


# --- Environment and emulated resources ---------------------------------------


def reset_function_state() -> None:
    """Forget every cached client and setting, as a fresh Lambda container would have none."""
    aws.reset()
    for module in FUNCTION_MODULES:
        module.settings.cache_clear()


@contextmanager
def function_environment(overrides: Mapping[str, str | None] | None = None) -> Iterator[None]:
    """``ENVIRONMENT`` (with ``overrides``; None removes a variable) in ``os.environ``.

    Every other ``AWS_*`` variable is hidden meanwhile: an inherited profile or
    ``AWS_ENDPOINT_URL`` (the local emulator's, say) would send the functions'
    requests past moto.
    """
    values = {**ENVIRONMENT, **(overrides or {})}
    with mock.patch.dict(os.environ, {k: v for k, v in values.items() if v is not None}):
        for key in [key for key in os.environ if key.startswith("AWS_") and values.get(key) is None]:
            del os.environ[key]
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
        yield


@dataclass
class World:
    """The emulated account, seen through the test's own clients (never the functions')."""

    dynamodb: DynamoDBClient
    s3: S3Client
    ses: SESClient

    @classmethod
    @functools.cache
    def connect(cls) -> World:
        # Reused across tests: a client costs ~40 ms to build, and moto intercepts
        # it whenever a mock is active, whenever it was created.
        session = boto3.session.Session(region_name=REGION)
        return cls(dynamodb=session.client("dynamodb"), s3=session.client("s3"), ses=session.client("ses"))

    def create(self) -> None:
        # The same key definition the table construct uses.
        self.dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": names.STUDENT_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": names.STUDENT_KEY, "AttributeType": names.STUDENT_KEY_TYPE}],
            BillingMode="PAY_PER_REQUEST",
        )
        # The same key definition the runs construct uses.
        self.dynamodb.create_table(
            TableName=RUNS_TABLE,
            KeySchema=[{"AttributeName": runs.KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": runs.KEY, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        self.ses.verify_email_identity(EmailAddress=SENDER)

    def put_items(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Write low-level items (``{"studentid": {"S": ...}, ...}``) directly, as another writer could."""
        for start in range(0, len(items), 25):
            batch: list[WriteRequestTypeDef] = [
                {"PutRequest": {"Item": dict(item)}} for item in items[start : start + 25]
            ]
            self.dynamodb.batch_write_item(RequestItems={TABLE: batch})

    def put_students(self, students: Sequence[Mapping[str, str]]) -> None:
        self.put_items([{key: {"S": value} for key, value in student.items()} for student in students])

    def scan_all(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        paginator = self.dynamodb.get_paginator("scan")
        for page in paginator.paginate(TableName=TABLE):
            items.extend(page.get("Items", []))
        return items

    def item_count(self) -> int:
        return len(self.scan_all())

    def run_records(self) -> list[dict[str, Any]]:
        """Every item of the runs table (the lease included), low-level."""
        return self.dynamodb.scan(TableName=RUNS_TABLE, ConsistentRead=True).get("Items", [])

    def object_keys(self) -> list[str]:
        response = self.s3.list_objects_v2(Bucket=BUCKET)
        return sorted(obj["Key"] for obj in response.get("Contents", []))

    def pending_uploads(self) -> list[str]:
        return [upload["Key"] for upload in self.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])]

    def read_object(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def sent_messages(self) -> list[Any]:
        """Messages SES accepted (moto's record: ``source``, ``destinations``, ``subject``, ``body``)."""
        return list(get_backend("ses")[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


@contextmanager
def aws_world(overrides: Mapping[str, str | None] | None = None) -> Iterator[World]:
    """The environment, an emulated account with the system's resources, and fresh function state."""
    with function_environment(overrides), mock_aws():
        reset_function_state()
        try:
            world = World.connect()
            world.create()
            yield world
        finally:
            reset_function_state()


# --- Events -------------------------------------------------------------------


def id_token_claims(email: str, groups: str) -> dict[str, str]:
    """An ID token's claims as API Gateway's Cognito authorizer hands them on: every value a string."""
    return {
        "sub": "7d8f3c2a-0000-4000-8000-00000000a11c",
        "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_Staff0001",
        "aud": "3n4b5v6c7x8z9a0s1d2f3g4h5j",
        "token_use": "id",
        "email": email,
        "email_verified": "true",
        "cognito:username": "7d8f3c2a-0000-4000-8000-00000000a11c",
        names.GROUPS_CLAIM: groups,
        "auth_time": "1764115200",
        "iat": "1764115200",
        "exp": "Wed Nov 26 00:15:00 UTC 2025",
    }


#: A signed-in member of both groups: what the tests' API calls carry unless they say otherwise.
ADMIN_CLAIMS: Final = id_token_claims("head@example.com", "staff,admin")
#: A signed-in member of the staff group only.
STAFF_CLAIMS: Final = id_token_claims("teacher@example.com", "staff")


def api_event(
    method: str,
    path: str,
    *,
    query: Mapping[str, str] | None = None,
    body: str | None = None,
    base64_encoded: bool = False,
    claims: Mapping[str, str] | None = ADMIN_CLAIMS,
) -> dict[str, Any]:
    """A REST API (v1) Lambda proxy event as API Gateway sends it for the ``prod`` stage.

    ``claims``: the caller's ID token claims, as the staff authorizer passes
    them (every method requires one); None: an event without an authorizer.
    """
    if base64_encoded and body is not None:
        body = base64.b64encode(body.encode("utf-8")).decode("ascii")
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Host": "abc123.execute-api.us-east-1.amazonaws.com",
            "Origin": ORIGIN,
            "x-api-key": "not-a-real-key",
        },
        "multiValueHeaders": {},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "apiId": "abc123",
            "identity": {"sourceIp": "203.0.113.10", "apiKeyId": "key-id", "userAgent": "pytest"},
            **({"authorizer": {"claims": dict(claims)}} if claims is not None else {}),
        },
        "body": body,
        "isBase64Encoded": base64_encoded,
    }


def scheduler_event() -> dict[str, Any]:
    """What the ``DailyDynamoDBBackup`` schedule passes (the target's default input, an empty object)."""
    return {}


@dataclass(frozen=True)
class FakeContext:
    """A context without the runtime's clock: a handler called bare, outside Lambda (no deadline)."""

    aws_request_id: str = "0f4d6c1e-0000-4000-8000-000000000000"
    function_name: str = "test"
    invoked_function_arn: str = BACKUP_FUNCTION_ARN


@dataclass(frozen=True)
class LambdaContext(FakeContext):
    """A context with the runtime's clock: the invocation ends ``timeout_s`` after ``started``.

    The only way a function learns its time in Lambda: the runtime sets no
    variable with the configured timeout.
    """

    timeout_s: float = 3.0
    started: float = 0.0

    @classmethod
    def starting_now(cls, timeout_s: float) -> LambdaContext:
        return cls(timeout_s=timeout_s, started=time.monotonic())

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.started + self.timeout_s - time.monotonic()) * 1000))


def invoke(module: Any, event: Mapping[str, Any]) -> Any:
    """Call a function's ``lambda_handler`` as the Lambda runtime would."""
    return module.lambda_handler(dict(event), FakeContext())


def response_json(response: Mapping[str, Any]) -> Any:
    return json.loads(response["body"])


# --- Fault injection -----------------------------------------------------------


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class Injection:
    """Fails the first ``times`` matching attempts of ``operation`` (all if None), counting every attempt."""

    operation: str | None
    status: int
    body: bytes
    headers: dict[str, str]
    times: int | None = None
    when: Callable[[Any], bool] | None = None
    attempts: int = 0
    failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def respond(self, operation: str, request: Any) -> AWSResponse | None:
        if self.operation not in (None, operation) or (self.when is not None and not self.when(request)):
            return None
        with self._lock:
            self.attempts += 1
            if self.times is not None and self.failures >= self.times:
                return None
            self.failures += 1
        headers = HTTPHeaders()
        for name, value in self.headers.items():
            headers[name] = value
        return AWSResponse(request.url, self.status, headers, _RawBody(self.body))


class FaultInjector:
    """Stands between one client and moto: answers a request with an injected error or hands it to moto.

    botocore runs every ``before-send`` handler and uses the first response,
    so an error handler merely placed before moto's would still let moto carry
    out the request (store the part, complete the upload). The injector takes
    moto's place on this client instead; other clients are unaffected.
    """

    def __init__(self, client: BaseClient) -> None:
        self.injections: list[Injection] = []
        # botocore-stubs type event handlers as returning None; before-send handlers return responses.
        client.meta.events.unregister("before-send", cast("Callable[..., None]", botocore_stubber))
        client.meta.events.register_first("before-send", cast("Callable[..., None]", self))

    def __call__(self, request: Any, event_name: str, **kwargs: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        for injection in self.injections:
            response = injection.respond(operation, request)
            if response is not None:
                return response
        return botocore_stubber(event_name=event_name, request=request, **kwargs)


_injectors: weakref.WeakKeyDictionary[BaseClient, FaultInjector] = weakref.WeakKeyDictionary()


def inject_error(
    client: BaseClient,
    operation: str | None,
    code: str,
    *,
    status: int,
    times: int | None = None,
    when: Callable[[Any], bool] | None = None,
    message: str | None = None,
) -> Injection:
    """Make ``client`` receive an AWS error response for ``operation`` (None: every operation).

    The error arrives as an HTTP response in place of moto's answer, so
    botocore parses and retries it exactly as it would a real one (throttling
    and 503 are retried, AccessDenied is not), and moto never sees the request.
    """
    protocol = client.meta.service_model.protocol
    message = message or f"injected {code}"
    if protocol == "json":
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}
    elif protocol == "rest-xml":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
        headers = {"Content-Type": "application/xml"}
    else:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>injected</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml"}
    injection = Injection(operation=operation, status=status, body=body, headers=headers, times=times, when=when)
    if client not in _injectors:
        _injectors[client] = FaultInjector(client)
    _injectors[client].injections.append(injection)
    return injection


class AsyncInvocations:
    """Lambda's asynchronous ``Invoke``, for one client: accepted (202) and queued, delivered on request.

    moto cannot run a function (it needs Docker), so this stands in for the
    Lambda service between the caller's client and moto: each ``Invoke`` with
    ``InvocationType=Event`` is answered 202 and its payload kept;
    ``deliver`` then calls the backup handler with each queued event, as Lambda
    would shortly after.
    """

    def __init__(self, client: BaseClient) -> None:
        self.queued: list[tuple[str, dict[str, Any]]] = []
        if client not in _injectors:
            _injectors[client] = FaultInjector(client)
        injection = Injection(operation="Invoke", status=202, body=b"", headers={}, when=self._accept)
        _injectors[client].injections.append(injection)

    def _accept(self, request: Any) -> bool:
        kind = request.headers.get("X-Amz-Invocation-Type")
        kind = kind.decode() if isinstance(kind, bytes) else kind
        assert kind == "Event", f"only asynchronous invocations are expected, got {kind!r}"
        function = request.url.split("/functions/", 1)[1].split("/", 1)[0]
        self.queued.append((unquote(function), json.loads(request.body)))
        return True

    def deliver(self) -> list[Any]:
        """Run every queued event through the backup handler, in order; returns the handler's results."""
        results = []
        while self.queued:
            _, event = self.queued.pop(0)
            results.append(invoke(backup, event))
        return results


def make_unavailable(client: BaseClient) -> Injection:
    """Every call of ``client`` fails as if the service were down: HTTP 503, retried, then given up."""
    return inject_error(client, None, "ServiceUnavailable", status=503)


class FakeTime:
    """Stands in for ``time`` in botocore's retry loop: records back-off delays instead of sleeping."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@contextmanager
def instant_retries() -> Iterator[FakeTime]:
    fake = FakeTime()
    with mock.patch("botocore.endpoint.time", fake):
        yield fake


# --- Recording the calls the functions make ----------------------------------------


def iam_action(model: OperationModel) -> str:
    service = model.service_model.signing_name
    try:
        return IAM_ACTIONS[(service, model.name)]
    except KeyError:
        raise KeyError(f"no IAM action mapped for {service}:{model.name}; add it to IAM_ACTIONS") from None


class CallRecorder:
    """Records the IAM action of every API call made by clients of the functions' session."""

    def __init__(self) -> None:
        self.actions: set[str] = set()

    def attach(self) -> None:
        # Clients copy their session's handlers when created: attach before the function creates any.
        aws.session().events.register("before-call", self._record)

    def _record(self, model: OperationModel, **_: Any) -> None:
        self.actions.add(iam_action(model))


# --- Scenarios ---------------------------------------------------------------------

STUDENT: Final = {
    "studentid": "SV001",
    "name": "Nguyễn Thị Ánh",
    "class": "CNTT1",
    "birthdate": "2003-04-05",
    "email": "anh.nguyen@example.com",
}

Scenario = Callable[[World], None]


def _get_list(world: World) -> None:
    world.put_students([STUDENT])
    invoke(get_students, api_event("GET", "/students", query={"limit": "1"}))


def _get_one(world: World) -> None:
    world.put_students([STUDENT])
    invoke(get_students, api_event("GET", "/students", query={"studentid": "SV001"}))
    invoke(get_students, api_event("GET", "/students", query={"studentid": "SV404"}))


def _get_bad_request(world: World) -> None:
    invoke(get_students, api_event("GET", "/students", query={"limit": "0"}))


def _get_throttled(world: World) -> None:
    inject_error(aws.dynamodb(), "Scan", "ProvisionedThroughputExceededException", status=400, times=2)
    with instant_retries():
        invoke(get_students, api_event("GET", "/students"))


def _insert(world: World) -> None:
    invoke(insert_student, api_event("POST", "/students", body=json.dumps(STUDENT)))


def _insert_duplicate(world: World) -> None:
    world.put_students([STUDENT])
    invoke(insert_student, api_event("POST", "/students", body=json.dumps(STUDENT)))


def _insert_invalid(world: World) -> None:
    invoke(insert_student, api_event("POST", "/students", body='{"studentid": 1}'))


def _insert_mail_down(world: World) -> None:
    make_unavailable(aws.ses())
    with instant_retries():
        invoke(insert_student, api_event("POST", "/students", body=json.dumps(STUDENT)))


def _backup_api(world: World) -> None:
    world.put_students([STUDENT])
    lambda_service = AsyncInvocations(aws.lambda_())
    started = response_json(invoke(backup, api_event("POST", "/backup")))
    lambda_service.deliver()
    invoke(backup, api_event("GET", "/backup", query={"runId": started["runId"]}))
    invoke(backup, api_event("GET", "/backup"))


def _backup_scheduled(world: World) -> None:
    world.put_students([STUDENT])
    invoke(backup, scheduler_event())


def _backup_part_denied(world: World) -> None:
    world.put_students([STUDENT])
    inject_error(aws.s3(), "UploadPart", "AccessDenied", status=403)
    with contextlib.suppress(backup.BackupError):
        invoke(backup, scheduler_event())


def _backup_second_object_fails(world: World) -> None:
    world.put_students([STUDENT])
    inject_error(aws.s3(), "CompleteMultipartUpload", "AccessDenied", status=403, when=is_csv_request)
    with contextlib.suppress(backup.BackupError):
        invoke(backup, scheduler_event())


def _backup_scan_denied(world: World) -> None:
    inject_error(aws.dynamodb(), "Scan", "AccessDeniedException", status=400)
    with contextlib.suppress(backup.BackupError):
        invoke(backup, scheduler_event())


def _backup_throttled(world: World) -> None:
    world.put_students([STUDENT])
    inject_error(aws.dynamodb(), "Scan", "ProvisionedThroughputExceededException", status=400, times=2)
    with instant_retries():
        invoke(backup, scheduler_event())


def _backup_mail_down(world: World) -> None:
    make_unavailable(aws.ses())
    with instant_retries():
        invoke(backup, scheduler_event())


def is_csv_request(request: Any) -> bool:
    return ".csv" in request.url


SCENARIOS: Final[dict[str, tuple[Scenario, ...]]] = {
    "get_students": (_get_list, _get_one, _get_bad_request, _get_throttled),
    "insert_student": (_insert, _insert_duplicate, _insert_invalid, _insert_mail_down),
    "backup": (
        _backup_api,
        _backup_scheduled,
        _backup_part_denied,
        _backup_second_object_fails,
        _backup_scan_denied,
        _backup_throttled,
        _backup_mail_down,
    ),
}


def record_handler_calls() -> dict[str, set[str]]:
    """Per function, the IAM actions of every AWS call it made across all its scenarios.

    Set-up (creating the table, bucket and identities, seeding items) goes
    through the world's own session and is not recorded; only calls from the
    functions' clients (``lambdas.common.aws``) are.
    """
    recorded: dict[str, set[str]] = {}
    for function, scenarios in SCENARIOS.items():
        actions: set[str] = set()
        for scenario in scenarios:
            with aws_world() as world:
                recorder = CallRecorder()
                recorder.attach()
                scenario(world)
                actions |= recorder.actions
        recorded[function] = actions
    return recorded


if __name__ == "__main__":
    for function_name, action_set in record_handler_calls().items():
        print(f"{function_name}: {', '.join(sorted(action_set))}")
