"""Plain-text e-mail through SES, where a failure is an outcome to report, not an exception.

Both functions that send mail have already done their real work (saved the
student, written the backup) when they send it; a mail failure must not undo
or hide that, only be reported. Inside the invocation's time budget
(``aws.time_budget``) a mail that cannot be sent in time is reported the same
way, as not sent, so the function still answers before it is stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.common import aws
from lambdas.common.log import get_logger

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient

#: Subject and body are sent as UTF-8 so Vietnamese names arrive intact.
CHARSET: Final = "UTF-8"

#: Why a mail was not sent when SES did not answer within the invocation's budget.
TIMED_OUT: Final = "the e-mail service did not answer in time"
#: SES's sandbox (every new account): mail goes only to addresses verified with SES.
NOT_VERIFIED: Final = "the address is not verified with SES, whose sandbox sends only to verified addresses"

logger = get_logger(__name__)


@dataclass(frozen=True)
class EmailOutcome:
    sent: bool
    #: Why it was not sent, in words fit for a user: no AWS error text, which can carry ARNs.
    error: str | None = None


def send_text(client: SESClient, *, sender: str, to: Sequence[str], subject: str, body: str) -> EmailOutcome:
    """Send one message with SES ``SendEmail``; any SES or network failure becomes an unsent outcome."""
    try:
        client.send_email(
            Source=sender,
            Destination={"ToAddresses": list(to)},
            Message={
                "Subject": {"Data": subject, "Charset": CHARSET},
                "Body": {"Text": {"Data": body, "Charset": CHARSET}},
            },
        )
    except (ClientError, BotoCoreError) as error:
        detail = error.response.get("Error", {}) if isinstance(error, ClientError) else {}
        code = detail.get("Code", "")
        logger.warning("e-mail not sent", extra={"errorType": type(error).__name__, "errorCode": code})
        timed_out = isinstance(error, aws.TIMEOUT_ERRORS)
        return EmailOutcome(sent=False, error=TIMED_OUT if timed_out else _reason(code, detail.get("Message", "")))
    return EmailOutcome(sent=True)


def _reason(code: str, message: str) -> str:
    if code == "MessageRejected" and "not verified" in message:
        # The SES sandbox: only verified addresses receive mail until the account gets production access.
        return NOT_VERIFIED
    if code in {"MessageRejected", "MailFromDomainNotVerifiedException", "ConfigurationSetDoesNotExist"}:
        return "the e-mail service refused the message"
    if code in {"Throttling", "ThrottlingException", "LimitExceededException"}:
        return "the e-mail service is busy"
    return "the e-mail service is unavailable"
