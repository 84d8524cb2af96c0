"""Staff administration (``ops/staff.py``) and the local staff member (``ops/staff_user.py``, ``ops/staff_token.py``).

Against a moto server of this module's own (``emulator`` below, on a free port:
the session's emulator is shared by every test worker, and whichever worker ends
first stops it, which would pull it from under another file's deploy): each
test gets a user pool of its own, made with boto3 as ``modules/identity/staff_directory.py``
makes it (sign-in by e-mail, the 14-character policy, a public client, the two
groups), rather than a deploy of the whole system; and a state directory of its
own, whose ``cdktf.out/outputs.json`` names that pool as ``make up``'s would and
whose TLS directory is the emulator's. The command line runs as ``make`` runs
it, ``DEPLOY_TARGET=local``. The aws target's pool lookup and invitation run
against moto in-process.
"""

from __future__ import annotations

import base64
import json
import stat
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from config.settings import APP_STACK, AppConfig, load_config
from lambdas.common import names
from ops import staff
from ops.local_system import OpsError
from ops.staff import Directory, PasswordPolicy, StaffError
from ops.staff_token import staff_id_token
from ops.staff_user import STAFF_EMAIL, credentials_file, ensure_staff_user
from tests.conftest import ROOT, EmulatorSettings, free_port, private_emulator, run, tool_env

#: `make check` leaves this module to `make test`: the staff commands, run as a user runs them, against a moto
#: server of its own.
pytestmark = pytest.mark.slow

#: The pool's policy as modules/identity/staff_directory.py sets it (written out: a change there is a change here).
POLICY = {
    "MinimumLength": 14,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": 3,
}
STRICT = PasswordPolicy(14, True, True, True, True, 3)


@dataclass
class Pool:
    """A staff pool in the emulator, and a state directory whose outputs name it."""

    idp: Any
    id: str
    client_id: str
    config: AppConfig
    env: dict[str, str]

    @property
    def directory(self) -> Directory:
        return Directory(self.idp, self.id, sends_invitations=False)

    def cli(self, *args: str, stdin: str | None = None) -> tuple[int, str]:
        """``ops/staff.py`` as ``make staff-*`` runs it: exit status and everything it printed."""
        done = run([sys.executable, "-m", "ops.staff", *args], cwd=ROOT, env=self.env, stdin=stdin)
        return done.returncode, done.stdout + done.stderr

    def user(self, email: str) -> dict[str, Any] | None:
        return self.directory.user(email)

    def groups(self, email: str) -> set[str]:
        return self.directory.groups_of(email)

    def sign_in(self, email: str, password: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.idp.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        return answer


def make_pool(idp: Any) -> tuple[str, str]:
    """A pool and client as modules/identity/staff_directory.py declares them; (pool id, client id)."""
    pool = idp.create_user_pool(
        PoolName=f"staff-test-{uuid.uuid4().hex[:8]}",
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        UsernameConfiguration={"CaseSensitive": False},
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        Policies={"PasswordPolicy": POLICY},
    )["UserPool"]
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="student-management-page",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    for group in (names.STAFF_GROUP, names.ADMIN_GROUP):
        idp.create_group(UserPoolId=pool["Id"], GroupName=group)
    return pool["Id"], client["ClientId"]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorSettings]:
    """This module's own moto server."""
    with private_emulator(tmp_path_factory.mktemp("staff-emulator")) as settings:
        yield settings


def state_dir_for(emulator: EmulatorSettings, base: Path, outputs: dict[str, Any] | None) -> dict[str, str]:
    """A state directory of its own (its outputs file, its credentials file) on the session's emulator."""
    state = base / "emulator"
    (state / "cdktf.out").mkdir(parents=True)
    (state / "tls").symlink_to(emulator.state_dir / "tls")
    if outputs is not None:
        (state / "cdktf.out" / "outputs.json").write_text(json.dumps({APP_STACK: outputs}), encoding="utf-8")
    return {
        "DEPLOY_TARGET": "local",
        "STUDENT_MGMT_EMULATOR_PORT": str(emulator.port),
        "STUDENT_MGMT_EMULATOR_STATE_DIR": str(state),
    }


@pytest.fixture
def pool(emulator: EmulatorSettings, tmp_path: Path) -> Iterator[Pool]:
    idp = emulator.client("cognito-idp")
    pool_id, client_id = make_pool(idp)
    settings = state_dir_for(
        emulator,
        tmp_path,
        {names.OUTPUT_STAFF_USER_POOL_ID: pool_id, names.OUTPUT_STAFF_USER_POOL_CLIENT_ID: client_id},
    )
    yield Pool(idp, pool_id, client_id, load_config(environ=settings), tool_env(**settings))
    idp.delete_user_pool(UserPoolId=pool_id)


