"""Staff administration: invite, list and remove the members of the staff user pool.

    staff.py add EMAIL [--admin]      invite a member (groups: staff; admin too with --admin)
    staff.py list                     every member: status, enabled, groups
    staff.py remove EMAIL [--yes]     sign the member out everywhere, then delete it (asks first)

``make staff-add`` / ``staff-list`` / ``staff-remove`` run it, on the environment
``ENV`` chooses (without ``ENV``, the local one):

- an AWS environment (``ENV=production``, ``ENV=staging``, ...): the account of
  your AWS credentials, in the configured ``region``.
  The pool is found by its configured name (``staff_user_pool_name``) with
  ``ListUserPools``, not read from Terraform: inviting staff needs only
  credentials and the configuration, never the state bucket, a synth or a
  ``terraform init``. Two pools of that name (Cognito allows it) are an error
  that names both; ``--user-pool-id`` then says which.
- ``local``: the emulator of ``make up``, the pool named by its deployed outputs
  (``<emulator_state_dir>/cdktf.out/outputs.json``).

Inviting. The member's username is the e-mail address (the pool signs in by
e-mail; it is stored in lower case: Cognito's pool matches addresses
case-insensitively, the emulator does not), marked verified: the invitation
reaches it, which is proof enough. The temporary password is generated here to
the pool's own policy (``DescribeUserPool``) and is valid for the pool's
``TemporaryPasswordValidityDays``; the first sign-in must replace it. In AWS,
Cognito e-mails it in the pool's invitation and this script never shows it.
Locally nothing is sent (``MessageAction`` ``SUPPRESS``): it is printed once,
here, and written nowhere else. Inviting someone who is already a member
creates nothing: it says so and makes the member's groups what the command
asks (``staff``, plus ``admin`` exactly when ``--admin`` is given, so leaving
``--admin`` out of a re-invitation takes an administrator's rights away).

Removing. ``AdminUserGlobalSignOut`` first (the member's refresh tokens are
revoked: no new tokens), then ``AdminDeleteUser``. ID tokens already issued
stay valid until they expire (``staff_token_validity_minutes``): API Gateway's
authorizer checks a token's signature and expiry, not whether it was revoked.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import string
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from config.settings import APP_STACK, AppConfig, ConfigError, load_config
from lambdas.common import names
from local.deploy import emulator_client

#: Every member is in this group; administrators are in ``ADMIN_GROUP`` too.
GROUPS: Final = (names.STAFF_GROUP, names.ADMIN_GROUP)
#: A generated password's length when the pool asks for less: about 120 bits from the alphabet below.
PASSWORD_LENGTH: Final = 20
#: Characters a generated password is drawn from, by class. Letters and digits
#: a reader could take for one another (0/O, 1/l/I) are left out: a local
#: temporary password is read off a terminal and typed. The symbols are among
#: Cognito's, and none needs quoting or escaping in JSON, a URL form or a shell word.
UPPER: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ"
LOWER: Final = "abcdefghijkmnopqrstuvwxyz"
DIGITS: Final = "23456789"
SYMBOLS: Final = "-_.+=@%"
#: What Cognito counts as a symbol in a password.
COGNITO_SYMBOLS: Final = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- "
#: An address as the pool can use it: one @, no spaces, a dotted domain. Cognito
#: checks more; this catches a typo before any call.
EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


class StaffError(RuntimeError):
    """The command cannot be done; the message says why and what to run."""


@dataclass(frozen=True)
class PasswordPolicy:
    """What the pool demands of a password (``Policies.PasswordPolicy`` of ``DescribeUserPool``)."""

    minimum_length: int
    require_uppercase: bool
    require_lowercase: bool
    require_numbers: bool
    require_symbols: bool
    #: Days a temporary password is accepted (Cognito's default: 7).
    temporary_days: int

    @classmethod
    def of(cls, pool: dict[str, Any]) -> PasswordPolicy:
        policy = pool.get("Policies", {}).get("PasswordPolicy", {})
        return cls(
            minimum_length=int(policy.get("MinimumLength", 8)),
            require_uppercase=bool(policy.get("RequireUppercase", False)),
            require_lowercase=bool(policy.get("RequireLowercase", False)),
            require_numbers=bool(policy.get("RequireNumbers", False)),
            require_symbols=bool(policy.get("RequireSymbols", False)),
            temporary_days=int(policy.get("TemporaryPasswordValidityDays", 7)),
        )

    def admits(self, password: str) -> bool:
        """Whether Cognito would accept ``password`` under this policy."""
        required = (
            (self.require_uppercase, string.ascii_uppercase),
            (self.require_lowercase, string.ascii_lowercase),
            (self.require_numbers, string.digits),
            (self.require_symbols, COGNITO_SYMBOLS),
        )
        return len(password) >= self.minimum_length and all(
            any(char in chars for char in password) for needed, chars in required if needed
        )


def generate_password(policy: PasswordPolicy) -> str:
    """A random password (``secrets``) the policy admits: one of each class, whatever it requires, the rest mixed."""
    classes = (UPPER, LOWER, DIGITS, SYMBOLS)
    length = max(policy.minimum_length, PASSWORD_LENGTH)
    chosen = [secrets.choice(chars) for chars in classes]
    chosen += [secrets.choice("".join(classes)) for _ in range(length - len(chosen))]
    secrets.SystemRandom().shuffle(chosen)
    return "".join(chosen)


def email_address(text: str) -> str:
    """The address as the pool keeps it (trimmed, lower case); StaffError when it is not one."""
    address = text.strip().lower()
    if not EMAIL.fullmatch(address):
        raise StaffError(f"{text!r} is not an e-mail address: give the member's address, as in EMAIL=name@example.org")
    return address


@dataclass(frozen=True)
class Member:
    """One user of the pool, as ``list`` shows it."""

    email: str
    #: ``FORCE_CHANGE_PASSWORD`` (invited, not signed in yet), ``CONFIRMED``, ``RESET_REQUIRED``, ...
    status: str
    enabled: bool
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Added:
    """What ``add`` did: a new member (with its temporary password when it is shown), or an existing one's groups."""

    email: str
    created: bool
    #: The temporary password when nobody e-mails it (locally); None in AWS and for an existing member.
    temporary_password: str | None
    joined: tuple[str, ...]
    left: tuple[str, ...]
    #: The member's status (for an existing member: is it still waiting for its first sign-in?).
    status: str
    policy: PasswordPolicy


