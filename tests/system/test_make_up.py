"""`make up` as a new user runs it: the whole system served locally, used, changed, and taken down.

One ``make up`` (the real command, from the project root) on a private
emulator port, state directory and edge ports, so the test never touches a
developer's own ``make up``. The tests then run in file order against it:

1. what ``make up`` prints (the local staff member's e-mail and temporary
   password among it), the operations (``make api-key``, ``staff-token``,
   ``seed``, ``emails``, ``backups``, ``backup-now``, ``invalidate``,
   ``staff-add``/``staff-list``/``staff-remove``) and the seed page's ``curl``
   against the printed invoke URL;
2. the API through the local edge: staff tokens, keys, validation, routes, CORS;
3. the page in Debian's Chromium, through the site, and what it left in the emulator;
4. ``make up`` again: nothing applied, the edge restarted on the same deployment;
5. changes made to the deployment in the emulator (a usage plan's limits, a
   function's environment, a method removed), which the edge follows without
   a restart: the edge plays API Gateway, Lambda and CloudFront from what is
   deployed, never from a copy of its own;
6. ``make down``, ``make up`` from nothing, ``make down`` (nothing left behind)
   is ``tests/system/test_make_down_up.py``, on a ``make up`` of its own.
"""

from __future__ import annotations

import base64
import dataclasses
import http.client
import json
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Response, expect

from config.settings import APP_STACK, BOOTSTRAP_STACK, LOCAL_COGNITO_PATH
from lambdas.backup.handler import ADMIN_ONLY
from lambdas.common import mail, names
from modules.functions.catalog import FUNCTIONS, INSERT, READ
from modules.site.assets import runtime_config
from modules.site.headers import SECURITY_HEADERS
from ops import staff
from ops.emails import sent_messages
from ops.staff_token import staff_id_token
from ops.staff_user import STAFF_EMAIL, credentials_file
from tests.browser import DESKTOP, PHONE, chromium, screenshot_dir, sign_in, wait_until_listed, watched_pages
from tests.conftest import ROOT, EmulatorSettings, free_port, run, tool_env
from tests.lambdas.bad_requests import BadRequest, answer_problems, generate

pytestmark = [pytest.mark.emulator, pytest.mark.browser]

STAGE = "prod"
FUNCTION_NAMES = {row.key: row.name for row in FUNCTIONS}
API_PATHS = frozenset(runtime_config()["api"].values())
STUDENT = {
    "studentid": "SV900",
    "name": "Nguyễn Văn A",
    "class": "CNTT1",
    "birthdate": "2000-01-01",
    "email": "nguyen.van.a@example.com",
}


@dataclass
class Run:
    command: str
    returncode: int
    output: str
    #: The command's first line on stderr: the environment it acts on (pipeline/environment.py).
    environment: str = ""

    def ok(self) -> Run:
        assert self.returncode == 0, f"make {self.command} failed:\n{self.output[-6000:]}"
        return self


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def make(command: str, emulator: EmulatorSettings, *args: str, **extra_env: str) -> Run:
    # A new user's make: tool_env leaves out the suite's own make flags and job server.
    env = tool_env(**emulator.env(), **extra_env)
    result = run(["make", command, *args], cwd=ROOT, env=env, timeout=900)
    # The environment line apart: the tests read the command's own output, its last line first.
    announced = [line for line in result.stderr.splitlines(keepends=True) if line.startswith(f"==> make {command}: ")]
    errors = "".join(line for line in result.stderr.splitlines(keepends=True) if line not in announced)
    return Run(command, result.returncode, result.stdout + errors, "".join(announced).strip())


