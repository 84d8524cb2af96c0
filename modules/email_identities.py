"""Tutorial section 2.5: SES e-mail identities for the sender and recipients.

A new AWS account starts in the SES sandbox: it sends only from and to
verified identities. Until the account leaves the sandbox (a request in the
SES console), every student who should receive an insert confirmation must be
verified too; the README explains this.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.ses_email_identity import SesEmailIdentity
from constructs import Construct


class EmailIdentities(Construct):
    """One SES e-mail identity per distinct address.

    SES e-mails each address a verification link when the identity is created.
    Construct IDs are the addresses themselves, so adding or removing one
    recipient leaves the others untouched. Attributes: ``sender`` (the
    sender's identity), ``recipients`` (one per distinct recipient, the
    sender's own identity where a recipient is the sender) and ``all``.
    """

    def __init__(self, scope: Construct, id_: str, *, sender: str, recipients: Sequence[str]) -> None:
        super().__init__(scope, id_)
        self.sender = SesEmailIdentity(self, sender, email=sender)
        self.recipients = [
            self.sender if address == sender else SesEmailIdentity(self, address, email=address)
            for address in dict.fromkeys(recipients)
        ]
        self.all = list({id(identity): identity for identity in [self.sender, *self.recipients]}.values())
