"""Staff sign-in: the Cognito user pool of the people who may use the page and the API.

Student records are personal data, and the API key stops being a secret once
CloudFront adds it for the page: anyone who finds the site could list every
student. The API therefore also demands a token from this pool
(``modules/api/student_api.py``), and the page gets one by signing in.

- Staff sign in with their e-mail address, which Cognito verifies. Nobody
  signs themselves up: an administrator invites each member (``AdminCreateUser``
  e-mails a temporary password, valid ``TEMPORARY_PASSWORD_DAYS``), and the
  first sign-in must choose a new password that meets the policy below.
- The page is a public client without a secret (a browser cannot keep one) and
  calls Cognito's JSON API with ``fetch``: ``USER_PASSWORD_AUTH`` (the password
  goes to Cognito over TLS; SRP would need big-number arithmetic in the page) and
  refresh tokens, which signing out revokes. ID and access tokens are short-lived.
- Groups: ``staff`` for everyone, ``admin`` for those who may also start and read
  backups (the backup function checks the ``cognito:groups`` claim).
- TOTP multi-factor sign-in is optional for each user (``mfa``); Cognito's
  advanced security (threat protection) is not enabled: it is billed per monthly
  active user (docs/STAFF.md).
"""

from __future__ import annotations

from typing import Final

from constructs import Construct

from engine.aws.cognito_user_group import CognitoUserGroup
from engine.aws.cognito_user_pool import (
    CognitoUserPool,
    CognitoUserPoolAccountRecoverySetting,
    CognitoUserPoolAccountRecoverySettingRecoveryMechanism,
    CognitoUserPoolAdminCreateUserConfig,
    CognitoUserPoolAdminCreateUserConfigInviteMessageTemplate,
    CognitoUserPoolPasswordPolicy,
    CognitoUserPoolSoftwareTokenMfaConfiguration,
    CognitoUserPoolUsernameConfiguration,
)
from engine.aws.cognito_user_pool_client import (
    CognitoUserPoolClient,
    CognitoUserPoolClientTokenValidityUnits,
)
from lambdas.common import names

#: NIST SP 800-63B asks for length over composition; Cognito can enforce both.
PASSWORD_MIN_LENGTH: Final = 14
#: An invitation's temporary password expires after this many days; an
#: administrator then invites the member again (``admin-create-user --message-action RESEND``).
TEMPORARY_PASSWORD_DAYS: Final = 3
#: The page's sign-in, exactly: the password, then refresh tokens. No SRP (it
#: needs big-number arithmetic in the page), no custom or admin flows.
AUTH_FLOWS: Final = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
#: Minutes a sign-in's challenge session lasts: the first sign-in's new password
#: is chosen within it (Cognito allows 3-15; its default of 3 is short for
#: choosing a 14-character password).
AUTH_SESSION_MINUTES: Final = 10
#: What the invitation e-mail says; Cognito fills in the address and the temporary password.
INVITATION_SUBJECT: Final = "Your staff account for student management"
INVITATION_MESSAGE: Final = (
    "You are invited to the student management site. Sign in with {username} and the temporary"
    f" password {{####}} within {TEMPORARY_PASSWORD_DAYS} days; you will then choose your own password."
)
#: Each group and what it is for; ``names`` holds the names the function code checks.
GROUPS: Final = {
    names.STAFF_GROUP: "Staff: list and add students.",
    names.ADMIN_GROUP: "Administrators: also start backups and read their runs.",
}


class StaffDirectory(Construct):
    """The staff user pool, the page's app client and the ``staff`` and ``admin`` groups.

    ``mfa``: TOTP (an authenticator app) offered to every user, required of none
    (``OPTIONAL``); off, the pool has no second factor at all. ``deletion_protection``:
    Cognito refuses to delete the pool (and with it every staff account) until it
    is turned off. Attributes: ``user_pool``, ``client``, ``groups`` (name →
    ``CognitoUserGroup``).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        pool_name: str,
        mfa: bool,
        deletion_protection: bool,
        token_validity_minutes: int,
        refresh_token_validity_hours: int,
    ) -> None:
        super().__init__(scope, id_)
        self.user_pool = self._user_pool(pool_name=pool_name, mfa=mfa, deletion_protection=deletion_protection)
        self.client = self._page_client(
            token_validity_minutes=token_validity_minutes, refresh_token_validity_hours=refresh_token_validity_hours
        )
        self.groups = {
            name: CognitoUserGroup(self, f"group-{name}", name=name, user_pool_id=self.user_pool.id, description=text)
            for name, text in GROUPS.items()
        }

    def _user_pool(self, *, pool_name: str, mfa: bool, deletion_protection: bool) -> CognitoUserPool:
        """Members by e-mail address, invited by an administrator, with a strong password and optional TOTP."""
        return CognitoUserPool(
            self,
            "pool",
            name=pool_name,
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            # Alice@School.edu and alice@school.edu are one member.
            username_configuration=CognitoUserPoolUsernameConfiguration(case_sensitive=False),
            admin_create_user_config=CognitoUserPoolAdminCreateUserConfig(
                allow_admin_create_user_only=True,
                invite_message_template=CognitoUserPoolAdminCreateUserConfigInviteMessageTemplate(
                    email_subject=INVITATION_SUBJECT, email_message=INVITATION_MESSAGE
                ),
            ),
            password_policy=CognitoUserPoolPasswordPolicy(
                minimum_length=PASSWORD_MIN_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_numbers=True,
                require_symbols=True,
                temporary_password_validity_days=TEMPORARY_PASSWORD_DAYS,
            ),
            mfa_configuration="OPTIONAL" if mfa else "OFF",
            software_token_mfa_configuration=CognitoUserPoolSoftwareTokenMfaConfiguration(enabled=True)
            if mfa
            else None,
            # A forgotten password is reset through the verified address only
            # (no SMS: the pool has no phone numbers and sends no text messages).
            account_recovery_setting=CognitoUserPoolAccountRecoverySetting(
                recovery_mechanism=[
                    CognitoUserPoolAccountRecoverySettingRecoveryMechanism(name="verified_email", priority=1)
                ]
            ),
            deletion_protection="ACTIVE" if deletion_protection else "INACTIVE",
        )

    def _page_client(self, *, token_validity_minutes: int, refresh_token_validity_hours: int) -> CognitoUserPoolClient:
        """The page's public client: password sign-in and refresh tokens, short-lived tokens, revocation on sign-out."""
        return CognitoUserPoolClient(
            self,
            "page-client",
            name="student-management-page",
            user_pool_id=self.user_pool.id,
            # A browser cannot keep a secret: the page is a public client.
            generate_secret=False,
            explicit_auth_flows=list(AUTH_FLOWS),
            # "User does not exist" and "wrong password" read alike: the sign-in
            # form does not tell a stranger which addresses are staff.
            prevent_user_existence_errors="ENABLED",
            # Signing out revokes the refresh token, and every token issued from it.
            enable_token_revocation=True,
            id_token_validity=token_validity_minutes,
            access_token_validity=token_validity_minutes,
            refresh_token_validity=refresh_token_validity_hours,
            token_validity_units=[
                # The units of the three lifetimes (bandit reads "*_token=" as a password).
                CognitoUserPoolClientTokenValidityUnits(
                    id_token="minutes",  # noqa: S106
                    access_token="minutes",  # noqa: S106
                    refresh_token="hours",  # noqa: S106
                )
            ],
            auth_session_validity=AUTH_SESSION_MINUTES,
            supported_identity_providers=["COGNITO"],
        )
