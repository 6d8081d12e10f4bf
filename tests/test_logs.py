"""The log redaction net: contact details masked, dates and ids left readable."""

from __future__ import annotations

import io
import json
import logging

import structlog

from logs import configure_logging, mask_contact_details


def test_masks_emails_and_phone_numbers_but_not_dates() -> None:
    text = "maria.lopez@example.com called from +1 415 555 0101 about 2027-01-13"

    assert mask_contact_details(text) == "[email] called from [phone] about 2027-01-13"


def test_every_line_is_json_with_its_context_and_no_contact_details() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    try:
        structlog.get_logger().info(
            "notice_sent", request_id="req-1", detail="to maria.lopez@example.com"
        )
        logging.getLogger("temporalio.workflow").info(
            "request_status", extra={"request_id": "req-1", "status": "fulfilling"}
        )
    finally:
        logging.getLogger().handlers.clear()

    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["event"] == "notice_sent" and first["request_id"] == "req-1"
    assert first["detail"] == "to [email]"
    assert "[phone]" not in first["timestamp"]
    assert second["event"] == "request_status" and second["status"] == "fulfilling"
