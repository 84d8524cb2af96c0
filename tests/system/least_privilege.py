"""The deployed policies, broken one at a time in the running system: each break is caught by the flow that needs it.

Run by ``tests/system/test_make_up.py`` on its ``make up`` (private ports), after the tests that use the system
as deployed and before ``make up`` again, which then also proves every policy was put back exactly: one deploy
serves both. From what is deployed (never from a copy of the policies):

- **each statement of each role removed** (the three functions' execution
  roles and the schedule's role);
- **each resource of each statement narrowed to a wrong one** (the table, the
  bucket prefix, the identity, the queue, the log group renamed; ``*`` becomes
  one ARN);
- **each condition of each bucket policy inverted** (``StringEquals`` becomes
  ``StringNotEquals``, ``ArnNotEquals`` becomes ``ArnEquals``, a ``Bool``'s value
  flips), and so of the alarm topic's policy; the key policy's grant to
  CloudWatch removed.

After each break, the user-visible flow that needs the broken grant runs (an
insert, a confirmation e-mail, the list, a backup through the API, the
schedule, the site, the functions' logs and traces, ...) and must fail, and
the emulator must have logged an ``AccessDenied`` for it; then the policy is
put back. Every flow is first run unbroken and must work, so a caught break
means the grant was needed, not that the flow was broken anyway.

``FLOWS`` says which flow needs which statement. A deployed statement (or
bucket policy statement with a condition) that it does not name fails the
test: a new grant comes with the flow that proves it. Three flows are drills.
The dead-letter queues are used only when something failed, so their flow
makes something fail first (a schedule that may not invoke its target) or is
Lambda's check of the role when a function's configuration is deployed. The
backup role's ``WriteBackups`` duplicates the bucket policy's grant to the
role (in one account either suffices), so its flow is a backup with the
bucket's grant taken away.
"""

from __future__ import annotations

import copy
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from modules.functions.catalog import FUNCTIONS
from ops.alarm_test import alarm_test
from ops.backup_now import backup_now
from ops.denials import access_denials
from ops.local_system import OpsError
from tests.system.test_make_up import STUDENT, LocalSystem, follow_backup, request

ACCOUNT = "123456789012"
FUNCTION_OF_ROLE = {row.role_name: row.name for row in FUNCTIONS}
SCHEDULER_ROLE = "DailyDynamoDBBackupSchedulerRole"
#: The roles whose every statement is broken: the functions' and the schedule's.
ROLES = (*FUNCTION_OF_ROLE, SCHEDULER_ROLE)
#: Every bucket with a policy: the backups, their access logs, the site.
BUCKET_NAMES = ("student-backup-20250706", "student-backup-logs-20250706", "student-management-website-2025")

Flow = Callable[[LocalSystem], bool]
#: How far back the logs and traces flows look: only this call's events and segments count. The system has served
#: thousands of calls before (the tests before this proof share it), more than one page of traces or log events,
#: so counting everything would stop growing (and take longer than the flow waits).
RECENT_S = 2.0


# --- the flows: each answers whether it worked --------------------------------------------


def _insert(system: LocalSystem, email: str) -> dict[str, Any] | None:
    student = {**STUDENT, "studentid": f"SV{uuid.uuid4().int % 10**6:06d}", "email": email}
    saved = request(f"{system.api}/students", method="POST", body=student, **system.signed())
    system.client("dynamodb").delete_item(TableName="studentData", Key={"studentid": {"S": student["studentid"]}})
    return dict(saved.body) if saved.status == 201 else None


def insert(system: LocalSystem) -> bool:
    """A student is saved (``POST /students``)."""
    return _insert(system, "nobody@example.com") is not None


def confirmation_mail(system: LocalSystem) -> bool:
    """A saved student with a verified address gets the confirmation e-mail."""
    saved = _insert(system, "admin@example.com")  # verified by make up
    return saved is not None and saved["emailSent"] is True


def list_students(system: LocalSystem) -> bool:
    """The list answers (``GET /students``)."""
    return request(f"{system.api}/students", **system.signed()).status == 200


def _backup(system: LocalSystem) -> dict[str, Any] | None:
    started = request(f"{system.api}/backup", method="POST", **system.signed())
    if started.status != 202:
        return None
    return follow_backup(system, started.body["runId"], timeout_s=60)


def backup(system: LocalSystem) -> bool:
    """A backup started from the page runs to its end (``POST /backup``, then ``GET /backup?runId=``)."""
    run = _backup(system)
    return run is not None and run["state"] == "done"


