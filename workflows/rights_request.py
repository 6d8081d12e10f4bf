"""RightsRequestWorkflow: one run per privacy rights request, one step per promise.

receipt → authorize agent → verify identity → reconfirm deletion → fulfil → respond → record,
with the deadline watch running beside it. The answers the run waits for (`answers.py`) and the
privacy team's steering (`steering.py`) are Updates of their own modules; the case file is the
only writer of the request's state; every side effect is a typed call in `effects.py`.
Deterministic: time from `workflow.now()`, nonces from `workflow.uuid4()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

from rights.activity_inputs import (
    ExpireReportInput,
    LinkPurpose,
    LinkSpec,
    NoticeFacts,
    ProviderHandling,
    ProviderRef,
    PublishReportInput,
    WriteRecordInput,
)
from rights.challenges import Challenge
from rights.deadlines import (
    RightNotGranted,
    answered_on_receipt,
    clock_waits_for_identity,
    dates_or_refusal,
    due_dates,
    granted_rights,
    restarted,
)
from rights.models import (
    AppealInput,
    AppealOutcome,
    AppealSummary,
    ClockPause,
    NoticeKind,
    OutcomeStatus,
    Recipient,
    RequestState,
    RequestStatus,
    RightsRequestInput,
    StepName,
    StepStatus,
    workflow_id,
)
from rights.plans import AccessAnswer, access_answer, plan_for
from rights.receipt_day import receipt_day
from rights.remedies import appeals_granted, remedies_for
from rights.residence import country_of
from rights.terms import SUBMITTABLE, Jurisdiction, RequestType, VerificationStandard
from workflows import effects, patches
from workflows.answers import RequesterAnswers
from workflows.appeal import AppealWorkflow
from workflows.case_file import CaseFile
from workflows.deadline_watch import DeadlineWatch
from workflows.fulfilment import Fulfilment
from workflows.notifier import Notifier
from workflows.residence import LearnsResidence
from workflows.steering import OperatorSteering


class RequestClosed(Exception):
    """An operator denied the request or the requester withdrew it; the lifecycle stops."""


@workflow.defn
class RightsRequestWorkflow(RequesterAnswers, OperatorSteering, LearnsResidence):
    @workflow.init
    def __init__(self, input: RightsRequestInput) -> None:
        patches.mark_release()
        self._request = input.request
        self._policy = input.policy
        self._plan = plan_for(input.request)
        request = input.request
        self._received = receipt_day(request.received_at, input.policy.business_timezone)
        due, self._not_granted = dates_or_refusal(
            request.jurisdiction,
            request.type,
            self._received,
            eu_establishment=input.policy.eu_establishment,
            honour_states_without_law=input.policy.honour_states_without_law,
        )
        if (
            request.jurisdiction is Jurisdiction.US_UT
            and request.type is RequestType.CORRECTION
            and not patches.applied(patches.DATED_LAW)
        ):
            self._not_granted = RightNotGranted(request.jurisdiction, request.type)
            due = answered_on_receipt(request.jurisdiction, request.type, self._received)
        self._case_file = CaseFile.of_request(request, due, self._plan.verification)
        self._notifier = Notifier(input.request, self._case_file)
        self._fulfilment = Fulfilment(
            input.request, self._plan.action, self._case_file, self._notifier, self._wait_for
        )
        self._deadlines = DeadlineWatch(
            self._case_file, self._notifier, input.policy, lambda: self._case_file.answering
        )
        self._open_answers()
        self._open_steering()
        self._open_residence()

    @workflow.run
    async def run(self, input: RightsRequestInput) -> RequestState:
        """The lifecycle, then the response and the record; the final state."""
        deadline_watch = asyncio.create_task(self._deadlines.run())
        try:
            final = await self._carry_out()
        except RequestClosed:
            final = self._case_file.closing or RequestStatus.DENIED
            self._case_file.fail_active_steps(f"closed: {final.value}")
        self._case_file.answering = True
        await self._respond(final)
        await self._record()
        await deadline_watch
        if self._appeal_window is not None:
            await self._hear_appeal()
        # An Update still running (an operator's extension notice, say) finishes first.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._case_file.state

    async def _carry_out(self) -> RequestStatus:
        if self._not_granted is not None:
            self._case_file.publish_search_attributes()
            self._case_file.record_denial(self._not_granted.in_plain_words())
            return RequestStatus.NOT_GRANTED
        await self._confirm_receipt()
        if not await self._learn_residence():
            return RequestStatus.RESIDENCE_UNKNOWN
        if self._not_granted is not None:
            self._case_file.record_denial(self._not_granted.in_plain_words())
            return RequestStatus.NOT_GRANTED
        if not await self._authorize_agent():
            return RequestStatus.AGENT_REJECTED
        if not await self._verify_identity():
            return RequestStatus.UNVERIFIABLE
        if not await self._reconfirm_deletion():
            return RequestStatus.NOT_RECONFIRMED
        await self._fulfil()
        return RequestStatus.COMPLETED

    async def _confirm_receipt(self) -> None:
        self._case_file.begin(StepName.RECEIPT)
        dates = self._case_file.state.due_dates
        self._case_file.publish_search_attributes()
        if self._request.minor_removal is not None:
            self._case_file.finish(
                StepName.RECEIPT, StepStatus.SKIPPED, "a minor's removal: nobody is written to"
            )
            return
        facts = NoticeFacts(
            respond_by=dates.respond_by,
            respond_basis=dates.legal_basis.respond_by,
            acknowledge_basis=dates.legal_basis.acknowledge_by,
            verification_needed=self._plan.verification is not VerificationStandard.NONE,
        )
        if self._asks_residence:
            challenge = self._residence_challenge()
            await self._notifier.send_link(
                NoticeKind.RECEIPT, LinkPurpose.RESIDENCE, challenge, facts
            )
        else:
            await self._notifier.notify(NoticeKind.RECEIPT, Recipient.REQUESTER, facts)
        self._case_file.finish(StepName.RECEIPT, StepStatus.DONE)

    async def _authorize_agent(self) -> bool:
        """An agent acts only with proof of permission an operator has accepted (11 CCR §7063)."""
        if self._request.agent is None:
            self._case_file.finish(StepName.AGENT_AUTHORIZATION, StepStatus.SKIPPED, "no agent")
            return True
        self._case_file.begin(StepName.AGENT_AUTHORIZATION)
        self._case_file.set_status(RequestStatus.AWAITING_AGENT_AUTHORIZATION)
        await self._notifier.notify(NoticeKind.AGENT_AUTHORIZATION_NEEDED, Recipient.OPERATOR)
        await self._wait_for(lambda: self._agent_approved is not None)
        if self._agent_approved:
            self._case_file.finish(StepName.AGENT_AUTHORIZATION, StepStatus.DONE, "approved")
            return True
        self._case_file.finish(StepName.AGENT_AUTHORIZATION, StepStatus.FAILED, "rejected")
        facts = NoticeFacts(reason=self._case_file.state.denial_reason)
        await self._notifier.notify(NoticeKind.AGENT_REJECTED, Recipient.AGENT, facts)
        if patches.applied(patches.AGENT_REJECTION_TOLD):
            await self._tell_refusal(NoticeKind.AGENT_REJECTED_REQUESTER, facts)
        return False

    async def _verify_identity(self) -> bool:
        """Nothing is disclosed or changed before the requester is verified (11 CCR §7060)."""
        if self._plan.verification is VerificationStandard.NONE:
            self._case_file.finish(
                StepName.IDENTITY_VERIFICATION, StepStatus.SKIPPED, self._why_not_verified()
            )
            return True
        self._case_file.begin(StepName.IDENTITY_VERIFICATION, self._plan.verification.value)
        self._case_file.set_status(RequestStatus.AWAITING_VERIFICATION)
        expires_at = workflow.now() + timedelta(days=self._policy.verification_ttl_days)
        self._verification = Challenge(
            expires_at=expires_at, max_attempts=self._policy.verification_max_attempts
        )
        await self._notifier.send_link(
            NoticeKind.VERIFICATION, LinkPurpose.VERIFY, self._verification
        )
        reminder_at = expires_at - timedelta(days=self._policy.verification_reminder_days)
        if not await self._wait_for(
            lambda: self._verified is not None,
            until=reminder_at,
            summary="Verification reminder due",
        ):
            await self._notifier.send_link(
                NoticeKind.VERIFICATION_REMINDER, LinkPurpose.VERIFY, self._verification
            )
            await self._wait_for(
                lambda: self._verified is not None,
                until=expires_at,
                summary="Verification link expires",
            )
        if self._verified:
            pause = await self._restart_clock_if_it_waited()
            self._case_file.finish(
                StepName.IDENTITY_VERIFICATION,
                StepStatus.DONE,
                None if pause is None else f"clock paused: {pause.reason}",
            )
            return True
        reason = self._unverified_reason or "the verification link expired unanswered"
        self._case_file.finish(StepName.IDENTITY_VERIFICATION, StepStatus.FAILED, reason)
        await self._tell_refusal(NoticeKind.UNVERIFIABLE, NoticeFacts(reason=reason))
        return False

    def _why_not_verified(self) -> str:
        if self._request.minor_removal is not None:
            return "the privacy team removes a minor's data on its own knowledge"
        if self._request.agent is not None and self._request.agent.is_guardian:
            return "the privacy team accepted the guardian's proof"
        return "not required"

    async def _restart_clock_if_it_waited(self) -> ClockPause | None:
        """In the UK the time to respond begins once identity is confirmed (UK GDPR Art. 12A):
        the dates are counted again from that day, and the requester is told the new date."""
        state = self._case_file.state
        if not clock_waits_for_identity(state.jurisdiction, self._received):
            return None
        if not patches.applied(patches.IDENTITY_PAUSE):
            return None
        confirmed = receipt_day(workflow.now(), self._policy.business_timezone)
        if confirmed <= self._received:
            return None
        due = restarted(state.due_dates, confirmed, eu_establishment=self._policy.eu_establishment)
        pause = ClockPause(
            reason=(
                f"waiting for the requester to confirm their identity, {self._received} to "
                f"{confirmed} (UK GDPR Art. 12A); respond by {due.respond_by}"
            ),
            paused_on=self._received,
            restarted_on=confirmed,
            respond_by=due.respond_by,
        )
        self._case_file.restart_clock(pause, due)
        self._deadlines.dates_changed()
        await self._notifier.notify(
            NoticeKind.CLOCK_RESTARTED,
            Recipient.REQUESTER,
            NoticeFacts(
                respond_by=due.respond_by,
                respond_basis=due.legal_basis.respond_by,
                reason=(
                    f"we confirmed who you are on {confirmed:%-d %B %Y}, and the UK GDPR "
                    "(Article 12A) counts the time we have to respond from that day"
                ),
            ),
        )
        return pause

    async def _reconfirm_deletion(self) -> bool:
        """A deletion is carried out only after a separate confirmation (privacy policy)."""
        if not self._plan.reconfirm_deletion:
            self._case_file.finish(
                StepName.DELETION_RECONFIRMATION, StepStatus.SKIPPED, "not a deletion"
            )
            return True
        self._case_file.begin(StepName.DELETION_RECONFIRMATION)
        self._case_file.set_status(RequestStatus.AWAITING_RECONFIRMATION)
        if self._request.minor_removal is not None:
            return await self._second_operator_confirms()
        expires_at = workflow.now() + timedelta(days=self._policy.reconfirmation_ttl_days)
        self._reconfirmation = Challenge(
            expires_at=expires_at, max_attempts=self._policy.verification_max_attempts
        )
        await self._notifier.send_link(
            NoticeKind.DELETION_RECONFIRMATION, LinkPurpose.CONFIRM_DELETION, self._reconfirmation
        )
        await self._wait_for(
            lambda: self._reconfirmed is not None,
            until=expires_at,
            summary="Deletion confirmation link expires",
        )
        if self._reconfirmed:
            self._case_file.finish(StepName.DELETION_RECONFIRMATION, StepStatus.DONE)
            return True
        self._case_file.finish(StepName.DELETION_RECONFIRMATION, StepStatus.FAILED, "not confirmed")
        await self._notifier.notify(NoticeKind.NOT_RECONFIRMED, Recipient.REQUESTER)
        return False

    async def _second_operator_confirms(self) -> bool:
        """A removal another team member started goes ahead once a second one confirms it; the
        deadline watch climbs its ladder while nobody has."""
        removal = self._request.minor_removal
        assert removal is not None
        await self._notifier.notify(
            NoticeKind.OPERATOR_MINOR_REMOVAL,
            Recipient.OPERATOR,
            NoticeFacts(reason=removal.reason),
        )
        await self._wait_for(lambda: self._second_operator is not None)
        self._case_file.finish(
            StepName.DELETION_RECONFIRMATION,
            StepStatus.DONE,
            f"started by {removal.started_by}, confirmed by {self._second_operator}",
        )
        return True

    async def _fulfil(self) -> None:
        self._case_file.begin(StepName.FULFILMENT)
        self._case_file.set_status(RequestStatus.FULFILLING)
        outcomes = await self._fulfilment.run(
            specific_pieces=self._answer is AccessAnswer.SPECIFIC_PIECES
        )
        self._case_file.record_outcomes(outcomes)
        self._case_file.finish(StepName.FULFILMENT, StepStatus.DONE, f"{len(outcomes)} providers")

    async def _respond(self, final: RequestStatus) -> None:
        self._case_file.begin(StepName.RESPONSE)
        self._case_file.set_status(
            final if final is not RequestStatus.COMPLETED else RequestStatus.RESPONDING
        )
        if final is RequestStatus.COMPLETED and self._request.minor_removal is not None:
            await self._notifier.notify(
                NoticeKind.OPERATOR_MINOR_REMOVAL_DONE,
                Recipient.OPERATOR,
                NoticeFacts(outcomes=self._case_file.state.provider_outcomes),
            )
        elif final is RequestStatus.COMPLETED:
            await self._send_completion()
        elif final is RequestStatus.DENIED:
            reason = self._case_file.state.denial_reason
            await self._tell_refusal(NoticeKind.DENIED, NoticeFacts(reason=reason))
        elif final is RequestStatus.NOT_GRANTED:
            granted = granted_rights(self._request.jurisdiction, self._received)
            alternatives = [right.value.replace("_", " ") for right in SUBMITTABLE & granted]
            await self._tell_refusal(
                NoticeKind.NOT_GRANTED,
                NoticeFacts(
                    reason=self._case_file.state.denial_reason, alternatives=sorted(alternatives)
                ),
            )
        elif final is RequestStatus.WITHDRAWN:
            await self._notifier.notify(NoticeKind.WITHDRAWN, Recipient.REQUESTER)
        self._case_file.close(final)
        self._case_file.finish(StepName.RESPONSE, StepStatus.DONE, final.value)

    async def _send_completion(self) -> None:
        """The answer: what was done where, what was kept and why, and the report if any.

        Where anything was kept back, the requester is told what they may do about it; a
        request granted in full invites no appeal. After a granted appeal it says so.
        """
        appeal = self._case_file.state.appeal
        granted = appeal is not None and appeal.outcome is AppealOutcome.GRANTED
        outcomes = self._case_file.state.provider_outcomes
        retained = [item for outcome in outcomes for item in outcome.retained]
        facts = NoticeFacts(
            outcomes=outcomes,
            retained=retained,
            corrected_fields=[field for outcome in outcomes for field in outcome.corrected_fields],
            access_answer=self._answer if self._plan.delivers_report else None,
            appeal_id=appeal.appeal_id if appeal is not None and granted else None,
        )
        link = None
        if self._plan.delivers_report:
            link = LinkSpec(
                purpose=LinkPurpose.REPORT,
                nonce=str(workflow.uuid4()),
                expires_at=workflow.now() + timedelta(days=self._policy.report_link_ttl_days),
            )
            await effects.publish_report(
                PublishReportInput(
                    request=self._request,
                    formats=list(self._plan.report_formats),
                    link=link,
                    outcomes=outcomes,
                    answer=self._answer,
                )
            )
            if patches.applied(patches.REPORT_FILES_EXPIRE):
                await effects.schedule_report_expiry(
                    ExpireReportInput(
                        request_id=self._request.request_id, expires_at=link.expires_at
                    )
                )
        if retained:
            await self._tell_refusal(NoticeKind.COMPLETED, facts, link=link)
        else:
            await self._notifier.notify(NoticeKind.COMPLETED, Recipient.REQUESTER, facts, link=link)

    async def _tell_refusal(
        self, kind: NoticeKind, facts: NoticeFacts, *, link: LinkSpec | None = None
    ) -> None:
        """A notice that refuses something, in whole or in part: with what the law says the
        requester may do about it, and where the law grants one, the appeal link."""
        appeal_link = self._appeal_link()
        request = self._request
        remedies = remedies_for(
            request.jurisdiction,
            country_of(request.requester.residence, request.jurisdiction.value),
            appeal_by=self._case_file.state.appeal_by if appeal_link else None,
        )
        delivery = await self._notifier.notify(
            kind,
            Recipient.REQUESTER,
            facts.model_copy(update={"remedies": remedies}),
            link=link,
            appeal_link=appeal_link,
        )
        window = self._appeal_window
        if window is not None and appeal_link is not None:
            if delivery is not None and delivery.appeal_token_hash is not None:
                window.token_hashes.append(delivery.appeal_token_hash)
            window.armed = True

    def _appeal_link(self) -> LinkSpec | None:
        """A link to appeal, where the law grants an appeal and none was heard yet."""
        if self._appeal is not None or not appeals_granted(
            self._request.jurisdiction,
            self._received,
            honour_states_without_law=self._policy.honour_states_without_law,
        ):
            return None
        if not patches.applied(patches.APPEALS):
            return None
        if self._appeal_window is None:
            expires_at = workflow.now() + timedelta(days=self._policy.appeal_window_days)
            self._appeal_window = Challenge(expires_at=expires_at, max_attempts=1)
            self._case_file.open_appeal(expires_at.date())
        return LinkSpec(
            purpose=LinkPurpose.APPEAL,
            nonce=str(workflow.uuid4()),
            expires_at=self._appeal_window.expires_at,
        )

    async def _hear_appeal(self) -> None:
        """Until the appeal link expires: an appeal filed is decided by its own run, and what
        a granted appeal allows is carried out here."""
        window = self._appeal_window
        assert window is not None
        try:
            await workflow.wait_condition(
                lambda: self._appeal is not None,
                timeout=max(window.expires_at - workflow.now(), timedelta(0)),
                timeout_summary="Appeal link expires",
            )
        except TimeoutError:
            self._case_file.appeal_window_lapsed()
            return
        filing = self._appeal
        assert filing is not None
        state = self._case_file.state
        child = AppealInput(
            appeal_id=self._appeal_id,
            original=self._request,
            refused=_what_was_refused(state),
            filing=filing,
            policy=self._policy,
        )
        handle = await workflow.start_child_workflow(
            AppealWorkflow.run, child, id=workflow_id(self._appeal_id)
        )
        appeal_due = due_dates(
            state.jurisdiction,
            RequestType.APPEAL,
            receipt_day(workflow.now(), self._policy.business_timezone),
            eu_establishment=self._policy.eu_establishment,
        )
        self._case_file.appeal_filed(
            AppealSummary(
                appeal_id=self._appeal_id,
                filed_at=workflow.now(),
                decide_by=appeal_due.respond_by,
            )
        )
        decision = await handle
        self._case_file.appeal_decided(decision.outcome)
        if decision.outcome is AppealOutcome.GRANTED:
            await self._carry_out_what_the_appeal_granted()
        await self._record()

    async def _carry_out_what_the_appeal_granted(self) -> None:
        """The refused request is carried out after all, and answered again; an operator may
        still steer it (close tasks, or deny it) until it is."""
        self._case_file.reopen()
        try:
            await self._fulfil_what_was_refused()
            final = RequestStatus.COMPLETED
        except RequestClosed:
            final = self._case_file.closing or RequestStatus.DENIED
            self._case_file.fail_active_steps(f"closed: {final.value}")
        self._case_file.answering = True
        await self._respond(final)

    async def _fulfil_what_was_refused(self) -> None:
        """What was kept back goes to the privacy team; a refused request runs in full."""
        state = self._case_file.state
        carried_out_before = state.status is RequestStatus.COMPLETED
        self._case_file.begin(StepName.FULFILMENT, "after a granted appeal")
        self._case_file.set_status(RequestStatus.FULFILLING)
        if carried_out_before:
            kept = [o for o in state.provider_outcomes if o.status is OutcomeStatus.RETAINED]
            redone = await self._fulfilment.by_hand(
                [
                    ProviderRef(name=o.provider, kind=ProviderHandling.MANUAL, category=o.category)
                    for o in kept
                ],
                "the appeal was granted: delete what was kept back, as its decision says",
            )
            by_name = {outcome.provider: outcome for outcome in redone}
            outcomes = [by_name.get(o.provider, o) for o in state.provider_outcomes]
        else:
            outcomes = await self._fulfilment.run(
                specific_pieces=self._answer is AccessAnswer.SPECIFIC_PIECES
            )
        self._case_file.record_outcomes(outcomes)
        self._case_file.finish(StepName.FULFILMENT, StepStatus.DONE, f"{len(outcomes)} providers")

    @property
    def _answer(self) -> AccessAnswer:
        """What an access report holds: specific pieces or categories, and why."""
        return access_answer(self._plan, self._verified_standard)

    async def _record(self) -> None:
        """The compliance record, kept 24 months (11 CCR §7101; Colorado Rule 6.11)."""
        self._case_file.finish(StepName.RECORD, StepStatus.DONE)
        await effects.write_record(WriteRecordInput(state=self._case_file.state))

    @workflow.query
    def status(self) -> RequestState:
        """The whole request, step by step, with no personal data."""
        return self._case_file.state

    async def _wait_for(
        self,
        condition: Callable[[], bool],
        *,
        until: datetime | None = None,
        summary: str | None = None,
    ) -> bool:
        """Wait for `condition` (True) or `until` (False); an operator's close interrupts.
        `summary` names the timer in the UI's timeline."""
        timeout = None if until is None else max(until - workflow.now(), timedelta(0))

        def satisfied() -> bool:
            return condition() or self._case_file.closing is not None

        try:
            await workflow.wait_condition(satisfied, timeout=timeout, timeout_summary=summary)
        except TimeoutError:
            return False
        if self._case_file.closing is not None:
            raise RequestClosed
        return True


def _what_was_refused(state: RequestState) -> str:
    """The decision an appeal is about, in its own words (no personal data)."""
    kind = state.type.value.replace("_", " ")
    if state.status is RequestStatus.COMPLETED:
        kept = sorted({item.category for o in state.provider_outcomes for item in o.retained})
        return f"the {kind} request was carried out, but we kept: {', '.join(kept)}"
    reason = state.denial_reason or state.status.value.replace("_", " ")
    return f"the {kind} request ended {state.status.value.replace('_', ' ')}: {reason}"
