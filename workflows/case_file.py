"""The run's case file: the step-by-step state the `status` query and the record are built from.

Every status change is mirrored into the `RightsRequestStatus` search attribute and logged
through the replay-safe workflow logger, with ids and statuses only.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time

from temporalio import workflow

from rights import search_attributes
from rights.models import RequestState, RequestStatus, StepName, StepState, StepStatus


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


class CaseFile:
    def __init__(self, state: RequestState) -> None:
        self.state = state

    def publish_search_attributes(self) -> None:
        workflow.upsert_search_attributes(
            [
                search_attributes.REQUEST_TYPE.value_set(self.state.type.value),
                search_attributes.JURISDICTION.value_set(self.state.jurisdiction.value),
                search_attributes.STATUS.value_set(self.state.status.value),
                search_attributes.RESPOND_BY.value_set(start_of(self.state.respond_by)),
            ]
        )

    def set_status(self, status: RequestStatus) -> None:
        self.state.status = status
        workflow.upsert_search_attributes([search_attributes.STATUS.value_set(status.value)])
        self.log(logging.INFO, "request_status")

    def log(self, level: int, event: str, **fields: str) -> None:
        """One replay-safe log line naming the request, its type, law, status and step."""
        active = [step.name.value for step in self.state.steps if step.status is StepStatus.ACTIVE]
        workflow.logger.log(
            level,
            event,
            extra={
                "request_id": self.state.request_id,
                "request_type": self.state.type.value,
                "jurisdiction": self.state.jurisdiction.value,
                "status": self.state.status.value,
                "step": active[-1] if active else self.state.status.value,
                **fields,
            },
        )

    def move_respond_by(self, respond_by: date, reason: str) -> None:
        self.state.extended = True
        self.state.extension_reason = reason
        self.state.respond_by = respond_by
        workflow.upsert_search_attributes(
            [search_attributes.RESPOND_BY.value_set(start_of(respond_by))]
        )

    def step(self, name: StepName) -> StepState:
        return next(step for step in self.state.steps if step.name is name)

    def begin(self, name: StepName, note: str | None = None) -> None:
        step = self.step(name)
        step.status, step.started_at, step.note = StepStatus.ACTIVE, workflow.now(), note

    def finish(self, name: StepName, status: StepStatus, note: str | None = None) -> None:
        step = self.step(name)
        step.status, step.finished_at = status, workflow.now()
        step.started_at = step.started_at or step.finished_at
        if note is not None:
            step.note = note

    def fail_active_steps(self, note: str) -> None:
        for step in self.state.steps:
            if step.status is StepStatus.ACTIVE:
                self.finish(step.name, StepStatus.FAILED, note)
