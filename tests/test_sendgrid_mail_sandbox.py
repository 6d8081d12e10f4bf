"""The SendGrid Mail Send sandbox `make chaos` mails through, against our real SendGrid mailer: what
one counts as a delivery is what the other sent, and its outage is the mailer's retryable one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from temporalio.exceptions import ApplicationError

from activities.mail import Letter, SendGridMailer
from dev.sandbox.sendgrid_mail import SendGridMailSandbox

KEY = "SG.sandbox-test-key"


@pytest.fixture
def sandbox() -> Iterator[SendGridMailSandbox]:
    with SendGridMailSandbox(KEY) as running:
        yield running


def notice(kind: str) -> Letter:
    return Letter(
        sender="privacy@health.example.com",
        to="maria.lopez@example.com",
        subject="Please confirm it is you",
        text="Open http://127.0.0.1:8000/r/req-sandbox-01/verify?token=abc\n",
        html="<p>html body</p>",
        reference="req-sandbox-01",
        kind=kind,
        message_id="<m1@health.example.com>",
        date=datetime(2026, 12, 2, tzinfo=UTC),
    )


def test_each_send_is_a_delivery_of_its_request_and_kind(
    sandbox: SendGridMailSandbox,
) -> None:
    mailer = SendGridMailer(KEY, host=sandbox.url, timeout_seconds=5)

    first = mailer.send(notice("verification"), key="req-sandbox-01-verification-1")
    again = mailer.send(notice("verification"), key="req-sandbox-01-verification-1")

    delivered = sandbox.delivered("req-sandbox-01", "verification")
    assert [d.message_id for d in delivered] == [first, again]
    assert "verify?token=abc" in delivered[0].text
    assert sandbox.delivered("req-sandbox-01", "receipt") == []


def test_an_outage_is_retryable_and_delivers_nothing(sandbox: SendGridMailSandbox) -> None:
    mailer = SendGridMailer(KEY, host=sandbox.url, timeout_seconds=5)
    sandbox.reject(503)

    with pytest.raises(ApplicationError) as raised:
        mailer.send(notice("receipt"), key="req-sandbox-01-receipt-1")
    sandbox.clear()
    mailer.send(notice("receipt"), key="req-sandbox-01-receipt-1")

    assert raised.value.type == "MailUnavailable" and not raised.value.non_retryable
    assert len(sandbox.delivered("req-sandbox-01")) == 1
