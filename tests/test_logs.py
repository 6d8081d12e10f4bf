"""The log redaction net: contact details masked, dates and ids left readable."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import UTC, datetime
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import pytest
import structlog

import logs
from logs import configure_logging, mask_contact_details, request_context
from rights.models import Channel, Requester, RightsRequest
from rights.terms import Jurisdiction, RequestType
from tests.conftest import CORE_LOG, OLD_SERVER_WARNING


def deletion_request(request_id: str, full_name: str, email: str) -> RightsRequest:
    return RightsRequest(
        request_id=request_id,
        type=RequestType.DELETION,
        jurisdiction=Jurisdiction.GB,
        requester=Requester(full_name=full_name, email=email),
        channel=Channel.EMAIL,
        received_at=datetime(2026, 11, 2, tzinfo=UTC),
    )


def test_masks_emails_and_phone_numbers_but_not_dates_or_ids() -> None:
    text = (
        "maria.lopez@example.com called from +1 415 555 0101 (or 415-555-0199) about "
        "2027-01-13 on b441d5fb-cf23-4865-932d-961263384dca"
    )

    assert mask_contact_details(text) == (
        "[email] called from [phone] (or [phone]) about "
        "2027-01-13 on b441d5fb-cf23-4865-932d-961263384dca"
    )


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


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_lines_are_readable_and_masked_the_same_way() -> None:
    stream = Terminal()
    configure_logging(stream=stream)
    try:
        structlog.get_logger().info(
            "notice_sent", request_id="req-1", detail="to maria.lopez@example.com +1 415 555 0101"
        )
    finally:
        logging.getLogger().handlers.clear()

    (line,) = stream.getvalue().splitlines()
    assert not line.startswith("{")  # a person's line, not JSON
    assert "notice_sent" in line and "request_id=req-1" in line
    assert "maria.lopez" not in line and "555 0101" not in line and "[email]" in line


def test_request_context_names_the_request_and_masks_its_people() -> None:
    request = deletion_request("req-logs-01", "Siobhan Keane", "s.keane@example.ie")
    stream = io.StringIO()
    configure_logging(stream=stream)
    try:
        with request_context(request, "fulfil:service-database"):
            try:
                raise LookupError("no row for siobhan keane")
            except LookupError:
                structlog.get_logger().exception("provider_failed")
        structlog.get_logger().info("after_the_request")
    finally:
        logging.getLogger().handlers.clear()

    inside, after = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (inside["request_id"], inside["request_type"], inside["jurisdiction"]) == (
        "req-logs-01",
        "deletion",
        "GB",
    )
    assert inside["step"] == "fulfil:service-database"
    assert "siobhan" not in json.dumps(inside).lower() and "[redacted]" in inside["exception"]
    assert "request_id" not in after


def test_provider_lookups_in_urls_are_masked_and_http_client_lines_are_off() -> None:
    request = deletion_request("req-logs-02", "Ana María Ruiz", "ana.ruiz@example.com")
    stream = io.StringIO()
    configure_logging(stream=stream)
    try:
        with request_context(request, "fulfil:zendesk"):
            logging.getLogger("httpx").info(
                "HTTP Request: GET /search?query=ana.ruiz%40example.com"
            )
            structlog.get_logger().warning(
                "provider_failed",
                url="/v1/customers?email=ana.ruiz%40example.com",
                name="Ana+Mar%C3%ADa+Ruiz",
            )
    finally:
        logging.getLogger().handlers.clear()

    [line] = (json.loads(line) for line in stream.getvalue().splitlines())
    assert line["url"] == "/v1/customers?email=[redacted]"
    assert line["name"] == "[redacted]"
    # Outside any request, the pattern still knows an encoded address.
    assert mask_contact_details("?email=someone%40example.org") == "?email=[email]"


MAX_REPEAT, MIN_REPEAT, MAXREPEAT = (
    sre_constants.MAX_REPEAT,
    sre_constants.MIN_REPEAT,
    sre_constants.MAXREPEAT,
)
SUBPATTERN, BRANCH = sre_constants.SUBPATTERN, sre_constants.BRANCH


def _unbounded_repeats(pattern: re.Pattern[str]) -> list[str]:
    """Repeats with no upper bound: each makes a long line cost time quadratic in its length."""
    found: list[str] = []

    def walk(parsed: Any) -> None:
        for op, value in parsed:
            if op in (MAX_REPEAT, MIN_REPEAT):
                if value[1] == MAXREPEAT:
                    found.append(str(value[2]))
                walk(value[2])
            elif op is SUBPATTERN:
                walk(value[-1])
            elif op is BRANCH:
                for branch in value[1]:
                    walk(branch)

    walk(sre_parse.parse(pattern.pattern))
    return found


def test_masking_patterns_are_bounded_and_long_values_are_cut() -> None:
    assert _unbounded_repeats(logs._EMAIL) == []
    assert _unbounded_repeats(logs._PHONE) == []
    path = "/r/" + "%40a" * 4000  # a 16 KB path of near-addresses
    masked = mask_contact_details(path)
    assert len(masked) <= logs.LONGEST_LOGGED + 40
    assert masked.endswith(f"[cut from {len(path)} characters]")


def test_an_address_across_the_cut_is_masked_whole() -> None:
    email = "maria.lopez@example.com"
    for offset in range(-len(email), 2):
        text = "x" * (logs.LONGEST_LOGGED + offset) + f" {email} and more"
        masked = mask_contact_details(text)
        assert "maria" not in masked and "lopez" not in masked, offset


def test_only_the_test_servers_capability_warning_is_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger=CORE_LOG.name):
        CORE_LOG.warning(f"{OLD_SERVER_WARNING} to guarantee that the latest heartbeat details")
        CORE_LOG.warning("Failed to poll for task")
    assert [record.getMessage() for record in caplog.records] == ["Failed to poll for task"]
