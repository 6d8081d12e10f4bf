"""The records database's tables, in one place (RECORDS_DATABASE_URL).

- `compliance_records`: 11 CCR §7101(a)-(b): date of request, nature, manner made, date and
  nature of response, basis for denial, kept at least 24 months; ids, types, dates, statuses
  and reasons only, no contact details.
- `notice_ledger`: what makes a retried send idempotent for backends (SendGrid) that have no
  idempotency key of their own.
- `provider_steps`: each (request, provider, action)'s progress at a provider, written before
  the next call to it. The SQL provider keeps the same table in the database it acts on, so its
  action and its step commit together.
- `intake_idempotency` and `throttle_events`: the HTTP doors' own (keyed hashes only).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

compliance_records = sa.Table(
    "compliance_records",
    metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("request_type", sa.String(32), nullable=False),
    # 16 since 0.3.0 ("uncovered", "undetermined"); widened in older databases.
    sa.Column("jurisdiction", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("respond_by", sa.Date, nullable=False),
    sa.Column("extended", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("denial_basis", sa.Text, nullable=True),
    sa.Column("steps", sa.JSON, nullable=False),
    sa.Column("notices", sa.JSON, nullable=False),
    sa.Column("provider_outcomes", sa.JSON, nullable=False),
    sa.Column("retain_until", sa.Date, nullable=False),
    # Since 0.2.0 (added to older databases by `create_records_schema`): an appeal's record
    # names the request it appeals; a request's record says whether it was appealed and how
    # the appeal ended (Colorado Rule 6.11).
    sa.Column("appeal_of", sa.String(64), nullable=True),
    sa.Column("appeal", sa.JSON, nullable=True),
    # 0.4.0: who on the privacy team did what to the request, with their notes.
    sa.Column("operator_actions", sa.JSON, nullable=True),
)

correspondence_records = sa.Table(
    "correspondence_records",
    metadata,
    sa.Column("correspondence_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("jurisdiction", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reason", sa.String(32), nullable=True),
    sa.Column("about_request", sa.String(64), nullable=True),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("answer_by", sa.Date, nullable=False),
    sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("outcome", sa.Text, nullable=True),
    sa.Column("notices", sa.JSON, nullable=False),
    sa.Column("retain_until", sa.Date, nullable=False),
)

notice_ledger = sa.Table(
    "notice_ledger",
    metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("notice_key", sa.String(120), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("message_id", sa.String(300), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
)

provider_steps = sa.Table(
    "provider_steps",
    metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("provider", sa.String(64), primary_key=True),
    sa.Column("action", sa.String(32), primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

intake_idempotency = sa.Table(
    "intake_idempotency",
    metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("body_hash", sa.String(64), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

throttle_events = sa.Table(
    "throttle_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key_hash", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)


SCHEMA_ATTEMPTS = 3


def create_records_schema(engine: Engine, *tables: sa.Table) -> None:
    """Create the records tables (or only `tables`) where they do not exist yet, add the
    nullable columns a later release gave a table that an earlier one created, and widen the
    text columns a later release made longer (PostgreSQL enforces a length; SQLite does not).

    Worker processes starting together race to do this, and the loser of a race (a table or a
    column another has just created: "already exists") looks again and finds it done; it used
    to exit instead, and a fleet started at once came up short of a worker."""
    wanted = list(tables) or list(metadata.sorted_tables)
    for attempt in range(1, SCHEMA_ATTEMPTS + 1):
        try:
            _bring_up_to_date(engine, wanted)
            return
        except sa.exc.DBAPIError:
            if attempt == SCHEMA_ATTEMPTS:
                raise


def _bring_up_to_date(engine: Engine, wanted: list[sa.Table]) -> None:
    metadata.create_all(engine, tables=wanted)
    inspector = sa.inspect(engine)
    for table in wanted:
        columns = {column["name"]: column for column in inspector.get_columns(table.name)}
        _widen(engine, table, columns)
        missing = [column for column in table.columns if column.name not in columns]
        if not missing:
            continue
        with engine.begin() as connection:
            for column in missing:
                assert column.nullable, f"{table.name}.{column.name} must be nullable to be added"
                kind = column.type.compile(dialect=engine.dialect)
                connection.execute(
                    sa.text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')
                )


def _widen(engine: Engine, table: sa.Table, present: dict[str, Any]) -> None:
    if engine.dialect.name != "postgresql":
        return
    for column in table.columns:
        wanted = getattr(column.type, "length", None)
        if column.name not in present or not isinstance(column.type, sa.String) or not wanted:
            continue
        length = getattr(present[column.name]["type"], "length", None)
        if length is not None and length < wanted:
            with engine.begin() as connection:
                connection.execute(
                    sa.text(
                        f'ALTER TABLE {table.name} ALTER COLUMN "{column.name}" '
                        f"TYPE VARCHAR({wanted})"
                    )
                )