def request(
    url: str,
    *,
    method: str = "GET",
    key: str | None = None,
    token: str | None = None,
    body: object = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
    outgoing = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback http of the test
    if data is not None:
        outgoing.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        outgoing.add_header(name, value)
    if key is not None:
        outgoing.add_header("x-api-key", key)
    if token is not None:
        outgoing.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(outgoing, timeout=60) as response:  # noqa: S310
            status, answer_headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, raw = error.code, dict(error.headers), error.read()
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw.decode(errors="replace")
    return Answer(status, {k.lower(): v for k, v in answer_headers.items()}, decoded)


def claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


@dataclass
class LocalSystem:
    emulator: EmulatorSettings
    first: Run
    edge_pid: int
    key: str
    #: The staff member's credentials file as the first ``make up`` left it (before any sign-in).
    first_credentials: dict[str, Any]
    #: What ``make up`` ran with beyond the emulator's settings (CDK_ENGINE for CDK Terrain's system).
    env: dict[str, str] = field(default_factory=dict)
    cleanups: list[Any] = field(default_factory=list)
    _token: str | None = None

    def token(self) -> str:
        """An ID token of ``make up``'s staff member: signed in again when the last has under a minute left.

        The module outlasts a token (``staff_token_validity_minutes``), and a
        fresh deployment (section 6) has a pool of its own.
        """
        if self._token is None or claims(self._token)["exp"] - time.time() < 60:
            self._token = staff_id_token(self.emulator.config)
        return self._token

    def forget_token(self) -> None:
        self._token = None

    def signed(self) -> dict[str, str]:
        """What every API call needs: the key and a staff token (``request(url, **system.signed())``)."""
        return {"key": self.key, "token": self.token()}

    @property
    def site(self) -> str:
        return f"http://localhost:{self.emulator.site_port}"

    @property
    def api(self) -> str:
        return f"http://localhost:{self.emulator.api_port}/{STAGE}"

    def outputs(self) -> dict[str, dict[str, Any]]:
        deployed: dict[str, dict[str, Any]] = json.loads(
            self.emulator.config.emulator_outputs_file.read_text(encoding="utf-8")
        )
        return deployed

    def output(self, name: str) -> Any:
        return self.outputs()[APP_STACK][name]

    def client(self, service: str) -> Any:
        return self.emulator.client(service)

    def request_log(self) -> list[str]:
        return (self.emulator.state_dir / "logs" / "edge.log").read_text(encoding="utf-8").splitlines()

    def emails(self) -> list[dict[str, Any]]:
        return sent_messages(self.emulator.config)


def edge_pid(emulator: EmulatorSettings) -> int:
    return int((emulator.state_dir / "edge.pid").read_text())


def live_servers(port: int) -> list[int]:
    """Pids of live (not zombie) processes running this project's moto server on ``port``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            state = next(line for line in (proc / "status").read_text().splitlines() if line.startswith("State:"))
        except (OSError, StopIteration):
            continue
        if "Z" in state.split()[1]:
            continue  # exited; only its exit status remains for a parent to collect
        decoded = [arg.decode(errors="replace") for arg in args]
        if "local.emulator.moto_server" in decoded and str(port) in decoded:
            found.append(int(proc.name))
    return found


def port_is_free(port: int) -> bool:
    """Nothing listens on ``port`` (connections of the stopped server may linger in TIME_WAIT)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def assert_nothing_left(emulator: EmulatorSettings) -> None:
    assert live_servers(emulator.port) == []
    for port in (emulator.port, emulator.site_port, emulator.api_port):
        assert port is not None and port_is_free(port), port
    for left in ("moto.pid", "edge.pid", "bootstrap.tfstate"):
        assert not (emulator.state_dir / left).exists(), left
    stray = subprocess.run(["pgrep", "-f", str(emulator.state_dir)], capture_output=True, text=True, check=False)
    assert stray.stdout.strip() == "", f"processes still use {emulator.state_dir}: {stray.stdout}"


@contextmanager
def local_system(tmp_path_factory: pytest.TempPathFactory, **env: str) -> Iterator[LocalSystem]:
    """``make up`` (with ``env`` added) on a private emulator port, state directory and edge ports; ``make down``
    after."""
    emulator = EmulatorSettings(
        port=free_port(),
        state_dir=tmp_path_factory.mktemp("local-system") / "emulator",
        site_port=free_port(),
        api_port=free_port(),
    )
    try:
        first = make("up", emulator, **env).ok()
        credentials = credentials_file(emulator.config)
        first_credentials = json.loads(credentials.read_text(encoding="utf-8"))
        key = make("api-key", emulator).ok().output.strip()
        yield LocalSystem(emulator, first, edge_pid(emulator), key, first_credentials, env)
    finally:
        make("down", emulator)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    with local_system(tmp_path_factory) as running:
        yield running


# --- 1. What make up prints, and the operations -----------------------------------------


def test_first_up_prints_the_site_the_invoke_url_and_how_to_get_the_key(system: LocalSystem) -> None:
    output = system.first.output
    assert "emulator: starting moto server" in output
    assert f"edge: site {system.site}/ · api {system.api} (pid {system.edge_pid}" in output
    assert "The API key: make api-key" in output
    assert system.outputs()[BOOTSTRAP_STACK][names.OUTPUT_STATE_BUCKET] == "student-management-tfstate"


def test_first_up_creates_one_staff_member_and_prints_its_temporary_password_last(system: LocalSystem) -> None:
    stored = system.first_credentials
    assert stored == {"email": STAFF_EMAIL, "password": stored["password"], "temporary": True}
    assert staff.PasswordPolicy(14, True, True, True, True, 3).admits(stored["password"])
    lines = system.first.output.splitlines()
    (line,) = [number for number, text in enumerate(lines) if "temporary password" in text]
    assert lines[line] == (
        f"==> staff sign-in at {system.site}/: {STAFF_EMAIL} (groups staff, admin),"
        f" temporary password {stored['password']}"
    )
    assert "The first sign-in asks for a new password" in lines[line + 1]
    # At the end, after the edge started: the last thing before the closing line.
    assert any(text.startswith("edge: site ") for text in lines[:line])
    assert lines[-1].startswith("==> up in ")
    credentials = credentials_file(system.emulator.config)
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    (pool,) = system.client("cognito-idp").list_user_pools(MaxResults=10)["UserPools"]
    users = system.client("cognito-idp").list_users(UserPoolId=pool["Id"])["Users"]
    emails = [attribute["Value"] for user in users for attribute in user["Attributes"] if attribute["Name"] == "email"]
    assert emails == [STAFF_EMAIL]


def test_api_key_is_the_deployed_key(system: LocalSystem) -> None:
    keys = system.client("apigateway").get_api_keys(includeValues=True)["items"]
    assert [key["value"] for key in keys if key["name"] == "StudentApiKey"] == [system.key]


def follow_backup(system: LocalSystem, run_id: str, *, timeout_s: float = 120) -> dict[str, Any]:
    """Poll ``GET /backup?runId=`` as the page does, until the run is no longer running."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = request(f"{system.api}/backup?runId={run_id}", **system.signed())
        assert answer.status == 200, answer
        if answer.body["state"] != "running" or time.monotonic() > deadline:
            return dict(answer.body)
        time.sleep(0.5)


def test_seed_page_curl_starts_a_backup_that_lands_in_s3_and_ses(system: LocalSystem) -> None:
    before = len(system.emails())
    curl = subprocess.run(
        [
            "curl",
            "-sS",
            "-w",
            "\n%{http_code}",
            "-X",
            "POST",
            f"{system.api}/backup",
            "-H",
            f"x-api-key: {system.key}",
            "-H",
            # The token is stdout's one line (a first sign-in notes on stderr, which make() appends).
            f"Authorization: {make('staff-token', system.emulator).ok().output.splitlines()[0]}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    body, status = curl.stdout.rsplit("\n", 1)
    # Answered at once: the run goes on in the function's asynchronous invocation, through the edge's Lambda.
    assert status == "202", curl.stdout
    started = json.loads(body)
    assert started["state"] == "running"
    summary = follow_backup(system, started["runId"])
    assert summary["state"] == "done", summary
    keys = {item["key"] for item in summary["objects"]}
    assert len(keys) == 3 and all(started["runId"] in key for key in keys)
    bucket = system.output(names.OUTPUT_BACKUP_BUCKET)
    stored = {item["Key"] for item in system.client("s3").list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys <= stored
    assert summary["emailSent"] is True
    assert len(system.emails()) == before + 1
    assert any(" lambda POST /2015-03-31/functions/" in line for line in system.request_log())


def test_seed_adds_the_tutorials_student_first_and_is_safe_to_rerun(system: LocalSystem) -> None:
    system.forget_token()
    seeded = make("seed", system.emulator, "N=25").ok()
    assert "added SV001 Nguyễn Văn A" in seeded.output
    assert "25 added, 0 already there" in seeded.output
    assert "25 confirmation e-mail(s) not sent: the sample addresses are not verified" in seeded.output
    again = make("seed", system.emulator, "N=25").ok()
    assert "0 added, 25 already there" in again.output
    item = system.client("dynamodb").get_item(TableName="studentData", Key={"studentid": {"S": "SV001"}})["Item"]
    assert item["name"] == {"S": "Nguyễn Văn A"}


def test_backup_now_runs_the_schedules_target_with_its_input(system: LocalSystem) -> None:
    ran = make("backup-now", system.emulator).ok()
    assert "DailyDynamoDBBackup: invoking BackupDynamoDBAndSendEmail with its deployed input" in ran.output
    assert '"items": 25' in ran.output
    listed = make("backups", system.emulator, "DOWNLOAD=latest").ok()
    assert "object(s) in student-backup-20250706" in listed.output
    downloaded = [line.split(" to ")[-1] for line in listed.output.splitlines() if "downloaded" in line]
    assert sorted(Path(path).name.split(".", 1)[1] for path in downloaded) == ["csv", "dynamodb.json", "manifest.json"]
    for path in downloaded:
        if not path.endswith(".manifest.json"):
            assert "Nguyễn Văn A" in Path(path).read_text(encoding="utf-8-sig")


def test_restore_puts_back_what_a_backup_holds_and_keeps_the_rest(system: LocalSystem) -> None:
    dynamodb = system.client("dynamodb")
    key = {"studentid": {"S": "SV002"}}
    original = dynamodb.get_item(TableName="studentData", Key=key)["Item"]
    dynamodb.delete_item(TableName="studentData", Key=key)
    total = dynamodb.scan(TableName="studentData", Select="COUNT")["Count"]

    # No ENV, no DEPLOY_TARGET: after `make up`, the commands act on the local system (issue 23).
    restored = make("restore", system.emulator, "BACKUP=latest").ok()
    assert restored.environment.startswith("==> make restore: environment local (the local emulator at"), restored

    assert dynamodb.get_item(TableName="studentData", Key=key)["Item"] == original
    assert "    1 written" in restored.output
    assert f"    {total:,} already in the table, kept as they are" in restored.output
    assert "    0 failed" in restored.output
    missing = make("restore", system.emulator, "BACKUP=backup-20200101-000000-00000000")
    assert missing.returncode != 0
    assert "does not exist: name a backup" in missing.output


def test_emails_shows_what_ses_accepted(system: LocalSystem) -> None:
    shown = make("emails", system.emulator).ok()
    assert "to admin@example.com from noreply@example.com" in shown.output  # make up verified both
    assert "subject: Student data backup: 25 items" in shown.output
    assert "to sv001@example.com" not in shown.output  # the sandbox: a seeded student is not verified


def test_alarm_test_delivers_each_notification_as_cloudwatch_through_the_topic_and_key_policies(
    system: LocalSystem,
) -> None:
    ran = make("alarm-test", system.emulator, "ALARM=backup-missing-26h").ok()
    delivered = "delivered to email:admin@example.com"
    assert (
        f"""backup-missing-26h -> ALARM: 'ALARM: "backup-missing-26h" in US East (N. Virginia)' {delivered}"""
        in ran.output
    )
    assert (
        f"""backup-missing-26h -> OK: 'OK: "backup-missing-26h" in US East (N. Virginia)' {delivered}""" in ran.output
    )
    unknown = make("alarm-test", system.emulator, "ALARM=no-such-alarm")
    assert unknown.returncode != 0 and "no alarm 'no-such-alarm': ALARM= one of " in unknown.output


def test_the_backup_buckets_deny_refuses_everyone_but_the_backup_role_and_make_denials_says_why(
    system: LocalSystem,
) -> None:
    bucket = system.output(names.OUTPUT_BACKUP_BUCKET)
    with pytest.raises(Exception, match="AccessDenied") as refused:
        system.client("s3").put_object(Bucket=bucket, Key=f"{names.BACKUP_PREFIX}forged.json", Body=b"[]")
    assert "explicit deny in a resource-based policy (DenyPutObjectExceptBackupRole)" in str(refused.value)
    shown = make("denials", system.emulator).ok()
    assert (
        f"AccessDenied: User: arn:aws:iam::123456789012:user/moto is not authorized to perform: s3:PutObject "
        f"on resource: arn:aws:s3:::{bucket}/{names.BACKUP_PREFIX}forged.json with an explicit deny"
    ) in shown.output


def test_an_unverified_student_gets_no_email_until_the_address_is_verified(system: LocalSystem) -> None:
    address = "tran.thi.b@example.com"
    first = {**STUDENT, "studentid": "SV950", "email": address}
    saved = request(f"{system.api}/students", method="POST", body=first, **system.signed())
    assert (saved.status, saved.body["emailSent"]) == (201, False), saved
    assert saved.body["emailError"] == mail.NOT_VERIFIED
    verified = make("verify-email", system.emulator, f"EMAIL={address}").ok()
    assert f"{address}: verified in the local SES" in verified.output
    second = {**first, "studentid": "SV951"}
    saved = request(f"{system.api}/students", method="POST", body=second, **system.signed())
    assert (saved.status, saved.body["emailSent"]) == (201, True), saved
    assert any(mail["destinations"]["ToAddresses"] == [address] for mail in system.emails())
    refused = make("verify-email", system.emulator, "EMAIL=not-an-address")
    assert refused.returncode != 0 and "EMAIL must be an e-mail address" in refused.output
    for student in (first, second):  # the later tests count the students
        system.client("dynamodb").delete_item(TableName="studentData", Key={"studentid": {"S": student["studentid"]}})


def test_invalidate_completes_on_the_deployed_distribution(system: LocalSystem) -> None:
    invalidated = make("invalidate", system.emulator).ok()
    assert f"of /* on {system.output(names.OUTPUT_SITE_DISTRIBUTION_ID)}" in invalidated.output
    assert "completed" in invalidated.output.splitlines()[-1]


def test_the_helpers_sign_in_kept_the_staff_members_new_password_in_its_file(system: LocalSystem) -> None:
    """The helpers' first sign-in (``make staff-token`` above) answered the new-password challenge."""
    credentials = credentials_file(system.emulator.config)
    stored = json.loads(credentials.read_text(encoding="utf-8"))
    assert stored["temporary"] is False and stored["password"] != system.first_credentials["password"]
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    token = claims(system.token())
    assert token["token_use"] == "id" and token["email"] == STAFF_EMAIL
    assert set(token[names.GROUPS_CLAIM]) == {names.STAFF_GROUP, names.ADMIN_GROUP}


def sign_in_first_time(system: LocalSystem, email: str, temporary: str) -> str:
    """A new member's first sign-in, as the page does it: the new-password challenge answered; its ID token."""
    idp, client_id = system.client("cognito-idp"), system.output(names.OUTPUT_STAFF_USER_POOL_CLIENT_ID)
    challenge = idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": temporary}
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    answer = idp.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": "Chosen-by-the-teacher-2025"},
    )
    return str(answer["AuthenticationResult"]["IdToken"])


