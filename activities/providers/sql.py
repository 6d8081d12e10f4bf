"""The SQL connector: the service's own database, through SQLAlchemy, per the registry's policy.

Every table says what a deletion does to it (delete rows, mask columns, or retain with a legal
basis), which columns a correction may change, and which flag columns record an opt-out or a
limit on sensitive use. Each action and its entry in `privacy_actions` commit in one
transaction, so a retry after a crash returns the first outcome instead of acting twice (and a
second deletion never reports "not found" for a person it already deleted).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from temporalio.exceptions import ApplicationError

from activities.databases import sanitised_database_errors
from activities.providers.registry import Mask, OnDelete, ProviderEntry, SqlSource
from activities.report_files import write_source
from rights.models import OutcomeStatus, ProviderOutcome, Retention, RightsRequest
from rights.plans import ProviderAction

_log_metadata = sa.MetaData()
privacy_actions = sa.Table(
    "privacy_actions",
    _log_metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("provider", sa.String(64), primary_key=True),
    sa.Column("action", sa.String(32), primary_key=True),
    sa.Column("outcome", sa.JSON, nullable=False),
)

REDACTED = "[redacted]"


class SqlConnector:
    def __init__(self, engine: Engine, entry: ProviderEntry, reports_dir: Path) -> None:
        assert entry.sql is not None
        self._engine = engine
        self._entry = entry
        self._source: SqlSource = entry.sql
        self._reports_dir = reports_dir
        self._reflected = sa.MetaData()
        # Activities run on many threads; reflecting a table is not thread-safe, and a table
        # seen half-reflected would look like a misconfigured registry.
        self._reflecting = threading.Lock()
        _log_metadata.create_all(engine)

    def fulfil(
        self, request: RightsRequest, action: ProviderAction, specific_pieces: bool = False
    ) -> ProviderOutcome:
        """Act once per (request, provider, action); a schema that does not match is permanent."""
        try:
            with sanitised_database_errors():
                return self._fulfil_once(request, action, specific_pieces)
        except (sa.exc.NoSuchTableError, KeyError) as error:
            raise ApplicationError(
                f"provider {self._entry.name}: the registry names a table or column the "
                f"database does not have ({type(error).__name__}: {error})",
                type="ProviderMisconfigured",
                non_retryable=True,
            ) from None

    def _fulfil_once(
        self, request: RightsRequest, action: ProviderAction, specific_pieces: bool
    ) -> ProviderOutcome:
        with self._engine.begin() as connection:
            earlier = connection.execute(
                sa.select(privacy_actions.c.outcome).where(
                    privacy_actions.c.request_id == request.request_id,
                    privacy_actions.c.provider == self._entry.name,
                    privacy_actions.c.action == action.value,
                )
            ).scalar_one_or_none()
            if earlier is not None:
                return ProviderOutcome.model_validate(earlier)
            subject = self._find_subject(connection, request.requester.email)
            if subject is None:
                outcome = self._outcome(OutcomeStatus.NOT_FOUND, ["no matching account"])
            else:
                outcome = self._act(connection, request, action, subject, specific_pieces)
            connection.execute(
                privacy_actions.insert().values(
                    request_id=request.request_id,
                    provider=self._entry.name,
                    action=action.value,
                    outcome=outcome.model_dump(mode="json"),
                )
            )
        return outcome

    def _act(
        self,
        connection: Connection,
        request: RightsRequest,
        action: ProviderAction,
        subject: Any,
        specific_pieces: bool,
    ) -> ProviderOutcome:
        if action is ProviderAction.DELETE:
            return self._delete(connection, subject)
        if action is ProviderAction.ACCESS:
            return self._export(connection, request, subject, specific_pieces)
        if action is ProviderAction.CORRECT:
            return self._correct(connection, request, subject)
        return self._set_flag(connection, action, subject)

    def _delete(self, connection: Connection, subject: Any) -> ProviderOutcome:
        evidence: list[str] = []
        retained: list[Retention] = []
        affected = 0
        # Dependent tables first, the subject's own row last, so foreign keys hold throughout.
        for table in sorted(
            self._source.tables, key=lambda t: t.name == self._source.subject_table
        ):
            sql_table = self._table(connection, table.name)
            rows = sql_table.c[table.link_column] == subject
            if table.on_delete is OnDelete.DELETE:
                count = connection.execute(sql_table.delete().where(rows)).rowcount
                evidence.append(f"{table.name}: deleted {count} rows")
            elif table.on_delete is OnDelete.MASK:
                values = {column: _masked(mask, subject) for column, mask in table.mask.items()}
                count = connection.execute(sql_table.update().where(rows).values(**values)).rowcount
                evidence.append(f"{table.name}: masked {', '.join(table.mask)} in {count} rows")
            else:
                count = self._count(connection, sql_table, rows)
                if count:
                    assert table.retain_basis is not None
                    retained.append(Retention(category=table.category, basis=table.retain_basis))
                evidence.append(f"{table.name}: retained {count} rows")
                continue
            affected += count
        status = OutcomeStatus.RETAINED if retained else OutcomeStatus.DONE
        return self._outcome(status, evidence, affected=affected, retained=retained)

    def _export(
        self, connection: Connection, request: RightsRequest, subject: Any, specific_pieces: bool
    ) -> ProviderOutcome:
        """Write the subject's rows beside the report, so no personal data enters history."""
        export: dict[str, list[dict[str, Any]]] = {}
        for table in self._source.tables:
            sql_table = self._table(connection, table.name)
            result = connection.execute(
                sa.select(sql_table).where(sql_table.c[table.link_column] == subject)
            )
            export[table.name] = [dict(row._mapping) for row in result]
        total = write_source(
            self._reports_dir,
            request.request_id,
            self._entry.name,
            self._entry.category,
            export,
            specific_pieces=specific_pieces,
        )
        verb = "exported" if specific_pieces else "counted"
        evidence = [f"{name}: {verb} {len(rows)} rows" for name, rows in export.items()]
        return self._outcome(OutcomeStatus.DONE, evidence, affected=total)

    def _correct(
        self, connection: Connection, request: RightsRequest, subject: Any
    ) -> ProviderOutcome:
        subject_table = next(t for t in self._source.tables if t.name == self._source.subject_table)
        sql_table = self._table(connection, subject_table.name)
        allowed = set(subject_table.correctable)
        changes = {
            item.field: item.corrected_value
            for item in request.corrections
            if item.field in allowed
        }
        by_hand = sorted({item.field for item in request.corrections} - allowed)
        if changes:
            connection.execute(
                sql_table.update()
                .where(sql_table.c[self._source.subject_key] == subject)
                .values(**changes)
            )
        outcome = self._outcome(
            OutcomeStatus.DONE,
            [f"{subject_table.name}: corrected {', '.join(sorted(changes)) or 'nothing'}"],
            affected=1 if changes else 0,
        )
        follow_up = f"correct by hand: {', '.join(by_hand)}" if by_hand else None
        return outcome.model_copy(
            update={"corrected_fields": sorted(changes), "operator_follow_up": follow_up}
        )

    def _set_flag(
        self, connection: Connection, action: ProviderAction, subject: Any
    ) -> ProviderOutcome:
        evidence = []
        for table in self._source.tables:
            column = table.flags.get(action)
            if column is None:
                continue
            sql_table = self._table(connection, table.name)
            count = connection.execute(
                sql_table.update()
                .where(sql_table.c[table.link_column] == subject)
                .values(**{column: True})
            ).rowcount
            evidence.append(f"{table.name}: set {column} on {count} rows")
        return self._outcome(OutcomeStatus.DONE, evidence, affected=len(evidence))

    def _find_subject(self, connection: Connection, email: str) -> Any:
        table = self._table(connection, self._source.subject_table)
        return connection.execute(
            sa.select(table.c[self._source.subject_key]).where(
                sa.func.lower(table.c[self._source.email_column]) == email.lower()
            )
        ).scalar_one_or_none()

    def _table(self, connection: Connection, name: str) -> sa.Table:
        with self._reflecting:
            if name not in self._reflected.tables:
                sa.Table(name, self._reflected, autoload_with=connection)
            return self._reflected.tables[name]

    @staticmethod
    def _count(connection: Connection, table: sa.Table, rows: Any) -> int:
        return int(
            connection.execute(
                sa.select(sa.func.count()).select_from(table).where(rows)
            ).scalar_one()
        )

    def _outcome(
        self,
        status: OutcomeStatus,
        evidence: list[str],
        *,
        affected: int = 0,
        retained: list[Retention] | None = None,
    ) -> ProviderOutcome:
        return ProviderOutcome(
            provider=self._entry.name,
            category=self._entry.category,
            status=status,
            records_affected=affected,
            retained=retained or [],
            evidence=evidence,
        )


def _masked(mask: Mask, subject: Any) -> str | None:
    if mask is Mask.NULL:
        return None
    if mask is Mask.TOMBSTONE_EMAIL:
        return f"deleted-{subject}@deleted.invalid"
    return REDACTED
