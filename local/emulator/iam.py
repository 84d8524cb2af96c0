"""IAM in the emulator: every request is authorized as AWS would authorize it, before moto serves it.

moto accepts any credentials for any action. Here each request is first
matched to its caller and to what it asks (``describe``), then decided by
``local/edge/policies.py``, the evaluator the edge uses too:

- **A role session** (temporary credentials from the emulator's STS, as Lambda
  gives each function, and as the edge assumes for the scheduler): the role's
  identity policies (inline and attached) and the resource's policy (a bucket
  policy, an SQS queue policy, an SNS topic policy, a function's policy) decide,
  with the request's context: ``aws:SecureTransport`` (the emulator serves
  HTTPS only), ``aws:PrincipalArn`` (the role), ``aws:PrincipalAccount``,
  ``aws:PrincipalType``, ``aws:userid`` and, for SES, ``ses:FromAddress``. The
  session's token must match and must not have expired, or the request is
  refused as AWS refuses it (``InvalidClientTokenId``, ``ExpiredToken``).
- **Any other caller** is the account's administrator (Terraform, the
  operator's commands, the tests): every identity policy allows it, but a
  resource policy's explicit ``Deny`` still applies, as in AWS (the backup
  bucket refuses its ``PutObject`` as it refuses everyone's but the backup
  role's). The administrator also has the root user's exemption: a bucket's
  policy cannot refuse it reading, replacing or deleting that policy, so a
  policy that locks everyone out can be mended, as the root user mends it in AWS.

A refused request is answered in its protocol's shape (``AccessDenied`` in S3's
and the query protocol's XML, ``AccessDeniedException`` in JSON), recorded,
and logged as one ``AccessDenied`` line naming the caller, the action, the
resource and the reason in AWS's words. ``GET /_emulator/iam/denials`` answers
the recorded refusals; ``POST /_emulator/iam/authorize`` decides a request made
to the local edge (Lambda's ``Invoke``) with the same evaluator.

What a request asks is read as AWS's service authorization reference gives it,
for the operations this system makes (DynamoDB's tables; S3's objects and
buckets, multipart uploads included; SES's identities; SQS's queues; CloudWatch
Logs' log streams; SNS's topics); any other operation is its service's action
on resource ``*``. A request whose action cannot be told (a REST operation not
listed here) is refused to a role session and passed for the administrator.
Not evaluated: permissions boundaries, session policies, service control
policies and KMS key policies for direct calls (nothing here uses them), and
signatures (a request with a known key and token is taken as signed by it).
"""

from __future__ import annotations

import collections
import datetime
import io
import itertools
import json
import logging
import re
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import getaddresses, parseaddr
from typing import Any, Final
from xml.sax.saxutils import unescape

from moto.awslambda.models import lambda_backends
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends
from moto.s3.models import s3_backends
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.sts.models import sts_backends

from local.edge.policies import Caller, Decision, Policy, decide

LOG = logging.getLogger("moto_server.iam")
#: ``GET /_emulator/iam/denials[?after=<seq>]``: the refusals recorded, oldest first.
DENIALS_PATH: Final = "/_emulator/iam/denials"
#: ``POST /_emulator/iam/authorize``: decide a call made to the edge (its credentials, action and resource).
AUTHORIZE_PATH: Final = "/_emulator/iam/authorize"
#: The administrator: every caller that is not a role session (``GetCallerIdentity`` answers it so).
ADMINISTRATOR: Final = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:user/moto"
#: What a bucket policy cannot refuse the account's root user (so a policy that locks everyone out can
#: be mended); the administrator has the root user's exemption here.
ROOT_EXEMPT: Final = frozenset({"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"})
#: Refusals kept for ``DENIALS_PATH``.
KEPT_DENIALS: Final = 1000
#: The signing name of a service, where it is not its actions' prefix.
_ACTION_PREFIX: Final = {"monitoring": "cloudwatch", "email": "ses", "execute-api": "execute-api"}
_SCOPE: Final = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Session:
    """A role session the emulator's STS handed out."""

    role_arn: str
    session_arn: str
    user_id: str
    identity: tuple[Policy, ...]


@dataclass(frozen=True)
class Operation:
    """What a request asks: the action, the resources it acts on, where their policy comes from, and context."""

    action: str | None  # None: a REST operation this module cannot name
    resources: tuple[str, ...] = ("*",)
    resource_policy: Callable[[], Policy | None] = lambda: None
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refusal:
    """A request refused: the answer's error code and AWS's message."""

    code: str
    message: str


