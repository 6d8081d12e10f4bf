"""Text from requesters (and anything else outside our control) made safe to show and mail.

A name, a reason or a provider's evidence reaches plain-text notices, where HTML escaping does
nothing: a line break there forges a new paragraph ("Dear Maria,\\n\\nClick here…"), and a
bidirectional override (U+202E) makes a link read as something else. Such characters are never
needed in one field of a notice, so they are removed on the way out; intake refuses them in a
name at the door, together with web addresses, so nobody can make our mail carry their link.
"""

from __future__ import annotations

import re
import unicodedata

# Embedding, override and isolate controls, and the marks that steer them.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_BREAKING = frozenset({"Cc", "Zl", "Zp"})
_WEB_ADDRESS = re.compile(
    r"[a-z][a-z0-9+.-]*://|\bwww\.|[a-z0-9-]\.[a-z]{2,24}\b(?!\.)", re.IGNORECASE
)


def one_line(value: str) -> str:
    """`value` on one line: breaks and control characters become a space, bidi controls go."""
    kept = []
    for character in value:
        if character in BIDI_CONTROLS:
            continue
        kept.append(" " if unicodedata.category(character) in _BREAKING else character)
    return re.sub(r" {2,}", " ", "".join(kept)).strip()


def name_problem(value: str) -> str | None:
    """Why `value` cannot be a person's name in our notices, or None if it can."""
    if any(unicodedata.category(c) in _BREAKING or c in BIDI_CONTROLS for c in value):
        return "must be one line without control characters"
    if _WEB_ADDRESS.search(value):
        return "must not contain a web address"
    return None
