"""Engines for the records and service databases, and the failures they may raise.

SQLite (the local default) gets write-ahead logging, `synchronous=NORMAL` and a busy timeout:
many activity threads write the notice ledger at once, and an fsync per commit was the largest
single cost the benchmark's profile showed. PostgreSQL URLs are used as given.

A database error's text can carry the row it was about (PostgreSQL's "Key (email)=(…) already
exists", SQLAlchemy's "[parameters: …]"), and such text would reach the worker's log and the
activity's failure. Engines hide bound parameters, and `sanitised_database_errors` turns any
database error into a failure that names only its class and SQLSTATE.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from temporalio.exceptions import ApplicationError


def create_engine(url: str) -> Engine:
    """An engine for `url`: SQLite tuned for many writers, parameters hidden."""
    engine = sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _tune_sqlite(connection: Any, _: Any) -> None:
            cursor = connection.cursor()
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

    return engine


@contextmanager
def sanitised_database_errors() -> Iterator[None]:
    """Re-raise a database error as `DatabaseError`, without its message or parameters.

    Operational trouble (a lost connection, a lock) stays retryable; an integrity or data
    error would fail the same way every time, so it is not.
    """
    try:
        yield
    except sa.exc.StatementError as error:
        original = error.orig if isinstance(error, sa.exc.DBAPIError) else error
        code = getattr(original, "sqlstate", None) or getattr(original, "sqlite_errorname", None)
        permanent = isinstance(error, sa.exc.IntegrityError | sa.exc.DataError)
        raise ApplicationError(
            f"database error {type(original).__name__}" + (f" ({code})" if code else ""),
            type="DatabaseError",
            non_retryable=permanent,
        ) from None
