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


def key_matches(presented: str, keys: list[bytes]) -> bool:
    """Compare against every key, always, so timing says nothing about which one is close."""
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented.encode(), key)
    return matched


async def add_page_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    if request.url.path.startswith("/r/"):
        response.headers.update(PAGE_HEADERS)
    return response
