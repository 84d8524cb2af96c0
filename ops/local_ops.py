"""Everyday operations on the local system (`make up`), as a user of the tutorial would do them.

    local_ops.py api-key              print the API key (from the emulator's Secrets Manager)
    local_ops.py staff-user           make sure the local staff member exists; print how to sign in
    local_ops.py staff-token          print an ID token of the local staff member (for curl's Authorization)
    local_ops.py seed [--count N]     add sample students through the local invoke URL
    local_ops.py emails               what the emulator's SES accepted: to, subject, body
    local_ops.py denials              what the emulator's IAM refused (AccessDenied), oldest first
    local_ops.py alarm-test [--alarm NAME]
                                      set an alarm to ALARM and back to OK, as `aws cloudwatch set-alarm-state`
                                      does, and show where CloudWatch delivered each notification
    local_ops.py backups [--download NAME|latest]
                                      list the backups; download one's objects into <state dir>/downloads
    local_ops.py backup-now           run the schedule's target with its deployed input, as the scheduler would

Everything is read from what `make up` deployed: outputs.json, the emulator's
resources, and the local edge (local/edge.sh). Nothing here knows a name,
key or route of its own.

The local staff member. Every API method wants a signed-in staff member's ID
token besides the key, so `make up` creates one member, ``STAFF_EMAIL``, in
the ``staff`` and ``admin`` groups (``staff-user``), and keeps its address and
password in ``<emulator_state_dir>/staff-credentials.json`` (mode 0600; the
emulator's pool is a throwaway one, and this file is how tests and the make
helpers sign in). The operations that call the API (``seed``, ``staff-token``)
sign in as that member with ``USER_PASSWORD_AUTH`` against the emulator's
Cognito. While the member still has its temporary password, Cognito answers
the first sign-in with the ``NEW_PASSWORD_REQUIRED`` challenge, as the page
does; the helper then chooses a generated password, completes the challenge,
and writes the new password into the file (``"temporary": false``), so the
password `make up` printed no longer signs in: the file's does. A password
chosen in the page is not known here: write it into the file's ``"password"``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, cast

from botocore.exceptions import ClientError, EndpointConnectionError

from config.settings import APP_STACK, AppConfig, ConfigError, load_config
from lambdas.common import names
from local.deploy import emulator_client, emulator_route
from ops.staff import Directory, StaffError, add, generate_password, local_pool

#: The tutorial's first student, then generated ones.
FIRST = {"studentid": "SV001", "name": "Nguyễn Văn A", "class": "CNTT1", "birthdate": "2000-01-01"}
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ")
MIDDLE = ("Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu", "Quốc", "Hải")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Khánh", "Linh", "Nam", "Phúc", "Quân", "Thảo", "Yến")
CLASSES = ("CNTT1", "CNTT2", "CNTT3", "KTPM1", "HTTT1")
#: Times a throttled insert is retried, a second apart (a daily quota's 429 is not retried).
THROTTLE_RETRIES = 10
#: The local staff member `make up` creates (``staff`` and ``admin``: the whole page works for it).
STAFF_EMAIL: Final = "staff@example.com"
#: Its address and password, in the emulator's state directory.
STAFF_CREDENTIALS: Final = "staff-credentials.json"
#: Cognito's answer to a first sign-in with a temporary password.
NEW_PASSWORD_REQUIRED: Final = "NEW_PASSWORD_REQUIRED"  # noqa: S105 - a challenge name, not a password


class OpsError(RuntimeError):
    """An operation cannot be done; the message says why and what to run."""


def outputs(config: AppConfig) -> dict[str, Any]:
    path = config.emulator_outputs_file
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))[APP_STACK])
    except FileNotFoundError:
        raise OpsError(f"{path} does not exist: run `make up` first") from None


def api_key(config: AppConfig) -> str:
    secret = outputs(config)[names.OUTPUT_API_KEY_SECRET_ARN]
    return str(emulator_client("secretsmanager", config).get_secret_value(SecretId=secret)["SecretString"])


def invoke_url(config: AppConfig) -> str:
    return f"http://localhost:{config.api_port}/{config.api_stage_name}"


def call(
    url: str, *, method: str = "GET", body: object = None, key: str | None = None, token: str | None = None
) -> tuple[int, Any]:
    """One request to the local edge (with the API key and a staff ID token, when given): status and JSON body."""
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback http of ours
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("x-api-key", key)
    if token:
        request.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - a loopback URL of ours
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
    except urllib.error.URLError as error:
        raise OpsError(f"the local edge does not answer at {url} ({error.reason}): run `make up`") from None


def sample_students(count: int) -> list[dict[str, str]]:
    students = []
    for number in range(1, count + 1):
        if number == 1:
            student = dict(FIRST)
        else:
            name = " ".join((FAMILY[number % len(FAMILY)], MIDDLE[number % len(MIDDLE)], GIVEN[number % len(GIVEN)]))
            student = {
                "studentid": f"SV{number:03d}",
                "name": name,
                "class": CLASSES[number % len(CLASSES)],
                "birthdate": f"{1998 + number % 6}-{1 + number % 12:02d}-{1 + number % 28:02d}",
            }
        student["email"] = f"{student['studentid'].lower()}@example.com"
        students.append(student)
    return students


def seed(config: AppConfig, count: int) -> None:
    key, url = api_key(config), f"{invoke_url(config)}/students"
    # One sign-in: 999 students take well under the tokens' lifetime (staff_token_validity_minutes).
    token = staff_id_token(config)
    added = existing = unsent = 0
    for student in sample_students(count):
        status, body = call(url, method="POST", body=student, key=key, token=token)
        for _ in range(THROTTLE_RETRIES):
            if status != 429 or body != {"message": "Too Many Requests"}:
                break
            time.sleep(1)  # the usage plan's rate: its bucket refills every second
            status, body = call(url, method="POST", body=student, key=key, token=token)
        if status == 201:
            added += 1
            unsent += not body.get("emailSent")
            print(f"  added {student['studentid']} {student['name']}")
        elif status == 409:
            existing += 1
        else:
            raise OpsError(f"{student['studentid']}: {status} {body}")
    print(f"==> seed: {added} added, {existing} already there ({url})")
    if unsent:
        print(
            f"    {unsent} confirmation e-mail(s) not sent: the sample addresses are not verified, and SES's sandbox"
            " sends only to verified ones (make verify-email EMAIL=... verifies one)"
        )


# --- the local staff member ----------------------------------------------------------


def credentials_file(config: AppConfig) -> Path:
    return config.emulator_state_dir / STAFF_CREDENTIALS


def read_credentials(config: AppConfig) -> dict[str, Any] | None:
    """The stored ``{"email", "password", "temporary"}``, or None when there is no file (or not one of ours)."""
    try:
        stored = json.loads(credentials_file(config).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    if not isinstance(stored, dict) or not isinstance(stored.get("password"), str):
        return None
    return stored


def write_credentials(config: AppConfig, email: str, password: str, *, temporary: bool) -> Path:
    """Replaces the credentials file, readable by its owner only from the moment it exists."""
    path = credentials_file(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        json.dump({"email": email, "password": password, "temporary": temporary}, stream, indent=2)
        stream.write("\n")
    os.replace(partial, path)
    return path


def staff_directory(config: AppConfig) -> Directory:
    """The emulator's staff pool, as ``make up`` deployed it."""
    return Directory(emulator_client("cognito-idp", config), local_pool(config), sends_invitations=False)


