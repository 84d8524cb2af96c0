"""SES: identities pending until verified, the sandbox's recipients, and the messages SES accepted.

``GET /_emulator/ses-messages/<region>`` answers every e-mail SES accepted,
which ``make emails`` shows.

moto takes an identity as verified the moment it is asked for, and sends to
any recipient. In AWS an identity stays ``Pending`` until someone follows the
link SES e-mails to it, and an account in the SES sandbox (every new one)
sends only from and to verified identities. So here: an identity made by
``VerifyEmailIdentity``, ``VerifyEmailAddress``, ``VerifyDomainIdentity`` or
SESv2's ``CreateEmailIdentity`` is pending (its verification attributes say
``Pending``); ``POST /_emulator/ses-verify/<region>/<identity>`` does what
following the link does (``make up`` for the configured sender and recipients,
``make verify-email`` for another address); a message whose sender or any
recipient (To, Cc, Bcc) is not verified, as an address or by its domain, is
``MessageRejected`` with AWS's text, and nothing is sent. Deleting an identity
works whatever its state (moto deleted only verified ones). The emulator's
account stays in the sandbox: it cannot be given production access.
"""

from __future__ import annotations

import email
import json
import urllib.parse
from email.utils import getaddresses, parseaddr
from typing import Any, Final

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.exceptions import MessageRejectedError
from moto.ses.models import SESBackend, ses_backends

from local.emulator.wsgi import answer

#: ``GET /_emulator/ses-messages/<region>``: every e-mail SES accepted, as JSON.
SES_MESSAGES_PATH: Final = "/_emulator/ses-messages/"
#: ``POST /_emulator/ses-verify/<region>/<identity>``: follow the link of an identity's verification e-mail.
SES_VERIFY_PATH: Final = "/_emulator/ses-verify/"

#: SESv2's verification states; SES v1 answers them as ``Pending`` and ``Success``.
PENDING, VERIFIED = "PENDING", "SUCCESS"
_V1_STATUS = {PENDING: "Pending", VERIFIED: "Success"}
_moto_create_email_identity = SESBackend.create_email_identity_v2
_moto_send_email = SESBackend.send_email
_moto_send_templated_email = SESBackend.send_templated_email
_moto_send_raw_email = SESBackend.send_raw_email


def create_email_identity(self: SESBackend, email_identity: str, *args: Any, **kwargs: Any) -> Any:
    """Every way of asking for an identity ends here: it starts pending, as in AWS."""
    existing = self.email_identities.get(email_identity)
    identity = _moto_create_email_identity(self, email_identity, *args, **kwargs)
    identity.verification_status = existing.verification_status if existing is not None else PENDING
    identity.verified_for_sending_status = identity.verification_status == VERIFIED
    return identity


def is_verified(self: SESBackend, address: str) -> bool:
    """Verified as the address itself or as its domain, and not merely pending."""
    _, plain = parseaddr(address)
    for name in (plain, plain.split("@", 1)[-1].lower()):
        identity = self.email_identities.get(name)
        if identity is not None and identity.verification_status == VERIFIED:
            return True
    return False


def _refuse_unverified(backend: SESBackend, source: str, recipients: list[str]) -> None:
    """The sandbox: a sender and every recipient must be verified, or nothing is sent."""
    failed = [address for address in [source, *recipients] if not is_verified(backend, address)]
    if failed:
        backend.rejected_messages_count += 1
        raise MessageRejectedError(
            "Email address is not verified. The following identities failed the check in region "
            f"{backend.region_name.upper()}: {', '.join(failed)}"
        )


def send_email(self: SESBackend, source: str, subject: str, body: str, destinations: dict[str, list[str]]) -> Any:
    _refuse_unverified(self, source, [address for addresses in destinations.values() for address in addresses])
    return _moto_send_email(self, source, subject, body, destinations)


def send_templated_email(self: SESBackend, source: str, template: str, template_data: str, destinations: Any) -> Any:
    _refuse_unverified(self, source, [address for addresses in destinations.values() for address in addresses])
    return _moto_send_templated_email(self, source, template, template_data, destinations)


def send_raw_email(self: SESBackend, source: str, destinations: list[str], raw_data: str) -> Any:
    message = email.message_from_string(raw_data)
    sender = source or message.get("From", "")
    recipients = list(destinations) or [address for _, address in getaddresses(message.get_all("To", []))]
    _refuse_unverified(self, sender, recipients)
    return _moto_send_raw_email(self, source, destinations, raw_data)


def get_identity_verification_attributes(
    self: SESBackend, identities: list[str] | None = None
) -> dict[str, dict[str, str]]:
    return {
        name: {"VerificationStatus": _V1_STATUS[identity.verification_status]}
        for name, identity in self.email_identities.items()
        if identities is not None and name in identities
    }


def delete_identity(self: SESBackend, identity: str) -> None:
    self.email_identities.pop(identity, None)


def verify_identity(region_and_identity: str, start_response: Any) -> list[bytes]:
    """What following the link of SES's verification e-mail does: the identity becomes verified."""
    region, _, name = region_and_identity.partition("/")
    name = urllib.parse.unquote(name)
    try:
        identity = ses_backends[DEFAULT_ACCOUNT_ID][region].email_identities[name]
    except KeyError:
        body = json.dumps({"message": f"no identity {name!r} in {region}: ask SES to verify it first"}).encode()
        return answer(start_response, "404 Not Found", "application/json", body)
    identity.verification_status = VERIFIED
    identity.verified_for_sending_status = True
    body = json.dumps({"identity": name, "VerificationStatus": _V1_STATUS[VERIFIED]}).encode()
    return answer(start_response, "200 OK", "application/json", body)


def sent_messages(region: str, start_response: Any) -> list[bytes]:
    """What SES "sent" in a region, oldest first: ``make emails`` shows it (moto delivers nothing)."""
    messages = [
        {
            "id": message.id,
            "source": message.source,
            "destinations": message.destinations,
            "subject": getattr(message, "subject", None),
            "body": getattr(message, "body", None),
            "raw": getattr(message, "raw_data", None),
        }
        for message in ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages
    ]
    return answer(start_response, "200 OK", "application/json", json.dumps({"messages": messages}).encode())


def install() -> None:
    """Patch moto (once: ``moto_server.py`` installs every correction as it starts)."""
    SESBackend.create_email_identity_v2 = create_email_identity  # type: ignore[method-assign]
    SESBackend._is_verified_address = is_verified  # type: ignore[method-assign,assignment]
    SESBackend.send_email = send_email  # type: ignore[method-assign]
    SESBackend.send_templated_email = send_templated_email  # type: ignore[method-assign]
    SESBackend.send_raw_email = send_raw_email  # type: ignore[method-assign]
    SESBackend.get_identity_verification_attributes = get_identity_verification_attributes  # type: ignore[method-assign]
    SESBackend.delete_identity = delete_identity  # type: ignore[method-assign]
