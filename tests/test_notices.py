"""Notices: a retried send mails once, each goes to its reader, SendGrid's answers are typed.

What each notice must say is checked in `test_notice_content.py`.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.mail import Letter, OutboxMailer, SendGridMailer
from activities.notices import NoticeActivities, NoticeTemplates
from activities.records import NoticeLedger
from rights.activity_inputs import LinkPurpose, LinkSpec, NoticeFacts, Remedies, SendNoticeInput
from rights.challenges import hash_token
from rights.links import LinkTokens
from rights.models import (
    Agent,
    Channel,
    NoticeKind,
    OutcomeStatus,
    ProviderOutcome,
    ProviderTask,
    Recipient,
    Requester,
    Retention,
    RightsRequest,
    TaskReason,
)
from rights.settings import load_settings
from rights.terms import Jurisdiction, RequestType
from stores.records import create_records_schema

REQUEST = RightsRequest(
    request_id="req-notice-01",
    type=RequestType.DELETION,
    jurisdiction=Jurisdiction.US_CA,
    requester=Requester(full_name="Maria Lopez", email="maria.lopez@example.com"),
    agent=Agent(full_name="Dana Whitfield", email="dana@agents.example.org"),
    channel=Channel.WEB_FORM,
    received_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
)
LINK = LinkSpec(
    purpose=LinkPurpose.VERIFY, nonce="nonce-1", expires_at=datetime(2026, 11, 9, tzinfo=UTC)
)
FULL_FACTS = NoticeFacts(
    respond_by=date(2026, 12, 17),
    acknowledge_basis="11 CCR §7021(a)",
    respond_basis="Cal. Civ. Code §1798.130(a)(2)(A)",
    extension_reason="work at several providers is still open",
    extended_respond_by=date(2027, 1, 31),
    extension_basis="11 CCR §7021(b)",
    attempts_left=3,
    reason="the verification link expired unanswered",
    outcomes=[
        ProviderOutcome(provider="service-database", category="our app", status=OutcomeStatus.DONE)
    ],
    retained=[Retention(category="payment records", basis="kept 7 years for tax law")],
    corrected_fields=["phone"],
    tasks=[
        ProviderTask(
            provider="paper-archive",
            reason=TaskReason.MANUAL_PROVIDER,
            opened_at=datetime(2026, 11, 3, tzinfo=UTC),
            detail="delete by hand",
        )
    ],
    remedies=Remedies(
        regulator="the California Privacy Protection Agency",
        regulator_url="https://cppa.ca.gov/webapplications/complaint",
    ),
    status="fulfilling",
)


@pytest.fixture
def notices(tmp_path: Path) -> NoticeActivities:
    settings = load_settings(_env_file=None, data_dir=tmp_path)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'records.db'}")
    create_records_schema(engine)
    return NoticeActivities(
        settings,
        OutboxMailer(settings.outbox_dir),
        NoticeLedger(engine),
        LinkTokens(b"secret", settings.public_base_url),
        NoticeTemplates(),
    )


@pytest.mark.parametrize(
    ("kind", "retained"),
    [(NoticeKind.DENIED, []), (NoticeKind.COMPLETED, FULL_FACTS.retained)],
)
def test_a_refusal_scheduled_before_remedies_existed_still_gives_them(
    notices: NoticeActivities, kind: NoticeKind, retained: list[Retention]
) -> None:
    """A notice task from a 0.2.0 run (no remedies in its facts) names the regulator."""
    facts = NoticeFacts(reason="the account was closed", retained=retained)
    message = notices.compose(
        SendNoticeInput(
            request=REQUEST, kind=kind, key="k", recipient=Recipient.REQUESTER, facts=facts
        ),
        None,
    )
    assert "https://cppa.ca.gov/webapplications/complaint" in message.text


async def test_a_retried_send_mails_once(notices: NoticeActivities, tmp_path: Path) -> None:
    notice = SendNoticeInput(
        request=REQUEST,
        kind=NoticeKind.VERIFICATION,
        key="verification-1",
        recipient=Recipient.REQUESTER,
        link=LINK,
    )
    environment = ActivityEnvironment()

    first = environment.run(notices.send_notice, notice)
    retried = environment.run(notices.send_notice, notice)

    outbox = sorted((tmp_path / "outbox").iterdir())
    assert [path.name for path in outbox] == ["req-notice-01-verification-1.eml"]
    assert retried.already_sent and not first.already_sent
    assert retried.token_hash == first.token_hash is not None
    message = BytesParser(policy=policy.default).parsebytes(outbox[0].read_bytes())
    assert message["To"] == "maria.lopez@example.com"
    assert message["X-Rights-Request-Id"] == "req-notice-01"
    assert message["X-Notice-Kind"] == "verification"
    body = message.get_body(("plain",))
    assert body is not None
    token = str(body.get_content()).split("?token=")[1].split()[0]
    assert hash_token(token) == first.token_hash


async def test_operator_and_agent_notices_go_to_them(
    notices: NoticeActivities, tmp_path: Path
) -> None:
    environment = ActivityEnvironment()
    for kind, recipient in (
        (NoticeKind.OPERATOR_TASK, Recipient.OPERATOR),
        (NoticeKind.AGENT_REJECTED, Recipient.AGENT),
    ):
        environment.run(
            notices.send_notice,
            SendNoticeInput(
                request=REQUEST, kind=kind, key=kind.value, recipient=recipient, facts=FULL_FACTS
            ),
        )
    parser = BytesParser(policy=policy.default)
    to = {
        path.name: parser.parsebytes(path.read_bytes())["To"]
        for path in (tmp_path / "outbox").iterdir()
    }
    assert to == {
        "req-notice-01-operator_task.eml": "privacy-team@health.example.com",
        "req-notice-01-agent_rejected.eml": "dana@agents.example.org",
    }


class FakeSendGrid(BaseHTTPRequestHandler):
    """POST /v3/mail/send as documented: 202 + X-Message-Id, or the queued error."""

    responses: list[tuple[int, dict[str, str], dict[str, Any] | None]] = []
    received: list[tuple[dict[str, str], dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((dict(self.headers), body))
        status, headers, payload = self.responses.pop(0)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        content = json.dumps(payload).encode() if payload is not None else b""
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test asserts on what was received instead."""