def test_staff_add_list_remove_manage_who_may_use_the_local_system(system: LocalSystem) -> None:
    teacher = "teacher@example.com"
    added = make("staff-add", system.emulator, f"EMAIL={teacher}").ok()
    (line,) = [line for line in added.output.splitlines() if "temporary password" in line]
    temporary = line.rsplit(" ", 1)[-1]

    listed = make("staff-list", system.emulator).ok().output.splitlines()
    assert [row.split() for row in listed[1:3]] == [
        [STAFF_EMAIL, "CONFIRMED", "yes", "admin,", "staff"],
        [teacher, "FORCE_CHANGE_PASSWORD", "yes", "staff"],
    ]

    # The new member works with students, and may not run backups (not in admin).
    token = sign_in_first_time(system, teacher, temporary)
    assert request(f"{system.api}/students?limit=1", key=system.key, token=token).status == 200
    refused = request(f"{system.api}/backup", method="POST", key=system.key, token=token)
    assert (refused.status, refused.body) == (403, {"message": ADMIN_ONLY})

    again = make("staff-add", system.emulator, f"EMAIL={teacher}").ok()
    assert f"{teacher} is already a member" in again.output and "groups unchanged" in again.output

    kept = make("staff-remove", system.emulator, f"EMAIL={teacher}")
    assert kept.returncode != 0 and f"{teacher} not removed" in kept.output  # no terminal to say yes
    make("staff-remove", system.emulator, f"EMAIL={teacher}", "YES=1").ok()
    listed = make("staff-list", system.emulator).ok().output
    assert teacher not in listed and "==> 1 member(s)" in listed
    missing = make("staff-remove", system.emulator, f"EMAIL={teacher}", "YES=1")
    assert missing.returncode != 0 and f"{teacher} is not a member" in missing.output


