"""Link tokens: derived from the service's secret and a nonce the workflow holds.

HMAC-SHA256 gives 256 unguessable bits per link without the token ever entering Temporal's
history (the nonce alone is worthless), and a retried activity derives the same token, so a
resent notice carries the same valid link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from rights.activity_inputs import LinkPurpose, LinkSpec


class LinkTokens:
    def __init__(self, secret: bytes, public_base_url: str) -> None:
        self._secret = secret
        self._base_url = public_base_url

    def token(self, request_id: str, link: LinkSpec) -> str:
        """The link's token for this request."""
        return self._derive(request_id, link.purpose, link.nonce)

    def url(self, request_id: str, link: LinkSpec) -> str:
        """The link, token included, as the notice carries it."""
        token = self.token(request_id, link)
        return f"{self._base_url}/r/{request_id}/{link.purpose.value}?token={token}"

    def matches(self, request_id: str, purpose: LinkPurpose, nonce: str, token: str) -> bool:
        """Constant-time check of a presented token, as bytes (used for report downloads)."""
        expected = self._derive(request_id, purpose, nonce).encode()
        return hmac.compare_digest(expected, token.encode("utf-8", "surrogateescape"))

    def message_id(self, message_id: str) -> str:
        """The id an inbound email's request or correspondence gets: the same email delivered
        twice gets the same id (so one run), and nobody can tell its Message-ID from it."""
        digest = hmac.new(self._secret, b"inbound-message\0" + message_id.encode(), hashlib.sha256)
        return str(uuid.UUID(bytes=digest.digest()[:16], version=4))

    def _derive(self, request_id: str, purpose: LinkPurpose, nonce: str) -> str:
        message = f"{request_id}:{purpose.value}:{nonce}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