def temporary_password(output: str) -> str:
    (line,) = [line for line in output.splitlines() if "temporary password" in line]
    return line.rsplit(" ", 1)[-1]


def payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


# --- passwords and addresses -----------------------------------------------------------


@pytest.mark.parametrize(
    "policy",
    [STRICT, PasswordPolicy(8, False, False, False, False, 7), PasswordPolicy(40, True, True, True, True, 1)],
    ids=["project", "lenient", "long"],
)
def test_generated_passwords_meet_the_policy_and_differ(policy: PasswordPolicy) -> None:
    passwords = {staff.generate_password(policy) for _ in range(200)}
    assert len(passwords) == 200
    for password in passwords:
        assert len(password) == max(policy.minimum_length, staff.PASSWORD_LENGTH)
        assert policy.admits(password) and STRICT.admits(password), password
        assert not set(password) & set("0O1lI"), password


@pytest.mark.parametrize(
    "password", ["Short-1a", "NOLOWERCASE-123", "nouppercase-123", "No-Digits-Here-At-All", "NoSymbols12345abc"]
)
def test_the_policy_check_refuses_what_cognito_would(password: str) -> None:
    assert not STRICT.admits(password)


def test_the_emulator_accepts_a_generated_password_as_a_permanent_one(pool: Pool) -> None:
    """moto checks a permanent password against the pool's policy: a second opinion on ``admits``."""
    added = staff.add(pool.directory, "policy@example.com", admin=False)
    password = staff.generate_password(pool.directory.policy())
    pool.idp.admin_set_user_password(UserPoolId=pool.id, Username=added.email, Password=password, Permanent=True)
    assert "AuthenticationResult" in pool.sign_in(added.email, password)
    with pytest.raises(pool.idp.exceptions.InvalidPasswordException):
        pool.idp.admin_set_user_password(UserPoolId=pool.id, Username=added.email, Password="weak", Permanent=True)


def test_the_policy_is_read_from_the_pool(pool: Pool) -> None:
    assert pool.directory.policy() == STRICT


@pytest.mark.parametrize("text", ["", "not-an-address", "a@b", "two@at@example.com", "a b@example.com", "a@example."])
def test_what_is_not_an_address_is_refused_before_any_call(text: str) -> None:
    with pytest.raises(StaffError, match="is not an e-mail address"):
        staff.email_address(text)


def test_an_address_is_kept_trimmed_and_in_lower_case() -> None:
    assert staff.email_address("  Alice.Nguyen@School.EDU ") == "alice.nguyen@school.edu"


# --- add -------------------------------------------------------------------------------------


