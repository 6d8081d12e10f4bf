"""Inputs and results of every activity, importable by the workflow without importing activities.

Each activity takes one of these models and returns one; fields are added, never positional
arguments. Activity names are the constants below, so the workflow never imports the modules
that do I/O.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field

from rights.correspondence import Correspondence, CorrespondenceState
from rights.models import (
    DataPoint,
    Model,
    NoticeKind,
    ProviderJob,
    ProviderJobReport,
    ProviderOutcome,
    ProviderTask,
    Recipient,
    RequestState,
    Retention,
    RightsRequest,
)
from rights.plans import AccessAnswer, ProviderAction, ReportFormat
from rights.terms import VerificationStandard


class ActivityName(StrEnum):
    SEND_NOTICE = "send_notice"
    MATCH_IDENTITY = "match_identity"
    PLAN_PROVIDERS = "plan_providers"
    FULFIL_AT_PROVIDER = "fulfil_at_provider"
    POLL_PROVIDER_JOB = "poll_provider_job"
    PUBLISH_REPORT = "publish_report"
    SCHEDULE_REPORT_EXPIRY = "schedule_report_expiry"
    DELETE_REPORT = "delete_report"
    WRITE_RECORD = "write_record"
    WRITE_CORRESPONDENCE_RECORD = "write_correspondence_record"
    PURGE_EXPIRED_RECORDS = "purge_expired_records"
    REPORT_METRICS = "report_metrics"
    SWEEP_OVERDUE = "sweep_overdue"


class LinkPurpose(StrEnum):
    VERIFY = "verify"
    CONFIRM_DELETION = "confirm-deletion"
    REPORT = "report"
    APPEAL = "appeal"
    RESIDENCE = "residence"


class LinkSpec(Model):
    """A link the notice carries; the token is derived from the nonce by the activity.

    The nonce alone is useless without the service's link secret, so the token itself never
    appears in workflow history.
    """

    purpose: LinkPurpose
    nonce: str
    expires_at: datetime


class Remedies(Model):
    """What a requester may do about a refusal, as the law of their jurisdiction says the
    notice must tell them: appeal (by when), the regulator (named and linked), the courts."""

    appeal_by: date | None = None
    regulator: str
    regulator_url: str
    courts: bool = False


class NoticeFacts(Model):
    """What a notice may say. Only the fields a notice kind's template uses are filled in.

    Unknown fields are ignored, not refused: a notice task scheduled by an earlier release may
    still carry a field this one dropped (0.1.0's `further_rights`).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    respond_by: date | None = None
    acknowledge_basis: str | None = None
    respond_basis: str | None = None
    extension_reason: str | None = None
    extended_respond_by: date | None = None
    extension_basis: str | None = None
    extension_days: int | None = None
    attempts_left: int | None = None
    # Whether the request waits for proof of identity (opt-out and limit requests do not).
    verification_needed: bool | None = None
    reason: str | None = None
    # What would unblock a request the privacy team is alerted about, and when it is due.
    unblock: str | None = None
    overdue_days: int | None = None
    outcomes: list[ProviderOutcome] = []
    retained: list[Retention] = []
    corrected_fields: list[str] = []
    tasks: list[ProviderTask] = []
    remedies: Remedies | None = None
    # For a right the law does not grant: the rights it does grant, in words.
    alternatives: list[str] = []
    status: str | None = None
    access_answer: AccessAnswer | None = None
    appeal_id: str | None = None
    # The privacy team's written reply to a complaint, paragraph by paragraph.
    paragraphs: list[str] = []


class SendNoticeInput(Model):
    # A rights request's notices, or a complaint's, a triage item's, a "which request" reply.
    request: RightsRequest | Correspondence
    kind: NoticeKind
    key: str
    recipient: Recipient
    facts: NoticeFacts = NoticeFacts()
    link: LinkSpec | None = None
    # A refusal's appeal link, beside its other link (an access report's, say).
    appeal_link: LinkSpec | None = None


class NoticeDelivery(Model):
    key: str
    sent_at: datetime
    token_hash: str | None = None
    appeal_token_hash: str | None = None
    already_sent: bool = False


class MatchIdentityInput(Model):
    request: RightsRequest
    standard: VerificationStandard
    data_points: dict[DataPoint, str] = {}
    declaration_signed: bool = False


class IdentityMatch(Model):
    matched: bool
    points_matched: int
    reason: str
    # The standard the answer met: below the one asked for, the request is answered in part
    # (a request for specific pieces verified only to the reasonable degree gets categories).
    standard_met: VerificationStandard | None = None


class PlanProvidersInput(Model):
    # Tasks scheduled by 0.1.0 still carry its `request_id`: ignored, never refused.
    model_config = ConfigDict(frozen=True, extra="ignore")

    action: ProviderAction
    request: RightsRequest


class ProviderHandling(StrEnum):
    """Who carries out a provider's part: a connector, or the privacy team by hand."""

    AUTOMATED = "automated"
    MANUAL = "manual"


class ProviderRef(Model):
    """A provider as the workflow sees it: where its activities run, how its jobs are polled."""

    name: str
    kind: ProviderHandling
    category: str
    task_queue: str | None = None
    poll_every: timedelta = timedelta(minutes=1)
    max_poll_every: timedelta = timedelta(hours=6)
    job_timeout: timedelta = timedelta(days=35)
    reports_by_callback: bool = False


class ProviderPlan(Model):
    providers: list[ProviderRef]
    # Our account id for the person, looked up before any provider acts: the SQL provider masks
    # the email it is found by, while analytics tools know the person by this id.
    account_id: str | None = None


class FulfilAtProviderInput(Model):
    request: RightsRequest
    provider: str
    action: ProviderAction
    account_id: str | None = None
    # Access: export the records themselves, or count them for a categories answer.
    specific_pieces: bool = False


class PollProviderJobInput(Model):
    """Poll a job, or (with `report`) settle the result its system called back with."""

    request: RightsRequest
    provider: str
    action: ProviderAction
    job: ProviderJob
    account_id: str | None = None
    report: ProviderJobReport | None = None
    specific_pieces: bool = False


class PublishReportInput(Model):
    request: RightsRequest
    formats: list[ReportFormat]
    link: LinkSpec
    outcomes: list[ProviderOutcome]
    answer: AccessAnswer = AccessAnswer.CATEGORIES_ASKED


class ExpireReportInput(Model):
    request_id: str
    expires_at: datetime


REPORT_EXPIRY_WORKFLOW = "ReportExpiryWorkflow"


def report_expiry_id(request_id: str) -> str:
    """The expiry workflow's id for a request's report."""
    return f"report-expiry-{request_id}"


class WriteRecordInput(Model):
    state: RequestState


class WriteCorrespondenceRecordInput(Model):
    state: CorrespondenceState


class PurgeInput(Model):
    """Everything kept until before `today` goes."""

    today: date


class PurgeResult(Model):
    compliance_records: int
    correspondence_records: int
    notices: int
    report_folders: int


class MetricsInput(Model):
    """The calendar year whose requests 11 CCR §7102 asks us to count."""

    year: Annotated[int, Field(ge=2020, le=2100)]


class MetricsRow(Model):
    """One request type's year, as §7102(a) lists it: received, complied with in whole or in
    part, denied (by reason), and the median and mean days taken to respond."""

    request_type: str
    received: int
    complied_in_whole: int
    complied_in_part: int
    denied: dict[str, int]
    median_days: float | None
    mean_days: float | None


class MetricsReport(Model):
    year: int
    rows: list[MetricsRow]
    files: list[str] = []


class SweepInput(Model):
    """The overdue sweep as of `now` (the scheduled run's own time, the same on a retry)."""

    now: datetime


class MissedAlert(Model):
    """A request past or near its deadline whose watch has not alerted when the ladder said."""

    request_id: str
    type: str
    jurisdiction: str
    status: str
    waiting_on: str
    respond_by: date
    days_left: int
    last_alert: datetime | None


class SweepResult(Model):
    # Open requests past or within the sweep's days of their deadline.
    near_or_overdue: int
    missed: list[MissedAlert]
    digest_sent: bool