def password_signs_in(config: AppConfig, email: str, password: str) -> str | None:
    """Cognito's answer to a sign-in: ``"signed-in"``, a challenge's name, or None when the password is wrong.

    Nothing changes: an unanswered challenge only leaves a session that expires.
    """
    client_id = local_pool(config, names.OUTPUT_STAFF_USER_POOL_CLIENT_ID)
    try:
        answer = emulator_client("cognito-idp", config).initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NotAuthorizedException", "UserNotFoundException"):
            return None
        raise
    return str(answer.get("ChallengeName") or "signed-in")


def ensure_staff_user(config: AppConfig) -> None:
    """``make up``'s staff member: created when missing, never reset once it chose a password; how to sign in."""
    directory = staff_directory(config)
    site = f"http://localhost:{config.site_port}/"
    path = credentials_file(config)
    existing = directory.user(STAFF_EMAIL)
    if existing is None:
        added = add(directory, STAFF_EMAIL, admin=True)
        password = added.temporary_password or ""
        write_credentials(config, STAFF_EMAIL, password, temporary=True)
        print(f"==> staff sign-in at {site}: {STAFF_EMAIL} (groups staff, admin), temporary password {password}")
        print(f"    The first sign-in asks for a new password. Both are kept in {path} (mode 0600).")
        return
    directory.set_groups(STAFF_EMAIL, {names.STAFF_GROUP, names.ADMIN_GROUP})
    stored = read_credentials(config)
    stored_password = str(stored["password"]) if stored and stored.get("email") == STAFF_EMAIL else None
    if existing.get("UserStatus") == "FORCE_CHANGE_PASSWORD":
        # Nobody has signed in yet: its temporary password is still the one to give out.
        if stored_password is None or password_signs_in(config, STAFF_EMAIL, stored_password) != NEW_PASSWORD_REQUIRED:
            stored_password = generate_password(directory.policy())
            directory.call(
                directory.idp.admin_set_user_password, Username=STAFF_EMAIL, Password=stored_password, Permanent=False
            )
            write_credentials(config, STAFF_EMAIL, stored_password, temporary=True)
        print(f"==> staff sign-in at {site}: {STAFF_EMAIL}, temporary password {stored_password} (kept in {path})")
        return
    current = stored_password is not None and password_signs_in(config, STAFF_EMAIL, stored_password) == "signed-in"
    where = f"the one in {path}" if current else f"chosen in the page, not the one in {path}"
    print(f"==> staff sign-in at {site}: {STAFF_EMAIL} exists and has changed its password (not reset): {where}")