# --- 2. The API through the edge --------------------------------------------------------


def test_no_or_a_tampered_staff_token_is_unauthorized_even_with_the_key(system: LocalSystem) -> None:
    header, body, signature = system.token().split(".")
    forged = base64.urlsafe_b64encode(
        json.dumps({**claims(system.token()), "cognito:groups": ["admin", "staff", "root"]}).encode()
    )
    for token in (None, "", "not-a-token", f"{header}.{forged.rstrip(b'=').decode()}.{signature}"):
        answer = request(f"{system.api}/students", key=system.key, token=token)
        assert (answer.status, answer.body) == (401, {"message": "Unauthorized"}), token
        # The deployed gateway response carries the CORS header, so the page can read the refusal.
        assert answer.headers["access-control-allow-origin"] == system.site
    assert request(f"{system.api}/students", key=system.key, token=f"{header}.{body}.{signature}").status == 200


def test_a_missing_or_wrong_key_is_forbidden(system: LocalSystem) -> None:
    for key in (None, "not-the-key"):
        answer = request(f"{system.api}/students", key=key, token=system.token())
        assert (answer.status, answer.body) == (403, {"message": "Forbidden"})
        # The deployed gateway response carries the CORS header, so a page could read the refusal.
        assert answer.headers["access-control-allow-origin"] == system.site


