"""`make up` as a new user runs it: the whole system served locally, used, changed, and taken down.

One ``make up`` (the real command, from the project root) on a private
emulator port, state directory and edge ports, so the test never touches a
developer's own ``make up``. The tests then run in file order against it:

1. what ``make up`` prints, the operations (``make api-key``, ``seed``,
   ``emails``, ``backups``, ``backup-now``, ``invalidate``) and the seed page's
   ``curl`` against the printed invoke URL;
2. the API through the local edge: keys, validation, routes, CORS;
3. the page in Debian's Chromium, through the site, and what it left in the emulator;
4. ``make up`` again: nothing applied, the edge restarted on the same deployment;
5. changes made to the deployment in the emulator (a usage plan's limits, a
   function's environment, a method removed), which the edge follows without
   a restart: the edge plays API Gateway, Lambda and CloudFront from what is
   deployed, never from a copy of its own;
6. ``make down``, ``make up`` from nothing, ``make down``: nothing left behind.
"""

from __future__ import annotations

import http.client
import json
import socket
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

import pytest
from playwright.sync_api import Page, expect

from lambdas.common import names
from modules.config import APP_STACK, BOOTSTRAP_STACK
from modules.functions import FUNCTIONS, INSERT, READ
from modules.site_assets import runtime_config
from modules.site_headers import SECURITY_HEADERS
from scripts import local_ops
from tests.browser import DESKTOP, PHONE, chromium, screenshot_dir, wait_until_listed, watched_pages
from tests.conftest import ROOT, EmulatorSettings, free_port, run, tool_env
from tests.lambdas.bad_requests import BadRequest, answer_problems, generate

pytestmark = [pytest.mark.emulator, pytest.mark.browser]

SERVER = str(ROOT / "scripts" / "moto_server.py")
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

    def ok(self) -> Run:
        assert self.returncode == 0, f"make {self.command} failed:\n{self.output[-6000:]}"
        return self


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def make(command: str, emulator: EmulatorSettings, *args: str, **extra_env: str) -> Run:
    # A new user's make: not a sub-make of `make test` (whose job server it cannot reach).
    env = {
        k: v
        for k, v in tool_env(**emulator.env(), **extra_env).items()
        if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }
    result = run(["make", command, *args], cwd=ROOT, env=env, timeout=900)
    return Run(command, result.returncode, result.stdout + result.stderr)


def request(
    url: str, *, method: str = "GET", key: str | None = None, body: object = None, headers: dict[str, str] | None = None
) -> Answer:
    data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
    outgoing = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback http of the test
    if data is not None:
        outgoing.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        outgoing.add_header(name, value)
    if key is not None:
        outgoing.add_header("x-api-key", key)
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


@dataclass
class LocalSystem:
    emulator: EmulatorSettings
    first: Run
    edge_pid: int
    key: str
    cleanups: list[Any] = field(default_factory=list)

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
        return local_ops.sent_messages(self.emulator.config)


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
        if any(arg.endswith("moto_server.py") for arg in decoded) and str(port) in decoded:
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


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    emulator = EmulatorSettings(
        port=free_port(),
        state_dir=tmp_path_factory.mktemp("local-system") / "emulator",
        site_port=free_port(),
        api_port=free_port(),
    )
    try:
        first = make("up", emulator).ok()
        key = make("api-key", emulator).ok().output.strip()
        yield LocalSystem(emulator, first, edge_pid(emulator), key)
    finally:
        make("down", emulator)


# --- 1. What make up prints, and the operations -----------------------------------------


def test_first_up_prints_the_site_the_invoke_url_and_how_to_get_the_key(system: LocalSystem) -> None:
    output = system.first.output
    assert "emulator: starting moto server" in output
    assert f"edge: site {system.site}/ · api {system.api} (pid {system.edge_pid}" in output
    assert "The API key: make api-key" in output
    assert system.outputs()[BOOTSTRAP_STACK][names.OUTPUT_STATE_BUCKET] == "student-management-tfstate"


def test_api_key_is_the_deployed_key(system: LocalSystem) -> None:
    keys = system.client("apigateway").get_api_keys(includeValues=True)["items"]
    assert [key["value"] for key in keys if key["name"] == "StudentApiKey"] == [system.key]


