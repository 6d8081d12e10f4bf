"""The answers a run waits for from outside: the requester's, through the links in notices (an
appeal of a refusal among them), and a provider's signed callback. Mixed into
`RightsRequestWorkflow`, whose lifecycle asks for them.

Only an answer that carries a live token of its challenge is an attempt: a wrong, expired or
spent token is refused by the validator, before it is an Update in history (since 0.2.0; runs
that began earlier replay their history's path, where every answer counted). Answers to the
verification link are taken one at a time: the second waits for the first's identity match.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from rights.activity_inputs import MatchIdentityInput
from rights.challenges import REFUSED_EXPIRED, REFUSED_WRONG_TOKEN, Challenge
from rights.deadlines import due_dates
from rights.models import (
    AnswerResult,
    AppealFiled,
    AppealFiling,
    ProviderJobReport,
    ReconfirmationAnswer,
    RequestPolicy,
    RequestState,
    RequestStatus,
    RightsRequest,
    VerificationAnswer,
    VerificationOutcome,
)
from rights.plans import RequestPlan
from rights.receipt_day import receipt_day
from rights.terms import RequestType
from workflows import effects, patches
from workflows.case_file import CaseFile
from workflows.fulfilment import Fulfilment

ANSWER_MESSAGES = {
    VerificationOutcome.WRONG_TOKEN: "that link or code is not valid for this request",
    VerificationOutcome.EXPIRED: "that link has expired",
    VerificationOutcome.ATTEMPTS_EXHAUSTED: "no attempts are left; the request cannot be verified",
    VerificationOutcome.NOT_MATCHED: "the details given do not match our records",
    VerificationOutcome.ALREADY_ANSWERED: "this link has already been answered",
}


class RequesterAnswers:
    _request: RightsRequest
    _plan: RequestPlan
    _case_file: CaseFile
    _fulfilment: Fulfilment
    _policy: RequestPolicy

    def _open_answers(self) -> None:
        """The challenges the lifecycle sets, and what the answers to them decided."""
        self._verification: Challenge | None = None
        self._verified: bool | None = None
        self._verified_standard = self._plan.verification
        self._unverified_reason = ""
        self._reconfirmation: Challenge | None = None
        self._reconfirmed: bool | None = None
        self._answering = asyncio.Lock()
        # Opened by a refusal in an appeal state; the filing, once the requester appeals.
        self._appeal_window: Challenge | None = None
        self._appeal: AppealFiling | None = None
        self._appeal_id = ""

    @workflow.update
    async def submit_verification(self, answer: VerificationAnswer) -> AnswerResult:
        """The requester's answer to the verification link; only a live token makes an attempt."""
        async with self._answering:
            return await self._check_identity(answer)

    @submit_verification.validator
    def _validate_verification(self, answer: VerificationAnswer) -> None:
        if self._verification is not None and self._verification.attempts_left == 0:
            raise ValueError("no verification attempts are left for this request")
        self._case_file.require(RequestStatus.AWAITING_VERIFICATION, "identity verification")
        require_live_token(self._verification, answer.token)

    async def _check_identity(self, answer: VerificationAnswer) -> AnswerResult:
        challenge = self._verification
        assert challenge is not None
        await workflow.wait_condition(lambda: challenge.armed)
        outcome, counted = _take_answer(challenge, answer.token)
        self._case_file.count_attempts(challenge.attempts)
        if outcome is not VerificationOutcome.VERIFIED:
            if outcome is VerificationOutcome.ATTEMPTS_EXHAUSTED and counted:
                self._verified = False
                self._unverified_reason = "the verification attempts were used up"
            return AnswerResult(
                outcome=outcome,
                attempts_left=challenge.attempts_left,
                message=ANSWER_MESSAGES[outcome],
            )
        match = await effects.match_identity(
            MatchIdentityInput(
                request=self._request,
                standard=self._plan.verification,
                data_points=answer.data_points,
                declaration_signed=answer.declaration_signed,
            )
        )
        if match.matched:
            challenge.answered = True
            self._verified = True
            self._verified_standard = match.standard_met or self._plan.verification
            return AnswerResult(
                outcome=outcome,
                attempts_left=challenge.attempts_left,
                message=match.reason,
                standard_met=self._verified_standard,
            )
        outcome = VerificationOutcome.NOT_MATCHED
        if challenge.attempts_left == 0:
            outcome = VerificationOutcome.ATTEMPTS_EXHAUSTED
            self._verified = False
            self._unverified_reason = "the verification attempts were used up"
        return AnswerResult(
            outcome=outcome, attempts_left=challenge.attempts_left, message=match.reason
        )

    @workflow.update
    async def confirm_deletion(self, answer: ReconfirmationAnswer) -> AnswerResult:
        """The requester's second, separate yes to a deletion, through its own link."""
        challenge = self._reconfirmation
        assert challenge is not None
        await workflow.wait_condition(lambda: challenge.armed)
        outcome, counted = _take_answer(challenge, answer.token)
        if outcome is VerificationOutcome.VERIFIED:
            challenge.answered = True
            self._reconfirmed = True
        elif outcome is VerificationOutcome.ATTEMPTS_EXHAUSTED and counted:
            self._reconfirmed = False
        return AnswerResult(
            outcome=outcome,
            attempts_left=challenge.attempts_left,
            message=ANSWER_MESSAGES[outcome]
            if outcome is not VerificationOutcome.VERIFIED
            else "deletion confirmed; we are now deleting your data",
        )

    @confirm_deletion.validator
    def _validate_confirmation(self, answer: ReconfirmationAnswer) -> None:
        self._case_file.require(RequestStatus.AWAITING_RECONFIRMATION, "deletion confirmation")
        require_live_token(self._reconfirmation, answer.token)

    @workflow.update
    def file_appeal(self, filing: AppealFiling) -> AppealFiled:
        """The requester appeals our decision: through the link in it, intake or an operator."""
        window = self._appeal_window
        assert window is not None
        window.answered = True
        self._appeal = filing
        self._appeal_id = str(workflow.uuid4())
        received = receipt_day(workflow.now(), self._policy.business_timezone)
        due = due_dates(
            self._request.jurisdiction,
            RequestType.APPEAL,
            received,
            eu_establishment=self._policy.eu_establishment,
        )
        return AppealFiled(appeal_id=self._appeal_id, decide_by=due.respond_by)

    @file_appeal.validator
    def _validate_appeal(self, filing: AppealFiling) -> None:
        state = self._case_file.state
        window = self._appeal_window
        if window is None:
            raise ValueError(
                f"request {state.request_id} has no decision open to appeal (status: "
                f"{state.status.value}; {state.jurisdiction.value} appeals are heard only "
                "after a refusal, where the law grants them)"
            )
        if self._appeal is not None:
            raise ValueError(f"request {state.request_id} was appealed already ({self._appeal_id})")
        if filing.token is not None:
            require_live_token(window, filing.token)
        elif window.expired(workflow.now()):
            raise ApplicationError(
                f"the appeal period of request {state.request_id} ended on "
                f"{window.expires_at.date().isoformat()}",
                type=REFUSED_EXPIRED,
            )

    @workflow.update
    def report_provider_job(self, report: ProviderJobReport) -> RequestState:
        """A provider's signed callback: how the job it accepted ended."""
        self._fulfilment.job_reported(report)
        return self._case_file.state

    @report_provider_job.validator
    def _validate_job_report(self, report: ProviderJobReport) -> None:
        if not self._fulfilment.awaits_callback(report.provider, report.job_id):
            raise ValueError(
                f"job_id: {report.provider!r} has no job {report.job_id!r} awaiting a callback"
            )


def _take_answer(challenge: Challenge, token: str) -> tuple[VerificationOutcome, bool]:
    """The answer's outcome, and whether it was counted as an attempt."""
    if not patches.applied(patches.TOKEN_BEFORE_ATTEMPT):
        return challenge.check(token, workflow.now()), True
    refused = challenge.refusal(token, workflow.now())
    if refused is not None:
        return refused, False
    challenge.attempts += 1
    return VerificationOutcome.VERIFIED, True


def require_live_token(challenge: Challenge | None, token: str) -> None:
    """Refuse, before it is an Update in history, an answer whose token is not live.

    Before the link notice is sent the token is not known yet; such an answer is accepted and
    checked once it is (`_take_answer`).
    """
    if challenge is None or not challenge.armed:
        return
    refused = challenge.refusal(token, workflow.now())
    if refused is VerificationOutcome.WRONG_TOKEN:
        raise ApplicationError(ANSWER_MESSAGES[refused], type=REFUSED_WRONG_TOKEN)
    if refused is VerificationOutcome.EXPIRED:
        raise ApplicationError(ANSWER_MESSAGES[refused], type=REFUSED_EXPIRED)