def staff_id_token(config: AppConfig) -> str:
    """An ID token of the local staff member, for the API's ``Authorization`` header.

    Signs in with the stored password; the first time, completes Cognito's
    new-password challenge with a generated password and stores that instead.
    """
    stored = read_credentials(config)
    path = credentials_file(config)
    if stored is None:
        raise OpsError(f"{path} does not exist: run `make up` (it creates the local staff member)")
    email, password = str(stored.get("email", STAFF_EMAIL)), str(stored["password"])
    client_id = local_pool(config, names.OUTPUT_STAFF_USER_POOL_CLIENT_ID)
    idp = emulator_client("cognito-idp", config)
    try:
        answer = idp.initiate_auth(
            ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": password}
        )
        if answer.get("ChallengeName") == NEW_PASSWORD_REQUIRED:
            chosen = generate_password(staff_directory(config).policy())
            answer = idp.respond_to_auth_challenge(
                ClientId=client_id,
                ChallengeName=NEW_PASSWORD_REQUIRED,
                Session=answer["Session"],
                ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": chosen},
            )
            write_credentials(config, email, chosen, temporary=False)
            print(
                f"local_ops: first sign-in of {email}: its temporary password is replaced by a generated one,"
                f" kept in {path}",
                file=sys.stderr,
            )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "NotAuthorizedException":
            raise OpsError(
                f"the password in {path} does not sign {email} in: if you chose another in the page,"
                ' write it into that file as "password"'
            ) from None
        if code in ("UserNotFoundException", "ResourceNotFoundException"):
            raise OpsError(f"{email} is not in the deployed staff pool: run `make up`") from None
        raise
    if "AuthenticationResult" not in answer:
        raise OpsError(f"signing {email} in asks for {answer.get('ChallengeName')}, which only the page can answer")
    return str(answer["AuthenticationResult"]["IdToken"])


def sent_messages(config: AppConfig) -> list[dict[str, Any]]:
    """Every e-mail the emulator's SES accepted, oldest first (its ``/_emulator/ses-messages`` route)."""
    messages: list[dict[str, Any]] = emulator_route(config, f"/_emulator/ses-messages/{config.region}")["messages"]
    return messages


def access_denials(config: AppConfig, after: int = 0) -> list[dict[str, Any]]:
    """The requests the emulator's IAM refused (numbered ``seq``), those after ``after``, oldest first."""
    denials: list[dict[str, Any]] = emulator_route(config, f"/_emulator/iam/denials?after={after}")["denials"]
    return denials


def alarm_test(config: AppConfig, name: str | None) -> None:
    """Try an alarm's actions as AWS documents it: ``SetAlarmState`` to ALARM, then to OK; each must notify."""
    cloudwatch = emulator_client("cloudwatch", config)
    alarms = sorted(a["AlarmName"] for a in cloudwatch.describe_alarms(AlarmTypes=["MetricAlarm"])["MetricAlarms"])
    if not alarms:
        raise OpsError("no alarm is deployed: run `make up`")
    alarm = name or alarms[0]
    if alarm not in alarms:
        raise OpsError(f"no alarm {alarm!r}: ALARM= one of {', '.join(alarms)}")
    route = f"/_emulator/alarm-notifications/{config.region}"
    current = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"]
    # Only a change of state notifies: an alarm left in ALARM goes to OK first.
    for state in ("OK", "ALARM", "OK") if current == "ALARM" else ("ALARM", "OK"):
        seen = len(emulator_route(config, route)["notifications"])
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue=state, StateReason=f"make alarm-test: {state}")
        attempts = emulator_route(config, route)["notifications"][seen:]
        if not attempts:
            raise OpsError(f"{alarm} went to {state} and notified nothing: are its actions enabled?")
        for attempt in attempts:
            if not attempt["delivered"]:
                raise OpsError(f"{alarm} -> {state}: {attempt['error']}")
            print(f"==> {alarm} -> {state}: {attempt['subject']!r} delivered to {', '.join(attempt['deliveredTo'])}")