def follow_backup(system: LocalSystem, run_id: str, *, timeout_s: float = 120) -> dict[str, Any]:
    """Poll ``GET /backup?runId=`` as the page does, until the run is no longer running."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = request(f"{system.api}/backup?runId={run_id}", key=system.key)
        assert answer.status == 200, answer
        if answer.body["state"] != "running" or time.monotonic() > deadline:
            return dict(answer.body)
        time.sleep(0.5)


def test_seed_page_curl_starts_a_backup_that_lands_in_s3_and_ses(system: LocalSystem) -> None:
    before = len(system.emails())
    curl = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code}", "-X", "POST", f"{system.api}/backup", "-H", f"x-api-key: {system.key}"],
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
    seeded = make("seed", system.emulator, "N=25").ok()
    assert "added SV001 Nguyễn Văn A" in seeded.output
    assert "25 added, 0 already there" in seeded.output
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

    restored = make("restore", system.emulator, "BACKUP=latest", DEPLOY_TARGET="local").ok()

    assert dynamodb.get_item(TableName="studentData", Key=key)["Item"] == original
    assert "    1 written" in restored.output
    assert f"    {total:,} already in the table, kept as they are" in restored.output
    assert "    0 failed" in restored.output
    missing = make("restore", system.emulator, "BACKUP=backup-20200101-000000-00000000", DEPLOY_TARGET="local")
    assert missing.returncode != 0
    assert "does not exist: name a backup" in missing.output


def test_emails_shows_what_ses_accepted(system: LocalSystem) -> None:
    shown = make("emails", system.emulator).ok()
    assert "to sv001@example.com" in shown.output
    assert "subject: Student data backup: 25 items" in shown.output


def test_invalidate_completes_on_the_deployed_distribution(system: LocalSystem) -> None:
    invalidated = make("invalidate", system.emulator, DEPLOY_TARGET="local").ok()
    assert f"of /* on {system.output(names.OUTPUT_SITE_DISTRIBUTION_ID)}" in invalidated.output
    assert "completed" in invalidated.output.splitlines()[-1]


# --- 2. The API through the edge --------------------------------------------------------


def test_a_missing_or_wrong_key_is_forbidden(system: LocalSystem) -> None:
    for key in (None, "not-the-key"):
        answer = request(f"{system.api}/students", key=key)
        assert (answer.status, answer.body) == (403, {"message": "Forbidden"})
        # The deployed gateway response carries the CORS header, so a page could read the refusal.
        assert answer.headers["access-control-allow-origin"] == system.site


def test_an_unknown_route_is_missing_authentication_token(system: LocalSystem) -> None:
    for url in (f"{system.api}/teachers", f"http://localhost:{system.emulator.api_port}/dev/students"):
        answer = request(url, key=system.key)
        assert (answer.status, answer.body) == (403, {"message": "Missing Authentication Token"})


def test_an_invalid_body_is_refused_by_the_gateway_before_any_function(system: LocalSystem) -> None:
    lines = len(system.request_log())
    answer = request(f"{system.api}/students", method="POST", key=system.key, body={"studentid": "SV1"})
    assert (answer.status, answer.body) == (400, {"message": "Invalid request body"})
    (line,) = [line for line in system.request_log()[lines:] if " POST /prod/students " in line]
    assert " 400 - " in line  # no function ran


def test_valid_calls_reach_the_functions_and_come_back_unchanged(system: LocalSystem) -> None:
    answer = request(f"{system.api}/students?limit=5", key=system.key)
    assert answer.status == 200
    assert answer.body["count"] == 5 and answer.body["nextToken"]
    assert answer.headers["cache-control"] == "no-store"
    log = system.request_log()
    assert any(f" GET /prod/students 200 {FUNCTION_NAMES[READ]} " in line for line in log)
    assert all(system.key not in line for line in log)


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


def test_site_serves_the_bucket_with_its_headers_and_the_api_without_a_key(system: LocalSystem) -> None:
    page = request(f"{system.site}/")
    assert page.status == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-cache"
    for header, value in SECURITY_HEADERS.items():
        assert page.headers[header.lower()] == value
    assert request(f"{system.site}/missing.css").status == 404
    listed = request(f"{system.site}/students?limit=1")  # CloudFront adds the key
    assert listed.status == 200 and listed.body["count"] == 1
    assert request(f"{system.site}/students", key="forged").status == 200  # CloudFront's header wins


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
        while request(f"{system.api}/students?limit=0", key=key["value"]).status == 403:  # the edge reads it soon
            assert time.monotonic() < deadline, "the edge never admitted the new key"
            time.sleep(0.5)
        yield str(key["value"])
    finally:
        stage_throttle(deployed["throttlingRateLimit"], deployed["throttlingBurstLimit"])
        apigateway.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
        apigateway.delete_usage_plan(usagePlanId=plan["id"])
        apigateway.delete_api_key(apiKey=key["id"])


def send(connection: http.client.HTTPConnection, bad: BadRequest, key: str) -> tuple[int, dict[str, str], bytes]:
    """``bad`` over HTTP, exactly as generated (no Content-Type added when it has none); status, headers, body."""
    headers = {"x-api-key": key}
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
                status, headers, body = send(connection, bad, key)
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
    page.screenshot(path=str(screenshot_dir() / f"local-{name}.png"), full_page=True)


def test_the_page_adds_lists_refuses_pages_and_backs_up(system: LocalSystem) -> None:
    before = len(system.emails())
    with chromium() as browser, watched_pages(browser, api_paths=API_PATHS) as pages:
        page = pages.open(f"{system.site}/", viewport=DESKTOP)
        wait_until_listed(page)
        shot(page, "1-loaded")

        for name, value in STUDENT.items():
            page.locator(f"#field-{name}").fill(value)
        page.get_by_role("button", name="Save student").click()
        expect(page.locator("#form-status")).to_contain_text(f"Saved {STUDENT['name']} ({STUDENT['studentid']})")
        expect(page.locator(f'#student-rows tr[data-studentid="{STUDENT["studentid"]}"]')).to_have_count(1)
        shot(page, "2-saved")

        for name, value in STUDENT.items():
            page.locator(f"#field-{name}").fill(value)
        page.get_by_role("button", name="Save student").click()
        expect(page.locator("#form-status")).to_contain_text(f"A student with id {STUDENT['studentid']} already exists")
        shot(page, "3-duplicate")

        page.locator("#field-studentid").fill("SV901")
        page.locator("#field-email").fill("not-an-address")
        page.get_by_role("button", name="Save student").click()
        expect(page.locator("#field-email-error")).to_be_visible()
        shot(page, "4-invalid-email")

        page.reload()
        wait_until_listed(page)
        while page.get_by_role("button", name="Load more").is_visible():
            page.get_by_role("button", name="Load more").click()
            wait_until_listed(page)
        expect(page.locator("#student-rows tr")).to_have_count(26)  # 25 seeded, SV900
        shot(page, "5-all-pages")

        page.get_by_role("button", name="Back up now").click()
        # The run goes on in the background (202); the page follows it to the end.
        expect(page.locator("#backup-status")).to_contain_text(
            "Backup finished: 26 students in 3 files", timeout=60_000
        )
        shot(page, "6-backup")

        phone = pages.open(f"{system.site}/", viewport=PHONE, locale="vi-VN")
        wait_until_listed(phone)
        shot(phone, "7-phone-vi")

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


# --- 4. make up again -------------------------------------------------------------------------


def test_up_again_applies_nothing_and_restarts_the_edge_on_the_same_deployment(system: LocalSystem) -> None:
    server = int((system.emulator.state_dir / "moto.pid").read_text())
    again = make("up", system.emulator).ok()
    assert f"already running at {system.emulator.endpoint} (pid {server}; state kept)" in again.output
    assert "synth skipped" in again.output
    assert f"{BOOTSTRAP_STACK}: unchanged since it was applied to this emulator" in again.output
    assert f"[{APP_STACK}] No changes. Your infrastructure matches the configuration." in again.output
    assert live_servers(system.emulator.port) == [server]
    assert edge_pid(system.emulator) != system.edge_pid
    assert request(f"{system.api}/students?studentid=SV900", key=system.key).body["student"] == STUDENT


# --- 5. The edge follows the deployment -----------------------------------------------------


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
    answers = [request(f"{system.api}/students?limit=1", key=system.key) for _ in range(4)]
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
    last = request(f"{system.api}/students?limit=1", key=system.key)
    for _ in range(5):
        if last.status == 429:
            break
        last = request(f"{system.api}/students?limit=1", key=system.key)
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
    broken = request(f"{system.api}/students?limit=1", key=system.key)
    assert (broken.status, broken.body) == (500, {"message": "internal error"})
    awslambda.update_function_configuration(FunctionName=name, Environment={"Variables": environment})
    time.sleep(2)
    assert request(f"{system.api}/students?limit=1", key=system.key).status == 200


def test_a_removed_method_is_gone_from_the_edge(system: LocalSystem) -> None:
    apigateway = system.client("apigateway")
    api_id = system.output(names.OUTPUT_API_ID)
    resources = apigateway.get_resources(restApiId=api_id)["items"]
    students = next(resource["id"] for resource in resources if resource.get("path") == "/students")
    apigateway.delete_method(restApiId=api_id, resourceId=students, httpMethod="POST")
    time.sleep(2)
    answer = request(f"{system.api}/students", method="POST", key=system.key, body={**STUDENT, "studentid": "SV902"})
    assert (answer.status, answer.body) == (403, {"message": "Missing Authentication Token"})
    assert FUNCTION_NAMES[INSERT] not in system.request_log()[-1]


# --- 6. Down, up from nothing, down ----------------------------------------------------------


def test_down_up_down_leaves_nothing_behind(system: LocalSystem) -> None:
    server = int((system.emulator.state_dir / "moto.pid").read_text())
    stopped = make("down", system.emulator).ok()
    assert f"stopped ({system.emulator.endpoint}, pid {server})" in stopped.output
    assert_nothing_left(system.emulator)

    fresh = make("up", system.emulator).ok()
    assert "emulator: starting moto server" in fresh.output
    assert "synth skipped" in fresh.output  # nothing the synth reads changed
    assert "Apply complete! Resources: 7 added" in fresh.output
    assert request(f"{system.site}/").status == 200
    fresh_key = make("api-key", system.emulator).ok().output.strip()
    assert request(f"{system.api}/students", key=fresh_key).body["count"] == 0

    make("down", system.emulator).ok()
    assert_nothing_left(system.emulator)