def test_add_invites_a_staff_member_and_prints_its_temporary_password_once(pool: Pool) -> None:
    status, output = pool.cli("add", "New.Member@Example.com")
    assert status == 0, output
    assert f"added new.member@example.com to {pool.id}; groups: joined staff" in output
    password = temporary_password(output)
    assert output.count(password) == 1
    assert STRICT.admits(password)
    user = pool.user("new.member@example.com")
    assert user is not None and user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    attributes = {item["Name"]: item["Value"] for item in user["UserAttributes"]}
    assert attributes["email"] == "new.member@example.com" and attributes["email_verified"] == "true"
    assert pool.groups("new.member@example.com") == {names.STAFF_GROUP}
    # The printed password is the member's: its first sign-in is asked for a new one.
    assert pool.sign_in("new.member@example.com", password)["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    # Written nowhere: not into the state directory of `make up`'s own member.
    assert not credentials_file(pool.config).exists()


def test_add_admin_puts_the_member_in_both_groups(pool: Pool) -> None:
    status, output = pool.cli("add", "boss@example.com", "--admin")
    assert status == 0, output
    assert "groups: joined staff, admin" in output
    assert pool.groups("boss@example.com") == {names.STAFF_GROUP, names.ADMIN_GROUP}


def test_adding_a_member_again_creates_nothing_and_only_sets_its_groups(pool: Pool) -> None:
    first = staff.add(pool.directory, "member@example.com", admin=False)
    assert first.temporary_password is not None

    status, output = pool.cli("add", "MEMBER@example.com", "--admin")
    assert status == 0, output
    assert "member@example.com is already a member" in output and "(invited, not signed in yet)" in output
    assert "groups: joined admin" in output and "temporary password" not in output
    assert pool.groups("member@example.com") == {names.STAFF_GROUP, names.ADMIN_GROUP}

    status, output = pool.cli("add", "member@example.com")
    assert status == 0, output
    assert "groups: left admin" in output
    assert pool.groups("member@example.com") == {names.STAFF_GROUP}

    status, output = pool.cli("add", "member@example.com")
    assert "groups unchanged" in output
    users = pool.idp.list_users(UserPoolId=pool.id)["Users"]
    assert len(users) == 1
    # Not re-invited: the first temporary password still signs in.
    assert pool.sign_in("member@example.com", first.temporary_password)["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


def test_add_a_bad_address_creates_nothing(pool: Pool) -> None:
    status, output = pool.cli("add", "not-an-address")
    assert status == 1
    assert "error: 'not-an-address' is not an e-mail address" in output
    assert pool.idp.list_users(UserPoolId=pool.id)["Users"] == []


# --- list and remove ---------------------------------------------------------------------------


def test_list_shows_every_member_with_status_enabled_and_groups(pool: Pool) -> None:
    staff.add(pool.directory, "b-admin@example.com", admin=True)
    member = staff.add(pool.directory, "a-staff@example.com", admin=False)
    pool.idp.admin_set_user_password(
        UserPoolId=pool.id, Username=member.email, Password=staff.generate_password(STRICT), Permanent=True
    )
    pool.idp.admin_disable_user(UserPoolId=pool.id, Username=member.email)

    assert staff.members(pool.directory) == [
        staff.Member("a-staff@example.com", "CONFIRMED", False, (names.STAFF_GROUP,)),
        staff.Member("b-admin@example.com", "FORCE_CHANGE_PASSWORD", True, (names.ADMIN_GROUP, names.STAFF_GROUP)),
    ]
    status, output = pool.cli("list")
    assert status == 0, output
    lines = output.splitlines()
    assert lines[0].split() == ["e-mail", "status", "enabled", "groups"]
    assert lines[1].split() == ["a-staff@example.com", "CONFIRMED", "no", "staff"]
    assert lines[2].split() == ["b-admin@example.com", "FORCE_CHANGE_PASSWORD", "yes", "admin,", "staff"]
    assert lines[3] == f"==> 2 member(s) in user pool {pool.id}"


def test_remove_signs_the_member_out_everywhere_then_deletes_it(pool: Pool) -> None:
    added = staff.add(pool.directory, "leaving@example.com", admin=True)
    calls: list[str] = []
    pool.idp.meta.events.register("before-call.cognito-idp.*", lambda model, **_: calls.append(model.name))
    staff.remove(pool.directory, "Leaving@Example.com")
    assert calls[-2:] == ["AdminUserGlobalSignOut", "AdminDeleteUser"]
    assert pool.user(added.email) is None


def test_remove_asks_first_and_does_nothing_without_a_yes(pool: Pool) -> None:
    staff.add(pool.directory, "stays@example.com", admin=False)
    for answer in ("", "n\n", "no\n", "maybe\n"):
        status, output = pool.cli("remove", "stays@example.com", stdin=answer)
        assert status == 1, output
        assert f"Remove stays@example.com from user pool {pool.id}? [y/N]" in output
        assert "stays@example.com not removed" in output
        assert pool.user("stays@example.com") is not None
    status, output = pool.cli("remove", "stays@example.com", stdin="y\n")
    assert status == 0, output
    assert "==> removed stays@example.com" in output
    assert pool.user("stays@example.com") is None


def test_remove_with_yes_does_not_ask(pool: Pool) -> None:
    staff.add(pool.directory, "gone@example.com", admin=False)
    status, output = pool.cli("remove", "gone@example.com", "--yes")
    assert status == 0, output
    assert "[y/N]" not in output
    assert pool.user("gone@example.com") is None


def test_removing_someone_who_is_not_a_member_says_so(pool: Pool) -> None:
    status, output = pool.cli("remove", "nobody@example.com", "--yes")
    assert status == 1
    assert "error: nobody@example.com is not a member of user pool" in output
    assert "make staff-list" in output


# --- which pool --------------------------------------------------------------------------------


def test_a_pool_that_is_not_in_the_emulator_says_deploy_first(emulator: EmulatorSettings, tmp_path: Path) -> None:
    settings = state_dir_for(emulator, tmp_path, {names.OUTPUT_STAFF_USER_POOL_ID: "us-east-1_NotThere1"})
    for args in (["list"], ["add", "someone@example.com"]):
        done = run([sys.executable, "-m", "ops.staff", *args], cwd=ROOT, env=tool_env(**settings))
        assert done.returncode == 1
        assert "error: user pool us-east-1_NotThere1 does not exist: deploy first" in done.stderr


@pytest.mark.parametrize("outputs", [None, {names.OUTPUT_API_ID: "abc"}], ids=["nothing deployed", "no pool output"])
def test_without_a_deployed_pool_the_script_says_deploy_first(
    emulator: EmulatorSettings, tmp_path: Path, outputs: dict[str, Any] | None
) -> None:
    settings = state_dir_for(emulator, tmp_path, outputs)
    done = run([sys.executable, "-m", "ops.staff", "list"], cwd=ROOT, env=tool_env(**settings))
    assert done.returncode == 1
    assert "deploy first: make up" in done.stderr


def test_an_emulator_that_does_not_answer_is_named(pool: Pool) -> None:
    env = {**pool.env, "STUDENT_MGMT_EMULATOR_PORT": str(free_port())}
    done = run([sys.executable, "-m", "ops.staff", "list"], cwd=ROOT, env=env)
    assert done.returncode == 1
    assert "error: cannot reach https://127.0.0.1:" in done.stderr and "make up" in done.stderr


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto in-process as the aws target's account: fake credentials, DEPLOY_TARGET=aws, no config file's region."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("DEPLOY_TARGET", "aws")
    with mock_aws():
        yield boto3.client("cognito-idp", region_name=load_config().region)


def test_on_aws_the_pool_is_found_by_its_configured_name(aws: Any) -> None:
    config = load_config()
    with pytest.raises(StaffError, match=r"no user pool named 'student-management-staff' .*deploy first: make deploy"):
        staff.directory_for(config)
    aws.create_user_pool(PoolName="another-pool")
    wanted = aws.create_user_pool(PoolName=config.staff_user_pool_name)["UserPool"]["Id"]
    directory = staff.directory_for(config)
    assert (directory.pool_id, directory.sends_invitations) == (wanted, True)
    second = aws.create_user_pool(PoolName=config.staff_user_pool_name)["UserPool"]["Id"]
    with pytest.raises(StaffError, match=f"2 user pools .*{wanted}, {second}.*--user-pool-id"):
        staff.directory_for(config)
    assert staff.directory_for(config, second).pool_id == second


def test_on_aws_cognito_emails_the_invitation_and_the_password_is_never_shown(
    aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pool_id = aws.create_user_pool(
        PoolName=load_config().staff_user_pool_name,
        UsernameAttributes=["email"],
        Policies={"PasswordPolicy": POLICY},
    )["UserPool"]["Id"]
    for group in (names.STAFF_GROUP, names.ADMIN_GROUP):
        aws.create_group(UserPoolId=pool_id, GroupName=group)
    sent: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(dict(params))

    def directory(config: AppConfig, user_pool_id: str | None = None) -> Directory:
        aws.meta.events.register("provide-client-params.cognito-idp.AdminCreateUser", record)
        return Directory(aws, user_pool_id or staff.pool_by_name(aws, config.staff_user_pool_name, "us-east-1"), True)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(staff, "directory_for", directory)
        assert staff.main(["add", "first.admin@example.org", "--admin"]) == 0
    output = capsys.readouterr().out
    (request,) = sent
    assert request["DesiredDeliveryMediums"] == ["EMAIL"] and "MessageAction" not in request
    assert STRICT.admits(request["TemporaryPassword"])
    assert request["TemporaryPassword"] not in output
    assert "Cognito e-mailed the invitation to first.admin@example.org" in output and "valid 3 days" in output
    groups = aws.admin_list_groups_for_user(UserPoolId=pool_id, Username="first.admin@example.org")["Groups"]
    assert {group["GroupName"] for group in groups} == {names.STAFF_GROUP, names.ADMIN_GROUP}


# --- make up's staff member (ops/staff_user.py, ops/staff_token.py) --------------------------


def credentials(pool: Pool) -> dict[str, Any]:
    path = credentials_file(pool.config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return stored


def test_make_ups_member_is_created_once_as_an_admin_with_its_password_in_a_private_file(
    pool: Pool, capsys: pytest.CaptureFixture[str]
) -> None:
    ensure_staff_user(pool.config)
    output = capsys.readouterr().out
    stored = credentials(pool)
    assert stored["email"] == STAFF_EMAIL and stored["temporary"] is True
    assert f"http://localhost:{pool.config.site_port}/" in output
    assert f"{STAFF_EMAIL} (groups staff, admin), temporary password {stored['password']}" in output
    assert pool.groups(STAFF_EMAIL) == {names.STAFF_GROUP, names.ADMIN_GROUP}

    # Again before anyone signed in: the same temporary password, nothing reset.
    ensure_staff_user(pool.config)
    assert f"temporary password {stored['password']}" in capsys.readouterr().out
    assert credentials(pool) == stored
    assert pool.sign_in(STAFF_EMAIL, stored["password"])["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


def test_a_lost_credentials_file_gets_a_new_temporary_password_while_nobody_signed_in(
    pool: Pool, capsys: pytest.CaptureFixture[str]
) -> None:
    ensure_staff_user(pool.config)
    old = credentials(pool)["password"]
    credentials_file(pool.config).unlink()
    ensure_staff_user(pool.config)
    new = credentials(pool)["password"]
    assert new != old and f"temporary password {new}" in capsys.readouterr().out
    assert pool.sign_in(STAFF_EMAIL, new)["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


def test_the_helpers_first_sign_in_answers_the_new_password_challenge_and_keeps_the_password(
    pool: Pool, capsys: pytest.CaptureFixture[str]
) -> None:
    ensure_staff_user(pool.config)
    temporary = credentials(pool)["password"]

    token = staff_id_token(pool.config)
    stored = credentials(pool)
    assert stored["temporary"] is False and stored["password"] != temporary and STRICT.admits(stored["password"])
    assert "its temporary password is replaced by a generated one" in capsys.readouterr().err
    claims = payload(token)
    assert claims["token_use"] == "id" and claims["aud"] == pool.client_id
    assert claims["iss"].endswith(f"/{pool.id}")
    assert set(claims[names.GROUPS_CLAIM]) == {names.STAFF_GROUP, names.ADMIN_GROUP}
    user = pool.user(STAFF_EMAIL)
    assert user is not None and user["UserStatus"] == "CONFIRMED"

    # Later sign-ins use the stored password, and change nothing.
    assert payload(staff_id_token(pool.config))["aud"] == pool.client_id
    assert credentials(pool) == stored

    # make up again: the member is kept as it is, its password not printed.
    pool.idp.admin_remove_user_from_group(UserPoolId=pool.id, Username=STAFF_EMAIL, GroupName=names.ADMIN_GROUP)
    ensure_staff_user(pool.config)
    output = capsys.readouterr().out
    assert f"{STAFF_EMAIL} exists and has changed its password (not reset)" in output
    assert f"the one in {credentials_file(pool.config)}" in output
    assert stored["password"] not in output
    assert credentials(pool) == stored
    assert pool.groups(STAFF_EMAIL) == {names.STAFF_GROUP, names.ADMIN_GROUP}


def test_a_password_chosen_in_the_page_is_never_reset_and_the_helper_says_what_to_do(
    pool: Pool, capsys: pytest.CaptureFixture[str]
) -> None:
    ensure_staff_user(pool.config)
    chosen = staff.generate_password(STRICT)
    session = pool.sign_in(STAFF_EMAIL, credentials(pool)["password"])["Session"]
    pool.idp.respond_to_auth_challenge(
        ClientId=pool.client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=session,
        ChallengeResponses={"USERNAME": STAFF_EMAIL, "NEW_PASSWORD": chosen},
    )
    capsys.readouterr()

    ensure_staff_user(pool.config)
    assert "exists and has changed its password (not reset): chosen in the page" in capsys.readouterr().out
    assert "AuthenticationResult" in pool.sign_in(STAFF_EMAIL, chosen)
    with pytest.raises(OpsError, match=r'does not sign staff@example\.com in: .* as "password"'):
        staff_id_token(pool.config)

    path = credentials_file(pool.config)
    path.write_text(json.dumps({"email": STAFF_EMAIL, "password": chosen}), encoding="utf-8")
    assert payload(staff_id_token(pool.config))["token_use"] == "id"


def test_the_token_helper_without_make_up_says_to_run_it(pool: Pool) -> None:
    with pytest.raises(OpsError, match=r"staff-credentials.json does not exist: run `make up`"):
        staff_id_token(pool.config)
    done = run([sys.executable, "-m", "ops.staff_token"], cwd=ROOT, env=pool.env)
    assert done.returncode == 1 and "run `make up`" in done.stderr and done.stdout == ""
