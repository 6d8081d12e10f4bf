"""Structured logs: JSON events with bound ids, never contact details.

Activities log with `structlog`; workflows log through `workflow.logger`, which the standard
`logging` handler set up here also renders as JSON. A last processor masks anything shaped like
an email address or a phone number, in case one reaches an event or an exception text.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

import structlog

from rights.correspondence import Correspondence
from rights.models import RightsRequest

# Also URL-encoded ("%40"): provider lookups put the address in a query string. Every repeat is
# bounded (RFC 5321's 64-character local part, 253-character domain), so the work per starting
# position is bounded and a long line costs time linear in its length, never quadratic.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}(?:@|%40)[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}")
# Delimited, so a run of digits inside an id (a UUID's "23-4865-932") is never taken for one.
_PHONE = re.compile(r"(?<![\w-])\+?\d[\d ()-]{7,24}\d(?![\w-])")
# A phone number has at least nine digits; an ISO date ("2026-11-29") has eight.
_PHONE_DIGITS = 9
# A log value longer than this is cut: a 15 KB request path costs what a short one does. The
# value is masked over a margin past the cut (longer than any address or name it could hold)
# before it is cut, so a cut never leaves half an address unmasked at its end.
LONGEST_LOGGED = 2000
_MARGIN = 400


def _mask_phone(match: re.Match[str]) -> str:
    digits = sum(character.isdigit() for character in match.group())
    return "[phone]" if digits >= _PHONE_DIGITS else match.group()


# The personal details of the request being handled, masked wherever they appear (a name has no
# shape a pattern could catch). Set per activity by `request_context`.
_SENSITIVE: ContextVar[tuple[str, ...]] = ContextVar("sensitive_values", default=())


def mask_contact_details(text: str) -> str:
    """`text` with emails, phone numbers and the request's people masked, cut to length."""
    length = len(text)
    masked = text[: LONGEST_LOGGED + _MARGIN]
    for value in _SENSITIVE.get():
        masked = re.sub(re.escape(value), "[redacted]", masked, flags=re.IGNORECASE)
    masked = _PHONE.sub(_mask_phone, _EMAIL.sub("[email]", masked))
    if length > LONGEST_LOGGED:
        return f"{masked[:LONGEST_LOGGED]}…[cut from {length} characters]"
    return masked


def redact_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask every string value of the event."""
    for key, value in event.items():
        if isinstance(value, str) and key != "timestamp":
            event[key] = mask_contact_details(value)
    return event


@contextmanager
def request_context(request: RightsRequest | Correspondence, step: str) -> Iterator[None]:
    """Every line logged inside names the request, its type, law and step, and none of its
    requester's or agent's details, even in an exception's text."""
    people = [request.requester, *([request.agent] if request.agent else [])]
    values = [
        value for person in people for value in (person.email, person.full_name, person.phone)
    ]
    present = [value for value in values if value]
    encoded = {form for value in present for form in (quote(value), quote_plus(value))}
    # Longest first, so a value inside another (a name in an email) never splits it.
    token = _SENSITIVE.set(tuple(sorted({*present, *encoded}, key=len, reverse=True)))
    try:
        with structlog.contextvars.bound_contextvars(
            request_id=request.request_id,
            request_type=request.type.value,
            jurisdiction=request.jurisdiction.value,
            step=step,
        ):
            yield
    finally:
        _SENSITIVE.reset(token)


def configure_logging(
    level: int = logging.INFO, stream: TextIO | None = None, *, console: bool | None = None
) -> None:
    """Logs on stderr for structlog and standard logging, masked: readable lines on a terminal
    (`console`, by default when the stream is one), JSON otherwise, for log collectors."""
    target = stream or sys.stderr
    if console is None:
        console = target.isatty()
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False)
        if console
        else structlog.processors.JSONRenderer()
    )
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
            renderer,
        ],
    )
    handler = logging.StreamHandler(target)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Their request lines carry whole URLs, query strings (emails, tokens) included.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
