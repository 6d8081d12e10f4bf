"""Who may call what: intake keys in constant time, and headers that keep link tokens private."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.security import HTTPBearer

bearer = HTTPBearer(auto_error=False)

# Requester pages carry a token in their URL: never send it on as a referrer, never cache the
# page, never let another site frame it.
PAGE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


def matching_key(presented: str, keys: list[bytes]) -> bytes | None:
    """The key `presented` is, compared as bytes (any text, non-ASCII too, is just unequal)
    against every key, always, so timing says nothing about which one is close."""
    given = presented.encode("utf-8", "surrogateescape")
    found = None
    for key in keys:
        if hmac.compare_digest(given, key):
            found = key
    return found


def key_matches(presented: str, keys: list[bytes]) -> bool:
    """Whether `presented` is one of `keys`, compared in constant time."""
    return matching_key(presented, keys) is not None


async def add_page_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """The requester pages' privacy headers (no referrer, no cache, no framing)."""
    response = await call_next(request)
    if request.url.path.startswith("/r/"):
        response.headers.update(PAGE_HEADERS)
    return response