class Denials:
    """The refusals, numbered, the last ``KEPT_DENIALS`` kept."""

    def __init__(self) -> None:
        self._kept: collections.deque[dict[str, Any]] = collections.deque(maxlen=KEPT_DENIALS)
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def record(self, *, principal: str, action: str, resource: str, code: str, message: str) -> None:
        LOG.warning("%s: %s", code, message)
        with self._lock:
            self._kept.append(
                {
                    "seq": next(self._numbers),
                    "time": time.time(),
                    "principal": principal,
                    "action": action,
                    "resource": resource,
                    "code": code,
                    "message": message,
                }
            )

    def after(self, seq: int) -> list[dict[str, Any]]:
        with self._lock:
            return [denial for denial in self._kept if denial["seq"] > seq]


DENIALS = Denials()


# --- who is asking --------------------------------------------------------------------


def credential(environ: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """The request's access key id, region and signing service, from its signature (header or presigned URL)."""
    match = _SCOPE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    if match:
        return match.group(1), match.group(2), match.group(3)
    query = urllib.parse.parse_qs(str(environ.get("QUERY_STRING", "")))
    scope = query.get("X-Amz-Credential", [""])[0].split("/")
    return (scope[0], scope[2], scope[3]) if len(scope) == 5 else None


def role_session(access_key_id: str, token: str) -> Session | Refusal | None:
    """The role session of an access key (a Refusal when its token is wrong or expired), None for any other key."""
    for assumed in sts_backends[DEFAULT_ACCOUNT_ID]["aws"].assumed_roles:
        if assumed.access_key_id != access_key_id:
            continue
        if token != assumed.session_token:
            return Refusal("InvalidClientTokenId", "The security token included in the request is invalid.")
        if assumed.expiration <= datetime.datetime.now(datetime.UTC).replace(tzinfo=None):
            return Refusal("ExpiredToken", "The security token included in the request is expired")
        return Session(
            role_arn=assumed.role_arn,
            session_arn=assumed.arn,
            user_id=assumed.user_id,
            identity=identity_policies(assumed.role_arn),
        )
    if access_key_id.startswith("ASIA"):  # temporary credentials this STS never issued (or forgot: a restart)
        return Refusal("InvalidClientTokenId", "The security token included in the request is invalid.")
    return None


def identity_policies(role_arn: str) -> tuple[Policy, ...]:
    """The role's inline policies and the default versions of its attached managed policies (none: it is gone)."""
    try:
        role = iam_backends[DEFAULT_ACCOUNT_ID]["aws"].get_role_by_arn(role_arn)
    except Exception:
        return ()
    documents = list(role.policies.values())
    for managed in role.managed_policies.values():
        documents += [version.document for version in managed.versions if version.is_default]
    return tuple(_parsed(document) for document in documents)


def _parsed(document: Any) -> Policy:
    if isinstance(document, Mapping):
        return document
    text = str(document)
    parsed: Policy = json.loads(text if text.lstrip().startswith("{") else urllib.parse.unquote(text))
    return parsed


# --- what it asks ---------------------------------------------------------------------


def describe(service: str, region: str, method: str, environ: Mapping[str, Any], body: bytes) -> Operation:
    """The action and resources of a request to the emulator, as IAM reads them."""
    prefix = _ACTION_PREFIX.get(service, service)
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if service == "s3":
        return _s3(method, environ, body)
    if target:
        data = _json(body)
        return _json_operation(prefix, target.rsplit(".", 1)[-1], data, region)
    form = _form(environ, body)
    if "Action" in form:
        return _query_operation(prefix, form["Action"], form, region)
    if service == "xray" and method == "POST":
        name = {"/TraceSegments": "PutTraceSegments", "/TelemetryRecords": "PutTelemetryRecords"}
        action = name.get(str(environ.get("PATH_INFO", "")))
        return Operation(f"xray:{action}" if action else None)
    return Operation(None)


def _json_operation(prefix: str, operation: str, data: Mapping[str, Any], region: str) -> Operation:
    account = DEFAULT_ACCOUNT_ID
    if prefix == "dynamodb":
        tables = [data["TableName"]] if "TableName" in data else list(data.get("RequestItems") or {}) or ["*"]
        arns = [t if t.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{t}" for t in tables]
        return Operation(f"dynamodb:{operation}", tuple(arns))
    if prefix == "sqs":
        return _sqs(operation, data, region)
    if prefix == "logs" and "logGroupName" in data:
        group = f"arn:aws:logs:{region}:{account}:log-group:{data['logGroupName']}"
        stream = data.get("logStreamName")
        return Operation(f"logs:{operation}", (f"{group}:log-stream:{stream}" if stream else f"{group}:*",))
    return Operation(f"{prefix}:{operation}")


def _query_operation(prefix: str, operation: str, form: Mapping[str, str], region: str) -> Operation:
    if prefix == "sqs":
        return _sqs(operation, form, region)
    if prefix == "ses" and operation in ("SendEmail", "SendRawEmail", "SendTemplatedEmail"):
        return _ses_send(operation, form, region)
    if prefix == "sns" and "TopicArn" in form:
        arn = form["TopicArn"]
        return Operation(f"sns:{operation}", (arn,), lambda: topic_policy(arn, region))
    return Operation(f"{prefix}:{operation}")


def _sqs(operation: str, data: Mapping[str, Any], region: str) -> Operation:
    url = str(data.get("QueueUrl", ""))
    name = url.rstrip("/").rsplit("/", 1)[-1] if url else str(data.get("QueueName", "*"))
    arn = f"arn:aws:sqs:{region}:{DEFAULT_ACCOUNT_ID}:{name}"
    return Operation(f"sqs:{operation}", (arn,), lambda: _queue_policy(name, region))


def _ses_send(operation: str, form: Mapping[str, str], region: str) -> Operation:
    """SES authorizes a send on the identity of the sender and, in the sandbox, of each recipient that is one."""
    recipients = [value for key, value in form.items() if key.startswith("Destination") and ".member." in key]
    recipients += [value for key, value in form.items() if key.startswith("Destinations.member.")]
    source = form.get("Source", "")
    if operation == "SendRawEmail" and not source:
        raw = urllib.parse.unquote_plus(form.get("RawMessage.Data", ""))
        source = parseaddr(_raw_header(raw, "From"))[1]
        recipients = recipients or [address for _, address in getaddresses([_raw_header(raw, "To")])]
    backend = ses_backends[DEFAULT_ACCOUNT_ID][region]
    sender = parseaddr(source)[1]
    identities = [_identity_of(backend, sender) or sender]
    identities += [name for name in (_identity_of(backend, parseaddr(r)[1]) for r in recipients) if name]
    arns = tuple(dict.fromkeys(f"arn:aws:ses:{region}:{DEFAULT_ACCOUNT_ID}:identity/{name}" for name in identities))
    return Operation(f"ses:{operation}", arns, context={"ses:FromAddress": sender})


def _raw_header(raw: str, name: str) -> str:
    match = re.search(rf"^{name}:\s*(.+)$", raw, re.MULTILINE | re.IGNORECASE)
    return match.group(1).strip() if match else ""


def _identity_of(backend: Any, address: str) -> str | None:
    """The identity an address is known by: itself, else its domain; None when it is neither."""
    for name in (address, address.rpartition("@")[2].lower()):
        if name and name in backend.email_identities:
            return name
    return None


#: S3's object operations by method and sub-resource (the first one the query names), then without one.
_S3_OBJECT: Final = {
    "GET": {
        "uploadId": "ListMultipartUploadParts",
        "tagging": "GetObjectTagging",
        "acl": "GetObjectAcl",
        "": "GetObject",
    },
    "HEAD": {"": "GetObject"},
    "PUT": {"tagging": "PutObjectTagging", "acl": "PutObjectAcl", "retention": "PutObjectRetention", "": "PutObject"},
    "POST": {"uploads": "PutObject", "uploadId": "PutObject", "restore": "RestoreObject", "select": "GetObject"},
    "DELETE": {"uploadId": "AbortMultipartUpload", "tagging": "DeleteObjectTagging", "": "DeleteObject"},
}
_S3_BUCKET: Final = {
    "GET": {"versions": "ListBucketVersions", "uploads": "ListBucketMultipartUploads", "location": "GetBucketLocation"},
    "HEAD": {"": "ListBucket"},
    "PUT": {"": "CreateBucket"},
    "POST": {"delete": "DeleteObject"},
    "DELETE": {"": "DeleteBucket"},
}


def _s3(method: str, environ: Mapping[str, Any], body: bytes) -> Operation:
    bucket, key = _bucket_and_key(environ)
    if not bucket:
        return Operation("s3:ListAllMyBuckets")
    query = urllib.parse.parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    policy: Callable[[], Policy | None] = lambda: _bucket_policy(bucket)  # noqa: E731
    if key:
        operations = _S3_OBJECT.get(method, {})
        name = next((operations[q] for q in query if q in operations), operations.get(""))
        if name is None:
            return Operation(None)
        if method == "GET" and "versionId" in query and name == "GetObject":
            name = "GetObjectVersion"
        if method == "DELETE" and "versionId" in query and name == "DeleteObject":
            name = "DeleteObjectVersion"
        return Operation(f"s3:{name}", (f"arn:aws:s3:::{bucket}/{key}",), policy)
    if method == "POST" and "delete" in query:  # DeleteObjects: DeleteObject on each key it names
        keys = [unescape(k) for k in re.findall(r"<Key>(.*?)</Key>", body.decode("utf-8", "replace"), re.DOTALL)]
        return Operation(
            "s3:DeleteObject",
            tuple(f"arn:aws:s3:::{bucket}/{k}" for k in keys) or (f"arn:aws:s3:::{bucket}/*",),
            policy,
        )
    operations = _S3_BUCKET.get(method, {})
    name = next((operations[q] for q in query if q in operations), None)
    if name is None and query:
        sub = next(iter(query))  # ?policy, ?versioning, ...: Get/Put/DeleteBucket<Sub-resource>
        verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method)
        name = f"{verb}Bucket{sub[:1].upper()}{sub[1:]}" if verb else None
    if name is None:
        name = "ListBucket" if method == "GET" else operations.get("")
    return Operation(f"s3:{name}" if name else None, (f"arn:aws:s3:::{bucket}",), policy)


def _bucket_and_key(environ: Mapping[str, Any]) -> tuple[str, str]:
    """Path-style (``/bucket/key``, the emulator's) or virtual-hosted (``bucket.s3.<domain>``) addressing."""
    host = str(environ.get("HTTP_HOST", "")).split(":", 1)[0]
    path = urllib.parse.unquote(str(environ.get("PATH_INFO", "")))
    virtual = re.match(r"^(.+?)\.s3[.-]", host)
    if virtual:
        return virtual.group(1), path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


# --- the resources' policies ----------------------------------------------------------


def _bucket_policy(bucket: str) -> Policy | None:
    found = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets.get(bucket)
    return _parsed(found.policy.decode()) if found is not None and found.policy else None


def _queue_policy(name: str, region: str) -> Policy | None:
    queue = sqs_backends[DEFAULT_ACCOUNT_ID][region].queues.get(name)
    return _parsed(queue.policy) if queue is not None and queue.policy else None


def topic_policy(arn: str, region: str) -> Policy | None:
    """An SNS topic's access policy (None when there is no such topic)."""
    topic = sns_backends[DEFAULT_ACCOUNT_ID][region].topics.get(arn)
    return _parsed(topic.policy) if topic is not None else None


def function_policy(arn: str) -> Policy | None:
    """A function's resource policy (None when it has none, or when there is no such function)."""
    region = arn.split(":")[3]
    try:
        return _parsed(lambda_backends[DEFAULT_ACCOUNT_ID][region].get_policy(arn))
    except Exception:
        return None


# --- the decision ---------------------------------------------------------------------


def authorize(environ: dict[str, Any]) -> tuple[Refusal, int] | None:
    """Decide a request before moto sees it: None to serve it, or the refusal (and its service's status)."""
    scope = credential(environ)
    if scope is None:
        return None  # unsigned: moto's own checks (and the bucket's ACLs) apply
    access_key_id, region, service = scope
    token = str(environ.get("HTTP_X_AMZ_SECURITY_TOKEN", "")) or _query(environ, "X-Amz-Security-Token")
    session = role_session(access_key_id, token)
    if isinstance(session, Refusal):
        return session, 403
    method = str(environ.get("REQUEST_METHOD", "GET"))
    body = (
        request_body(environ) if (method in ("POST", "PUT") and service != "s3") or _is_delete_objects(environ) else b""
    )
    operation = describe(service, region, method, environ, body)
    if operation.action == "sts:GetCallerIdentity":
        return None  # always allowed, even under an explicit deny
    caller, context = _caller(session, environ)
    if operation.action is None:
        if session is None:
            return None
        message = f"User: {caller.name} is not authorized to perform this request: the emulator cannot tell its action"
        DENIALS.record(principal=caller.name, action="?", resource="?", code="AccessDenied", message=message)
        return Refusal("AccessDenied", message), 403
    if session is None and operation.action in ROOT_EXEMPT:
        return None  # the account's root may always mend a bucket's policy; the administrator plays root here
    decision = decide(
        caller,
        action=operation.action,
        resources=operation.resources,
        identity=session.identity if session else None,
        resource_policy=operation.resource_policy(),
        context={**context, **operation.context},
    )
    return _refused(decision, caller, operation.action, operation.resources, service)


def authorize_call(request: Mapping[str, Any]) -> dict[str, Any]:
    """``AUTHORIZE_PATH``: decide a call the edge plays (an ``action`` on a ``resource``), with this module's log.

    The caller is either a role session (``accessKeyId`` and ``sessionToken``: a
    function invoking a function) or a service principal (``service``, with
    the request's ``context``: CloudFront reading the website bucket through
    its origin access control). The resource's policy is the emulator's own.
    """
    action, resource = str(request["action"]), str(request["resource"])
    policy = _policy_of(resource)
    if "service" in request:
        caller = Caller(account=DEFAULT_ACCOUNT_ID, service=str(request["service"]))
        context = {"aws:SecureTransport": "true", **dict(request.get("context") or {})}
        decision = decide(
            caller, action=action, resources=[resource], identity=(), resource_policy=policy, context=context
        )
    else:
        session = role_session(str(request.get("accessKeyId", "")), str(request.get("sessionToken", "")))
        if isinstance(session, Refusal):
            return {"allowed": False, "code": session.code, "message": session.message}
        caller, context = _caller(session, {"wsgi.url_scheme": "https"})
        identity = session.identity if session else None
        decision = decide(
            caller, action=action, resources=[resource], identity=identity, resource_policy=policy, context=context
        )
    refused = _refused(decision, caller, action, (resource,), "lambda")
    if refused is None:
        return {"allowed": True, "principal": caller.name}
    return {"allowed": False, "code": refused[0].code, "message": refused[0].message, "principal": caller.name}


def _policy_of(arn: str) -> Policy | None:
    """The resource policy of a function, an S3 bucket or object, or a topic (None for any other resource)."""
    if arn.startswith("arn:aws:lambda:"):
        return function_policy(arn)
    if arn.startswith("arn:aws:s3:::"):
        return _bucket_policy(arn.removeprefix("arn:aws:s3:::").split("/", 1)[0])
    if arn.startswith("arn:aws:sns:"):
        return topic_policy(arn, arn.split(":")[3])
    return None


def role_may(role_arn: str, action: str, resource: str) -> Decision:
    """What a role's own policies (and the resource's) let it do: a service's check before it acts as the role.

    Lambda makes it when a function is given a dead-letter queue: the execution
    role must be allowed to send to it, or ``CreateFunction`` and
    ``UpdateFunctionConfiguration`` are refused.
    """
    name = role_arn.rsplit("/", 1)[-1]
    caller = Caller(account=DEFAULT_ACCOUNT_ID, arns=(role_arn,))
    region = resource.split(":")[3] if resource.count(":") >= 5 else "us-east-1"
    policy = _queue_policy(resource.rsplit(":", 1)[-1], region) if action.startswith("sqs:") else None
    context = {"aws:SecureTransport": "true", "aws:PrincipalArn": role_arn, "aws:PrincipalAccount": DEFAULT_ACCOUNT_ID}
    decision = decide(
        caller,
        action=action,
        resources=[resource],
        identity=identity_policies(role_arn),
        resource_policy=policy,
        context=context,
    )
    if not decision.allowed:
        DENIALS.record(principal=name, action=action, resource=resource, code="AccessDenied", message=decision.reason)
    return decision


def _caller(session: Session | None, environ: Mapping[str, Any]) -> tuple[Caller, dict[str, str]]:
    secure = "true" if environ.get("wsgi.url_scheme") == "https" else "false"
    context = {"aws:SecureTransport": secure, "aws:PrincipalAccount": DEFAULT_ACCOUNT_ID}
    if session is None:
        context |= {"aws:PrincipalArn": ADMINISTRATOR, "aws:PrincipalType": "User"}
        return Caller(account=DEFAULT_ACCOUNT_ID, arns=(ADMINISTRATOR,)), context
    context |= {"aws:PrincipalArn": session.role_arn, "aws:PrincipalType": "AssumedRole", "aws:userid": session.user_id}
    return Caller(account=DEFAULT_ACCOUNT_ID, arns=(session.role_arn, session.session_arn)), context


def _refused(
    decision: Decision, caller: Caller, action: str, resources: Sequence[str], service: str
) -> tuple[Refusal, int] | None:
    if decision.allowed:
        return None
    DENIALS.record(
        principal=caller.name, action=action, resource=" ".join(resources), code="AccessDenied", message=decision.reason
    )
    return Refusal("AccessDenied", decision.reason), 400 if service == "dynamodb" else 403


def answer(refusal: Refusal, status: int, environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The refusal in the shape the service's SDK parses: S3's XML, the JSON protocol's, or the query protocol's.

    The request's body is read first (and dropped): a server that answers
    before the client has sent it all makes the client see a broken connection
    instead of the answer.
    """
    request_body(environ)
    request_id = str(uuid.uuid4())
    reason = {400: "Bad Request", 403: "Forbidden"}[status]
    headers = [("x-amzn-RequestId", request_id)]
    scope = credential(environ)
    service = scope[2] if scope else ""
    if environ.get("HTTP_X_AMZ_TARGET"):
        code = refusal.code if refusal.code != "AccessDenied" else "AccessDeniedException"
        body = json.dumps({"__type": f"com.amazon.coral.service#{code}", "message": refusal.message}).encode()
        headers += [("Content-Type", "application/x-amz-json-1.0")]
        if service == "sqs":  # SQS's JSON protocol keeps its query protocol's error codes in this header
            headers += [("x-amzn-query-error", f"{refusal.code};Sender")]
    elif service == "s3":
        body = _xml("Error", refusal, request_id)
        headers += [("Content-Type", "application/xml")]
    elif "Action" in _form(environ, b""):
        body = _xml("ErrorResponse", refusal, request_id)
        headers += [("Content-Type", "text/xml")]
    else:
        body = json.dumps({"message": refusal.message}).encode()
        headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", f"{refusal.code}Exception")]
    if environ.get("REQUEST_METHOD") == "HEAD":
        body = b""
    start_response(f"{status} {reason}", [*headers, ("Content-Length", str(len(body)))])
    return [body]


def _xml(root: str, refusal: Refusal, request_id: str) -> bytes:
    message = refusal.message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    error = f"<Code>{refusal.code}</Code><Message>{message}</Message>"
    if root == "Error":
        return (
            f"<?xml version='1.0' encoding='UTF-8'?><Error>{error}<RequestId>{request_id}</RequestId></Error>".encode()
        )
    inner = f"<Error><Type>Sender</Type>{error}</Error><RequestId>{request_id}</RequestId>"
    return f"<?xml version='1.0' encoding='UTF-8'?><ErrorResponse>{inner}</ErrorResponse>".encode()


# --- reading the request without consuming it -----------------------------------------


def request_body(environ: dict[str, Any]) -> bytes:
    """The request's body, read once and put back for moto."""
    if "student_mgmt.body" in environ:
        return bytes(environ["student_mgmt.body"])
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):  # chunked (S3's aws-chunked uploads): read to its end
        body = bytes(stream.read())
    else:
        body = bytes(stream.read(length)) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["student_mgmt.body"] = body
    return body


def _is_delete_objects(environ: Mapping[str, Any]) -> bool:
    return environ.get("REQUEST_METHOD") == "POST" and "delete" in urllib.parse.parse_qs(
        str(environ.get("QUERY_STRING", "")), keep_blank_values=True
    )


def _form(environ: Mapping[str, Any], body: bytes) -> dict[str, str]:
    """The query protocol's parameters: the URL's, then a form body's."""
    fields = dict(urllib.parse.parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
    body = bytes(environ.get("student_mgmt.body", body))
    if body and "x-www-form-urlencoded" in str(environ.get("CONTENT_TYPE", "")):
        fields |= dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return fields


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _query(environ: Mapping[str, Any], name: str) -> str:
    return urllib.parse.parse_qs(str(environ.get("QUERY_STRING", ""))).get(name, [""])[0]
