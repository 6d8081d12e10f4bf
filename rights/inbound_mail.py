"""What an email to the privacy address is, read the way a privacy team reads its inbox.

`read_message` decides one of: a rights request (its type clear from the text), a complaint
or question, a message a person must read first (triage), a "which request do you mean?" reply,
or nothing at all (auto-replies and bounces). The rules are the tables below, checked in this
order, first match winning:

1. auto-replies and bounces are ignored (`Auto-Submitted`, `Precedence: bulk`, mailer-daemon,
   delivery reports), so the service never answers a machine;
2. a sender that fails both SPF and DKIM may be forged: triage, and nothing is sent to it;
3. a reply to one of our notices, a forwarded message, an agent's letter: triage;
4. complaint words: a complaint (they win over request words: "I complained you did not
   delete my data" is a complaint);
5. request phrases, English first: exactly one type is a request; two or more, a "choose"
   reply; a right not yet carried out end to end (restriction, objection, consent withdrawal)
   goes to triage;
6. a question about their data is a complaint-or-question; anything else, a "choose" reply.

Quoted replies (`>` lines, and everything after "On … wrote:") are not read: the new text
decides. Where the requester lives comes from what the message says (a state, a country, a
law's name); none, or two that disagree, leaves it undetermined, and the run asks.
Pure, so tests read the same tables the endpoint does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from rights.correspondence import TriageReason
from rights.residence import EEA_COUNTRY_NAMES, US_STATE_NAMES, jurisdiction_for_residence
from rights.terms import SUBMITTABLE, Jurisdiction, RequestType


class Reading(StrEnum):
    REQUEST = "request"
    CHOOSE_REQUEST = "choose_request"
    COMPLAINT = "complaint"
    TRIAGE = "triage"
    IGNORED = "ignored"


class IgnoreReason(StrEnum):
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"


@dataclass(frozen=True)
class InboundMessage:
    """The parts of an email the rules read; the raw message stays with the endpoint."""

    sender: str
    subject: str
    text: str
    headers: Mapping[str, str]
    spf: str = "none"
    dkim: str = "none"
    content_type: str = "text/plain"


@dataclass(frozen=True)
class MessageReading:
    """What a message is, and what the rules found in it."""

    reading: Reading
    type: RequestType | None = None
    jurisdiction: Jurisdiction = Jurisdiction.UNDETERMINED
    residence: str | None = None
    triage: TriageReason | None = None
    ignored: IgnoreReason | None = None
    # A request id named in a reply to one of our notices.
    about_request: str | None = None


def _phrases(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(rf"\b{re.escape(word)}" for word in words), re.IGNORECASE)


REQUEST_PHRASES: Final[dict[RequestType, re.Pattern[str]]] = {
    RequestType.DELETION: _phrases(
        "delete", "deletion", "erase", "erasure", "remove my data", "remove my information",
        "right to be forgotten", "eliminar", "borrar", "supprimer", "effacer", "löschen",
        "löschung",
    ),
    RequestType.ACCESS: _phrases(
        "what data", "what information", "what personal", "copy of my data",
        "copy of my personal", "access request", "subject access", "right to know",
        "request to know", "acceso a mis datos", "accès à mes données", "auskunft",
    ),
    RequestType.CORRECTION: _phrases(
        "correct my", "correction", "rectify", "rectification", "inaccurate", "update my"
    ),
    RequestType.PORTABILITY: _phrases(
        "portability", "portable", "export my data", "machine-readable", "transfer my data"
    ),
    RequestType.OPT_OUT: _phrases(
        "do not sell", "don't sell", "opt out", "opt-out", "stop selling", "stop sharing",
        "targeted advertising",
    ),
    RequestType.LIMIT_SENSITIVE: _phrases("limit the use"),
    RequestType.RESTRICTION: _phrases(
        "restrict the processing", "restrict processing", "restriction of processing"
    ),
    RequestType.OBJECTION: _phrases("object to", "objection to"),
    RequestType.PROFILING_REVIEW: _phrases(
        "profiling decision", "automated decision", "question the decision"
    ),
    RequestType.CONSENT_WITHDRAWAL: _phrases(
        "withdraw my consent", "withdraw consent", "revoke my consent", "no longer consent"
    ),
}  # fmt: skip
"""Each right, by the phrases that ask for it (English, then Spanish, French, German)."""

COMPLAINT_WORDS: Final = _phrases(
    "complaint", "complain", "unhappy", "not happy", "disappointed", "unacceptable"
)
QUESTION_TOPICS: Final = _phrases("data", "privacy", "information", "datos", "données", "daten")
AGENT_WORDS: Final = _phrases(
    "on behalf of", "authorized agent", "authorised agent", "my client", "power of attorney"
)
FORWARD_MARKS: Final = ("---------- forwarded message", "begin forwarded message")
AUTO_REPLY_SUBJECTS: Final = ("out of office", "automatic reply", "auto:", "autoreply")
BOUNCE_SUBJECTS: Final = ("undeliverable", "delivery status notification", "mail delivery failed")
BOUNCE_SENDERS: Final = ("mailer-daemon", "postmaster")
QUOTE_INTRO: Final = re.compile(
    r"^\s*(on .+ wrote:|el .+ escribió:|le .+ a écrit ?:|am .+ schrieb .+:)\s*$", re.IGNORECASE
)
REQUEST_ID_IN_TEXT: Final = re.compile(
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
)


def _place_names() -> dict[str, str]:
    names = {name.lower(): code for code, name in US_STATE_NAMES.items()}
    names |= {name.lower(): code for code, name in EEA_COUNTRY_NAMES.items()}
    names |= {"czech republic": "CZ", "the netherlands": "NL"}
    names |= dict.fromkeys(["united kingdom", "uk gdpr", "england", "scotland", "wales"], "GB")
    names |= {"northern ireland": "GB", "ccpa": "US-CA", "cpra": "US-CA"}
    # "Georgia" and "Washington" name a country and a capital too: never a hint.
    for ambiguous in ("georgia", "washington", "district of columbia"):
        names.pop(ambiguous)
    return names


PLACE_NAMES: Final = _place_names()
"""A place or a law named in a message, to the residence code it gives."""
_PLACES: Final = re.compile(
    "|".join(rf"\b{re.escape(name)}\b" for name in sorted(PLACE_NAMES, key=len, reverse=True)),
    re.IGNORECASE,
)
_GDPR: Final = re.compile(r"\bgdpr\b", re.IGNORECASE)


def read_message(message: InboundMessage, our_domain: str) -> MessageReading:
    """What `message` is, by the rules in the module docstring."""
    ignored = _machine_sent(message)
    if ignored is not None:
        return MessageReading(Reading.IGNORED, ignored=ignored)
    if message.spf.strip().lower() != "pass" and "pass" not in message.dkim.lower():
        return MessageReading(Reading.TRIAGE, triage=TriageReason.UNAUTHENTICATED)
    threads = f"{message.headers.get('in-reply-to', '')} {message.headers.get('references', '')}"
    if f"@{our_domain.lower()}>" in threads.lower():
        about = REQUEST_ID_IN_TEXT.search(f"{message.subject}\n{message.text}")
        return MessageReading(
            Reading.TRIAGE,
            triage=TriageReason.REPLY_TO_NOTICE,
            about_request=about.group(0) if about else None,
        )
    lowered = message.text.lower()
    if message.subject.lower().startswith(("fwd:", "fw:")) or any(
        mark in lowered for mark in FORWARD_MARKS
    ):
        return MessageReading(Reading.TRIAGE, triage=TriageReason.FORWARDED)
    text = f"{message.subject}\n{new_text(message.text)}"
    if AGENT_WORDS.search(text):
        return MessageReading(Reading.TRIAGE, triage=TriageReason.AGENT)
    jurisdiction, residence = place_named(text)
    if COMPLAINT_WORDS.search(text):
        return MessageReading(Reading.COMPLAINT, jurisdiction=jurisdiction, residence=residence)
    asked = [right for right, phrases in REQUEST_PHRASES.items() if phrases.search(text)]
    if len(asked) > 1:
        return MessageReading(Reading.CHOOSE_REQUEST)
    if len(asked) == 1:
        right = asked[0]
        if right in SUBMITTABLE:
            return MessageReading(
                Reading.REQUEST, type=right, jurisdiction=jurisdiction, residence=residence
            )
        return MessageReading(Reading.TRIAGE, triage=TriageReason.NOT_SUBMITTABLE)
    if "?" in text and QUESTION_TOPICS.search(text):
        return MessageReading(Reading.COMPLAINT, jurisdiction=jurisdiction, residence=residence)
    return MessageReading(Reading.CHOOSE_REQUEST)


def _machine_sent(message: InboundMessage) -> IgnoreReason | None:
    headers, subject = message.headers, message.subject.strip().lower()
    local_part = message.sender.split("@")[0].lower()
    if (
        local_part in BOUNCE_SENDERS
        or message.content_type.lower().startswith("multipart/report")
        or subject.startswith(BOUNCE_SUBJECTS)
    ):
        return IgnoreReason.BOUNCE
    auto_submitted = headers.get("auto-submitted", "").strip().lower()
    if (
        (auto_submitted and auto_submitted != "no")
        or headers.get("precedence", "").strip().lower() in ("bulk", "junk", "list")
        or "x-autoreply" in headers
        or "x-autorespond" in headers
        or subject.startswith(AUTO_REPLY_SUBJECTS)
    ):
        return IgnoreReason.AUTO_REPLY
    return None


def new_text(text: str) -> str:
    """The message without what it quotes: `>` lines, and all after "On … wrote:"."""
    kept: list[str] = []
    for line in text.splitlines():
        if QUOTE_INTRO.match(line):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line)
    return "\n".join(kept)


def place_named(text: str) -> tuple[Jurisdiction, str | None]:
    """The law of the place the text names, and the residence code; undetermined when it
    names none, or places under two different laws."""
    codes = {PLACE_NAMES[found.group(0).lower()] for found in _PLACES.finditer(text)}
    laws = {code: jurisdiction_for_residence(code) for code in codes}
    if _GDPR.search(text) and not codes:
        return Jurisdiction.EU, None
    if len(set(laws.values())) != 1:
        return Jurisdiction.UNDETERMINED, None
    [jurisdiction] = set(laws.values())
    residence = next(iter(codes)) if len(codes) == 1 else None
    return jurisdiction, residence