def denials(config: AppConfig) -> None:
    found = access_denials(config)
    for denial in found:
        stamp = time.strftime("%H:%M:%S", time.localtime(denial["time"]))
        print(f"{stamp} {denial['code']}: {denial['message']}")
    print(f"==> {len(found)} request(s) refused by the emulator's IAM (the last 1,000 are kept)")


def follow_verification_link(config: AppConfig, identity: str) -> None:
    """What the person at ``identity`` does with SES's verification e-mail: follow the link (the emulator's route)."""
    route = f"/_emulator/ses-verify/{config.region}/{urllib.parse.quote(identity, safe='@')}"
    try:
        emulator_route(config, route, {})
    except urllib.error.HTTPError as error:
        raise OpsError(f"{identity}: SES has no such identity to verify ({error.code}): is it deployed?") from None


def verify_email(config: AppConfig, address: str) -> None:
    """Ask SES to verify ``address`` (it e-mails a link), then follow the link, as its owner would."""
    if not EMAIL_PATTERN.fullmatch(address):
        raise OpsError(f"EMAIL must be an e-mail address, not {address!r}: make verify-email EMAIL=name@example.org")
    emulator_client("ses", config).verify_email_identity(EmailAddress=address)
    follow_verification_link(config, address)
    print(f"==> {address}: verified in the local SES; e-mails to it are sent from now on")


def verify_identities(config: AppConfig) -> None:
    """The configured sender and recipients, verified as the people behind them would after ``make up``."""
    for address in (config.sender_email, *config.recipient_emails):
        follow_verification_link(config, address)
    print(f"==> SES: verified the sender and {len(config.recipient_emails)} recipient(s) (the sandbox's rule)")


def emails(config: AppConfig) -> None:
    messages = sent_messages(config)
    for message in messages:
        to = ", ".join(message["destinations"].get("ToAddresses", []) if message["destinations"] else [])
        print(f"--- to {to} from {message['source']}\n    subject: {message['subject']}")
        for line in (message["body"] or message["raw"] or "").splitlines():
            print(f"    {line}")
    print(f"==> {len(messages)} e-mail(s) accepted by the emulator's SES")


def backups(config: AppConfig, download: str | None) -> None:
    """Each backup run with its objects (items, CSV, manifest), oldest first; optionally download one run."""
    bucket = outputs(config)[names.OUTPUT_BACKUP_BUCKET]
    s3 = emulator_client("s3", config)
    objects = [
        item
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=names.BACKUP_PREFIX)
        for item in page.get("Contents", [])
    ]
    runs: dict[str, list[dict[str, Any]]] = {}
    for item in sorted(objects, key=lambda item: item["Key"]):
        runs.setdefault(_run_name(item["Key"]), []).append(item)
    for run, items in runs.items():
        print(f"  {run}")
        for item in items:
            print(f"    {item['LastModified']:%Y-%m-%d %H:%M:%S}  {item['Size']:>9} B  s3://{bucket}/{item['Key']}")
    print(
        f"==> {len(runs)} backup(s), {len(objects)} object(s) in {bucket}; restore one with: "
        "DEPLOY_TARGET=local make restore BACKUP=<backup name>"
    )
    if download:
        if not runs:
            raise OpsError("there is no backup to download: run `make backup-now` first")
        run = max(runs) if download == "latest" else _run_name(download)
        if run not in runs:
            raise OpsError(f"no backup {run} in {bucket}: `make backups` lists them")
        target_dir = config.emulator_state_dir / "downloads"
        target_dir.mkdir(parents=True, exist_ok=True)
        for item in runs[run]:
            target = target_dir / Path(item["Key"]).name
            s3.download_file(bucket, item["Key"], str(target))
            print(f"==> downloaded s3://{bucket}/{item['Key']} to {target}")


def _run_name(key: str) -> str:
    """``backup-<run id>``: a backup's objects share it, before their suffix."""
    return Path(key).name.split(".", 1)[0]


#: What ``make verify-email`` takes for an address (SES checks the rest).
EMAIL_PATTERN: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: How often ``backup-now`` asks the edge what became of the invocation.
FOLLOW_EVERY_S: Final = 0.5