def test_an_unknown_route_is_missing_authentication_token(system: LocalSystem) -> None:
    for url in (f"{system.api}/teachers", f"http://localhost:{system.emulator.api_port}/dev/students"):
        answer = request(url, key=system.key)
        assert (answer.status, answer.body) == (403, {"message": "Missing Authentication Token"})


def test_an_invalid_body_is_refused_by_the_gateway_before_any_function(system: LocalSystem) -> None:
    lines = len(system.request_log())
    answer = request(f"{system.api}/students", method="POST", body={"studentid": "SV1"}, **system.signed())
    assert (answer.status, answer.body) == (400, {"message": "Invalid request body"})
    (line,) = [line for line in system.request_log()[lines:] if " POST /prod/students " in line]
    assert " 400 - " in line  # no function ran


def test_valid_calls_reach_the_functions_and_come_back_unchanged(system: LocalSystem) -> None:
    answer = request(f"{system.api}/students?limit=5", **system.signed())
    assert answer.status == 200
    assert answer.body["count"] == 5 and answer.body["nextToken"]
    assert answer.headers["cache-control"] == "no-store"
    log = system.request_log()
    assert any(f" GET /prod/students 200 {FUNCTION_NAMES[READ]} " in line for line in log)
    assert all(system.key not in line and system.token() not in line for line in log)


def test_preflight_grants_only_the_site_origin(system: LocalSystem) -> None:
    for origin in (system.site, "https://attacker.example"):
        answer = request(
            f"{system.api}/students",
            method="OPTIONS",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert answer.status == 200
        assert answer.headers["access-control-allow-origin"] == system.site
        assert answer.headers["access-control-allow-methods"] == "GET,POST,OPTIONS"


def test_site_serves_the_bucket_with_its_headers_and_the_api_without_a_key_but_not_without_a_token(
    system: LocalSystem,
) -> None:
    page = request(f"{system.site}/")
    assert page.status == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-cache"
    for header, value in SECURITY_HEADERS.items():
        assert page.headers[header.lower()] == value
    assert request(f"{system.site}/missing.css").status == 404
    listed = request(f"{system.site}/students?limit=1", token=system.token())  # CloudFront adds the key
    assert listed.status == 200 and listed.body["count"] == 1
    assert request(f"{system.site}/students", key="forged", token=system.token()).status == 200  # CloudFront's wins
    # The key CloudFront adds is no longer enough: whoever finds the site must still sign in.
    assert request(f"{system.site}/students?limit=1").status == 401


def test_the_site_is_read_as_the_distributions_origin_access_control_reads_it(system: LocalSystem) -> None:
    """The website bucket's policy decides, as S3 decides for CloudFront: admit this distribution, or no page."""
    s3 = system.client("s3")
    bucket = system.output(names.OUTPUT_WEBSITE_BUCKET)
    deployed = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    policy = json.loads(deployed)
    [read] = [statement for statement in policy["Statement"] if statement["Sid"] == "AllowCloudFrontReadObjects"]
    read["Condition"]["StringEquals"]["AWS:SourceArn"] = "arn:aws:cloudfront::123456789012:distribution/EOTHER"
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    try:
        time.sleep(2)
        refused = request(f"{system.site}/")
        assert refused.status == 403, refused
        assert any("AccessDenied: the policy of" in line for line in system.request_log()[-5:])
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=deployed)
    time.sleep(2)
    assert request(f"{system.site}/").status == 200


