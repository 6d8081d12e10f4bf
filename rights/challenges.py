"""Single-use link tokens as the workflow sees them: only hashes, an expiry and an attempt count.

The raw token is derived by the notice activity and travels only in the email and back in the
requester's answer; the workflow keeps its SHA-256 and compares in constant time. Only an answer
that carries a live token of this challenge is an attempt: a wrong, unknown or expired token is
refused before it counts, so nobody who merely knows a request id can use up its requester's
attempts. Attempts are counted in accepted Updates, which are part of the history, so a worker
restart does not reset them.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from pydantic import BaseModel

from rights.models import VerificationOutcome

# The failure types of an answer refused before it counts; the doors show each its own page.
REFUSED_WRONG_TOKEN = "WrongToken"
REFUSED_EXPIRED = "LinkExpired"


def hash_token(token: str) -> str:
    """The SHA-256 the workflow keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


class Challenge(BaseModel):
    expires_at: datetime
    max_attempts: int
    token_hashes: list[str] = []
    attempts: int = 0
    answered: bool = False
    # True once the link notice has been sent (or has failed): an answer that arrives earlier
    # (the email outran the activity's completion) waits for it instead of counting as wrong.
    armed: bool = False

    @property
    def attempts_left(self) -> int:
        """Answers still allowed."""
        return max(self.max_attempts - self.attempts, 0)

    def expired(self, now: datetime) -> bool:
        """Whether the link's time has run out at `now`."""
        return now >= self.expires_at

    def knows(self, token: str) -> bool:
        """Whether `token` is one of this challenge's, compared in constant time."""
        presented = hash_token(token).encode()
        return any(hmac.compare_digest(presented, known.encode()) for known in self.token_hashes)

    def refusal(self, token: str, now: datetime) -> VerificationOutcome | None:
        """Why this answer is no attempt at all (used, exhausted, expired, wrong token), if so."""
        if self.answered:
            return VerificationOutcome.ALREADY_ANSWERED
        if self.attempts_left == 0:
            return VerificationOutcome.ATTEMPTS_EXHAUSTED
        if self.expired(now):
            return VerificationOutcome.EXPIRED
        if not self.knows(token):
            return VerificationOutcome.WRONG_TOKEN
        return None

    def check(self, token: str, now: datetime) -> VerificationOutcome:
        """Before 0.2.0: every answer counted, a wrong token included (kept for old runs)."""
        if self.answered or self.attempts_left == 0:
            return VerificationOutcome.ATTEMPTS_EXHAUSTED
        self.attempts += 1
        if self.expired(now):
            return VerificationOutcome.EXPIRED
        if self.knows(token):
            return VerificationOutcome.VERIFIED
        if self.attempts_left == 0:
            return VerificationOutcome.ATTEMPTS_EXHAUSTED
        return VerificationOutcome.WRONG_TOKEN
