"""The SQL connector: the service's own database, through SQLAlchemy, per the registry's policy.

Every table says what a deletion does to it (delete rows, mask columns, or retain with a legal
basis), which columns a correction may change, and which flag columns record an opt-out or a
limit on sensitive use. Its journal is the `provider_steps` table of the same database, and each
action commits in one transaction with its step, so a retry after a crash returns the first
outcome instead of acting twice (and a second deletion never reports "not found" for a person it
already deleted). Outcomes journalled by 0.1.0 in `privacy_actions` are adopted at start-up.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from temporalio.exceptions import ApplicationError

from activities.providers.connector import Connector, Journal, Parts, Step, Subject
from activities.report_files import write_source
from rights.models import OutcomeStatus, ProviderOutcome, Retention
from rights.plans import ProviderAction
from rights.registry import Mask, OnDelete, ProviderEntry, SqlSource
from stores.engines import sanitised_database_errors
from stores.records import provider_steps

REDACTED = "[redacted]"


class SqlConnector(Connector):
    def __init__(
        self, entry: ProviderEntry, journal: Journal, reports_dir: Path, engine: Engine
    ) -> None:
        super().__init__(entry, journal, reports_dir)
        assert entry.sql is not None
        self._engine = engine
        self._source: SqlSource = entry.sql
        self._reflected = sa.MetaData()
        # Activities run on many threads; reflecting a table is not thread-safe, and a table
        # seen half-reflected would look like a misconfigured registry.
        self._reflecting = threading.Lock()

    @classmethod
    def build(cls, entry: ProviderEntry, parts: Parts) -> Connector:
        """Its steps are kept beside its data, in the service database."""
        journal = Journal(parts.service_engine)
        adopt_privacy_actions(parts.service_engine)
        return cls(entry, journal, parts.reports_dir, parts.service_engine)

    def start(self, subject: Subject, action: ProviderAction, step: Step) -> ProviderOutcome:
        """Act and journal in one transaction; a schema that does not match is permanent."""
        try:
            with sanitised_database_errors(), self._engine.begin() as connection:
                found = self._find_subject(connection, subject.email)
                if found is None:
                    outcome = self.outcome(OutcomeStatus.NOT_FOUND, ["no matching account"])
                else:
                    outcome = self._act(connection, subject, action, found)
                step.save(within=connection, outcome=outcome.model_dump(mode="json"))
                return outcome
        except (sa.exc.NoSuchTableError, KeyError) as error:
            raise ApplicationError(
                f"provider {self.entry.name}: the registry names a table or column the "
                f"database does not have ({type(error).__name__}: {error})",
                type="ProviderMisconfigured",
                non_retryable=True,
            ) from None

    def _act(
        self, connection: Connection, subject: Subject, action: ProviderAction, key: Any
    ) -> ProviderOutcome:
        if action is ProviderAction.DELETE:
            return self._delete(connection, key)
        if action is ProviderAction.ACCESS:
            return self._export(connection, subject, key)
        if action is ProviderAction.CORRECT:
            return self._correct(connection, subject, key)
        return self._set_flag(connection, action, key)

    def _delete(self, connection: Connection, key: Any) -> ProviderOutcome:
        evidence: list[str] = []
        retained: list[Retention] = []
        affected = 0
        # Dependent tables first, the subject's own row last, so foreign keys hold throughout.
        for table in sorted(
            self._source.tables, key=lambda t: t.name == self._source.subject_table
        ):
            sql_table = self._table(connection, table.name)
            rows = sql_table.c[table.link_column] == key
            if table.on_delete is OnDelete.DELETE:
                count = connection.execute(sql_table.delete().where(rows)).rowcount
                evidence.append(f"{table.name}: deleted {count} rows")
            elif table.on_delete is OnDelete.MASK:
                values = {column: _masked(mask, key) for column, mask in table.mask.items()}
                count = connection.execute(sql_table.update().where(rows).values(**values)).rowcount
                evidence.append(f"{table.name}: masked {', '.join(table.mask)} in {count} rows")
            else:
                count = self._count(connection, sql_table, rows)
                if count:
                    assert table.retain_basis is not None
                    retained.append(
                        Retention(
                            category=table.category,
                            basis=table.retain_basis,
                            ground=table.retain_ground,
                        )
                    )
                evidence.append(f"{table.name}: retained {count} rows")
                continue
            affected += count
        status = OutcomeStatus.RETAINED if retained else OutcomeStatus.DONE
        return self.outcome(status, evidence, affected=affected, retained=retained)

    def _export(self, connection: Connection, subject: Subject, key: Any) -> ProviderOutcome:
        """Write the subject's rows beside the report, so no personal data enters history."""
        export: dict[str, list[dict[str, Any]]] = {}
        for table in self._source.tables:
            sql_table = self._table(connection, table.name)
            result = connection.execute(
                sa.select(sql_table).where(sql_table.c[table.link_column] == key)
            )
            export[table.name] = [dict(row._mapping) for row in result]
        total = write_source(
            self._reports_dir,
            subject.request_id,
            self.entry.name,
            self.entry.category,
            export,
            specific_pieces=subject.specific_pieces,
        )
        verb = "exported" if subject.specific_pieces else "counted"
        evidence = [f"{name}: {verb} {len(rows)} rows" for name, rows in export.items()]
        return self.outcome(OutcomeStatus.DONE, evidence, affected=total)

    def _correct(self, connection: Connection, subject: Subject, key: Any) -> ProviderOutcome:
        subject_table = next(t for t in self._source.tables if t.name == self._source.subject_table)
        sql_table = self._table(connection, subject_table.name)
        allowed = set(subject_table.correctable)
        changes = {field: value for field, value in subject.corrections.items() if field in allowed}
        by_hand = sorted(set(subject.corrections) - allowed)
        if changes:
            connection.execute(
                sql_table.update()
                .where(sql_table.c[self._source.subject_key] == key)
                .values(**changes)
            )
        outcome = self.outcome(
            OutcomeStatus.DONE,
            [f"{subject_table.name}: corrected {', '.join(sorted(changes)) or 'nothing'}"],
            affected=1 if changes else 0,
        )
        follow_up = f"correct by hand: {', '.join(by_hand)}" if by_hand else None
        return outcome.model_copy(
            update={"corrected_fields": sorted(changes), "operator_follow_up": follow_up}
        )

    def _set_flag(
        self, connection: Connection, action: ProviderAction, key: Any
    ) -> ProviderOutcome:
        evidence = []
        for table in self._source.tables:
            column = table.flags.get(action)
            if column is None:
                continue
            sql_table = self._table(connection, table.name)
            count = connection.execute(
                sql_table.update()
                .where(sql_table.c[table.link_column] == key)
                .values(**{column: True})
            ).rowcount
            evidence.append(f"{table.name}: set {column} on {count} rows")
        return self.outcome(OutcomeStatus.DONE, evidence, affected=len(evidence))

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


def _masked(mask: Mask, key: Any) -> str | None:
    if mask is Mask.NULL:
        return None
    if mask is Mask.TOMBSTONE_EMAIL:
        return f"deleted-{key}@deleted.invalid"
    return REDACTED


def adopt_privacy_actions(engine: Engine) -> None:
    """Copy outcomes journalled by 0.1.0 (`privacy_actions`) into `provider_steps`, once.

    A retry of an action 0.1.0 already committed must find its outcome after the upgrade.
    """
    if not sa.inspect(engine).has_table("privacy_actions"):
        return
    old = sa.Table("privacy_actions", sa.MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        have = {
            tuple(row)
            for row in connection.execute(
                sa.select(
                    provider_steps.c.request_id, provider_steps.c.provider, provider_steps.c.action
                )
            )
        }
        for row in connection.execute(sa.select(old)).mappings():
            key = (row["request_id"], row["provider"], row["action"])
            if key in have:
                continue
            connection.execute(
                provider_steps.insert().values(
                    request_id=key[0],
                    provider=key[1],
                    action=key[2],
                    state={"outcome": row["outcome"]},
                    updated_at=datetime.now(UTC),
                )
            )
