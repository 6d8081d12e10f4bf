"""The nouns of a privacy rights request, shared by the workflow, the activities and the doors.

Models that carry personal data (`Person`, `RightsRequest`, `VerificationAnswer`) only travel
inside encrypted payloads; every model that leaves the service unencrypted (the `status` query
result, search attributes, logs, the compliance record) is built from ids, types, dates and
statuses only.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    model_validator,
)

from rights.deadlines import DueDates
from rights.terms import SUBMITTABLE, Jurisdiction, RequestType, VerificationStandard
from rights.text import name_problem

REQUEST_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{7,63}$"


def workflow_id(request_id: str) -> str:
    """The run of a request (or an appeal): opaque, never personal data."""
    return f"rights-request-{request_id}"


_WEB_ADDRESS = re.compile(r"^https?://[^\s<>\"'\\]+$")

ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(min_length=1, max_length=5000)]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Channel(StrEnum):
    WEB_FORM = "web_form"
    EMAIL = "email"
    SUPPORT_DESK = "support_desk"
    PHONE = "phone"
    API = "api"
    # The privacy team itself, as when it removes data it learns belongs to a minor.
    OPERATOR = "operator"


class DataPoint(StrEnum):
    """Data points a requester may give to be matched against the service's records."""

    PHONE = "phone"
    DATE_OF_BIRTH = "date_of_birth"
    POSTAL_CODE = "postal_code"


class Person(Model):
    full_name: ShortText
    email: EmailStr
    phone: Annotated[str, Field(pattern=r"^\+?[0-9 ()-]{7,20}$")] | None = None


class Requester(Person):
    residence: Annotated[str, Field(min_length=2, max_length=10)] | None = None


class AgentRole(StrEnum):
    AUTHORIZED_AGENT = "authorized_agent"
    # A parent or legal guardian acting for a minor: the privacy team reviews the proof of
    # guardianship (and who the guardian is), and that review stands in for the minor's own
    # verification; every notice goes to the guardian.
    PARENT_OR_GUARDIAN = "parent_or_guardian"


class Agent(Person):
    authorization_url: Annotated[str, Field(max_length=2000)] | None = None
    acts_as: AgentRole = AgentRole.AUTHORIZED_AGENT

    @property
    def is_guardian(self) -> bool:
        return self.acts_as is AgentRole.PARENT_OR_GUARDIAN


_LOGIN = re.compile(r"[A-Za-z0-9._-]{2,64}")


def _login(value: str) -> str:
    if not _LOGIN.fullmatch(value):
        raise ValueError("give the operator's login, such as alice: 2 to 64 letters, digits, . _ -")
    return value


OperatorName = Annotated[str, AfterValidator(_login)]
"""A privacy-team member as the CLI names them (a login, not an email address)."""


class MinorRemoval(Model):
    """The privacy team learned it holds a minor's data and removes it (the privacy policy's
    promise to "securely remove" it): no requester is verified or written to, a second
    member of the team confirms, and every provider deletes."""

    started_by: OperatorName
    reason: Annotated[str, Field(min_length=5, max_length=1000)]


class SecondOperator(Model):
    """The team member who confirms a removal another one started."""

    operator: OperatorName


class CorrectionItem(Model):
    """One thing the requester says is wrong, and what it should say."""

    field: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    corrected_value: Annotated[str, Field(min_length=1, max_length=500)]


class NewRequest(Model):
    """A request as an intake system submits it, before it has an id and a receipt time."""

    type: RequestType
    jurisdiction: Jurisdiction
    requester: Requester
    agent: Agent | None = None
    channel: Channel
    details: LongText | None = None
    specific_pieces: bool = False
    corrections: Annotated[list[CorrectionItem], Field(max_length=50)] = []
    minor_removal: MinorRemoval | None = None

    @model_validator(mode="after")
    def _corrections_match_type(self) -> NewRequest:
        if self.type not in SUBMITTABLE:
            raise ValueError(f"type: {self.type.value} requests cannot be submitted yet")
        if self.type is RequestType.CORRECTION and not (self.corrections or self.details):
            raise ValueError(
                "corrections: a correction request must list what is wrong, or say it in details"
            )
        if self.type is not RequestType.CORRECTION and self.corrections:
            raise ValueError("corrections: only a correction request may carry corrections")
        if self.minor_removal is not None and self.type is not RequestType.DELETION:
            raise ValueError("minor_removal: a minor's data is removed by a deletion")
        return self

    def intake_problems(self) -> list[tuple[str, str]]:
        """What intake refuses beyond the field types, as (field, problem) pairs.

        Checked when a request is admitted, not in the model's own validation: runs already
        in Temporal's history must always deserialize, whatever a later rule would refuse.
        A name reaches the first line of every notice (no line breaks, no links), and an
        agent's proof of permission is shown to the privacy team as a web address only.
        """
        problems = []
        people = [("requester", self.requester), *([("agent", self.agent)] if self.agent else [])]
        for role, person in people:
            if (problem := name_problem(person.full_name)) is not None:
                problems.append((f"{role}.full_name", problem))
        url = self.agent.authorization_url if self.agent else None
        if url is not None and not _WEB_ADDRESS.match(url):
            problems.append(("agent.authorization_url", "must be an http:// or https:// address"))
        return problems


