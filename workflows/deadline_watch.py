"""The deadline watch: no deadline passes silently.

Before the first deadline, if the request is still open, the requester gets the extension
notice with its reason and the new date (never past the law's outer limit); before the last
deadline, the privacy team gets an alert. An operator's own extension moves the watch along.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta

from temporalio import workflow

from rights.activity_inputs import NoticeFacts
from rights.models import NoticeKind, Recipient, RequestPolicy
from workflows.case_file import CaseFile, start_of
from workflows.notifier import Notifier

DEFAULT_EXTENSION_REASON = (
    "fulfilling the request across the service providers that hold the data "
    "is taking longer than the first period allows"
)


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
        """Until the run finishes: the extension notice in time, then the operators' alert."""
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
                await self._notifier.notify(
                    NoticeKind.OPERATOR_DEADLINE_ALERT,
                    Recipient.OPERATOR,
                    NoticeFacts(
                        respond_by=state.respond_by,
                        status=state.status.value,
                        tasks=list(state.open_tasks),
                    ),
                )

    async def extend(self, reason: str, respond_by: date | None) -> None:
        """Move the response date once and tell the requester why and until when."""
        async with self._extending:
            state = self._case_file.state
            due = state.due_dates
            if state.extended:
                return
            assert respond_by is not None and due.extended_respond_by is not None
            assert respond_by <= due.extended_respond_by
            self._case_file.move_respond_by(respond_by, reason)
            self._changes += 1
            await self._notifier.notify(
                NoticeKind.EXTENSION,
                Recipient.REQUESTER,
                NoticeFacts(
                    extension_reason=reason,
                    extended_respond_by=respond_by,
                    extension_basis=due.legal_basis.extended_respond_by,
                ),
            )

    async def _changed_before(self, target: datetime) -> bool:
        """Wait until `target`; True if the run finished or the deadline moved first."""
        seen = self._changes
        try:
            await workflow.wait_condition(
                lambda: self._finished() or self._changes != seen,
                timeout=max(target - workflow.now(), timedelta(0)),
            )
        except TimeoutError:
            return False
        return True
