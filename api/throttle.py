"""Throttles for the public doors: wrong link tokens per request and per client address.

Counted in the records database, so every API process behind a load balancer sees the same
counts and a restart forgets nothing. What is counted is a keyed hash of the request id or the
address, never the address itself; events older than the window are dropped as new ones come.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from stores.records import create_records_schema, throttle_events

PURPOSE = b"rights-page-throttle-v1"


@dataclass(frozen=True)
class Limit:
    """At most `events` in any `window`, per key, in one `scope`."""

    scope: str
    events: int
    window: timedelta


class Throttle:
    def __init__(self, engine: Engine, secret: bytes) -> None:
        self._engine = engine
        self._key = hmac.new(secret, PURPOSE, hashlib.sha256).digest()
        create_records_schema(engine, throttle_events)

    def fingerprint(self, scope: str, value: str) -> str:
        """A stable pseudonym for a value (an address, say) that logs may carry instead."""
        message = f"{scope}\0{value}".encode("utf-8", "surrogateescape")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def exceeded(self, limit: Limit, value: str) -> bool:
        """Whether `value` has had `limit.events` events in the last window."""
        since = datetime.now(UTC) - limit.window
        with self._engine.connect() as connection:
            count = connection.execute(
                sa.select(sa.func.count())
                .select_from(throttle_events)
                .where(
                    throttle_events.c.key_hash == self.fingerprint(limit.scope, value),
                    throttle_events.c.at > since,
                )
            ).scalar_one()
        return int(count) >= limit.events

    def record(self, limit: Limit, value: str) -> None:
        """Count one event for `value`, dropping its events older than the window."""
        now = datetime.now(UTC)
        key_hash = self.fingerprint(limit.scope, value)
        with self._engine.begin() as connection:
            connection.execute(
                throttle_events.delete().where(
                    throttle_events.c.key_hash == key_hash,
                    throttle_events.c.at <= now - limit.window,
                )
            )
            connection.execute(throttle_events.insert().values(key_hash=key_hash, at=now))
