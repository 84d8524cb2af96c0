"""Tutorial section 2.5: SES e-mail identities for the sender and recipients.

A new AWS account starts in the SES sandbox: it sends only from and to
verified identities. Until the account leaves the sandbox (a request in the
SES console), every student who should receive an insert confirmation must be
verified too; docs/DEPLOYING.md ("The SES sandbox") explains this.
"""

from __future__ import annotations

from collections.abc import Sequence

from constructs import Construct

from engine.aws.ses_email_identity import SesEmailIdentity
from lambdas.common import names
from modules.shared import iam


class EmailIdentities(Construct):
    """One SES e-mail identity per distinct address, and the right to send from the sender.

    SES e-mails each address a verification link when the identity is created.
    Construct IDs are the addresses themselves, so adding or removing one
    recipient leaves the others untouched. Attributes: ``sender`` (the
    sender's identity), ``recipients`` (one per distinct recipient, the
    sender's own identity where a recipient is the sender) and ``all``.
    """

    def __init__(self, scope: Construct, id_: str, *, sender: str, recipients: Sequence[str], region: str) -> None:
        super().__init__(scope, id_)
        self._sender_address = sender
        self._recipient_addresses = list(recipients)
        self._region = region
        self.sender = SesEmailIdentity(self, sender, email=sender)
        self.recipients = [
            self.sender if address == sender else SesEmailIdentity(self, address, email=address)
            for address in dict.fromkeys(recipients)
        ]
        self.all = list({id(identity): identity for identity in [self.sender, *self.recipients]}.values())

    def grant_send_to_anyone(self, grantee: iam.Grantee) -> None:
        """Send from the sender to any identity of the account (each new student).

        While the account is in the sandbox, a student's identity is verified
        outside Terraform; the ``ses:FromAddress`` condition keeps the sender fixed.
        """
        identity = iam.StackIdentity.of(self)
        every_identity = f"arn:{identity.partition}:ses:{self._region}:{identity.account_id}:identity/*"
        grantee.add_to_policy(
            iam.statement("SendConfirmation", ["ses:SendEmail"], [every_identity], conditions=[self._from_sender])
        )
        grantee.add_environment(names.ENV_SENDER_EMAIL, self._sender_address)

    def grant_send_to_recipients(self, grantee: iam.Grantee) -> None:
        """Send from the sender to the configured recipients only."""
        arns = [identity.arn for identity in self.all]
        grantee.add_to_policy(iam.statement("SendSummary", ["ses:SendEmail"], arns, conditions=[self._from_sender]))
        grantee.add_environment(names.ENV_SENDER_EMAIL, self._sender_address)
        grantee.add_environment(names.ENV_RECIPIENT_EMAIL, ",".join(self._recipient_addresses))

    @property
    def _from_sender(self) -> iam.Condition:
        return iam.Condition("StringEquals", "ses:FromAddress", self._sender_address)
