"""Mail backends: the local outbox (`.eml` files) and SendGrid's v3 Mail Send API.

SendGrid: https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send — 202 on
acceptance, 4xx for a request SendGrid will never accept (non-retryable here), 429 with
`X-RateLimit-Reset` (epoch seconds) when throttled, 5xx for its own trouble (retried). The
client library is synchronous with no default timeout, so it runs in a thread with one set.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any, Protocol

import python_http_client.exceptions as http_errors
import sendgrid
from temporalio.exceptions import ApplicationError


class Mailer(Protocol):
    async def send(self, message: EmailMessage, *, key: str) -> str:
        """Deliver `message`; return the backend's message id. `key` names it uniquely."""


class OutboxMailer:
    """Writes each message as an RFC 822 file: what `make run` and the tests read."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    async def send(self, message: EmailMessage, *, key: str) -> str:
        """Deliver `message`; return the backend's message id. `key` names it uniquely."""
        self._directory.mkdir(parents=True, exist_ok=True)
        path = self._directory / f"{key}.eml"
        partial = path.with_suffix(".eml.partial")
        partial.write_bytes(bytes(message))
        os.replace(partial, path)
        return path.name


class SendGridMailer:
    def __init__(self, api_key: str, *, host: str, timeout_seconds: float) -> None:
        self._client = sendgrid.SendGridAPIClient(api_key=api_key, host=host)
        self._client.client.timeout = timeout_seconds

    async def send(self, message: EmailMessage, *, key: str) -> str:
        """Deliver `message`; return the backend's message id. `key` names it uniquely."""
        return await asyncio.to_thread(self._send, message, key)

    def _send(self, message: EmailMessage, key: str) -> str:
        body = _mail_send_body(message)
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


def _mail_send_body(message: EmailMessage) -> dict[str, Any]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    content = []
    if text is not None:
        content.append({"type": "text/plain", "value": text.get_content()})
    if html is not None:
        content.append({"type": "text/html", "value": html.get_content()})
    return {
        "personalizations": [{"to": [{"email": message["To"]}]}],
        "from": {"email": message["From"]},
        "subject": message["Subject"],
        "content": content,
        "custom_args": {
            "rights_request_id": message["X-Rights-Request-Id"],
            "notice_kind": message["X-Notice-Kind"],
        },
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