@pytest.fixture
def sendgrid_server() -> Iterator[str]:
    FakeSendGrid.responses, FakeSendGrid.received = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSendGrid)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def rendered_message() -> Letter:
    return Letter(
        sender="privacy@health.example.com",
        to="maria.lopez@example.com",
        subject="We received your privacy request",
        text="text body",
        html="<p>html body</p>",
        reference="req-notice-01",
        kind="receipt",
        message_id="<m1@health.example.com>",
        date=datetime(2026, 12, 2, tzinfo=UTC),
    )


def test_sendgrid_accepted_carries_request_id_and_kind(sendgrid_server: str) -> None:
    FakeSendGrid.responses.append((202, {"X-Message-Id": "sg-123"}, None))
    mailer = SendGridMailer("SG.test-key", host=sendgrid_server, timeout_seconds=5)

    message_id = mailer.send(rendered_message(), key="req-notice-01-receipt-1")

    (headers, body) = FakeSendGrid.received[0]
    assert message_id == "sg-123"
    assert headers["Authorization"] == "Bearer SG.test-key"
    assert body["personalizations"] == [{"to": [{"email": "maria.lopez@example.com"}]}]
    assert body["custom_args"] == {"rights_request_id": "req-notice-01", "notice_kind": "receipt"}
    assert [part["type"] for part in body["content"]] == ["text/plain", "text/html"]


def test_sendgrid_throttle_waits_for_the_reset(sendgrid_server: str) -> None:
    reset = int(time.time()) + 40
    FakeSendGrid.responses.append(
        (429, {"X-RateLimit-Reset": str(reset)}, {"errors": [{"message": "too many requests"}]})
    )
    mailer = SendGridMailer("SG.test-key", host=sendgrid_server, timeout_seconds=5)

    with pytest.raises(ApplicationError) as raised:
        mailer.send(rendered_message(), key="k")

    assert raised.value.type == "MailThrottled" and not raised.value.non_retryable
    delay = raised.value.next_retry_delay
    assert delay is not None and timedelta(seconds=30) <= delay <= timedelta(seconds=41)


@pytest.mark.parametrize(
    ("status", "error_type", "permanent"),
    [(400, "MailRejected", True), (403, "MailRejected", True), (503, "MailUnavailable", False)],
)
def test_sendgrid_errors_are_typed(
    sendgrid_server: str, status: int, error_type: str, permanent: bool
) -> None:
    FakeSendGrid.responses.append(
        (status, {}, {"errors": [{"message": "bad", "field": "from", "help": None}]})
    )
    mailer = SendGridMailer("SG.test-key", host=sendgrid_server, timeout_seconds=5)

    with pytest.raises(ApplicationError) as raised:
        mailer.send(rendered_message(), key="k")

    assert raised.value.type == error_type
    assert raised.value.non_retryable is permanent
    assert "maria" not in str(raised.value)


def test_the_outbox_writes_a_letter_that_reads_back_as_sent(tmp_path: Path) -> None:
    letter = dataclasses.replace(
        rendered_message(), subject="Zoë: we received your request", text="Dear Zoë,\n"
    )

    OutboxMailer(tmp_path).send(letter, key="req-notice-01-receipt-1")

    raw = (tmp_path / "req-notice-01-receipt-1.eml").read_bytes()
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message["Subject"] == "Zoë: we received your request"
    assert "Zoë" not in raw.split(b"\n\n")[0].decode("ascii")  # the header is encoded
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and plain.get_content() == "Dear Zoë,\n"
    assert html is not None and html.get_content() == "<p>html body</p>"
    assert "Dear Zoë," in raw.decode()  # bodies as written, readable in the outbox


@pytest.mark.parametrize("field", ["subject", "to", "reference", "kind"])
def test_a_letter_with_a_line_break_in_a_header_is_refused(field: str) -> None:
    forged = {field: "Hello\r\nBcc: thief@example.net"}

    with pytest.raises(ValueError, match=f"letter {field}: a header value may not contain"):
        dataclasses.replace(rendered_message(), **forged)
