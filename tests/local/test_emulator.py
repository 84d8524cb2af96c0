"""local/emulator.sh and the moto server (local/emulator/) against a real moto server on a private port.

Every start and stop goes through the project's script, with this module's own
port and state directory (never a `make up` emulator). Each test first asks the
script to start the emulator; that is itself the idempotent operation under
test, and lets the tests that stop it run in any order.
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.edge.deployment.errors import DeploymentError
from local.edge.deployment.reader import Deployment
from ops.local_system import OpsError
from ops.verify_email import follow_verification_link
from tests.conftest import ROOT, EmulatorSettings, free_port, run, tool_env

#: `make check` leaves this module to `make test`: moto servers of its own.
pytestmark = pytest.mark.slow

SCRIPT = ROOT / "local" / "emulator.sh"


class Emulator:
    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.env = tool_env(**settings.env())
        self.pidfile = settings.state_dir / "moto.pid"

    def script(self, command: str) -> subprocess.CompletedProcess[str]:
        return run([str(SCRIPT), command], cwd=ROOT, env=self.env, timeout=120)

    def start(self) -> int:
        started = self.script("start")
        assert started.returncode == 0, started.stdout + started.stderr
        return self.pid()

    def pid(self) -> int:
        return int(self.pidfile.read_text(encoding="utf-8"))

    def client(self, service: str) -> Any:
        return self.settings.client(service)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    settings = EmulatorSettings(port=free_port(), state_dir=tmp_path_factory.mktemp("emulator-script"))
    emulator = Emulator(settings)
    try:
        yield emulator
    finally:
        emulator.script("stop")


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (one nobody reaped is as good as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def port_free(port: int) -> bool:
    """Whether a server could listen on the port now (as moto does: SO_REUSEADDR, so that
    connections of the stopped server in TIME_WAIT do not count, while a listener does)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
    return True


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", source)
    return buffer.getvalue()


def function_request(emulator: Emulator, name: str) -> dict[str, Any]:
    """A CreateFunction request, with the role it needs."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = emulator.client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(trust))
    return {
        "FunctionName": name,
        "Runtime": "python3.11",
        "Role": role["Role"]["Arn"],
        "Handler": "handler.handle",
        "Code": {"ZipFile": zipped("def handle(event, context):\n    return event\n")},
        "Timeout": 10,
        "MemorySize": 256,
        "Environment": {"Variables": {"TABLE": "studentData"}},
        "Tags": {"Project": "StudentManagement"},
    }


def without_metadata(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


# --- UpdateModel ----------------------------------------------------------------------


def test_update_model_replaces_the_schema_and_refuses_other_operations(emulator: Emulator) -> None:
    emulator.start()
    gateway = emulator.client("apigateway")
    api = gateway.create_rest_api(name="models")["id"]
    gateway.create_model(restApiId=api, name="Student", contentType="application/json", schema='{"type": "object"}')
    changed = '{"type": "object", "required": ["studentid"]}'
    gateway.update_model(
        restApiId=api,
        modelName="Student",
        patchOperations=[
            {"op": "replace", "path": "/schema", "value": changed},
            {"op": "replace", "path": "/description", "value": "A new student."},
        ],
    )
    model = gateway.get_model(restApiId=api, modelName="Student")
    assert (model["schema"], model["description"]) == (changed, "A new student.")
    with pytest.raises(gateway.exceptions.BadRequestException):
        gateway.update_model(restApiId=api, modelName="Student", patchOperations=[{"op": "remove", "path": "/name"}])
    with pytest.raises(gateway.exceptions.NotFoundException):
        gateway.update_model(restApiId=api, modelName="Nobody", patchOperations=[])
    assert gateway.get_model(restApiId=api, modelName="Student")["schema"] == changed


def test_a_patched_usage_plan_quota_stays_a_number(emulator: Emulator) -> None:
    """moto kept the patch's text ("999"), which the AWS provider cannot read back (every later plan failed)."""
    emulator.start()
    gateway = emulator.client("apigateway")
    plan = gateway.create_usage_plan(name="quota", quota={"limit": 1000, "period": "DAY"})["id"]
    gateway.update_usage_plan(
        usagePlanId=plan,
        patchOperations=[
            {"op": "replace", "path": "/quota/limit", "value": "999"},
            {"op": "replace", "path": "/quota/offset", "value": "0"},
        ],
    )
    bodies: list[bytes] = []  # the answer as sent: boto3 turns "999" into 999, the AWS provider (Go) refuses it
    gateway.meta.events.register(
        "after-call.apigateway.GetUsagePlan", lambda http_response, **_: bodies.append(http_response.content)
    )
    gateway.get_usage_plan(usagePlanId=plan)
    quota = json.loads(bodies[0])["quota"]
    assert (quota["limit"], quota["offset"], quota["period"]) == (999, 0, "DAY")