def backup_on_its_role_alone(system: LocalSystem) -> bool:
    """Drill: a backup runs on its role's own grant, the bucket policy's grant to the role taken away.

    The backup bucket's policy also allows the backup role ``s3:PutObject``
    (``AllowBackupRolePutObject``), and in one account either grant suffices,
    so the role's ``WriteBackups`` shows only where the bucket's is missing.
    """
    s3 = system.client("s3")
    bucket = BUCKET_NAMES[0]
    kept = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    policy = json.loads(kept)
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != "AllowBackupRolePutObject"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    try:
        return backup(system)
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=kept)


def summary_mail(system: LocalSystem) -> bool:
    """A backup's summary e-mail is sent."""
    run = _backup(system)
    return run is not None and run["state"] == "done" and run["emailSent"] is True


def schedule(system: LocalSystem) -> bool:
    """The schedule's run (``make backup-now``) succeeds."""
    try:
        backup_now(system.emulator.config)
    except OpsError:
        return False
    return True


def undelivered_events(system: LocalSystem) -> bool:
    """Drill: a schedule that may not invoke its target leaves the event in its dead-letter queue."""
    iam = system.client("iam")
    policy = _role_policy(system, SCHEDULER_ROLE)
    kept = json.dumps(policy.document)
    refused = copy.deepcopy(policy.document)
    refused["Statement"] = [s for s in refused["Statement"] if s.get("Sid") != "InvokeBackupFunction"]
    if refused["Statement"]:
        iam.put_role_policy(RoleName=SCHEDULER_ROLE, PolicyName=policy.name, PolicyDocument=json.dumps(refused))
    else:  # IAM takes no policy without statements
        iam.delete_role_policy(RoleName=SCHEDULER_ROLE, PolicyName=policy.name)
    try:
        target = system.client("scheduler").get_schedule(Name="DailyDynamoDBBackup")["Target"]
        queue = target["DeadLetterConfig"]["Arn"].rsplit(":", 1)[-1]
        sqs = system.client("sqs")
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]

        def waiting() -> int:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

        before = waiting()
        schedule(system)
        return waiting() > before
    finally:
        iam.put_role_policy(RoleName=SCHEDULER_ROLE, PolicyName=policy.name, PolicyDocument=kept)


def function_configuration(function: str) -> Flow:
    def deploy(system: LocalSystem) -> bool:
        """Drill: the function's dead-letter queue is deployed again, as a change of its configuration is."""
        awslambda = system.client("lambda")
        target = awslambda.get_function_configuration(FunctionName=function)["DeadLetterConfig"]["TargetArn"]
        try:
            awslambda.update_function_configuration(FunctionName=function, DeadLetterConfig={"TargetArn": target})
        except awslambda.exceptions.InvalidParameterValueException:
            return False
        return True

    deploy.__doc__ = f"{function}'s dead-letter queue can be deployed"
    return deploy


#: A call of each function that works with no other grant than the one under test... and its own.
RUN_FUNCTION: dict[str, Flow] = {
    "insertStudentData": insert,
    "getStudentData": list_students,
    "BackupDynamoDBAndSendEmail": lambda system: request(f"{system.api}/backup", **system.signed()).status == 200,
}


def _count_after(system: LocalSystem, function: str, count: Callable[[], int], service: str) -> bool:
    """Whether what ``count`` counts grows after a call of the function (False once a ``service:`` call is refused)."""
    config = system.emulator.config
    seq = max((d["seq"] for d in access_denials(config)), default=0)
    before = count()
    RUN_FUNCTION[function](system)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if count() > before:
            return True
        if any(d["action"].startswith(service) for d in access_denials(config, seq)):
            return False
        time.sleep(0.1)
    return False


def function_logs(function: str) -> Flow:
    def logs(system: LocalSystem) -> bool:
        """The function's log reaches its log group."""
        client = system.client("logs")
        group = f"/aws/lambda/{function}"
        since = int((time.time() - RECENT_S) * 1000)
        events = lambda: len(client.filter_log_events(logGroupName=group, startTime=since)["events"])  # noqa: E731
        return _count_after(system, function, events, "logs:")

    return logs


def function_traces(function: str) -> Flow:
    def traces(system: LocalSystem) -> bool:
        """The function's invocations reach X-Ray."""
        xray = system.client("xray")
        since = time.time() - RECENT_S

        def count() -> int:
            summaries = xray.get_trace_summaries(StartTime=since, EndTime=time.time() + 60)
            ids = [summary["Id"] for summary in summaries["TraceSummaries"]]
            traces = [
                t for i in range(0, len(ids), 5) for t in xray.batch_get_traces(TraceIds=ids[i : i + 5])["Traces"]
            ]
            named = f'"name": "{function}"'
            return sum(1 for trace in traces for segment in trace["Segments"] if named in segment["Document"])

        return _count_after(system, function, count, "xray:")

    return traces


def site(system: LocalSystem) -> bool:
    """The page is served through the distribution."""
    return _status(f"{system.site}/") == 200