def backup_now(config: AppConfig) -> None:
    """Fire each deployed schedule now, as the scheduler would at its time (as its role), then follow the run."""
    scheduler = emulator_client("scheduler", config)
    schedules = scheduler.list_schedules()["Schedules"]
    if not schedules:
        raise OpsError("no schedule is deployed: run `make up`")
    for summary in schedules:
        name, group = summary["Name"], summary.get("GroupName", "default")
        status, queued = call(
            f"http://localhost:{config.api_port}/_edge/schedules/{name}?group={urllib.parse.quote(group)}",
            method="POST",
        )
        if status != 202:
            raise OpsError(f"the edge did not fire the schedule {name} ({status}): {queued}")
        function = queued["function"]
        print(f"==> {name}: invoking {function} with its deployed input, asynchronously as the scheduler does")
        outcome = _follow(config, queued["requestId"])
        if outcome["state"] == "succeeded":
            print(f"==> {function} succeeded (attempt {outcome['attempts']}):")
            print(json.dumps(outcome["result"], indent=2, ensure_ascii=False))
            continue
        print(json.dumps(outcome["error"], indent=2, ensure_ascii=False))
        where = (
            f"; its event is in the dead-letter queue {outcome['deadLetterQueue']}"
            if outcome["deadLetterQueue"]
            else ""
        )
        if not outcome["attempts"]:
            raise OpsError(f"the scheduler could not invoke {function} as the schedule's role{where}")
        raise OpsError(f"{function} failed {outcome['attempts']} times, as Lambda tries an asynchronous event{where}")


def _follow(config: AppConfig, request_id: str) -> dict[str, Any]:
    """Ask the edge what became of an asynchronous invocation until it is over; print each new attempt."""
    url = f"http://localhost:{config.api_port}/_edge/invocations/{request_id}"
    reported = 0
    while True:
        status, outcome = call(url)
        if status != 200:
            raise OpsError(f"the edge lost the invocation {request_id} ({status}): was it restarted?")
        if outcome["attempts"] > reported and outcome["state"] == "running":
            reported = outcome["attempts"]
            print(f"    attempt {reported} failed ({(outcome['error'] or {}).get('errorType')}); Lambda retries it")
        if outcome["state"] != "running":
            return cast(dict[str, Any], outcome)
        time.sleep(FOLLOW_EVERY_S)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("api-key", help="print the API key")
    commands.add_parser("staff-user", help="make sure the local staff member exists; how to sign in")
    commands.add_parser("staff-token", help="print an ID token of the local staff member")
    seeding = commands.add_parser("seed", help="add sample students through the API")
    seeding.add_argument("--count", type=int, default=20, help="how many (default 20)")
    commands.add_parser("emails", help="show what SES accepted")
    commands.add_parser("denials", help="show what IAM refused")
    testing = commands.add_parser("alarm-test", help="set an alarm to ALARM and back, show the notifications")
    testing.add_argument("--alarm", help="the alarm's name (default: the first deployed)")
    listing = commands.add_parser("backups", help="list backups, optionally download one")
    listing.add_argument("--download", metavar="NAME", help="a backup's name or key, or 'latest'")
    commands.add_parser("backup-now", help="run the scheduled backup now")
    verifying = commands.add_parser("verify-email", help="verify an address with SES, as its owner would")
    verifying.add_argument("--email", required=True, help="the address")
    commands.add_parser("verify-identities", help="verify the configured sender and recipients")
    args = parser.parse_args(argv)
    try:
        config = load_config()
        if not config.is_local:
            raise OpsError("these operations are for the local system: DEPLOY_TARGET=local")
        commands_of: dict[str, Callable[[], object]] = {
            "api-key": lambda: print(api_key(config)),
            "staff-user": lambda: ensure_staff_user(config),
            "staff-token": lambda: print(staff_id_token(config)),
            "seed": lambda: seed(config, args.count),
            "emails": lambda: emails(config),
            "denials": lambda: denials(config),
            "alarm-test": lambda: alarm_test(config, args.alarm),
            "backups": lambda: backups(config, args.download),
            "verify-email": lambda: verify_email(config, args.email),
            "verify-identities": lambda: verify_identities(config),
            "backup-now": lambda: backup_now(config),
        }
        if args.command == "seed" and not 1 <= args.count <= 999:
            raise OpsError("--count (N) must be from 1 to 999")
        commands_of[args.command]()
    except (ConfigError, OpsError, StaffError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except EndpointConnectionError:
        print(f"error: the emulator does not answer at {config.emulator_endpoint}: run `make up`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
