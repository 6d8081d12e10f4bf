"""Every side effect the workflow asks for: one typed call per activity, with its timeouts and
how hard it is retried before an operator hears of it.

The workflow never names an activity itself: it calls these, so an input that does not fit its
activity fails the type check, not a run. The names are `ActivityName`s, so no module that does
I/O is imported into the workflow sandbox.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import TypeVar

from temporalio import workflow
from temporalio.common import Priority, RetryPolicy

from rights.activity_inputs import (
    ActivityName,
    ExpireReportInput,
    FulfilAtProviderInput,
    IdentityMatch,
    MatchIdentityInput,
    MetricsInput,
    MetricsReport,
    NoticeDelivery,
    PlanProvidersInput,
    PollProviderJobInput,
    ProviderPlan,
    PublishReportInput,
    PurgeInput,
    PurgeResult,
    SendNoticeInput,
    SweepInput,
    SweepResult,
    WriteCorrespondenceRecordInput,
    WriteRecordInput,
)
from rights.models import NoticeKind, ProviderOutcome
from workflows import patches

Result = TypeVar("Result")

# Our own databases and files: retried until they come back.
LOCAL_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5))

# Mail: an outage is waited out; a message the provider refuses for good is not resent.
NOTICE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["MailRejected"],
)

# Providers: transient failures retried with backoff; a permanent refusal, or a day of failing,
# makes the provider an operator task instead of failing the request.
PROVIDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["ProviderRejected", "ProviderMisconfigured"],
)
PROVIDER_GIVE_UP_AFTER = timedelta(days=1)
# A provider call heartbeats every few seconds: when they stop (the worker died mid-call), the
# call is tried again after this, not after the five-minute start-to-close.
PROVIDER_HEARTBEAT_TIMEOUT = timedelta(seconds=30)

# On a backlogged activity queue the receipt goes first (the requester is told we have the
# request), then the other notices, then everything else (the server's default, 3).
RECEIPT_FIRST = Priority(priority_key=1)
NOTICES_NEXT = Priority(priority_key=2)


def _words(name: StrEnum) -> str:
    """An enum value as the UI's timeline shows it ("deletion_reconfirmation" → "Deletion
    reconfirmation"); summaries name kinds, providers and steps, never a person."""
    return name.value.replace("_", " ").capitalize()


async def send_notice(input: SendNoticeInput) -> NoticeDelivery:
    """One notice, mailed once (the ledger makes a retry no resend).

    From 0.5.2 a local activity: an outage of the mail backend is retried the same way, on the
    worker's timers instead of the server's. From 0.5.3 not one with a link the run waits on:
    that is mailed only once the workflow task recording the wait is (see `patches`)."""
    by_this_worker = patches.applied(patches.LEAN_RUN)
    if by_this_worker and (input.link or input.appeal_link):
        by_this_worker = not patches.applied(patches.LINKS_AFTER_WAIT)
    priority = Priority.default
    if patches.applied(patches.LEAN_STEPS):
        priority = RECEIPT_FIRST if input.kind is NoticeKind.RECEIPT else NOTICES_NEXT
    return await _local_or_queued(
        by_this_worker,
        ActivityName.SEND_NOTICE,
        input,
        NoticeDelivery,
        f"{_words(input.kind)} notice to {input.recipient.value}",
        start_to_close=timedelta(minutes=1),
        retry=NOTICE_RETRY,
        priority=priority,
    )


async def _own_step(
    activity: ActivityName, input: object, result_type: type[Result], summary: str
) -> Result:
    """One of our own quick database steps. From 0.5.1 a local activity: the worker that runs
    the workflow runs it at once, with no activity task to queue, start and complete (a third
    of a deletion's history), and it is retried the same way."""
    return await _local_or_queued(
        patches.applied(patches.LEAN_STEPS),
        activity,
        input,
        result_type,
        summary,
        start_to_close=timedelta(seconds=30),
        retry=LOCAL_RETRY,
    )


async def _local_or_queued(
    local: bool,
    activity: ActivityName,
    input: object,
    result_type: type[Result],
    summary: str,
    *,
    start_to_close: timedelta,
    retry: RetryPolicy,
    priority: Priority = Priority.default,
) -> Result:
    """The activity run by this workflow's worker at once, or queued as an activity task (a
    priority orders queued tasks only)."""
    if local:
        ran: Result = await workflow.execute_local_activity(
            activity,
            input,
            result_type=result_type,
            start_to_close_timeout=start_to_close,
            retry_policy=retry,
            summary=summary,
        )
        return ran
    queued: Result = await workflow.execute_activity(
        activity,
        input,
        result_type=result_type,
        start_to_close_timeout=start_to_close,
        retry_policy=retry,
        summary=summary,
        priority=priority,
    )
    return queued


