"""Mail backends: the local outbox (`.eml` files) and SendGrid's v3 Mail Send API.

SendGrid: https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send — 202 on
acceptance, 4xx for a request SendGrid will never accept (non-retryable here), 429 with
`X-RateLimit-Reset` (epoch seconds) when throttled, 5xx for its own trouble (retried). The
client library is synchronous with no default timeout: mailers are called from activity
threads, never the event loop, and SendGrid's gets a timeout.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.charset import Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol

import python_http_client.exceptions as http_errors
import sendgrid
from temporalio.exceptions import ApplicationError

# Bodies go as written (8bit UTF-8): readable in the outbox, and what SendGrid is given anyway.
# The email package documents None as "no body encoding"; typeshed types the field int.
UTF8_AS_WRITTEN = Charset("utf-8")
UTF8_AS_WRITTEN.body_encoding = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Letter:
    """A notice as it is mailed: its fields, which SendGrid takes as they are, and which the
    outbox writes as a MIME message. Its headers name the request (or the sweep) and the kind,
    never the person."""

    sender: str
    to: str
    subject: str
    text: str
    html: str
    reference: str
    kind: str
    message_id: str
    date: datetime

    def __post_init__(self) -> None:
        # The outbox writes headers as given: a line break in one would forge headers of its
        # own, so it is refused here, naming the field and never the value.
        for field in ("sender", "to", "subject", "reference", "kind", "message_id"):
            value = getattr(self, field)
            if "\n" in value or "\r" in value:
                raise ValueError(f"letter {field}: a header value may not contain a line break")

    def as_bytes(self) -> bytes:
        """The RFC 5322 message: text and HTML alternatives, the subject encoded if it must be.

        Built with the email package's compat32 classes: the modern policy parsed every header
        it was given, and building and writing a notice took a fifth of the worker's CPU."""
        message = MIMEMultipart("alternative")
        message["From"] = self.sender
        message["To"] = self.to
        message["Subject"] = (
            self.subject if self.subject.isascii() else Header(self.subject, "utf-8").encode()
        )
        message["Date"] = format_datetime(self.date)
        message["Message-ID"] = self.message_id
        message["X-Rights-Request-Id"] = self.reference
        message["X-Notice-Kind"] = self.kind
        for subtype, body in (("plain", self.text), ("html", self.html)):
            part = MIMENonMultipart("text", subtype)
            part.set_payload(body, UTF8_AS_WRITTEN)
            message.attach(part)
        return message.as_bytes()


class Mailer(Protocol):
    def send(self, letter: Letter, *, key: str) -> str:
        """Deliver `letter`; return the backend's message id. `key` names it uniquely."""


class OutboxMailer:
    """Writes each message as an RFC 822 file: what `make run` and the tests read."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def send(self, letter: Letter, *, key: str) -> str:
        """Deliver `letter`; return the backend's message id. `key` names it uniquely."""
        self._directory.mkdir(parents=True, exist_ok=True)
        path = self._directory / f"{key}.eml"
        partial = path.with_suffix(".eml.partial")
        partial.write_bytes(letter.as_bytes())
        os.replace(partial, path)
        return path.name


class SendGridMailer:
    def __init__(self, api_key: str, *, host: str, timeout_seconds: float) -> None:
        self._client = sendgrid.SendGridAPIClient(api_key=api_key, host=host)
        self._client.client.timeout = timeout_seconds

    def send(self, letter: Letter, *, key: str) -> str:
        """Deliver `letter`; return the backend's message id. `key` names it uniquely."""
        body = _mail_send_body(letter)
        try:
            response = self._client.send(body)
        except http_errors.TooManyRequestsError as error:
            raise ApplicationError(
                "SendGrid rate limit reached",
                type="MailThrottled",
                next_retry_delay=_reset_delay(error.headers),
            ) from None
        except http_errors.HTTPError as error:
            status = int(error.status_code)
            if 400 <= status < 500:
                raise ApplicationError(
                    f"SendGrid refused the message with HTTP {status}",
                    type="MailRejected",
                    non_retryable=True,
                ) from None
            raise ApplicationError(
                f"SendGrid failed with HTTP {status}", type="MailUnavailable"
            ) from None
        headers = response.headers
        return str(headers.get("X-Message-Id", "") if headers else "") or key


def _mail_send_body(letter: Letter) -> dict[str, Any]:
    return {
        "personalizations": [{"to": [{"email": letter.to}]}],
        "from": {"email": letter.sender},
        "subject": letter.subject,
        "content": [
            {"type": "text/plain", "value": letter.text},
            {"type": "text/html", "value": letter.html},
        ],
        "custom_args": {"rights_request_id": letter.reference, "notice_kind": letter.kind},
    }


def _reset_delay(headers: Any) -> timedelta:
    """SendGrid's `X-RateLimit-Reset` is the epoch second when the limit resets."""
    try:
        reset = float(headers.get("X-RateLimit-Reset"))
    except (AttributeError, TypeError, ValueError):
        return timedelta(seconds=30)
    return timedelta(seconds=min(max(reset - time.time(), 1.0), 3600.0))


def new_message_id(domain: str) -> str:
    """A Message-ID header value in the sender's own domain."""
    return make_msgid(domain=domain)
