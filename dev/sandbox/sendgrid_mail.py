"""SendGrid's v3 Mail Send, as documented at
https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send: our `MAIL_BACKEND=sendgrid`
pointed at it (`SENDGRID_HOST`) delivers here instead of to people.

`POST /v3/mail/send` with the API key as a bearer token answers 202 with an empty body and an
`X-Message-Id`; a body without `personalizations`, `from`, `subject` or `content` is 400 with
`{"errors": [{"message", "field", "help"}]}`. SendGrid takes no idempotency key for a send, so a
message posted twice is delivered twice: every accepted message is kept as a delivery, in order,
which is how `make chaos` counts notices mailed twice. Like the providers' sandboxes it can be told
to fail (`reject(503)` until `clear()`), which is how it counts as a mail outage. It keeps its
deliveries in memory only: it lives in the process that reads them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from dev.sandbox.server import Call, Handler, Reply, SandboxProvider

REQUIRED = ("personalizations", "from", "subject", "content")


@dataclass(frozen=True)
class Delivery:
    """One accepted message: whose request and which notice kind (our `custom_args`), its plain
    text (where the links are), its id, and when it was accepted (Unix time)."""

    request_id: str
    kind: str
    text: str
    message_id: str
    accepted_at: float


class SendGridMailSandbox(SandboxProvider):
    name = "sendgrid_mail"

    def __init__(self, token: str, *, port: int = 0) -> None:
        self.deliveries: list[Delivery] = []
        self._by_request: dict[str, list[Delivery]] = {}
        super().__init__(token, port=port)

    def routes(self) -> list[tuple[str, str, Handler]]:
        """The endpoint our mailer calls, as documented."""
        return [("POST", r"/v3/mail/send", self._send)]

    def error(self, status: int, code: str) -> Reply:
        """The API's error body for `status` and `code`."""
        return Reply(status, {"errors": [{"message": code, "field": None, "help": None}]})

    def rate_limited(self, wait_seconds: int) -> Reply:
        """The API's 429, with the reset as a Unix time."""
        return Reply(
            429,
            {"errors": [{"message": "too many requests", "field": None, "help": None}]},
            {"X-RateLimit-Reset": str(int(time.time()) + wait_seconds)},
        )

    def delivered(self, request_id: str, kind: str | None = None) -> list[Delivery]:
        """The messages accepted for a request (of one notice kind), oldest first."""
        with self._lock:
            mine = self._by_request.get(request_id, [])
            return [d for d in mine if kind is None or d.kind == kind]

    def _send(self, call: Call) -> Reply:
        body: dict[str, Any] = call.json() or {}
        missing = [name for name in REQUIRED if not body.get(name)]
        if missing:
            return self.error(400, f"{missing[0]} is required")
        custom = body.get("custom_args") or {}
        text = next(
            (part["value"] for part in body["content"] if part.get("type") == "text/plain"), ""
        )
        message_id = f"sandbox-{self.new_id():08d}"
        delivery = Delivery(
            request_id=str(custom.get("rights_request_id", "")),
            kind=str(custom.get("notice_kind", "")),
            text=text,
            message_id=message_id,
            accepted_at=time.time(),
        )
        self.deliveries.append(delivery)
        self._by_request.setdefault(delivery.request_id, []).append(delivery)
        return Reply(202, None, {"X-Message-Id": message_id})
