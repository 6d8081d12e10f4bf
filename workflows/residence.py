"""Asking an email requester where they live, when their message did not say.

Which law applies decides the deadlines, the proof of identity asked and the remedies, so a
request whose law is undetermined asks first: its receipt carries a link to say where the
requester lives (or the privacy team records it, learnt by phone). Until then the run keeps the
earliest deadline of every law that could apply; once it knows, it takes that law's dates from
the day of receipt, its verification standard, and, for a right that law does not grant, the
not-granted answer. Unanswered by the time the link expires, the request closes with a notice
saying why and what the requester can do. Mixed into `RightsRequestWorkflow`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from rights.activity_inputs import NoticeFacts
from rights.challenges import REFUSED_WRONG_TOKEN, Challenge
from rights.deadlines import RightNotGranted, dates_or_refusal
from rights.models import (
    NoticeKind,
    RequestPolicy,
    RequestState,
    RequestStatus,
    ResidenceAnswer,
    RightsRequest,
    StepName,
    StepStatus,
)
from rights.plans import RequestPlan, plan_for
from rights.residence import jurisdiction_for_residence
from rights.terms import VerificationStandard
from workflows.answers import ANSWER_MESSAGES, require_live_token
from workflows.case_file import CaseFile, asks_where_the_requester_lives
from workflows.deadline_watch import DeadlineWatch
from workflows.fulfilment import Fulfilment
from workflows.notifier import Notifier

UNANSWERED = "you did not tell us where you live, so we could not tell which law applies"


class LearnsResidence:
    _request: RightsRequest
    _plan: RequestPlan
    _policy: RequestPolicy
    _case_file: CaseFile
    _notifier: Notifier
    _fulfilment: Fulfilment
    _deadlines: DeadlineWatch
    _not_granted: RightNotGranted | None
    _received: date
    _verified_standard: VerificationStandard
    _wait_for: Callable[..., Awaitable[bool]]
    _tell_refusal: Callable[..., Awaitable[None]]

    def _open_residence(self) -> None:
        self._residence_link: Challenge | None = None
        self._residence: str | None = None

    @property
    def _asks_residence(self) -> bool:
        return asks_where_the_requester_lives(self._request, self._plan.verification)

    def _residence_challenge(self) -> Challenge:
        """The receipt's link to say where the requester lives, as long as verification's."""
        expires_at = workflow.now() + timedelta(days=self._policy.verification_ttl_days)
        self._residence_link = Challenge(
            expires_at=expires_at, max_attempts=self._policy.verification_max_attempts
        )
        return self._residence_link

    async def _learn_residence(self) -> bool:
        """Wait for where the requester lives, then apply that law; False if never told."""
        if not self._asks_residence:
            return True
        challenge = self._residence_link
        assert challenge is not None
        self._case_file.begin(StepName.RESIDENCE)
        self._case_file.set_status(RequestStatus.AWAITING_RESIDENCE)
        answered = await self._wait_for(
            lambda: self._residence is not None,
            until=challenge.expires_at,
            summary="Residence question link expires",
        )
        if not answered or self._residence is None:
            self._case_file.finish(StepName.RESIDENCE, StepStatus.FAILED, "no answer")
            await self._tell_refusal(
                NoticeKind.RESIDENCE_UNANSWERED, NoticeFacts(reason=UNANSWERED)
            )
            return False
        self._apply_law_of(self._residence)
        self._case_file.finish(
            StepName.RESIDENCE, StepStatus.DONE, self._case_file.state.jurisdiction.value
        )
        return True

    def _apply_law_of(self, residence: str) -> None:
        """The requester's law from here on: dates counted from receipt, standard, plan."""
        jurisdiction = jurisdiction_for_residence(residence)
        request = self._request.model_copy(
            update={
                "jurisdiction": jurisdiction,
                "requester": self._request.requester.model_copy(update={"residence": residence}),
            }
        )
        self._request = request
        self._plan = plan_for(request)
        due, self._not_granted = dates_or_refusal(
            jurisdiction,
            request.type,
            self._received,
            eu_establishment=self._policy.eu_establishment,
            honour_states_without_law=self._policy.honour_states_without_law,
        )
        self._case_file.settle_law(jurisdiction, due, self._plan.verification)
        self._notifier.request = request
        self._fulfilment = Fulfilment(
            request,
            self._plan.action,
            self._case_file,
            self._notifier,
            self._wait_for,
        )
        self._verified_standard = self._plan.verification
        self._deadlines.dates_changed()

    @workflow.update
    async def give_residence(self, answer: ResidenceAnswer) -> RequestState:
        """Where the requester lives: through the receipt's link, or from the privacy team."""
        challenge = self._residence_link
        if answer.token is not None and challenge is not None:
            # An answer faster than the receipt's own completion waits for its token's hash.
            await workflow.wait_condition(lambda: challenge.armed)
            refused = challenge.refusal(answer.token, workflow.now())
            if refused is not None:
                raise ApplicationError(ANSWER_MESSAGES[refused], type=REFUSED_WRONG_TOKEN)
            challenge.answered = True
        self._residence = answer.residence
        return self._case_file.state

    @give_residence.validator
    def _validate_residence(self, answer: ResidenceAnswer) -> None:
        self._case_file.require(RequestStatus.AWAITING_RESIDENCE, "where its requester lives")
        if answer.token is not None:
            require_live_token(self._residence_link, answer.token)
        try:
            jurisdiction_for_residence(answer.residence)
        except ValueError as problem:
            raise ValueError(f"residence: {problem}") from None
