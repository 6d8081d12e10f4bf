"""The one contract every provider kind keeps: the person it acts for, its journal, its outcome.

A connector acts in steps (find the person, delete, start a job) and writes each step's result
(provider ids, job ids: never personal data) to its journal before the next step. A retry after
a crash or a lost response resumes from the journal, so nothing is deleted twice and a person
deleted by the lost attempt is reported as deleted, not as "not found". Once an outcome is final
it is kept, and every later attempt returns it unchanged.

The journal is the `provider_steps` table (`stores.records`): in the records database for the
APIs, and in the database the SQL connector acts on for it, so there its action and its step
commit in one transaction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from temporalio.exceptions import ApplicationError

from activities.providers.http import ProviderApi
from activities.report_files import UnsafeName, write_source
from rights.models import (
    OutcomeStatus,
    ProviderJob,
    ProviderJobReport,
    ProviderOutcome,
    Retention,
)
from rights.plans import ProviderAction
from rights.registry import ProviderEntry, RegistryError
from stores.records import create_records_schema, provider_steps


@dataclass(frozen=True)
class Subject:
    """The person a request is about, as the provider knows them."""

    request_id: str
    email: str
    account_id: str | None = None
    corrections: dict[str, str] = field(default_factory=dict)
    # For access: the records themselves (specific pieces), or only how many (categories).
    specific_pieces: bool = False


@dataclass(frozen=True)
class Parts:
    """What the worker gives every connector it builds."""

    environ: Mapping[str, str]
    reports_dir: Path
    journal: Journal
    service_engine: Engine


class Journal:
    """Each (request, provider, action)'s progress, in the `provider_steps` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        create_records_schema(engine, provider_steps)

    def step(self, request_id: str, provider: str, action: ProviderAction) -> Step:
        """The journal entry of one (request, provider, action), as it stands."""
        key = {"request_id": request_id, "provider": provider, "action": action.value}
        with self.engine.connect() as connection:
            state = connection.execute(
                sa.select(provider_steps.c.state).where(
                    *(provider_steps.c[column] == value for column, value in key.items())
                )
            ).scalar_one_or_none()
        return Step(self.engine, key, dict(state or {}), exists=state is not None)


class Step:
    def __init__(
        self, engine: Engine, key: dict[str, str], state: dict[str, Any], *, exists: bool
    ) -> None:
        self._engine = engine
        self._key = key
        self._state = state
        self._exists = exists

    def get(self, name: str) -> Any:
        """A value an earlier attempt of this step saved, or None."""
        return self._state.get(name)

    def save(self, *, within: Connection | None = None, **values: Any) -> None:
        """Commit before the next call to the provider, so a retry sees what this one did.

        An attempt that overlaps another (a timed-out one still running) merges its fields
        into the row the other wrote, instead of failing on the key or erasing its job id.
        `within` writes inside the caller's transaction instead, so the step commits with the
        work it records (the SQL connector's); a concurrent attempt then fails and retries.
        """
        self._state.update(values)
        if within is not None:
            self._write(within)
            return
        if not self._exists:
            try:
                with self._engine.begin() as connection:
                    self._write(connection)
                return
            except sa.exc.IntegrityError:
                self._exists = True
        with self._engine.begin() as connection:
            self._write(connection)

    def _write(self, connection: Connection) -> None:
        where = [provider_steps.c[column] == value for column, value in self._key.items()]
        now = datetime.now(UTC)
        stored = connection.execute(
            sa.select(provider_steps.c.state).where(*where).with_for_update()
        ).scalar_one_or_none()
        if stored is None:
            connection.execute(
                provider_steps.insert().values(**self._key, state=self._state, updated_at=now)
            )
        else:
            self._state = {**stored, **self._state}
            connection.execute(
                provider_steps.update().where(*where).values(state=self._state, updated_at=now)
            )
        self._exists = True