@contextmanager
def unthrottled_key(system: LocalSystem) -> Iterator[str]:
    """A key of its own, in a usage plan without limits, and the stage's method throttle lifted, while in use.

    The deployed limits (5 requests a second, 1,000 a day) would answer most of
    a thousand requests 429 before any reached a function; the system's own key
    and its quota stay as they were for the tests after this one.
    """
    apigateway = system.client("apigateway")
    api_id = system.output(names.OUTPUT_API_ID)
    deployed = apigateway.get_stage(restApiId=api_id, stageName=STAGE)["methodSettings"]["*/*"]
    key = apigateway.create_api_key(name="bad-input-suite", enabled=True)
    plan = apigateway.create_usage_plan(name="bad-input-suite", apiStages=[{"apiId": api_id, "stage": STAGE}])
    apigateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")

    def stage_throttle(rate: object, burst: object) -> None:
        apigateway.update_stage(
            restApiId=api_id,
            stageName=STAGE,
            patchOperations=[
                {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(rate)},
                {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(burst)},
            ],
        )

    stage_throttle(100_000, 100_000)
    try:
        deadline = time.monotonic() + 15
        # The edge reads the new key soon.
        while request(f"{system.api}/students?limit=0", key=key["value"], token=system.token()).status == 403:
            assert time.monotonic() < deadline, "the edge never admitted the new key"
            time.sleep(0.5)
        yield str(key["value"])
    finally:
        stage_throttle(deployed["throttlingRateLimit"], deployed["throttlingBurstLimit"])
        apigateway.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
        apigateway.delete_usage_plan(usagePlanId=plan["id"])
        apigateway.delete_api_key(apiKey=key["id"])


def send(
    connection: http.client.HTTPConnection, bad: BadRequest, key: str, token: str
) -> tuple[int, dict[str, str], bytes]:
    """``bad`` over HTTP, exactly as generated (no Content-Type added when it has none); status, headers, body."""
    headers = {"x-api-key": key, "Authorization": token}
    if bad.content_type is not None:
        headers["Content-Type"] = bad.content_type
    connection.request(bad.method, f"/{STAGE}{bad.target()}", body=bad.body, headers=headers)
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def parsed_by_pythons_json(bad: BadRequest) -> bool:
    """False for a body nested too deep for Python's ``json`` (RecursionError): the edge fails on those."""
    try:
        json.loads(bad.body)
    except RecursionError:
        return False
    except ValueError:
        pass
    return True


def table_items(system: LocalSystem) -> list[dict[str, Any]]:
    paginator = system.client("dynamodb").get_paginator("scan")
    pages = paginator.paginate(TableName=system.output(names.OUTPUT_TABLE_NAME), ConsistentRead=True)
    return sorted((item for page in pages for item in page["Items"]), key=lambda item: item["studentid"]["S"])


def edge_problems(system: LocalSystem, requests: list[BadRequest]) -> tuple[list[str], Counter[str]]:
    """Each request through the edge, API Gateway then Lambda: what is wrong with each answer, and who answered."""
    problems: list[str] = []
    answered: Counter[str] = Counter()
    with unthrottled_key(system) as key:
        connection = http.client.HTTPConnection("localhost", system.emulator.api_port, timeout=60)
        try:
            for number, bad in enumerate(requests):
                status, headers, body = send(connection, bad, key, system.token())
                # The gateway's own answers name their error type; a function's do not.
                answered["gateway" if "x-amzn-errortype" in map(str.lower, headers) else "function"] += 1
                found = answer_problems(status, headers, body, origin=system.site)
                problems += [f"#{number} {bad.label}: {problem}" for problem in found]
        finally:
            connection.close()
    return problems, answered


def test_over_a_thousand_bad_requests_get_a_4xx_json_answer_through_the_edge(system: LocalSystem) -> None:
    """The bad-input suite of ``tests/lambdas/test_bad_input.py``, over HTTP to the deployed API.

    API Gateway's own checks answer some (an unknown route 403, a body the model
    refuses 400 "Invalid request body"), the deployed functions the rest; either
    way a short 4xx JSON message the page can read, and nothing saved or sent.
    """
    requests = [bad for bad in generate() if parsed_by_pythons_json(bad)]
    assert len(requests) >= 1_000
    before, sent = table_items(system), system.client("ses").get_send_quota()["SentLast24Hours"]
    problems, answered = edge_problems(system, requests)
    assert problems == [], f"{len(problems)} of {len(requests)} answered badly:\n" + "\n".join(problems[:40])
    assert table_items(system) == before
    assert system.client("ses").get_send_quota()["SentLast24Hours"] == sent
    # Both the gateway's checks and the functions' were exercised.
    assert min(answered["gateway"], answered["function"]) > 100, answered


def test_bodies_nested_too_deep_for_pythons_json_get_a_4xx_through_the_edge(system: LocalSystem) -> None:
    requests = [bad for bad in generate() if not parsed_by_pythons_json(bad)]
    assert requests
    assert edge_problems(system, requests)[0] == []


# --- 3. The page in a real browser --------------------------------------------------------


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(screenshot_dir() / f"{name}.png"), full_page=True)


#: A member the browser test invites (``make staff-add``) and signs in for the first time in the page.
OFFICE = "office@example.com"
OFFICE_PASSWORD = "Office-Keys-2025-Blue!"


def is_sign_in(response: Response) -> bool:
    """A Cognito answer through the site that signed a member in with a password."""
    target = response.request.headers.get("x-amz-target", "")
    flow = json.loads(response.request.post_data or "{}").get("AuthFlow")
    return (
        urlsplit(response.url).path == LOCAL_COGNITO_PATH
        and target.endswith(".InitiateAuth")
        and flow == "USER_PASSWORD_AUTH"
    )


def test_the_page_adds_lists_refuses_pages_and_backs_up(system: LocalSystem) -> None:
    use_the_page(system, "local")


