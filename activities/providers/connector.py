"""What every API connector shares: the person it acts for, its journal, and how an outcome settles.

A connector acts in steps (find the person, delete, start a job) and writes each step's result
(provider ids, job ids: never personal data) to the journal before the next call. A retry after a
crash or a lost response resumes from the journal, so nothing is deleted twice and a person
deleted by the lost attempt is reported as deleted, not as "not found". Once an outcome is final
it is kept, and every later attempt returns it unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from temporalio.exceptions import ApplicationError

from activities.providers.http import ProviderApi
from activities.providers.registry import ProviderEntry
from activities.report_files import UnsafeName, write_source
from rights.models import (
    OutcomeStatus,
    ProviderJob,
    ProviderJobReport,
    ProviderOutcome,
    Retention,
)
from rights.plans import ProviderAction

_metadata = sa.MetaData()
provider_steps = sa.Table(
    "provider_steps",
    _metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("provider", sa.String(64), primary_key=True),
    sa.Column("action", sa.String(32), primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Subject:
    """The person a request is about, as the provider knows them."""

    request_id: str
    email: str
    account_id: str | None = None
    corrections: dict[str, str] = field(default_factory=dict)
    # For access: the records themselves (specific pieces), or only how many (categories).
    specific_pieces: bool = False


class Journal:
    """Each (request, provider, action)'s progress, in the records database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        _metadata.create_all(engine)

    def step(self, request_id: str, provider: str, action: ProviderAction) -> Step:
        key = {"request_id": request_id, "provider": provider, "action": action.value}
        with self._engine.connect() as connection:
            state = connection.execute(
                sa.select(provider_steps.c.state).where(
                    *(provider_steps.c[column] == value for column, value in key.items())
                )
            ).scalar_one_or_none()
        return Step(self._engine, key, dict(state or {}), exists=state is not None)


class Step:
    def __init__(
        self, engine: Engine, key: dict[str, str], state: dict[str, Any], *, exists: bool
    ) -> None:
        self._engine = engine
        self._key = key
        self._state = state
        self._exists = exists

    def get(self, name: str) -> Any:
        return self._state.get(name)

    def save(self, **values: Any) -> None:
        """Commit before the next call to the provider, so a retry sees what this one did.

        An attempt that overlaps another (a timed-out one still running) merges its fields
        into the row the other wrote, instead of failing on the key or erasing its job id.
        """
        self._state.update(values)
        now = datetime.now(UTC)
        where = [provider_steps.c[column] == value for column, value in self._key.items()]
        if not self._exists:
            try:
                with self._engine.begin() as connection:
                    connection.execute(
                        provider_steps.insert().values(
                            **self._key, state=self._state, updated_at=now
                        )
                    )
                self._exists = True
                return
            except sa.exc.IntegrityError:
                self._exists = True
        with self._engine.begin() as connection:
            stored = connection.execute(
                sa.select(provider_steps.c.state).where(*where).with_for_update()
            ).scalar_one()
            self._state = {**stored, **self._state}
            connection.execute(
                provider_steps.update().where(*where).values(state=self._state, updated_at=now)
            )


class Connector(ABC):
    """One API shape. Subclasses say how to start each action and how to poll its job."""

    def __init__(self, entry: ProviderEntry, api: ProviderApi, reports_dir: Path) -> None:
        assert entry.api is not None
        self.entry = entry
        self.api = api
        self._reports_dir = reports_dir

    @abstractmethod
    def start(self, subject: Subject, action: ProviderAction, step: Step) -> ProviderOutcome:
        """Act, or start the provider's job; may be called again for the same step after a crash."""

    def poll(
        self, subject: Subject, action: ProviderAction, job: ProviderJob, step: Step
    ) -> ProviderOutcome:
        raise ApplicationError(
            f"provider {self.entry.name}: a {self.entry.kind} connector has no jobs to poll",
            type="ProviderMisconfigured",
            non_retryable=True,
        )

    def from_report(
        self, subject: Subject, action: ProviderAction, job: ProviderJob, report: ProviderJobReport
    ) -> ProviderOutcome:
        raise ApplicationError(
            f"provider {self.entry.name}: a {self.entry.kind} connector takes no callbacks",
            type="ProviderMisconfigured",
            non_retryable=True,
        )

    def fulfil(self, subject: Subject, action: ProviderAction, step: Step) -> ProviderOutcome:
        return self._once(action, step, lambda: self.start(subject, action, step))

    def resume(
        self, subject: Subject, action: ProviderAction, job: ProviderJob, step: Step
    ) -> ProviderOutcome:
        return self._once(action, step, lambda: self.poll(subject, action, job, step))

    def conclude(
        self,
        subject: Subject,
        action: ProviderAction,
        job: ProviderJob,
        report: ProviderJobReport,
        step: Step,
    ) -> ProviderOutcome:
        return self._once(action, step, lambda: self.from_report(subject, action, job, report))

    def _once(
        self, action: ProviderAction, step: Step, act: Callable[[], ProviderOutcome]
    ) -> ProviderOutcome:
        """A final outcome already journalled is the answer; otherwise act and settle."""
        if (final := step.get("outcome")) is not None:
            return ProviderOutcome.model_validate(final)
        return self._settle(act(), action, step)

    def _settle(
        self, outcome: ProviderOutcome, action: ProviderAction, step: Step
    ) -> ProviderOutcome:
        """Add what the registry says is kept by law, label a sandbox, and keep the result."""
        if outcome.status is OutcomeStatus.PENDING:
            return outcome
        kept = [Retention(category=r.category, basis=r.basis) for r in self.entry.retained]
        if action is ProviderAction.DELETE and outcome.status is OutcomeStatus.DONE and kept:
            outcome = outcome.model_copy(
                update={"status": OutcomeStatus.RETAINED, "retained": [*outcome.retained, *kept]}
            )
        assert self.entry.api is not None
        if self.entry.api.sandbox:
            outcome = outcome.model_copy(
                update={"evidence": ["sandbox provider, not the real API", *outcome.evidence]}
            )
        step.save(outcome=outcome.model_dump(mode="json"))
        return outcome

    def outcome(
        self,
        status: OutcomeStatus,
        evidence: list[str],
        *,
        affected: int = 0,
        note: str | None = None,
        follow_up: str | None = None,
    ) -> ProviderOutcome:
        return ProviderOutcome(
            provider=self.entry.name,
            category=self.entry.category,
            status=status,
            records_affected=affected,
            evidence=evidence,
            note=note,
            operator_follow_up=follow_up,
        )

    def pending(self, job_id: str, state: str, evidence: list[str]) -> ProviderOutcome:
        job = ProviderJob(
            job_id=job_id,
            state=state,
            callback=bool(self.entry.api and self.entry.api.callback),
        )
        return self.outcome(OutcomeStatus.PENDING, evidence).model_copy(update={"job": job})

    def write_export(self, subject: Subject, tables: dict[str, list[dict[str, Any]]]) -> int:
        """Beside the report, like the SQL connector: personal data never enters history."""
        try:
            return write_source(
                self._reports_dir,
                subject.request_id,
                self.entry.name,
                self.entry.category,
                tables,
                specific_pieces=subject.specific_pieces,
            )
        except UnsafeName as error:
            raise ApplicationError(
                f"provider {self.entry.name}: an export table name is unusable ({error})",
                type="ProviderRejected",
                non_retryable=True,
            ) from None

    def unsupported(self, action: ProviderAction) -> ApplicationError:
        return ApplicationError(
            f"provider {self.entry.name}: a {self.entry.kind} connector cannot {action.value}",
            type="ProviderMisconfigured",
            non_retryable=True,
        )