# --- API Gateway: deployments keep what the API held --------------------------------------


def served_by(emulator: Emulator, api_id: str, deployment_id: str) -> dict[str, Any]:
    """The emulator's snapshot of a deployment, as the local edge reads it."""
    deployment = Deployment(emulator.settings.config)
    served: dict[str, Any] = dict(deployment._read_snapshot(api_id, deployment_id))
    return served


def test_a_deployment_keeps_what_the_api_held_when_it_was_made(emulator: Emulator) -> None:
    emulator.start()
    gateway = emulator.client("apigateway")
    api = gateway.create_rest_api(name="snapshots")["id"]
    root = gateway.get_resources(restApiId=api)["items"][0]["id"]
    students = gateway.create_resource(restApiId=api, parentId=root, pathPart="students")["id"]
    for verb in ("GET", "POST"):
        gateway.put_method(restApiId=api, resourceId=students, httpMethod=verb, authorizationType="NONE")
        gateway.put_integration(restApiId=api, resourceId=students, httpMethod=verb, type="MOCK")
    first = gateway.create_deployment(restApiId=api, stageName="prod")["id"]
    gateway.delete_method(restApiId=api, resourceId=students, httpMethod="POST")
    gateway.update_method(
        restApiId=api,
        resourceId=students,
        httpMethod="GET",
        patchOperations=[{"op": "replace", "path": "/apiKeyRequired", "value": "true"}],
    )

    def methods(deployment_id: str) -> dict[str, Any]:
        resources = served_by(emulator, api, deployment_id)["resources"]
        found: dict[str, Any] = next(r for r in resources if r["path"] == "/students")["resourceMethods"]
        return found

    assert set(methods(first)) == {"GET", "POST"}, "the first deployment still serves what it was made with"
    assert methods(first)["POST"]["methodIntegration"]["type"] == "MOCK"
    assert methods(first)["GET"]["apiKeyRequired"] is False
    second = gateway.create_deployment(restApiId=api, stageName="prod")["id"]
    assert set(methods(second)) == {"GET"}
    assert methods(second)["GET"]["apiKeyRequired"] is True
    with pytest.raises(DeploymentError, match="404"):
        served_by(emulator, api, "nosuchdeployment")


# --- SES: pending identities and the sandbox ------------------------------------------------


def verify_link(emulator: Emulator, identity: str) -> None:
    """Follow the link of the identity's verification e-mail, as ``make verify-email`` does."""
    follow_verification_link(emulator.settings.config, identity)


def send(ses: Any, sender: str, *to: str) -> None:
    ses.send_email(
        Source=sender,
        Destination={"ToAddresses": list(to)},
        Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
    )


def test_ses_identities_stay_pending_until_their_link_is_followed(emulator: Emulator) -> None:
    emulator.start()
    ses = emulator.client("ses")
    ses.verify_email_identity(EmailAddress="pending-sender@example.com")
    status = ses.get_identity_verification_attributes(Identities=["pending-sender@example.com"])
    assert status["VerificationAttributes"]["pending-sender@example.com"]["VerificationStatus"] == "Pending"
    with pytest.raises(ses.exceptions.MessageRejected, match="not verified"):
        send(ses, "pending-sender@example.com", "pending-sender@example.com")
    verify_link(emulator, "pending-sender@example.com")
    status = ses.get_identity_verification_attributes(Identities=["pending-sender@example.com"])
    assert status["VerificationAttributes"]["pending-sender@example.com"]["VerificationStatus"] == "Success"
    send(ses, "pending-sender@example.com", "pending-sender@example.com")
    with pytest.raises(OpsError, match="no such identity"):
        verify_link(emulator, "never-asked@example.com")  # only an identity SES was asked about


