"""Engines for the records and service databases.

SQLite (the local default) gets write-ahead logging, `synchronous=NORMAL` and a busy timeout:
many activity threads write the notice ledger at once, and an fsync per commit was the largest
single cost the benchmark's profile showed. PostgreSQL URLs are used as given.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def create_engine(url: str) -> Engine:
    engine = sa.create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _tune_sqlite(connection: Any, _: Any) -> None:
            cursor = connection.cursor()
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

    return engine
