"""Structured logs: JSON events with bound ids, never contact details.

Activities log with `structlog`; workflows log through `workflow.logger`, which the standard
`logging` handler set up here also renders as JSON. A last processor masks anything shaped like
an email address or a phone number, in case one reaches an event or an exception text.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?\d[\d ()-]{7,}\d")
# A phone number has at least nine digits; an ISO date ("2026-11-29") has eight.
_PHONE_DIGITS = 9


def _mask_phone(match: re.Match[str]) -> str:
    digits = sum(character.isdigit() for character in match.group())
    return "[phone]" if digits >= _PHONE_DIGITS else match.group()


def mask_contact_details(text: str) -> str:
    return _PHONE.sub(_mask_phone, _EMAIL.sub("[email]", text))


def redact_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in event.items():
        if isinstance(value, str) and key != "timestamp":
            event[key] = mask_contact_details(value)
    return event


def configure_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            redact_event,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