def test_the_ses_sandbox_sends_only_to_verified_recipients(emulator: Emulator) -> None:
    emulator.start()
    ses = emulator.client("ses")
    for address in ("office@school.example", "teacher@school.example"):
        ses.verify_email_identity(EmailAddress=address)
        verify_link(emulator, address)
    sent = ses.get_send_quota()["SentLast24Hours"]
    with pytest.raises(ses.exceptions.MessageRejected) as refused:
        send(ses, "office@school.example", "teacher@school.example", "student@school.example")
    assert refused.value.response["Error"]["Message"] == (
        "Email address is not verified. The following identities failed the check in region US-EAST-1:"
        " student@school.example"
    )
    assert ses.get_send_quota()["SentLast24Hours"] == sent, "nothing is sent when one recipient is refused"
    # A verified domain admits every address in it, as in AWS.
    ses.verify_domain_identity(Domain="school.example")
    verify_link(emulator, "school.example")
    send(ses, "office@school.example", "teacher@school.example", "student@school.example")
    # A pending identity can be deleted (moto deleted only verified ones).
    ses.verify_email_identity(EmailAddress="left@example.com")
    ses.delete_identity(Identity="left@example.com")
    assert "left@example.com" not in ses.list_identities()["Identities"]


def test_update_method_applies_what_terraform_changes_and_refuses_the_rest(emulator: Emulator) -> None:
    emulator.start()
    gateway = emulator.client("apigateway")
    api = gateway.create_rest_api(name="methods")["id"]
    root = gateway.get_resources(restApiId=api)["items"][0]["id"]
    gateway.put_method(restApiId=api, resourceId=root, httpMethod="POST", authorizationType="NONE")
    validator = gateway.create_request_validator(restApiId=api, name="body", validateRequestBody=True)["id"]

    def patch(*operations: dict[str, str]) -> dict[str, Any]:
        answer: dict[str, Any] = gateway.update_method(
            restApiId=api, resourceId=root, httpMethod="POST", patchOperations=list(operations)
        )
        return answer

    patch(
        {"op": "replace", "path": "/apiKeyRequired", "value": "true"},
        {"op": "replace", "path": "/requestValidatorId", "value": validator},
        {"op": "add", "path": "/requestModels/application~1json", "value": "Student"},
        {"op": "add", "path": "/requestParameters/method.request.querystring.limit", "value": "false"},
    )
    method = gateway.get_method(restApiId=api, resourceId=root, httpMethod="POST")
    assert (method["apiKeyRequired"], method["requestValidatorId"]) == (True, validator)
    assert method["requestModels"] == {"application/json": "Student"}
    assert method["requestParameters"] == {"method.request.querystring.limit": False}
    patch({"op": "remove", "path": "/requestModels/application~1json"})
    assert "requestModels" not in gateway.get_method(restApiId=api, resourceId=root, httpMethod="POST")
    with pytest.raises(gateway.exceptions.BadRequestException):
        patch(
            {"op": "replace", "path": "/httpMethod", "value": "PUT"},
            {"op": "replace", "path": "/apiKeyRequired", "value": "false"},
        )
    assert gateway.get_method(restApiId=api, resourceId=root, httpMethod="POST")["apiKeyRequired"] is True, (
        "none applied"
    )
    with pytest.raises(gateway.exceptions.NotFoundException):
        gateway.update_method(restApiId=api, resourceId=root, httpMethod="GET", patchOperations=[])


# --- CreateFunction repeated -------------------------------------------------------


def test_repeated_identical_create_function_is_answered_as_created(emulator: Emulator) -> None:
    emulator.start()
    request = function_request(emulator, "repeated")
    awslambda = emulator.client("lambda")
    first = awslambda.create_function(**request)
    second = awslambda.create_function(**request)
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert second["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert without_metadata(second) == without_metadata(first)
    assert second["FunctionArn"].endswith(":function:repeated")
    names = [f["FunctionName"] for f in awslambda.list_functions()["Functions"]]
    assert names.count("repeated") == 1
    stored = awslambda.get_function(FunctionName="repeated")["Configuration"]
    assert (stored["CodeSha256"], stored["LastModified"]) == (first["CodeSha256"], first["LastModified"])


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"Handler": "handler.other"}, id="handler"),
        pytest.param({"Code": {"ZipFile": zipped("def handle(event, context):\n    return 1\n")}}, id="code"),
        pytest.param({"Runtime": "python3.12"}, id="runtime"),
        pytest.param({"Environment": {"Variables": {"TABLE": "other"}}}, id="environment"),
        pytest.param({"Tags": {"Project": "Other"}}, id="tags"),
        pytest.param({"Description": "added"}, id="added-field"),
    ],
)
def test_a_different_create_with_the_same_name_conflicts(emulator: Emulator, change: dict[str, Any]) -> None:
    emulator.start()
    name = f"differs-{next(iter(change)).lower()}"
    request = function_request(emulator, name)
    awslambda = emulator.client("lambda")
    first = awslambda.create_function(**request)
    with pytest.raises(awslambda.exceptions.ResourceConflictException, match=f"Function already exist: {name}"):
        awslambda.create_function(**{**request, **change})
    stored = awslambda.get_function(FunctionName=name)["Configuration"]
    assert (stored["Handler"], stored["CodeSha256"]) == (first["Handler"], first["CodeSha256"])