@dataclass(frozen=True)
class Directory:
    """The staff pool of one target: its Cognito client and the pool's id."""

    idp: Any
    pool_id: str
    #: Whether Cognito e-mails invitations (AWS); the emulator sends nothing, so the password is shown.
    sends_invitations: bool

    def call(self, operation: Callable[..., Any], **arguments: Any) -> Any:
        """``operation(UserPoolId=..., **arguments)``, a missing pool turned into "deploy first"."""
        try:
            return operation(UserPoolId=self.pool_id, **arguments)
        except ClientError as error:
            raise self._missing_pool(error) from None

    def paged(self, operation: str, key: str, **arguments: Any) -> Iterator[dict[str, Any]]:
        """Every item (``key``) of every page of a listing of the pool, a missing pool turned into "deploy first"."""
        try:
            for page in self.idp.get_paginator(operation).paginate(UserPoolId=self.pool_id, **arguments):
                yield from page.get(key, [])
        except ClientError as error:
            raise self._missing_pool(error) from None

    def _missing_pool(self, error: ClientError) -> Exception:
        if _code(error) == "ResourceNotFoundException" and "pool" in _message(error).lower():
            return StaffError(f"user pool {self.pool_id} does not exist: deploy first")
        return error

    def policy(self) -> PasswordPolicy:
        return PasswordPolicy.of(self.call(self.idp.describe_user_pool)["UserPool"])

    def user(self, email: str) -> dict[str, Any] | None:
        """``AdminGetUser`` of the address, or None when the pool has no such user."""
        try:
            found: dict[str, Any] = self.call(self.idp.admin_get_user, Username=email)
        except ClientError as error:
            if _code(error) == "UserNotFoundException":
                return None
            raise
        return found

    def groups_of(self, email: str) -> set[str]:
        return {group["GroupName"] for group in self.paged("admin_list_groups_for_user", "Groups", Username=email)}

    def set_groups(self, email: str, wanted: set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Makes the member's groups among ``GROUPS`` exactly ``wanted``; the groups it joined and left."""
        current = self.groups_of(email) & set(GROUPS)
        joined = tuple(group for group in GROUPS if group in wanted - current)
        left = tuple(group for group in GROUPS if group in current - wanted)
        for group in joined:
            self._group_call(self.idp.admin_add_user_to_group, email, group)
        for group in left:
            self._group_call(self.idp.admin_remove_user_from_group, email, group)
        return joined, left

    def _group_call(self, operation: Callable[..., Any], email: str, group: str) -> None:
        try:
            self.call(operation, Username=email, GroupName=group)
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                raise StaffError(
                    f"the pool {self.pool_id} has no group {group!r}: deploy the current version"
                ) from None
            raise


def add(directory: Directory, address: str, *, admin: bool) -> Added:
    """Invites ``address`` (or, when it is a member already, only sets its groups)."""
    email = email_address(address)
    policy = directory.policy()
    wanted = {names.STAFF_GROUP} | ({names.ADMIN_GROUP} if admin else set())
    existing = directory.user(email)
    if existing is not None:
        joined, left = directory.set_groups(email, wanted)
        return Added(email, False, None, joined, left, str(existing.get("UserStatus", "")), policy)
    password = generate_password(policy)
    arguments: dict[str, Any] = {
        "Username": email,
        "UserAttributes": [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        "TemporaryPassword": password,
    }
    if directory.sends_invitations:
        arguments["DesiredDeliveryMediums"] = ["EMAIL"]
    else:
        arguments["MessageAction"] = "SUPPRESS"
    try:
        created = directory.call(directory.idp.admin_create_user, **arguments)["User"]
    except ClientError as error:
        if _code(error) == "InvalidParameterException":
            raise StaffError(f"Cognito refused {email}: {_message(error)}") from None
        raise
    joined, left = directory.set_groups(email, wanted)
    shown = None if directory.sends_invitations else password
    return Added(email, True, shown, joined, left, str(created.get("UserStatus", "")), policy)


def members(directory: Directory) -> list[Member]:
    """Every user of the pool with its status and groups, by address."""
    in_group: dict[str, set[str]] = {}
    for group in directory.paged("list_groups", "Groups"):
        name = group["GroupName"]
        for user in directory.paged("list_users_in_group", "Users", GroupName=name):
            in_group.setdefault(user["Username"], set()).add(name)
    found = []
    for user in directory.paged("list_users", "Users"):
        attributes = {item["Name"]: item["Value"] for item in user.get("Attributes", [])}
        found.append(
            Member(
                email=attributes.get("email", user["Username"]),
                status=str(user.get("UserStatus", "")),
                enabled=bool(user.get("Enabled", True)),
                groups=tuple(sorted(in_group.get(user["Username"], ()))),
            )
        )
    return sorted(found, key=lambda member: member.email)


def remove(directory: Directory, address: str) -> None:
    """Signs the member out everywhere (its refresh tokens revoked), then deletes it."""
    email = email_address(address)
    if directory.user(email) is None:
        raise StaffError(f"{email} is not a member of user pool {directory.pool_id}: `make staff-list` lists them")
    directory.call(directory.idp.admin_user_global_sign_out, Username=email)
    directory.call(directory.idp.admin_delete_user, Username=email)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")) or _code(error)


# --- which pool --------------------------------------------------------------------


def deployed_outputs(config: AppConfig) -> dict[str, Any]:
    """The application stack's outputs of ``make up``; StaffError ("deploy first") when there are none."""
    path = config.emulator_outputs_file
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))[APP_STACK])
    except (FileNotFoundError, KeyError):
        raise StaffError(
            f"nothing is deployed locally ({path} has no {APP_STACK} outputs): deploy first: make up"
        ) from None


