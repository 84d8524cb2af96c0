"""``make up``'s staff member: makes sure the local staff member exists, and prints how to sign in.

    .venv/bin/python -m ops.staff_user

Every API method wants a signed-in staff member's ID token besides the key, so
`make up` creates one member, ``STAFF_EMAIL``, in the ``staff`` and ``admin``
groups (this module), and keeps its address and password in
``<emulator_state_dir>/staff-credentials.json`` (mode 0600; the emulator's
pool is a throwaway one, and this file is how tests and the make helpers sign
in). The operations that call the API (``seed``, ``staff_token``) sign in as
that member with ``USER_PASSWORD_AUTH`` against the emulator's Cognito. While
the member still has its temporary password, Cognito answers the first sign-in
with the ``NEW_PASSWORD_REQUIRED`` challenge, as the page does; the helper
then chooses a generated password, completes the challenge, and writes the new
password into the file (``"temporary": false``), so the password `make up`
printed no longer signs in: the file's does. A password chosen in the page is
not known here: write it into the file's ``"password"``.

Apart from ``ops.staff`` (the staff administration of either target): this
is the local system's one member and its credentials file, which
``ops.staff_token`` reads too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Final

from botocore.exceptions import ClientError

from config.settings import AppConfig
from lambdas.common import names
from local.deploy import emulator_client
from ops.local_system import run_operation
from ops.staff import Directory, add, generate_password, local_pool

#: The local staff member `make up` creates (``staff`` and ``admin``: the whole page works for it).
STAFF_EMAIL: Final = "staff@example.com"
#: Its address and password, in the emulator's state directory.
STAFF_CREDENTIALS: Final = "staff-credentials.json"
#: Cognito's answer to a first sign-in with a temporary password.
NEW_PASSWORD_REQUIRED: Final = "NEW_PASSWORD_REQUIRED"  # noqa: S105 - a challenge name, not a password


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


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    return run_operation(ensure_staff_user)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