def use_the_page(system: LocalSystem, shots: str) -> None:
    """The page as the office uses it, on a ``make up`` system: an administrator invited with ``make staff-add``
    signs in for the first time and chooses a password, saves a student, is refused a duplicate and a bad address,
    signs in again after a reload, pages through every student, backs up, reads the list on a phone in Vietnamese
    and signs out; then the table, the backup bucket, SES and Cognito hold what the page did. Screenshots are
    ``<shots>-<step>.png``. (``tests/system/test_make_down_up.py`` runs it on CDK Terrain's deployment.)
    """
    before = len(system.emails())
    students = system.client("dynamodb").scan(TableName="studentData", Select="COUNT")["Count"] + 1  # SV900 too
    # The student's confirmation goes out only once the address is verified (SES's sandbox).
    make("verify-email", system.emulator, f"EMAIL={STUDENT['email']}").ok()
    # A new administrator, invited as docs/STAFF.md says; their first sign-in, in the page, chooses a password.
    added = make("staff-add", system.emulator, f"EMAIL={OFFICE}", "ADMIN=1").ok()
    (line,) = [line for line in added.output.splitlines() if "temporary password" in line]
    temporary = line.rsplit(" ", 1)[-1]
    with chromium() as browser, watched_pages(browser, api_paths=API_PATHS | {LOCAL_COGNITO_PATH}) as pages:
        page = pages.open(f"{system.site}/", viewport=DESKTOP)
        expect(page.locator("#workspace")).to_be_hidden()
        sign_in(page, OFFICE, temporary, new_password=OFFICE_PASSWORD)
        wait_until_listed(page)
        expect(page.locator("#session-email")).to_have_text(OFFICE)
        shot(page, f"{shots}-1-loaded")

        for name, value in STUDENT.items():
            page.locator(f"#field-{name}").fill(value)
        page.get_by_role("button", name="Save student").click()
        expect(page.locator("#form-status")).to_contain_text(f"Saved {STUDENT['name']} ({STUDENT['studentid']})")
        expect(page.locator(f'#student-rows tr[data-studentid="{STUDENT["studentid"]}"]')).to_have_count(1)
        shot(page, f"{shots}-2-saved")

        for name, value in STUDENT.items():
            page.locator(f"#field-{name}").fill(value)
        page.get_by_role("button", name="Save student").click()
        expect(page.locator("#form-status")).to_contain_text(f"A student with id {STUDENT['studentid']} already exists")
        shot(page, f"{shots}-3-duplicate")

        page.locator("#field-studentid").fill("SV901")
        page.locator("#field-email").fill("not-an-address")
        page.get_by_role("button", name="Save student").click()
        expect(page.locator("#field-email-error")).to_be_visible()
        shot(page, f"{shots}-4-invalid-email")

        page.reload()  # the page kept its tokens in memory: it asks again, for the password chosen above
        with page.expect_response(is_sign_in) as signed_in:
            sign_in(page, OFFICE, OFFICE_PASSWORD)
        refresh_token = signed_in.value.json()["AuthenticationResult"]["RefreshToken"]
        wait_until_listed(page)
        while page.get_by_role("button", name="Load more").is_visible():
            page.get_by_role("button", name="Load more").click()
            wait_until_listed(page)
        expect(page.locator("#student-rows tr")).to_have_count(students)
        shot(page, f"{shots}-5-all-pages")

        page.get_by_role("button", name="Back up now").click()
        # The run goes on in the background (202); the page follows it to the end.
        expect(page.locator("#backup-status")).to_contain_text(
            f"Backup finished: {students} students in 3 files", timeout=60_000
        )
        shot(page, f"{shots}-6-backup")

        phone = pages.open(f"{system.site}/", viewport=PHONE, locale="vi-VN")
        sign_in(phone, OFFICE, OFFICE_PASSWORD)
        wait_until_listed(phone)
        shot(phone, f"{shots}-7-phone-vi")

        # Signing out revokes the sign-in (the emulator lacks RevokeToken: the page falls back to
        # GlobalSignOut) and forgets its tokens: the API refuses what the page sends from then on.
        page.get_by_role("button", name="Sign out").click()
        expect(page.locator("#auth-status")).to_have_text("You have signed out.")
        expect(page.locator("#workspace")).to_be_hidden()
        shot(page, f"{shots}-8-signed-out")
        students = runtime_config()["api"]["students"]
        assert page.evaluate(f"fetch('{students}?limit=1').then((response) => response.status)") == 401

    idp = system.client("cognito-idp")
    client_id = system.output(names.OUTPUT_STAFF_USER_POOL_CLIENT_ID)
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        idp.initiate_auth(
            ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
        )
    item = system.client("dynamodb").get_item(TableName="studentData", Key={"studentid": {"S": STUDENT["studentid"]}})
    assert item["Item"]["name"] == {"S": STUDENT["name"]}
    s3 = system.client("s3")
    bucket = system.output(names.OUTPUT_BACKUP_BUCKET)
    newest_run = max(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]).split(".", 1)[0]
    for suffix in (".dynamodb.json", ".csv"):
        text = s3.get_object(Bucket=bucket, Key=newest_run + suffix)["Body"].read().decode("utf-8-sig")
        assert STUDENT["name"] in text, newest_run + suffix
    mails = system.emails()[before:]
    assert {tuple(mail["destinations"]["ToAddresses"]) for mail in mails} >= {
        (STUDENT["email"],),
        ("admin@example.com",),
    }


# --- 4. least privilege: every deployed grant needed, and put back ------------------------------