def local_pool(config: AppConfig, output: str = names.OUTPUT_STAFF_USER_POOL_ID) -> str:
    """The id (or, with ``output``, another value) of the staff pool ``make up`` deployed."""
    value = deployed_outputs(config).get(output)
    if not value:
        raise StaffError(
            f"the local deployment has no staff user pool (no output {output} in {config.emulator_outputs_file}):"
            " deploy first: make up"
        )
    return str(value)


def pool_by_name(idp: Any, name: str, region: str) -> str:
    """The id of the one pool called ``name``; StaffError when there is none ("deploy first") or more than one."""
    pages = idp.get_paginator("list_user_pools").paginate(MaxResults=60)
    found = [pool["Id"] for page in pages for pool in page.get("UserPools", []) if pool["Name"] == name]
    if not found:
        raise StaffError(
            f"no user pool named {name!r} in {region} (staff_user_pool_name): deploy first: make deploy ENV=<name>"
        )
    if len(found) > 1:
        raise StaffError(
            f"{len(found)} user pools are named {name!r} in {region} ({', '.join(found)}):"
            " say which with --user-pool-id (the deployed one is the output staff_user_pool_id)"
        )
    return str(found[0])


def directory_for(config: AppConfig, user_pool_id: str | None = None) -> Directory:
    """The staff directory of the environment: the emulator's (local), or your account's in the configured region."""
    if config.is_local:
        idp = emulator_client("cognito-idp", config)
        return Directory(idp, user_pool_id or local_pool(config), sends_invitations=False)
    idp = boto3.client("cognito-idp", region_name=config.region)
    pool_id = user_pool_id or pool_by_name(idp, config.staff_user_pool_name, config.region)
    return Directory(idp, pool_id, sends_invitations=True)


