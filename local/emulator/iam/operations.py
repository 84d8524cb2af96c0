"""What a request asks, as AWS's service authorization reference gives it: its action, the resources it acts on,
where their policy comes from, and the context keys of its own, for the operations this system makes.

DynamoDB's tables; S3's objects and buckets, multipart uploads included;
SES's identities (the sender's and, in the sandbox, each recipient's); SQS's
queues; CloudWatch Logs' log streams; SNS's topics; X-Ray's segments. Any other
operation is its service's action on resource ``*``; a REST operation not
listed here has no action the emulator can tell (``Operation(None)``).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses, parseaddr
from typing import Any, Final
from xml.sax.saxutils import unescape

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from local.edge.policies import Policy
from local.emulator.iam.stored_policies import bucket_policy, queue_policy, topic_policy
from local.emulator.wsgi import form_fields

#: The signing name of a service, where it is not its actions' prefix.
_ACTION_PREFIX: Final = {"monitoring": "cloudwatch", "email": "ses", "execute-api": "execute-api"}


@dataclass(frozen=True)
class Operation:
    """What a request asks: the action, the resources it acts on, where their policy comes from, and context."""

    action: str | None  # None: a REST operation this module cannot name
    resources: tuple[str, ...] = ("*",)
    resource_policy: Callable[[], Policy | None] = lambda: None
    context: Mapping[str, str] = field(default_factory=dict)


def describe(service: str, region: str, method: str, environ: Mapping[str, Any], body: bytes) -> Operation:
    """The action and resources of a request to the emulator, as IAM reads them."""
    prefix = _ACTION_PREFIX.get(service, service)
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if service == "s3":
        return _s3(method, environ, body)
    if target:
        data = _json(body)
        return _json_operation(prefix, target.rsplit(".", 1)[-1], data, region)
    form = form_fields(environ, body)
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
    return Operation(f"sqs:{operation}", (arn,), lambda: queue_policy(name, region))


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
    policy: Callable[[], Policy | None] = lambda: bucket_policy(bucket)  # noqa: E731
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


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