class RightsRequest(NewRequest):
    request_id: Annotated[str, Field(pattern=REQUEST_ID_PATTERN)]
    received_at: AwareDatetime


class RequestPolicy(Model):
    """Timing knobs from the settings, fixed into the run at submission so replays agree."""

    eu_establishment: str = "IE"
    # Whose calendar day receipt is; runs started before 0.4.0 counted from the UTC day.
    business_timezone: str = "UTC"
    # Whether a US resident of a state without a privacy law is honoured (see Settings).
    honour_states_without_law: bool = True
    verification_ttl_days: int = 7
    verification_reminder_days: int = 2
    verification_max_attempts: int = 5
    reconfirmation_ttl_days: int = 7
    extension_notice_lead_days: int = 5
    operator_alert_lead_days: int = 5
    report_link_ttl_days: int = 14
    # Days before the response deadline the privacy team is alerted; then daily once overdue.
    escalation_days: tuple[int, ...] = (14, 7, 3, 1)
    appeal_window_days: int = 60


class RightsRequestInput(Model):
    request: RightsRequest
    policy: RequestPolicy = RequestPolicy()


class RequestStatus(StrEnum):
    RECEIVED = "received"
    # An email that named no place: the requester is asked where they live, which decides the law.
    AWAITING_RESIDENCE = "awaiting_residence"
    AWAITING_AGENT_AUTHORIZATION = "awaiting_agent_authorization"
    AWAITING_VERIFICATION = "awaiting_verification"
    AWAITING_RECONFIRMATION = "awaiting_reconfirmation"
    FULFILLING = "fulfilling"
    RESPONDING = "responding"
    COMPLETED = "completed"
    DENIED = "denied"
    UNVERIFIABLE = "unverifiable"
    NOT_RECONFIRMED = "not_reconfirmed"
    AGENT_REJECTED = "agent_rejected"
    WITHDRAWN = "withdrawn"
    # The law of the requester's jurisdiction does not grant the right asked for.
    NOT_GRANTED = "not_granted"
    AWAITING_APPEAL_DECISION = "awaiting_appeal_decision"
    APPEAL_GRANTED = "appeal_granted"
    APPEAL_DENIED = "appeal_denied"
    # The requester never said where they live, so no law could be applied.
    RESIDENCE_UNKNOWN = "residence_unknown"


class WaitingOn(StrEnum):
    """Whose move it is: the desk's `--waiting-on` and the `WaitingOn` search attribute."""

    REQUESTER = "requester"
    US = "us"
    PROVIDER = "provider"
    # The request is answered: nobody's move.
    NOBODY = "nobody"


class StepName(StrEnum):
    RECEIPT = "receipt"
    RESIDENCE = "residence"
    AGENT_AUTHORIZATION = "agent_authorization"
    IDENTITY_VERIFICATION = "identity_verification"
    DELETION_RECONFIRMATION = "deletion_reconfirmation"
    FULFILMENT = "fulfilment"
    APPEAL_DECISION = "appeal_decision"
    RESPONSE = "response"
    RECORD = "record"


REQUEST_STEPS = tuple(
    step for step in StepName if step not in (StepName.APPEAL_DECISION, StepName.RESIDENCE)
)
# A request whose law is undetermined asks where the requester lives right after receipt.
UNDETERMINED_STEPS = (REQUEST_STEPS[0], StepName.RESIDENCE, *REQUEST_STEPS[1:])
APPEAL_STEPS = (StepName.RECEIPT, StepName.APPEAL_DECISION, StepName.RESPONSE, StepName.RECORD)


class StepStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


class StepState(BaseModel):
    name: StepName
    status: StepStatus = StepStatus.PENDING
    started_at: datetime | None = None
    finished_at: datetime | None = None
    note: str | None = None