class Connector(ABC):
    """One provider kind's way of acting. Subclasses say how to start each action and, for
    providers that finish later, how to poll their job or read their callback."""

    def __init__(self, entry: ProviderEntry, journal: Journal, reports_dir: Path) -> None:
        self.entry = entry
        self._journal = journal
        self._reports_dir = reports_dir

    @classmethod
    def build(cls, entry: ProviderEntry, parts: Parts) -> Connector:
        """The connector for `entry`, with what it needs from the worker."""
        return cls(entry, parts.journal, parts.reports_dir)

    @abstractmethod
    def start(self, subject: Subject, action: ProviderAction, step: Step) -> ProviderOutcome:
        """Act, or start the provider's job; may be called again for the same step after a crash."""

    def poll(
        self, subject: Subject, action: ProviderAction, job: ProviderJob, step: Step
    ) -> ProviderOutcome:
        """Ask the provider how its job is going; connectors with jobs override this."""
        raise ApplicationError(
            f"provider {self.entry.name}: a {self.entry.kind} connector has no jobs to poll",
            type="ProviderMisconfigured",
            non_retryable=True,
        )

    def from_report(
        self, subject: Subject, action: ProviderAction, job: ProviderJob, report: ProviderJobReport
    ) -> ProviderOutcome:
        """Settle a job from its system's callback; connectors that take them override this."""
        raise ApplicationError(
            f"provider {self.entry.name}: a {self.entry.kind} connector takes no callbacks",
            type="ProviderMisconfigured",
            non_retryable=True,
        )

    def fulfil(self, subject: Subject, action: ProviderAction) -> ProviderOutcome:
        """Carry out `action` for `subject`, once: a final outcome in the journal is the answer."""
        step = self._step(subject, action)
        return self._once(action, step, lambda: self.start(subject, action, step))

    def resume(self, subject: Subject, action: ProviderAction, job: ProviderJob) -> ProviderOutcome:
        """Poll the provider's job, unless the journal already holds its outcome."""
        step = self._step(subject, action)
        return self._once(action, step, lambda: self.poll(subject, action, job, step))

    def conclude(
        self,
        subject: Subject,
        action: ProviderAction,
        job: ProviderJob,
        report: ProviderJobReport,
    ) -> ProviderOutcome:
        """Settle the job its system reported by callback, once."""
        step = self._step(subject, action)
        return self._once(action, step, lambda: self.from_report(subject, action, job, report))

    def _step(self, subject: Subject, action: ProviderAction) -> Step:
        return self._journal.step(subject.request_id, self.entry.name, action)

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
        kept = [
            Retention(category=r.category, basis=r.basis, ground=r.ground)
            for r in self.entry.retained
        ]
        if action is ProviderAction.DELETE and outcome.status is OutcomeStatus.DONE and kept:
            outcome = outcome.model_copy(
                update={"status": OutcomeStatus.RETAINED, "retained": [*outcome.retained, *kept]}
            )
        if self.entry.api is not None and self.entry.api.sandbox:
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
        retained: list[Retention] | None = None,
    ) -> ProviderOutcome:
        """An outcome of this provider, with its name and category."""
        return ProviderOutcome(
            provider=self.entry.name,
            category=self.entry.category,
            status=status,
            records_affected=affected,
            retained=retained or [],
            evidence=evidence,
            note=note,
            operator_follow_up=follow_up,
        )

    def pending(self, job_id: str, state: str, evidence: list[str]) -> ProviderOutcome:
        """The provider accepted the work as a job: polled, or awaited by callback, later."""
        job = ProviderJob(
            job_id=job_id,
            state=state,
            callback=bool(self.entry.api and self.entry.api.callback),
        )
        return self.outcome(OutcomeStatus.PENDING, evidence).model_copy(update={"job": job})

    def write_export(self, subject: Subject, tables: dict[str, list[dict[str, Any]]]) -> int:
        """Beside the report, never into history: the records, or for categories their counts."""
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
        """The permanent failure for an action this kind cannot carry out."""
        return ApplicationError(
            f"provider {self.entry.name}: a {self.entry.kind} connector cannot {action.value}",
            type="ProviderMisconfigured",
            non_retryable=True,
        )


class ApiConnector(Connector):
    """A connector over a provider's HTTP API, authenticated the way the provider documents.

    `auth` is "bearer" (`Authorization: Bearer <token_env>`), "agent" (Zendesk: basic auth as
    `<user_env>/token:<token_env>`) or "signed" (no header: the connector signs each body with
    the secret in `token_env`).
    """

    auth: ClassVar[str] = "bearer"

    def __init__(
        self,
        entry: ProviderEntry,
        journal: Journal,
        reports_dir: Path,
        api: ProviderApi,
        secret: str,
    ) -> None:
        super().__init__(entry, journal, reports_dir)
        self.api = api
        self.secret = secret

    @classmethod
    def build(cls, entry: ProviderEntry, parts: Parts) -> Connector:
        """The connector with its credentials, read from the environment it is given."""
        settings = entry.api
        assert settings is not None

        def credential(name: str) -> str:
            value = parts.environ.get(name)
            if not value:
                raise RegistryError(
                    f"provider {entry.name}: environment variable {name} is not set"
                )
            return value

        token = credential(settings.token_env)
        headers: dict[str, str] = {}
        auth = None
        if cls.auth == "agent":
            assert settings.user_env is not None
            auth = (f"{credential(settings.user_env)}/token", token)
        elif cls.auth == "bearer":
            headers["Authorization"] = f"Bearer {token}"
        api = ProviderApi(
            entry.name,
            settings.base_url,
            headers=headers,
            auth=auth,
            timeout_seconds=settings.timeout_seconds,
        )
        return cls(entry, parts.journal, parts.reports_dir, api, token)
