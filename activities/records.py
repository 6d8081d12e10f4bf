"""Writing the records database: compliance records, and the ledger of notices sent.

The tables and what each holds are in `stores.records`.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from temporalio import activity

from rights.activity_inputs import (
    ActivityName,
    WriteCorrespondenceRecordInput,
    WriteRecordInput,
)
from stores.engines import sanitised_database_errors
from stores.records import compliance_records, correspondence_records, notice_ledger

RETENTION_MONTHS = 24


def add_months(moment: datetime, months: int) -> datetime:
    """The same moment `months` later, on that month's last day where the date is missing."""
    years, month_index = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + years, month_index + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


class NoticeLedger:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def sent_at(self, request_id: str, key: str) -> datetime | None:
        """When the notice with this key was sent for this request, if it was."""
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(notice_ledger.c.sent_at).where(
                    notice_ledger.c.request_id == request_id, notice_ledger.c.notice_key == key
                )
            ).first()
        if row is None:
            return None
        sent: datetime = row.sent_at
        return sent if sent.tzinfo else sent.replace(tzinfo=UTC)

    def last_sent(self, request_ids: list[str], kind: str) -> dict[str, datetime]:
        """When each request last had a notice of `kind` sent, for those that had one."""
        latest: dict[str, datetime] = {}
        columns = notice_ledger.c
        with self._engine.connect() as connection:
            for start in range(0, len(request_ids), 500):
                rows = connection.execute(
                    sa.select(columns.request_id, sa.func.max(columns.sent_at))
                    .where(
                        columns.request_id.in_(request_ids[start : start + 500]),
                        columns.kind == kind,
                    )
                    .group_by(columns.request_id)
                )
                for request_id, sent in rows:
                    latest[request_id] = sent if sent.tzinfo else sent.replace(tzinfo=UTC)
        return latest

    def record(
        self, request_id: str, key: str, kind: str, message_id: str, sent_at: datetime
    ) -> None:
        """Note a sent notice, so a retried send answers from here."""
        with self._engine.begin() as connection:
            connection.execute(
                notice_ledger.insert().values(
                    request_id=request_id,
                    notice_key=key,
                    kind=kind,
                    message_id=message_id,
                    sent_at=sent_at,
                )
            )


class RecordActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name=ActivityName.WRITE_RECORD)
    def write_record(self, input: WriteRecordInput) -> None:
        """Upsert, so a retried write leaves exactly one record per request."""
        state = input.state
        closed = state.closed_at or state.received_at
        row = {
            "request_type": state.type.value,
            "jurisdiction": state.jurisdiction.value,
            "channel": state.channel.value,
            "received_at": state.received_at,
            "respond_by": state.respond_by,
            "extended": state.extended,
            "status": state.status.value,
            "responded_at": state.closed_at,
            "denial_basis": state.denial_reason,
            "steps": [step.model_dump(mode="json") for step in state.steps],
            "notices": [notice.model_dump(mode="json") for notice in state.notices],
            "provider_outcomes": [
                outcome.model_dump(mode="json") for outcome in state.provider_outcomes
            ],
            "retain_until": add_months(closed, RETENTION_MONTHS).date(),
            "appeal_of": state.appeal_of,
            "appeal": state.appeal.model_dump(mode="json") if state.appeal else None,
            "operator_actions": [
                action.model_dump(mode="json") for action in state.operator_actions
            ],
        }
        with sanitised_database_errors(), self._engine.begin() as connection:
            updated = connection.execute(
                compliance_records.update()
                .where(compliance_records.c.request_id == state.request_id)
                .values(**row)
            )
            if updated.rowcount == 0:
                connection.execute(
                    compliance_records.insert().values(request_id=state.request_id, **row)
                )

    @activity.defn(name=ActivityName.WRITE_CORRESPONDENCE_RECORD)
    def write_correspondence_record(self, input: WriteCorrespondenceRecordInput) -> None:
        """Upsert, so a retried write leaves exactly one record per message."""
        state = input.state
        closed = state.closed_at or state.received_at
        row = {
            "kind": state.type.value,
            "jurisdiction": state.jurisdiction.value,
            "channel": state.channel.value,
            "received_at": state.received_at,
            "reason": state.reason.value if state.reason else None,
            "about_request": state.about_request,
            "acknowledged_at": state.acknowledged_at,
            "answer_by": state.answer_by,
            "answered_at": state.answered_at,
            "status": state.status.value,
            "outcome": state.outcome,
            "notices": [notice.model_dump(mode="json") for notice in state.notices],
            "retain_until": add_months(closed, RETENTION_MONTHS).date(),
        }
        key = correspondence_records.c.correspondence_id
        with sanitised_database_errors(), self._engine.begin() as connection:
            updated = connection.execute(
                correspondence_records.update().where(key == state.correspondence_id).values(**row)
            )
            if updated.rowcount == 0:
                connection.execute(
                    correspondence_records.insert().values(
                        correspondence_id=state.correspondence_id, **row
                    )
                )