def test_every_mutation_of_the_deployed_policies_is_caught_by_the_flow_that_needs_it(system: LocalSystem) -> None:
    """The mutation proof (``tests/system/least_privilege.py``) on this system, after the tests above used it as
    deployed; ``make up`` again, next, then finds nothing to change: every broken policy was put back exactly.

    Its flows call the API with a key of their own, without limits: the system's key has spent part of its daily
    quota (1,000 requests) on the tests above, and a flow refused 429 would prove nothing about a policy.
    """
    from tests.system import least_privilege  # noqa: PLC0415 - it imports this module's helpers

    with unthrottled_key(system) as key:
        least_privilege.check_every_mutation_is_caught(dataclasses.replace(system, key=key))


# --- 5. make up again -------------------------------------------------------------------------


def test_up_again_applies_nothing_and_restarts_the_edge_on_the_same_deployment(system: LocalSystem) -> None:
    server = int((system.emulator.state_dir / "moto.pid").read_text())
    again = make("up", system.emulator).ok()
    assert f"already running at {system.emulator.endpoint} (pid {server}; state kept)" in again.output
    assert "synth skipped" in again.output
    assert f"{BOOTSTRAP_STACK}: unchanged since it was applied to this emulator" in again.output
    assert f"[{APP_STACK}] No changes. Your infrastructure matches the configuration." in again.output
    assert live_servers(system.emulator.port) == [server]
    assert edge_pid(system.emulator) != system.edge_pid
    # The staff member has its own password by now: kept, and not printed.
    assert f"{STAFF_EMAIL} exists and has changed its password (not reset)" in again.output
    assert "temporary password" not in again.output
    assert request(f"{system.api}/students?studentid=SV900", **system.signed()).body["student"] == STUDENT


# --- 6. The edge follows the deployment -----------------------------------------------------


def test_a_usage_plan_with_small_limits_throttles_then_exhausts_the_quota(system: LocalSystem) -> None:
    apigateway = system.client("apigateway")
    (plan,) = apigateway.get_usage_plans()["items"]
    apigateway.update_usage_plan(
        usagePlanId=plan["id"],
        patchOperations=[
            {"op": "replace", "path": "/throttle/rateLimit", "value": "1"},
            {"op": "replace", "path": "/throttle/burstLimit", "value": "2"},
        ],
    )
    time.sleep(2)
    token = system.token()
    answers = [request(f"{system.api}/students?limit=1", key=system.key, token=token) for _ in range(4)]
    assert [answer.status for answer in answers][:2] == [200, 200]
    assert (answers[-1].status, answers[-1].body) == (429, {"message": "Too Many Requests"})

    apigateway.update_usage_plan(
        usagePlanId=plan["id"],
        patchOperations=[
            {"op": "replace", "path": "/throttle/rateLimit", "value": "100"},
            {"op": "replace", "path": "/throttle/burstLimit", "value": "200"},
            {"op": "replace", "path": "/quota/limit", "value": "1"},
        ],
    )
    time.sleep(2)
    last = request(f"{system.api}/students?limit=1", **system.signed())
    for _ in range(5):
        if last.status == 429:
            break
        last = request(f"{system.api}/students?limit=1", **system.signed())
    assert (last.status, last.body) == (429, {"message": "Limit Exceeded"})
    apigateway.update_usage_plan(
        usagePlanId=plan["id"], patchOperations=[{"op": "replace", "path": "/quota/limit", "value": "100000"}]
    )


def test_a_changed_function_environment_is_used_on_the_next_call(system: LocalSystem) -> None:
    awslambda = system.client("lambda")
    name = FUNCTION_NAMES[READ]
    environment = awslambda.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    awslambda.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**environment, names.ENV_TABLE_NAME: "noSuchTable"}}
    )
    time.sleep(2)
    broken = request(f"{system.api}/students?limit=1", **system.signed())
    assert (broken.status, broken.body) == (500, {"message": "internal error"})
    awslambda.update_function_configuration(FunctionName=name, Environment={"Variables": environment})
    time.sleep(2)
    assert request(f"{system.api}/students?limit=1", **system.signed()).status == 200


def test_a_removed_method_is_served_until_the_stage_is_redeployed(system: LocalSystem) -> None:
    """As API Gateway serves a stage's deployment, not the API as it is now."""
    apigateway = system.client("apigateway")
    api_id = system.output(names.OUTPUT_API_ID)
    resources = apigateway.get_resources(restApiId=api_id)["items"]
    students = next(resource["id"] for resource in resources if resource.get("path") == "/students")
    apigateway.delete_method(restApiId=api_id, resourceId=students, httpMethod="POST")
    time.sleep(2)
    still = request(f"{system.api}/students", method="POST", body={**STUDENT, "studentid": "SV902"}, **system.signed())
    assert still.status == 201, "no new deployment: the stage still serves the method"
    # What Terraform does on a change: a new deployment, and the stage moved to it.
    deployment = apigateway.create_deployment(restApiId=api_id, description="without POST /students")["id"]
    apigateway.update_stage(
        restApiId=api_id,
        stageName=STAGE,
        patchOperations=[{"op": "replace", "path": "/deploymentId", "value": deployment}],
    )
    time.sleep(2)
    answer = request(f"{system.api}/students", method="POST", body={**STUDENT, "studentid": "SV903"}, **system.signed())
    assert (answer.status, answer.body) == (403, {"message": "Missing Authentication Token"})
    assert FUNCTION_NAMES[INSERT] not in system.request_log()[-1]