# --- the command line --------------------------------------------------------------


def report_added(added: Added, directory: Directory, config: AppConfig) -> None:
    changes = [f"joined {', '.join(added.joined)}"] if added.joined else []
    changes += [f"left {', '.join(added.left)}"] if added.left else []
    groups = f"groups: {'; '.join(changes)}" if changes else "groups unchanged"
    if not added.created:
        waiting = " (invited, not signed in yet)" if added.status == "FORCE_CHANGE_PASSWORD" else ""
        print(f"==> {added.email} is already a member of {directory.pool_id}{waiting}: not invited again; {groups}")
        return
    print(f"==> added {added.email} to {directory.pool_id}; {groups}")
    if added.temporary_password is None:
        print(
            f"    Cognito e-mailed the invitation to {added.email}: a temporary password, valid"
            f" {added.policy.temporary_days} days; the first sign-in at the site asks for a new one."
        )
    else:
        print(
            f"    temporary password (shown only now; nothing was e-mailed): {added.temporary_password}\n"
            f"    the first sign-in at {config.fixed_site_origin or 'the site'}/ asks for a new one"
            f" (within {added.policy.temporary_days} days)."
        )


def report_members(found: list[Member], directory: Directory) -> None:
    width = max([len(member.email) for member in found] + [len("e-mail")])
    print(f"{'e-mail':<{width}}  {'status':<21}  {'enabled':<7}  groups")
    for member in found:
        enabled = "yes" if member.enabled else "no"
        print(f"{member.email:<{width}}  {member.status:<21}  {enabled:<7}  {', '.join(member.groups) or '-'}")
    print(f"==> {len(found)} member(s) in user pool {directory.pool_id}")


def confirmed(question: str) -> bool:
    """Asks a y/N question on the terminal; anything but y/yes, or no input at all, is no."""
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        print()
        return False
    return answer.strip().lower() in ("y", "yes")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user-pool-id", help="the pool, when its name does not say (aws: two pools of one name)")
    commands = parser.add_subparsers(dest="command", required=True)
    adding = commands.add_parser("add", help="invite a member (or set an existing member's groups)")
    adding.add_argument("email")
    adding.add_argument("--admin", action="store_true", help="also in the admin group (backups)")
    commands.add_parser("list", help="every member: status, enabled, groups")
    removing = commands.add_parser("remove", help="sign a member out everywhere and delete it")
    removing.add_argument("email")
    removing.add_argument("--yes", action="store_true", help="do not ask")
    args = parser.parse_args(argv)
    try:
        config = load_config()
        directory = directory_for(config, args.user_pool_id)
        if args.command == "add":
            report_added(add(directory, args.email, admin=args.admin), directory, config)
        elif args.command == "list":
            report_members(members(directory), directory)
        else:
            email = email_address(args.email)
            if not args.yes and not confirmed(f"Remove {email} from user pool {directory.pool_id}?"):
                print(f"staff: {email} not removed", file=sys.stderr)
                return 1
            remove(directory, email)
            print(f"==> removed {email} from {directory.pool_id} (signed out everywhere first)")
    except (ConfigError, StaffError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except NoCredentialsError:
        print("error: no AWS credentials: configure them (aws configure, AWS_PROFILE, ...) first", file=sys.stderr)
        return 1
    except EndpointConnectionError as error:
        print(
            f"error: cannot reach {error.kwargs.get('endpoint_url')}: is the target running? (locally: make up)",
            file=sys.stderr,
        )
        return 1
    except ClientError as error:
        print(f"error: {error.operation_name}: {_code(error)}: {_message(error)}", file=sys.stderr)
        return 1
    except BotoCoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
