"""Idempotency keys for intake: a retried POST gets the run the first one started.

The key and a keyed hash of the body are kept in the records database (no body, no personal
data), so a retry with the same key and body returns the same request, and the same key with
a different body is refused. Keys are scoped to the intake key that sent them, so two intake
systems that happen to choose the same Idempotency-Key never meet, and they are hashed with a
key derived from the link secret for this purpose alone, so a table leak reveals neither the
keys nor anything a link token is made from. Two identical submissions racing each other both
get the first one's request id.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from stores.records import create_records_schema, intake_idempotency

PURPOSE = b"rights-intake-idempotency-v1"


class IdempotencyConflict(Exception):
    pass


class IdempotencyKeys:
    def __init__(self, engine: Engine, secret: bytes) -> None:
        self._engine = engine
        self._key = hmac.new(secret, PURPOSE, hashlib.sha256).digest()
        create_records_schema(engine, intake_idempotency)

    def _digest(self, *parts: bytes) -> str:
        return hmac.new(self._key, b"\0".join(parts), hashlib.sha256).hexdigest()

    def claim(self, intake_key: bytes, key: str, body: bytes, request_id: str) -> str:
        """The request id this key stands for: `request_id` if new, the first one otherwise."""
        key_hash = self._digest(b"key", intake_key, key.encode())
        body_hash = self._digest(b"body", body)
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    intake_idempotency.insert().values(
                        key_hash=key_hash,
                        body_hash=body_hash,
                        request_id=request_id,
                        created_at=datetime.now(UTC),
                    )
                )
            return request_id
        except sa.exc.IntegrityError:
            pass
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(intake_idempotency.c.body_hash, intake_idempotency.c.request_id).where(
                    intake_idempotency.c.key_hash == key_hash
                )
            ).one()
        if not hmac.compare_digest(row.body_hash, body_hash):
            raise IdempotencyConflict
        return str(row.request_id)
