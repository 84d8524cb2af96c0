"""``make staff-token``: prints an ID token of the local staff member (for curl's Authorization header).

    .venv/bin/python -m ops.staff_token

Signs in as the member ``ops.staff_user`` created, with the password in its
credentials file; ``seed`` and the tests sign in through it too.
"""

from __future__ import annotations

import argparse
import sys

from botocore.exceptions import ClientError

from config.settings import AppConfig
from lambdas.common import names
from local.deploy import emulator_client
from ops.local_system import OpsError, run_operation
from ops.staff import generate_password, local_pool
from ops.staff_user import (
    NEW_PASSWORD_REQUIRED,
    STAFF_EMAIL,
    credentials_file,
    read_credentials,
    staff_directory,
    write_credentials,
)


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
                f"staff_token: first sign-in of {email}: its temporary password is replaced by a generated one,"
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


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    return run_operation(lambda config: print(staff_id_token(config)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
