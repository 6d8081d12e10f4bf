"""The signed-webhook contract's signatures, shared by the connector that sends requests and the
API that takes the callbacks: HMAC-SHA256 over "{timestamp}." + the raw body, in the manner of
Stripe's and Slack's webhook signatures. The clock is the caller's: this module reads none.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Rights-Timestamp"
SIGNATURE_HEADER = "X-Rights-Signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature of a timestamped body."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"v1={digest.hexdigest()}"


def signature_valid(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: float
) -> bool:
    """Right key, right body, and recent: a captured callback cannot be replayed later.

    Compared as bytes, so a signature with non-ASCII characters is simply wrong.
    """
    try:
        age = abs(now - int(timestamp))
    except ValueError:
        return False
    expected = sign(secret, timestamp, body).encode()
    presented = signature.encode("utf-8", "surrogateescape")
    return age <= TOLERANCE_SECONDS and hmac.compare_digest(expected, presented)


def signed_headers(secret: str, body: bytes, *, now: float) -> dict[str, str]:
    """The headers of a signed request sent at `now`."""
    timestamp = str(int(now))
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
