"""The daily overdue sweep: a second look at every deadline, in case a watch could not alert.

Each request's deadline watch alerts the privacy team on a ladder before its deadline and daily
once it has passed. A watch cannot alert while its run cannot move: a worker outage, a workflow
task that keeps failing, a run on a task queue nobody polls, or a run begun before the ladder
(0.3.0). The sweep asks Temporal's visibility for every open request past or within
`OVERDUE_SWEEP_DAYS` of its deadline, and the notice ledger whether its watch has alerted since
the ladder last called for it; the privacy team gets those it has not in one digest, once a day
(the ledger keys the digest by the day, so a retried sweep does not mail twice).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from temporalio import activity

from activities.mail import Mailer
from activities.notices import NoticeTemplates, new_letter
from activities.records import NoticeLedger
from client.desk import DeskFilter, list_requests
from rights.activity_inputs import ActivityName, MissedAlert, SweepInput, SweepResult
from rights.escalation import latest_rung
from rights.models import NoticeKind
from rights.settings import Settings
from stores.engines import sanitised_database_errors

log = structlog.get_logger()

# The ledger's and the message's reference for the digest, which belongs to no one request.
SWEEP_REFERENCE = "overdue-sweep"
DIGEST = "operator_overdue_sweep"


class OverdueSweepActivities:
    def __init__(
        self, settings: Settings, mailer: Mailer, ledger: NoticeLedger, templates: NoticeTemplates
    ) -> None:
        self._settings = settings
        self._mailer = mailer
        self._ledger = ledger
        self._templates = templates

    @activity.defn(name=ActivityName.SWEEP_OVERDUE)
    async def sweep_overdue(self, input: SweepInput) -> SweepResult:
        """Find the requests whose alert is missing and send the day's digest of them, once."""
        near = DeskFilter(due_within=timedelta(days=self._settings.overdue_sweep_days))
        rows = await list_requests(activity.client(), near, now=input.now)
        with sanitised_database_errors():
            alerted = await asyncio.to_thread(
                self._ledger.last_sent,
                [row.request_id for row in rows],
                NoticeKind.OPERATOR_DEADLINE_ALERT.value,
            )
        ladder = self._settings.escalation_days
        missed = []
        for row in rows:
            assert row.respond_by is not None, "the sweep asks only for requests with a deadline"
            due = latest_rung(row.respond_by, ladder, now=input.now)
            last = alerted.get(row.request_id)
            if due is not None and (last is None or last < due):
                missed.append(MissedAlert.model_validate({**row.model_dump(), "last_alert": last}))
        sent = await self._send_digest(input, missed) if missed else False
        log.info("overdue_sweep", near_or_overdue=len(rows), missed=len(missed), digest=sent)
        return SweepResult(near_or_overdue=len(rows), missed=missed, digest_sent=sent)

    async def _send_digest(self, input: SweepInput, missed: list[MissedAlert]) -> bool:
        """The day's digest, unless this day's was sent already; whether it was sent now."""
        key = f"digest-{input.now.date()}"
        with sanitised_database_errors():
            if await asyncio.to_thread(self._ledger.sent_at, SWEEP_REFERENCE, key) is not None:
                return False
        context = {
            "day": input.now.date(),
            "days": self._settings.overdue_sweep_days,
            "missed": missed,
            "reference": SWEEP_REFERENCE,
        }
        rendered = self._templates.render(DIGEST, context)
        letter = new_letter(
            self._settings,
            self._settings.operator_email,
            rendered,
            reference=SWEEP_REFERENCE,
            kind=DIGEST,
        )
        message_id = await asyncio.to_thread(
            self._mailer.send, letter, key=f"{SWEEP_REFERENCE}-{key}"
        )
        with sanitised_database_errors():
            await asyncio.to_thread(
                self._ledger.record, SWEEP_REFERENCE, key, DIGEST, message_id, input.now
            )
        return True