def site_missing_page(system: LocalSystem) -> bool:
    """A page that does not exist is answered 404 (S3 may list the bucket), not 403."""
    return _status(f"{system.site}/no-such-page.html") == 404


def read_access_logs(system: LocalSystem) -> bool:
    """The operator can read the backup bucket's access logs."""
    try:
        system.client("s3").list_objects_v2(Bucket="student-backup-logs-20250706")
    except system.client("s3").exceptions.ClientError:
        return False
    return True


def alarm_delivery(system: LocalSystem) -> bool:
    """An alarm's notification reaches its topic's subscribers (``make alarm-test``)."""
    try:
        alarm_test(system.emulator.config, None)
    except OpsError:
        return False
    return True


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - loopback
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


#: Which flow needs each deployed statement: (role or bucket, Sid) -> flow.
FLOWS: dict[tuple[str, str], Flow] = {
    **{(role, "WriteOwnLogs"): function_logs(function) for role, function in FUNCTION_OF_ROLE.items()},
    **{(role, "WriteTraces"): function_traces(function) for role, function in FUNCTION_OF_ROLE.items()},
    **{(role, "SendToDeadLetterQueue"): function_configuration(fn) for role, fn in FUNCTION_OF_ROLE.items()},
    ("LambdaInsertStudentRole", "InsertStudent"): insert,
    ("LambdaInsertStudentRole", "SendConfirmation"): confirmation_mail,
    ("LambdaGetStudentRole", "ReadStudents"): list_students,
    ("DynamoDBBackupRole", "ScanStudents"): backup,
    ("DynamoDBBackupRole", "WriteBackups"): backup_on_its_role_alone,
    ("DynamoDBBackupRole", "SendSummary"): summary_mail,
    ("DynamoDBBackupRole", "TrackBackupRuns"): backup,
    ("DynamoDBBackupRole", "StartOwnRuns"): backup,
    (SCHEDULER_ROLE, "InvokeBackupFunction"): schedule,
    (SCHEDULER_ROLE, "SendToDeadLetterQueue"): undelivered_events,
    ("student-backup-20250706", "DenyPutObjectExceptBackupRole"): backup,
    ("student-backup-20250706", "DenyInsecureTransport"): backup,
    ("student-backup-logs-20250706", "DenyInsecureTransport"): read_access_logs,
    ("student-management-website-2025", "AllowCloudFrontReadObjects"): site,
    ("student-management-website-2025", "AllowCloudFrontListKeys"): site_missing_page,
    ("student-management-website-2025", "DenyInsecureTransport"): site,
    ("alarm topic", "CloudWatchAlarmsPublish"): alarm_delivery,
    ("alarm topic", "DenyInsecureTransport"): alarm_delivery,
    ("alarm topic key", "CloudWatchAlarmsUseKey"): alarm_delivery,
}
#: Bucket policy statements whose flow the emulator does not play, with why.
NOT_PLAYED = {
    ("student-backup-logs-20250706", "S3ServerAccessLogsPolicy"): "the emulator delivers no S3 server access logs",
}


# --- the mutations -------------------------------------------------------------------------


@dataclass(frozen=True)
class RolePolicy:
    role: str
    name: str
    document: dict[str, Any]


@dataclass(frozen=True)
class Mutation:
    """One break: what it is, the flow that must catch it, how to apply it and how to undo it."""

    owner: str
    sid: str
    what: str
    apply: Callable[[], None]
    undo: Callable[[], None]

    @property
    def flow(self) -> Flow:
        return FLOWS[(self.owner, self.sid)]


def _role_policy(system: LocalSystem, role: str) -> RolePolicy:
    iam = system.client("iam")
    [name] = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    return RolePolicy(role, name, document if isinstance(document, dict) else json.loads(document))


def wrong(resource: str) -> str:
    """The resource narrowed to one that is not the system's: the same shape, another name."""
    if resource == "*":
        return f"arn:aws:iam::{ACCOUNT}:role/not-this-system"
    for wildcard in ("/*", ":*"):
        if resource.endswith(wildcard):
            return resource.removesuffix(wildcard) + "-wrong" + wildcard
    return resource + "-wrong"


INVERTED = {
    "StringEquals": "StringNotEquals",
    "StringNotEquals": "StringEquals",
    "ArnEquals": "ArnNotEquals",
    "ArnNotEquals": "ArnEquals",
    "ArnLike": "ArnNotLike",
    "ArnNotLike": "ArnLike",
}