def test_the_same_create_after_the_function_changed_conflicts(emulator: Emulator) -> None:
    emulator.start()
    request = function_request(emulator, "changed")
    awslambda = emulator.client("lambda")
    awslambda.create_function(**request)
    awslambda.update_function_configuration(FunctionName="changed", Timeout=30)
    with pytest.raises(awslambda.exceptions.ResourceConflictException):
        awslambda.create_function(**request)
    assert awslambda.get_function(FunctionName="changed")["Configuration"]["Timeout"] == 30


# --- start, status, stop -------------------------------------------------------------


def test_with_a_function_present_status_and_a_second_start_keep_the_emulator(emulator: Emulator) -> None:
    pid = emulator.start()
    awslambda = emulator.client("lambda")
    awslambda.create_function(**function_request(emulator, "kept"))
    bootstrap_state = emulator.settings.state_dir / "bootstrap.tfstate"
    bootstrap_state.write_text("{}", encoding="utf-8")

    status = emulator.script("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"emulator: running at {emulator.settings.endpoint} (pid {pid})" in status.stdout

    again = emulator.script("start")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already running" in again.stdout
    assert emulator.pid() == pid
    assert alive(pid)
    assert bootstrap_state.read_text(encoding="utf-8") == "{}"
    assert awslambda.get_function(FunctionName="kept")["Configuration"]["FunctionName"] == "kept"


def test_concurrent_starts_share_one_server(emulator: Emulator) -> None:
    emulator.script("stop")
    starts = [
        subprocess.Popen([str(SCRIPT), "start"], cwd=ROOT, env=emulator.env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [start.communicate(timeout=120)[0] for start in starts]
    assert [start.returncode for start in starts] == [0, 0], outputs
    pid = emulator.pid()
    assert sorted("already running" in output for output in outputs) == [False, True], outputs
    assert all(f"pid {pid}" in output for output in outputs), outputs
    assert emulator.script("status").returncode == 0


def test_stop_leaves_no_process_and_the_port_free(emulator: Emulator) -> None:
    pid = emulator.start()
    stopped = emulator.script("stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert f"emulator: stopped ({emulator.settings.endpoint}, pid {pid})" in stopped.stdout
    assert not alive(pid)
    assert port_free(emulator.settings.port)
    assert not emulator.pidfile.exists()
    status = emulator.script("status")
    assert status.returncode == 1
    assert status.stdout.startswith("emulator: not running")


def test_stop_finds_our_server_without_its_pid_file(emulator: Emulator) -> None:
    pid = emulator.start()
    emulator.pidfile.unlink()
    stopped = emulator.script("stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert f"pid {pid}" in stopped.stdout
    assert not alive(pid)
    assert port_free(emulator.settings.port)


def test_start_adopts_our_server_without_its_pid_file_and_keeps_its_state(emulator: Emulator) -> None:
    pid = emulator.start()
    emulator.client("s3").create_bucket(Bucket="kept-bucket")
    emulator.pidfile.unlink()
    started = emulator.script("start")
    assert started.returncode == 0, started.stdout + started.stderr
    assert emulator.pid() == pid
    assert [b["Name"] for b in emulator.client("s3").list_buckets()["Buckets"]] == ["kept-bucket"]


def test_a_foreign_server_on_the_port_is_named_and_left_alone(emulator: Emulator) -> None:
    emulator.script("stop")
    port = emulator.settings.port
    foreign = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while port_free(port):
            assert time.monotonic() < deadline, "http.server did not listen"
            assert foreign.poll() is None, "http.server exited"
            time.sleep(0.1)

        started = emulator.script("start")
        assert started.returncode == 1
        assert f"port {port} is held by pid {foreign.pid} (" in started.stderr
        assert "http.server" in started.stderr
        assert "STUDENT_MGMT_EMULATOR_PORT" in started.stderr

        stopped = emulator.script("stop")
        assert stopped.returncode == 1
        assert f"pid {foreign.pid}" in stopped.stderr
        assert "leaving it" in stopped.stderr
        assert foreign.poll() is None
        assert not port_free(port)
    finally:
        foreign.terminate()
        foreign.wait(timeout=10)