class NoticeKind(StrEnum):
    RECEIPT = "receipt"
    AGENT_AUTHORIZATION_NEEDED = "agent_authorization_needed"
    AGENT_REJECTED = "agent_rejected"
    VERIFICATION = "verification"
    VERIFICATION_REMINDER = "verification_reminder"
    # UK: identity confirmed; the time to respond runs from that day (UK GDPR Art. 12A).
    CLOCK_RESTARTED = "clock_restarted"
    # An operator-started removal of a minor's data: a second operator must confirm it.
    OPERATOR_MINOR_REMOVAL = "operator_minor_removal"
    OPERATOR_MINOR_REMOVAL_DONE = "operator_minor_removal_done"
    UNVERIFIABLE = "unverifiable"
    DELETION_RECONFIRMATION = "deletion_reconfirmation"
    NOT_RECONFIRMED = "not_reconfirmed"
    EXTENSION = "extension"
    OPERATOR_TASK = "operator_task"
    OPERATOR_DEADLINE_ALERT = "operator_deadline_alert"
    COMPLETED = "completed"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"
    # The consumer is told their agent's proof was refused (11 CCR §7063).
    AGENT_REJECTED_REQUESTER = "agent_rejected_requester"
    NOT_GRANTED = "not_granted"
    APPEAL_RECEIVED = "appeal_received"
    OPERATOR_APPEAL_REVIEW = "operator_appeal_review"
    APPEAL_GRANTED = "appeal_granted"
    APPEAL_DENIED = "appeal_denied"
    RESIDENCE_UNANSWERED = "residence_unanswered"
    # Email intake: the sender is asked which request they make; complaints and triage.
    CHOOSE_REQUEST = "choose_request"
    COMPLAINT_RECEIVED = "complaint_received"
    OPERATOR_COMPLAINT = "operator_complaint"
    COMPLAINT_REPLY = "complaint_reply"
    OPERATOR_TRIAGE = "operator_triage"
    MESSAGE_RECEIVED = "message_received"


class Recipient(StrEnum):
    REQUESTER = "requester"
    AGENT = "agent"
    OPERATOR = "operator"


class NoticeSent(Model):
    kind: NoticeKind
    key: str
    recipient: Recipient
    sent_at: datetime
    delivered: bool = True


class OutcomeStatus(StrEnum):
    DONE = "done"
    NOT_FOUND = "not_found"
    RETAINED = "retained"
    ESCALATED = "escalated"
    # The provider accepted the work and finishes it later: never a final outcome.
    PENDING = "pending"


class RetentionGround(StrEnum):
    """Why data is kept: a law requires it, or an exemption allows it (the notice says which)."""

    LEGAL_OBLIGATION = "legal_obligation"
    EXEMPTION = "exemption"


class Retention(Model):
    """Data kept back from a deletion, with the law that requires or allows keeping it."""

    category: ShortText
    basis: Annotated[str, Field(min_length=5, max_length=500)]
    ground: RetentionGround = RetentionGround.LEGAL_OBLIGATION


class ProviderJob(Model):
    """Work a provider finishes later: polled on a durable timer, or reported by its callback.

    Holds the provider's job id and status word only; the workflow keeps it between polls so
    no worker slot is held while the provider works.
    """

    job_id: str
    state: str
    callback: bool = False
    polls: int = 0


class ProviderOutcome(Model):
    provider: str
    category: str
    status: OutcomeStatus
    records_affected: int = 0
    retained: list[Retention] = []
    corrected_fields: list[str] = []
    evidence: list[str] = []
    note: str | None = None
    operator_follow_up: str | None = None
    job: ProviderJob | None = None


class TaskReason(StrEnum):
    MANUAL_PROVIDER = "manual_provider"
    ESCALATED = "escalated"


class ProviderTask(Model):
    provider: str
    reason: TaskReason
    opened_at: datetime
    detail: str


class VerificationOutcome(StrEnum):
    VERIFIED = "verified"
    WRONG_TOKEN = "wrong_token"
    EXPIRED = "expired"
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    NOT_MATCHED = "not_matched"
    # A second answer that waited its turn while the first one was accepted.
    ALREADY_ANSWERED = "already_answered"


