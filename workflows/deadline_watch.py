"""The deadline watch: no deadline passes silently.

Before the first deadline, if the request is still open and not waiting only on its requester,
the requester gets the extension notice: the reason (the blocking step in plain words), the
length of the extension in days and the new date, never past the law's outer limit. The
privacy team is alerted on a ladder before the response deadline (`escalation_days`, 14, 7, 3
and 1 days by default), naming where the request is stuck and what unblocks it, and then every
day while it is overdue. An operator's own extension moves the watch along.

Runs that began before 0.3.0 keep their one alert (`_watch_before_the_ladder`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta

from temporalio import workflow

from rights.activity_inputs import NoticeFacts
from rights.escalation import DAY, latest_rung, next_rung
from rights.models import NoticeKind, Recipient, RequestPolicy, RequestState, WaitingOn
from rights.search_attributes import start_of
from workflows import patches
from workflows.blockage import blockage
from workflows.case_file import CaseFile
from workflows.notifier import Notifier

DEFAULT_EXTENSION_REASON = (
    "fulfilling the request across the service providers that hold the data "
    "is taking longer than the first period allows"
)


def _timer_summary(target: datetime, extension_at: datetime | None, state: RequestState) -> str:
    """What the watch's timer waits for, as the UI's timeline shows it."""
    if target == extension_at:
        return "Extension notice due"
    before = (start_of(state.respond_by) - target) // DAY
    if before > 0:
        return f"Escalation: {before} days before the deadline"
    return f"Escalation: overdue by {-before} days" if before < 0 else "Escalation: deadline day"


class DeadlineWatch:
    def __init__(
        self,
        case_file: CaseFile,
        notifier: Notifier,
        policy: RequestPolicy,
        finished: Callable[[], bool],
    ) -> None:
        self._case_file = case_file
        self._notifier = notifier
        self._policy = policy
        self._finished = finished
        self._changes = 0
        self._alerted = False
        # The watch's own extension and an operator's `extend` Update may both be under way:
        # one at a time, and the second finds the request already extended.
        self._extending = asyncio.Lock()

    async def run(self) -> None:
        """Until the run answers: the extension notice in time, and the operators' alerts."""
        if not patches.applied(patches.ESCALATION_LADDER):
            await self._watch_before_the_ladder()
            return
        state = self._case_file.state
        extension_considered = False
        alerted_until = state.received_at
        while not self._finished():
            due = state.due_dates
            extension_at = None
            can_extend = due.extended_respond_by is not None and not state.extended
            if can_extend and due.extension_notice_by is not None and not extension_considered:
                lead = timedelta(days=self._policy.extension_notice_lead_days)
                extension_at = start_of(due.extension_notice_by) - lead
            alert_at = self._latest_owed(
                next_rung(state.respond_by, self._policy.escalation_days, after=alerted_until)
            )
            target = min(at for at in (extension_at, alert_at) if at is not None)
            if await self._changed_before(target, _timer_summary(target, extension_at, state)):
                continue
            if extension_at is not None and target == extension_at:
                extension_considered = True
                stuck = blockage(state)
                # Waiting only on the requester is no reason to take more time.
                if stuck.waiting_on is not WaitingOn.REQUESTER and not self._too_late_to_extend():
                    await self.extend(stuck.step, due.extended_respond_by)
                continue
            alerted_until = alert_at
            await self._alert(alert_at)

    def _latest_owed(self, alert_at: datetime) -> datetime:
        """A watch that starts or wakes after several rungs have passed (a request received
        long ago, a worker outage) owes the privacy team one alert, the latest, not one per
        rung at once (runs from 0.5.1)."""
        state = self._case_file.state
        latest = latest_rung(state.respond_by, self._policy.escalation_days, now=workflow.now())
        if latest is None or latest <= alert_at or not patches.applied(patches.LATE_WATCH):
            return alert_at
        return latest

    def _too_late_to_extend(self) -> bool:
        """The law lets the extension be noticed until `extension_notice_by`; a watch that
        wakes after that day sends none, for it would be a notice the law no longer allows
        (runs from 0.5.1; the privacy team's alerts say the request is overdue instead)."""
        notice_by = self._case_file.state.due_dates.extension_notice_by
        assert notice_by is not None, "an extension is considered only with its notice date"
        late = workflow.now() >= start_of(notice_by) + DAY
        return late and patches.applied(patches.LATE_WATCH)

    async def _alert(self, at: datetime) -> None:
        state = self._case_file.state
        stuck = blockage(state)
        overdue = (at - start_of(state.respond_by)) // DAY
        basis = state.due_dates.legal_basis
        await self._notifier.notify(
            NoticeKind.OPERATOR_DEADLINE_ALERT,
            Recipient.OPERATOR,
            NoticeFacts(
                respond_by=state.respond_by,
                respond_basis=basis.extended_respond_by if state.extended else basis.respond_by,
                status=state.status.value,
                tasks=list(state.open_tasks),
                reason=stuck.stuck,
                unblock=stuck.unblock,
                overdue_days=overdue if overdue > 0 else None,
            ),
        )

    async def _watch_before_the_ladder(self) -> None:
        state = self._case_file.state
        while not self._finished():
            due = state.due_dates
            can_extend = due.extended_respond_by is not None and not state.extended
            if can_extend and due.extension_notice_by is not None:
                lead = timedelta(days=self._policy.extension_notice_lead_days)
                target = start_of(due.extension_notice_by) - lead
            elif not self._alerted:
                lead = timedelta(days=self._policy.operator_alert_lead_days)
                target = start_of(state.respond_by) - lead
            else:
                return
            if await self._changed_before(target):
                continue
            if can_extend:
                await self.extend(DEFAULT_EXTENSION_REASON, due.extended_respond_by)
            else:
                self._alerted = True
                stuck = blockage(state)
                await self._notifier.notify(
                    NoticeKind.OPERATOR_DEADLINE_ALERT,
                    Recipient.OPERATOR,
                    NoticeFacts(
                        respond_by=state.respond_by,
                        status=state.status.value,
                        tasks=list(state.open_tasks),
                        reason=stuck.stuck,
                        unblock=stuck.unblock,
                    ),
                )

    async def extend(self, reason: str, respond_by: date | None) -> None:
        """Move the response date once and tell the requester why, by how long, until when."""
        async with self._extending:
            state = self._case_file.state
            due = state.due_dates
            if state.extended:
                return
            assert respond_by is not None and due.extended_respond_by is not None
            assert respond_by <= due.extended_respond_by
            days = (respond_by - state.respond_by).days
            self._case_file.move_respond_by(respond_by, reason)
            self._changes += 1
            await self._notifier.notify(
                NoticeKind.EXTENSION,
                Recipient.REQUESTER,
                NoticeFacts(
                    extension_reason=reason,
                    extended_respond_by=respond_by,
                    extension_days=days,
                    extension_basis=due.legal_basis.extended_respond_by,
                ),
            )

    def dates_changed(self) -> None:
        """The request's law, and so its dates, were settled: the watch starts over from them."""
        self._changes += 1

    async def _changed_before(self, target: datetime, summary: str | None = None) -> bool:
        """Wait until `target`; True if the run finished or the deadline moved first."""
        seen = self._changes
        try:
            await workflow.wait_condition(
                lambda: self._finished() or self._changes != seen,
                timeout=max(target - workflow.now(), timedelta(0)),
                timeout_summary=summary,
            )
        except TimeoutError:
            return False
        return True