def inverted(operator: str, pairs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if operator == "Bool":
        return operator, {key: "true" if str(value).lower() == "false" else "false" for key, value in pairs.items()}
    return INVERTED[operator], pairs


def role_mutations(system: LocalSystem, role: str) -> Iterator[Mutation]:
    iam = system.client("iam")
    policy = _role_policy(system, role)
    original = json.dumps(policy.document)

    def put(document: dict[str, Any]) -> Callable[[], None]:
        return lambda: iam.put_role_policy(RoleName=role, PolicyName=policy.name, PolicyDocument=json.dumps(document))

    restore = put(json.loads(original))
    for index, statement in enumerate(policy.document["Statement"]):
        removed = copy.deepcopy(policy.document)
        del removed["Statement"][index]
        yield Mutation(role, statement["Sid"], f"{role}: {statement['Sid']} removed", put(removed), restore)
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for position, resource in enumerate(resources):
            narrowed = copy.deepcopy(policy.document)
            changed = list(resources)
            changed[position] = wrong(resource)
            narrowed["Statement"][index]["Resource"] = changed
            what = f"{role}: {statement['Sid']} on {changed[position]} instead of {resource}"
            yield Mutation(role, statement["Sid"], what, put(narrowed), restore)


@dataclass(frozen=True)
class ResourcePolicy:
    """A resource's policy as the emulator holds it, and how to put one back."""

    owner: str
    document: dict[str, Any]
    put: Callable[[dict[str, Any]], None]


def resource_policies(system: LocalSystem) -> Iterator[ResourcePolicy]:
    """Every bucket's policy, the alarm topic's and its key's."""
    s3, sns, kms = system.client("s3"), system.client("sns"), system.client("kms")
    for bucket in BUCKET_NAMES:
        yield ResourcePolicy(
            bucket,
            json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]),
            lambda document, bucket=bucket: s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(document)),
        )
    [topic] = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    yield ResourcePolicy(
        "alarm topic",
        json.loads(attributes["Policy"]),
        lambda document: sns.set_topic_attributes(
            TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(document)
        ),
    )
    key = attributes["KmsMasterKeyId"]
    yield ResourcePolicy(
        "alarm topic key",
        json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]),
        lambda document: kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(document)),
    )


def resource_policy_mutations(policy: ResourcePolicy) -> Iterator[Mutation]:
    """Each condition inverted; a statement with none (the key's grant to CloudWatch) removed."""
    original = copy.deepcopy(policy.document)

    def put(changed: dict[str, Any]) -> Callable[[], None]:
        return lambda: policy.put(changed)

    for index, statement in enumerate(original["Statement"]):
        sid = statement["Sid"]
        if (policy.owner, sid) in NOT_PLAYED or ((policy.owner, sid) not in FLOWS and not statement.get("Condition")):
            continue
        if not statement.get("Condition"):
            removed = copy.deepcopy(original)
            del removed["Statement"][index]
            yield Mutation(policy.owner, sid, f"{policy.owner}: {sid} removed", put(removed), put(original))
        for operator, pairs in (statement.get("Condition") or {}).items():
            changed = copy.deepcopy(original)
            conditions = changed["Statement"][index]["Condition"]
            del conditions[operator]
            new_operator, new_pairs = inverted(operator, pairs)
            conditions[new_operator] = new_pairs
            what = f"{policy.owner}: {sid}'s {operator} {sorted(pairs)} inverted to {new_operator} {new_pairs}"
            yield Mutation(policy.owner, sid, what, put(changed), put(original))


def check_every_mutation_is_caught(system: LocalSystem) -> None:
    """Every statement and condition broken in turn: each break fails the flow that needs it, logged as denied."""
    mutations = [m for role in ROLES for m in role_mutations(system, role)]
    mutations += [m for policy in resource_policies(system) for m in resource_policy_mutations(policy)]
    unknown = sorted({(m.owner, m.sid) for m in mutations} - set(FLOWS))
    assert not unknown, f"deployed statements no flow proves: {unknown} (add them to FLOWS)"
    flows = list(dict.fromkeys(FLOWS.values()))
    broken_unmutated = [flow.__doc__ for flow in flows if not flow(system)]
    assert not broken_unmutated, f"flows that fail with the deployed policies: {broken_unmutated}"

    missed, unlogged = [], []
    config = system.emulator.config
    for mutation in mutations:
        seq = max((d["seq"] for d in access_denials(config)), default=0)
        mutation.apply()
        try:
            worked = mutation.flow(system)
        finally:
            mutation.undo()
        if worked:
            missed.append(mutation.what)
        elif not any(d["code"] == "AccessDenied" for d in access_denials(config, seq)):
            unlogged.append(mutation.what)
    print(f"\n{len(mutations)} mutations tried, {len(mutations) - len(missed)} caught; {len(NOT_PLAYED)} not played")
    assert not missed, f"{len(missed)} of {len(mutations)} mutations went unnoticed:\n" + "\n".join(missed)
    assert not unlogged, "caught without an AccessDenied in the emulator's log:\n" + "\n".join(unlogged)
    failing = [flow.__doc__ for flow in flows if not flow(system)]
    assert not failing, f"flows that fail once every policy was put back: {failing}"