async def match_identity(input: MatchIdentityInput) -> IdentityMatch:
    """The requester's details against the service's records."""
    return await _own_step(
        ActivityName.MATCH_IDENTITY,
        input,
        IdentityMatch,
        "Match the requester's details against our records",
    )


async def plan_providers(input: PlanProvidersInput) -> ProviderPlan:
    """Which providers act for this request, and how each is reached."""
    return await _own_step(
        ActivityName.PLAN_PROVIDERS,
        input,
        ProviderPlan,
        f"Plan which providers {input.action.value.replace('_', ' ')}",
    )


async def fulfil_at_provider(
    input: FulfilAtProviderInput, *, task_queue: str | None
) -> ProviderOutcome:
    """The action at one provider, on its own rate-limited task queue."""
    summary = f"{_words(input.action)} at {input.provider}"
    return await _at_provider(ActivityName.FULFIL_AT_PROVIDER, input, task_queue, summary)


async def poll_provider_job(
    input: PollProviderJobInput, *, task_queue: str | None
) -> ProviderOutcome:
    """A provider's job polled, or its callback settled, on the provider's queue."""
    summary = (
        f"Settle the {input.provider} job its callback reported"
        if input.report is not None
        else f"Poll the {input.provider} job, attempt {input.job.polls + 1}"
    )
    return await _at_provider(ActivityName.POLL_PROVIDER_JOB, input, task_queue, summary)


async def _at_provider(
    activity: ActivityName,
    input: FulfilAtProviderInput | PollProviderJobInput,
    task_queue: str | None,
    summary: str,
) -> ProviderOutcome:
    outcome: ProviderOutcome = await workflow.execute_activity(
        activity,
        input,
        result_type=ProviderOutcome,
        task_queue=task_queue,
        start_to_close_timeout=timedelta(minutes=5),
        heartbeat_timeout=PROVIDER_HEARTBEAT_TIMEOUT,
        schedule_to_close_timeout=PROVIDER_GIVE_UP_AFTER,
        retry_policy=PROVIDER_RETRY,
        summary=summary,
    )
    return outcome


async def publish_report(input: PublishReportInput) -> None:
    """The access report, written beside the request, never mailed."""
    await workflow.execute_activity(
        ActivityName.PUBLISH_REPORT,
        input,
        start_to_close_timeout=timedelta(minutes=5),
        retry_policy=LOCAL_RETRY,
        summary="Publish the access report",
    )


async def schedule_report_expiry(input: ExpireReportInput) -> None:
    """The timer that deletes the report when its link expires."""
    await workflow.execute_activity(
        ActivityName.SCHEDULE_REPORT_EXPIRY,
        input,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=LOCAL_RETRY,
        summary="Start the access report's expiry timer",
    )


async def delete_report(input: ExpireReportInput) -> bool:
    """The report's files removed; True if there were any."""
    deleted: bool = await workflow.execute_activity(
        ActivityName.DELETE_REPORT,
        input,
        result_type=bool,
        start_to_close_timeout=timedelta(minutes=1),
        retry_policy=LOCAL_RETRY,
        summary="Delete the expired access report",
    )
    return deleted


async def write_record(input: WriteRecordInput) -> None:
    """The compliance record, upserted once per request."""
    await _own_step(ActivityName.WRITE_RECORD, input, type(None), "Write the compliance record")


async def write_correspondence_record(input: WriteCorrespondenceRecordInput) -> None:
    """A complaint's, triage item's or reply's record, upserted once."""
    await _own_step(
        ActivityName.WRITE_CORRESPONDENCE_RECORD,
        input,
        type(None),
        "Write the correspondence record",
    )


async def purge_expired_records(input: PurgeInput) -> PurgeResult:
    """What is past retention, removed."""
    result: PurgeResult = await workflow.execute_activity(
        ActivityName.PURGE_EXPIRED_RECORDS,
        input,
        result_type=PurgeResult,
        start_to_close_timeout=timedelta(minutes=10),
        retry_policy=LOCAL_RETRY,
        summary=f"Remove records kept until before {input.today}",
    )
    return result


async def report_metrics(input: MetricsInput) -> MetricsReport:
    """One year's §7102 figures, written beside the records."""
    report: MetricsReport = await workflow.execute_activity(
        ActivityName.REPORT_METRICS,
        input,
        result_type=MetricsReport,
        start_to_close_timeout=timedelta(minutes=10),
        retry_policy=LOCAL_RETRY,
        summary=f"Count the requests received in {input.year}",
    )
    return report


async def sweep_overdue(input: SweepInput) -> SweepResult:
    """The requests whose deadline alert is missing, and the privacy team's digest of them."""
    result: SweepResult = await workflow.execute_activity(
        ActivityName.SWEEP_OVERDUE,
        input,
        result_type=SweepResult,
        start_to_close_timeout=timedelta(minutes=10),
        retry_policy=LOCAL_RETRY,
        summary=f"Sweep for deadlines without an alert as of {input.now:%Y-%m-%d}",
    )
    return result
