"""Single-use link tokens as the workflow sees them: only hashes, an expiry and an attempt count.

The raw token is derived by the notice activity and travels only in the email and back in the
requester's answer; the workflow keeps its SHA-256 and compares in constant time. Attempts are
counted in accepted Updates, which are part of the history, so a worker restart does not reset
them.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from pydantic import BaseModel

from rights.models import VerificationOutcome


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
        return max(self.max_attempts - self.attempts, 0)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def check(self, token: str, now: datetime) -> VerificationOutcome:
        """Count one attempt and say whether the token is a live one of this challenge."""
        if self.answered or self.attempts_left == 0:
            return VerificationOutcome.ATTEMPTS_EXHAUSTED
        self.attempts += 1
        if self.expired(now):
            return VerificationOutcome.EXPIRED
        presented = hash_token(token)
        if any(hmac.compare_digest(presented, known) for known in self.token_hashes):
            return VerificationOutcome.VERIFIED
        if self.attempts_left == 0:
            return VerificationOutcome.ATTEMPTS_EXHAUSTED
        return VerificationOutcome.WRONG_TOKEN
