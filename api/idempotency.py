"""Idempotency keys for intake: a retried POST gets the run the first one started.

The key and a keyed hash of the body are kept in the records database (no body, no personal
data), so a retry with the same key and body returns the same request, and the same key with
a different body is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from activities.records import metadata

intake_keys = sa.Table(
    "intake_idempotency",
    metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("body_hash", sa.String(64), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


class IdempotencyConflict(Exception):
    pass


class IdempotencyKeys:
    def __init__(self, engine: Engine, secret: bytes) -> None:
        self._engine = engine
        self._secret = secret
        metadata.create_all(engine, tables=[intake_keys])

    def _digest(self, value: bytes) -> str:
        return hmac.new(self._secret, value, hashlib.sha256).hexdigest()

    def claim(self, key: str, body: bytes, request_id: str) -> str:
        """The request id this key stands for: `request_id` if new, the first one otherwise."""
        key_hash, body_hash = self._digest(key.encode()), self._digest(body)
        with self._engine.begin() as connection:
            row = connection.execute(
                sa.select(intake_keys.c.body_hash, intake_keys.c.request_id).where(
                    intake_keys.c.key_hash == key_hash
                )
            ).first()
            if row is None:
                connection.execute(
                    intake_keys.insert().values(
                        key_hash=key_hash,
                        body_hash=body_hash,
                        request_id=request_id,
                        created_at=datetime.now(UTC),
                    )
                )
                return request_id
        if not hmac.compare_digest(row.body_hash, body_hash):
            raise IdempotencyConflict
        return str(row.request_id)