class AppealOutcome(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"


class AppealSummary(Model):
    """An appeal of this request, as its record and status show it (no personal data)."""

    appeal_id: str
    filed_at: datetime
    decide_by: date
    outcome: AppealOutcome | None = None
    decided_at: datetime | None = None


class OperatorAction(BaseModel):
    """One thing a member of the privacy team did to the request, and what they wrote."""

    at: datetime
    action: str
    operator: str | None = None
    note: str | None = None


class ClockPause(BaseModel):
    """Days the law did not count because the request waited on its requester."""

    reason: str
    paused_on: date
    restarted_on: date
    respond_by: date


class RequestState(BaseModel):
    """What the `status` query returns: the whole run, step by step, with no personal data."""

    request_id: str
    type: RequestType
    jurisdiction: Jurisdiction
    channel: Channel
    received_at: datetime
    status: RequestStatus
    due_dates: DueDates
    respond_by: date
    extended: bool = False
    extension_reason: str | None = None
    steps: list[StepState]
    verification_standard: VerificationStandard = VerificationStandard.NONE
    verification_attempts: int = 0
    provider_outcomes: list[ProviderOutcome] = []
    open_tasks: list[ProviderTask] = []
    notices: list[NoticeSent] = []
    denial_reason: str | None = None
    closed_at: datetime | None = None
    # An appeal's own run names the request it appeals; that request names its appeal.
    appeal_of: str | None = None
    appeal_by: date | None = None
    # Whether the refusal's appeal link takes an appeal now: the run's own clock decides.
    appeal_window_open: bool = False
    appeal: AppealSummary | None = None
    clock_pauses: list[ClockPause] = []
    operator_actions: list[OperatorAction] = []


# What a link token can look like: URL-safe base64, ASCII only (links carry 43 characters).
LinkToken = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{16,256}$")]


class VerificationAnswer(Model):
    """What a requester sends back through the verification link (through the API or CLI)."""

    token: LinkToken
    data_points: dict[DataPoint, Annotated[str, Field(min_length=1, max_length=100)]] = {}
    declaration_signed: bool = False


class AppealFiling(Model):
    """An appeal, from the link in a decision notice (with its token), intake or an operator."""

    reason: LongText
    channel: Channel
    token: LinkToken | None = None


class AppealInput(Model):
    """What an appeal's run is started with, by the run of the request it appeals."""

    appeal_id: str
    original: RightsRequest
    # What was refused, in the words of the decision (no personal data).
    refused: str
    filing: AppealFiling
    policy: RequestPolicy = RequestPolicy()


class AppealFiled(Model):
    appeal_id: str
    decide_by: date


class AppealDecision(Model):
    """The privacy team's decision on an appeal, with the written reasons the law requires."""

    outcome: AppealOutcome
    reasons: Annotated[str, Field(min_length=5, max_length=2000)]
    operator: OperatorName | None = None


class ReconfirmationAnswer(Model):
    token: LinkToken


class ResidenceAnswer(Model):
    """Where the requester says they live (an ISO 3166 code), through the receipt's link."""

    # None when the privacy team records what the requester told them another way.
    token: LinkToken | None = None
    residence: Annotated[str, Field(min_length=2, max_length=10)]


class AnswerResult(Model):
    outcome: VerificationOutcome
    attempts_left: int
    message: str
    standard_met: VerificationStandard | None = None


# Every operator Update names who sent it (the CLI's --operator, the login by default) and
# carries its note: both reach the request's status and its compliance record.


class OperatorNote(Model):
    note: Annotated[str, Field(max_length=1000)] | None = None
    operator: OperatorName | None = None


class DenyInput(Model):
    reason: Annotated[str, Field(min_length=5, max_length=2000)]
    operator: OperatorName | None = None


class ExtendInput(Model):
    reason: Annotated[str, Field(min_length=5, max_length=2000)]
    days: Annotated[int, Field(ge=1, le=92)]
    operator: OperatorName | None = None


class ProviderTaskDone(Model):
    provider: ShortText
    status: OutcomeStatus
    basis: Annotated[str, Field(min_length=5, max_length=500)] | None = None
    ground: RetentionGround = RetentionGround.LEGAL_OBLIGATION
    note: Annotated[str, Field(max_length=1000)] | None = None
    operator: OperatorName | None = None

    @model_validator(mode="after")
    def _retained_needs_basis(self) -> ProviderTaskDone:
        if self.status in (OutcomeStatus.ESCALATED, OutcomeStatus.PENDING):
            raise ValueError("status: an operator closes a task as done, not_found or retained")
        if self.status is OutcomeStatus.RETAINED and not self.basis:
            raise ValueError("basis: a retained outcome must state its legal basis")
        return self


class JobResult(StrEnum):
    DONE = "done"
    NOT_FOUND = "not_found"
    FAILED = "failed"


EvidenceLine = Annotated[str, Field(min_length=1, max_length=200)]


class ProviderJobReport(Model):
    """An internal system's signed callback: how the job it accepted ended."""

    provider: ShortText
    job_id: ShortText
    result: JobResult
    records_affected: Annotated[int, Field(ge=0)] = 0
    evidence: Annotated[list[EvidenceLine], Field(max_length=20)] = []
