"""CorrespondenceWorkflow: a message to the privacy address that is not a request a run can
carry out on its own, tracked until a person has dealt with it.

- A complaint or question: acknowledged at once (within the 30 days the UK's Data (Use and
  Access) Act 2025 sets from 19 June 2026), the privacy team alerted, answered by their reply
  (`reply_to_complaint`), which names the regulator (for the EU the requester's supervisory
  authority, for the UK the ICO).
- Triage: the privacy team is asked to read it (`triage_done` closes it); its sender is told we
  have it, unless the sender could not be authenticated (no mail to an address that may be
  forged).
- "Which request do you mean?": the sender gets the request form's links; nothing else.

Complaints and triage climb the escalation ladder of requests until answered. Each ends with a
correspondence record. Id `correspondence-<id>`; `RightsRequestType` is the kind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from rights import search_attributes
from rights.activity_inputs import NoticeFacts, SendNoticeInput, WriteCorrespondenceRecordInput
from rights.correspondence import (
    TRIAGE_WORDS,
    ComplaintReply,
    CorrespondenceInput,
    CorrespondenceKind,
    CorrespondenceState,
    CorrespondenceStatus,
    TriageDone,
    TriageReason,
)
from rights.escalation import next_rung
from rights.models import NoticeKind, NoticeSent, Recipient
from rights.remedies import remedies_for
from rights.residence import country_of
from rights.search_attributes import start_of
from workflows import effects, patches

UNBLOCK = {
    CorrespondenceKind.COMPLAINT: "answer it: starter.py reply-complaint {id} --reply ...",
    CorrespondenceKind.TRIAGE: "read it, act, then: starter.py triage-done {id} --note ...",
}
STUCK = {
    CorrespondenceKind.COMPLAINT: "a complaint or question awaits the privacy team's reply",
    CorrespondenceKind.TRIAGE: "a message awaits the privacy team's reading",
}


@workflow.defn
class CorrespondenceWorkflow:
    @workflow.init
    def __init__(self, input: CorrespondenceInput) -> None:
        patches.mark_release()
        message = input.correspondence.model_copy(update={"received_at": workflow.now()})
        self._message = message
        self._policy = input.policy
        kind = message.type
        days = {
            CorrespondenceKind.COMPLAINT: input.policy.reply_days,
            CorrespondenceKind.TRIAGE: input.policy.triage_days,
            CorrespondenceKind.CHOOSE_REQUEST: 0,
        }[kind]
        self._state = CorrespondenceState(
            correspondence_id=message.request_id,
            type=kind,
            jurisdiction=message.jurisdiction,
            channel=message.channel,
            received_at=workflow.now(),
            status={
                CorrespondenceKind.COMPLAINT: CorrespondenceStatus.AWAITING_REPLY,
                CorrespondenceKind.TRIAGE: CorrespondenceStatus.AWAITING_TRIAGE,
                CorrespondenceKind.CHOOSE_REQUEST: CorrespondenceStatus.SENT,
            }[kind],
            reason=message.reason,
            about_request=message.about_request,
            answer_by=workflow.now().date() + timedelta(days=days),
        )
        self._reply: ComplaintReply | None = None
        self._triaged: TriageDone | None = None

    @workflow.run
    async def run(self, input: CorrespondenceInput) -> CorrespondenceState:
        """Acknowledge, wait for the privacy team where a person must act, record."""
        self._publish()
        match self._state.type:
            case CorrespondenceKind.CHOOSE_REQUEST:
                await self._notify(NoticeKind.CHOOSE_REQUEST, Recipient.REQUESTER)
            case CorrespondenceKind.COMPLAINT:
                await self._hear_complaint()
            case CorrespondenceKind.TRIAGE:
                await self._triage()
        self._state.closed_at = workflow.now()
        self._publish()
        await effects.write_correspondence_record(WriteCorrespondenceRecordInput(state=self._state))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _hear_complaint(self) -> None:
        facts = NoticeFacts(respond_by=self._state.answer_by)
        await self._notify(NoticeKind.COMPLAINT_RECEIVED, Recipient.REQUESTER, facts)
        self._state.acknowledged_at = workflow.now()
        await self._notify(NoticeKind.OPERATOR_COMPLAINT, Recipient.OPERATOR, facts)
        await self._until_answered(lambda: self._reply is not None)
        reply = self._reply
        assert reply is not None
        message = self._message
        remedies = remedies_for(
            message.jurisdiction,
            country_of(message.requester.residence, message.jurisdiction.value),
            appeal_by=None,
        )
        paragraphs = [part.strip() for part in reply.reply.split("\n\n") if part.strip()]
        await self._notify(
            NoticeKind.COMPLAINT_REPLY,
            Recipient.REQUESTER,
            NoticeFacts(paragraphs=paragraphs, remedies=remedies),
        )
        self._state.answered_at = workflow.now()
        self._state.status = CorrespondenceStatus.ANSWERED
        self._state.outcome = "answered"

    async def _triage(self) -> None:
        reason = self._state.reason
        assert reason is not None
        facts = NoticeFacts(reason=TRIAGE_WORDS[reason], respond_by=self._state.answer_by)
        if reason is not TriageReason.UNAUTHENTICATED:
            await self._notify(NoticeKind.MESSAGE_RECEIVED, Recipient.REQUESTER, facts)
            self._state.acknowledged_at = workflow.now()
        await self._notify(NoticeKind.OPERATOR_TRIAGE, Recipient.OPERATOR, facts)
        await self._until_answered(lambda: self._triaged is not None)
        done = self._triaged
        assert done is not None
        self._state.answered_at = workflow.now()
        self._state.status = CorrespondenceStatus.TRIAGED
        self._state.outcome = (
            f"triaged: request {done.started_request} started"
            if done.started_request
            else "triaged"
        )

    async def _until_answered(self, answered: Callable[[], bool]) -> None:
        """Wait for the privacy team, alerting them on the ladder until they act."""
        alerted_until = self._state.received_at
        while True:
            alert_at = next_rung(
                self._state.answer_by, self._policy.escalation_days, after=alerted_until
            )
            try:
                await workflow.wait_condition(
                    answered, timeout=max(alert_at - workflow.now(), timedelta(0))
                )
                return
            except TimeoutError:
                alerted_until = alert_at
            overdue = (alert_at - start_of(self._state.answer_by)).days
            kind = self._state.type
            await self._notify(
                NoticeKind.OPERATOR_DEADLINE_ALERT,
                Recipient.OPERATOR,
                NoticeFacts(
                    respond_by=self._state.answer_by,
                    status=self._state.status.value,
                    reason=STUCK[kind],
                    unblock=UNBLOCK[kind].format(id=self._state.correspondence_id),
                    overdue_days=overdue if overdue > 0 else None,
                ),
            )

    async def _notify(
        self, kind: NoticeKind, recipient: Recipient, facts: NoticeFacts | None = None
    ) -> None:
        """One notice, keyed so a retry is no resend; a refused one is recorded, not fatal."""
        key = f"{kind.value}-{sum(n.kind is kind for n in self._state.notices) + 1}"
        delivered = True
        try:
            await effects.send_notice(
                SendNoticeInput(
                    request=self._message,
                    kind=kind,
                    key=key,
                    recipient=recipient,
                    facts=facts or NoticeFacts(),
                )
            )
        except ActivityError:
            workflow.logger.error(
                "notice_rejected",
                extra={"correspondence_id": self._state.correspondence_id, "kind": kind.value},
            )
            delivered = False
        self._state.notices.append(
            NoticeSent(
                kind=kind,
                key=key,
                recipient=recipient,
                sent_at=workflow.now(),
                delivered=delivered,
            )
        )

    def _publish(self) -> None:
        workflow.upsert_search_attributes(
            [
                search_attributes.REQUEST_TYPE.value_set(self._state.type.value),
                search_attributes.JURISDICTION.value_set(self._state.jurisdiction.value),
                search_attributes.STATUS.value_set(
                    "closed" if self._state.closed_at else self._state.status.value
                ),
                search_attributes.RESPOND_BY.value_set(start_of(self._state.answer_by)),
            ]
        )
        workflow.logger.log(
            logging.INFO,
            "correspondence_status",
            extra={"correspondence_id": self._state.correspondence_id},
        )

    @workflow.update
    def reply_to_complaint(self, reply: ComplaintReply) -> CorrespondenceState:
        """The privacy team's written answer, sent to the requester as written."""
        self._reply = reply
        return self._state

    @reply_to_complaint.validator
    def _validate_reply(self, reply: ComplaintReply) -> None:
        self._require(CorrespondenceStatus.AWAITING_REPLY, "a reply to a complaint")
        if self._reply is not None:
            raise ValueError(f"{self._state.correspondence_id} was answered already")

    @workflow.update
    def triage_done(self, done: TriageDone) -> CorrespondenceState:
        """The privacy team has read the message and dealt with it."""
        self._triaged = done
        return self._state

    @triage_done.validator
    def _validate_triage(self, done: TriageDone) -> None:
        self._require(CorrespondenceStatus.AWAITING_TRIAGE, "triage")
        if self._triaged is not None:
            raise ValueError(f"{self._state.correspondence_id} was triaged already")

    def _require(self, status: CorrespondenceStatus, what: str) -> None:
        if self._state.status is not status or self._state.closed_at is not None:
            raise ValueError(
                f"{self._state.correspondence_id} is not waiting for {what} "
                f"(status: {self._state.status.value})"
            )

    @workflow.query
    def status(self) -> CorrespondenceState:
        """The message's progress, with no personal data."""
        return self._state
