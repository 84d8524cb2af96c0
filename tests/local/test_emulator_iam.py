"""IAM in the emulator (``local/emulator/iam/``, ``corrections/cloudwatch.py``), one correction of moto at a time.

Against a moto server of this module's own (``private_emulator``), with boto3 as
a function would call it: a role made here, its credentials from the
emulator's STS, and each kind of request the system makes, allowed where the
policy grants it and refused where it does not, in the shape the SDK parses.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.deploy import emulator_route
from ops.denials import access_denials
from ops.verify_email import follow_verification_link
from tests.conftest import EmulatorSettings, private_emulator

#: `make check` leaves this module to `make test`: a moto server of its own.
pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
REGION = "us-east-1"
TABLE, OTHER_TABLE = "granted", "other"
BUCKET = "iam-probe-bucket"
QUEUE, OTHER_QUEUE = "granted-queue", "other-queue"
SENDER, GRANTED, UNGRANTED = "noreply@school.example", "office@school.example", "teacher@school.example"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def identity(name: str) -> str:
    return f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{name}"


#: What the role may do: one table, one prefix, one queue, mail from SENDER to GRANTED only.
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "dynamodb:PutItem",
            "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}",
        },
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/granted/*"},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUE}"},
        {
            "Effect": "Allow",
            "Action": "ses:SendEmail",
            "Resource": [identity(SENDER), identity(GRANTED)],
            "Condition": {"StringEquals": {"ses:FromAddress": SENDER}},
        },
    ],
}
#: The bucket's TLS-only deny, and a deny of deleting anything, for everyone.
BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "KeepEverything",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:DeleteObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        },
    ],
}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorSettings]:
    with private_emulator(tmp_path_factory.mktemp("iam-emulator")) as settings:
        dynamodb, s3, sqs, ses = (settings.client(s) for s in ("dynamodb", "s3", "sqs", "ses"))
        for table in (TABLE, OTHER_TABLE):
            dynamodb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(BUCKET_POLICY))
        for queue in (QUEUE, OTHER_QUEUE):
            sqs.create_queue(QueueName=queue)
        for address in (SENDER, GRANTED, UNGRANTED):
            ses.verify_email_identity(EmailAddress=address)
            follow_verification_link(settings.config, address)
        iam = settings.client("iam")
        iam.create_role(RoleName="probe-role", AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.put_role_policy(RoleName="probe-role", PolicyName="probe", PolicyDocument=json.dumps(POLICY))
        yield settings


def as_role(emulator: EmulatorSettings, service: str, **changed: str) -> Any:
    """A client that signs as a fresh session of the probe role (``changed`` overrides a credential)."""
    role = f"arn:aws:iam::{ACCOUNT}:role/probe-role"
    session = emulator.client("sts").assume_role(RoleArn=role, RoleSessionName="probe")["Credentials"]
    keys = {
        "aws_access_key_id": session["AccessKeyId"],
        "aws_secret_access_key": session["SecretAccessKey"],
        "aws_session_token": session["SessionToken"],
        **changed,
    }
    make_client: Any = boto3.client
    return make_client(
        service,
        endpoint_url=emulator.endpoint,
        region_name=REGION,
        verify=str(emulator.ca_bundle),
        config=Config(retries={"max_attempts": 1}),
        **keys,
    )


def refusal(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return str(error.value.response["Error"]["Code"]), str(error.value.response["Error"].get("Message", ""))


def test_dynamodb_is_allowed_on_the_granted_table_only(emulator: EmulatorSettings) -> None:
    dynamodb = as_role(emulator, "dynamodb")
    dynamodb.put_item(TableName=TABLE, Item={"id": {"S": "1"}})
    with pytest.raises(ClientError) as refused:
        dynamodb.put_item(TableName=OTHER_TABLE, Item={"id": {"S": "1"}})
    code, message = refusal(refused)
    assert code == "AccessDeniedException"
    assert message == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/probe-role/probe is not authorized to perform: dynamodb:PutItem "
        f"on resource: arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{OTHER_TABLE} "
        "because no identity-based policy allows the dynamodb:PutItem action"
    )
    assert "Item" not in emulator.client("dynamodb").get_item(TableName=OTHER_TABLE, Key={"id": {"S": "1"}})
    with pytest.raises(ClientError, match="AccessDenied"):
        dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "1"}})  # no action it was not granted


def test_s3_is_allowed_on_the_granted_prefix_and_multipart_uploads_count_as_put_object(
    emulator: EmulatorSettings,
) -> None:
    s3 = as_role(emulator, "s3")
    s3.put_object(Bucket=BUCKET, Key="granted/a.json", Body=b"[]")
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="granted/big.csv")["UploadId"]
    part = s3.upload_part(Bucket=BUCKET, Key="granted/big.csv", UploadId=upload, PartNumber=1, Body=b"x" * 10)
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="granted/big.csv",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    for call in (
        lambda: s3.put_object(Bucket=BUCKET, Key="elsewhere/a.json", Body=b"[]"),
        lambda: s3.get_object(Bucket=BUCKET, Key="granted/a.json"),
        lambda: s3.list_objects_v2(Bucket=BUCKET),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert refusal(refused)[0] == "AccessDenied"


def test_a_bucket_policys_deny_applies_to_the_administrator_who_may_still_mend_the_policy(
    emulator: EmulatorSettings,
) -> None:
    s3 = emulator.client("s3")
    s3.put_object(Bucket=BUCKET, Key="kept.txt", Body=b"kept")
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=BUCKET, Key="kept.txt")
    code, message = refusal(refused)
    assert code == "AccessDenied"
    assert message.endswith("with an explicit deny in a resource-based policy (KeepEverything)")
    assert s3.get_object(Bucket=BUCKET, Key="kept.txt")["Body"].read() == b"kept"
    # The TLS deny does not apply: the emulator serves HTTPS only.
    assert s3.head_object(Bucket=BUCKET, Key="kept.txt")["ContentLength"] == len(b"kept")
    # As the account's root user may, the administrator replaces a policy that refuses it.
    locked = {**BUCKET_POLICY, "Statement": [{**BUCKET_POLICY["Statement"][1], "Action": "s3:*"}]}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(locked))
    try:
        with pytest.raises(ClientError, match="AccessDenied"):
            s3.get_object(Bucket=BUCKET, Key="kept.txt")
    finally:
        s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(BUCKET_POLICY))


def test_sqs_is_allowed_on_the_granted_queue_only_and_a_queue_policys_deny_applies(emulator: EmulatorSettings) -> None:
    sqs = as_role(emulator, "sqs")
    admin = emulator.client("sqs")
    url = admin.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="granted")
    with pytest.raises(ClientError, match="AccessDenied"):
        sqs.send_message(QueueUrl=admin.get_queue_url(QueueName=OTHER_QUEUE)["QueueUrl"], MessageBody="refused")
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}],
    }
    admin.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(deny)})
    try:
        with pytest.raises(ClientError, match="explicit deny in a resource-based policy"):
            sqs.send_message(QueueUrl=url, MessageBody="refused")
    finally:
        admin.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})


def test_ses_checks_the_sender_condition_and_each_recipients_identity(emulator: EmulatorSettings) -> None:
    ses = as_role(emulator, "ses")

    def send(source: str, to: str) -> None:
        message = {"Subject": {"Data": "probe"}, "Body": {"Text": {"Data": "probe"}}}
        ses.send_email(Source=source, Destination={"ToAddresses": [to]}, Message=message)

    send(SENDER, GRANTED)
    with pytest.raises(ClientError) as refused:
        send(SENDER, UNGRANTED)
    assert refusal(refused)[1].endswith(
        f"on resource: {identity(UNGRANTED)} because no identity-based policy allows the ses:SendEmail action"
    )
    with pytest.raises(ClientError, match="AccessDenied"):
        send(GRANTED, GRANTED)  # ses:FromAddress is not the granted sender


def test_a_wrong_or_unknown_session_token_is_refused_and_sts_always_answers(emulator: EmulatorSettings) -> None:
    with pytest.raises(ClientError) as wrong:
        as_role(emulator, "dynamodb", aws_session_token="not-the-token").put_item(
            TableName=TABLE, Item={"id": {"S": "2"}}
        )
    assert refusal(wrong)[0] == "InvalidClientTokenId"
    with pytest.raises(ClientError) as unknown:
        as_role(emulator, "dynamodb", aws_access_key_id="ASIA" + uuid.uuid4().hex[:16].upper()).put_item(
            TableName=TABLE, Item={"id": {"S": "2"}}
        )
    assert refusal(unknown)[0] == "InvalidClientTokenId"
    caller = as_role(emulator, "sts").get_caller_identity()
    assert caller["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/probe-role/probe"


def test_a_request_whose_action_cannot_be_told_is_refused_to_a_role(emulator: EmulatorSettings) -> None:
    with pytest.raises(ClientError) as refused:
        as_role(emulator, "lambda").list_functions()
    assert "the emulator cannot tell its action" in refusal(refused)[1]
    assert emulator.client("lambda").list_functions()["Functions"] == []  # the administrator's passes


def test_every_refusal_is_kept_for_make_denials(emulator: EmulatorSettings) -> None:
    seen = max((d["seq"] for d in access_denials(emulator.config)), default=0)
    with pytest.raises(ClientError):
        as_role(emulator, "dynamodb").put_item(TableName=OTHER_TABLE, Item={"id": {"S": "3"}})
    [denial] = access_denials(emulator.config, seen)
    assert (denial["action"], denial["code"]) == ("dynamodb:PutItem", "AccessDenied")
    assert denial["principal"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/probe-role/probe"


def test_an_alarm_notifies_its_topic_only_as_the_topic_policy_lets_cloudwatch(emulator: EmulatorSettings) -> None:
    sns, cloudwatch = emulator.client("sns"), emulator.client("cloudwatch")
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="admin@school.example")
    cloudwatch.put_metric_alarm(
        AlarmName="probe",
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[topic],
        OKActions=[topic],
    )
    alarm_arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:probe"

    def publish_policy(source_arn: str) -> str:
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic,
            "Condition": {"ArnLike": {"aws:SourceArn": source_arn}},
        }
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    def attempts() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = emulator_route(emulator.config, f"/_emulator/alarm-notifications/{REGION}")[
            "notifications"
        ]
        return found

    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=publish_policy(alarm_arn + "-other")
    )
    cloudwatch.set_alarm_state(AlarmName="probe", StateValue="ALARM", StateReason="probe")
    [refused] = attempts()
    assert (
        refused["delivered"] is False
        and "cloudwatch.amazonaws.com is not authorized to perform: sns:Publish" in refused["error"]
    )
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=publish_policy(alarm_arn))
    cloudwatch.set_alarm_state(AlarmName="probe", StateValue="OK", StateReason="probe")
    cloudwatch.set_alarm_state(AlarmName="probe", StateValue="OK", StateReason="the same state notifies nothing")
    [_, delivered] = attempts()
    assert (delivered["delivered"], delivered["state"]) == (True, "OK")
    assert delivered["deliveredTo"] == ["email:admin@school.example"]
    assert delivered["subject"] == 'OK: "probe" in US East (N. Virginia)'
